"""The one menu of every page about one patient, for clinicians and researchers.

Every page under ``/patients/{pseudonym}`` shows the same menu (``templates/patients/_menu.html``,
drawn by ``base.html``): overview, intake & screening, prescriptions, live session, diary,
response, n-of-1, home programme, reports and exports, with the person's status, the section
the page belongs to marked (``aria-current``) and that section's own pages listed under it.
Which section a page belongs to comes from its route (:data:`SECTIONS`), so a page needs no
code of its own to show the menu, and ``tests/test_web_patients.py`` fails when a new patient
page belongs to no section. Links a role may not use are left out (a researcher sees no
intake form, no prescribing and no live session).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import Request

from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.models import Patient

CLINICIAN_ONLY = frozenset({"clinician"})
STAFF = frozenset({"clinician", "researcher"})


@dataclass(frozen=True)
class Link:
    label: str
    suffix: str
    """The path after ``/patients/{pseudonym}`` ('' for the overview)."""
    roles: frozenset[str] = STAFF


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    pages: tuple[Link, ...]
    """The section's pages; the first one a role may use is where the menu item leads."""


MENU: tuple[Section, ...] = (
    Section("overview", "Overview", (Link("Overview", ""),)),
    Section("intake", "Intake & screening", (
        Link("Intake", "/intake", CLINICIAN_ONLY), Link("Screening", "/screening"))),
    Section("prescriptions", "Prescriptions", (
        Link("Prescriptions", "/prescriptions"), Link("Recommendations", "/recommendations"),
        Link("Prescribe", "/prescribe", CLINICIAN_ONLY))),
    Section("session", "Live session", (Link("Live session", "/session", CLINICIAN_ONLY),)),
    Section("diary", "Diary", (Link("Diary and adverse events", "/diary"),)),
    Section("response", "Response", (Link("Response", "/response"),
                                      Link("Baseline and therapy start", "/baseline"))),
    Section("nof1", "n-of-1", (Link("n-of-1 comparison", "/nof1"),)),
    Section("home", "Home programme", (Link("Home programme", "/home-programme"),)),
    Section("reports", "Reports", (Link("Progress report", "/report"),)),
    Section("exports", "Exports", (Link("Exports", "/exports"),)),
)

SECTIONS: dict[str, str] = {
    "/patients/{pseudonym}": "overview",
    "/patients/{pseudonym}/intake": "intake",
    "/patients/{pseudonym}/screening": "intake",
    "/patients/{pseudonym}/recommendations": "prescriptions",
    "/patients/{pseudonym}/prescribe": "prescriptions",
    "/patients/{pseudonym}/prescriptions": "prescriptions",
    "/patients/{pseudonym}/prescriptions/{prescription_id}": "prescriptions",
    "/patients/{pseudonym}/session": "session",
    "/patients/{pseudonym}/diary": "diary",
    "/patients/{pseudonym}/adverse-events/new": "diary",
    "/patients/{pseudonym}/response": "response",
    "/patients/{pseudonym}/baseline": "response",
    "/patients/{pseudonym}/nof1": "nof1",
    "/patients/{pseudonym}/home-programme": "home",
    "/patients/{pseudonym}/report": "reports",
    "/patients/{pseudonym}/sessions/{session_id}/report": "reports",
    "/patients/{pseudonym}/exports": "exports",
}
"""The menu section of each patient page (by route)."""


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class PatientMenu:
    pseudonym: str
    status: str
    items: tuple[MenuItem, ...]
    section_pages: tuple[MenuItem, ...]
    """The pages of the current section (shown under the menu when there are several)."""
    label: str
    """The current section's name."""


def _items(links: tuple[Link, ...], role: str, base: str, path: str) -> tuple[MenuItem, ...]:
    return tuple(MenuItem(link.label, base + link.suffix, base + link.suffix == path)
                 for link in links if role in link.roles)


def menu_for(request: Request, actor: Actor | None, db: Database) -> PatientMenu | None:
    """The menu of this request's page, or ``None`` (not a patient page, not a clinician or
    researcher, or no such patient)."""
    route = request.scope.get("route")
    section = SECTIONS.get(getattr(route, "path", ""))
    pseudonym = request.path_params.get("pseudonym")
    if section is None or pseudonym is None or actor is None or actor.role not in STAFF:
        return None
    with db.reading() as session:
        status = session.scalar(select(Patient.status).where(Patient.pseudonym == pseudonym))
    if status is None:
        return None
    base = f"/patients/{pseudonym}"
    items = []
    current_label = ""
    for entry in MENU:
        pages = _items(entry.pages, actor.role, base, "")
        if not pages:
            continue
        items.append(MenuItem(entry.label, pages[0].href, entry.key == section))
        if entry.key == section:
            current_label = entry.label
    here = next(s for s in MENU if s.key == section)
    section_pages = _items(here.pages, actor.role, base, request.url.path)
    return PatientMenu(pseudonym, status, tuple(items),
                       section_pages if len(section_pages) > 1 else (), current_label)
