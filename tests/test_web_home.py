"""The home programme on the person's own device, in the web application: "My device" (the
prescription in the device's terms, the sheet, the calendar file and subscription), "Log a
session" (remembered device and settings, as prescribed in one tap, flagged when outside the
locked ranges), adherence with its provenance, and the clinician's home-programme page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import select

from stimwise.analysis.from_records import cohort_prescription
from stimwise.records.access import Actor
from stimwise.records.models import AdverseEvent, AuditEntry, CalendarFeed, SelfLoggedSession
from stimwise.records.repository import add_prescription
from web_fixtures import ENROLLED_ON, ensure_patient, login_as

pytest_plugins = ["web_fixtures"]

SETUP = Actor("test-setup", "clinician")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a person reads on the page (no attributes, no markup)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def prescribe(app, pseudonym: str = "P001") -> None:
    """A home programme with locked ranges (rate 80-150 Hz, 10-30 mA; 30 min, 7 a week)."""
    ensure_patient(app, pseudonym)
    with app.state.db.transaction() as session:
        add_prescription(session, SETUP, pseudonym, cohort_prescription().model_copy(
            update={"valid_from": ENROLLED_ON}))


def logged(app) -> list[SelfLoggedSession]:
    with app.state.db.reading() as session:
        return list(session.scalars(select(SelfLoggedSession).order_by(SelfLoggedSession.id)))


def patient_on(client: TestClient, profile: str | None = "tu-7000") -> None:
    """P001 with a home programme, signed in on ``client``, with ``profile`` as their device."""
    prescribe(client.app)
    login_as(client, "patient", "P001")
    if profile is not None:
        choose(client, profile)


def choose(client: TestClient, profile: str) -> None:
    answer = client.post("/my-device", data={"profile": profile})
    assert answer.status_code == 303 and answer.headers["location"] == "/my-device?done=device"


def log(client: TestClient, **fields) -> int:
    """Post the log form; returns the stored row's id."""
    form = {"minutes": "30", "as_prescribed": "1", **fields}
    answer = client.post("/log-session", data=form)
    assert answer.status_code == 303, visible_text(answer.text)[:600]
    return int(answer.headers["location"].rsplit("=", 1)[1])


def test_my_device_offers_the_chooser_then_shows_the_prescription_in_the_devices_terms(
        app_client):
    patient_on(app_client, None)
    first = app_client.get("/my-device")
    assert first.status_code == 200 and "Which stimulator do you use at home?" in first.text
    choose(app_client, "tu-7000")
    page = app_client.get("/my-device?done=device")
    text = visible_text(page.text)
    assert "TENSunits.com TU 7000" in text and "Checked." in text
    assert "7 sessions a week, one a day, 30 minutes each" in text
    assert 'data-site="left_knee"' in page.text  # the placement drawn
    assert "Hz: pulses a second" in text
    assert "the safety standard its maker declares allows" in text  # TU 7000: no maximum
    assert "Nothing known: this device's manual does not publish every range" in text
    for jargon in ("conventional-tens", "not_verifiable", "verified at the worst case", "warn"):
        assert jargon not in text, jargon
    assert app_client.get("/my-device/sheet").text.count("<svg") == 1
    pdf = app_client.get("/my-device/sheet.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_HAZ146_a_device_whose_output_is_unknown_is_never_called_checked(app_client):
    patient_on(app_client, "neotek-dt8003tp")
    text = visible_text(app_client.get("/my-device").text)
    assert "Not checked." in text and "Checked." not in text.replace("Not checked.", "")
    assert "Use them only after your clinician has confirmed them" in text
    choose(app_client, "quell")
    text = visible_text(app_client.get("/my-device").text)
    assert "sets its own pulses" in text and "Not checked." in text


def test_an_unknown_device_is_refused_naming_the_field(app_client):
    patient_on(app_client, None)
    refused = app_client.post("/my-device", data={"profile": "made-up-unit"})
    assert refused.status_code == 422
    assert "made-up-unit" in refused.text and "device profile id" in refused.text


def test_without_a_programme_the_pages_say_why_and_a_log_is_refused(app_client):
    ensure_patient(app_client.app, "P009")
    login_as(app_client, "patient", "P009")
    assert "no home programme valid today" in app_client.get("/my-device").text
    page = app_client.get("/log-session")
    assert page.status_code == 200 and "no home programme valid today" in page.text
    assert "<form method=\"post\" action=\"/log-session\"" not in page.text
    refused = app_client.post("/log-session", data={"profile": "tu-7000", "minutes": "20",
                                                    "as_prescribed": "1"})
    assert refused.status_code == 422 and "Your home programme" in refused.text
    calendar = app_client.get("/my-device/calendar.ics")
    assert calendar.status_code == 409 and "no home programme valid today" in calendar.text
    assert logged(app_client.app) == []


def test_as_prescribed_log_is_stored_with_its_provenance_and_not_flagged(app_client):
    patient_on(app_client, "tu-7000")
    form = app_client.get("/log-session").text
    assert 'value="tu-7000" selected' in form
    assert 'name="minutes" inputmode="decimal" value="30"' in form
    row_id = log(app_client, profile="tu-7000", nrs_pre="6", nrs_post="4", skin="normal",
                 felt="strong_comfortable")
    [row] = logged(app_client.app)
    assert row.id == row_id and row.provenance == "self_reported" and row.as_prescribed
    assert not row.flagged and row.settings == {"frequency_hz": 100.0, "phase_width_us": 100.0}
    assert (row.nrs_pre, row.nrs_post, row.skin) == (6, 4, "normal")
    shown = visible_text(app_client.get(f"/log-session?saved={row_id}").text)
    assert "Saved: 30 minutes" in shown and "Your clinician will see" not in shown


def test_HAZ144_a_log_outside_the_locked_range_is_stored_flagged_and_the_patient_told(app_client):
    patient_on(app_client, "tu-7000")
    row_id = log(app_client, profile="tu-7000", as_prescribed="0",
                 **{"settings.frequency_hz": "180"})
    [row] = logged(app_client.app)
    assert row.flagged and row.settings["frequency_hz"] == 180
    assert row.flag_reasons == ["pulse rate 180 Hz outside the prescribed 80–150 Hz"]
    shown = visible_text(app_client.get(f"/log-session?saved={row_id}").text)
    assert "Your clinician will see this session" in shown
    assert "pulse rate 180 Hz outside the prescribed 80–150 Hz" in shown
    assert "your clinician will look at it" in shown  # the list marks it too
    login_as(app_client, "clinician")
    page = visible_text(app_client.get("/patients/P001/home-programme").text)
    assert "outside the prescription" in page and "waiting for a clinician" in page
    assert "pulse rate 180 Hz outside the prescribed 80–150 Hz" in page
    assert "self-reported" in page


def test_the_log_form_remembers_the_device_and_settings_of_the_last_log(app_client):
    patient_on(app_client, "twin-stim-plus-3")
    log(app_client, profile="twin-stim-plus-3", as_prescribed="0", programme="N",
        minutes="25", **{"settings.frequency_hz": "120", "settings.phase_width_us": "150"})
    form = app_client.get("/log-session").text
    assert 'value="twin-stim-plus-3" selected' in form
    assert 'name="settings.frequency_hz" inputmode="decimal" value="120"' in form
    assert 'name="settings.phase_width_us" inputmode="decimal" value="150"' in form
    assert 'value="25"' in form and 'name="as_prescribed" value="0" checked' in form


def test_a_reported_problem_becomes_an_adverse_event_for_the_inbox(app_client):
    patient_on(app_client, "tu-7000")
    row_id = log(app_client, profile="tu-7000", problems="skin_irritation", skin="irritated")
    assert "was sent to your clinician" in app_client.get(f"/log-session?saved={row_id}").text
    with app_client.app.state.db.reading() as session:
        [event] = session.scalars(select(AdverseEvent)).all()
    assert event.kind == "skin_irritation" and event.acknowledged_at is None
    login_as(app_client, "clinician")
    assert "reported with a self-logged session" in app_client.get("/inbox").text


def test_invalid_log_values_get_422_naming_the_field_in_words(app_client):
    patient_on(app_client, "tu-7000")
    for fields, label in (({"minutes": "abc"}, "How many minutes"),
                          ({"minutes": "0"}, "How many minutes"),
                          ({"as_prescribed": "0", "settings.frequency_hz": "-5"}, "Pulse rate"),
                          ({"as_prescribed": "0", "settings.phase_width_us": "nan"},
                           "Pulse width"),
                          ({"profile": "nope"}, "Your device"),
                          ({"started_at": "yesterday"}, "When you started")):
        form = {"profile": "tu-7000", "minutes": "30", "as_prescribed": "1", **fields}
        refused = app_client.post("/log-session", data=form)
        assert refused.status_code == 422, fields
        assert label in visible_text(refused.text), (fields, visible_text(refused.text)[:400])
    assert logged(app_client.app) == []


def test_HAZ147_adherence_names_its_provenance_for_the_patient_and_the_clinician(app_client):
    patient_on(app_client, "tu-7000")
    log(app_client, profile="tu-7000")
    text = visible_text(app_client.get("/log-session").text)
    assert "1 of 1 sessions" not in text  # the week asks for 7
    assert re.search(r"This week since \d\d \w+ 1 of \d 1 of 7 30 of 210", text), text
    assert "logged by the person (self-reported)" in text
    assert "This week: 1 of 7 sessions" in visible_text(app_client.get("/me").text)
    login_as(app_client, "clinician")
    clinician = visible_text(app_client.get("/patients/P001/home-programme").text)
    assert "logged by the person (self-reported)" in clinician and "1 of 7" in clinician
    # the logged session in words: the device by its name, the time as a date, no ids
    assert "TENSunits.com TU 7000 digital TENS" in clinician.split("Sessions the patient logged")[1]
    assert "tu-7000" not in clinician and not re.search(r"\d{4}-\d\d-\d\d", clinician)


def test_the_calendar_file_downloads_at_the_chosen_time_and_names_no_person(app_client):
    patient_on(app_client, "tu-7000")
    answer = app_client.get("/my-device/calendar.ics", params={"time": "07:30"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert "attachment" in answer.headers["content-disposition"]
    body = answer.text
    assert "T073000" in body and "RRULE:FREQ=WEEKLY" in body and "P001" not in body
    refused = app_client.get("/my-device/calendar.ics", params={"time": "25:99"})
    assert refused.status_code == 422 and "a time of day like 18:00" in refused.text


def _feed_token(client: TestClient, time: str = "18:00") -> str:
    page = client.post("/my-device/calendar-link", data={"time": time})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = re.search(r'value="(http://testserver/calendar/([A-Za-z0-9_-]{43})\.ics)"', page.text)
    assert found, visible_text(page.text)[-800:]
    assert f'href="webcal://testserver/calendar/{found.group(2)}.ics"' in page.text
    return found.group(2)


def test_HAZ145_the_calendar_address_is_unguessable_hashed_revocable_and_names_no_one(web_app):
    with TestClient(web_app, follow_redirects=False) as client, \
            TestClient(web_app, follow_redirects=False) as calendar_app:
        prescribe(web_app)
        login_as(client, "patient", "P001")
        choose(client, "tu-7000")
        token = _feed_token(client, "19:15")
        feed = calendar_app.get(f"/calendar/{token}.ics")  # no sign-in
        assert feed.status_code == 200 and "T191500" in feed.text and "P001" not in feed.text
        assert feed.headers["cache-control"] == "no-store"
        assert "home-programme-feed-" in feed.text  # a stable event id across polls
        with web_app.state.db.reading() as session:
            rows = session.scalars(select(CalendarFeed)).all()
            reads = session.scalars(select(AuditEntry).where(
                AuditEntry.action == "read_calendar_feed")).all()
        assert [r.token_sha256 for r in rows] != [token] and token not in str(
            [(r.token_sha256, r.at_time) for r in rows])
        assert len(reads) == 1 and reads[0].actor == "calendar-feed"
        assert token not in client.get("/my-device").text  # shown once only
        newer = _feed_token(client)
        assert calendar_app.get(f"/calendar/{token}.ics").status_code == 404
        assert calendar_app.get(f"/calendar/{newer}.ics").status_code == 200
        stopped = client.post("/my-device/calendar-link/stop")
        assert stopped.status_code == 303
        assert calendar_app.get(f"/calendar/{newer}.ics").status_code == 404
        for bad in ("x", "A" * 43, "../../etc", "a" * 400):
            assert calendar_app.get(f"/calendar/{bad}.ics").status_code == 404


def test_home_programme_access_rules(app_client):
    prescribe(app_client.app)
    login_as(app_client, "patient", "P002")
    assert app_client.get("/patients/P001/home-programme").status_code == 403
    assert app_client.post("/patients/P001/home-programme/device",
                           data={"profile": "tu-7000"}).status_code == 403
    login_as(app_client, "researcher")
    assert app_client.get("/patients/P001/home-programme").status_code == 200
    assert app_client.get("/my-device").status_code == 403
    assert app_client.post("/patients/P001/home-programme/device",
                           data={"profile": "tu-7000"}).status_code == 403
    login_as(app_client, "clinician")
    chosen = app_client.post("/patients/P001/home-programme/device", data={"profile": "tu-7000"})
    assert chosen.status_code == 303
    page = app_client.get("/patients/P001/home-programme")
    assert "TENSunits.com TU 7000" in page.text
    assert 'aria-current="page" class="current">Home programme' in page.text  # the menu
    sheet = app_client.get("/patients/P001/home-programme/sheet")
    assert sheet.status_code == 200 and "<svg" in sheet.text


def test_phone_logs_reach_the_fhir_export_as_a_valid_device_use_statement(app_client):
    from stimwise.interop.fhir_export import resource_model

    patient_on(app_client, "enraf-tensmed-s84")
    page = visible_text(app_client.get("/my-device").text)
    assert "the strongest current this device's manual states (99.5 milliamps)" in page
    assert "never go above 30 mA" in page  # the device shows mA: the ceiling in mA
    assert "Current shown on the device (mA" in app_client.get("/log-session").text
    log(app_client, profile="enraf-tensmed-s84", problems="flare",
        **{"settings.amplitude_ma": "12"})
    log(app_client, profile="enraf-tensmed-s84", as_prescribed="0", minutes="45",
        **{"settings.frequency_hz": "60", "settings.amplitude_ma": "40"})
    flagged = logged(app_client.app)[-1]
    assert flagged.flagged and flagged.amplitude_ma == 40
    assert any("40 mA above the home maximum 30 mA" in r for r in flagged.flag_reasons)
    login_as(app_client, "clinician")
    bundle = app_client.get("/api/v1/patients/P001/fhir").json()
    resource_model("Bundle").model_validate(bundle)  # FHIR R4B, every resource
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("DeviceUseStatement") == 2 and kinds.count("Device") == 1
    assert "AdverseEvent" in kinds and "Procedure" not in kinds
