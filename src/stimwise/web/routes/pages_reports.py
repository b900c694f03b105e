"""Progress / discharge and session reports as pages and PDF downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor
from stimwise.web.deps import current_actor, get_db, render
from stimwise.web.services import reports

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Actor, Depends(current_actor)]


def pdf_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def report_request(
    kind: Annotated[str, Query(max_length=20)] = "progress",
    plan: Annotated[str | None, Query(max_length=40)] = None,
) -> reports.ReportRequest:
    """The report's kind and the clinician's plan from the query (422 naming a bad one)."""
    return validate_model(reports.ReportRequest, {"kind": kind, "plan": plan or None},
                          source="report")


Wanted = Annotated[reports.ReportRequest, Depends(report_request)]


@router.get("/patients/{pseudonym}/report")
def progress_page(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> Response:
    report = reports.progress_report(get_db(request), actor, pseudonym, request=wanted)
    return render(request, "reports/progress.html", {
        "rep": report, "plans": reports.PLANS, "query": request.url.query,
        "wanted": wanted, "adherence_text": reports.adherence_text(report.adherence),
        "settings_text": reports.settings_text})


@router.get("/patients/{pseudonym}/report.pdf")
def progress_pdf(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> Response:
    report = reports.progress_report(get_db(request), actor, pseudonym, request=wanted)
    return pdf_response(reports.progress_pdf(report), f"{report.kind}-{report.pseudonym}.pdf")


@router.get("/patients/{pseudonym}/sessions/{session_id}/report")
def session_page(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return render(request, "reports/session.html", {"rep": report})


@router.get("/patients/{pseudonym}/sessions/{session_id}/report.pdf")
def session_pdf(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return pdf_response(reports.session_pdf(report),
                        f"session-{report.pseudonym}-{session_id}.pdf")
