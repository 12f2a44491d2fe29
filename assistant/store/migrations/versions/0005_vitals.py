"""proposed values and where answers come from; the doctor's profile

Revision ID: 0005_vitals
Revises: 0004_identity
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_vitals"
down_revision = "0004_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doctor_profile",
        sa.Column("rpps", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("callback_phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("mssante", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("rpps"),
    )
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_json", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_table("doctor_profile")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("origin")
        batch_op.drop_column("source")
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_column("pending_json")
