"""Response dashboard: verdict and charts, the next-dose suggestion that only a clinician's
explicit acceptance turns into a prescription (HAZ-067), rejection recorded, n-of-1."""

from __future__ import annotations

import re

import pytest

from stimwise.protocol.io import validate_model
from stimwise.protocol.prescription import Prescription
from stimwise.records.inputs import LockedRanges
from stimwise.safety.plan import prescription_fingerprint
from stimwise.safety.verify import verify
from test_web_clinical_support import (
    NOTICE,
    audit_actions,
    form_token,
    prescription_count,
    prescriptions,
    synthetic_patient,
)
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]


@pytest.fixture
def person(app_client) -> str:
    pseudonym = synthetic_patient(app_client.app)
    login_as(app_client, "clinician")
    return pseudonym


def _suggestion(client, pseudonym: str) -> dict:
    board = client.get(f"/api/v1/patients/{pseudonym}/response")
    assert board.status_code == 200, board.text
    suggestion = board.json()["dose_suggestion"]
    assert suggestion["status"] == "suggested" and suggestion["requires_acceptance"]
    return suggestion


def test_dashboard_shows_verdict_charts_and_notice(app_client, person):
    board = app_client.get(f"/api/v1/patients/{person}/response").json()
    assert board["verdict"]["category"] in (
        "substantial", "moderate", "non_responder", "faded", "borderline")
    baseline = board["verdict"]["baseline"]["mean_nrs"]
    assert board["responder_cutoff_nrs"] == pytest.approx(baseline - max(2, 0.3 * baseline),
                                                          abs=1e-3)
    diary = board["charts"]["diary"]["traces"][0]
    assert len(diary["x"]) == len(diary["y"]) > 50
    page = app_client.get(f"/patients/{person}/response").text
    assert "Verdict: " + board["verdict"]["label"] in page
    assert page.count("data-plot=") == 3 and NOTICE in page
    assert "Accept: new prescription" in page and "not applied" in page
    assert "read_response" in audit_actions(app_client.app)


def test_HAZ067_looking_at_a_suggestion_changes_nothing(app_client, person):
    before = prescription_count(app_client.app)
    for _ in range(2):
        _suggestion(app_client, person)
        app_client.get(f"/patients/{person}/response")
    assert prescription_count(app_client.app) == before


def test_HAZ067_only_a_clinician_can_accept(app_client, person):
    fingerprint = _suggestion(app_client, person)["plan_fingerprint"]
    before = prescription_count(app_client.app)
    login_as(app_client, "researcher")
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": fingerprint})
    assert answer.status_code == 403
    assert "Accept: new prescription" not in app_client.get(f"/patients/{person}/response").text
    login_as(app_client, "patient", patient=person)
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": fingerprint})
    assert answer.status_code == 403
    assert prescription_count(app_client.app) == before


def test_HAZ067_accepting_a_different_suggestion_is_refused(app_client, person):
    _suggestion(app_client, person)
    before = prescription_count(app_client.app)
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": "0" * 64})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "plan_fingerprint"
    other_seed = _suggestion(app_client, person)["plan_fingerprint"]
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": other_seed, "seed": 12345})
    # Seed 12345 draws a different dose for this fixed person (deterministic), so the
    # fingerprint shown under the default seed no longer matches and nothing is stored.
    assert answer.status_code == 422
    assert prescription_count(app_client.app) == before


def test_HAZ067_accepting_stores_the_verified_suggestion(app_client, person):
    suggestion = _suggestion(app_client, person)
    before = prescriptions(app_client.app)
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": suggestion["plan_fingerprint"]})
    assert answer.status_code == 201, answer.text
    after = prescriptions(app_client.app)
    assert len(after) == len(before) + 1
    new = after[-1]
    assert new.id == answer.json()["prescription_id"]
    assert new.fingerprint == suggestion["plan_fingerprint"]
    rx = validate_model(Prescription, new.prescription)
    assert prescription_fingerprint(rx) == new.fingerprint and verify(rx).plan is not None
    assert rx.max_amplitude_ma == pytest.approx(suggestion["dose"]["amplitude_ma"])
    locked = LockedRanges.model_validate(new.locked_ranges)
    assert locked.amplitude_ma.max <= rx.max_amplitude_ma  # narrowed, never widened
    assert new.prescribed_by == "clinician-1"
    assert "accept_dose_proposal" in audit_actions(app_client.app)


def test_reject_is_recorded_and_changes_nothing(app_client, person):
    fingerprint = _suggestion(app_client, person)["plan_fingerprint"]
    before = prescription_count(app_client.app)
    answer = app_client.post(f"/api/v1/patients/{person}/response/reject",
                             json={"plan_fingerprint": fingerprint})
    assert answer.status_code == 200 and answer.json() == {"status": "rejected"}
    assert prescription_count(app_client.app) == before
    assert "reject_dose_proposal" in audit_actions(app_client.app)


def test_accept_and_reject_through_the_page_forms(app_client, person):
    app_client.headers.pop("X-CSRF-Token")
    page = app_client.get(f"/patients/{person}/response").text
    fingerprint = re.search(r'name="plan_fingerprint" value="([0-9a-f]{64})"', page).group(1)
    token = form_token(app_client, f"/patients/{person}/response")
    refused = app_client.post(f"/patients/{person}/response/accept",
                              data={"plan_fingerprint": fingerprint})
    assert refused.status_code == 403  # no CSRF token
    done = app_client.post(f"/patients/{person}/response/reject",
                           data={"csrf_token": token, "plan_fingerprint": fingerprint})
    assert done.status_code == 303 and done.headers["location"].endswith("done=rejected")
    before = prescription_count(app_client.app)
    done = app_client.post(f"/patients/{person}/response/accept",
                           data={"csrf_token": token, "plan_fingerprint": fingerprint})
    assert done.status_code == 303
    assert prescription_count(app_client.app) == before + 1
    assert "accepted and stored" in app_client.get(done.headers["location"]).text


def test_no_suggestion_without_locked_ranges(app_client):
    from test_web_clinical_support import screened_patient

    login_as(app_client, "clinician")
    screened_patient(app_client)
    board = app_client.get("/api/v1/patients/DEMO-CRPS-01/response").json()
    assert board["dose_suggestion"]["status"] == "none"
    assert board["verdict"]["category"] == "not_enough_data"
    answer = app_client.post("/api/v1/patients/DEMO-CRPS-01/response/accept",
                             json={"plan_fingerprint": "a" * 64})
    assert answer.status_code == 422
    page = app_client.get("/patients/DEMO-CRPS-01/response").text
    assert "not enough data yet" in page
    assert "Diary: nothing recorded yet." in page and "data-plot=" not in page


def test_nof1_analysis_page_and_api(app_client, person):
    query = {"treatment_a": "conventional-tens", "treatment_b": "no stimulation",
             "start": "2026-01-05", "pairs": "3", "period_days": "7"}
    page = app_client.get(f"/patients/{person}/nof1", params=query)
    assert page.status_code == 200 and "Result: " in page.text
    bad = app_client.get(f"/patients/{person}/nof1", params={**query, "pairs": "many"})
    assert bad.status_code == 422 and 'href="#field-pairs"' in bad.text
    api = app_client.post(f"/api/v1/patients/{person}/nof1", json={**query, "pairs": 2})
    assert api.status_code == 200
    assert len(api.json()["plan"]["periods"]) == 4
    assert "verdict" in api.json()["result"]


def test_HAZ112_no_suggestion_before_enough_answered_sessions(app_client):
    """Issue 17, defect 6: with 0 answered sessions the tuner proposed the ceiling ("expected
    relief 0.0 ± 2.0"); now the page and the API say what is missing instead."""
    from test_web_clinical_support import CRPS, screened_patient
    from test_web_prescribing import crps_draft

    login_as(app_client, "clinician")
    screened_patient(app_client)
    home = dict(crps_draft(app_client), home_use=True, max_amplitude_ma=5, amplitude_ma_min=1,
                amplitude_ma_max=5)
    assert app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=home).status_code == 201
    suggestion = app_client.get(f"/api/v1/patients/{CRPS}/response").json()["dose_suggestion"]
    assert suggestion["status"] == "none"
    assert suggestion["reason"].startswith("no suggestion yet: 0 of the 3 sessions")
    page = app_client.get(f"/patients/{CRPS}/response").text
    assert "no suggestion yet: 0 of the 3 sessions" in page
    assert "Accept: new prescription" not in page


def test_HAZ111_an_accepted_suggestion_supersedes_the_prescription_it_replaces(
        app_client, person):
    """Issue 17, defect 6: accepting left two active prescriptions, the old one without an end."""
    from datetime import UTC, datetime

    from stimwise.records.access import Actor
    from stimwise.records.repository import list_prescriptions

    suggestion = _suggestion(app_client, person)
    answer = app_client.post(f"/api/v1/patients/{person}/response/accept",
                             json={"plan_fingerprint": suggestion["plan_fingerprint"]})
    assert answer.status_code == 201, answer.text
    new_id = answer.json()["prescription_id"]
    today = datetime.now(UTC).date()
    with app_client.app.state.db.reading() as session:
        active = list_prescriptions(session, Actor("t", "clinician"), person, valid_on=today)
        every = list_prescriptions(session, Actor("t", "clinician"), person)
    assert [row.id for row in active] == [new_id]
    old = [row for row in every if row.id != new_id]
    assert old and all(row.superseded_by_id == new_id and row.superseded_at for row in old)
    assert "supersede" in audit_actions(app_client.app)
    history = app_client.get(f"/patients/{person}/prescriptions").text
    assert "(replaced)" in history and f"#{new_id}" not in history  # no ids on pages
