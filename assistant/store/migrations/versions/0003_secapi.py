"""hub keys: random keys shared by the hub processes of one database (feed cursors)

Revision ID: 0003_secapi
Revises: 0002_secaudit
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_secapi"
down_revision = "0002_secaudit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_key",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("hub_key")
