"""Intake drafts in the records (SQLite and PostgreSQL): one per patient, replaced when saved
again, for clinicians only, audited without content, and never an intake (HAZ-160)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from stimwise.errors import InputError
from stimwise.records import repository as repo
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.inputs import PatientIn
from stimwise.records.intake_drafts import discard_draft, find_draft, save_draft
from stimwise.records.models import AuditEntry, IntakeRecord
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-ward", "clinician")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    with database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 2)),
                            now=NOW)
    yield database
    database.close()


def test_HAZ160_a_draft_is_kept_replaced_and_discarded_and_never_an_intake(db):
    with db.transaction() as s:
        save_draft(s, CLINICIAN, "P001", {"age_years": ["7"], "implants.__answer": ["yes"]})
        save_draft(s, CLINICIAN, "P001", {"age_years": ["70"]}, now=NOW)
    with db.transaction() as s:
        draft = find_draft(s, CLINICIAN, "P001")
        assert draft.answers == {"age_years": ["70"]} and draft.saved_at == NOW
        assert s.scalar(select(func.count()).select_from(IntakeRecord)) == 0
    with db.transaction() as s:
        assert discard_draft(s, CLINICIAN, "P001") is True
        assert discard_draft(s, CLINICIAN, "P001") is False
        assert find_draft(s, CLINICIAN, "P001") is None
    with db.reading() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action.like("%draft%"))))
    assert [e.action for e in entries] == [
        "save_intake_draft", "save_intake_draft", "read_intake_draft", "discard_intake_draft"]
    assert {e.record_type for e in entries} == {"patient"}  # the record, never the answers


@pytest.mark.parametrize("role", ["researcher", "patient"])
def test_HAZ160_only_clinicians_keep_or_read_drafts(db, role):
    actor = Actor(f"{role}-1", role, "P001" if role == "patient" else None)
    with db.transaction() as s, pytest.raises(AccessDeniedError):
        save_draft(s, actor, "P001", {"age_years": ["70"]})
    with db.transaction() as s, pytest.raises(AccessDeniedError):
        find_draft(s, actor, "P001")


@pytest.mark.parametrize("answers", [
    {"age_years": "70"},  # a value must be a list of texts
    {"age_years": [70]},
    {"note": ["x" * 3000]},
    {f"q{i}": [""] for i in range(5000)},
])
def test_a_draft_holds_only_a_pages_inputs(db, answers):
    with db.transaction() as s, pytest.raises(InputError):
        save_draft(s, CLINICIAN, "P001", answers)
