"""Issue 17, defect 5: a person whose first session is on the enrolment day reaches a response
verdict once a clinician records the baseline, in each of the three ways (recalled baseline
days, the intake's pain rating, a later therapy start with its reason); each way is refused where
it cannot be trusted. On SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from baseline_people import enrolment_day_person, steady_diary
from stimwise.analysis.from_records import load_series, population_from_database
from stimwise.analysis.population import summarise
from stimwise.analysis.responder import classify
from stimwise.clinical.instruments import InstrumentResponse
from stimwise.errors import InputError
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.baseline import (
    RecalledDayIn,
    TherapyStartIn,
    add_recalled_days,
    set_therapy_start,
)
from stimwise.records.models import AuditEntry, DiaryEntry, Patient
from stimwise.records.repository import add_instrument_scores
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-base", "clinician")
TODAY = datetime.now(UTC).date()
ENROLLED = TODAY - timedelta(days=50)
"""Enrolment day, first session day: 50 days ago, so the verdict's window (day 41) is open."""


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, tzinfo=UTC))


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def db(db_url):
    with open_database(db_url) as database:
        yield database


def verdict(db, pseudonym: str):
    with db.reading() as session:
        return classify(load_series(session, CLINICIAN, pseudonym))


def enrolled_today_person(db, pseudonym: str = "P-ENR") -> None:
    """First session on the enrolment day, daily sessions and diary (about 3/10) since."""
    enrolment_day_person(db, pseudonym, ENROLLED, steady_diary(0, 49, 3), range(50))


def recalled(*days_before: int, nrs: int = 7, start: date = ENROLLED) -> list[RecalledDayIn]:
    return [RecalledDayIn(day=start - timedelta(days=d), pain_average_nrs=nrs)
            for d in days_before]


def test_HAZ122_recalled_baseline_days_give_a_verdict_to_an_enrolment_day_start(db):
    enrolled_today_person(db)
    before = verdict(db, "P-ENR")
    assert before.category == "not_enough_data"
    assert before.reasons[0].startswith(
        f"baseline: 7 more days with a pain score between {shown(ENROLLED - timedelta(14))} and "
        f"{shown(ENROLLED - timedelta(1))} (0 of the 7 needed), or an intake average-pain rating")
    with db.transaction() as session:  # recorded on the enrolment day, after the session
        rows = add_recalled_days(session, CLINICIAN, "P-ENR", recalled(*range(1, 8)),
                                 now=at(ENROLLED, 18))
    assert [r.retrospective for r in rows] == [True] * 7
    after = verdict(db, "P-ENR")
    assert after.category == "substantial", after.reasons
    assert (after.baseline.entries, after.baseline.recalled) == (7, 7)
    assert any("7 of the 7 baseline days were recalled" in r for r in after.reasons)


def test_HAZ122_recalled_days_are_refused_where_they_cannot_be_trusted(db):
    enrolled_today_person(db)
    # enrolled 10 days before the first session, wrote a diary on the first 4 days
    early = ENROLLED - timedelta(days=10)
    enrolment_day_person(db, "P-DIARY", early, steady_diary(0, 3, 6), [10, 11])
    now = at(ENROLLED + timedelta(days=2), 10)
    cases = {
        "P-ENR": [
            (ENROLLED + timedelta(days=2), "a day that has ended"),
            (ENROLLED - timedelta(days=13), "at most 14 days ago"),
            (ENROLLED + timedelta(days=1), f"a day before the therapy start ({ENROLLED})"),
        ],
        "P-DIARY": [(early + timedelta(days=1), "a day without a pain score in the diary")],
    }
    for pseudonym, refused in cases.items():
        for day, expected in refused:
            good = RecalledDayIn(day=ENROLLED - timedelta(days=3), pain_average_nrs=6)
            bad = RecalledDayIn(day=day, pain_average_nrs=6)
            with pytest.raises(InputError) as error, db.transaction() as session:
                add_recalled_days(session, CLINICIAN, pseudonym, [good, bad], now=now)
            (problem,) = error.value.problems
            assert problem.path == "days[1].day" and expected in problem.expected, problem
    with pytest.raises(InputError, match="one recalled value per day"), \
            db.transaction() as session:
        add_recalled_days(session, CLINICIAN, "P-ENR", recalled(3, 3), now=now)
    for who in (Actor("pt", "patient", "P-ENR"), Actor("res", "researcher")):
        with pytest.raises(AccessDeniedError), db.transaction() as session:
            add_recalled_days(session, who, "P-ENR", recalled(3), now=now)
    with db.reading() as session:  # all or none: nothing recalled was stored
        assert not session.scalars(select(DiaryEntry).where(DiaryEntry.retrospective)).all()


def _intake_pain(db, pseudonym: str, answered_on: date, stored_at: datetime, average: int):
    response = InstrumentResponse(instrument="pain_nrs", answered_on=answered_on,
                                  answers={"current": average, "average": average,
                                           "worst": min(10, average + 1)})
    with db.transaction() as session:
        add_instrument_scores(session, CLINICIAN, pseudonym, [response], now=stored_at)


def test_HAZ121_the_intake_rating_counts_only_when_given_before_the_first_session(db):
    """The first session began at 09:00 UTC on the enrolment day: a rating stored at 08:00
    stands in for the baseline, one stored at 10:00 (it may describe pain after stimulation)
    does not."""
    enrolled_today_person(db, "P-INTAKE")
    enrolled_today_person(db, "P-LATE")
    _intake_pain(db, "P-INTAKE", ENROLLED, at(ENROLLED, 8), average=8)
    _intake_pain(db, "P-LATE", ENROLLED, at(ENROLLED, 10), average=8)
    good = verdict(db, "P-INTAKE")
    assert good.category == "substantial" and good.baseline.source == "intake"
    assert any("intake's average-pain rating" in r for r in good.reasons)
    assert verdict(db, "P-LATE").category == "not_enough_data"
    with db.reading() as session:  # a research summary does not rest on one rating
        summary = population_from_database(session, Actor("analyst", "researcher"))
    assert summary.categories == {"not_enough_data": 2}, summary


def test_HAZ123_a_later_therapy_start_needs_a_reason_and_leaves_the_trial_session_out(db):
    """The enrolment-day session was a fitting trial; the person then kept a diary for two
    weeks before daily therapy began. With the therapy start set on day 14 (and why), the
    diary of days 1-13 is the baseline and the trial session is not counted."""
    enrolled = TODAY - timedelta(days=62)
    diary = {**steady_diary(0, 13, 7), **steady_diary(14, 61, 3, seed=1)}
    enrolment_day_person(db, "P-TRIAL", enrolled, diary, [0, *range(14, 62)])
    assert verdict(db, "P-TRIAL").category == "not_enough_data"
    start = enrolled + timedelta(days=14)
    refused = {
        TherapyStartIn(therapy_start_on=start): ("reason", "after the first delivered session"),
        TherapyStartIn(therapy_start_on=enrolled - timedelta(days=1), reason="x"):
            ("therapy_start_on", "on or after the enrolment"),
        TherapyStartIn(therapy_start_on=TODAY + timedelta(days=1), reason="x"):
            ("therapy_start_on", "not in the future"),
    }
    for data, (path, expected) in refused.items():
        with pytest.raises(InputError) as error, db.transaction() as session:
            set_therapy_start(session, CLINICIAN, "P-TRIAL", data)
        assert error.value.problems[0].path == path
        assert expected in error.value.problems[0].expected
    with pytest.raises(AccessDeniedError), db.transaction() as session:
        set_therapy_start(session, Actor("pt", "patient", "P-TRIAL"), "P-TRIAL",
                          TherapyStartIn(therapy_start_on=start, reason="x"))
    reason = "the enrolment-day session was a fitting trial; baseline diary until day 14"
    with db.transaction() as session:
        set_therapy_start(session, CLINICIAN, "P-TRIAL",
                          TherapyStartIn(therapy_start_on=start, reason=reason))
    with db.reading() as session:
        series = load_series(session, CLINICIAN, "P-TRIAL")
        patient = session.scalar(select(Patient).where(Patient.pseudonym == "P-TRIAL"))
        audit = session.scalars(select(AuditEntry.action).where(
            AuditEntry.record_id == str(patient.id), AuditEntry.record_type == "patient")).all()
        summary = population_from_database(session, Actor("analyst", "researcher"))
    assert (patient.therapy_start_reason, patient.therapy_start_set_by) == (reason, "dr-base")
    assert "set_therapy_start" in audit
    assert series.therapy_start == start and series.sessions_before_start == 1
    assert len(series.sessions) == 48 and series.sessions.day[0] == 0
    ruling = classify(series)
    assert ruling.baseline.entries == 13  # days 1-13: the trial day is not free of stimulation
    assert ruling.category == "substantial", ruling.reasons
    with pytest.raises(InputError, match="a day without a session"), \
            db.transaction() as session:  # the trial day is not a baseline day
        add_recalled_days(session, CLINICIAN, "P-TRIAL", recalled(0, start=enrolled),
                          now=at(enrolled + timedelta(days=5), 10))
    assert summary == summarise([ruling.category], [float("nan")], 48, 0)  # as per person
    with db.transaction() as session:  # back to the first session's day; no reason needed
        set_therapy_start(session, CLINICIAN, "P-TRIAL", TherapyStartIn(therapy_start_on=None))
    assert verdict(db, "P-TRIAL").category == "not_enough_data"
