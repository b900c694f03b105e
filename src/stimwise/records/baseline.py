"""The pain baseline a response verdict compares against, when it was not written at the time.

Issue 17 (defect 5): a person whose first session is on the enrolment day has no diary days
before therapy (entries before enrolment were refused), so the verdict, which needs 7 diary days
in the 14 before therapy, could never be given. A clinician has two records to set it right;
the analysis weighs both (:mod:`stimwise.analysis.responder`):

* **recalled baseline days** (:func:`add_recalled_days`): the person's average pain on a day
  before therapy, as they recall it, written by a clinician and stored as a diary entry marked
  ``retrospective``. Accepted only when it can be trusted: for a day that has ended, at most
  :data:`MAX_RECALL_DAYS` days ago (day-by-day recall fades beyond the past several days,
  Broderick et al. 2008, Pain 139:146-57 [C]; the cap is stimwise's [U]), before the therapy
  start, with no session on it and no pain score already in the diary for it (a recalled value
  never displaces or dilutes one written at the time). Days before enrolment are allowed: that
  is what a baseline for an enrolment-day start needs.
* **the therapy start** (:func:`set_therapy_start`): the day therapy counts from, by default
  the first delivered session's day. A clinician may set it, on or after enrolment and not in
  the future. A start after the first delivered session (e.g. the enrolment-day session was a
  fitting trial, and the person then kept a baseline diary) needs a written reason: the sessions
  before it are left out of the analysis, and their days out of the baseline. Who set it, when
  and why are stored and shown; every change is audited.

The third way, the intake's pain rating, needs no record of its own: the analysis reads it from
the instrument scores (:func:`stimwise.analysis.from_records.load_series`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem
from stimwise.protocol.base import StrictModel
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.inputs import CalendarDate, DiaryEntryIn, Nrs, OptionalText
from stimwise.records.models import DiaryEntry, Patient, SelfLoggedSession, SessionEntry
from stimwise.records.repository import (
    CLOCK_SKEW,
    diary_row,
    find_patient,
    now_utc,
    raise_if,
    store,
)

MAX_RECALL_DAYS = 14
"""A recalled baseline day lies at most this many days before the day it is recorded [U:
stimwise's cap, the length of the baseline window; recall of single days fades beyond the past
several days, Broderick et al. 2008, Pain 139:146-57, doi 10.1016/j.pain.2008.03.024 [C]]."""
RECALLED_HOUR_UTC = time(12, 0, tzinfo=UTC)
"""A recalled day is stored at noon UTC, so its calendar day is the same in every time zone
within ±11 h of UTC."""
MAX_REASON_CHARS = 1000


class RecalledDayIn(StrictModel):
    """One recalled baseline day: the person's average pain on ``day``, as they recall it."""

    day: CalendarDate = Field(description="The day the rating describes (it has ended).")
    pain_average_nrs: Nrs = Field(description="Average pain that day, 0 none to 10 worst.")
    note: OptionalText = Field(default=None, max_length=500)


class TherapyStartIn(StrictModel):
    """The day therapy counts from; ``None`` returns to the first delivered session's day."""

    therapy_start_on: CalendarDate | None
    reason: OptionalText = Field(default=None, max_length=MAX_REASON_CHARS)


def utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def first_session_started_at(session: Session, patient_id: int) -> datetime | None:
    """When the person's first delivered session began (stimwise-driven with stimulation, or
    self-logged), or ``None``."""
    driven = session.scalar(select(func.min(SessionEntry.started_at)).where(
        SessionEntry.patient_id == patient_id, SessionEntry.stimulation_s > 0))
    logged = session.scalar(select(func.min(SelfLoggedSession.started_at)).where(
        SelfLoggedSession.patient_id == patient_id))
    starts = [when for when in (driven, logged) if when is not None]
    return min(starts) if starts else None


def therapy_start(session: Session, patient: Patient) -> date | None:
    """The day therapy counts from: the clinician's, else the first delivered session's."""
    if patient.therapy_start_on is not None:
        return patient.therapy_start_on
    first = first_session_started_at(session, patient.id)
    return None if first is None else utc_day(first)


def _session_days(session: Session, patient_id: int, first: date, last: date) -> set[date]:
    since = datetime.combine(first, time(0), tzinfo=UTC)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    driven = session.scalars(select(SessionEntry.started_at).where(
        SessionEntry.patient_id == patient_id, SessionEntry.stimulation_s > 0,
        SessionEntry.started_at >= since, SessionEntry.started_at < until))
    logged = session.scalars(select(SelfLoggedSession.started_at).where(
        SelfLoggedSession.patient_id == patient_id,
        SelfLoggedSession.started_at >= since, SelfLoggedSession.started_at < until))
    return {utc_day(when) for when in [*driven, *logged]}


def _scored_days(session: Session, patient_id: int, first: date, last: date) -> set[date]:
    """Days that already hold a diary entry with a pain score."""
    rows = session.scalars(select(DiaryEntry.recorded_at).where(
        DiaryEntry.patient_id == patient_id,
        DiaryEntry.recorded_at >= datetime.combine(first, time(0), tzinfo=UTC),
        DiaryEntry.recorded_at < datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC),
        func.coalesce(DiaryEntry.pain_average_nrs, DiaryEntry.pain_current_nrs).is_not(None)))
    return {utc_day(when) for when in rows}


def closed_days(session: Session, patient: Patient, days: Sequence[date], now: datetime
                ) -> dict[date, str]:
    """Why a recalled value cannot be recorded for each of ``days`` that is closed to it (the
    days not in the answer are open)."""
    today = utc_day(now)
    start = therapy_start(session, patient)
    recent = [day for day in days if today - timedelta(days=MAX_RECALL_DAYS) <= day < today]
    first, last = min(recent, default=today), max(recent, default=today)
    sessions = _session_days(session, patient.id, first, last) if recent else set()
    scored = _scored_days(session, patient.id, first, last) if recent else set()
    closed = {}
    for day in days:
        if day >= today:
            closed[day] = f"a day that has ended (before today, {today})"
        elif day < today - timedelta(days=MAX_RECALL_DAYS):
            closed[day] = (f"a day at most {MAX_RECALL_DAYS} days ago (from "
                           f"{today - timedelta(days=MAX_RECALL_DAYS)}): recall of single days "
                           "older than that is not trustworthy")
        elif start is not None and day >= start:
            closed[day] = f"a day before the therapy start ({start})"
        elif day in sessions:
            closed[day] = "a day without a session (a baseline day is free of stimulation)"
        elif day in scored:
            closed[day] = "a day without a pain score in the diary (the diary's own value stands)"
    return closed


def recall_problems(session: Session, patient: Patient, days: Sequence[RecalledDayIn],
                    now: datetime) -> list[FieldProblem]:
    """Why each recalled day cannot be stored (empty: all can)."""
    if not days:
        return [FieldProblem("days", [], "at least one recalled day")]
    closed = closed_days(session, patient, [d.day for d in days], now)
    problems: list[FieldProblem] = []
    seen: set[date] = set()
    for index, entry in enumerate(days):
        expected = closed.get(entry.day)
        if expected is None and entry.day in seen:
            expected = "one recalled value per day"
        seen.add(entry.day)
        if expected is not None:
            problems.append(FieldProblem(f"days[{index}].day", entry.day.isoformat(), expected))
    return problems


def add_recalled_days(
    session: Session, actor: Actor, pseudonym: str, days: Sequence[RecalledDayIn],
    *, now: datetime | None = None,
) -> list[DiaryEntry]:
    """Store recalled baseline days (clinicians only; all or none; each audited)."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    raise_if(recall_problems(session, patient, days, now))
    return _store_recalled(session, actor, patient, [
        (DiaryEntryIn(recorded_at=datetime.combine(entry.day, RECALLED_HOUR_UTC),
                      pain_average_nrs=entry.pain_average_nrs, note=entry.note), now)
        for entry in sorted(days, key=lambda d: d.day)])


def _store_recalled(session: Session, actor: Actor, patient: Patient,
                    entries: Sequence[tuple[DiaryEntryIn, datetime]]) -> list[DiaryEntry]:
    """Diary rows marked ``retrospective``, created when they were recalled (audited)."""
    return [store(session, actor, DiaryEntry(**diary_row(patient, entry, recalled_on),
                                              retrospective=True), "diary_entry")
            for entry, recalled_on in entries]


def import_recalled_entries(
    session: Session, actor: Actor, pseudonym: str,
    entries: Sequence[tuple[DiaryEntryIn, datetime]], *, now: datetime | None = None,
) -> list[DiaryEntry]:
    """Store recalled baseline days from another stimwise record (a FHIR bundle), each with the
    time it was recorded there: the recall rules hold as of that time (a day that had ended, at
    most :data:`MAX_RECALL_DAYS` before, an average-pain score), and the time is not in the
    future. The therapy start, sessions and diary of this record are not re-checked: an import
    brings the record as it was (clinicians only; all or none)."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    problems = []
    for index, (entry, recalled_on) in enumerate(entries):
        day, on = utc_day(entry.recorded_at), utc_day(recalled_on)
        if recalled_on > now + CLOCK_SKEW:
            problems.append(FieldProblem(f"entries[{index}].recalled_on",
                                         recalled_on.isoformat(), "a time not in the future"))
        elif not on - timedelta(days=MAX_RECALL_DAYS) <= day < on:
            problems.append(FieldProblem(
                f"entries[{index}].recorded_at", entry.recorded_at.isoformat(),
                f"a day recalled within {MAX_RECALL_DAYS} days before it was recorded ({on})"))
        elif entry.pain_average_nrs is None:
            problems.append(FieldProblem(f"entries[{index}].pain_average_nrs", None,
                                         "the recalled average pain (0-10)"))
    raise_if(problems)
    return _store_recalled(session, actor, patient, entries)


def set_therapy_start(
    session: Session, actor: Actor, pseudonym: str, data: TherapyStartIn,
    *, now: datetime | None = None,
) -> Patient:
    """Set (or clear) the day therapy counts from; audited, with who, when and why stored."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    start, reason = data.therapy_start_on, data.reason
    problems = []
    if start is not None:
        first = first_session_started_at(session, patient.id)
        shown = start.isoformat()
        if start < patient.enrolled_on:
            problems.append(FieldProblem("therapy_start_on", shown,
                                         f"on or after the enrolment ({patient.enrolled_on})"))
        elif start > utc_day(now):
            problems.append(FieldProblem(
                "therapy_start_on", shown, f"a day not in the future (today {utc_day(now)}): "
                "until therapy begins, the first session's day is used"))
        elif first is not None and start > utc_day(first) and reason is None:
            problems.append(FieldProblem(
                "reason", None,
                f"why therapy starts after the first delivered session ({utc_day(first)}): the "
                "sessions before the start are left out of the response analysis"))
    raise_if(problems)
    patient.therapy_start_on = start
    patient.therapy_start_reason = reason if start is not None else None
    patient.therapy_start_set_by, patient.therapy_start_set_at = actor.username, now
    session.flush()
    log_action(session, actor, "set_therapy_start", "patient", patient.id)
    return patient
