"""Delivered sessions in the record, and the import of a session journal.

A journal written by ``stimwise session run`` is read back with the session layer's own reader
and summarised by the same :func:`~stimwise.session.record.record_from_events` that produced the
session's record, so the record in the database is the record the session printed.

Import is all-or-nothing and idempotent: a journal is identified by the SHA-256 of its bytes, and
a session by (patient, plan fingerprint, start time); importing either again returns the stored
session and adds nothing, also when two imports of it run at the same time (the second one's
insert hits the unique keys, is rolled back to a savepoint and returns the first one's row).

A journal that is truncated (no ``session_end`` or a torn line that no recovery accounted for),
damaged or edited (its hash chain, :mod:`stimwise.session.journal`), inconsistent with itself
(an amplitude above its own ceiling, a non-finite value, an NRS outside 0-10, ...:
:mod:`stimwise.session.journal_events`), written without the chain by an older stimwise, for
another patient, or not matching a prescription valid on the session's day is refused with
nothing written, each problem named with its line.

Every delivered session, whatever brought it (a journal here, a FHIR Procedure in
:mod:`stimwise.interop.fhir_import`), passes the one check :func:`delivered_session_problems` in
:func:`add_session` before it is stored: within its prescription's ceiling and time, or within
what any prescription may hold when it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor, require
from stimwise.records.inputs import SessionIn
from stimwise.records.models import Patient, PrescriptionRecord, SessionEntry
from stimwise.records.repository import (
    date_problems,
    find_patient,
    get_patient,
    now_utc,
    race_guard,
    raise_if,
    store,
)
from stimwise.session.journal_events import (
    AMPLITUDE_TOLERANCE_MA,
    DEFAULT_MAX_OVERRUN_S,
    TIME_TOLERANCE_S,
)
from stimwise.session.record import SessionRecord


@dataclass(frozen=True)
class ImportResult:
    session: SessionEntry
    created: bool


def _instant(path: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(FieldProblem(path, text, "an ISO 8601 time with offset")) from None
    if value.tzinfo is None:
        raise InputError(FieldProblem(path, text, "an ISO 8601 time with offset"))
    return value


def session_row(patient: Patient, data: SessionIn, now: datetime) -> dict[str, Any]:
    """The column values of one session, for ORM or bulk insertion."""
    record = data.record
    return {
        "patient_id": patient.id,
        "prescription_id": data.prescription_id,
        "protocol_id": record.protocol_id,
        "plan_fingerprint": record.plan_fingerprint,
        "device": record.device,
        "started_at": _instant("record.started_at", record.started_at),
        "ended_at": _instant("record.ended_at", record.ended_at),
        "outcome": record.outcome,
        "reason": record.reason,
        "stimulation_s": record.stimulation_s,
        "max_amplitude_ma": record.max_amplitude_ma,
        "mean_amplitude_ma": record.mean_amplitude_ma,
        "max_charge_per_phase_uc": record.max_charge_per_phase_uc,
        "frequency_hz": data.frequency_hz,
        "phase_width_us": data.phase_width_us,
        "minutes_at_amplitude": dict(record.minutes_at_amplitude),
        "calibration": None if record.calibration is None else record.calibration.model_dump(),
        "habituation_increases": record.habituation_increases,
        "nrs_pre": record.nrs_pre,
        "nrs_post": record.nrs_post,
        "skin_pre": record.skin_pre,
        "skin_post": record.skin_post,
        "faults": list(record.faults),
        "events": record.events,
        "journal_ref": data.journal_ref,
        "journal_sha256": data.journal_sha256,
        "created_at": now,
    }


def _valid_on(row: PrescriptionRecord, day: date) -> bool:
    return row.valid_from <= day and (row.valid_to is None or day <= row.valid_to)


def prescribed_ceiling_ma(row: PrescriptionRecord) -> float:
    """The most a session under this prescription may deliver: its amplitude, the person's cap
    it was verified under and the top of its home range, whichever is lowest."""
    limits = [float(row.prescription["max_amplitude_ma"])]
    cap = (row.caps or {}).get("max_amplitude_ma")
    if cap is not None:
        limits.append(float(cap))
    if row.locked_ranges is not None:
        limits.append(float(row.locked_ranges["amplitude_ma"]["max"]))
    return min(limits)


def _prescribed_time_limit_s(row: PrescriptionRecord | None) -> float:
    """The most stimulation time a session can hold: its planned minutes (the top of the home
    range when that is longer) plus the runtime's overrun limit."""
    if row is None:
        planned_min = _prescribable_at_most("session_duration_min")
    else:
        planned_min = float(row.prescription["session_duration_min"])
        span = (row.locked_ranges or {}).get("session_duration_min")
        if span is not None:
            planned_min = max(planned_min, float(span["max"]))
    return planned_min * 60 + DEFAULT_MAX_OVERRUN_S + TIME_TOLERANCE_S


def _prescribable_at_most(field: str) -> float:
    """The upper bound a :class:`Prescription` field declares (``le``)."""
    found = Prescription.model_fields[field].metadata
    return next(m.le for m in found if getattr(m, "le", None) is not None)


def delivered_session_problems(
    record: SessionRecord, prescription: PrescriptionRecord | None
) -> list[FieldProblem]:
    """Whether a delivered session's values can be stored: the one check of every way a
    delivered session enters the record (a session journal, a FHIR Procedure).

    The record itself is already finite and in range (:class:`SessionRecord` refuses
    otherwise). Here it must also fit its prescription: the same plan fingerprint, a start on a
    day the prescription was valid, no amplitude above its ceiling
    (:func:`prescribed_ceiling_ma`) and no more stimulation than its planned time plus the
    runtime's overrun limit. A session outside any prescription must stay within what any
    prescription may hold (``Prescription`` bounds: 200 mA, 480 min)."""
    problems = []
    if prescription is None:
        ceiling = _prescribable_at_most("max_amplitude_ma")
        what = "the largest prescribable amplitude"
    else:
        ceiling, what = prescribed_ceiling_ma(prescription), "the prescribed amplitude"
        if record.plan_fingerprint != prescription.fingerprint:
            problems.append(FieldProblem(
                "record.plan_fingerprint", record.plan_fingerprint[:12],
                f"the fingerprint of its prescription ({prescription.fingerprint[:12]})"))
        started = _instant("record.started_at", record.started_at)
        if started is not None and not _valid_on(prescription, started.date()):
            problems.append(FieldProblem(
                "record.started_at", record.started_at,
                f"a day its prescription was valid ({prescription.valid_from} to "
                f"{prescription.valid_to or 'open'})"))
    for name in ("max_amplitude_ma", "mean_amplitude_ma"):
        value = getattr(record, name)
        if value > ceiling + AMPLITUDE_TOLERANCE_MA:
            problems.append(FieldProblem(f"record.{name}", value,
                                         f"at most {what} ({ceiling:g} mA)"))
    limit_s = _prescribed_time_limit_s(prescription)
    if record.stimulation_s > limit_s:
        problems.append(FieldProblem(
            "record.stimulation_s", record.stimulation_s,
            f"at most {limit_s:g} s (the planned time plus the runtime's overrun limit)"))
    return problems


def _existing(session: Session, patient: Patient, values: dict[str, Any]) -> SessionEntry | None:
    same_start = (
        (SessionEntry.patient_id == patient.id)
        & (SessionEntry.plan_fingerprint == values["plan_fingerprint"])
        & (SessionEntry.started_at == values["started_at"])
    )
    condition = same_start
    if values["journal_sha256"] is not None:
        condition = or_(same_start, SessionEntry.journal_sha256 == values["journal_sha256"])
    return session.scalars(select(SessionEntry).where(condition)).first()


def add_session(
    session: Session,
    actor: Actor,
    pseudonym: str,
    data: SessionIn,
    *,
    now: datetime | None = None,
) -> ImportResult:
    """Store a delivered session; the same session again returns the stored one
    (``created=False``) and adds nothing.

    Its values must pass :func:`delivered_session_problems` against its prescription: the one
    named by ``prescription_id`` or, without one, the patient's prescription valid that day
    whose plan fingerprint the session ran (a session cannot escape its prescription's ceiling
    by leaving out the link)."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    values = session_row(patient, data, now)
    raise_if(date_problems("record.started_at", values["started_at"], patient, now))
    if data.prescription_id is None:  # still held to the prescription whose plan it ran
        prescription = _plan_prescription(session, patient, data.record)
    else:
        prescription = session.get(PrescriptionRecord, data.prescription_id)
        if prescription is None or prescription.patient_id != patient.id:
            expected = "a prescription of this patient"
            raise InputError(FieldProblem("prescription_id", data.prescription_id, expected))
    raise_if(delivered_session_problems(data.record, prescription))
    existing = _existing(session, patient, values)
    if existing is None:
        try:  # a concurrent import of the same session commits first: its unique keys win
            with race_guard(session):
                row = store(session, actor, SessionEntry(**values), "session")
            return ImportResult(row, created=True)
        except IntegrityError:
            existing = _existing(session, patient, values)
            if existing is None:
                raise
    if existing.patient_id != patient.id:
        expected = "a journal not already imported for another patient"
        raise InputError(FieldProblem("journal", data.journal_ref, expected))
    return ImportResult(existing, created=False)


def list_sessions(session: Session, actor: Actor, pseudonym: str) -> list[SessionEntry]:
    """A patient's sessions in time order."""
    patient = get_patient(session, actor, pseudonym)
    query = select(SessionEntry).where(SessionEntry.patient_id == patient.id)
    return list(session.scalars(query.order_by(SessionEntry.started_at, SessionEntry.id)))


SUMMARY_COLUMNS = (SessionEntry.id, SessionEntry.started_at, SessionEntry.outcome,
                   SessionEntry.stimulation_s, SessionEntry.max_amplitude_ma,
                   SessionEntry.nrs_pre, SessionEntry.nrs_post, SessionEntry.prescription_id)


def session_summaries(session: Session, actor: Actor, pseudonym: str) -> list:
    """A patient's sessions in time order, only the columns a report lists (id, start,
    outcome, stimulation, maximum amplitude, NRS before and after, prescription): a
    fraction of the cost of whole rows with their journals' details, for pages that list
    every session."""
    patient = get_patient(session, actor, pseudonym)
    return list(session.execute(
        select(*SUMMARY_COLUMNS).where(SessionEntry.patient_id == patient.id)
        .order_by(SessionEntry.started_at, SessionEntry.id)))


# --------------------------------------------------------------------------- journal import


def _journal_record(path: Path) -> tuple[SessionRecord, str, dict[str, Any]]:
    """The journal's record, SHA-256 and first event (``session_start``, for the plan's
    binding); :class:`InputError` naming each line of a journal that is truncated, damaged,
    edited or inconsistent."""
    from stimwise.session.journal import journal_record, load_journal

    contents = load_journal(path)
    return journal_record(contents, str(path)), contents.sha256, contents.events[0]


def _valid_prescriptions(
    session: Session, patient: Patient, day: date
) -> tuple[list[PrescriptionRecord], bool]:
    """The patient's prescriptions valid on ``day``, and whether the patient has any at all."""
    query = select(PrescriptionRecord).where(PrescriptionRecord.patient_id == patient.id)
    rows = list(session.scalars(query))
    return [r for r in rows if _valid_on(r, day)], bool(rows)


def _plan_prescription(
    session: Session, patient: Patient, record: SessionRecord
) -> PrescriptionRecord | None:
    """The prescription valid on the session's day whose plan the session ran, if any."""
    started = _instant("record.started_at", record.started_at)
    if started is None:
        return None
    valid, _ = _valid_prescriptions(session, patient, started.date())
    return next((r for r in valid if r.fingerprint == record.plan_fingerprint), None)


def _matching_prescription(
    session: Session, patient: Patient, record: SessionRecord, source: str
) -> PrescriptionRecord | None:
    """The prescription this session was delivered under; ``None`` when the patient has none."""
    day = _instant("record.started_at", record.started_at).date()  # type: ignore[union-attr]
    valid, any_at_all = _valid_prescriptions(session, patient, day)
    if not any_at_all:
        return None
    match = _plan_prescription(session, patient, record)
    if match is None:
        raise InputError(
            FieldProblem(
                "journal.plan_fingerprint",
                record.plan_fingerprint[:12],
                "the fingerprint of a prescription of this patient valid on "
                f"{day} (valid then: {[r.fingerprint[:12] for r in valid] or 'none'})",
            ),
            source=source,
        )
    return match


def _binding_problems(
    start: dict[str, Any], journal_patient: str | None, who: str
) -> list[FieldProblem]:
    """The person the session's plan was verified for must be the one it is stored for
    (HAZ-083). A plan verified without anyone's caps (a research or demonstration run, which
    names no patient) may be stored for a person, under the prescription checks; a journal that
    names a patient but ran a plan bound to no one, or to someone else, is refused. Journals
    written before plans were bound (no ``plan_patient_id``) are judged by those checks alone."""
    if "plan_patient_id" not in start:
        return []
    bound = start["plan_patient_id"]
    if bound is None and journal_patient is None:
        return []
    if bound == who:
        return []
    shown = "a plan not patient-specific" if bound is None else f"a plan verified for {bound!r}"
    return [FieldProblem("journal.plan_patient_id", bound,
                         f"a plan verified for {who!r} (the session ran {shown})")]


def import_journal(
    session: Session,
    actor: Actor,
    path: str | Path,
    pseudonym: str | None = None,
    *,
    unprescribed: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Import one session journal for a patient (all or nothing, idempotent).

    Parameters
    ----------
    pseudonym
        The patient; may be omitted when the journal names one, and must agree with it.
    unprescribed
        Accept a session of a patient with no prescription on record (e.g. a laboratory
        session). With prescriptions on record the journal must always match one.
    """
    path = Path(path)
    source = str(path)
    record, digest, start = _journal_record(path)
    problems = []
    if pseudonym is None and record.patient_id is None:
        problems.append(FieldProblem("patient", None, "a pseudonym (the journal names none)"))
    elif pseudonym is not None and record.patient_id not in (None, pseudonym):
        problems.append(
            FieldProblem("patient", pseudonym, f"the journal's own patient {record.patient_id!r}")
        )
    raise_if(problems, source)
    who = pseudonym or record.patient_id or ""
    raise_if(_binding_problems(start, record.patient_id, who), source)
    require(actor, "write_clinical", who)
    patient = find_patient(session, who)
    prescription = _matching_prescription(session, patient, record, source)
    if prescription is None and not unprescribed:
        raise InputError(
            FieldProblem(
                "prescription",
                None,
                "a prescription of this patient on record (add one first, or import with "
                "--unprescribed for a session outside any prescription)",
            ),
            source=source,
        )
    data = SessionIn(
        record=record,
        frequency_hz=None if prescription is None else prescription.frequency_hz,
        phase_width_us=None if prescription is None else prescription.phase_width_us,
        prescription_id=None if prescription is None else prescription.id,
        journal_ref=str(path.resolve())[-500:],
        journal_sha256=digest,
    )
    try:
        return add_session(session, actor, who, data, now=now)
    except InputError as error:
        raise InputError(error.problems, source=source) from None
