"""The baseline page: what the response verdict compares against, what is still missing, and
the clinician's three ways to record it (issue 17, defect 5).

It shows the therapy start (the clinician's, with who set it and why, or the first delivered
session's day), the 14 baseline days with what each holds or why it can no longer be recorded,
the intake's pain ratings and whether each counts, and the verdict's missing items. Writes go
through :mod:`stimwise.records.baseline`, which holds every rule; this module only asks it which
days are still open (the same check that refuses a day), so page and rule cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from stimwise.analysis.from_records import (
    INTAKE_PAIN_INSTRUMENT,
    INTAKE_PAIN_ITEM,
    load_series,
)
from stimwise.analysis.responder import (
    BASELINE_DAYS,
    MIN_BASELINE_ENTRIES,
    MissingData,
    ResponderVerdict,
    classify,
)
from stimwise.records import baseline as rb
from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.models import DiaryEntry, InstrumentScoreRecord
from stimwise.records.repository import get_patient, now_utc
from stimwise.web.services.audit import audited_read


@dataclass(frozen=True)
class BaselineDay:
    """One day of the baseline window: its pain score (and whether recalled), or whether a
    recalled value can still be recorded for it and, if not, why."""

    day: date
    pain_nrs: float | None
    recalled: bool
    open: bool
    closed_because: str | None


@dataclass(frozen=True)
class IntakeRating:
    answered_on: date
    average_nrs: float
    counts: bool


@dataclass(frozen=True)
class BaselineStatus:
    pseudonym: str
    enrolled_on: date
    therapy_start: date | None
    start_set_by_clinician: bool
    start_set_by: str | None
    start_set_at: datetime | None
    start_reason: str | None
    first_session_on: date | None
    sessions_before_start: int
    days: tuple[BaselineDay, ...]
    intake: tuple[IntakeRating, ...]
    verdict: ResponderVerdict

    @property
    def scored_days(self) -> int:
        return sum(d.pain_nrs is not None for d in self.days)

    @property
    def open_days(self) -> tuple[BaselineDay, ...]:
        return tuple(d for d in self.days if d.open)

    @property
    def missing(self) -> tuple[MissingData, ...]:
        return self.verdict.missing

    @property
    def baseline_missing(self) -> MissingData | None:
        return next((m for m in self.missing if m.kind == "baseline"), None)

    @property
    def needed_days(self) -> int:
        return max(0, MIN_BASELINE_ENTRIES - self.scored_days)


def _window_days(session, patient, start: date, now: datetime) -> tuple[BaselineDay, ...]:
    first = start - timedelta(days=BASELINE_DAYS)
    candidates = [first + timedelta(days=i) for i in range(BASELINE_DAYS)]
    entries = session.execute(
        select(DiaryEntry.recorded_at, DiaryEntry.pain_average_nrs, DiaryEntry.pain_current_nrs,
               DiaryEntry.retrospective)
        .where(DiaryEntry.patient_id == patient.id,
               DiaryEntry.recorded_at >= datetime.combine(first, time(0), tzinfo=UTC),
               DiaryEntry.recorded_at < datetime.combine(start, time(0), tzinfo=UTC))
    ).all()
    scores: dict[date, list[float]] = {}
    recalled: set[date] = set()
    for recorded_at, average, current, retrospective in entries:
        value = average if average is not None else current
        if value is not None:
            day = rb.utc_day(recorded_at)
            scores.setdefault(day, []).append(float(value))
            if retrospective:
                recalled.add(day)
    closed = rb.closed_days(session, patient, candidates, now)
    return tuple(
        BaselineDay(day, sum(scores[day]) / len(scores[day]) if day in scores else None,
                    day in recalled, day not in closed, closed.get(day))
        for day in candidates
    )


def _intake(session, patient_id: int, series) -> tuple[IntakeRating, ...]:
    counted = {series.therapy_start + timedelta(days=r.day) for r in series.intake_pain}
    rows = session.execute(
        select(InstrumentScoreRecord.answered_on, InstrumentScoreRecord.score)
        .where(InstrumentScoreRecord.patient_id == patient_id,
               InstrumentScoreRecord.instrument == INTAKE_PAIN_INSTRUMENT,
               InstrumentScoreRecord.answered_on.is_not(None))
        .order_by(InstrumentScoreRecord.answered_on)
    ).all()
    return tuple(
        IntakeRating(answered_on, float(value), answered_on in counted)
        for answered_on, score in rows
        if (value := (score.get("subscores") or {}).get(INTAKE_PAIN_ITEM)) is not None
    )


def status(db: Database, actor: Actor, pseudonym: str, *, now: datetime | None = None
           ) -> BaselineStatus:
    """Everything the baseline page shows (an audited read)."""
    now = now or now_utc()

    def read(session):
        patient = get_patient(session, actor, pseudonym)
        series = load_series(session, actor, pseudonym)
        first = rb.first_session_started_at(session, patient.id)
        start = rb.therapy_start(session, patient)
        window_start = start or (rb.utc_day(now) + timedelta(days=1))
        return BaselineStatus(
            pseudonym=pseudonym, enrolled_on=patient.enrolled_on, therapy_start=start,
            start_set_by_clinician=patient.therapy_start_on is not None,
            start_set_by=patient.therapy_start_set_by,
            start_set_at=patient.therapy_start_set_at,
            start_reason=patient.therapy_start_reason,
            first_session_on=None if first is None else rb.utc_day(first),
            sessions_before_start=series.sessions_before_start,
            days=_window_days(session, patient, window_start, now),
            intake=_intake(session, patient.id, series),
            verdict=classify(series),
        )

    return audited_read(db, actor, pseudonym, "baseline", read)


def record_recalled_days(db: Database, actor: Actor, pseudonym: str,
                         days: list[rb.RecalledDayIn]) -> int:
    """Store recalled baseline days (all or none); returns how many."""
    with db.transaction() as session:
        return len(rb.add_recalled_days(session, actor, pseudonym, days))


def set_therapy_start(db: Database, actor: Actor, pseudonym: str,
                      data: rb.TherapyStartIn) -> None:
    with db.transaction() as session:
        rb.set_therapy_start(session, actor, pseudonym, data)
