"""Browser tests of the main paths: the real application under uvicorn on loopback, in Chromium.

(a) a clinician signs in, creates a patient, fills the intake form, sees the screening verdict,
prescribes a recommended protocol, runs a simulated session, presses EMERGENCY STOP and finds
the aborted session in the patient's record; (b) a patient writes a diary entry on a phone-sized
viewport; (c) a patient cannot reach another patient's pages or API; the live console; the inbox;
the home programme on the person's own device. Fixtures and page checks: ``browser_fixtures``.
"""

from __future__ import annotations

import time

import pytest

from browser_fixtures import new_page, require_chromium, shot, sign_in

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]
require_chromium()

PATIENT = "BRW-CRPS-01"
NO_LISTS = ("implants", "external_devices", "thromboses", "arterial_disease", "malignancies",
            "radiotherapy", "surgeries_and_fractures", "skin", "sensation", "allodynia")


def fill_intake(page) -> None:
    """The intake page by its input names (``test_web_browser_intake.py`` completes it by the
    words a clinician reads)."""
    page.fill('[name="age_years"]', "52")
    for name, value in (("sex", "female"), ("pregnancy", "not_pregnant"),
                        ("diagnoses.__answer", "yes"), ("diagnoses.0.kind", "crps"),
                        ("diagnoses.0.crps_type", "I"), ("can_report_sensations", "yes"),
                        ("cognition", "intact"), ("carer", "none"),
                        ("home_use.planned", "false")):
        page.check(f'[name="{name}"][value="{value}"]')
    page.fill('[name="diagnoses.0.affected_sites.__typed"]', "left leg (whole)")
    page.press('[name="diagnoses.0.affected_sites.__typed"]', "Enter")
    page.fill('[name="pain_sites.__typed"]', "left foot")
    page.press('[name="pain_sites.__typed"]', "Enter")
    for name in ("cardiac.arrhythmia", "cardiac.heart_failure",
                 "cardiac.recent_myocardial_infarction", "epilepsy", "bleeding_tendency",
                 "parkinsons_disease", "anticoagulant_therapy"):
        page.check(f'[name="{name}"][value="no"]')
    for section in NO_LISTS:
        page.check(f'[name="{section}.__answer"][value="no"]')


def answer_prompt(page, label: str) -> None:
    page.locator("#live-answers button", has_text=label).first.click()


def test_clinician_screens_prescribes_and_emergency_stops_a_session(server, browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, server, "clinician-1")
    shot(page, "01-patients")
    page.goto(f"{server}/patients/new")
    page.fill("#field-pseudonym", PATIENT)
    page.fill("#field-enrolled_on", "2025-06-01")
    page.click("form.stack button[type=submit], form button[type=submit] >> nth=-1")
    page.wait_for_url(f"**/patients/{PATIENT}")
    shot(page, "02-patient-overview")

    page.goto(f"{server}/patients/{PATIENT}/intake")
    fill_intake(page)
    shot(page, "03-intake")
    page.click('button[name="action"][value="save"]')
    page.wait_for_url(f"**/patients/{PATIENT}/screening")
    assert "Decision: Eligible" in page.inner_text("main")
    assert "eligible" in page.inner_text("main").lower()
    shot(page, "04-screening")

    page.goto(f"{server}/patients/{PATIENT}/recommendations")
    shot(page, "05-recommendations")
    page.locator("a", has_text="Prescribe this").first.click()
    page.wait_for_url(f"**/patients/{PATIENT}/prescribe**")
    page.wait_for_load_state("networkidle")
    shot(page, "06-prescribe")
    page.click('button[name="action"][value="save"]')
    page.wait_for_url(f"**/patients/{PATIENT}/prescriptions?saved=*")
    assert "passed the safety verification" in page.inner_text("main")

    page.goto(f"{server}/patients/{PATIENT}/session")
    page.fill("#field-target_ma", "2")
    page.click("#live-start-button")
    page.wait_for_selector("#live-prompt:not([hidden])")
    answer_prompt(page, "5")
    page.wait_for_selector("#live-answers button:has-text('OK')")
    answer_prompt(page, "OK")
    page.wait_for_function(
        "() => ['ramping', 'running'].includes(document.getElementById('live-console')"
        ".dataset.state) && parseFloat(document.getElementById('live-applied').textContent) > 0")
    shot(page, "07-live-session-running")
    page.click("#live-estop")
    page.wait_for_selector("#live-result:not([hidden])")
    result = page.inner_text("#live-result")
    assert "Session stopped early" in result and "emergency stop" in result
    assert "Saved in the record" in result
    shot(page, "08-live-session-aborted")

    page.click("#live-result a")  # the session report
    page.wait_for_url(f"**/patients/{PATIENT}/sessions/*/report")
    assert "aborted" in page.inner_text("main")
    page.goto(f"{server}/patients/{PATIENT}/session")
    assert "Stopped early" in page.inner_text("table.sessions")
    page.goto(f"{server}/patients/{PATIENT}")
    shot(page, "09-patient-record")
    assert page.js_errors == [], page.js_errors


def test_patient_writes_a_diary_entry_on_a_phone(server, browser):
    page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=2)
    sign_in(page, server, "pt-P001")
    shot(page, "10-patient-home-phone")
    page.goto(f"{server}/diary")
    for name, value in (("pain_current_nrs", 6), ("pain_average_nrs", 5), ("pain_worst_nrs", 8)):
        page.locator(f'label:has(input[name="{name}"][value="{value}"])').click()
    shot(page, "11-diary-phone")
    page.click("button:has-text('Save entry')")
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert "saved" in text.lower() or "today" in text.lower()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width} px)"
    listing = page.request.get(f"{server}/api/v1/patients/P001/diary")
    assert listing.status == 200 and listing.json()[-1]["pain_worst_nrs"] == 8
    assert page.js_errors == [], page.js_errors


def test_patient_runs_and_stops_a_home_session_on_a_phone(server, browser):
    page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=2)
    sign_in(page, server, "pt-P001")
    page.goto(f"{server}/home-session")
    low = float(page.get_attribute("#field-target_ma", "min"))
    high = float(page.get_attribute("#field-target_ma", "max"))
    assert 0 < low < high
    shot(page, "12-home-session-phone")
    page.click("#live-start-button")
    answer_prompt(page, "3")
    page.wait_for_selector("#live-answers button:has-text('OK')")
    answer_prompt(page, "OK")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('live-applied').textContent) > 0")
    assert float(page.inner_text("#live-ceiling")) == high  # the locked range's top
    page.click("#live-estop")
    page.wait_for_selector("#live-result:not([hidden])")
    assert "Session stopped early" in page.inner_text("#live-result")
    page.wait_for_selector("#live-sessions .badge.bad")  # the list refreshes with it
    shot(page, "13-home-session-stopped-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width} px)"
    assert page.js_errors == [], page.js_errors


def test_patient_cannot_reach_another_patients_pages_or_api(server, browser):
    page = new_page(browser, viewport={"width": 390, "height": 844})
    sign_in(page, server, "pt-P002")
    for path in ("/patients/P001", "/patients/P001/diary", "/patients/P001/session",
                 f"/patients/{PATIENT}/report"):
        assert page.goto(f"{server}{path}").status == 403, path
    shot(page, "14-forbidden")
    for path in ("/api/v1/patients/P001", "/api/v1/patients/P001/diary",
                 "/api/v1/patients/P001/fhir"):
        assert page.request.get(f"{server}{path}").status == 403, path
    own = page.request.get(f"{server}/api/v1/patients/P002")
    assert own.status == 200


ESTOP_ON_SCREEN = """() => {
  const button = document.getElementById('live-estop');
  const box = button.getBoundingClientRect();
  const inside = box.top >= 0 && box.left >= 0 && box.bottom <= window.innerHeight
    && box.right <= window.innerWidth && box.height >= 44;
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return inside && (hit === button || button.contains(hit));
}"""


def assert_estop_on_screen(page, state: str) -> None:
    """HAZ-110: the emergency stop is inside the viewport, not covered, and thumb-sized, after
    scrolling to the very bottom and back to the top."""
    for where in ("window.scrollTo(0, document.body.scrollHeight)", "window.scrollTo(0, 0)"):
        page.evaluate(where)
        assert page.evaluate(ESTOP_ON_SCREEN), f"emergency stop off screen ({state}, {where})"


@pytest.mark.parametrize("viewport", [(390, 844), (320, 568), (1280, 900)])
def test_HAZ110_emergency_stop_stays_on_screen_in_every_state(server, browser, viewport):
    """Issue 17, defect 3: on a 390×844 phone the button slid below the fold once stimulation
    ran. Checked before the start, with a question open, while stimulating and after the end."""
    width, height = viewport
    page = new_page(browser, viewport={"width": width, "height": height},
                    is_mobile=width < 800, has_touch=width < 800)
    sign_in(page, server, "pt-P001")
    page.goto(f"{server}/home-session")
    assert_estop_on_screen(page, "not started")
    page.click("#live-start-button")
    page.wait_for_selector("#live-prompt:not([hidden])")
    assert_estop_on_screen(page, "question open")
    question = page.inner_text("#live-question")
    assert question == "Pain now, 0 (none) to 10 (worst possible)?"  # defect 2: whole
    answer_prompt(page, "3")
    page.wait_for_selector("#live-answers button:has-text('OK')")
    answer_prompt(page, "OK")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('live-applied').textContent) > 0")
    assert_estop_on_screen(page, "stimulating")
    shot(page, f"15-estop-stimulating-{width}x{height}")
    page.click("#live-estop")
    page.wait_for_selector("#live-result:not([hidden])")
    assert_estop_on_screen(page, "ended")
    shot(page, f"16-estop-ended-{width}x{height}")
    assert page.js_errors == [], page.js_errors


def test_console_walk_ramps_to_level_and_plus_ma_is_applied(server, browser):
    """Issue 17, defect 1 (console side): the session ramps to the typed level, + mA raises the
    target, and a refused command says why on the console. The ramp reaching "running" depends
    on the runtime fix of the last ramp step (engineer `delivery`, session/runtime.py)."""
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, server, "clinician-1")
    page.goto(f"{server}/patients/{PATIENT}/session")
    page.fill("#field-target_ma", "2")
    page.click("#live-start-button")
    page.wait_for_selector("#live-prompt:not([hidden])")
    page.click("[data-command=increase]")  # before stimulation: refused, with the reason
    page.wait_for_function("() => document.getElementById('live-message').textContent"
                           ".startsWith('+ mA was not applied')")
    assert "only while stimulation runs" in page.inner_text("#live-message")
    answer_prompt(page, "5")
    page.wait_for_selector("#live-answers button:has-text('OK')")
    answer_prompt(page, "OK")
    # RUNTIME-DEPENDENT: needs the ramp's last step to complete (issue 17 defect 1, runtime).
    page.wait_for_function(
        "() => document.getElementById('live-console').dataset.state === 'running'",
        timeout=60_000)
    assert float(page.inner_text("#live-applied")) == pytest.approx(2.0, abs=0.05)
    before = float(page.inner_text("#live-target"))
    page.click("[data-command=increase]")
    page.wait_for_function(
        f"() => parseFloat(document.getElementById('live-target').textContent) > {before}")
    shot(page, "17-console-plus-ma-applied")
    page.click("#live-estop")
    page.wait_for_selector("#live-result:not([hidden])")
    assert page.js_errors == [], page.js_errors


def test_a_patients_problem_report_reaches_the_clinicians_inbox(server, browser):
    phone = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                     has_touch=True)
    sign_in(phone, server, "pt-P001")
    phone.goto(f"{server}/diary/problem")
    phone.select_option("#field-kind", "skin_irritation")
    phone.locator("label:has(input[name=severity][value=mild])").click()
    phone.fill("#field-description", "red patch under the lower electrode")
    phone.click("form button[type=submit] >> nth=-1")
    phone.wait_for_url("**/diary?reported=1")
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, server, "clinician-1")
    assert int(page.inner_text("#inbox-link .count-badge")) >= 1
    page.click("#inbox-link")
    assert "red patch under the lower electrode" in page.inner_text("main")
    shot(page, "18-inbox")
    count = page.locator(".inbox-item").count()
    page.locator(".inbox-item button:has-text('Acknowledge')").first.click()
    page.wait_for_url("**/inbox?acknowledged=1")
    assert page.locator(".inbox-item").count() == count - 1
    assert page.js_errors == [], page.js_errors


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
LOG_BUDGET_S = 30.0
"""The issue's target: a session logged on a phone in under 30 seconds of clicks."""


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} scrolls sideways on a phone ({width} px)"


def test_patient_logs_a_session_as_prescribed_on_a_phone_in_under_30_seconds(server, browser):
    page = new_page(browser, **PHONE)
    sign_in(page, server, "pt-P001")
    page.goto(f"{server}/my-device")  # first visit: the device is chosen once
    page.select_option("#field-profile", "tu-7000")
    page.click("button:has-text('Save my device')")
    page.wait_for_selector(".status-box")
    assert "Checked." in page.inner_text(".status-box")
    assert page.locator("figure.placement svg rect[data-site]").count() >= 2
    assert_no_sideways_scroll(page)
    shot(page, "20-my-device-phone")
    started = time.monotonic()
    page.goto(f"{server}/log-session")
    page.locator("label:has(input[name=as_prescribed][value='1'])").click()
    page.locator("label:has(input[name=felt][value=strong_comfortable])").click()
    page.locator("label:has(input[name=nrs_pre][value='6'])").click()
    page.locator("label:has(input[name=nrs_post][value='4'])").click()
    page.locator("label:has(input[name=skin][value=normal])").click()
    page.click("#save-session")
    page.wait_for_selector("#saved")
    elapsed = time.monotonic() - started
    print(f"logging a session as prescribed took {elapsed:.2f} s of clicks")  # the figure
    assert elapsed < LOG_BUDGET_S, f"logging took {elapsed:.1f} s of clicks"
    assert "Saved: 30 minutes" in page.inner_text("#saved")
    assert page.locator("#flagged").count() == 0
    assert_no_sideways_scroll(page)
    shot(page, "21-log-session-saved-phone")
    assert page.js_errors == [], page.js_errors


def test_HAZ144_an_out_of_range_log_on_a_phone_is_flagged_for_patient_and_clinician(
        server, browser):
    phone = new_page(browser, **PHONE)
    sign_in(phone, server, "pt-P001")
    phone.goto(f"{server}/log-session")
    assert phone.input_value("#field-profile") == "tu-7000"  # remembered
    phone.locator("label:has(input[name=as_prescribed][value='0'])").click()
    phone.fill("#field-settings-frequency_hz", "180")
    phone.locator("label:has(input[name=nrs_pre][value='5'])").click()
    shot(phone, "22-log-session-other-settings-phone")
    phone.click("#save-session")
    phone.wait_for_selector("#flagged")
    flagged = phone.inner_text("#flagged")
    assert "Your clinician will see this session" in flagged and "180 Hz" in flagged
    assert_no_sideways_scroll(phone)
    shot(phone, "23-log-session-flagged-phone")
    assert phone.js_errors == [], phone.js_errors
    desk = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(desk, server, "clinician-1")
    desk.goto(f"{server}/patients/P001/home-programme")
    row = desk.locator("table.self-logged tr.flagged").first
    assert "pulse rate 180 Hz outside the prescribed 80–150 Hz" in row.inner_text()
    assert "self-reported" in desk.inner_text("main")
    shot(desk, "24-home-programme-clinician")
    assert desk.js_errors == [], desk.js_errors
    desk.goto(f"{server}/my-device")  # a clinician has no "my device": refused, with why
    assert "for patient accounts only" in desk.inner_text("main")


def test_HAZ144_a_flagged_self_logged_session_appears_in_the_clinicians_inbox(server, browser):
    desk = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(desk, server, "clinician-1")
    desk.goto(f"{server}/inbox")
    text = desk.inner_text("main")
    shot(desk, "25-inbox-with-flagged-log")
    assert "P001" in text and "180 Hz" in text


def test_my_device_and_log_pages_on_a_desktop(server, browser):
    desk = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(desk, server, "pt-P001")
    desk.goto(f"{server}/my-device")
    shot(desk, "26-my-device-desktop")
    desk.goto(f"{server}/log-session")
    shot(desk, "27-log-session-desktop")
    assert "of 7" in desk.inner_text("table.adherence")
    assert "self-reported" in desk.inner_text(".provenance")
    assert desk.js_errors == [], desk.js_errors
