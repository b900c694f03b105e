"""REST API: the clinicians' inbox of patients' problem reports (adverse events) and of
self-logged sessions flagged as outside the prescription."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from stimwise.web.deps import CSRF, ClinicianActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.services import inbox

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])


class InboxItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pseudonym: str
    occurred_at: datetime
    reported_at: datetime
    kind: str
    severity: str
    body_site: str | None
    description: str | None
    session_id: int | None


class FlaggedSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pseudonym: str
    started_at: datetime
    reported_at: datetime
    reported_by: str
    device: str
    minutes: float
    settings: str
    reasons: list[str]


class InboxOut(BaseModel):
    unread: int
    """Problem reports and flagged sessions together (the header's count)."""
    items: list[InboxItemOut]
    """Problem reports (adverse events)."""
    flagged_sessions: list[FlaggedSessionOut]
    """Self-logged sessions outside the prescription's locked ranges, with the reasons."""


@router.get("", response_model=InboxOut, responses=PROBLEM_RESPONSES)
def list_inbox(request: Request, actor: ClinicianActor) -> InboxOut:
    """Adverse events and flagged self-logged sessions no clinician has acknowledged yet,
    newest first."""
    found = inbox.items(get_db(request), actor)
    return InboxOut(
        unread=found.count, items=[InboxItemOut.model_validate(i) for i in found.reports],
        flagged_sessions=[FlaggedSessionOut.model_validate(i) for i in found.flagged_sessions])


@router.post("/{event_id}/acknowledge", status_code=204, dependencies=CSRF,
             responses=PROBLEM_RESPONSES)
def acknowledge(
    request: Request, actor: ClinicianActor, event_id: int = Path(ge=1, le=2**62)
) -> Response:
    """Mark the report as read (audited); it leaves the inbox."""
    inbox.acknowledge(get_db(request), actor, event_id)
    return Response(status_code=204)


@router.post("/sessions/{session_id}/acknowledge", status_code=204, dependencies=CSRF,
             responses=PROBLEM_RESPONSES)
def acknowledge_session(
    request: Request, actor: ClinicianActor, session_id: int = Path(ge=1, le=2**62)
) -> Response:
    """Mark a flagged self-logged session as seen (audited); it leaves the inbox."""
    inbox.acknowledge_session(get_db(request), actor, session_id)
    return Response(status_code=204)
