"""A person's status in their care (issue 16): ``patients.status`` (active, paused or discharged;
every existing person starts active) and ``patient_status_changes``, the history of changes with
the clinician's reason. A paused or discharged person's home programme is not offered.

Revision ID: 0009_patient_status
Revises: 0007_home_device_calendar (the lead rechains it at merge, after 0008)
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_patient_status"
down_revision = "0008_review_dates_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "patients",
        sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    )
    op.create_table(
        "patient_status_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(80), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_patient_status_changes_patient", "patient_status_changes",
                    ["patient_id", "changed_at"])


def downgrade() -> None:
    op.drop_table("patient_status_changes")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("status")
