"""The clinicians' inbox (issue 17, defect 4): a patient's problem report reaches the clinician
with its description, is counted in the header until acknowledged, links to the patient, and
its description shows on the patient's pages and in the reports."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from stimwise.records.models import AuditEntry
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]

DESCRIPTION = "red itchy patch under the lower electrode, still there next morning"


def report_problem(app) -> None:
    patient = TestClient(app, follow_redirects=False)
    login_as(patient, "patient", "P001")
    token = patient.headers.pop("X-CSRF-Token")
    sent = patient.post("/diary/problem", data={
        "csrf_token": token, "kind": "skin_irritation", "severity": "mild",
        "body_site": "left_calf", "occurred_at": "2026-01-10T20:00", "tz_offset_min": "0",
        "description": DESCRIPTION})
    assert sent.status_code == 303, sent.text


def test_HAZ119_a_patients_problem_report_reaches_the_clinicians_inbox(app_client):
    login_as(app_client, "clinician")
    assert 'id="inbox-link">Inbox</a>' in app_client.get("/patients").text  # nothing new
    report_problem(app_client.app)
    header = app_client.get("/patients").text
    assert 'aria-label="1 unread">1</span>' in header
    page = app_client.get("/inbox").text
    assert DESCRIPTION in page and 'href="/patients/P001"' in page
    api = app_client.get("/api/v1/inbox").json()
    assert api["unread"] == 1 and api["items"][0]["description"] == DESCRIPTION
    # The description is on the patient's pages and in the progress report.
    assert DESCRIPTION in app_client.get("/patients/P001/diary").text
    assert DESCRIPTION in app_client.get("/patients/P001/report").text
    report = app_client.get("/api/v1/patients/P001/reports/progress").json()
    assert report["adverse_events"][0]["description"] == DESCRIPTION
    # Acknowledged: it leaves the inbox and the header count, and the audit log has it.
    event_id = api["items"][0]["id"]
    answer = app_client.post(f"/api/v1/inbox/{event_id}/acknowledge")
    assert answer.status_code == 204
    assert app_client.get("/api/v1/inbox").json() == {"unread": 0, "items": []}
    assert "unread" not in app_client.get("/patients").text
    assert "acknowledged by clinician-1" in app_client.get("/patients/P001/diary").text
    with app_client.app.state.db.reading() as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.record_type)).all()
    assert ("acknowledge", "adverse_event") in actions


def test_the_inbox_is_for_clinicians_and_their_own_records_need_no_acknowledging(app_client):
    login_as(app_client, "clinician")
    recorded = app_client.post("/api/v1/patients/P002/adverse-events", json={
        "occurred_at": "2026-01-10T20:00:00+00:00", "kind": "soreness", "severity": "mild"})
    assert recorded.status_code in (201, 404), recorded.text
    assert app_client.get("/api/v1/inbox").json()["unread"] == 0
    assert app_client.post("/api/v1/inbox/999/acknowledge").status_code == 422
    login_as(app_client, "patient", "P001")
    assert app_client.get("/api/v1/inbox").status_code == 403
    assert app_client.get("/inbox").status_code == 403
