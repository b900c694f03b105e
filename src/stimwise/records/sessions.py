"""Delivered sessions in the record, and the import of a session journal.

A journal written by ``stimwise session run`` is read back with the session layer's own reader
and summarised by the same :func:`~stimwise.session.record.record_from_events` that produced the
session's record, so the record in the database is the record the session printed.

Import is all-or-nothing and idempotent: a journal is identified by the SHA-256 of its bytes, and
a session by (patient, plan fingerprint, start time); importing either again returns the stored
session and adds nothing, also when two imports of it run at the same time (the second one's
insert hits the unique keys, is rolled back to a savepoint and returns the first one's row).

A journal that is truncated (no ``session_end`` or a torn line that no recovery accounted for,
gaps in its sequence numbers), belongs to another patient, or does not match a prescription
valid on the session's day is refused with nothing written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
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
from stimwise.session.record import SessionRecord

AMPLITUDE_TOLERANCE_MA = 1e-6
"""Rounding slack when comparing a delivered amplitude with a prescribed one [U]."""


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
    (``created=False``) and adds nothing."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    values = session_row(patient, data, now)
    raise_if(date_problems("record.started_at", values["started_at"], patient, now))
    if data.prescription_id is not None:
        owner = session.scalar(
            select(PrescriptionRecord.patient_id).where(
                PrescriptionRecord.id == data.prescription_id
            )
        )
        if owner != patient.id:
            expected = "a prescription of this patient"
            raise InputError(FieldProblem("prescription_id", data.prescription_id, expected))
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
                   SessionEntry.nrs_pre, SessionEntry.nrs_post)


def session_summaries(session: Session, actor: Actor, pseudonym: str) -> list:
    """A patient's sessions in time order, only the columns a report lists (id, start,
    outcome, stimulation, maximum amplitude, NRS before and after): a fraction of the cost of
    whole rows with their journals' details, for pages that list every session."""
    patient = get_patient(session, actor, pseudonym)
    return list(session.execute(
        select(*SUMMARY_COLUMNS).where(SessionEntry.patient_id == patient.id)
        .order_by(SessionEntry.started_at, SessionEntry.id)))


# --------------------------------------------------------------------------- journal import


def _journal_record(path: Path) -> tuple[SessionRecord, str]:
    """The journal's record and SHA-256; :class:`InputError` for a truncated or malformed one."""
    from stimwise.session.journal import read_journal
    from stimwise.session.record import record_from_events

    source = str(path)
    if not path.is_file():
        raise InputError(FieldProblem("journal", source, "an existing journal file"))
    data = path.read_bytes()
    contents = read_journal(path)
    if not contents.events or contents.events[0].get("type") != "session_start":
        raise InputError(
            FieldProblem("journal", source, "a session journal starting with session_start"),
            source=source,
        )
    if not contents.ended:
        raise InputError(
            FieldProblem(
                "journal",
                f"{len(contents.events)} events, last {contents.events[-1].get('type')!r}",
                "a complete journal ending with session_end (truncated; run `stimwise session "
                "recover` on a crashed session's journal first)",
            ),
            source=source,
        )
    recovered_torn = contents.events[-1].get("torn_lines", 0) or 0
    if contents.torn_lines > recovered_torn:
        raise InputError(
            FieldProblem(
                "journal",
                f"{contents.torn_lines} unreadable line(s)",
                "every line a JSON event (a damaged or truncated journal)",
            ),
            source=source,
        )
    sequence = [event.get("seq") for event in contents.events]
    if sequence != list(range(len(sequence))):
        gap = next(i for i, seq in enumerate(sequence) if seq != i)
        raise InputError(
            FieldProblem(
                f"journal line {gap + 1}.seq",
                sequence[gap],
                f"{gap} (events numbered without gaps; lines are missing)",
            ),
            source=source,
        )
    try:
        record = record_from_events(contents.events)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        raise InputError(
            FieldProblem("journal", repr(error), "the events stimwise session run writes"),
            source=source,
        ) from None
    return record, hashlib.sha256(data).hexdigest()


def _matching_prescription(
    session: Session, patient: Patient, record: SessionRecord, source: str
) -> PrescriptionRecord | None:
    """The prescription this session was delivered under; ``None`` when the patient has none."""
    query = select(PrescriptionRecord).where(PrescriptionRecord.patient_id == patient.id)
    rows = list(session.scalars(query))
    if not rows:
        return None
    day = _instant("record.started_at", record.started_at).date()  # type: ignore[union-attr]
    valid = [r for r in rows if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)]
    match = next((r for r in valid if r.fingerprint == record.plan_fingerprint), None)
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
    ceiling = float(match.prescription["max_amplitude_ma"])
    if match.locked_ranges is not None:
        ceiling = min(ceiling, float(match.locked_ranges["amplitude_ma"]["max"]))
    if record.max_amplitude_ma > ceiling + AMPLITUDE_TOLERANCE_MA:
        raise InputError(
            FieldProblem(
                "journal.max_amplitude_ma",
                record.max_amplitude_ma,
                f"at most the prescribed amplitude ({ceiling:g} mA)",
            ),
            source=source,
        )
    return match


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
    record, digest = _journal_record(path)
    problems = []
    if pseudonym is None and record.patient_id is None:
        problems.append(FieldProblem("patient", None, "a pseudonym (the journal names none)"))
    elif pseudonym is not None and record.patient_id not in (None, pseudonym):
        problems.append(
            FieldProblem("patient", pseudonym, f"the journal's own patient {record.patient_id!r}")
        )
    raise_if(problems, source)
    who = pseudonym or record.patient_id or ""
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
    return add_session(session, actor, who, data, now=now)
