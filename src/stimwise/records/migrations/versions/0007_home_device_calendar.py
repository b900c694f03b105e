"""The person's own device (``home_devices``) and revocable calendar subscription addresses
(``calendar_feeds``, only the SHA-256 of each token kept).

Revision ID: 0007_home_device_calendar
Revises: 0005_self_logged_sessions (the lead rechains it at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_home_device_calendar"
down_revision = "0006_therapy_start_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("chosen_by", sa.String(80), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_calendar_feeds_patient_id", "calendar_feeds", ["patient_id"])


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("home_devices")
