"""Audit log page (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stimwise.web.deps import AdministratorActor, get_db, render
from stimwise.web.services import audit
from stimwise.web.services.audit import MAX_AUDIT_ROWS

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    actor: AdministratorActor,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ROWS)] = 200,
) -> Response:
    entries = audit.recent_entries(get_db(request), actor, limit)
    return render(request, "audit/list.html", {"entries": entries, "limit": limit})
