"""REST API of intakes, screenings and recommendations (``/api/v1/patients/{pseudonym}/...``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from stimwise.clinical.intake import Intake
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.screening import Screening
from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, current_actor, get_db
from stimwise.web.services import clinical

router = APIRouter(prefix="/api/v1/patients/{pseudonym}", tags=["clinical"])
SignedIn = Annotated[Actor, Depends(current_actor)]


class SiteOut(BaseModel):
    status: str
    max_level: str | None
    allodynic: bool
    sensation: str | None
    reasons: list[str]


class ScreeningOut(BaseModel):
    """The latest intake's screening, recomputed with the current rules."""

    intake_id: int
    recorded_at: datetime
    assessed_on: date
    age_days: int
    usable_for_prescribing: bool
    stale_reasons: list[str]
    screening: Screening
    sites: dict[str, SiteOut]


def _latest(request: Request, actor: Actor, pseudonym: str) -> clinical.ScreeningView:
    view = clinical.latest_screening(get_db(request), actor, pseudonym)
    if view is None:
        raise InputError(FieldProblem("pseudonym", pseudonym, "a patient with a recorded intake"))
    return view


@router.get("/screening", response_model=ScreeningOut)
def get_screening(request: Request, pseudonym: str, actor: SignedIn) -> dict:
    """The screening of the latest intake (its date, freshness and the body-site statuses)."""
    return _latest(request, actor, pseudonym).to_dict()


@router.post("/intakes", response_model=ScreeningOut, status_code=201,
             dependencies=[Depends(csrf_protect)])
def post_intake(request: Request, pseudonym: str, intake: Intake, actor: SignedIn) -> dict:
    """Record an intake (its ``patient_id`` is this pseudonym) and screen it."""
    clinical.save_intake(get_db(request), actor, pseudonym, intake)
    return _latest(request, actor, pseudonym).to_dict()


@router.get("/recommendations", response_model=RecommendationReport)
def get_recommendations(request: Request, pseudonym: str, actor: SignedIn) -> RecommendationReport:
    """Ranked, verified protocol suggestions from the latest screening."""
    found = clinical.recommendations(get_db(request), actor, pseudonym)
    if found is None:
        raise InputError(FieldProblem("pseudonym", pseudonym, "a patient with a recorded intake"))
    return found[1]
