"""Progress / discharge and session reports as pages and PDF downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from stimwise.records.access import Actor
from stimwise.web.deps import current_actor, get_db, render
from stimwise.web.services import reports

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Actor, Depends(current_actor)]


def pdf_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/patients/{pseudonym}/report")
def progress_page(request: Request, pseudonym: str, actor: SignedIn) -> Response:
    report = reports.progress_report(get_db(request), actor, pseudonym)
    return render(request, "reports/progress.html", {"rep": report})


@router.get("/patients/{pseudonym}/report.pdf")
def progress_pdf(request: Request, pseudonym: str, actor: SignedIn) -> Response:
    report = reports.progress_report(get_db(request), actor, pseudonym)
    return pdf_response(reports.progress_pdf(report), f"progress-{report.pseudonym}.pdf")


@router.get("/patients/{pseudonym}/sessions/{session_id}/report")
def session_page(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return render(request, "reports/session.html", {"rep": report})


@router.get("/patients/{pseudonym}/sessions/{session_id}/report.pdf")
def session_pdf(request: Request, pseudonym: str, session_id: int, actor: SignedIn) -> Response:
    report = reports.session_report(get_db(request), actor, pseudonym, session_id)
    return pdf_response(reports.session_pdf(report),
                        f"session-{report.pseudonym}-{session_id}.pdf")
