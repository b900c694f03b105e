"""The patient list, identity search and a person's status in the records layer, on SQLite and
PostgreSQL (HAZ-170, HAZ-172, HAZ-173)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.from_records import write_cohort
from stimwise.errors import InputError
from stimwise.records import repository as repo
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.inputs import AdverseEventIn, IdentityIn, PatientIn
from stimwise.records.models import AuditEntry, SessionEntry
from stimwise.records.patient_list import PatientQuery, birth_date, find_patients
from stimwise.records.patient_status import (
    ProgrammeNotOfferedError,
    programme_refusal,
    require_home_programme,
    set_status,
    status_at,
    status_history,
)
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-ward", "clinician")
RESEARCHER = Actor("rita", "researcher")
ENROLLED = date(2026, 1, 15)


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    with database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(
            pseudonym="P001", enrolled_on=ENROLLED,
            identity=IdentityIn(full_name="Alice Émile Example", date_of_birth=date(1958, 3, 9))))
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P002", enrolled_on=ENROLLED))
    yield database
    database.close()


def test_birth_dates_are_read_iso_or_day_first_and_nothing_else():
    assert birth_date("1958-03-09") == birth_date("9.3.1958") == date(1958, 3, 9)
    assert birth_date("09/03/1958") == birth_date("9-3-1958") == date(1958, 3, 9)
    assert birth_date("31.02.1958") is None and birth_date("alice") is None


def test_HAZ172_identity_search_is_for_clinicians_and_finds_name_and_birth_date(db):
    with db.transaction() as s:
        by = {q: [row.pseudonym for row in find_patients(
            s, CLINICIAN, PatientQuery(text=q, by_identity=True)).rows]
            for q in ("emile", "EXAMPLE alice", "9.3.1958", "p002", "bob")}
    assert by == {"emile": ["P001"], "EXAMPLE alice": ["P001"], "9.3.1958": ["P001"],
                  "p002": ["P002"], "bob": []}
    for actor in (RESEARCHER, Actor("pt", "patient", "P001")):
        for query in (PatientQuery(name="alice"), PatientQuery(born=date(1958, 3, 9)),
                      PatientQuery(text="alice", by_identity=True)):
            with pytest.raises(AccessDeniedError, match="only clinicians"), \
                    db.transaction() as s:
                find_patients(s, actor, query)
    with db.transaction() as s:  # the plain list, for a researcher: no name, no unread count
        rows = find_patients(s, RESEARCHER, PatientQuery(text="alice")).rows
        everyone = find_patients(s, RESEARCHER, PatientQuery()).rows
    assert rows == [] and {row.full_name for row in everyone} == {None}
    assert {row.unread for row in everyone} == {None}


def test_HAZ173_searches_and_names_shown_are_audited_without_the_term(db):
    with db.transaction() as s:
        find_patients(s, CLINICIAN, PatientQuery(text="alice", by_identity=True))
    with db.reading() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))[-2:]
    assert [(row.action, row.record_type) for row in rows] == [
        ("search_identity", "patient_list"), ("read_identity", "patient")]
    assert not any("alice" in f"{row.record_id}{row.record_type}".lower() for row in rows)


def test_the_list_gives_last_session_of_either_provenance_and_unread_counts(db):
    last_day = datetime.now(UTC).date() - timedelta(days=1)
    with db.transaction() as s:
        pseudonym = next(iter(write_cohort(s, CLINICIAN, simulate_cohort(1, 3), last_day)))
        repo.add_adverse_event(s, Actor("pt", "patient", pseudonym), pseudonym, AdverseEventIn(
            occurred_at=datetime.now(UTC) - timedelta(hours=1), kind="burn",
            severity="moderate"))
        latest = s.scalar(select(SessionEntry.started_at).order_by(
            SessionEntry.started_at.desc()).limit(1))
    with db.transaction() as s:
        rows = {row.pseudonym: row for row in find_patients(s, CLINICIAN, PatientQuery()).rows}
    assert rows[pseudonym].last_session_at == latest
    assert rows[pseudonym].last_session_at.tzinfo is not None
    assert rows[pseudonym].unread >= 1 and rows["P002"].unread == 0
    assert rows["P002"].last_session_at is None


def test_HAZ170_the_status_in_force_at_an_instant_decides_the_home_programme(db):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with db.transaction() as s:
        set_status(s, CLINICIAN, "P001", "paused", "skin check", now=start)
        set_status(s, CLINICIAN, "P001", "active", "healed", now=start + timedelta(days=7))
        set_status(s, CLINICIAN, "P001", "discharged", "goals met", now=start + timedelta(days=30))
    with db.transaction() as s:
        patient = repo.find_patient(s, "P001")
        assert status_at(s, patient, start - timedelta(minutes=1)) == ("active", None)
        assert status_at(s, patient, start + timedelta(days=1))[0] == "paused"
        assert programme_refusal(s, patient, start + timedelta(days=8)) is None
        assert "ended at discharge on 31 March 2026" in programme_refusal(
            s, patient, start + timedelta(days=40))
        with pytest.raises(ProgrammeNotOfferedError, match="paused by the clinician on 1 March"):
            require_home_programme(s, patient, start + timedelta(hours=2))
        history = status_history(s, CLINICIAN, "P001")
    assert [c.status for c in history] == ["discharged", "active", "paused"]
    assert patient.status == "discharged"


def test_a_status_change_needs_a_clinician_a_new_status_and_a_reason(db):
    with pytest.raises(AccessDeniedError), db.transaction() as s:
        set_status(s, RESEARCHER, "P001", "paused", "x")
    for status, reason, field in (("active", "x", "status"), ("ended", "x", "status"),
                                  ("paused", "   ", "reason"), ("paused", "x" * 501, "reason")):
        with pytest.raises(InputError) as refused, db.transaction() as s:
            set_status(s, CLINICIAN, "P001", status, reason)
        assert refused.value.problems[0].path == field
