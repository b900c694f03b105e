"""REST API: the clinicians' inbox of patients' problem reports (adverse events)."""

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


class InboxOut(BaseModel):
    unread: int
    items: list[InboxItemOut]


@router.get("", response_model=InboxOut, responses=PROBLEM_RESPONSES)
def list_inbox(request: Request, actor: ClinicianActor) -> InboxOut:
    """Adverse events that no clinician has acknowledged yet, newest first."""
    found = inbox.items(get_db(request), actor)
    return InboxOut(unread=len(found), items=[InboxItemOut.model_validate(i) for i in found])


@router.post("/{event_id}/acknowledge", status_code=204, dependencies=CSRF,
             responses=PROBLEM_RESPONSES)
def acknowledge(
    request: Request, actor: ClinicianActor, event_id: int = Path(ge=1, le=2**62)
) -> Response:
    """Mark the report as read (audited); it leaves the inbox."""
    inbox.acknowledge(get_db(request), actor, event_id)
    return Response(status_code=204)
