"""What a clinic pilot needs (issue 17):

* ``adverse_events.acknowledged_at`` / ``acknowledged_by``: the clinician's inbox shows a
  patient's problem report until a clinician acknowledges it;
* ``diary_entries.retrospective``: a baseline entry a clinician recorded afterwards from the
  person's recall (kept apart from entries written on the day);
* ``patients.therapy_start_on``: the day therapy counts from, when the clinician sets it
  (otherwise the first delivered session's day);
* ``prescriptions.superseded_by_id`` / ``superseded_at``: a prescription that an accepted
  next-dose suggestion replaced ends there (one active prescription, not two);
* ``live_session_leases``: one live session per person held in the database, whichever web
  worker runs it;
* ``login_failures``: the sign-in throttle's counts, shared by every web worker.

Revision ID: 0004_clinic_pilot
Revises: 0003_web_credentials
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_clinic_pilot"
down_revision = "0003_web_credentials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("adverse_events", sa.Column("acknowledged_at", sa.DateTime(timezone=True)))
    op.add_column("adverse_events", sa.Column("acknowledged_by", sa.String(80)))
    op.create_index("ix_adverse_events_acknowledged_at", "adverse_events", ["acknowledged_at"])
    op.add_column(
        "diary_entries",
        sa.Column("retrospective", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("patients", sa.Column("therapy_start_on", sa.Date()))
    op.add_column("prescriptions", sa.Column("superseded_by_id", sa.Integer()))
    op.add_column("prescriptions", sa.Column("superseded_at", sa.DateTime(timezone=True)))
    op.create_table(
        "live_session_leases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patients.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("holder", sa.String(80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key_sha256", "failed_at"])


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
