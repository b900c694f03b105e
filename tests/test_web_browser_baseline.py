"""Browser tests of issue 17, defect 5: a person whose first session was on the enrolment day.

The response page says what the verdict still needs and leads to the baseline page; a therapy
start set after the fitting trial (with its reason) gives the verdict; a clinician records
recalled baseline days on a phone. Its own server, seeded with the two people these tests need;
Chromium and the page helpers are those of ``test_web_browser``.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn

from baseline_people import enrolment_day_person, steady_diary
from browser_fixtures import free_port, new_page, require_chromium, shot, sign_in
from test_web_inbox import log_flagged_session
from web_fixtures import app_on, ensure_user, web_settings

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # the shared Chromium fixture ``browser``
require_chromium()

TRIAL, NEW = "BRW-TRIAL-01", "BRW-NEW-01"
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fitting trial on the enrolment day 62 days ago, a baseline diary for two weeks, then
    daily sessions; and a person enrolled yesterday with a session that day."""
    folder = tmp_path_factory.mktemp("browser-baseline")
    app = app_on(web_settings(f"sqlite:///{folder / 'web.sqlite3'}"))
    ensure_user(app, "clinician-1", "clinician")
    enrolment_day_person(app.state.db, TRIAL, TODAY - timedelta(days=62),
                         {**steady_diary(0, 13, 7), **steady_diary(14, 61, 3, seed=1)},
                         [0, *range(14, 62)])
    enrolment_day_person(app.state.db, NEW, TODAY - timedelta(days=1), {}, [0])
    log_flagged_session(app)  # P001 logs a 150 Hz session on a prescription locked to 80-100
    port = free_port()
    uvi = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvi.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvi.should_exit = True
    thread.join(10)


def test_HAZ123_a_verdict_for_a_person_whose_first_session_was_on_the_enrolment_day(
        server, browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, server, "clinician-1")
    page.goto(f"{server}/patients/{TRIAL}/response")
    assert "Verdict: not enough data yet" in page.inner_text("main")
    assert "7 more days with a pain score between" in page.inner_text("#verdict-reasons")
    shot(page, "30-response-baseline-missing")
    page.click("#record-baseline")
    page.wait_for_url(f"**/patients/{TRIAL}/baseline")
    assert "cannot be recalled" in page.inner_text("main")
    shot(page, "31-baseline-missing")
    page.fill("#field-therapy_start_on", (TODAY - timedelta(days=48)).isoformat())
    page.fill("#field-reason", "fitting trial on the enrolment day; baseline diary for 2 weeks")
    page.click("text=Save the therapy start")
    page.wait_for_url("**/response?done=start")
    assert "Verdict: substantial responder" in page.inner_text("main")
    assert "fitting trial on the enrolment day" in page.inner_text("#therapy-start")
    shot(page, "32-response-verdict-after-therapy-start")
    assert page.js_errors == [], page.js_errors


def test_HAZ122_recalled_baseline_days_on_a_phone(server, browser):
    phone = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                     has_touch=True)
    sign_in(phone, server, "clinician-1")
    phone.goto(f"{server}/patients/{NEW}/baseline")
    fields = phone.locator("input[name^=pain-]")
    assert fields.count() >= 7
    for index in range(7):
        fields.nth(index).fill("7")
    shot(phone, "33-baseline-recalled-phone")
    phone.click("text=Store recalled days")
    phone.wait_for_url("**/baseline?done=recalled")
    assert "the first verdict can be given on" in phone.inner_text("#baseline-missing")
    assert phone.locator("text=recalled afterwards").count() == 7
    shot(phone, "34-baseline-stored-phone")
    phone.goto(f"{server}/patients/{NEW}/response")
    shot(phone, "35-response-baseline-recalled-phone")
    phone.goto(f"{server}/patients/{NEW}/diary")
    assert phone.locator("text=recalled afterwards").count() == 7
    shot(phone, "36-diary-recalled-phone")
    assert phone.js_errors == [], phone.js_errors


def test_HAZ124_a_flagged_self_logged_session_waits_in_the_inbox(server, browser):
    for name, viewport in (("desktop", {"width": 1280, "height": 900}),
                           ("phone", {"width": 390, "height": 844})):
        page = new_page(browser, viewport=viewport)
        sign_in(page, server, "clinician-1")
        assert int(page.inner_text("#inbox-link .count-badge")) >= 1
        page.click("#inbox-link")
        item = page.inner_text("#inbox-sessions")
        assert "pulse rate 150 Hz outside the prescribed 80–100 Hz" in item and "P001" in item
        shot(page, f"37-inbox-flagged-session-{name}")
        assert page.js_errors == [], page.js_errors
    page.locator("#inbox-sessions button:has-text('Acknowledge')").first.click()
    page.wait_for_url("**/inbox?acknowledged=1")
    assert page.locator("#inbox-sessions").count() == 0
