"""security: keyed audit digests with key and session ids, token delivery, signing code lock

Revision ID: 0002_secaudit
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_secaudit"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("issued_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.alter_column("delivery", server_default=None)
    op.create_table(
        "signing_lock",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("signing_lock")
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.drop_column("issued_by")
        batch_op.drop_column("delivery")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("session_id")
        batch_op.drop_column("key_id")
