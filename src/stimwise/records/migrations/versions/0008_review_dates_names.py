"""Review dates and the names that sign reports (issue 16):

* ``prescriptions.review_on``: the day the clinician reviews the prescription; every prescription
  written from now on has one (:mod:`stimwise.records.review`). Rows written before this
  revision keep NULL, which every reader treats as "no review date set: review now" (they are at
  the top of the due-for-review list), never as "no review needed";
* ``users.display_name``: the name a clinician signs reports with ("Dr A. Example"), set by an
  administrator; NULL shows the user name.

Revision ID: 0008_review_dates_names
Revises: 0007_home_device_calendar
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_review_dates_names"
down_revision = "0007_home_device_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("prescriptions", sa.Column("review_on", sa.Date()))
    op.create_index("ix_prescriptions_review_on", "prescriptions", ["review_on"])
    op.add_column("users", sa.Column("display_name", sa.String(120)))


def downgrade() -> None:
    raise NotImplementedError("stimwise never downgrades a records database")
