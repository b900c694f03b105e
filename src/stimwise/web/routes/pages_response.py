"""The response dashboard, accepting or rejecting a next-dose suggestion, and n-of-1 analyses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from stimwise.errors import InputError
from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, get_db, render, require_roles
from stimwise.web.services import response
from stimwise.web.services.intake_form import build_form, form_lists, parse_form

router = APIRouter(include_in_schema=False)

Staff = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
NOTICES = {
    "accepted": "The suggestion was accepted and stored as a new prescription.",
    "rejected": "The suggestion was rejected; the prescription stays as it is.",
    "start": "The therapy start was saved; the verdict below counts from it.",
}


@router.get("/patients/{pseudonym}/response")
def dashboard_page(
    request: Request, pseudonym: str, actor: Staff,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = response.DEFAULT_SEED,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    board = response.dashboard(get_db(request), actor, pseudonym, seed=seed)
    return render(request, "response/dashboard.html",
                  {"pseudonym": pseudonym, "d": board, "notice": NOTICES.get(done or "")})


def _decision(plan_fingerprint: str, seed: str) -> response.ProposalDecision:
    return validate_model(response.ProposalDecision,
                          {"plan_fingerprint": plan_fingerprint, "seed": seed or 0},
                          source="dose suggestion decision")


@router.post("/patients/{pseudonym}/response/accept", dependencies=[Depends(csrf_protect)])
def accept_page(
    request: Request, pseudonym: str, actor: Clinician,
    plan_fingerprint: Annotated[str, Form()], seed: Annotated[str, Form()] = "0",
) -> Response:
    response.accept_proposal(get_db(request), actor, pseudonym, _decision(plan_fingerprint, seed))
    return RedirectResponse(f"/patients/{pseudonym}/response?done=accepted", status_code=303)


@router.post("/patients/{pseudonym}/response/reject", dependencies=[Depends(csrf_protect)])
def reject_page(
    request: Request, pseudonym: str, actor: Clinician,
    plan_fingerprint: Annotated[str, Form()], seed: Annotated[str, Form()] = "0",
) -> Response:
    response.reject_proposal(get_db(request), actor, pseudonym, _decision(plan_fingerprint, seed))
    return RedirectResponse(f"/patients/{pseudonym}/response?done=rejected", status_code=303)


@router.get("/patients/{pseudonym}/nof1")
def nof1_page(request: Request, pseudonym: str, actor: Staff) -> Response:
    query = form_lists(request.query_params)
    context = {"pseudonym": pseudonym, "plan": None, "result": None}
    if not query:
        form = build_form(response.Nof1Request, {})
        return render(request, "response/nof1.html", {**context, "form": form, "problems": []})
    plan_request, values, problems = parse_form(response.Nof1Request, query, source="n-of-1")
    status = 200
    if plan_request is not None:
        try:
            context["plan"], context["result"] = response.nof1(
                get_db(request), actor, pseudonym, plan_request)
        except InputError as error:
            problems = error.problems
    if problems:
        status = 422
    form = build_form(response.Nof1Request, values, problems)
    return render(request, "response/nof1.html",
                  {**context, "form": form, "problems": form.problems}, status_code=status)
