"""Progress / discharge and session reports: HTML, JSON and PDF that opens and names the patient
and the verdict; wording that claims no more than the evidence (HAZ-068); access."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from test_web_clinical_support import NOTICE, screened_patient, synthetic_patient
from web_fixtures import ensure_patient, login_as

pytest_plugins = ["web_fixtures"]

OVERCLAIMS = re.compile(r"\b(cures?|guarantee[sd]?|will (relieve|heal|work)|proven to)\b", re.I)


@pytest.fixture
def person(app_client) -> str:
    pseudonym = synthetic_patient(app_client.app)
    login_as(app_client, "clinician")
    return pseudonym


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    return " ".join(page.extract_text() for page in reader.pages)


def test_progress_report_pdf_names_patient_and_verdict(app_client, person):
    data = app_client.get(f"/api/v1/patients/{person}/reports/progress").json()
    answer = app_client.get(f"/patients/{person}/report.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = " ".join(_pdf_text(answer.content).split())
    assert person in text
    assert data["verdict_label"] in text
    assert "Parameter history" in text and "Adherence" in text and "Adverse events" in text
    assert "minimal important change of 1 point" in text
    assert "not a certified medical device" in text


def test_progress_report_figures_match_the_records(app_client, person):
    data = app_client.get(f"/api/v1/patients/{person}/reports/progress").json()
    board = app_client.get(f"/api/v1/patients/{person}/response").json()
    assert data["verdict_category"] == board["verdict"]["category"]
    assert data["baseline_nrs"] == pytest.approx(board["verdict"]["baseline"]["mean_nrs"])
    assert data["responder_cutoff_nrs"] == pytest.approx(board["responder_cutoff_nrs"])
    assert data["minimal_important_change_nrs"] == 1.0
    adherence = data["adherence"]
    assert adherence["sessions"] == board["dose_response"]["adherence"]["sessions"]
    assert 0 < adherence["days_with_session"] <= adherence["therapy_days"]
    assert adherence["total_minutes"] > 0
    assert len(data["sessions"]) == adherence["sessions"]
    page = app_client.get(f"/patients/{person}/report").text
    assert f"/patients/{person}/sessions/{data['sessions'][0]['id']}/report" in page
    assert len(data["prescriptions"]) == 1 and data["prescriptions"][0]["home_use"]
    assert sum(w["entries"] for w in data["weekly_pain"]) > 50


def test_HAZ068_pages_and_reports_claim_no_more_than_the_evidence(app_client, person):
    screened_patient(app_client)
    pages = [f"/patients/{person}/report", f"/patients/{person}/response",
             f"/patients/{person}/sessions/1/report", "/patients/DEMO-CRPS-01/screening",
             "/patients/DEMO-CRPS-01/recommendations", "/patients/DEMO-CRPS-01/prescribe"]
    for path in pages:
        page = app_client.get(path)
        assert page.status_code == 200, path
        assert NOTICE in page.text, path
        assert not OVERCLAIMS.search(page.text), (path, OVERCLAIMS.search(page.text))
    report = app_client.get(f"/api/v1/patients/{person}/reports/progress").json()
    assert "not a certified medical device" in report["notice"]


def test_HAZ068_report_without_data_says_so(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, "P002")
    data = app_client.get("/api/v1/patients/P002/reports/progress").json()
    assert data["verdict_category"] == "not_enough_data"
    assert data["therapy_start"] is None and data["adherence"]["sessions"] == 0
    page = app_client.get("/patients/P002/report").text
    assert "Verdict: not enough data yet" in page


def test_session_report_html_json_and_pdf(app_client, person):
    data = app_client.get(f"/api/v1/patients/{person}/sessions/1/report").json()
    assert data["session"]["id"] == 1 and data["session"]["outcome"] == "completed"
    assert data["session"]["provenance"] == "device_recorded"
    page = app_client.get(f"/patients/{person}/sessions/1/report").text
    assert "Highest amplitude" in page and "max amplitude ma" not in page
    pdf = app_client.get(f"/api/v1/patients/{person}/sessions/1/report.pdf")
    text = _pdf_text(pdf.content)
    assert person in text and "Session completed" in text
    missing = app_client.get(f"/api/v1/patients/{person}/sessions/999999/report")
    assert missing.status_code == 422
    assert missing.json()["problems"][0]["path"] == "session_id"


def test_a_patient_reads_only_their_own_report(app_client, person):
    ensure_patient(app_client.app, "P002")
    login_as(app_client, "patient", patient=person)
    assert app_client.get(f"/api/v1/patients/{person}/reports/progress").status_code == 200
    assert app_client.get("/api/v1/patients/P002/reports/progress").status_code == 403
    assert app_client.get("/patients/P002/report.pdf").status_code == 403


def test_discharge_report_states_the_clinicians_plan(app_client, person):
    query = {"kind": "discharge", "plan": "discharge_no_response"}
    data = app_client.get(f"/api/v1/patients/{person}/reports/progress", params=query).json()
    assert data["kind"] == "discharge" and data["plan_by"] == "clinician-1"
    page = app_client.get(f"/patients/{person}/report", params=query).text
    assert "Discharge report" in page and "discharge: no sufficient response" in page
    assert "report.pdf?kind=discharge&amp;plan=discharge_no_response" in page
    text = " ".join(_pdf_text(app_client.get(f"/patients/{person}/report.pdf",
                                             params=query).content).split())
    assert "Discharge report" in text and "no sufficient response (clinician-1)" in text
    bad = app_client.get(f"/api/v1/patients/{person}/reports/progress", params={"plan": "cure"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["path"] == "plan"
    login_as(app_client, "researcher")
    assert app_client.get(f"/api/v1/patients/{person}/reports/progress",
                          params=query).status_code == 403
    assert app_client.get(f"/api/v1/patients/{person}/reports/progress").status_code == 200


def test_intake_instruments_reach_the_overview_and_the_report(app_client):
    """Issue 17, defect 8: the intake's pain NRS was kept only inside the intake document
    (overview "Instrument scores 0", report "none recorded"); saving the intake again with the
    same answers stores nothing twice."""
    from test_web_clinical_support import CRPS, screened_patient

    login_as(app_client, "clinician")
    nrs = {"instrument": "pain_nrs", "answers": {"current": 6, "average": 7, "worst": 9}}
    screened_patient(app_client, instruments=[nrs])
    screened_patient(app_client, instruments=[nrs])
    counts = app_client.get(f"/api/v1/patients/{CRPS}").json()
    assert counts["counts"]["instrument_scores"] == 1, counts
    report = app_client.get(f"/api/v1/patients/{CRPS}/reports/progress").json()
    (score,) = report["instruments"]
    assert score["instrument"] == "pain_nrs" and "average 7/10" in score["interpretation"]
    page = app_client.get(f"/patients/{CRPS}/report").text
    assert "Pain intensity numeric rating scale" in page and "pain_nrs" not in page


def test_HAZ149_the_progress_report_lists_self_logged_sessions_with_provenance_and_adherence(
        app_client):
    from test_web_home import log, patient_on

    patient_on(app_client, "tu-7000")
    log(app_client, profile="tu-7000", nrs_pre="6", nrs_post="4")
    log(app_client, profile="tu-7000", as_prescribed="0", minutes="20",
        **{"settings.frequency_hz": "180"})
    login_as(app_client, "clinician")
    data = app_client.get("/api/v1/patients/P001/reports/progress").json()
    own = data["self_logged"]
    assert [x["provenance"] for x in own] == ["self_reported", "self_reported"]
    assert [x["flagged"] for x in own] == [False, True]
    assert own[1]["flag_reasons"] == ["pulse rate 180 Hz outside the prescribed 80–150 Hz"]
    assert own[0]["verification"] == "checked at the device's worst case"
    assert data["adherence"]["sessions"] == 2 and data["adherence"]["self_reported_sessions"] == 2
    assert data["adherence"]["self_reported_minutes"] == 50
    weekly = data["weekly_adherence"]
    assert weekly["self_reported_sessions"] == 2 and weekly["schedule"]["sessions_per_week"] == 7
    assert "2 of 2 sessions are self-reported" in data["data_provenance"]
    page = html.unescape(app_client.get("/patients/P001/report").text)
    assert "2 of them self-reported (50 minutes" in page
    assert "Sessions on the person's own device" in page and "rate 180 Hz" in page
    text = " ".join(_pdf_text(app_client.get("/patients/P001/report.pdf").content).split())
    assert "self-reported" in text and "180 Hz outside the prescribed" in text
