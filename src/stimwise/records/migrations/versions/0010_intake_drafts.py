"""Intake drafts (``intake_drafts``): the intake page's answers saved before they are complete,
one draft per patient; a draft is never screened.

Revision ID: 0010_intake_drafts
Revises: 0007_home_device_calendar (the lead rechains it after 0008 and 0009 at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_intake_drafts"
down_revision = "0009_patient_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.String(80), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_drafts")
