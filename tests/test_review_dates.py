"""Review dates on prescriptions (issue 16, item 2): the rule, the default, the records layer,
the command line, FHIR, and the clinicians' due-for-review list (HAZ-165)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from stimwise.analysis.from_records import cohort_prescription
from stimwise.cli.main import app as cli
from stimwise.errors import InputError
from stimwise.records import repository as repo
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.inputs import PatientIn
from stimwise.records.models import PrescriptionRecord
from stimwise.records.review import (
    DEFAULT_REVIEW_DAYS,
    MAX_REVIEW_DAYS,
    default_review_on,
    due_for_review,
    record_review,
    review_problem,
)
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-review", "clinician")
TODAY = datetime.now(UTC).date()
NOON = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
runner = CliRunner()


# --------------------------------------------------------------------------- the rule


def test_default_is_four_weeks_after_the_later_of_the_first_day_and_today():
    assert DEFAULT_REVIEW_DAYS == 28 and MAX_REVIEW_DAYS == 84
    assert default_review_on(TODAY, None, TODAY) == TODAY + timedelta(days=28)
    later = TODAY + timedelta(days=10)
    assert default_review_on(later, None, TODAY) == later + timedelta(days=28)
    back_dated = TODAY - timedelta(days=200)
    assert default_review_on(back_dated, None, TODAY) == TODAY + timedelta(days=28)
    assert default_review_on(TODAY, TODAY + timedelta(days=14), TODAY) == TODAY + timedelta(
        days=14)  # a prescription ending sooner is reviewed on its last day


@pytest.mark.parametrize(("review_on", "words"), [
    (TODAY, "after the first day"),
    (TODAY - timedelta(days=1), "after the first day"),
    (TODAY + timedelta(days=85), "within 12 weeks"),
    (TODAY + timedelta(days=30), "on or before the last day"),
])
def test_HAZ165_review_date_is_after_the_start_not_past_within_12_weeks_and_not_after_the_end(
        review_on, words):
    problem = review_problem(review_on, TODAY, TODAY + timedelta(days=20), TODAY)
    assert problem is not None and words in problem.expected and problem.path == "review_on"


def test_dates_at_the_end_of_the_calendar_are_refused_in_words_not_by_overflow():
    last = date.max
    assert default_review_on(last, None, TODAY) == last
    assert "after the first day" in review_problem(last, last, None, TODAY).expected


def test_HAZ165_review_date_not_in_the_past_for_a_back_dated_prescription():
    start = TODAY - timedelta(days=60)
    assert "not in the past" in review_problem(TODAY - timedelta(days=1), start, None,
                                               TODAY).expected
    assert review_problem(TODAY, start, None, TODAY) is None  # today is allowed
    assert review_problem(TODAY + timedelta(days=84), start, None, TODAY) is None
    assert review_problem(TODAY + timedelta(days=85), start, None, TODAY) is not None


# --------------------------------------------------------------------------- records


@pytest.fixture
def db(db_url):
    with open_database(db_url) as database:
        with database.transaction() as s:
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="R001",
                                                        enrolled_on=date(2025, 1, 1)))
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="R002",
                                                        enrolled_on=date(2025, 1, 1)))
        yield database


def _add(database, pseudonym="R001", now=NOON, **changes):
    """A prescription written ``now`` (default today at noon UTC)."""
    data = cohort_prescription().model_copy(update=changes)
    with database.transaction() as s:
        return repo.add_prescription(s, CLINICIAN, pseudonym, data, now=now)


def test_HAZ165_every_stored_prescription_has_a_review_date(db):
    row = _add(db, valid_from=TODAY)
    assert row.review_on == TODAY + timedelta(days=28)
    chosen = _add(db, valid_from=TODAY, review_on=TODAY + timedelta(days=14))
    assert chosen.review_on == TODAY + timedelta(days=14)
    with pytest.raises(InputError) as refused:
        _add(db, valid_from=TODAY - timedelta(days=30),
             review_on=TODAY - timedelta(days=2))
    assert refused.value.problems[0].path == "review_on"
    assert "not in the past" in refused.value.problems[0].expected


def test_an_imported_review_date_is_kept_even_when_past(db):
    past = TODAY - timedelta(days=3)
    data = cohort_prescription().model_copy(update={"valid_from": TODAY - timedelta(days=31),
                                                    "review_on": past})
    with db.transaction() as s:
        row = repo.add_prescription(s, CLINICIAN, "R001", data, now=NOON, historical=True)
    assert row.review_on == past


def test_HAZ165_due_list_has_overdue_undated_and_this_weeks_reviews_only(db):
    now = NOON - timedelta(days=40)
    overdue = _add(db, now=now, valid_from=TODAY - timedelta(days=40))  # review 12 days ago
    soon = _add(db, "R002", valid_from=TODAY - timedelta(days=20),
                review_on=TODAY + timedelta(days=5))
    _add(db, "R002", valid_from=TODAY - timedelta(days=20),
         review_on=TODAY + timedelta(days=20))  # not due this week
    ended = _add(db, now=now, valid_from=TODAY - timedelta(days=40),
                 valid_to=TODAY - timedelta(days=1))
    legacy = _add(db, "R002", valid_from=TODAY - timedelta(days=10))
    with db.transaction() as s:  # a row written before review dates existed
        s.execute(update(PrescriptionRecord).where(PrescriptionRecord.id == legacy.id)
                  .values(review_on=None))
    with db.transaction() as s:
        due = due_for_review(s, CLINICIAN, TODAY)
    ids = [d.prescription_id for d in due]
    assert ids == [legacy.id, overdue.id, soon.id] and ended.id not in ids
    words = {d.prescription_id: d.when_text for d in due}
    assert words[legacy.id] == "no review date set: review now"
    assert words[overdue.id] == "overdue by 12 days" and words[soon.id] == "due in 5 days"
    assert [d.overdue for d in due] == [True, True, False]
    with db.transaction() as s, pytest.raises(AccessDeniedError):
        due_for_review(s, Actor("res", "researcher"), TODAY)


def test_recording_a_review_sets_the_next_date_by_the_same_rule(db):
    row = _add(db, valid_from=TODAY - timedelta(days=40), now=NOON - timedelta(days=40))
    with db.transaction() as s:
        record_review(s, CLINICIAN, "R001", row.id, TODAY + timedelta(days=28), TODAY)
    with db.transaction() as s:
        assert due_for_review(s, CLINICIAN, TODAY) == []
    with db.transaction() as s, pytest.raises(InputError) as refused:
        record_review(s, CLINICIAN, "R001", row.id, TODAY + timedelta(days=100), TODAY)
    assert refused.value.problems[0].path == "next_review_on"
    with db.transaction() as s, pytest.raises(InputError):
        record_review(s, CLINICIAN, "R002", row.id, TODAY + timedelta(days=10), TODAY)


# --------------------------------------------------------------------------- command line


def _run(db_url: str, *args: str):
    result = runner.invoke(cli, [*args, "--db", db_url])
    return result.exit_code, result.output


def test_cli_prescription_add_takes_a_bounded_review_date(db_url):
    assert _run(db_url, "db", "init")[0] == 0
    enrolled = (date.today() - timedelta(days=20)).isoformat()
    assert _run(db_url, "patient", "add", "P001", "--enrolled-on", enrolled)[0] == 0
    code, out = _run(db_url, "prescription", "add", "P001", "conventional-tens", "--json")
    assert code == 0, out
    assert json.loads(out)["review_on"] == (date.today() + timedelta(days=28)).isoformat()
    wanted = (date.today() + timedelta(days=14)).isoformat()
    code, out = _run(db_url, "prescription", "add", "P001", "conventional-tens",
                     "--review-on", wanted, "--json")
    assert code == 0 and json.loads(out)["review_on"] == wanted
    for bad, words in ((date.today() + timedelta(days=100)).isoformat(), "within 12 weeks"), (
            "soon", "date"):
        code, out = _run(db_url, "prescription", "add", "P001", "conventional-tens",
                         "--review-on", bad, "--valid-from",
                         (date.today() - timedelta(days=2)).isoformat())
        assert code == 2 and "--review-on" in out and words in out, out
        assert "Traceback" not in out
    code, out = _run(db_url, "prescription", "add", "P001", "conventional-tens",
                     "--valid-from", (date.today() - timedelta(days=10)).isoformat(),
                     "--review-on", (date.today() - timedelta(days=1)).isoformat())
    assert code == 2 and "--review-on" in out and "not in the past" in out


# --------------------------------------------------------------------------- FHIR


def test_fhir_export_carries_the_review_date_and_import_keeps_it(tmp_path):
    from fhir.resources.R4B.devicerequest import DeviceRequest

    from stimwise.interop.fhir_export import export_bundle
    from stimwise.interop.fhir_import import import_bundle

    with open_database(f"sqlite:///{tmp_path / 'a.sqlite3'}") as source:
        with source.transaction() as s:
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="F001",
                                                        enrolled_on=date(2025, 1, 1)))
        review_on = date.today() + timedelta(days=21)
        _add(source, "F001", valid_from=date.today(), review_on=review_on)
        bundle = export_bundle(source, CLINICIAN, "F001")
    (request,) = [e["resource"] for e in bundle["entry"]
                  if e["resource"]["resourceType"] == "DeviceRequest"]
    DeviceRequest.model_validate(request)  # R4(B): an extension and a note are allowed
    values = {x["url"].rsplit("/", 1)[-1]: x for x in request["extension"]}
    assert values["review-on"]["valueDate"] == review_on.isoformat()
    assert review_on.isoformat() in request["note"][0]["text"]
    with open_database(f"sqlite:///{tmp_path / 'b.sqlite3'}") as target:
        with target.transaction() as s:
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="F001",
                                                        enrolled_on=date(2025, 1, 1)))
        import_bundle(target, CLINICIAN, bundle)
        with target.reading() as s:
            (row,) = repo.list_prescriptions(s, CLINICIAN, "F001")
    assert row.review_on == review_on
