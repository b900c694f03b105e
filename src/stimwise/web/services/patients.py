"""Patients: the list, one patient's overview, new patients and their identifying data.

Reading a patient's overview or identity is audited; writing is audited by the repository.
A patient actor reaches only their own record (the repository refuses anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.audit import log_action
from stimwise.records.database import Database
from stimwise.records.inputs import IdentityIn, PatientIn
from stimwise.records.models import Patient, PatientIdentity
from stimwise.web.services.audit import audited_read


@dataclass(frozen=True)
class PatientSummary:
    pseudonym: str
    enrolled_on: date
    created_at: datetime


@dataclass(frozen=True)
class PatientOverview:
    patient: PatientSummary
    counts: dict[str, int]


@dataclass(frozen=True)
class Identity:
    full_name: str
    date_of_birth: date | None
    contact: str | None


def _summary(patient: Patient) -> PatientSummary:
    return PatientSummary(patient.pseudonym, patient.enrolled_on, patient.created_at)


def _identity(row: PatientIdentity | None) -> Identity | None:
    return None if row is None else Identity(row.full_name, row.date_of_birth, row.contact)


def list_patients(db: Database, actor: Actor) -> list[PatientSummary]:
    """Every patient by pseudonym (a patient sees only themself); the listing is audited."""
    with db.transaction() as session:
        rows = r.list_patients(session, actor)
        log_action(session, actor, "read", "patient_list")
    return [_summary(row) for row in rows]


def overview(db: Database, actor: Actor, pseudonym: str) -> PatientOverview:
    """One patient's record at a glance: enrolment and how many records of each kind."""

    def read(session) -> PatientOverview:
        patient = r.get_patient(session, actor, pseudonym)
        return PatientOverview(_summary(patient), r.record_counts(session, actor, pseudonym))

    return audited_read(db, actor, pseudonym, "overview", read)


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
