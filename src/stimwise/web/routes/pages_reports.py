"""Progress / discharge and session reports as pages and PDF downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stimwise.interop.report_document import to_pdf
from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor
from stimwise.web.deps import current_actor, get_db, get_settings, render
from stimwise.web.services import reports

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Actor, Depends(current_actor)]


def pdf_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def report_request(
    kind: Annotated[str, Query(max_length=20)] = "progress",
    plan: Annotated[str | None, Query(max_length=40)] = None,
    advice: Annotated[str | None, Query(max_length=40)] = None,
) -> reports.ReportRequest:
    """The report's kind, the clinician's plan and the discharge advice from the query (422
    naming a bad one)."""
    return validate_model(reports.ReportRequest,
                          {"kind": kind, "plan": plan or None, "advice": advice or None},
                          source="report")


Wanted = Annotated[reports.ReportRequest, Depends(report_request)]


def clinic_of(request: Request) -> reports.Clinic:
    """The clinic's letterhead and report time zone (the web settings)."""
    return reports.Clinic.from_settings(get_settings(request))


def progress_of(request: Request, actor: Actor, pseudonym: str,
                wanted: reports.ReportRequest) -> tuple[reports.ProgressReport, reports.Clinic]:
    clinic = clinic_of(request)
    return reports.progress_report(get_db(request), actor, pseudonym, request=wanted,
                                   zone=clinic.zone), clinic


def progress_pdf_response(report: reports.ProgressReport, clinic: reports.Clinic) -> Response:
    return pdf_response(to_pdf(reports.progress_document(report, clinic)),
                        f"{report.kind}-{report.pseudonym}.pdf")


def session_pdf_response(report: reports.SessionReport, clinic: reports.Clinic) -> Response:
    return pdf_response(to_pdf(reports.session_document(report, clinic)),
                        f"session-{report.pseudonym}-{report.session['id']}.pdf")


@router.get("/patients/{pseudonym}/report")
def progress_page(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> Response:
    report, clinic = progress_of(request, actor, pseudonym, wanted)
    return render(request, "reports/progress.html", {
        "rep": report, "doc": reports.progress_document(report, clinic),
        "sessions_table": reports.session_rows(report, clinic), "plans": reports.PLANS,
        "advice": reports.ADVICE, "query": request.url.query, "wanted": wanted})


@router.get("/patients/{pseudonym}/report.pdf")
def progress_pdf(request: Request, pseudonym: str, actor: SignedIn, wanted: Wanted) -> Response:
    return progress_pdf_response(*progress_of(request, actor, pseudonym, wanted))


@router.get("/patients/{pseudonym}/sessions/{session_id}/report")
def session_page(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return render(request, "reports/session.html", {
        "rep": report, "doc": reports.session_document(report, clinic_of(request))})


@router.get("/patients/{pseudonym}/sessions/{session_id}/report.pdf")
def session_pdf(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return session_pdf_response(report, clinic_of(request))
