"""Time-series indexes: the analysis reads one person's diary, sessions and adverse events in
time order, so index them by (patient, time) instead of by patient alone.

Revision ID: 0002_time_series_indexes
Revises: 0001_initial
"""

from alembic import op

revision = "0002_time_series_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_diary_entries_patient_id", table_name="diary_entries")
    op.create_index("ix_diary_patient_recorded", "diary_entries", ["patient_id", "recorded_at"])
    op.drop_index("ix_adverse_events_patient_id", table_name="adverse_events")
    op.create_index(
        "ix_adverse_patient_occurred", "adverse_events", ["patient_id", "occurred_at"]
    )
    op.create_index("ix_sessions_patient_started", "sessions", ["patient_id", "started_at"])


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
