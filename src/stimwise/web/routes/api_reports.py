"""REST API of the progress / discharge report and the session report (JSON or PDF)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from stimwise.records.access import Actor
from stimwise.web.deps import current_actor, get_db
from stimwise.web.routes.pages_reports import (
    Wanted,
    clinic_of,
    progress_of,
    progress_pdf_response,
    session_pdf_response,
)
from stimwise.web.services import reports

router = APIRouter(prefix="/api/v1/patients/{pseudonym}", tags=["reports"])
SignedIn = Annotated[Actor, Depends(current_actor)]
PDF = {200: {"content": {"application/pdf": {}}, "description": "The report as PDF."}}


class ProgressReportOut(BaseModel):
    """Parameter history, adherence, outcome against the cut-off, events and the verdict."""

    kind: str
    pseudonym: str
    enrolled_on: str
    generated_at: str
    therapy_start: str | None
    therapy_start_note: str | None
    prescriptions: list[dict[str, Any]]
    adherence: dict[str, Any]
    baseline_nrs: float | None
    current_nrs: float | None
    reduction_nrs: float | None
    reduction_fraction: float | None
    responder_cutoff_nrs: float | None
    minimal_important_change_nrs: float
    weekly_pain: list[dict[str, Any]]
    verdict_category: str
    verdict_label: str
    verdict_reasons: list[str]
    instruments: list[dict[str, Any]]
    adverse_events: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    notice: str
    plan: str | None
    plan_by: str | None
    self_logged: list[dict[str, Any]]
    weekly_adherence: dict[str, Any] | None
    data_provenance: str
    periods: list[dict[str, Any]]
    advice: str | None
    clinician: str | None


class SessionReportOut(BaseModel):
    pseudonym: str
    generated_at: str
    session: dict[str, Any]
    adverse_events: list[dict[str, Any]]
    notice: str
    prescription: dict[str, Any] | None
    clinician: str | None


@router.get("/reports/progress", response_model=ProgressReportOut)
def progress(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> dict:
    """``kind`` progress or discharge; ``plan`` and ``advice`` (clinicians) from the fixed
    lists."""
    return progress_of(request, actor, pseudonym, wanted)[0].to_dict()


@router.get("/reports/progress.pdf", response_class=Response, responses=PDF)
def progress_pdf(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> Response:
    """The signed progress or discharge report as PDF."""
    return progress_pdf_response(*progress_of(request, actor, pseudonym, wanted))


@router.get("/sessions/{session_id}/report", response_model=SessionReportOut)
def session(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> dict:
    return reports.session_report(get_db(request), actor, pseudonym, session_id).to_dict()


@router.get("/sessions/{session_id}/report.pdf", response_class=Response, responses=PDF)
def session_pdf(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    """The signed session report as PDF."""
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return session_pdf_response(report, clinic_of(request))
