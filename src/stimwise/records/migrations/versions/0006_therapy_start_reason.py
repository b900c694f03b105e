"""Who set a person's therapy start, when, and why (issue 17, defect 5).

* ``patients.therapy_start_reason``: the clinician's explanation, required when the therapy
  start lies after the first delivered session (the sessions before it, e.g. a fitting trial on
  the enrolment day, are then left out of the response analysis);
* ``patients.therapy_start_set_by`` / ``therapy_start_set_at``: the clinician and the time, shown
  next to the start on the response page and in the progress report (each change is also in the
  audit log).

Revision ID: 0006_therapy_start_reason
Revises: 0005_self_logged_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_therapy_start_reason"
down_revision = "0005_self_logged_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("therapy_start_reason", sa.Text()))
    op.add_column("patients", sa.Column("therapy_start_set_by", sa.String(80)))
    op.add_column("patients", sa.Column("therapy_start_set_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
