"""The analysis on the records database, on SQLite and PostgreSQL (``db_url`` fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.from_records import (
    RealRecordsError,
    load_prescription,
    load_series,
    population_from_database,
    refuse_real_records,
    write_cohort,
)
from stimwise.analysis.population import summarise
from stimwise.analysis.responder import classify
from stimwise.records.access import Actor
from stimwise.records.inputs import DiaryEntryIn, PatientIn
from stimwise.records.repository import add_diary_entries, create_patient
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-test", "clinician")
LAST_DAY = date(2026, 6, 30)


@pytest.fixture
def cohort_db(db_url):
    cohort = simulate_cohort(8, seed=21)
    with open_database(db_url) as database:
        with database.transaction() as session:
            write_cohort(session, CLINICIAN, cohort, LAST_DAY)
        yield database, cohort


def test_a_person_read_back_from_the_records_is_the_person_simulated(cohort_db):
    database, cohort = cohort_db
    with database.reading() as session:
        for person in cohort:
            loaded = load_series(session, CLINICIAN, person.series.patient_id)
            original = person.series
            assert loaded.as_of_day == original.as_of_day
            assert np.array_equal(loaded.pain.day, original.pain.day)
            assert np.allclose(loaded.pain.nrs, original.pain.nrs)
            assert np.array_equal(loaded.sessions.day, original.sessions.day)
            assert np.allclose(loaded.sessions.relief_nrs, original.sessions.relief_nrs)
            assert loaded.sessions_per_week == 7
            assert classify(loaded).category == classify(original).category


def test_the_population_summary_from_sql_equals_the_per_person_verdicts(cohort_db):
    database, cohort = cohort_db
    with database.reading() as session:
        summary = population_from_database(session, Actor("analyst", "researcher"))
    expected = summarise([classify(p.series).category for p in cohort],
                         [np.nan] * len(cohort), sum(len(p.series.sessions) for p in cohort),
                         int(sum(p.series.sessions.adverse_events.sum() for p in cohort)))
    assert summary.categories == expected.categories
    assert summary.responders == expected.responders
    assert summary.sessions == expected.sessions
    assert summary.adverse_events == expected.adverse_events
    assert 0.5 < summary.adherence_median <= 1.0


def test_the_stored_prescription_comes_back_with_its_locked_ranges(cohort_db):
    database, cohort = cohort_db
    with database.reading() as session:
        prescription, caps, locked = load_prescription(
            session, CLINICIAN, cohort[0].series.patient_id)
    assert prescription.protocol.id == "conventional-tens" and caps is None
    assert (locked.amplitude_ma.min, locked.amplitude_ma.max) == (10, 30)


def test_HAZ055_a_synthetic_cohort_is_refused_by_a_database_with_real_patients(db_url):
    with open_database(db_url) as database:
        with database.transaction() as session:
            create_patient(session, CLINICIAN, PatientIn(pseudonym="P001",
                                                         enrolled_on=date(2026, 1, 1)))
        with pytest.raises(RealRecordsError, match="1 real"), database.transaction() as session:
            refuse_real_records(session, CLINICIAN)


def test_HAZ051_a_person_without_sessions_gets_not_enough_data(db_url):
    with open_database(db_url) as database:
        with database.transaction() as session:
            create_patient(session, CLINICIAN, PatientIn(pseudonym="P002",
                                                         enrolled_on=date(2026, 1, 1)))
            add_diary_entries(session, CLINICIAN, "P002", [
                DiaryEntryIn(recorded_at=datetime(2026, 2, d, 20, tzinfo=UTC),
                             pain_average_nrs=6) for d in range(1, 21)
            ])
        with database.reading() as session:
            series = load_series(session, CLINICIAN, "P002")
    assert len(series.sessions) == 0
    verdict = classify(series)
    assert verdict.category == "not_enough_data"
