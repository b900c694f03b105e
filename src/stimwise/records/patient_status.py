"""A person's status in their care, and what it stops.

``active``: everything is offered. ``paused``: a clinician paused the home programme (an adverse
event being looked into, a hospital stay, a holiday); home sessions and sessions logged on the
person's own device are refused until a clinician makes them active again. ``discharged``: care
ended; the home programme stops, and so does a clinic session, until a clinician makes them
active again. The diary and problem reports stay open in every status: a person must always be
able to tell their clinician about a problem.

Each change is made by a clinician with a reason, kept in ``patient_status_changes`` (the
record) and audited (``set_status``; the audit entry holds no reason, which may be personal).
The status in force at an instant comes from that history, so a session that started before a
pause is still part of the programme when it is logged afterwards (HAZ-170).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError, StimwiseError
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import PATIENT_STATUSES, Patient, PatientStatusChange
from stimwise.records.repository import find_patient, get_patient, now_utc

MAX_REASON_CHARS = 500
STATUS_WORDS = {"active": "Active", "paused": "Paused", "discharged": "Discharged"}
"""How each status reads on a page."""


class ProgrammeNotOfferedError(StimwiseError):
    """A home session, a self-logged session or a clinic session refused because of the
    person's status (exit 1, like any refusal; the API answers 409). The message says why
    and what to do, in words a patient understands."""

    exit_code = 1


@dataclass(frozen=True)
class StatusChange:
    """One change, as the overview lists it."""

    status: str
    reason: str
    changed_by: str
    changed_at: datetime

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]


def set_status(session: Session, actor: Actor, pseudonym: str, status: str, reason: str, *,
               now: datetime | None = None) -> StatusChange:
    """Change ``pseudonym``'s status (clinicians only) with a reason; audited. The same status
    again, an unknown status or an empty reason is refused with the field named."""
    require(actor, "write_clinical", pseudonym)
    patient = find_patient(session, pseudonym)
    reason = " ".join(reason.split())
    problems = []
    if status not in PATIENT_STATUSES:
        problems.append(FieldProblem("status", status, f"one of {', '.join(PATIENT_STATUSES)}"))
    elif status == patient.status:
        problems.append(FieldProblem(
            "status", status, f"a status other than the current one ({STATUS_WORDS[status]})"))
    if not reason:
        problems.append(FieldProblem("reason", reason, "the reason for the change"))
    elif len(reason) > MAX_REASON_CHARS:
        problems.append(FieldProblem(
            "reason", reason[:80], f"at most {MAX_REASON_CHARS} characters"))
    if problems:
        raise InputError(problems, source="status change")
    now = now or now_utc()
    row = PatientStatusChange(patient_id=patient.id, status=status, reason=reason,
                              changed_by=actor.username, changed_at=now)
    session.add(row)
    patient.status = status
    session.flush()
    log_action(session, actor, "set_status", "patient", patient.id)
    return _change(row)


def status_history(session: Session, actor: Actor, pseudonym: str) -> list[StatusChange]:
    """The changes of ``pseudonym``'s status, newest first."""
    patient = get_patient(session, actor, pseudonym)
    return [_change(row) for row in session.scalars(
        select(PatientStatusChange).where(PatientStatusChange.patient_id == patient.id)
        .order_by(PatientStatusChange.changed_at.desc(), PatientStatusChange.id.desc()))]


def status_at(session: Session, patient: Patient, when: datetime) -> tuple[str, datetime | None]:
    """The status in force at ``when`` and since when (``None``: active since enrolment)."""
    row = session.scalars(
        select(PatientStatusChange)
        .where(PatientStatusChange.patient_id == patient.id,
               PatientStatusChange.changed_at <= when)
        .order_by(PatientStatusChange.changed_at.desc(), PatientStatusChange.id.desc())
        .limit(1)).first()
    return ("active", None) if row is None else (row.status, row.changed_at)


def programme_refusal(session: Session, patient: Patient, when: datetime) -> str | None:
    """Why the home programme is not offered at ``when`` (``None``: the person was active
    then), in words a patient and a clinician both read."""
    status, since = status_at(session, patient, when)
    if status == "active":
        return None
    day = "enrolment" if since is None else _day_words(since.date())
    what = "paused by the clinician" if status == "paused" else "ended at discharge"
    return (f"The home programme was {what} on {day}, so home stimulation is not offered and "
            "sessions from that day on cannot be logged. The diary and problem reports stay "
            "open: ask the clinician when the programme starts again.")


def require_home_programme(session: Session, patient: Patient, when: datetime) -> None:
    """Refuse a home session or a self-logged session at ``when`` unless the person was active
    then (HAZ-170)."""
    reason = programme_refusal(session, patient, when)
    if reason is not None:
        raise ProgrammeNotOfferedError(reason)


def clinic_refusal(patient: Patient) -> str | None:
    """Why no clinic session is started for ``patient`` (``None``: it may be): a discharged
    person is made active again first, on purpose and with a reason (HAZ-171)."""
    if patient.status != "discharged":
        return None
    return (f"{patient.pseudonym} is discharged, so no session is started. Make them active "
            "again on their overview page, with the reason, to treat them again.")


def _day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _change(row: PatientStatusChange) -> StatusChange:
    return StatusChange(row.status, row.reason, row.changed_by, row.changed_at)
