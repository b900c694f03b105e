"""Review dates of prescriptions: when the clinician looks again, and who is due.

A prescription is a trial of stimulation, and a trial needs a date on which someone judges it
(issue 16: nothing reminded a clinician to re-evaluate, so a home programme could run unreviewed
for months). Every prescription written now carries ``review_on``:

* the default is :data:`DEFAULT_REVIEW_DAYS` (4 weeks) after the later of its first day and
  today, the end of the "re-evaluate at 2–4 weeks" the clinician workflow advises [C-s:
  shared/reference/user-needs-and-peers.md §3 step 5]; four weeks is also the length of the
  shortest home trials in the reference (Kumar & Marshall 1997, 4 weeks; Kılınç 2014, 4 weeks
  [C: shared/reference/clinical-facts.md §1.2]);
* a chosen date must lie after the first day, not in the past, no later than
  :data:`MAX_REVIEW_DAYS` (12 weeks) after the later of the first day and today (the longest
  home course in the reference, Forst 2004, ran 12 weeks [C: clinical-facts.md §1.2]; the
  12-week ceiling itself is stimwise's choice [U]), and not after the prescription's last day;
* rows written before review dates existed have none and are read as due now
  (:func:`due_for_review` lists them first): a missing date never means "no review needed".

:func:`review_problem` is the one rule that the web editor, the API, the command line and the
repository apply; :func:`due_for_review` is the clinician's list (overdue, and due within
:data:`DUE_SOON_DAYS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import Patient, PrescriptionRecord

DEFAULT_REVIEW_DAYS = 28
"""Default time to the review: 4 weeks, the end of the advised 2–4 week re-evaluation [C-s]."""
MAX_REVIEW_DAYS = 84
"""Latest review: 12 weeks, the longest home course in the reference [C: Forst 2004]; [U]."""
DUE_SOON_DAYS = 7
""""Due this week": a review within the next 7 days is listed with the overdue ones."""


def _later(day: date, days: int) -> date:
    """``day`` plus ``days``, at most the last representable day (a year-9999 date typed in a
    form must be refused in words, not overflow)."""
    return day + timedelta(days=days) if day <= date.max - timedelta(days=days) else date.max


def _start(valid_from: date, today: date) -> date:
    """The day a review is counted from: the first day, or today for a back-dated one."""
    return max(valid_from, today)


def default_review_on(valid_from: date, valid_to: date | None, today: date) -> date:
    """The review date a prescription gets when none is chosen (and the form's suggestion):
    4 weeks after the later of its first day and today, or its last day if that comes first."""
    proposed = _later(_start(valid_from, today), DEFAULT_REVIEW_DAYS)
    return proposed if valid_to is None else min(proposed, max(valid_to, valid_from))


def review_problem(review_on: date, valid_from: date, valid_to: date | None, today: date,
                   path: str = "review_on") -> FieldProblem | None:
    """Why ``review_on`` cannot be this prescription's review date (None: it can)."""
    shown = review_on.isoformat()
    latest = _later(_start(valid_from, today), MAX_REVIEW_DAYS)
    if review_on <= valid_from:
        return FieldProblem(path, shown, f"a review date after the first day ({valid_from})")
    if review_on < today:
        return FieldProblem(path, shown, f"a review date not in the past (today {today})")
    if review_on > latest:
        return FieldProblem(path, shown, f"a review date within {MAX_REVIEW_DAYS // 7} weeks "
                                         f"(on or before {latest})")
    if valid_to is not None and review_on > valid_to:
        return FieldProblem(path, shown, f"a review date on or before the last day ({valid_to})")
    return None


def check_review_on(review_on: date, valid_from: date, valid_to: date | None, today: date,
                    path: str = "review_on") -> date:
    """``review_on`` when it keeps :func:`review_problem`'s rule, else an :class:`InputError`."""
    problem = review_problem(review_on, valid_from, valid_to, today, path)
    if problem is not None:
        raise InputError(problem)
    return review_on


@dataclass(frozen=True)
class DueReview:
    """One active prescription whose review is overdue, not set, or due soon."""

    prescription_id: int
    pseudonym: str
    protocol_id: str
    protocol_name: str
    valid_from: date
    review_on: date | None
    prescribed_by: str
    home_use: bool
    today: date

    @property
    def overdue(self) -> bool:
        return self.review_on is None or self.review_on < self.today

    @property
    def when_text(self) -> str:
        """The review date in words relative to today."""
        if self.review_on is None:
            return "no review date set: review now"
        days = (self.review_on - self.today).days
        if days < 0:
            return f"overdue by {-days} day{'s' if days != -1 else ''}"
        if days == 0:
            return "due today"
        return f"due in {days} day{'s' if days != 1 else ''}"


def active_on(day: date):
    """The SQL condition of a prescription in force on ``day`` (started, not ended, not
    superseded before it)."""
    next_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    return ((PrescriptionRecord.valid_from <= day)
            & (PrescriptionRecord.valid_to.is_(None) | (PrescriptionRecord.valid_to >= day))
            # A superseded prescription ends on the day it was replaced.
            & (PrescriptionRecord.superseded_at.is_(None)
               | (PrescriptionRecord.superseded_at >= next_day)))


def due_for_review(session: Session, actor: Actor, today: date,
                   within_days: int = DUE_SOON_DAYS) -> list[DueReview]:
    """Prescriptions in force today whose review is overdue, not set, or due within
    ``within_days``, most urgent first (clinicians; the read is audited)."""
    require(actor, "write_clinical")
    horizon = today + timedelta(days=within_days)
    rows = session.execute(
        select(PrescriptionRecord, Patient.pseudonym)
        .join(Patient, Patient.id == PrescriptionRecord.patient_id)
        .where(active_on(today),
               PrescriptionRecord.review_on.is_(None) | (PrescriptionRecord.review_on <= horizon))
    ).all()
    log_action(session, actor, "read", "review_list")
    due = [DueReview(row.id, pseudonym, row.protocol_id, row.prescription["protocol"]["name"],
                     row.valid_from, row.review_on, row.prescribed_by, row.home_use, today)
           for row, pseudonym in rows]
    return sorted(due, key=lambda d: (d.review_on or date.min, d.pseudonym, d.prescription_id))


def record_review(session: Session, actor: Actor, pseudonym: str, prescription_id: int,
                  next_review_on: date, today: date) -> PrescriptionRecord:
    """The clinician reviewed the prescription and keeps it: it gets its next review date
    (the same rule as a new one; audited as ``review``)."""
    require(actor, "write_clinical", pseudonym)
    row = session.execute(
        select(PrescriptionRecord)
        .join(Patient, Patient.id == PrescriptionRecord.patient_id)
        .where(PrescriptionRecord.id == prescription_id, Patient.pseudonym == pseudonym)
    ).scalar_one_or_none()
    if row is None:
        raise InputError(FieldProblem("prescription_id", prescription_id,
                                      f"the id of one of {pseudonym}'s prescriptions"))
    ended = row.superseded_at is not None or (row.valid_to is not None and row.valid_to < today)
    if ended:
        raise InputError(FieldProblem("prescription_id", prescription_id,
                                      "a prescription still in force (this one has ended)"))
    check_review_on(next_review_on, row.valid_from, row.valid_to, today, "next_review_on")
    row.review_on = next_review_on
    log_action(session, actor, "review", "prescription", row.id)
    return row
