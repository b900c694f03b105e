"""The patient list and navigation (issue 16, item 4) and patient pages in plain words (item 5).

Finding a person by pseudonym, name or date of birth: an identity search is for clinicians only
(HAZ-172) and every search and every name shown is audited without the term (HAZ-173). A
person's status (active, paused, discharged) is changed by a clinician with a reason; a paused
or discharged person's home programme is not offered (HAZ-170) and a discharged person gets no
clinic session (HAZ-171). One menu on every patient page. The patient's own pages in words.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from browser_fixtures import SNAKE_CASE
from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.inputs import DiaryEntryIn, IdentityIn
from stimwise.records.models import AuditEntry, PatientStatusChange, SelfLoggedSession
from stimwise.records.patient_status import ProgrammeNotOfferedError, set_status
from stimwise.records.self_logged import log_self_session
from stimwise.web import wording
from stimwise.web.app import ROUTERS
from stimwise.web.patient_menu import SECTIONS
from stimwise.web.services.live_session import start_refusal
from test_web_clinical_support import CRPS
from test_web_home import _feed_token, log, patient_on, prescribe, visible_text
from test_web_live import ORIGIN, SOCKET, live_app, patient_client  # noqa: F401 (fixture)
from web_fixtures import ensure_patient, login_as

pytest_plugins = ["web_fixtures"]

SETUP = Actor("test-setup", "clinician")
PEOPLE = {"P001": ("Alex Example", date(1961, 4, 12)), "P002": ("Jürgen Müller", None),
          "Q777": ("Sam Other", date(1990, 1, 2))}


def with_identities(app) -> None:
    for pseudonym, (name, born) in PEOPLE.items():
        ensure_patient(app, pseudonym)
        with app.state.db.transaction() as session:
            r.set_identity(session, SETUP, pseudonym, IdentityIn(full_name=name,
                                                                  date_of_birth=born))


def audit_rows(app, after: int = 0) -> list[AuditEntry]:
    with app.state.db.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.id > after)
                                    .order_by(AuditEntry.id)))


def last_audit_id(app) -> int:
    rows = audit_rows(app)
    return rows[-1].id if rows else 0


def listed(client: TestClient, **params) -> list[str]:
    """The pseudonyms the list shows (``q`` and ``status`` in the address)."""
    answer = client.get("/api/v1/patients", params=params)
    assert answer.status_code == 200, answer.text
    return [row["pseudonym"] for row in answer.json()]


def found(client: TestClient, **body) -> list[str]:
    """The pseudonyms an identity search finds (posted: no name in an address)."""
    answer = client.post("/api/v1/patients/search", json=body)
    assert answer.status_code == 200, answer.text
    return [row["pseudonym"] for row in answer.json()]


# --------------------------------------------------------------------------- search


def test_a_clinician_finds_a_person_by_pseudonym_name_or_date_of_birth(app_client):
    with_identities(app_client.app)
    login_as(app_client, "clinician")
    assert found(app_client, q="q77") == ["Q777"]
    assert found(app_client, q="alex") == ["P001"]
    assert found(app_client, q="example ALEX") == ["P001"]  # the words in any order and case
    assert found(app_client, q="muller") == ["P002"]  # accents folded away
    assert found(app_client, q="1961-04-12") == ["P001"]
    assert found(app_client, q="12.04.1961") == ["P001"]  # day first
    assert found(app_client, q="2/1/1990") == ["Q777"]
    assert found(app_client, name="sam") == ["Q777"]
    assert found(app_client, born="1961-04-12") == ["P001"]
    assert found(app_client, q="nobody") == []
    assert listed(app_client, q="alex") == []  # in an address: pseudonyms only
    token = app_client.headers.pop("X-CSRF-Token")  # the page's form
    page = app_client.post("/patients", data={"csrf_token": token, "q": "alex"})
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Found 1 patient (of 3)" in text and "Alex Example" in text and "12 April 1961" in text
    assert "Sam Other" not in text
    assert 'method="post" action="/patients"' in app_client.get("/patients").text


def test_HAZ172_a_researcher_or_patient_cannot_search_by_identity(app_client):
    with_identities(app_client.app)
    login_as(app_client, "researcher")
    for body in ({"name": "alex"}, {"born": "1961-04-12"}, {"q": "alex"}):
        answer = app_client.post("/api/v1/patients/search", json=body)
        assert answer.status_code == 403, body
        assert "only clinicians" in answer.text and "pseudonym" in answer.text
    page = app_client.post("/patients", data={"q": "alex"})
    assert page.status_code == 403 and "only clinicians" in visible_text(page.text)
    # the researcher's search box matches pseudonyms only: no name is read or shown
    assert 'method="get" action="/patients"' in app_client.get("/patients").text
    assert listed(app_client, q="alex") == [] and listed(app_client, q="P00") == ["P001", "P002"]
    page = visible_text(app_client.get("/patients").text)
    assert "Alex Example" not in page and "Date of birth" not in page
    assert all(row["full_name"] is None and row["unread"] is None
               for row in app_client.get("/api/v1/patients").json())
    login_as(app_client, "patient", "P001")
    refused = app_client.post("/api/v1/patients/search", json={"name": "alex"})
    assert refused.status_code == 403 and "only clinicians" in refused.json()["message"]
    assert app_client.get("/patients").status_code == 403


def test_HAZ173_every_identity_search_and_name_shown_is_audited_without_the_term(
        app_client, caplog):
    with_identities(app_client.app)
    login_as(app_client, "clinician")
    before = last_audit_id(app_client.app)
    with caplog.at_level(logging.DEBUG):
        assert found(app_client, q="alex") == ["P001"]
    rows = audit_rows(app_client.app, before)
    actions = [(row.action, row.record_type) for row in rows]
    assert ("search_identity", "patient_list") in actions
    assert actions.count(("read_identity", "patient")) == 1  # the one person shown
    for row in rows:  # nothing personal: no term, no name, no date
        stored = " ".join(str(v) for v in (row.actor, row.role, row.action, row.record_type,
                                            row.record_id)).lower()
        assert "alex" not in stored and "1961" not in stored
    assert "alex" not in caplog.text.lower()  # nor in any log line (the address holds none)
    before = last_audit_id(app_client.app)
    assert len(listed(app_client)) == 3  # the plain list shows every name: each one audited
    rows = audit_rows(app_client.app, before)
    assert [row.action for row in rows].count("read_identity") == 3
    assert "search_identity" not in [row.action for row in rows]
    login_as(app_client, "researcher")
    before = last_audit_id(app_client.app)
    listed(app_client, q="P00")
    assert "read_identity" not in [row.action for row in audit_rows(app_client.app, before)]


def test_a_date_of_birth_that_is_no_date_is_refused_naming_the_field(app_client):
    with_identities(app_client.app)
    login_as(app_client, "clinician")
    answer = app_client.post("/api/v1/patients/search", json={"born": "31.02.1961"})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["path"] == "born"


def test_the_list_shows_status_last_session_and_unread_reports(app_client):
    patient_on(app_client)  # P001 on their own device
    log(app_client, profile="tu-7000")  # a session logged on their device
    reported = app_client.post("/diary/problem", data={"kind": "burn", "severity": "moderate"})
    assert reported.status_code == 303
    ensure_patient(app_client.app, "P002")
    login_as(app_client, "clinician")
    rows = {row["pseudonym"]: row for row in app_client.get("/api/v1/patients").json()}
    assert rows["P001"]["last_session_at"] is not None and rows["P002"]["last_session_at"] is None
    assert rows["P001"]["unread"] == 1 and rows["P002"]["unread"] == 0
    assert rows["P001"]["status"] == rows["P002"]["status"] == "active"
    text = visible_text(app_client.get("/patients").text)
    assert "1 unread report" in text and "None yet" in text and "Active" in text


# --------------------------------------------------------------------------- status


def change(client: TestClient, pseudonym: str, status: str, reason: str = "as agreed"):
    return client.post(f"/api/v1/patients/{pseudonym}/status",
                       json={"status": status, "reason": reason})


def test_a_clinician_changes_the_status_with_a_reason_and_it_is_audited(app_client):
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "clinician")
    before = last_audit_id(app_client.app)
    answer = change(app_client, "P001", "paused", "skin reaction being looked into")
    assert answer.status_code == 200 and answer.json()["changed_by"] == "clinician-1"
    assert [row.action for row in audit_rows(app_client.app, before)] == ["set_status"]
    assert app_client.get("/api/v1/patients/P001").json()["status"] == "paused"
    for body, field in (({"status": "active", "reason": " "}, "reason"),
                        ({"status": "paused", "reason": "again"}, "status"),
                        ({"status": "gone", "reason": "x"}, "status")):
        refused = app_client.post("/api/v1/patients/P001/status", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["problems"][0]["path"] == field
    token = app_client.headers.pop("X-CSRF-Token")  # the page's form
    page = app_client.post("/patients/P001/status",
                           data={"csrf_token": token, "status": "discharged", "reason": ""})
    assert page.status_code == 422 and 'href="#field-reason"' in page.text
    done = app_client.post("/patients/P001/status", data={
        "csrf_token": token, "status": "discharged", "reason": "goals met"})
    assert done.status_code == 303
    overview = visible_text(app_client.get("/patients/P001").text)
    assert "Discharged" in overview and "goals met" in overview
    assert "skin reaction being looked into" in overview  # the history, newest first
    with app_client.app.state.db.reading() as session:
        assert session.scalar(select(PatientStatusChange.reason).order_by(
            PatientStatusChange.id.desc())) == "goals met"
    for role in ("researcher", "patient"):
        login_as(app_client, role, "P001" if role == "patient" else None)
        assert change(app_client, "P001", "active").status_code == 403


def test_HAZ170_a_paused_or_discharged_persons_home_programme_is_not_offered(app_client):
    patient_on(app_client)
    token = _feed_token(app_client)
    db = app_client.app.state.db
    hours_ago = iter((3, 2, 1.5, 1))  # each change before the log's start (30 minutes ago)
    for status in ("paused", "discharged"):
        with db.transaction() as session:
            set_status(session, SETUP, "P001", status, "as agreed",
                       now=datetime.now(UTC) - timedelta(hours=next(hours_ago)))
        stored = len(logged_rows(app_client.app))
        refused = app_client.post("/log-session", data={
            "minutes": "30", "as_prescribed": "1", "profile": "tu-7000"})
        assert refused.status_code == 409
        assert len(logged_rows(app_client.app)) == stored  # nothing stored
        reason = visible_text(refused.text)
        assert f"home programme was {'paused' if status == 'paused' else 'ended'}" in reason
        for page in ("/log-session", "/my-device", "/home-session", "/me"):
            assert "home stimulation is not offered" in visible_text(
                app_client.get(page).text), (status, page)
        assert "Save session" not in app_client.get("/log-session").text
        assert app_client.get("/my-device/calendar.ics").status_code == 409
        feed = app_client.get(f"/calendar/{token}.ics")  # the subscription empties
        assert feed.status_code == 200 and "VEVENT" not in feed.text
        assert start_refusal(db, Actor("pt-P001", "patient", "P001"), "P001",
                             home=True) is not None
        assert "Report a problem" in app_client.get("/diary").text  # always open
        with db.transaction() as session:
            set_status(session, SETUP, "P001", "active", "resumed",
                       now=datetime.now(UTC) - timedelta(hours=next(hours_ago)))
        assert "VEVENT" in app_client.get(f"/calendar/{token}.ics").text
        log(app_client, profile="tu-7000")  # offered again


def logged_rows(app):
    with app.state.db.reading() as session:
        return list(session.scalars(select(SelfLoggedSession)))


def test_HAZ170_a_session_started_before_the_pause_may_still_be_logged(app_client):
    patient_on(app_client)
    person = Actor("pt-P001", "patient", "P001")
    now = datetime.now(UTC)
    with app_client.app.state.db.transaction() as session:
        set_status(session, SETUP, "P001", "paused", "hospital stay", now=now)
    values = {"minutes": 20, "profile": "tu-7000", "as_prescribed": True}
    with app_client.app.state.db.transaction() as session:
        earlier = log_self_session(session, person, "P001", {
            **values, "started_at": (now - timedelta(hours=3)).isoformat()})
    assert earlier.created
    with (pytest.raises(ProgrammeNotOfferedError, match="paused by the clinician"),
          app_client.app.state.db.transaction() as session):
        log_self_session(session, person, "P001", {
                **values, "started_at": (now + timedelta(minutes=1)).isoformat()})


def test_HAZ170_a_paused_persons_home_session_is_refused_at_the_start(live_app):  # noqa: F811
    assert change(live_app, CRPS, "paused").status_code == 200
    patient = patient_client(live_app.app)
    assert "home stimulation is not offered" in visible_text(patient.get("/home-session").text)
    with patient.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.home_rx_id, "target_ma": 2})
        message = ws.receive_json()
    assert message["type"] == "error" and "paused by the clinician" in message["message"]


def test_HAZ171_a_discharged_person_gets_no_clinic_session_a_paused_one_does(
        live_app):  # noqa: F811
    pseudonym = CRPS
    db, actor = live_app.app.state.db, Actor("clinician-1", "clinician")
    assert change(live_app, pseudonym, "paused").status_code == 200
    assert start_refusal(db, actor, pseudonym, home=False) is None
    assert change(live_app, pseudonym, "discharged").status_code == 200
    page = visible_text(live_app.get(f"/patients/{pseudonym}/session").text)
    assert "is discharged, so no session is started" in page
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.rx_id, "target_ma": 2})
        message = ws.receive_json()
    assert message["type"] == "error" and "discharged" in message["message"]


# --------------------------------------------------------------------------- the menu


def patient_page_routes() -> set[str]:
    """Every page about one patient (HTML; downloads and the printable sheet aside)."""
    from fastapi.routing import APIRoute

    return {
        route.path for router in ROUTERS for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
        and route.path.startswith("/patients/{pseudonym}")
        and not route.path.endswith((".pdf", "/sheet"))
    }


def test_every_patient_page_belongs_to_a_section_of_the_menu():
    assert patient_page_routes() == set(SECTIONS)


@pytest.mark.parametrize("role", ["clinician", "researcher"])
def test_every_patient_page_shows_the_one_menu_and_where_you_are(app_client, role):
    with_identities(app_client.app)
    prescribe(app_client.app)  # prescription 1 of P001
    login_as(app_client, role)
    ids = {"prescription_id": 1, "session_id": 1}
    seen_menus, checked = set(), 0
    for template in SECTIONS:
        answer = app_client.get(template.format(pseudonym="P001", **ids))
        if (role == "researcher" and answer.status_code == 403) or (
                "{session_id}" in template and answer.status_code in (404, 422)):
            continue  # a clinicians' page; P001 has no session yet
        assert answer.status_code == 200, template
        checked += 1
        menu = re.search(r'<nav class="patient-menu".*?</nav>', answer.text, re.S)
        assert menu, template
        current = re.findall(r'<a href="([^"]+)" aria-current="page" class="current">',
                             menu.group(0))
        assert len(current) == 1, (template, current)
        top = re.search(r'<ul class="patient-menu-items">.*?</ul>', menu.group(0), re.S)
        seen_menus.add(tuple(re.findall(r'<a href="([^"]+)"', top.group(0))))
        labels = visible_text(menu.group(0))
        for label in ("Overview", "Intake & screening", "Prescriptions", "Diary", "Response",
                      "n-of-1", "Home programme", "Reports", "Exports"):
            assert label in labels, (template, label)
        assert ("Live session" in labels) == (role == "clinician")
    assert len(seen_menus) == 1  # the same menu everywhere
    assert checked == len(SECTIONS) - (1 if role == "clinician" else 5)


# --------------------------------------------------------------------------- plain words


JARGON = re.compile(r"\b(ramping|Ceiling|conventional-tens|1 entries|1 sessions|completed|"
                    r"aborted|amplitude)\b")


def test_HAZ174_the_patients_own_pages_speak_plain_words(app_client):
    patient_on(app_client)
    log(app_client, profile="tu-7000")
    with app_client.app.state.db.transaction() as session:
        r.add_diary_entries(session, Actor("pt-P001", "patient", "P001"), "P001", [
            DiaryEntryIn(recorded_at=datetime.now(UTC), pain_current_nrs=4,
                           body_site="left_hand_dorsal")])
    for path in ("/me", "/diary", "/diary/problem", "/patients/P001/diary", "/home-session",
                 "/my-device", "/log-session"):
        text = visible_text(app_client.get(path).text)
        assert not SNAKE_CASE.findall(text), (path, SNAKE_CASE.findall(text))
        assert not JARGON.findall(text), (path, JARGON.findall(text))
    me = visible_text(app_client.get("/me").text)
    assert "1 diary entry." in me
    console = visible_text(app_client.get("/home-session").text)
    assert "Highest strength allowed" in console and "Conventional TENS, sensory level" in console
    assert "Left hand, back" in visible_text(app_client.get("/diary").text)


def test_wording_says_counts_durations_and_names_in_words():
    assert wording.plural(1, "entry") == "1 entry" and wording.plural(2, "entry") == "2 entries"
    assert wording.plural(0, "session") == "0 sessions" and wording.plural(3, "day") == "3 days"
    assert wording.duration_words(45) == "45 s" and wording.duration_words(750) == "12 min 30 s"
    assert wording.duration_words(3900) == "1 h 5 min" and wording.duration_words(3600) == "1 h"
    assert wording.duration_words(1799.6) == "29 min 59 s"  # rounded down, never up (HAZ-166)
    assert wording.protocol_words("crps-gentle-sensory") == "Gentle sensory TENS for CRPS"
    assert wording.protocol_words("my-own-protocol") == "My own protocol"
    assert wording.console_state("ramping") == "Raising the strength slowly"
    assert wording.setting_label("frequency_hz") == "Pulse rate (Hz)"
    assert wording.range_words("amplitude_ma", 10, 30) == "strength 10–30 mA"
    assert wording.record_count(1, "diary_entries") == "1 diary entry"
    assert wording.audit_action("read_identity") == "Read identifying data"
    assert wording.words("read_adverse_events") == "Read adverse events"
