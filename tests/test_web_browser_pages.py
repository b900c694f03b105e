"""The sweep over every page: each role signs in and visits every HTML page of the application
on a 390x844 phone and a 1280x900 desktop, and each page must pass the checks every page keeps
(``browser_fixtures.page_problems``): no serious or critical axe-core violation, no
``snake_case`` identifier and no number with more than three decimals in the visible text, no
sideways scrolling, no JavaScript error.

The pages are filled from seeded records (a simulated person with sixteen weeks of diary and
sessions, an intake, identifying data, a self-logged session, a problem report), so each page
shows real content, not its empty state. ``test_every_html_page_is_in_the_sweep`` fails when a
GET route that answers with a page is neither swept nor listed as something else (a PDF, a
calendar file, a redirect), so the sweep stays complete as pages are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from fastapi.routing import APIRoute
from sqlalchemy import select

from browser_fixtures import (
    DESKTOP,
    PHONE,
    new_page,
    page_problems,
    require_chromium,
    shot,
    sign_in,
)
from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.from_records import write_cohort
from stimwise.clinical.examples import example_patient_path
from stimwise.clinical.intake import Intake
from stimwise.protocol.io import validate_model
from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.home_device import choose_device
from stimwise.records.inputs import AdverseEventIn, IdentityIn
from stimwise.records.models import PrescriptionRecord, SessionEntry
from stimwise.records.self_logged import log_self_session
from stimwise.web.app import ROUTERS
from web_fixtures import ensure_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest_plugins = ["browser_fixtures"]
require_chromium()

SETUP = Actor("sweep-setup", "clinician")
DEVICE = "enraf-tensmed-s84"
ROLES = ("clinician", "researcher", "patient", "administrator")
STAFF = ("clinician", "researcher")
PATIENT_AND_STAFF = ("clinician", "researcher", "patient")

PAGES: dict[str, tuple[str, ...]] = {
    "/login": ("anonymous",),
    "/account/password": ROLES,
    "/patients": STAFF,
    "/patients/new": ("clinician",),
    "/patients/{pseudonym}": STAFF,
    "/patients/{pseudonym}/intake": ("clinician",),
    "/patients/{pseudonym}/screening": STAFF,
    "/patients/{pseudonym}/recommendations": STAFF,
    "/patients/{pseudonym}/prescribe": ("clinician",),
    "/patients/{pseudonym}/prescriptions": STAFF,
    "/patients/{pseudonym}/prescriptions/{prescription_id}": STAFF,
    "/patients/{pseudonym}/session": ("clinician",),
    "/patients/{pseudonym}/diary": PATIENT_AND_STAFF,
    "/patients/{pseudonym}/adverse-events/new": ("clinician",),
    "/patients/{pseudonym}/response": STAFF,
    "/patients/{pseudonym}/baseline": STAFF,
    "/patients/{pseudonym}/nof1": STAFF,
    "/patients/{pseudonym}/home-programme": STAFF,
    "/patients/{pseudonym}/home-programme/sheet": STAFF,
    "/patients/{pseudonym}/report": PATIENT_AND_STAFF,
    "/patients/{pseudonym}/sessions/{session_id}/report": PATIENT_AND_STAFF,
    "/patients/{pseudonym}/exports": STAFF,
    "/inbox": ("clinician",),
    "/reviews": ("clinician",),
    "/users": ("administrator",),
    "/audit": ("administrator",),
    "/me": ("patient",),
    "/diary": ("patient",),
    "/diary/problem": ("patient",),
    "/my-device": ("patient",),
    "/my-device/sheet": ("patient",),
    "/log-session": ("patient",),
    "/home-session": ("patient",),
}
"""Every HTML page (route template) and the roles that may open it."""

NOT_PAGES: dict[str, str] = {
    "/": "redirects each role to its home page",
    "/patients/{pseudonym}/report.pdf": "a PDF",
    "/patients/{pseudonym}/sessions/{session_id}/report.pdf": "a PDF",
    "/my-device/sheet.pdf": "a PDF",
    "/my-device/calendar.ics": "a calendar file",
    "/calendar/{token}.ics": "a calendar file (subscription)",
    "/sites/match": "JSON: the intake page's typed-place matcher",
}
"""GET routes outside ``/api`` that answer with something other than a page."""

FORBIDDEN = {
    "clinician": "/users",
    "researcher": "/patients/{pseudonym}/intake",
    "patient": "/patients",
    "administrator": "/patients",
}
"""One page each role may not open: the refusal page must pass the same checks."""


@dataclass(frozen=True)
class Seeded:
    pseudonym: str
    prescription_id: int
    session_id: int

    def url(self, template: str) -> str:
        return template.format(pseudonym=self.pseudonym, prescription_id=self.prescription_id,
                               session_id=self.session_id)


def page_routes() -> set[str]:
    """Every GET route outside the API of the routers the application includes (the pages
    and their downloads)."""
    return {
        route.path for router in ROUTERS for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
        and not route.path.startswith(("/api/", "/ws/"))
    }


def test_every_html_page_is_in_the_sweep():
    routes = page_routes()
    missing = routes - set(PAGES) - set(NOT_PAGES)
    assert not missing, f"pages the sweep does not visit (add them to PAGES): {sorted(missing)}"
    stale = (set(PAGES) | set(NOT_PAGES)) - routes
    assert not stale, f"the sweep lists routes that no longer exist: {sorted(stale)}"


@pytest.fixture(scope="module")
def seeded(server) -> Seeded:
    return seed_records(server.app)


def seed_records(app) -> Seeded:
    """A simulated person with sixteen weeks of diary and sessions and a home prescription,
    an intake screened today, identifying data, their own device with one self-logged session,
    an unacknowledged problem report, and accounts for every role."""
    today = datetime.now(UTC).date()
    with app.state.db.transaction() as session:
        pseudonym = next(iter(write_cohort(session, SETUP, simulate_cohort(1, 7),
                                           today - timedelta(days=1))))
    intake = yaml.safe_load(example_patient_path("crps-allodynia").read_text("utf-8"))
    intake.update({"patient_id": pseudonym, "assessed_on": today.isoformat()})
    person = Actor(f"pt-{pseudonym}", "patient", pseudonym)
    with app.state.db.transaction() as session:
        r.add_intake(session, SETUP, validate_model(Intake, intake, source="example intake"))
        r.set_identity(session, SETUP, pseudonym,
                       IdentityIn(full_name="Alex Example", date_of_birth="1961-04-12"))
        choose_device(session, person, pseudonym, DEVICE)
        log_self_session(session, person, pseudonym, {
            "started_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "minutes": 30, "profile": DEVICE, "felt": "strong_comfortable",
            "settings": {"frequency_hz": 80, "phase_width_us": 200}, "nrs_pre": 6,
            "nrs_post": 4})
        r.add_adverse_event(session, person, pseudonym, AdverseEventIn(
            occurred_at=datetime.now(UTC) - timedelta(hours=1), kind="skin_irritation",
            severity="mild", description="red under the pad"))
        patient = r.find_patient(session, pseudonym)
        prescription_id = session.scalar(select(PrescriptionRecord.id).where(
            PrescriptionRecord.patient_id == patient.id))
        session_id = session.scalar(select(SessionEntry.id).where(
            SessionEntry.patient_id == patient.id).order_by(SessionEntry.id.desc()))
    ensure_user(app, f"pt-{pseudonym}", "patient", pseudonym)
    ensure_user(app, "researcher-1", "researcher")
    ensure_user(app, "administrator-1", "administrator")
    return Seeded(pseudonym, prescription_id, session_id)


def username(role: str, seeded: Seeded) -> str:
    return {"clinician": "clinician-1", "researcher": "researcher-1",
            "administrator": "administrator-1", "patient": f"pt-{seeded.pseudonym}"}[role]


def sweep(page, base: str, seeded: Seeded, role: str, label: str) -> dict[str, list[str]]:
    """Visit every page ``role`` may open, and one it may not; the problems found, by page."""
    found: dict[str, list[str]] = {}
    visits = [template for template, roles in PAGES.items() if role in roles]
    if role in FORBIDDEN:
        visits.append(FORBIDDEN[role])
    for template in visits:
        page.js_errors.clear()
        answer = page.goto(base + seeded.url(template))
        page.wait_for_load_state("networkidle")
        refused = template == FORBIDDEN.get(role)
        problems = [] if answer.status == (403 if refused else 200) else [
            f"answered {answer.status}"]
        if refused:  # the browser logs the refusal's own status as a console error
            page.js_errors[:] = [e for e in page.js_errors if "status of 403" not in e]
        slug = template.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "root"
        shot(page, f"sweep-{label}-{role}-{slug}")
        problems += page_problems(page)
        if problems:
            found[template] = problems
    return found


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_page_passes_the_checks(server, browser, seeded, role, viewport):
    label = "phone" if viewport == PHONE else "desktop"
    options = {"viewport": viewport}
    if viewport == PHONE:
        options.update(is_mobile=True, has_touch=True)
    page = new_page(browser, **options)
    if role != "anonymous":
        sign_in(page, server, username(role, seeded))
    found = sweep(page, server, seeded, role, label)
    page.context.close()
    assert not found, "\n".join(f"{path}: {'; '.join(p)}" for path, p in found.items())
