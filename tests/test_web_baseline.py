"""Issue 17, defect 5 on the web: the response page says exactly what the verdict still needs;
a clinician records the baseline (recalled days, a therapy start with its reason) on the
baseline page or through the API; patients and researchers cannot; recalled days are marked on
the diary page, in the API and in the CSV export."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from baseline_people import enrolment_day_person, steady_diary
from test_web_clinical_support import audit_actions, form_token
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]

TODAY = datetime.now(UTC).date()


def shown(day) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def trial_person(app_client) -> str:
    """Enrolled 62 days ago with a fitting-trial session that day, a diary since, and daily
    sessions from day 14 on: no diary baseline before the first session."""
    enrolled = TODAY - timedelta(days=62)
    diary = {**steady_diary(0, 13, 7), **steady_diary(14, 61, 3, seed=1)}
    enrolment_day_person(app_client.app.state.db, "WEB-TRIAL", enrolled, diary,
                         [0, *range(14, 62)])
    login_as(app_client, "clinician")
    return "WEB-TRIAL"


@pytest.fixture
def new_person(app_client) -> str:
    """Enrolled yesterday with a session that day: the baseline can still be recalled."""
    enrolment_day_person(app_client.app.state.db, "WEB-NEW", TODAY - timedelta(days=1), {},
                         [0])
    login_as(app_client, "clinician")
    return "WEB-NEW"


def test_HAZ123_the_response_page_says_what_is_missing_and_a_therapy_start_gives_a_verdict(
        app_client, trial_person):
    enrolled = TODAY - timedelta(days=62)
    board = app_client.get(f"/api/v1/patients/{trial_person}/response").json()
    assert board["verdict"]["category"] == "not_enough_data"
    text = (f"baseline: 7 more days with a pain score between {shown(enrolled - timedelta(14))} "
            f"and {shown(enrolled - timedelta(1))} (0 of the 7 needed)")
    page = app_client.get(f"/patients/{trial_person}/response").text
    assert text in page and 'id="record-baseline"' in page
    # the baseline window lies before enrolment, more than 14 days ago: no recall possible
    answer = app_client.post(f"/api/v1/patients/{trial_person}/baseline/recalled-days", json={
        "days": [{"day": (enrolled - timedelta(1)).isoformat(), "pain_average_nrs": 7}]})
    assert answer.status_code == 422
    assert "at most 14 days ago" in answer.json()["problems"][0]["expected"]
    baseline_page = app_client.get(f"/patients/{trial_person}/baseline").text
    assert text in baseline_page and "cannot be recalled" in baseline_page
    start = enrolled + timedelta(days=14)
    token = form_token(app_client, f"/patients/{trial_person}/baseline")
    refused = app_client.post(f"/patients/{trial_person}/baseline/start", data={
        "csrf_token": token, "therapy_start_on": start.isoformat(), "reason": ""})
    assert refused.status_code == 422 and "Why</a>: why therapy starts after" in refused.text
    reason = "fitting trial on the enrolment day; baseline diary for two weeks"
    saved = app_client.post(f"/patients/{trial_person}/baseline/start", data={
        "csrf_token": token, "therapy_start_on": start.isoformat(), "reason": reason},
        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=start")
    board = app_client.get(f"/api/v1/patients/{trial_person}/response").json()
    assert board["verdict"]["category"] == "substantial", board["verdict"]["reasons"]
    assert board["therapy_start"] == start.isoformat() and board["sessions_before_start"] == 1
    assert board["therapy_start_set"]["reason"] == reason
    page = app_client.get(f"/patients/{trial_person}/response?done=start").text
    assert "Verdict: substantial responder" in page and reason in page
    assert "1 earlier session left out of the analysis" in page
    assert "set_therapy_start" in audit_actions(app_client.app)
    report = app_client.get(f"/api/v1/patients/{trial_person}/reports/progress").json()
    assert report["therapy_start_note"] == (
        f"set by clinician-1: {reason}; 1 earlier session left out of the analysis")
    assert app_client.get(f"/patients/{trial_person}/report.pdf").status_code == 200


def test_HAZ122_recalled_days_on_the_baseline_page_are_stored_marked_and_counted(
        app_client, new_person):
    days = [TODAY - timedelta(days=d) for d in range(2, 9)]  # the week before enrolment
    token = form_token(app_client, f"/patients/{new_person}/baseline")
    bad = app_client.post(f"/patients/{new_person}/baseline/recalled", data={
        "csrf_token": token, f"pain-{days[0].isoformat()}": "11"})
    assert bad.status_code == 422 and "a whole number from 0 to 10" in bad.text
    form = {"csrf_token": token, **{f"pain-{d.isoformat()}": "7" for d in days}}
    saved = app_client.post(f"/patients/{new_person}/baseline/recalled", data=form,
                            follow_redirects=False)
    assert saved.status_code == 303, saved.text
    status = app_client.get(f"/api/v1/patients/{new_person}/baseline").json()
    recalled = [d for d in status["days"] if d["recalled"]]
    assert [d["day"] for d in recalled] == sorted(d.isoformat() for d in days)
    assert [m["kind"] for m in status["missing"]] == ["too_early"]  # the baseline is complete
    first_verdict = TODAY + timedelta(days=40)
    assert f"the first verdict can be given on {shown(first_verdict)}" in status["missing"][0][
        "text"]
    again = app_client.post(f"/api/v1/patients/{new_person}/baseline/recalled-days", json={
        "days": [{"day": days[0].isoformat(), "pain_average_nrs": 5}]})
    assert again.status_code == 422
    assert "without a pain score in the diary" in again.json()["problems"][0]["expected"]
    diary_page = app_client.get(f"/patients/{new_person}/diary").text
    assert diary_page.count("recalled afterwards") == 7
    entries = app_client.get(f"/api/v1/patients/{new_person}/diary").json()
    assert sum(e["retrospective"] for e in entries) == 7
    export = app_client.get(f"/api/v1/patients/{new_person}/export.csv.zip")
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        diary_csv = archive.read(f"{new_person}/diary.csv").decode()
    assert diary_csv.splitlines()[0].endswith(",retrospective")
    assert diary_csv.count(",true") == 7


def test_HAZ122_only_clinicians_record_the_baseline(app_client, new_person):
    day = (TODAY - timedelta(days=1)).isoformat()
    for role in ("patient", "researcher"):
        login_as(app_client, role, patient="WEB-NEW" if role == "patient" else None)
        answer = app_client.post(f"/api/v1/patients/{new_person}/baseline/recalled-days",
                                 json={"days": [{"day": day, "pain_average_nrs": 6}]})
        assert answer.status_code == 403, (role, answer.text)
        answer = app_client.put(f"/api/v1/patients/{new_person}/therapy-start",
                                json={"therapy_start_on": TODAY.isoformat()})
        assert answer.status_code == 403, (role, answer.text)
    login_as(app_client, "researcher")
    page = app_client.get(f"/patients/{new_person}/baseline").text
    assert "Store recalled days" not in page and "Save the therapy start" not in page


def test_extreme_dates_are_refused_with_a_reason_not_a_server_error(app_client, new_person):
    for day in ("0001-01-01", "9999-12-31"):
        answer = app_client.post(f"/api/v1/patients/{new_person}/baseline/recalled-days",
                                 json={"days": [{"day": day, "pain_average_nrs": 5}]})
        assert answer.status_code == 422, answer.text
        answer = app_client.put(f"/api/v1/patients/{new_person}/therapy-start",
                                json={"therapy_start_on": day, "reason": "x"})
        assert answer.status_code == 422, answer.text
