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
    assert app_client.get("/api/v1/inbox").json() == {
        "unread": 0, "items": [], "flagged_sessions": []}
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


def log_flagged_session(app) -> None:
    """P001, on a home prescription locked to 80-100 Hz, logs a 150 Hz session on their own
    device (issue 14: stored flagged, with the reason)."""
    from datetime import UTC, date, datetime

    from stimwise.protocol.library import get_protocol
    from stimwise.protocol.prescription import Prescription
    from stimwise.records.access import Actor
    from stimwise.records.inputs import LockedRanges, PrescriptionIn, ValueSpan
    from stimwise.records.repository import add_prescription
    from stimwise.records.self_logged import log_self_session
    from web_fixtures import ensure_patient

    ensure_patient(app, "P001")
    with app.state.db.transaction() as session:
        add_prescription(session, Actor("dr", "clinician"), "P001", PrescriptionIn(
            prescription=Prescription.from_protocol(get_protocol("crps-gentle-sensory")),
            home_use=True, valid_from=date(2025, 1, 1), prescribed_by="dr",
            locked_ranges=LockedRanges(amplitude_ma=ValueSpan(min=2, max=8),
                                       frequency_hz=ValueSpan(min=80, max=100))))
        log_self_session(session, Actor("pt-P001", "patient", "P001"), "P001", {
            "started_at": datetime(2026, 2, 2, 9, tzinfo=UTC).isoformat(), "minutes": 20,
            "profile": "twin-stim-plus-3", "as_prescribed": False, "programme": "N",
            "settings": {"frequency_hz": 150}, "nrs_pre": 6, "nrs_post": 4})


def test_HAZ124_a_flagged_self_logged_session_waits_in_the_inbox_until_acknowledged(
        app_client):
    login_as(app_client, "clinician")
    log_flagged_session(app_client.app)
    assert 'aria-label="1 unread">1</span>' in app_client.get("/patients").text
    api = app_client.get("/api/v1/inbox").json()
    (flagged,) = api["flagged_sessions"]
    assert api["unread"] == 1 and api["items"] == []
    assert "pulse rate 150 Hz outside the prescribed 80–100 Hz" in flagged["reasons"]
    assert flagged["pseudonym"] == "P001" and "pulse rate 150 Hz" in flagged["settings"]
    page = app_client.get("/inbox").text
    assert "Self-logged session outside the prescription" in page
    assert "pulse rate 150 Hz outside the prescribed 80–100 Hz" in page
    assert 'href="/patients/P001"' in page and "twin-stim-plus-3" not in page  # device name
    login_as(app_client, "patient", "P001")  # the person cannot acknowledge it
    assert app_client.post(f"/api/v1/inbox/sessions/{flagged['id']}/acknowledge"
                           ).status_code == 403
    login_as(app_client, "clinician")
    token = app_client.headers["X-CSRF-Token"]
    done = app_client.post("/inbox/acknowledge-session", follow_redirects=False,
                           data={"csrf_token": token, "session_id": flagged["id"]})
    assert done.status_code == 303
    assert app_client.get("/api/v1/inbox").json()["unread"] == 0
    assert "unread" not in app_client.get("/patients").text
    missing = app_client.post("/api/v1/inbox/sessions/999999/acknowledge")
    assert missing.status_code == 422
    with app_client.app.state.db.reading() as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.record_type)).all()
    assert ("acknowledge", "self_logged_session") in actions
