"""Bulk insertion of whole patients (synthetic cohorts, data migrations).

The same checks as the one-at-a-time repository functions (dates, access), but rows are written
with one multi-row INSERT per table, and one audit entry per patient, so that thousands of
patients with years of diaries load in seconds. All or nothing: the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.inputs import AdverseEventIn, DiaryEntryIn, PatientIn, SessionIn
from stimwise.records.models import AdverseEvent, DiaryEntry, Patient, SessionEntry
from stimwise.records.repository import (
    adverse_event_row,
    date_problems,
    diary_problems,
    diary_row,
    now_utc,
    patient_row,
    raise_if,
)
from stimwise.records.sessions import session_row


@dataclass(frozen=True)
class CohortPatient:
    """One patient with their records, ready for :func:`insert_cohort`."""

    patient: PatientIn
    diary: Sequence[DiaryEntryIn] = ()
    sessions: Sequence[SessionIn] = ()
    adverse_events: Sequence[AdverseEventIn] = ()


def insert_cohort(
    session: Session,
    actor: Actor,
    cohort: Iterable[CohortPatient],
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Insert patients with their diaries, sessions and adverse events; returns pseudonym →
    patient id. A pseudonym already in the database, a date in the future or before enrolment,
    anywhere, rejects the whole cohort.

    Sessions inserted here carry no journal and are not checked against prescriptions (there
    are none yet for new patients); adverse events may not refer to sessions by id (their ids
    are not known before insertion).
    """
    require(actor, "write_clinical")
    now = now or now_utc()
    members = list(cohort)
    pseudonyms = [m.patient.pseudonym for m in members]
    taken = set(session.scalars(select(Patient.pseudonym).where(Patient.pseudonym.in_(pseudonyms))))
    if taken or len(set(pseudonyms)) != len(pseudonyms):
        repeated = taken or {p for p in pseudonyms if pseudonyms.count(p) > 1}
        raise InputError(
            [FieldProblem("pseudonym", p, "a pseudonym not yet in use") for p in sorted(repeated)]
        )
    patients = [patient_row(m.patient, now) for m in members]
    session.add_all(patients)
    session.flush()
    diary_rows, session_rows, event_rows = [], [], []
    for member, patient in zip(members, patients, strict=True):
        where = f"cohort[{member.patient.pseudonym}]"
        raise_if(diary_problems(patient, member.diary, now), where)
        diary_rows += [diary_row(patient, entry, now) for entry in member.diary]
        for data in member.sessions:
            values = session_row(patient, data, now)
            raise_if(date_problems("started_at", values["started_at"], patient, now), where)
            session_rows.append(values)
        for event in member.adverse_events:
            problems = date_problems("occurred_at", event.occurred_at, patient, now)
            if event.session_id is not None:
                problems.append(FieldProblem("session_id", event.session_id, "none in a cohort"))
            raise_if(problems, where)
            event_rows.append(adverse_event_row(patient, event, now))
        log_action(session, actor, "bulk_insert", "patient", patient.id)
    for model, rows in ((DiaryEntry, diary_rows), (SessionEntry, session_rows),
                        (AdverseEvent, event_rows)):
        if rows:
            session.execute(insert(model), rows)
    return {p.pseudonym: p.id for p in patients}

