"""E-mail notifications: subscriptions, the outbox, referrals noticed overdue

Revision ID: 0008_notify
Revises: 0007_psc
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_notify"
down_revision = "0007_psc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_subscription",
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("events", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("copy_secretary", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "notify_outbox",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("referral_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key", "address", name="uq_notify_outbox_event_address"),
    )
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notify_outbox_next_at"), ["next_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notify_outbox_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notify_outbox_status"), ["status"], unique=False)
    op.create_table(
        "notify_overdue",
        sa.Column("referral_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("noticed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )


def downgrade() -> None:
    op.drop_table("notify_overdue")
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_notify_outbox_referral_id"))
        batch_op.drop_index(batch_op.f("ix_notify_outbox_next_at"))
    op.drop_table("notify_outbox")
    op.drop_table("notify_subscription")
