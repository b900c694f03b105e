"""REST API: the audit log (administrators only; reading it is itself logged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from stimwise.web.deps import AdministratorActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.services import audit
from stimwise.web.services.audit import MAX_AUDIT_ROWS

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    role: str
    action: str
    record_type: str
    record_id: str | None


@router.get("", response_model=list[AuditEntryOut], responses=PROBLEM_RESPONSES)
def list_audit(
    request: Request,
    actor: AdministratorActor,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ROWS)] = 200,
) -> list[AuditEntryOut]:
    """The newest entries first."""
    rows = audit.recent_entries(get_db(request), actor, limit)
    return [AuditEntryOut.model_validate(row) for row in rows]
