"""Prescription reviews for the clinician's pages: the due-for-review list and recording a review.

The rules (default 4 weeks, at most 12, never in the past) live in
:mod:`stimwise.records.review`; this module only reads and writes through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from stimwise.protocol.base import StrictModel
from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.repository import display_names
from stimwise.records.review import (
    DEFAULT_REVIEW_DAYS,
    MAX_REVIEW_DAYS,
    DueReview,
    default_review_on,
    due_for_review,
    record_review,
)

REVIEW_DAYS_TEXT = (
    f"Re-evaluate at 2–4 weeks; the suggestion is {DEFAULT_REVIEW_DAYS // 7} weeks after the "
    f"first day. At the latest {MAX_REVIEW_DAYS // 7} weeks ahead, never in the past."
)
"""The review date's hint on the editor and the review form."""


class NextReview(StrictModel):
    """A review's outcome: the prescription stays, reviewed again on ``next_review_on``."""

    next_review_on: date


@dataclass(frozen=True)
class ReviewList:
    """The prescriptions a clinician should review: overdue (or without a date) and due soon."""

    today: date
    overdue: list[DueReview]
    due_soon: list[DueReview]
    prescribers: dict[str, str]
    """Each prescriber's user name -> the name to show."""

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.due_soon)


def review_list(db: Database, actor: Actor, today: date | None = None) -> ReviewList:
    """Overdue and due-this-week reviews of the prescriptions in force (an audited read)."""
    today = today or datetime.now(UTC).date()
    with db.transaction() as session:
        due = due_for_review(session, actor, today)
        names = display_names(session, {d.prescribed_by for d in due})
    return ReviewList(today, [d for d in due if d.overdue], [d for d in due if not d.overdue],
                      names)


def suggested_next_review(today: date | None = None) -> date:
    """The next review date a reviewing clinician is offered (4 weeks on)."""
    today = today or datetime.now(UTC).date()
    return default_review_on(today, None, today)


def reviewed(db: Database, actor: Actor, pseudonym: str, prescription_id: int,
             next_review_on: date, today: date | None = None) -> date:
    """Record that the clinician reviewed the prescription and keeps it until
    ``next_review_on`` (the review rule applies; audited)."""
    today = today or datetime.now(UTC).date()
    with db.transaction() as session:
        row = record_review(session, actor, pseudonym, prescription_id, next_review_on, today)
        return row.review_on


