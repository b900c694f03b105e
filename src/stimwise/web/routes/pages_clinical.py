"""Clinician pages: the intake (in sections, with drafts), the screening with its body-site
map, and the recommendations; and the intake page's two helpers for its script: the answers
so far (progress, scores, clearances) and typed place names matched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.protocol.site_names import find_each_site, site_choice_groups, site_label
from stimwise.records.access import Actor, require
from stimwise.web.deps import csrf_protect, get_db, render, require_roles, templates
from stimwise.web.services import clinical
from stimwise.web.services.bodymap import picker_svg
from stimwise.web.services.intake_answers import ROWS, list_paths, settle_typed_places
from stimwise.web.services.intake_form import form_lists
from stimwise.web.services.intake_view import intake_page

router = APIRouter(include_in_schema=False)

Staff = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
MAX_TYPED_CHARS = 300
"""A typed list of places longer than this is not read [U: stimwise's choice]."""


def _today():
    return datetime.now(UTC).date()


def _intake_page(request: Request, pseudonym: str, form: dict, *, problems=(), draft=None,
                 latest=None, draft_is_older: bool = False, status_code: int = 200,
                 notice: str | None = None) -> Response:
    page = intake_page(form, pseudonym, _today(), list(problems))
    return render(request, "clinical/intake.html", {
        "pseudonym": pseudonym, "page": page, "problems": page.problems, "draft": draft,
        "latest": latest, "draft_is_older": draft_is_older, "site_groups": site_choice_groups(),
        "picker_svg": picker_svg(), "notice": notice,
    }, status_code=status_code)


@router.get("/patients/{pseudonym}/intake")
def intake_get(request: Request, pseudonym: str, actor: Clinician,
               saved: str | None = None) -> Response:
    start = clinical.intake_start(get_db(request), actor, pseudonym, today=_today())
    notice = None
    if saved == "draft" and start.draft is not None:
        notice = ("Draft saved. It is not an intake: nothing is screened until you press "
                  "Save and screen.")
    elif saved == "discarded":
        notice = "Draft discarded."
    return _intake_page(request, pseudonym, start.form, draft=start.draft,
                        latest=start.latest_assessed_on, draft_is_older=start.draft_is_older,
                        notice=notice)


@router.post("/patients/{pseudonym}/intake", dependencies=[Depends(csrf_protect)])
async def intake_submit(request: Request, pseudonym: str, actor: Clinician) -> Response:
    form = form_lists(await request.form())
    return await run_in_threadpool(_submit_intake, request, pseudonym, actor, form)


def _submit_intake(request: Request, pseudonym: str, actor: Actor, form: dict) -> Response:
    """The submission's work, off the event loop (database and screening are blocking).

    ``action``: ``save`` records and screens the intake; ``draft`` keeps the answers as a draft;
    ``discard`` deletes the draft; ``add:<list>`` shows one more row of a list (without
    JavaScript; nothing is stored)."""
    db = get_db(request)
    action = (form.get("action") or [""])[0]
    if action == "draft":
        clinical.save_intake_draft(db, actor, pseudonym, settle_typed_places(form))
        return RedirectResponse(f"/patients/{pseudonym}/intake?saved=draft", status_code=303)
    if action == "discard":
        clinical.discard_intake_draft(db, actor, pseudonym)
        return RedirectResponse(f"/patients/{pseudonym}/intake?saved=discarded", status_code=303)
    if action.startswith("add:") and action[4:] in list_paths():
        require(actor, "write_clinical", pseudonym)
        name = f"{action[4:]}.{ROWS}"
        rows = (form.get(name) or ["0"])[0]
        form = {**settle_typed_places(form), name: [str(int(rows) + 1 if rows.isdigit() else 1)],
                f"{action[4:]}.__answer": ["yes"]}
        return _intake_page(request, pseudonym, form)
    intake_id, problems = clinical.submit_intake_answers(db, actor, pseudonym, form)
    if intake_id is None:
        # nothing typed is lost: the page comes back as typed (places that matched, as chosen)
        # and is kept as the draft
        form = settle_typed_places(form)
        draft = clinical.save_intake_draft(db, actor, pseudonym, form)
        return _intake_page(request, pseudonym, form, problems=problems, draft=draft,
                            status_code=422)
    return RedirectResponse(f"/patients/{pseudonym}/screening", status_code=303)


@router.post("/patients/{pseudonym}/intake/preview", dependencies=[Depends(csrf_protect)])
async def intake_preview(request: Request, pseudonym: str, actor: Clinician) -> Response:
    """The answers so far, judged as the page shows them: each section's progress, every
    questionnaire's score so far and the clearance choices (nothing is stored or screened)."""
    form = form_lists(await request.form())
    return await run_in_threadpool(_preview, request, pseudonym, actor, form)


def _preview(request: Request, pseudonym: str, actor: Actor, form: dict) -> Response:
    require(actor, "write_clinical", pseudonym)
    page = intake_page(form, pseudonym, _today())
    clearances = templates.get_template("clinical/_intake_clearances.html").module
    return JSONResponse({
        "answered": page.answered,
        "required": page.required,
        "sections": {s.id: {"answered": s.answered, "required": s.required}
                     for s in page.sections},
        "scores": {q.prefix: q.score for q in page.questionnaires},
        "clearances_key": " ".join(f"{c.rule_id}:{c.status}" for c in page.clearances),
        "clearances_html": str(clearances.clearance_list(page.clearances)),
    })


@router.get("/sites/match")
def sites_match(actor: Staff, text: Annotated[str, Query(max_length=MAX_TYPED_CHARS)] = ""
                ) -> JSONResponse:
    """Typed place names read as places: each match, or why not with suggestions, in words."""
    places, problems = [], []
    for match in find_each_site(text):
        if match.matched:
            places += [{"value": s, "label": site_label(s)} for s in match.selectors]
        else:
            problems.append({"text": match.text, "problem": match.problem,
                             "suggestions": [{"value": s, "label": site_label(s)}
                                             for s in match.suggestions]})
    return JSONResponse({"places": places, "problems": problems})


@router.get("/patients/{pseudonym}/screening")
def screening_page(request: Request, pseudonym: str, actor: Staff) -> Response:
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    draft = clinical.has_intake_draft(db, actor, pseudonym)
    return render(request, "clinical/screening.html",
                  {"pseudonym": pseudonym, "view": view, "draft": draft})


@router.get("/patients/{pseudonym}/recommendations")
def recommendations_page(request: Request, pseudonym: str, actor: Staff) -> Response:
    found = clinical.recommendations(get_db(request), actor, pseudonym)
    view, report = found if found is not None else (None, None)
    return render(request, "clinical/recommendations.html",
                  {"pseudonym": pseudonym, "view": view, "report": report})

