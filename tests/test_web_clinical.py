"""Clinician pages and API: the screening with its body-site map, recommendations, roles, and
the freshness of the screening (HAZ-069). The intake page: ``test_web_intake_page.py``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from stimwise.web.services.wording import day_text
from test_web_clinical_support import (
    CRPS,
    NOTICE,
    audit_actions,
    example_intake,
    screened_patient,
)
from web_fixtures import ensure_patient, login_as

pytest_plugins = ["web_fixtures"]


def test_screening_page_shows_decision_sources_and_body_map(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    page = app_client.get(f"/patients/{CRPS}/screening").text
    assert "Decision: Eligible with precautions" in page
    today = datetime.now(UTC).date()
    assert f"Assessed on {today.day} {today:%B %Y}" in page  # a date in words, not ISO
    assert "Why, and sources" in page and "<cite>" in page
    assert '<svg class="body-map"' in page
    hand = re.search(r'<rect class="([^"]+)"[^>]*data-site="left_hand_dorsal"', page).group(1)
    assert "site-forbidden" in hand and "site-allodynic" in hand
    right = re.search(r'<rect class="([^"]+)"[^>]*data-site="right_forearm_volar"', page).group(1)
    assert right.split() == ["site", "site-allowed"]
    assert "Left hand, back: forbidden" in page  # the shape's title names site and status
    assert NOTICE in page
    assert "read_intake" in audit_actions(app_client.app)


def test_insensate_sites_are_marked(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client, "diabetic-neuropathy-insensate-feet", "DEMO-DPN-01")
    screening = app_client.get("/api/v1/patients/DEMO-DPN-01/screening").json()
    assert screening["sites"]["left_foot_plantar"]["sensation"] == "absent"
    page = app_client.get("/patients/DEMO-DPN-01/screening").text
    assert re.search(r'class="[^"]*site-absent[^"]*"[^>]*data-site="left_foot_plantar"', page)


def test_recommendations_page_lists_verified_suggestions(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    page = app_client.get(f"/patients/{CRPS}/recommendations").text
    assert "#1 " in page and "Prescribe this" in page
    assert "none promises relief" in page and NOTICE in page
    api = app_client.get(f"/api/v1/patients/{CRPS}/recommendations").json()
    assert api["recommendations"][0]["safety_verdict"] in ("pass", "warn")


def test_api_intake_for_another_pseudonym_is_refused(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, CRPS)
    answer = app_client.post(f"/api/v1/patients/{CRPS}/intakes",
                             json=example_intake(patient="SOMEONE-ELSE"))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "patient_id"


def test_api_intake_bad_field_is_named(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, CRPS)
    data = example_intake()
    data["cardiac"]["arrhythmia"] = "maybe"
    answer = app_client.post(f"/api/v1/patients/{CRPS}/intakes", json=data)
    assert answer.status_code == 422
    assert any(p["path"].endswith("cardiac.arrhythmia") for p in answer.json()["problems"])


def test_roles_on_the_clinical_pages(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    login_as(app_client, "researcher")
    assert app_client.get(f"/patients/{CRPS}/screening").status_code == 200
    assert app_client.get(f"/patients/{CRPS}/intake").status_code == 403
    assert app_client.post(f"/api/v1/patients/{CRPS}/intakes",
                           json=example_intake()).status_code == 403
    login_as(app_client, "patient", patient="P001")
    assert app_client.get(f"/api/v1/patients/{CRPS}/screening").status_code == 403
    assert app_client.get(f"/patients/{CRPS}/screening").status_code == 403


def test_HAZ069_prescription_needs_the_latest_screening(app_client):
    login_as(app_client, "clinician")
    first = screened_patient(app_client)
    screened_patient(app_client)  # the intake changed after the editor was opened
    from test_web_prescribing import crps_draft

    draft = crps_draft(app_client, intake_id=first["intake_id"])
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert problem["path"] == "intake_id" and "intake changed" in problem["expected"]


def test_HAZ069_old_screening_is_not_prescribed_from_and_its_date_is_shown(app_client):
    login_as(app_client, "clinician")
    old = (datetime.now(UTC).date() - timedelta(days=120)).isoformat()
    view = screened_patient(app_client, assessed_on=old)
    assert not view["usable_for_prescribing"] and "120 days old" in view["stale_reasons"][0]
    page = app_client.get(f"/patients/{CRPS}/prescribe").text
    shown = day_text(date.fromisoformat(old))  # "8 Aug 2026", as the page writes dates
    assert f"Screening of {shown}" in page and "Cannot prescribe" in page
    from test_web_prescribing import crps_draft

    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                             json=crps_draft(app_client, intake_id=view["intake_id"]))
    assert answer.status_code == 422 and "days old" in answer.json()["problems"][0]["expected"]


def test_HAZ069_screening_made_with_other_rules_must_be_redone(app_client):
    from sqlalchemy import update

    from stimwise.records.models import IntakeRecord
    from test_web_prescribing import crps_draft

    login_as(app_client, "clinician")
    view = screened_patient(app_client)
    stored = dict(view["screening"], rules_version="2020.1-1 (older rules)")
    with app_client.app.state.db.transaction() as session:
        session.execute(update(IntakeRecord).values(screening=stored))
    again = app_client.get(f"/api/v1/patients/{CRPS}/screening").json()
    assert not again["usable_for_prescribing"]
    assert "rule book changed" in again["stale_reasons"][0]
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions",
                             json=crps_draft(app_client))
    assert answer.status_code == 422
    assert "rule book changed" in answer.json()["problems"][0]["expected"]


def test_the_hf_ems_placement_names_each_site_once(app_client):
    """Issue 17, defect 9: 'right thigh anterior + right thigh anterior + right thigh
    posterior' on the recommendations page."""
    login_as(app_client, "clinician")
    screened_patient(app_client, "cipn-hands-feet", "DEMO-CIPN-01")
    page = app_client.get("/patients/DEMO-CIPN-01/recommendations").text
    assert "right thigh: right thigh anterior (2 electrodes) + right thigh posterior" in page
    assert "right thigh anterior + right thigh anterior" not in page
