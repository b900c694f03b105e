"""Reads made cheaper for the load benchmark (issue 17, speed) keep their guarantees: a read is
shown only once its audit entry is written; the diary list is paged; kept results (screening,
suggestion, waveform views) are the ones computed afresh; the server's linear algebra runs on
one thread unless the operator says otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from stimwise.records.access import Actor
from stimwise.records.inputs import DiaryEntryIn
from stimwise.records.repository import add_diary_entries
from test_web_clinical_support import CRPS, screened_patient, synthetic_patient
from web_fixtures import ensure_patient, login_as

pytest_plugins = ["web_fixtures"]


def test_a_read_whose_audit_entry_cannot_be_written_shows_nothing(app_client, monkeypatch):
    login_as(app_client, "patient", "P001")
    app_client.post("/api/v1/patients/P001/diary", json={
        "recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 4, "note": "okapi"})

    def broken(*_args, **_kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("stimwise.web.services.audit.log_action", broken)
    for path in ("/api/v1/patients/P001/diary", "/patients/P001/diary"):
        answer = app_client.get(path)
        assert answer.status_code == 500 and "okapi" not in answer.text


def test_the_diary_list_comes_in_pages_of_50_newest_first(app_client):
    ensure_patient(app_client.app, "P001")
    start = datetime(2025, 3, 1, 20, tzinfo=UTC)
    with app_client.app.state.db.transaction() as session:
        add_diary_entries(session, Actor("dr", "clinician"), "P001", [
            DiaryEntryIn(recorded_at=start + timedelta(hours=6 * i), pain_current_nrs=i % 11,
                         note=f"entry-{i:03d}") for i in range(120)])
    login_as(app_client, "clinician")
    pages, path = [], "/patients/P001/diary"
    while path:
        html = app_client.get(path).text
        pages.append(re.findall(r"entry-(\d{3})", html))
        earlier = re.search(r'href="(/patients/P001/diary\?before=[^"]+)" id="diary-earlier"',
                            html)
        path = earlier.group(1).replace("&amp;", "&") if earlier else None
        assert ("Latest entries</a>" in html) == (len(pages) > 1)
    assert [len(p) for p in pages] == [50, 50, 20]
    shown = [int(n) for page in pages for n in page]
    assert shown == list(range(119, -1, -1))  # every entry once, newest first


def test_kept_screening_and_suggestion_are_those_computed_afresh(app_client):
    from stimwise.web.services import clinical, response

    login_as(app_client, "clinician")
    screened_patient(app_client)
    db, actor = app_client.app.state.db, Actor("dr", "clinician")
    first = clinical.recommendations(db, actor, CRPS)
    again = clinical.recommendations(db, actor, CRPS)
    assert again[1] is first[1]  # kept
    fresh = clinical.recommend(first[0].intake, clinical.screen(first[0].intake))
    assert fresh == first[1] and again[0].screening == first[0].screening
    person = synthetic_patient(app_client.app)
    shown = response.dashboard(db, actor, person).suggestion
    assert response.dashboard(db, actor, person).suggestion is shown  # kept
    with db.reading() as session:
        series = response.load_series(session, actor, person)
        stored = response.load_prescription(session, actor, person)
    recomputed = response._suggestion(series, stored, response.DEFAULT_SEED)
    assert recomputed.proposal.plan_fingerprint == shown.proposal.plan_fingerprint
    assert recomputed.proposal is not shown.proposal


def test_the_server_runs_linear_algebra_on_one_thread_unless_told_otherwise(monkeypatch):
    from stimwise.cli.serve import NUMERIC_THREAD_VARIABLES, one_thread_numerics

    for variable in NUMERIC_THREAD_VARIABLES:  # recorded, so that the test leaves them as found
        monkeypatch.setenv(variable, "recorded")
        monkeypatch.delenv(variable)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    one_thread_numerics()
    import os

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "4"


def test_no_database_work_runs_in_the_event_loop(app_client, monkeypatch):
    """A database read or write inside the event loop holds up every other request (and the
    live consoles' messages) while it waits: the CSRF check of a write, an error page and the
    console pages read the session and the inbox count in worker threads."""
    import asyncio

    from stimwise.records.database import Database

    on_loop: list[str] = []

    def probe(original):
        def wrapped(self):
            try:
                asyncio.get_running_loop()
                on_loop.append(original.__name__)
            except RuntimeError:
                pass
            return original(self)
        return wrapped

    monkeypatch.setattr(Database, "reading", probe(Database.reading))
    monkeypatch.setattr(Database, "transaction", probe(Database.transaction))
    ensure_patient(app_client.app, "P001")
    login_as(app_client, "clinician")
    assert app_client.post("/api/v1/patients/P001/diary", json={
        "recorded_at": "2026-01-10T09:00:00+00:00", "pain_current_nrs": 4}).status_code == 201
    assert app_client.get("/patients/NOBODY-01").status_code == 404  # an error page
    assert app_client.get("/patients/P001/session").status_code == 200
    assert app_client.post("/patients/P001/baseline/start", headers={"X-CSRF-Token": "wrong"},
                           data={"therapy_start_on": ""}).status_code == 403  # page refused
    assert on_loop == []


def test_pages_render_without_checking_the_template_files_on_every_request(app_client,
                                                                            monkeypatch):
    import jinja2.loaders

    login_as(app_client, "patient", "P001")
    app_client.get("/me")  # the templates are compiled once
    checked = []
    real = jinja2.loaders.os.path.getmtime
    monkeypatch.setattr(jinja2.loaders.os.path, "getmtime",
                        lambda path: checked.append(path) or real(path))
    assert app_client.get("/me").status_code == 200
    assert [p for p in checked if p.endswith(".html")] == []


def test_requests_run_on_as_many_threads_as_the_setting_allows(tmp_path):
    """A small thread pool takes handlers in turn (settings.web_threads): with the library's 40,
    page p95 at 32 users was about twice as long (docs/web.md)."""
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from web_fixtures import app_on, web_settings

    app = app_on(web_settings(f"sqlite:///{tmp_path / 'w.sqlite3'}", web_threads=3))
    try:
        with TestClient(app) as client:
            tokens = client.portal.call(
                lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
            assert tokens == 3
            assert client.get("/login").status_code == 200
    finally:
        app.state.db.close()
