"""REST API of the response dashboard, dose-suggestion decisions and n-of-1 analyses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, current_actor, get_db
from stimwise.web.services import response

router = APIRouter(prefix="/api/v1/patients/{pseudonym}", tags=["response"])
SignedIn = Annotated[Actor, Depends(current_actor)]


class DashboardOut(BaseModel):
    """Verdict, relief, dose-response, next-dose suggestion and chart data."""

    patient: str
    therapy_start: str
    therapy_start_set: dict[str, Any] | None
    """Who set the therapy start, when and why (null: the first delivered session's day)."""
    sessions_before_start: int
    """Sessions before a clinician's later therapy start, left out of the analysis."""
    verdict: dict[str, Any]
    relief: dict[str, Any]
    dose_response: dict[str, Any]
    responder_cutoff_nrs: float | None
    dose_suggestion: dict[str, Any]
    charts: dict[str, Any]


class AcceptedOut(BaseModel):
    status: str
    prescription_id: int


class RejectedOut(BaseModel):
    status: str


class Nof1Out(BaseModel):
    plan: dict[str, Any]
    result: dict[str, Any]


@router.get("/response", response_model=DashboardOut)
def get_dashboard(
    request: Request, pseudonym: str, actor: SignedIn,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = response.DEFAULT_SEED,
) -> dict:
    """Is it working? The IMMPACT verdict and the (unapplied) next-dose suggestion."""
    return response.dashboard(get_db(request), actor, pseudonym, seed=seed).to_dict()


@router.post("/response/accept", response_model=AcceptedOut, status_code=201,
             dependencies=[Depends(csrf_protect)])
def accept(request: Request, pseudonym: str, decision: response.ProposalDecision,
           actor: SignedIn) -> dict:
    """Accept the suggestion shown (by its fingerprint): stores it as a new prescription."""
    new_id = response.accept_proposal(get_db(request), actor, pseudonym, decision)
    return {"status": "accepted", "prescription_id": new_id}


@router.post("/response/reject", response_model=RejectedOut,
             dependencies=[Depends(csrf_protect)])
def reject(request: Request, pseudonym: str, decision: response.ProposalDecision,
           actor: SignedIn) -> dict:
    """Reject the suggestion (recorded in the audit log; nothing else changes)."""
    response.reject_proposal(get_db(request), actor, pseudonym, decision)
    return {"status": "rejected"}


@router.post("/nof1", response_model=Nof1Out, dependencies=[Depends(csrf_protect)])
def nof1(request: Request, pseudonym: str, plan: response.Nof1Request, actor: SignedIn) -> dict:
    """Lay out an n-of-1 plan and analyse it against the diary (nothing is stored)."""
    laid_out, result = response.nof1(get_db(request), actor, pseudonym, plan)
    return {"plan": laid_out.model_dump(mode="json"), "result": result.to_dict()}
