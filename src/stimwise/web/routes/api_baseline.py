"""REST API of the response baseline: what the verdict still needs, recalled baseline days and
the therapy start (issue 17, defect 5). Writes are for clinicians; the rules are in
:mod:`stimwise.records.baseline`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from stimwise.protocol.base import StrictModel
from stimwise.records.baseline import MAX_RECALL_DAYS, RecalledDayIn, TherapyStartIn
from stimwise.web.deps import CSRF, SignedInActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.services import baseline

router = APIRouter(prefix="/api/v1/patients/{pseudonym}", tags=["response"])


class RecalledDaysIn(StrictModel):
    """The person's recall of their average pain on days before therapy."""

    days: tuple[RecalledDayIn, ...] = Field(min_length=1, max_length=MAX_RECALL_DAYS)


class BaselineDayOut(BaseModel):
    day: date
    pain_nrs: float | None
    recalled: bool
    open: bool
    closed_because: str | None


class IntakeRatingOut(BaseModel):
    answered_on: date
    average_nrs: float
    counts: bool


class BaselineOut(BaseModel):
    """The therapy start, the baseline days, the intake's ratings and what is still missing."""

    enrolled_on: date
    therapy_start: date | None
    therapy_start_set_by_clinician: bool
    therapy_start_set_by: str | None
    therapy_start_set_at: datetime | None
    therapy_start_reason: str | None
    first_session_on: date | None
    sessions_before_start: int
    days: list[BaselineDayOut]
    intake: list[IntakeRatingOut]
    missing: list[dict[str, Any]]


class StoredOut(BaseModel):
    stored: int


def _out(found: baseline.BaselineStatus) -> BaselineOut:
    return BaselineOut(
        enrolled_on=found.enrolled_on, therapy_start=found.therapy_start,
        therapy_start_set_by_clinician=found.start_set_by_clinician,
        therapy_start_set_by=found.start_set_by if found.start_set_by_clinician else None,
        therapy_start_set_at=found.start_set_at if found.start_set_by_clinician else None,
        therapy_start_reason=found.start_reason, first_session_on=found.first_session_on,
        sessions_before_start=found.sessions_before_start,
        days=[BaselineDayOut(**asdict(d)) for d in found.days],
        intake=[IntakeRatingOut(**asdict(r)) for r in found.intake],
        missing=[asdict(m) for m in found.missing],
    )


@router.get("/baseline", response_model=BaselineOut, responses=PROBLEM_RESPONSES)
def get_baseline(request: Request, pseudonym: str, actor: SignedInActor) -> BaselineOut:
    """What the response verdict compares against and what it still needs."""
    return _out(baseline.status(get_db(request), actor, pseudonym))


@router.post("/baseline/recalled-days", status_code=201, response_model=StoredOut,
             dependencies=CSRF, responses=PROBLEM_RESPONSES)
def add_recalled_days(request: Request, pseudonym: str, actor: SignedInActor,
                      body: RecalledDaysIn) -> StoredOut:
    """Store the person's recall of days before therapy (clinicians; all or none)."""
    stored = baseline.record_recalled_days(get_db(request), actor, pseudonym, list(body.days))
    return StoredOut(stored=stored)


@router.put("/therapy-start", response_model=BaselineOut, dependencies=CSRF,
            responses=PROBLEM_RESPONSES)
def put_therapy_start(request: Request, pseudonym: str, actor: SignedInActor,
                      body: TherapyStartIn) -> BaselineOut:
    """Set (or clear, with ``null``) the day therapy counts from; a day after the first
    delivered session needs a reason (clinicians; audited)."""
    db = get_db(request)
    baseline.set_therapy_start(db, actor, pseudonym, body)
    return _out(baseline.status(db, actor, pseudonym))
