"""referral.seen_version: the referral's version when its receiving unit last opened it (a
doctor's answer to its question that came after is shown as new in its inbox)

Revision ID: 0006_receiving
Revises: 0005_vitals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_receiving"
down_revision = "0005_vitals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("seen_version")
