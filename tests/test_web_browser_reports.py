"""Browser test of issue 16, items 2 and 3, in Chromium: a clinician prescribes through the
protocol and site pickers with a review date, finds the patient on the due-for-review list,
runs a session, and downloads the signed session and progress reports.

Every page passes ``check_page`` (no serious or critical axe violation, no machine text, no
sideways scrolling, no JavaScript error) on a desktop and on a phone. The PDFs are read back
(clinic, clinician, signature and date line, no machine text) and drawn as PNG images with
``pdftoppm`` into ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from browser_fixtures import (
    DESKTOP,
    PHONE,
    SHOTS,
    check_page,
    machine_text,
    new_page,
    require_chromium,
    sign_in,
)
from test_web_clinical_support import example_intake

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]
require_chromium()

PATIENT = "BRW-REP-01"
CLINIC = {"STIMWISE_CLINIC_NAME": "Riverside Physiotherapy",
          "STIMWISE_CLINIC_ADDRESS": "12 Mill Lane, Exampleton EX1 2AB",
          "STIMWISE_CLINIC_PHONE": "+44 1234 567890",
          "STIMWISE_REPORT_TIME_ZONE": "Europe/London"}


@pytest.fixture(scope="module")
def clinic_settings():
    """The clinic's details from the environment, as an operator sets them (read when the
    module's server is made, so this fixture is requested before ``server``)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CLINIC.items():
            patch.setenv(name, value)
        yield CLINIC


def pdf_pages(content: bytes, name: str) -> str:
    """The PDF's text; its pages are also drawn as PNG images for review (pdftoppm)."""
    assert content.startswith(b"%PDF")
    folder = SHOTS.parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pdf"
    path.write_bytes(content)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(SHOTS / name)],
                       check=True, timeout=60)
        assert sorted(SHOTS.glob(f"{name}-*.png")), "pdftoppm drew no page"
    elif os.environ.get("CI"):  # pragma: no cover - CI installs poppler-utils
        pytest.fail("CI must install pdftoppm (poppler-utils; .ci/run does)", pytrace=False)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def download(page, selector: str) -> bytes:
    with page.expect_download() as made:
        page.click(selector)
    return Path(made.value.path()).read_bytes()


def assert_signed(text: str, title: str) -> None:
    flat = " ".join(text.split())
    for expected in (title, "Riverside Physiotherapy", "12 Mill Lane, Exampleton EX1 2AB",
                     "Telephone +44 1234 567890", "Clinician: clinician-1", "Signature: ___",
                     "Date: ___", "Europe/London", "not a certified medical device"):
        assert expected in flat, expected
    assert machine_text_of(text) == []


def machine_text_of(text: str) -> list[str]:
    from browser_fixtures import LONG_DECIMAL, SNAKE_CASE

    return sorted(set(SNAKE_CASE.findall(text)) | set(LONG_DECIMAL.findall(text)))


def record_intake(page, server: str) -> None:
    """The intake through the API (the intake form is another part of issue 16)."""
    token = page.get_attribute("input[name=csrf_token]", "value")
    answer = page.request.post(f"{server}/api/v1/patients/{PATIENT}/intakes",
                               data=example_intake("crps-allodynia", PATIENT),
                               headers={"X-CSRF-Token": token})
    assert answer.status == 201, answer.text()


def run_a_session(page, server: str) -> None:
    """A session on the simulated stimulator, stopped with the emergency stop."""
    page.goto(f"{server}/patients/{PATIENT}/session")
    page.fill("#field-target_ma", "2")
    page.click("#live-start-button")
    page.wait_for_selector("#live-prompt:not([hidden])")
    page.locator("#live-answers button", has_text="6").first.click()
    page.wait_for_selector("#live-answers button:has-text('OK')")
    page.locator("#live-answers button", has_text="OK").first.click()
    page.wait_for_function(
        "() => ['ramping', 'running'].includes(document.getElementById('live-console')"
        ".dataset.state) && parseFloat(document.getElementById('live-applied').textContent) > 0")
    page.click("#live-estop")
    page.wait_for_selector("#live-result:not([hidden])")
    assert "Saved in the record" in page.inner_text("#live-result")


def test_prescribe_with_review_date_then_signed_session_and_progress_reports(
        clinic_settings, server, browser):
    page = new_page(browser, viewport=DESKTOP, accept_downloads=True)
    sign_in(page, server, "clinician-1")
    page.goto(f"{server}/patients/new")
    page.fill("#field-pseudonym", PATIENT)
    page.fill("#field-enrolled_on", "2025-06-01")
    page.click("form.stack button[type=submit], form button[type=submit] >> nth=-1")
    page.wait_for_url(f"**/patients/{PATIENT}")
    record_intake(page, server)

    # ---- prescribe through the pickers, with a review date in five days
    page.goto(f"{server}/patients/{PATIENT}/prescribe")
    page.wait_for_load_state("networkidle")
    check_page(page, "rep-01-prescribe-desktop")
    assert page.locator("select[name=protocol_id]").count() == 1
    page.select_option("#field-protocol_id", label="Gentle sensory TENS for CRPS (proximal or "
                       "contralateral placement, slow ramps)")
    page.click("button[name=action][value=load]")
    page.wait_for_load_state("networkidle")
    page.select_option("#field-channels-0-active_site", label="Left upper arm, front")
    page.select_option("#field-channels-0-return_site", label="Left elbow")
    review_on = datetime.now(UTC).date() + timedelta(days=5)
    page.fill("#field-review_on", review_on.isoformat())
    page.wait_for_function(
        "() => document.getElementById('live-check').textContent.includes('can be stored')")
    assert "Home use: the top of the home amplitude range" in page.inner_text("#home-rule")
    check_page(page, "rep-02-prescribe-ready-desktop")
    page.click("button[name=action][value=save]")
    page.wait_for_url(f"**/patients/{PATIENT}/prescriptions?saved=*")
    notice = page.inner_text("[role=status]")
    assert f"review on {review_on.day} {review_on:%b %Y}" in notice
    check_page(page, "rep-03-prescriptions-desktop")

    # ---- the due-for-review list links the patient
    page.click("nav[aria-label=Main] >> text=Reviews due")
    page.wait_for_url("**/reviews")
    row = page.locator("table.review-list tr", has_text=PATIENT)
    assert row.count() == 1 and "Due in 5 days" in row.inner_text()
    check_page(page, "rep-04-reviews-desktop")
    row.locator(f"a[href='/patients/{PATIENT}']").click()
    page.wait_for_url(f"**/patients/{PATIENT}")

    # ---- a session, its signed report and PDF
    run_a_session(page, server)
    page.click("#live-result a")
    page.wait_for_url(f"**/patients/{PATIENT}/sessions/*/report")
    session_url = page.url
    main = page.inner_text("main")
    assert "Session aborted before the planned end" in main and "left upper arm, front" in main
    assert "Riverside Physiotherapy" in main and "Signature:" in main
    check_page(page, "rep-05-session-report-desktop")
    text = pdf_pages(download(page, "a:has-text('Download PDF')"), "rep-session-report")
    assert_signed(text, "Session report")
    assert "Gentle sensory TENS for CRPS" in " ".join(text.split())

    # ---- the progress report and its PDF
    page.goto(f"{server}/patients/{PATIENT}/report")
    main = page.inner_text("main")
    assert "Progress report" in main and "planned 5 a week of 20 min" in main
    assert "per week" not in main
    check_page(page, "rep-06-progress-report-desktop")
    text = pdf_pages(download(page, "a:has-text('Download PDF')"), "rep-progress-report")
    assert_signed(text, "Progress report")

    # ---- the same pages on a phone
    phone = new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(phone, server, "clinician-1")
    for name, path in (("prescribe", f"/patients/{PATIENT}/prescribe"), ("reviews", "/reviews"),
                       ("session-report", session_url.removeprefix(server)),
                       ("progress-report", f"/patients/{PATIENT}/report")):
        phone.goto(server + path)
        phone.wait_for_load_state("networkidle")
        check_page(phone, f"rep-07-{name}-phone")
    assert machine_text(phone) == []
