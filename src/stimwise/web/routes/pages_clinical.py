"""Clinician pages: the intake form (generated from the intake model), the screening with its
body-site map, and the recommendations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.clinical.intake import Intake
from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, get_db, render, require_roles
from stimwise.web.services import clinical
from stimwise.web.services.intake_form import SITE_NAMES_SORTED, form_lists, read_form

router = APIRouter(include_in_schema=False)

Staff = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
MAX_BLANK_ROWS = 10


def _intake_page(request: Request, pseudonym: str, form, blank_rows: int, latest=None,
                 status_code: int = 200) -> Response:
    return render(request, "clinical/intake.html", {
        "pseudonym": pseudonym, "form": form, "problems": form.problems,
        "blank_rows": blank_rows, "site_names": SITE_NAMES_SORTED, "latest": latest,
    }, status_code=status_code)


@router.get("/patients/{pseudonym}/intake")
def intake_page(request: Request, pseudonym: str, actor: Clinician) -> Response:
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    form = clinical.intake_form(db, actor, pseudonym)
    return _intake_page(request, pseudonym, form, 1,
                        None if view is None else view.intake.assessed_on)


@router.post("/patients/{pseudonym}/intake", dependencies=[Depends(csrf_protect)])
async def intake_submit(request: Request, pseudonym: str, actor: Clinician) -> Response:
    form = form_lists(await request.form())
    return await run_in_threadpool(_submit_intake, request, pseudonym, actor, form)


def _submit_intake(request: Request, pseudonym: str, actor: Actor, form: dict) -> Response:
    """The submission's work, off the event loop (database and verification are blocking)."""
    try:
        blank_rows = max(1, min(int(form.get("blank_rows", ["1"])[0]), MAX_BLANK_ROWS))
    except ValueError:
        blank_rows = 1
    db = get_db(request)
    if form.get("action", [""])[0] == "more_rows":
        values, _ = read_form(Intake, form)
        blank_rows = min(blank_rows + 1, MAX_BLANK_ROWS)
        page = clinical.intake_form(db, actor, pseudonym, values, blank_rows=blank_rows)
        return _intake_page(request, pseudonym, page, blank_rows)
    intake_id, values, problems = clinical.submit_intake_form(db, actor, pseudonym, form)
    if intake_id is None:
        page = clinical.intake_form(db, actor, pseudonym, values, problems, blank_rows=blank_rows)
        return _intake_page(request, pseudonym, page, blank_rows, status_code=422)
    return RedirectResponse(f"/patients/{pseudonym}/screening", status_code=303)


@router.get("/patients/{pseudonym}/screening")
def screening_page(request: Request, pseudonym: str, actor: Staff) -> Response:
    view = clinical.latest_screening(get_db(request), actor, pseudonym)
    return render(request, "clinical/screening.html", {"pseudonym": pseudonym, "view": view})


@router.get("/patients/{pseudonym}/recommendations")
def recommendations_page(request: Request, pseudonym: str, actor: Staff) -> Response:
    found = clinical.recommendations(get_db(request), actor, pseudonym)
    view, report = found if found is not None else (None, None)
    return render(request, "clinical/recommendations.html",
                  {"pseudonym": pseudonym, "view": view, "report": report})
