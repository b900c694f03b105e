"""The prescription editor (verify, draw, store) and a patient's prescription history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.errors import InputError, SafetyBlockError
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import library_ids
from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, get_db, render, require_roles
from stimwise.web.services import clinical, prescribing
from stimwise.web.services.intake_form import SITE_NAMES_SORTED, build_form, form_lists, parse_form
from stimwise.web.services.reports import prescription_history

router = APIRouter(include_in_schema=False)

Staff = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
FORM_SKIP = frozenset({"intake_id"})


def _editor(request: Request, pseudonym: str, view, values: dict, problems=(),
            evaluation=None, blocked: bool = False, status_code: int = 200) -> Response:
    form = build_form(prescribing.PrescriptionDraft, values, list(problems), skip=FORM_SKIP)
    return render(request, "prescribing/editor.html", {
        "pseudonym": pseudonym, "view": view, "form": form, "problems": form.problems,
        "evaluation": evaluation, "blocked": blocked, "site_names": SITE_NAMES_SORTED,
        "protocol_ids": library_ids(), "form_protocol": values.get("protocol_id"),
        "intake_id": values.get("intake_id") or (view.intake_id if view else ""),
        "home_amplitude_rule": prescribing.HOME_AMPLITUDE_RULE,
    }, status_code=status_code)


def _starting_values(db, actor: Actor, pseudonym: str, view, protocol: str | None,
                     rank: int | None) -> dict:
    if protocol is None:
        found = clinical.recommendations(db, actor, pseudonym)
        ranked = found[1].recommendations if found else ()
        chosen = next((r for r in ranked if r.rank == (rank or 1)), None)
        if chosen is not None:
            return prescribing.draft_values(view, chosen.protocol_id, chosen.placement.channels)
    return prescribing.draft_values(view, protocol)


@router.get("/patients/{pseudonym}/prescribe")
def editor_page(
    request: Request, pseudonym: str, actor: Clinician,
    protocol: Annotated[str | None, Query(max_length=64)] = None,
    rank: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Response:
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    if view is None:
        return _editor(request, pseudonym, None, {})
    values = _starting_values(db, actor, pseudonym, view, protocol, rank)
    evaluation = None
    if view.usable_for_prescribing and view.screening.eligible:
        draft = validate_model(prescribing.PrescriptionDraft, values, source="draft")
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
    return _editor(request, pseudonym, view, values, evaluation=evaluation)


@router.post("/patients/{pseudonym}/prescribe", dependencies=[Depends(csrf_protect)])
async def editor_submit(request: Request, pseudonym: str, actor: Clinician) -> Response:
    form = form_lists(await request.form())
    return await run_in_threadpool(_submit_draft, request, pseudonym, actor, form)


def _submit_draft(request: Request, pseudonym: str, actor: Actor, form: dict) -> Response:
    """The submission's work, off the event loop (database and verification are blocking)."""
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    draft, values, problems = parse_form(prescribing.PrescriptionDraft, form, source="draft")
    if draft is None:
        return _editor(request, pseudonym, view, values, problems, status_code=422)
    try:
        if form.get("action", [""])[0] == "save":
            prescription_id, _ = prescribing.save(db, actor, pseudonym, draft)
            return RedirectResponse(f"/patients/{pseudonym}/prescriptions?saved={prescription_id}",
                                    status_code=303)
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
    except InputError as error:
        return _editor(request, pseudonym, view, values, error.problems, status_code=422)
    except SafetyBlockError:
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
        return _editor(request, pseudonym, view, values, evaluation=evaluation, blocked=True,
                       status_code=409)
    return _editor(request, pseudonym, view, values, evaluation=evaluation)


@router.get("/patients/{pseudonym}/prescriptions")
def prescriptions_page(
    request: Request, pseudonym: str, actor: Staff,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    lines = prescription_history(get_db(request), actor, pseudonym)
    return render(request, "prescribing/list.html",
                  {"pseudonym": pseudonym, "lines": lines, "saved": saved})


@router.get("/patients/{pseudonym}/prescriptions/{prescription_id}")
def prescription_page(request: Request, pseudonym: str, prescription_id: int,
                      actor: Staff) -> Response:
    stored = prescribing.stored_prescription(get_db(request), actor, pseudonym, prescription_id)
    return render(request, "prescribing/detail.html", {"pseudonym": pseudonym, "stored": stored})
