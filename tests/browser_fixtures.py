"""Browser-test support, loaded as a plugin (``pytest_plugins = ["browser_fixtures"]``).

The real application under uvicorn on loopback (a temporary SQLite database), Chromium driven by
Playwright, and the checks every page must pass whatever it shows: no serious or critical
accessibility violation (axe-core, through ``axe-playwright-python``) and visible text in words
(no ``snake_case`` identifiers, no number with more than three decimals). Each area of the
application has its own ``tests/test_web_browser_*.py`` module that uses these fixtures.

Screenshots go to ``test-artifacts/screenshots/`` for review. Uses the Debian ``chromium``
(``.ci/run`` installs it); the modules skip where it is missing, except under CI, where a missing
browser fails the run instead of hiding the browser tests (:func:`require_chromium`).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from stimwise.analysis.from_records import cohort_prescription
from stimwise.records.access import Actor
from stimwise.records.repository import add_prescription
from stimwise.session.runtime import SessionSettings
from web_fixtures import ENROLLED_ON, PASSWORD, app_on, ensure_user, web_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def require_chromium() -> None:
    """Skip the calling module without Chromium, or fail under CI (which must install it)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):  # pragma: no cover - CI installs it
        pytest.fail("CI must install Chromium at /usr/bin/chromium (.ci/run does)", pytrace=False)
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


class ServerUrl(str):
    """The served application's base address (a ``str``, as before), carrying the application
    itself as ``.app`` so a test module can seed records in its database."""

    app: object


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The application on a temporary SQLite database, served by uvicorn in a thread."""
    folder = tmp_path_factory.mktemp("browser")
    app = app_on(web_settings(f"sqlite:///{folder / 'web.sqlite3'}"))
    app.state.live_journal_dir = folder / "journals"
    app.state.live_session_settings = SessionSettings(calibration_step_s=0.2, rest_s=0.2)
    ensure_user(app, "clinician-1", "clinician")
    ensure_user(app, "pt-P001", "patient", "P001")
    ensure_user(app, "pt-P002", "patient", "P002")
    with app.state.db.transaction() as session:  # a home programme with locked ranges for P001
        add_prescription(session, Actor("browser-setup", "clinician"), "P001",
                         cohort_prescription().model_copy(update={"valid_from": ENROLLED_ON}))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws="websockets-sansio")
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvi.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    base = ServerUrl(f"http://127.0.0.1:{port}")
    base.app = app
    yield base
    uvi.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, **context_options):
    """A page in a fresh context that records JavaScript errors in ``page.js_errors``."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.js_errors = errors
    return page


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#field-username", username)
    page.fill("#field-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:500]


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# --------------------------------------------------------------------------- checks on every page

SERIOUS_IMPACTS = frozenset({"serious", "critical"})
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
LONG_DECIMAL = re.compile(r"(?<![\w/.])\d+\.\d{4,}(?![\w/])")
"""A number with more than three decimals (not a DOI such as ``10.3233/BMR-160667``)."""


def serious_axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (rule, impact,
    the first offending elements)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS_IMPACTS
    ]


def machine_text(page) -> list[str]:
    """Pieces of the visible text a person should not have to read: ``snake_case``
    identifiers and numbers with more than three decimals."""
    text = page.evaluate("document.body.innerText")
    return sorted(set(SNAKE_CASE.findall(text)) | set(LONG_DECIMAL.findall(text)))


def horizontal_overflow_px(page) -> int:
    """How far the page scrolls sideways (0 when nothing is wider than the viewport)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")


def page_problems(page) -> list[str]:
    """Everything on the open page that breaks the rules every page must keep, one line each
    (empty: none): serious or critical axe violations, machine text, sideways scrolling,
    JavaScript errors."""
    problems = [f"axe {violation}" for violation in serious_axe_violations(page)]
    problems += [f"machine text {text!r}" for text in machine_text(page)]
    overflow_px = horizontal_overflow_px(page)
    if overflow_px > 0:
        problems.append(f"scrolls sideways by {overflow_px} px")
    problems += [f"JavaScript error {error}" for error in page.js_errors]
    return problems


def check_page(page, name: str) -> None:
    """Screenshot the page and assert what every page must hold: no serious or critical axe
    violation, no machine text, no sideways scrolling, no JavaScript error."""
    shot(page, name)
    problems = page_problems(page)
    assert problems == [], f"{name}: " + "; ".join(problems)
