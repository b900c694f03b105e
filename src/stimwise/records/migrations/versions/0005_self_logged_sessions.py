"""Home therapy on the person's own device: self-logged sessions (provenance ``self_reported``)
with their settings, verification and out-of-range flag, and the provenance of every delivered
session (``device_recorded``).

Revision ID: 0005_self_logged_sessions
Revises: 0003_web_credentials (the lead rechains it onto 0004 at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_self_logged_sessions"
down_revision = "0004_clinic_pilot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("provenance", sa.String(20), nullable=False,
                                   server_default="device_recorded"))
    op.create_table(
        "self_logged_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prescription_id", sa.Integer(),
                  sa.ForeignKey("prescriptions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("provenance", sa.String(20), nullable=False),
        sa.Column("reported_by", sa.String(80), nullable=False),
        sa.Column("reporter_role", sa.String(20), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("programme_id", sa.String(40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("as_prescribed", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("frequency_hz", sa.Float(), nullable=True),
        sa.Column("phase_width_us", sa.Float(), nullable=True),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("amplitude_ma", sa.Float(), nullable=True),
        sa.Column("felt", sa.String(30), nullable=True),
        sa.Column("nrs_pre", sa.Integer(), nullable=True),
        sa.Column("nrs_post", sa.Integer(), nullable=True),
        sa.Column("skin", sa.String(30), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reasons", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_self_logged_sessions_prescription_id", "self_logged_sessions",
                    ["prescription_id"])
    op.create_index("ix_self_logged_patient_started", "self_logged_sessions",
                    ["patient_id", "started_at"])
    op.create_index("ix_self_logged_flagged", "self_logged_sessions",
                    ["flagged", "acknowledged_at"])


def downgrade() -> None:
    op.drop_table("self_logged_sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("provenance")
