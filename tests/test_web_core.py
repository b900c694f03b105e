"""Web application core: sign-in and sign-out, pages and API for patients, diary, accounts
and audit, validation errors (422 naming the field), OpenAPI, and no 500s."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from stimwise.records.models import AuditEntry, DiaryEntry
from web_fixtures import PASSWORD, ensure_patient, login_as

pytest_plugins = ["web_fixtures"]

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF_FIELD.search(page.text).group(1)


def audit_rows(app, action: str | None = None) -> list[AuditEntry]:
    with app.state.db.reading() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))


def diary_rows(app) -> list[DiaryEntry]:
    with app.state.db.reading() as session:
        return list(session.scalars(select(DiaryEntry).order_by(DiaryEntry.id)))


def test_sign_in_through_the_page_then_sign_out(app_client):
    login_as(app_client, "clinician")  # creates the account
    app_client.cookies.clear()
    app_client.headers.pop("X-CSRF-Token")
    token = form_token(app_client, "/login")
    signed = app_client.post(
        "/login",
        data={"csrf_token": token, "username": "clinician-1", "password": PASSWORD,
              "next": "/audit"},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/audit"
    assert app_client.get("/patients").status_code == 200
    out = app_client.post("/logout", data={"csrf_token": form_token(app_client, "/patients")})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    after = app_client.get("/patients")
    assert after.status_code == 303
    assert after.headers["location"] == "/login?next=%2Fpatients"


def test_sign_in_never_redirects_off_site(app_client):
    login_as(app_client, "clinician")
    app_client.cookies.clear()
    app_client.headers.pop("X-CSRF-Token")
    token = form_token(app_client, "/login")
    signed = app_client.post(
        "/login",
        data={"csrf_token": token, "username": "clinician-1", "password": PASSWORD,
              "next": "//evil.example/x"},
    )
    assert signed.headers["location"] == "/"


def test_wrong_password_and_unknown_user_get_the_same_refusal(app_client):
    login_as(app_client, "clinician")
    app_client.cookies.clear()
    app_client.headers.pop("X-CSRF-Token")
    wrong = app_client.post(
        "/api/v1/auth/login", json={"username": "clinician-1", "password": "not the password"}
    )
    unknown = app_client.post(
        "/api/v1/auth/login", json={"username": "nobody-here", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "stimwise_session" not in app_client.cookies
    token = form_token(app_client, "/login")
    page = app_client.post(
        "/login", data={"csrf_token": token, "username": "clinician-1", "password": "nope"}
    )
    assert page.status_code == 401
    assert "The user name or password is not right" in page.text
    assert app_client.get("/api/v1/patients").status_code == 401


def test_not_signed_in_api_gets_401_and_pages_redirect_to_sign_in(app_client):
    assert app_client.get("/api/v1/patients").json()["error"] == "not_signed_in"
    assert app_client.get("/api/v1/patients").status_code == 401
    page = app_client.get("/patients/P001/diary")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_a_diary_entry_posted_through_the_page_form_lands_in_the_database_and_audit(app_client):
    login_as(app_client, "patient", "P001")
    app_client.headers.pop("X-CSRF-Token")  # the form field must do the work
    page = app_client.get("/diary")
    token = CSRF_FIELD.search(page.text).group(1)
    entry_uuid = re.search(r'name="entry_uuid" value="([^"]+)"', page.text).group(1)
    form = {
        "csrf_token": token, "entry_uuid": entry_uuid, "pain_current_nrs": "4",
        "pain_worst_nrs": "6", "sleep_interference_nrs": "3", "body_site": "left_foot",
        "medication": "pregabalin", "medication_change": "dose_increased",
        "recorded_at": "2026-01-10T08:30", "tz_offset_min": "60",
    }
    saved = app_client.post("/diary", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/diary?saved=1"
    again = app_client.post("/diary", data=form)  # a double submission is not doubled
    assert again.status_code == 303
    rows = diary_rows(app_client.app)
    assert len(rows) == 1
    row = rows[0]
    assert (row.pain_current_nrs, row.pain_worst_nrs, row.sleep_interference_nrs) == (4, 6, 3)
    assert row.body_site == "left_foot" and row.entry_uuid == entry_uuid
    assert row.medication_changes == [{"medication": "pregabalin", "change": "dose_increased"}]
    assert row.recorded_at.isoformat() == "2026-01-10T07:30:00+00:00"
    created = audit_rows(app_client.app, "create")
    assert [(e.actor, e.record_type, e.record_id) for e in created][-1] == (
        "pt-P001", "diary_entry", str(row.id)
    )
    listing = app_client.get("/patients/P001/diary")
    assert listing.status_code == 200 and "pregabalin dose increased" in listing.text


def test_a_diary_entry_posted_through_the_api_lands_in_the_database_and_audit(app_client):
    login_as(app_client, "patient", "P001")
    entry = {
        "recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 5,
        "entry_uuid": str(uuid.uuid4()), "note": "walked to the shop",
    }
    created = app_client.post("/api/v1/patients/P001/diary", json=entry)
    assert created.status_code == 201, created.text
    assert created.json()["pain_current_nrs"] == 5
    assert app_client.post("/api/v1/patients/P001/diary", json=entry).status_code == 201
    rows = diary_rows(app_client.app)
    assert [(r.entry_uuid, r.pain_current_nrs) for r in rows] == [(entry["entry_uuid"], 5)]
    listed = app_client.get("/api/v1/patients/P001/diary").json()
    assert [e["entry_uuid"] for e in listed] == [entry["entry_uuid"]]
    actions = [(e.action, e.record_type) for e in audit_rows(app_client.app)]
    assert ("create", "diary_entry") in actions and ("read_diary", "patient") in actions


def test_invalid_diary_values_get_422_naming_the_field(app_client):
    login_as(app_client, "patient", "P001")
    cases = [
        ({"recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 11}, "pain_current_nrs"),
        ({"recorded_at": "2026-01-10T09:00:00", "pain_current_nrs": 3}, "recorded_at"),
        ({"recorded_at": "2026-01-10T09:00:00+00:00"}, "pain_current_nrs"),
        ({"recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 3, "pian": 1}, "pian"),
        ({"recorded_at": "2099-01-10T09:00:00+00:00", "pain_current_nrs": 3},
         "entries[0].recorded_at"),
        ({"recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 3,
          "body_site": "left_wing"}, "body_site"),
    ]
    for body, field in cases:
        answer = app_client.post("/api/v1/patients/P001/diary", json=body)
        assert answer.status_code == 422, (body, answer.text)
        payload = answer.json()
        assert payload["error"] == "invalid_input"
        assert field in [p["path"] for p in payload["problems"]], payload
    token = app_client.headers["X-CSRF-Token"]
    page = app_client.post(
        "/diary", data={"csrf_token": token, "pain_current_nrs": "8", "pain_worst_nrs": "5"}
    )
    assert page.status_code == 422
    assert 'href="#field-pain_current_nrs">Pain right now</a>' in page.text
    assert "at most “Worst pain over the last 24 hours” (5)" in page.text
    assert 'id="field-pain_current_nrs"' in page.text
    bad_time = app_client.post(
        "/diary", data={"csrf_token": token, "pain_current_nrs": "2", "recorded_at": "soon"}
    )
    assert bad_time.status_code == 422 and "#field-recorded_at" in bad_time.text
    assert diary_rows(app_client.app) == []


def test_a_researcher_reads_but_cannot_write(app_client):
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "researcher")
    assert app_client.get("/api/v1/patients").status_code == 200
    assert app_client.get("/api/v1/patients/P001/diary").status_code == 200
    writes = [
        ("/api/v1/patients/P001/diary",
         {"recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 3}),
        ("/api/v1/patients/P001/adverse-events",
         {"occurred_at": "2026-01-10T09:00:00+00:00", "kind": "flare", "severity": "mild"}),
        ("/api/v1/patients", {"pseudonym": "P777", "enrolled_on": "2025-01-01"}),
        ("/api/v1/users", {"username": "x1", "role": "researcher", "password": PASSWORD}),
    ]
    for path, body in writes:
        assert app_client.post(path, json=body).status_code == 403, path
    assert app_client.get("/api/v1/patients/P001/identity").status_code == 403
    assert app_client.get("/patients/new").status_code == 403
    assert app_client.get("/diary").status_code == 403
    assert diary_rows(app_client.app) == []


def test_a_clinician_creates_a_patient_and_their_account_who_then_signs_in(app_client):
    login_as(app_client, "clinician")
    body = {"pseudonym": "P100", "enrolled_on": "2025-03-01",
            "identity": {"full_name": "Ann Example"}}
    assert app_client.post("/api/v1/patients", json=body).status_code == 201
    assert app_client.post("/api/v1/patients", json=body).status_code == 422  # pseudonym taken
    identity = app_client.get("/api/v1/patients/P100/identity")
    assert identity.json()["full_name"] == "Ann Example"
    assert app_client.delete("/api/v1/patients/P100/identity").status_code == 204
    gone = app_client.get("/api/v1/patients/P100/identity")
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert app_client.delete("/api/v1/patients/P100/identity").status_code == 404
    again = app_client.put("/api/v1/patients/P100/identity", json={"full_name": "Ann Example"})
    assert again.status_code == 200
    assert app_client.post("/api/v1/users", json={}).status_code == 403  # clinicians: no accounts
    login_as(app_client, "administrator")
    account = {"username": "ann", "role": "patient", "patient": "P100",
               "password": "a long first passphrase"}
    created = app_client.post("/api/v1/users", json=account)
    assert created.status_code == 201 and created.json()["patient"] == "P100"
    assert "password" not in created.text
    orphan = app_client.post("/api/v1/users", json={**account, "username": "x2",
                                                    "patient": "P404"})
    assert orphan.status_code == 422 and orphan.json()["problems"][0]["path"] == "patient"
    app_client.cookies.clear()
    me = app_client.post("/api/v1/auth/login",
                         json={"username": "ann", "password": "a long first passphrase"})
    assert me.json()["patient"] == "P100" and me.json()["role"] == "patient"
    assert app_client.get("/me").status_code == 200
    assert app_client.get("/").headers["location"] == "/me"


def test_the_accounts_page_creates_a_patient_account(app_client):
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "administrator")
    token = app_client.headers.pop("X-CSRF-Token")
    short = app_client.post("/users", data={"csrf_token": token, "username": "bo",
                                            "role": "patient", "patient": "P001",
                                            "password": "short"})
    assert short.status_code == 422 and "#field-password" in short.text
    made = app_client.post("/users", data={"csrf_token": token, "username": "bo",
                                           "role": "patient", "patient": "P001",
                                           "password": "a long first passphrase"})
    assert made.status_code == 303
    assert ">bo<" in app_client.get("/users").text


def test_the_new_patient_page_creates_a_patient_or_names_the_bad_field(app_client):
    login_as(app_client, "clinician")
    token = app_client.headers.pop("X-CSRF-Token")
    bad = app_client.post("/patients/new", data={"csrf_token": token, "pseudonym": "P 1",
                                                 "enrolled_on": "2025-01-01"})
    assert bad.status_code == 422 and "#field-pseudonym" in bad.text
    good = app_client.post("/patients/new", data={"csrf_token": token, "pseudonym": "P200",
                                                  "enrolled_on": "2025-01-01",
                                                  "full_name": "Bo Example"})
    assert good.status_code == 303 and good.headers["location"] == "/patients/P200"
    detail = app_client.get("/patients/P200")
    assert "Bo Example" in detail.text
    assert ("read_identity", "patient") in [
        (e.action, e.record_type) for e in audit_rows(app_client.app)
    ]


def test_reads_of_patient_data_are_audited_without_health_data(app_client):
    login_as(app_client, "patient", "P001")
    entry = {"recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 9,
             "note": "zebra-note"}
    app_client.post("/api/v1/patients/P001/diary", json=entry)
    app_client.get("/api/v1/patients/P001")
    app_client.get("/api/v1/patients/P001/adverse-events")
    app_client.get("/diary")
    actions = [e.action for e in audit_rows(app_client.app) if e.actor == "pt-P001"]
    for expected in ("sign_in", "create", "read_overview", "read_adverse_events", "read_diary"):
        assert expected in actions
    for row in audit_rows(app_client.app):
        text = " ".join(str(v) for v in (row.actor, row.action, row.record_type, row.record_id))
        assert "zebra" not in text and row.record_id != "9"


def test_the_audit_log_is_for_administrators_only(app_client):
    login_as(app_client, "administrator")
    listed = app_client.get("/api/v1/audit", params={"limit": 2})
    assert listed.status_code == 200 and len(listed.json()) == 2
    assert audit_rows(app_client.app)[-1].action == "read"  # looking is logged too
    assert app_client.get("/audit").status_code == 200
    assert app_client.get("/api/v1/audit", params={"limit": 0}).status_code == 422
    for role in ("researcher", "patient", "clinician"):
        login_as(app_client, role)
        assert app_client.get("/api/v1/audit").status_code == 403
        assert app_client.get("/audit").status_code == 403


def test_openapi_describes_every_resource_and_no_cdn_documentation_pages(app_client):
    schema = app_client.get("/openapi.json").json()
    for path in ("/api/v1/patients", "/api/v1/patients/{pseudonym}/identity",
                 "/api/v1/patients/{pseudonym}/diary",
                 "/api/v1/patients/{pseudonym}/adverse-events", "/api/v1/users",
                 "/api/v1/audit", "/api/v1/auth/login"):
        assert path in schema["paths"], path
    assert not any(p.startswith(("/login", "/diary", "/patients/")) for p in schema["paths"])
    assert app_client.get("/docs").status_code == 404
    assert app_client.get("/redoc").status_code == 404


def test_charts_are_drawn_by_the_packages_own_script(app_client):
    """Issue 13: no 66 MB plotting package (and no CDN) for the charts; plots.js draws them."""
    script = app_client.get("/static/plots.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"stimwiseDrawPlot" in script.content and len(script.content) < 20_000
    assert app_client.get("/static/vendor/plotly.min.js").status_code == 404


def test_malformed_requests_get_4xx_never_500(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, "P001")
    answers = [
        app_client.post("/api/v1/patients", content=b"{not json",
                        headers={"content-type": "application/json"}),
        app_client.post("/api/v1/patients", json=[1, 2]),
        app_client.post("/api/v1/patients", json={"pseudonym": 7, "enrolled_on": "yesterday"}),
        app_client.get("/api/v1/patients/P001/diary", params={"since": "not-a-time"}),
        app_client.get("/api/v1/patients/" + "x" * 5000),
        app_client.get("/api/v1/nothing-here"),
        app_client.delete("/api/v1/patients"),
        app_client.put("/api/v1/patients/P001/identity", json={"full_name": ""}),
        app_client.post("/login", data={"csrf_token": "x"}),
        app_client.get("/patients/P404"),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code)
    assert answers[5].json()["error"] == "http_error"
    assert answers[9].status_code == 404


def test_every_link_on_the_patients_home_page_opens(app_client):
    login_as(app_client, "patient", "P001")
    links = set(re.findall(r'href="(/[^"]*)"', app_client.get("/me").text)) - {"/", "/me"}
    assert "/home-session" in links and "/diary" in links
    for link in sorted(links):
        if not link.startswith("/static/"):
            assert app_client.get(link).status_code == 200, link


def test_the_patients_own_export_link_downloads_their_data(app_client):
    login_as(app_client, "patient", "P001")
    app_client.post("/api/v1/patients/P001/diary", json={
        "recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 5})
    for page in ("/me", "/diary"):
        link = re.search(r'href="([^"]+)" download', app_client.get(page).text).group(1)
        download = app_client.get(link)
        assert download.status_code == 200, (page, link, download.text)
        assert download.content[:2] == b"PK"  # a zip


def test_a_patient_reports_a_problem_through_the_page(app_client):
    login_as(app_client, "patient", "P001")
    token = app_client.headers.pop("X-CSRF-Token")
    missing = app_client.post("/diary/problem", data={"csrf_token": token, "severity": "mild"})
    assert missing.status_code == 422 and 'href="#field-kind"' in missing.text
    sent = app_client.post("/diary/problem", data={
        "csrf_token": token, "kind": "skin_irritation", "severity": "mild",
        "body_site": "left_calf", "occurred_at": "2026-01-10T20:00", "tz_offset_min": "0"})
    assert sent.status_code == 303 and sent.headers["location"] == "/diary?reported=1"
    events = app_client.get("/api/v1/patients/P001/adverse-events").json()
    assert [(e["kind"], e["severity"], e["body_site"]) for e in events] == [
        ("skin_irritation", "mild", "left_calf")]
    assert events[0]["occurred_at"].startswith("2026-01-10T20:00")
    assert ("create", "adverse_event") in [
        (e.action, e.record_type) for e in audit_rows(app_client.app)]


def test_the_diary_page_shows_today_and_a_four_week_progress_by_day(app_client):
    from datetime import timedelta

    from stimwise.web.services.diary import local_midnight

    login_as(app_client, "patient", "P001")
    midnight = local_midnight()  # times just after it are today and never in the future
    entries = ((midnight - timedelta(hours=1), 6, 8), (midnight + timedelta(seconds=1), 3, 5),
               (midnight + timedelta(seconds=2), 5, 5))
    for when, current, worst in entries:
        app_client.post("/api/v1/patients/P001/diary", json={
            "recorded_at": when.isoformat(), "pain_current_nrs": current, "pain_worst_nrs": worst})
    page = app_client.get("/diary").text
    assert page.count('<rect class="worst"') == 2 and page.count('<circle class="mean"') == 2
    table = page[page.index("Pain by day, newest first"):]
    cells = (r'<tr><td data-label="Day">[^<]+</td><td data-label="Entries">(\d+)</td>\s*'
             r'<td data-label="Average pain now">([^<]+)</td>\s*'
             r'<td data-label="Worst pain">([^<]+)</td>')
    assert re.findall(cells, table)[:2] == [("2", "4.0", "5"), ("1", "6.0", "8")]
    assert page.count("pain now ") == 2  # today's entries only


def test_every_link_on_a_patients_overview_opens_for_clinicians_and_researchers(app_client):
    ensure_patient(app_client.app, "P001")
    for role, expected in (("clinician", 9), ("researcher", 8)):  # the menu's sections
        login_as(app_client, role)
        links = re.findall(r'href="(/patients/P001/[^"]+)"', app_client.get("/patients/P001").text)
        assert len(links) == expected, (role, links)
        for link in links:
            assert app_client.get(link).status_code == 200, (role, link)


def test_an_administrator_revokes_an_accounts_sign_in_and_opens_it_again(app_client, web_app):
    from stimwise.web.security.sessions import SESSION_COOKIE

    patient = TestClient(web_app)
    login_as(patient, "patient", "P001")
    login_as(app_client, "administrator")
    assert app_client.post("/api/v1/users/administrator-1/revoke").status_code == 422
    assert app_client.post("/api/v1/users/nobody/revoke").status_code == 422
    assert app_client.post("/api/v1/users/pt-P001/revoke").status_code == 204
    assert patient.get("/api/v1/auth/me").status_code == 401  # the live session ended
    patient.cookies.delete(SESSION_COOKIE)
    patient.headers.pop("X-CSRF-Token")
    login = {"username": "pt-P001", "password": PASSWORD}
    assert patient.post("/api/v1/auth/login", json=login).status_code == 401
    listed = {u["username"]: u["can_sign_in"] for u in app_client.get("/api/v1/users").json()}
    assert listed == {"administrator-1": True, "pt-P001": False}
    weak = app_client.put("/api/v1/users/pt-P001/password", json={"password": "short"})
    assert weak.status_code == 422 and "short" not in weak.text
    token = app_client.headers.pop("X-CSRF-Token")
    page = app_client.post("/users/password", data={
        "csrf_token": token, "username": "pt-P001", "password": "a fresh passphrase"})
    assert page.status_code == 303
    login["password"] = "a fresh passphrase"
    assert patient.post("/api/v1/auth/login", json=login).status_code == 200
    actions = [e.action for e in audit_rows(web_app)]
    assert "revoke_sign_in" in actions and "reset_password" in actions


def test_the_patient_list_finds_a_pseudonym(app_client):
    for pseudonym in ("P001", "P002", "Q777"):
        ensure_patient(app_client.app, pseudonym)
    login_as(app_client, "researcher")
    page = app_client.get("/patients", params={"q": "p00"}).text
    assert "Found 2 patients (of 3)" in page and ">P002<" in page and ">Q777<" not in page


def test_a_clinician_records_an_adverse_event_and_a_researcher_may_not(app_client):
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "researcher")
    assert app_client.get("/patients/P001/adverse-events/new").status_code == 403
    login_as(app_client, "clinician")
    assert app_client.get("/patients/P001/diary").text.count("/adverse-events/new") == 1
    token = app_client.headers.pop("X-CSRF-Token")
    form = {"csrf_token": token, "kind": "burn", "severity": "moderate",
            "occurred_at": "2026-01-12T10:15:00+00:00"}
    bad = app_client.post("/patients/P001/adverse-events/new", data={**form, "kind": "zap"})
    assert bad.status_code == 422 and 'href="#field-kind"' in bad.text
    done = app_client.post("/patients/P001/adverse-events/new", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/patients/P001/diary"
    listing = app_client.get("/patients/P001/diary").text
    assert "Burn (moderate)" in listing


def test_a_clinician_edits_and_removes_identifying_data_on_the_patient_page(app_client):
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "clinician")
    token = app_client.headers.pop("X-CSRF-Token")
    url = "/patients/P001/identity"
    bad = app_client.post(url, data={"csrf_token": token, "full_name": "Cy", "date_of_birth": "x"})
    assert bad.status_code == 422 and 'href="#field-date_of_birth"' in bad.text
    saved = app_client.post(url, data={"csrf_token": token, "full_name": "Cy Example",
                                       "date_of_birth": "1970-05-04"})
    assert saved.status_code == 303
    assert "Cy Example" in app_client.get("/patients/P001").text
    assert app_client.post(url, data={"csrf_token": token, "full_name": ""}).status_code == 303
    assert "Cy Example" not in app_client.get("/patients/P001").text
    login_as(app_client, "researcher")
    page = app_client.get("/patients/P001").text
    assert "Identifying data" not in page
    assert app_client.post(url, data={"csrf_token": app_client.headers["X-CSRF-Token"],
                                      "full_name": "Z"}).status_code == 403


def test_inputs_that_schemathesis_found_breaking_the_server_are_refused_or_normalised(app_client):
    """Issue 17: an empty contact or adverse-event description made the FHIR export answer 503
    for good; a session_id above 2**63 gave a 500; date_of_birth 0 was stored as 1970-01-01."""
    login_as(app_client, "clinician")
    made = app_client.post("/api/v1/patients", json={
        "pseudonym": "P300", "enrolled_on": "2025-03-01",
        "identity": {"full_name": "Ann Example", "contact": ""}})
    assert made.status_code == 201, made.text
    event = app_client.post("/api/v1/patients/P300/adverse-events", json={
        "occurred_at": "2025-03-02T10:00:00+00:00", "kind": "flare", "severity": "mild",
        "description": ""})
    assert event.status_code == 201, event.text
    assert app_client.get("/api/v1/patients/P300/fhir").status_code == 200
    for session_id in (2**63 + 1, 2**31):
        huge = app_client.post("/api/v1/patients/P300/adverse-events", json={
            "occurred_at": "2025-03-02T10:00:00+00:00", "kind": "flare", "severity": "mild",
            "session_id": session_id})
        assert huge.status_code == 422 and huge.json()["problems"][0]["path"] == "session_id"
    zero = app_client.put("/api/v1/patients/P300/identity",
                          json={"full_name": "Ann Example", "date_of_birth": 0})
    assert zero.status_code == 422 and zero.json()["problems"][0]["path"] == "date_of_birth"


def test_head_login_answers_and_the_exports_page_links_the_fhir_export(app_client):
    """Issue 17, defect 9: HEAD /login was 405; the FHIR export had no link on any page (it is
    on the exports page of the per-patient menu, issue 16)."""
    assert app_client.head("/login").status_code == 200
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "clinician")
    page = app_client.get("/patients/P001/exports").text
    link = re.search(r'href="([^"]+/fhir)" download', page).group(1)
    assert app_client.get(link).status_code == 200


def test_every_static_file_is_compressed_cacheable_and_linked_by_version(app_client):
    """Issue 17, speed: a 4.8 MB chart script went out uncompressed on every page."""
    login_as(app_client, "clinician")
    page = app_client.get("/patients").text
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{16})"', page).group(1)
    answer = app_client.get(css, headers={"accept-encoding": "gzip"})
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-encoding"] == "gzip"
    etag = answer.headers["etag"]
    again = app_client.get(css, headers={"if-none-match": etag})
    assert again.status_code == 304 and not again.content
    raw = app_client.get("/static/plots.js", headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert int(raw.headers.get("content-length", 0)) < len(app_client.get("/static/plots.js")
                                                           .content)
    assert raw.headers["cache-control"].startswith("public, max-age=300")  # not versioned
    assert app_client.get("/static/nothing.js").status_code == 404
