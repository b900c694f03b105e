"""Prescription editor and API: only verified prescriptions are stored (HAZ-065), home-use
ranges are verified at every corner (HAZ-066), waveform views, and bad input answers 422."""

from __future__ import annotations

import html
from datetime import date, timedelta

from stimwise.protocol.io import validate_model
from stimwise.protocol.prescription import Prescription
from stimwise.safety.plan import prescription_fingerprint
from stimwise.safety.verify import verify
from stimwise.web.deps import STATIC_DIR
from test_web_clinical_support import (
    CRPS,
    form_fields,
    prescription_count,
    prescriptions,
    screened_patient,
)
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]


def crps_draft(client, intake_id: int | None = None, **changes) -> dict:
    """The top recommendation of the screened CRPS patient as an editor draft."""
    top = client.get(f"/api/v1/patients/{CRPS}/recommendations").json()["recommendations"][0]
    channels = [
        {"label": ch["label"], "active_site": ch["electrodes"][0]["site"],
         "return_site": ch["electrodes"][1]["site"], "area_cm2": ch["electrodes"][0]["area_cm2"]}
        for ch in top["placement"]["channels"]
    ]
    rx = top["prescription"]
    draft = {
        "intake_id": intake_id or client.get(
            f"/api/v1/patients/{CRPS}/screening").json()["intake_id"],
        "protocol_id": top["protocol_id"],
        "channels": channels,
        "max_amplitude_ma": rx["max_amplitude_ma"],
        "session_duration_min": rx["session_duration_min"],
        "valid_from": "2026-01-01",
        "review_on": (date.today() + timedelta(days=28)).isoformat(),
    }
    return {**draft, **changes}


def _forbidden_site_draft(client) -> dict:
    draft = crps_draft(client)
    draft["channels"][0]["active_site"] = "left_hand_dorsal"  # allodynic skin: forbidden
    return draft


def test_verify_returns_report_and_waveform_views(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify",
                             json=crps_draft(app_client))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] in ("pass", "warn") and body["storable"]
    pulse = body["waveform"]["pulse"]["traces"][0]
    assert len(pulse["x"]) == len(pulse["y"]) > 10
    draft = crps_draft(app_client)
    assert max(abs(v) for v in pulse["y"]) <= draft["max_amplitude_ma"] + 1e-6
    assert prescription_count(app_client.app) == 0  # verifying stores nothing


def test_HAZ065_blocked_prescription_is_never_stored(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = _forbidden_site_draft(app_client)
    checked = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=draft).json()
    assert checked["verdict"] == "block" and not checked["storable"]
    assert checked["safety"]["fingerprint"] is None
    stored = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert stored.status_code == 409
    assert "patient.forbidden-site" in stored.json()["message"]
    assert prescription_count(app_client.app) == 0


def test_HAZ065_stored_prescription_is_the_verified_plan(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    stored = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=crps_draft(app_client))
    assert stored.status_code == 201, stored.text
    row = prescriptions(app_client.app)[0]
    assert row.fingerprint == stored.json()["evaluation"]["safety"]["fingerprint"]
    rx = validate_model(Prescription, row.prescription)
    assert prescription_fingerprint(rx) == row.fingerprint
    assert verify(rx, caps=None).plan is not None


def test_HAZ065_blocked_form_submission_stores_nothing(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    fields = form_fields(app_client.get(f"/patients/{CRPS}/prescribe").text)
    fields["channels.0.active_site"] = ["left_hand_dorsal"]
    fields["action"] = ["save"]
    app_client.headers.pop("X-CSRF-Token")
    answer = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert answer.status_code == 409
    assert "Not stored" in answer.text and "BLOCK" in answer.text
    assert prescription_count(app_client.app) == 0
    fields["channels.0.active_site"] = form_fields(
        app_client.get(f"/patients/{CRPS}/prescribe").text)["channels.0.active_site"]
    saved = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert saved.status_code == 303 and "/prescriptions?saved=" in saved.headers["location"]
    assert prescription_count(app_client.app) == 1


def test_HAZ066_amplitude_range_above_prescription_is_refused(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = crps_draft(app_client)
    draft.update(home_use=True, amplitude_ma_min=1, amplitude_ma_max=draft["max_amplitude_ma"] + 5)
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "amplitude_ma_max"
    assert prescription_count(app_client.app) == 0


def _ranged(client, **ranges) -> dict:
    draft = crps_draft(client)
    return dict(draft, home_use=True, amplitude_ma_min=1,
                amplitude_ma_max=draft["max_amplitude_ma"], **ranges)


def test_HAZ066_every_corner_of_the_ranges_is_verified(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = _ranged(app_client)
    low = draft["session_duration_min"]
    alone = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify",
                            json=dict(draft, session_duration_min=300)).json()
    assert alone["verdict"] == "block"  # the upper corner alone is blocked (session cap) ...
    answer = app_client.post(
        f"/api/v1/patients/{CRPS}/prescriptions",
        json=dict(draft, session_duration_min_min=low, session_duration_min_max=300))
    assert answer.status_code == 422  # ... so a range reaching it is refused
    problem = answer.json()["problems"][0]
    assert problem["path"] == "session_duration_min_max"
    assert "session-length.cap" in problem["expected"]
    assert prescription_count(app_client.app) == 0


def test_HAZ066_range_reaching_an_invalid_dose_is_refused(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = _ranged(app_client)
    answer = app_client.post(
        f"/api/v1/patients/{CRPS}/prescriptions",
        json=dict(draft, session_duration_min_min=draft["session_duration_min"],
                  session_duration_min_max=600))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "session_duration_min_max"
    assert prescription_count(app_client.app) == 0


def test_range_must_hold_the_prescribed_value(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                             json=_ranged(app_client, frequency_hz_min=120, frequency_hz_max=150))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "frequency_hz_max"


def test_home_use_with_verified_ranges_is_stored(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = crps_draft(app_client)
    draft.update(home_use=True, amplitude_ma_min=1, amplitude_ma_max=draft["max_amplitude_ma"])
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert answer.status_code == 201, answer.text
    history = app_client.get(f"/api/v1/patients/{CRPS}/prescriptions").json()
    assert history[0]["home_use"] and history[0]["locked"].startswith("strength 1–")


def test_home_use_refused_on_sites_the_screening_bars_from_home_use(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = _ranged(app_client)
    site = draft["channels"][0]["return_site"]
    intake = screened_patient(app_client, sensation=[{"site": site, "status": "absent"}])
    assert site in intake["screening"]["home_use_forbidden_sites"]
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                             json=dict(draft, intake_id=intake["intake_id"]))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "home_use"
    assert prescription_count(app_client.app) == 0


def test_bad_input_is_422_with_the_field_named(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    for change, path in (({"max_amplitude_ma": "lots"}, "max_amplitude_ma"),
                         ({"protocol_id": "no-such"}, "protocol_id"),
                         ({"channels": [{"label": "x", "active_site": "elbow", "return_site":
                                         "left_elbow", "area_cm2": 25}]},
                          "channels.0.active_site")):
        answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify",
                                 json=crps_draft(app_client, **change))
        assert answer.status_code == 422, answer.text
        assert path in [p["path"] for p in answer.json()["problems"]]
    fields = form_fields(app_client.get(f"/patients/{CRPS}/prescribe").text)
    fields["max_amplitude_ma"] = ["lots"]
    fields["action"] = ["preview"]
    page = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert page.status_code == 422 and 'href="#field-max_amplitude_ma"' in page.text


def test_editor_page_draws_and_reports(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    page = app_client.get(f"/patients/{CRPS}/prescribe?rank=1").text
    assert "Safety verification:" in page and 'data-plot=' in page
    assert '/static/plots.js' in page and "<script>" not in page  # CSP: no inline script
    assert app_client.get("/api/v1/protocols/burst-tens/waveform").status_code == 200
    assert app_client.get("/api/v1/protocols/nope/waveform").status_code == 422


def test_researcher_and_patient_cannot_prescribe(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = crps_draft(app_client)
    login_as(app_client, "researcher")
    assert app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft).status_code == 403
    assert app_client.get(f"/patients/{CRPS}/prescribe").status_code == 403
    login_as(app_client, "patient", patient=CRPS)
    assert app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft).status_code == 403
    assert prescription_count(app_client.app) == 0


def test_extreme_draft_is_drawn_in_bounded_memory(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = crps_draft(app_client, phase_width_us=0.001)  # needs a 2 GHz sample rate
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=draft)
    assert answer.status_code == 200, answer.text
    second = answer.json()["waveform"]["second"]
    assert second["title"].startswith("the first ")  # a shorter window, not 2e9 samples
    assert all(len(t["x"]) <= 2000 for t in second["traces"])


def test_stored_prescription_page_reverifies_and_draws(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    stored = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                             json=crps_draft(app_client)).json()
    detail = app_client.get(f"/api/v1/patients/{CRPS}/prescriptions/{stored['id']}").json()
    assert detail["fingerprint_matches"] and detail["verdict"] in ("pass", "warn")
    assert detail["safety"]["fingerprint"] == stored["evaluation"]["safety"]["fingerprint"]
    assert detail["waveform"]["envelope"]["traces"]
    listing = app_client.get(f"/patients/{CRPS}/prescriptions").text
    assert f'href="/patients/{CRPS}/prescriptions/{stored["id"]}"' in listing
    page = app_client.get(f"/patients/{CRPS}/prescriptions/{stored['id']}").text
    assert "matches the prescription" in page and page.count("data-plot=") == 3
    missing = app_client.get(f"/api/v1/patients/{CRPS}/prescriptions/999")
    assert missing.status_code == 422
    assert missing.json()["problems"][0]["path"] == "prescription_id"


def test_HAZ120_one_home_amplitude_rule_in_hint_check_and_refusal(app_client):
    """Issue 17, defect 7: the hint said "at most the prescribed amplitude" while a top below
    it was refused (the range had to hold the prescribed value); now one rule, one text."""
    from stimwise.records.inputs import HOME_AMPLITUDE_RULE

    login_as(app_client, "clinician")
    screened_patient(app_client)
    ceiling = crps_draft(app_client)["max_amplitude_ma"]
    below = crps_draft(app_client, home_use=True, amplitude_ma_min=1,
                       amplitude_ma_max=ceiling - 1)
    checked = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=below)
    assert checked.json()["storable"], checked.json()["range_problems"]
    assert app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                           json=below).status_code == 201
    above = dict(below, amplitude_ma_max=ceiling + 1)
    checked = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=above).json()
    assert not checked["storable"]
    assert HOME_AMPLITUDE_RULE in checked["range_problems"][0]["expected"]
    refused = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=above)
    assert refused.status_code == 422
    assert HOME_AMPLITUDE_RULE in refused.json()["problems"][0]["expected"]
    page = app_client.get(f"/patients/{CRPS}/prescribe").text
    assert html.escape(HOME_AMPLITUDE_RULE) in page
    script = (STATIC_DIR / "prescribe.js").read_text(encoding="utf-8")
    assert "cannot be stored yet" in script and "(it cannot be stored)" not in script
