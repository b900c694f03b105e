"""Reports a clinician signs (issue 16, item 3): the clinic's letterhead and the clinician's
name from settings and accounts, a signature and date line, figures in words and units, the
fingerprint shortened to a footer, adherence over the prescription's period, a discharge
summary, and PDF tables that never break a word (HAZ-166, HAZ-167, HAZ-168)."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from browser_fixtures import LONG_DECIMAL, SNAKE_CASE
from stimwise.errors import InputError
from stimwise.records.access import Actor
from stimwise.records.inputs import AdverseEventIn, SessionIn
from stimwise.records.repository import add_adverse_event
from stimwise.records.sessions import add_session
from stimwise.session.record import SessionRecord
from stimwise.web.services.reports import Clinic, progress_document, progress_report
from test_web_clinical_support import CRPS, audit_actions, screened_patient
from test_web_prescribing import crps_draft
from web_fixtures import app_on, ensure_user, login_as, web_settings

CLINIC = {"clinic_name": "Riverside Physiotherapy", "clinic_address": "12 Mill Lane, Exampleton",
          "clinic_phone": "+44 1234 567890", "report_time_zone": "Europe/London"}
SIGNER = "Dr Ada Example, physiotherapist"
FAULT = "emergency stop: the stop key was pressed"


@pytest.fixture
def client(tmp_path):
    app = app_on(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}", **CLINIC))
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.db.close()


def visible_text(page: str) -> str:
    """The text a person reads (tags, scripts and styles removed)."""
    body = re.sub(r"<(script|style|head)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def machine_words(text: str) -> list[str]:
    return sorted(set(SNAKE_CASE.findall(text)) | set(LONG_DECIMAL.findall(text)))


def name_the_clinician(client) -> None:
    """The administrator sets the name clinician-1 signs with (through the accounts page)."""
    ensure_user(client.app, "clinician-1", "clinician")
    login_as(client, "administrator")
    client.headers.pop("X-CSRF-Token")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/users").text).group(1)
    answer = client.post("/users/display-name", data={
        "csrf_token": token, "username": "clinician-1", "display_name": SIGNER})
    assert answer.status_code == 303, answer.text
    assert SIGNER in client.get("/users").text


def one_session(client, prescription_id: int, fingerprint: str, started: datetime) -> int:
    """A delivered session with the awkward figures of issue 16 (4.995224 mA, 38.542 s, a fault)
    and a skin irritation reported after it."""
    record = SessionRecord(
        protocol_id="crps-gentle-sensory", plan_fingerprint=fingerprint, device="sim",
        patient_id=CRPS, started_at=started.isoformat(),
        ended_at=(started + timedelta(seconds=61.2)).isoformat(), outcome="aborted",
        reason=FAULT, stimulation_s=38.542, max_amplitude_ma=4.995224,
        mean_amplitude_ma=4.31234, minutes_at_amplitude={"4.5-5 mA": 0.6423},
        max_charge_per_phase_uc=0.4995224, calibration=None, habituation_increases=1,
        nrs_pre=6, nrs_post=4, skin_pre="ok", skin_post="not_ok", faults=(FAULT,), events=42)
    actor = Actor("fixture", "clinician")
    with client.app.state.db.transaction() as s:
        row = add_session(s, actor, CRPS, SessionIn(record=record, prescription_id=prescription_id,
                                                    frequency_hz=90.0, phase_width_us=100.0))
        add_adverse_event(s, actor, CRPS, AdverseEventIn(
            occurred_at=started + timedelta(minutes=5), kind="skin_irritation",
            severity="mild", body_site="left_elbow", description="red under the pad",
            session_id=row.session.id))
        return row.session.id


@pytest.fixture
def prescribed(client):
    """The CRPS patient prescribed today (through the API) with one session today."""
    name_the_clinician(client)
    login_as(client, "clinician")
    screened_patient(client)
    today = datetime.now(UTC).date()
    draft = crps_draft(client, valid_from=today.isoformat())
    stored = client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert stored.status_code == 201, stored.text
    fingerprint = stored.json()["evaluation"]["safety"]["fingerprint"]
    started = datetime.now(UTC).replace(second=7, microsecond=123456) - timedelta(minutes=30)
    session_id = one_session(client, stored.json()["id"], fingerprint, started)
    return {"prescription_id": stored.json()["id"], "fingerprint": fingerprint,
            "session_id": session_id, "started": started}


def test_HAZ166_session_report_in_words_units_and_the_clinics_time(client, prescribed):
    path = f"/patients/{CRPS}/sessions/{prescribed['session_id']}/report"
    page = visible_text(client.get(path).text)
    local = prescribed["started"].astimezone(ZoneInfo("Europe/London"))
    for expected in ("Riverside Physiotherapy", "12 Mill Lane, Exampleton",
                     "Telephone +44 1234 567890", f"Clinician: {SIGNER}", "Signature:",
                     "Date:", "5.0 mA", "38 s", "4.3 mA", "0.50 µC",
                     "Emergency stop: the stop key was pressed.", "Skin irritation",
                     f"{local:%H:%M} to", "Gentle sensory TENS for CRPS",
                     "left upper arm, front", "6 → 4 (0–10)", "a problem seen",
                     f"Plan fingerprint {prescribed['fingerprint'][:12]}", "Europe/London"):
        assert expected in page, expected
    for machine in ("4.995224", "38.542", "['", "max amplitude ma", "skin_irritation",
                    prescribed["fingerprint"], "crps-gentle-sensory", ":07.123"):
        assert machine not in page, machine
    main = page[page.index("Session report"):]
    assert machine_words(main) == []
    text = pdf_text(client.get(path + ".pdf").content)
    flat = " ".join(text.split())
    for expected in ("Riverside Physiotherapy", f"Clinician: {SIGNER}", "Signature:", "Date:",
                     "5.0 mA", "38 s", "Emergency stop: the stop key was pressed.",
                     f"Plan fingerprint {prescribed['fingerprint'][:12]} · Session report"):
        assert expected in flat, expected
    assert machine_words(text) == [] and prescribed["fingerprint"] not in flat


def test_HAZ167_a_one_day_old_prescription_reports_done_against_planned_so_far(client,
                                                                             prescribed):
    data = client.get(f"/api/v1/patients/{CRPS}/reports/progress").json()
    assert data["adherence"]["sessions_per_week"] is None  # no extrapolated weekly rate
    (period,) = data["periods"]
    assert (period["days"], period["sessions"]) == (1, 1)
    assert period["planned_sessions"] == pytest.approx(5 / 7)
    assert period["sessions_share"] is None
    page = visible_text(client.get(f"/patients/{CRPS}/report").text)
    assert ("1 session on 1 of 1 day, 0 min of stimulation; planned 5 a week of 20 min, that "
            "is 0.7 sessions (14 min) in 1 day.") in page
    assert "per week" not in page and "14.0" not in page


def test_HAZ168_progress_pdf_is_signed_and_no_table_breaks_a_word(client, prescribed):
    """Issue 16: "2026-12-/06" and "crps-gentl/e-sensory" broke across lines; every word of
    every table cell must come out of the PDF whole."""
    text = pdf_text(client.get(f"/patients/{CRPS}/report.pdf").content)
    flat = " ".join(text.split())
    for expected in ("Progress report", "Riverside Physiotherapy", f"Clinician: {SIGNER}",
                     "Signature:", "Date:", "Gentle sensory TENS for CRPS",
                     f"Prescription fingerprint {prescribed['fingerprint'][:12]}",
                     "Skin irritation", "Review on"):
        assert expected in flat, expected
    assert machine_words(text) == [] and "crps-gentle-sensory" not in flat
    tokens = set(text.split())
    rep = progress_report(client.app.state.db, Actor("clinician-1", "clinician"), CRPS)
    document = progress_document(rep, Clinic(**{k.removeprefix("clinic_"): v for k, v in
                                                CLINIC.items() if k != "report_time_zone"}))
    words = {word for section in document.sections for table in section.tables
             for row in table.rows for cell in row for word in cell.text.split()}
    assert len(words) > 20
    assert sorted(words - tokens) == []


def test_discharge_report_summarises_care_with_advice_and_plan(client, prescribed):
    query = {"kind": "discharge", "plan": "discharge_goals_met", "advice": "continue_home"}
    page = visible_text(client.get(f"/patients/{CRPS}/report", params=query).text)
    assert "Discharge report" in page and "Summary of care" in page
    assert "Delivered in all" in page and "1 session on a stimulator stimwise drove" in page
    assert "Adverse events: 1 × skin irritation (mild)" in page
    assert "Advice given: Carry on at home within the prescribed ranges" in page
    assert f"discharge: treatment goals met ({SIGNER})" in page
    flat = " ".join(pdf_text(client.get(f"/patients/{CRPS}/report.pdf",
                                        params=query).content).split())
    assert "Summary of care" in flat and "Advice given: Carry on at home" in flat
    bad = client.get(f"/api/v1/patients/{CRPS}/reports/progress", params={"advice": "rest"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["path"] == "advice"


def test_a_report_read_by_the_patient_leaves_the_clinician_line_to_be_signed(client,
                                                                            prescribed):
    login_as(client, "patient", patient=CRPS)
    page = visible_text(client.get(f"/patients/{CRPS}/report").text)
    assert "Clinician: ______" in page and SIGNER not in page.split("Signed")[-1]


def test_display_name_is_set_by_an_administrator_only_and_audited(client):
    name_the_clinician(client)
    assert "set_display_name" in audit_actions(client.app)
    login_as(client, "clinician")
    answer = client.put("/api/v1/users/clinician-1/display-name",
                        json={"display_name": "Me, the boss"})
    assert answer.status_code == 403
    login_as(client, "administrator")
    too_long = client.put("/api/v1/users/clinician-1/display-name",
                          json={"display_name": "x" * 121})
    assert too_long.status_code == 422
    assert client.put("/api/v1/users/clinician-1/display-name",
                      json={"display_name": ""}).status_code == 204
    users = {u["username"]: u for u in client.get("/api/v1/users").json()}
    assert users["clinician-1"]["display_name"] is None


def test_clinic_settings_come_from_the_environment(monkeypatch):
    from stimwise.settings import get_settings

    monkeypatch.setenv("STIMWISE_CLINIC_NAME", "Hill Clinic")
    monkeypatch.setenv("STIMWISE_CLINIC_PHONE", "+31 20 123 4567")
    monkeypatch.setenv("STIMWISE_REPORT_TIME_ZONE", "Europe/Amsterdam")
    settings = get_settings()
    assert (settings.clinic_name, settings.clinic_phone, settings.report_time_zone) == (
        "Hill Clinic", "+31 20 123 4567", "Europe/Amsterdam")
    monkeypatch.setenv("STIMWISE_REPORT_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(InputError, match="STIMWISE_REPORT_TIME_ZONE"):
        get_settings()


def test_cli_sets_the_name_on_reports(tmp_path):
    from typer.testing import CliRunner

    from stimwise.cli.main import app as cli
    from stimwise.records.repository import display_names
    from stimwise.records.schema import open_database

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    runner = CliRunner()
    added = runner.invoke(cli, ["account", "add", "dr-b", "--role", "clinician", "--db", url],
                          env={"STIMWISE_NEW_PASSWORD": "a long enough passphrase"})
    assert added.exit_code == 0, added.output
    named = runner.invoke(cli, ["account", "set-name", "dr-b", SIGNER, "--db", url])
    assert named.exit_code == 0 and SIGNER in named.output
    refused = runner.invoke(cli, ["account", "set-name", "nobody", "Dr X", "--db", url])
    assert refused.exit_code == 2 and "username" in refused.output
    with open_database(url) as database, database.reading() as s:
        assert display_names(s, ["dr-b"]) == {"dr-b": SIGNER}
