"""Patients: the list, one patient's overview, new patients and their identifying data.

Reading a patient's overview or identity is audited; writing is audited by the repository.
A patient actor reaches only their own record (the repository refuses anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from stimwise.errors import FieldProblem, InputError
from stimwise.records import patient_status
from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.inputs import IdentityIn, PatientIn
from stimwise.records.models import Patient, PatientIdentity
from stimwise.records.patient_list import (
    PAGE_SIZE,
    PatientPage,
    PatientQuery,
    birth_date,
    find_patients,
)
from stimwise.records.patient_status import StatusChange
from stimwise.web.services.audit import audited_read


@dataclass(frozen=True)
class PatientSummary:
    pseudonym: str
    enrolled_on: date
    created_at: datetime
    status: str = "active"


@dataclass(frozen=True)
class PatientOverview:
    patient: PatientSummary
    counts: dict[str, int]
    status_history: list[StatusChange]


@dataclass(frozen=True)
class Identity:
    full_name: str
    date_of_birth: date | None
    contact: str | None


def _summary(patient: Patient) -> PatientSummary:
    return PatientSummary(patient.pseudonym, patient.enrolled_on, patient.created_at,
                          patient.status)


def _identity(row: PatientIdentity | None) -> Identity | None:
    return None if row is None else Identity(row.full_name, row.date_of_birth, row.contact)


def patient_query(q: str, name: str = "", born: str = "", status: str = "", *,
                  by_identity: bool = False) -> PatientQuery:
    """A search as the pages and the API receive it, as the records layer takes it (a ``born``
    that is no date is refused, naming the field). ``by_identity``: ``q`` may also match a name
    or a date of birth (a search sent in a request's body)."""
    birth = None
    if born.strip():
        birth = birth_date(born)
        if birth is None:
            raise InputError(FieldProblem(
                "born", born, "a date of birth such as 1961-04-12 or 12.04.1961"))
    return PatientQuery(text=q, name=name, born=birth, status=status.strip() or None,
                        by_identity=by_identity)


def find(db: Database, actor: Actor, query: PatientQuery, page: int = 1,
         page_size: int | None = PAGE_SIZE) -> PatientPage:
    """The patient list, or the people matching ``query`` (an identity search is for clinicians
    only; the search and every name shown are audited by the records layer)."""
    with db.transaction() as session:
        return find_patients(session, actor, query, page, page_size)


def overview(db: Database, actor: Actor, pseudonym: str) -> PatientOverview:
    """One patient's record at a glance: enrolment, status with its history, and how many
    records of each kind."""

    def read(session) -> PatientOverview:
        patient = r.get_patient(session, actor, pseudonym)
        return PatientOverview(_summary(patient), r.record_counts(session, actor, pseudonym),
                               patient_status.status_history(session, actor, pseudonym))

    return audited_read(db, actor, pseudonym, "overview", read)


def change_status(db: Database, actor: Actor, pseudonym: str, status: str, reason: str
                  ) -> StatusChange:
    """Make the person active, paused or discharged, with a reason (clinicians; audited)."""
    with db.transaction() as session:
        return patient_status.set_status(session, actor, pseudonym, status, reason)


def create_patient(db: Database, actor: Actor, data: PatientIn) -> PatientSummary:
    with db.transaction() as session:
        patient = r.create_patient(session, actor, data)
    return _summary(patient)


def get_identity(db: Database, actor: Actor, pseudonym: str) -> Identity | None:
    """Identifying data (clinicians, and a patient for themself); the repository audits it."""
    with db.transaction() as session:
        return _identity(r.get_identity(session, actor, pseudonym))


def set_identity(db: Database, actor: Actor, pseudonym: str, data: IdentityIn) -> Identity:
    with db.transaction() as session:
        r.set_identity(session, actor, pseudonym, data)
    return Identity(data.full_name, data.date_of_birth, data.contact)


def remove_identity(db: Database, actor: Actor, pseudonym: str) -> bool:
    with db.transaction() as session:
        return r.remove_identity(session, actor, pseudonym)
