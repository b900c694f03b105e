"""The clinicians' inbox page: patients' problem reports and flagged self-logged sessions
waiting to be acknowledged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from stimwise.web.deps import CSRF, ClinicianActor, get_db, render
from stimwise.web.services import inbox

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox_page(request: Request, actor: ClinicianActor) -> Response:
    return render(request, "inbox/list.html", {
        "inbox": inbox.items(get_db(request), actor),
        "acknowledged": request.query_params.get("acknowledged"),
    })


@router.post("/inbox/acknowledge", dependencies=CSRF)
def acknowledge_submit(
    request: Request, actor: ClinicianActor, event_id: Annotated[int, Form(ge=1, le=2**62)]
) -> Response:
    inbox.acknowledge(get_db(request), actor, event_id)
    return RedirectResponse("/inbox?acknowledged=1", status_code=303)


@router.post("/inbox/acknowledge-session", dependencies=CSRF)
def acknowledge_session_submit(
    request: Request, actor: ClinicianActor, session_id: Annotated[int, Form(ge=1, le=2**62)]
) -> Response:
    inbox.acknowledge_session(get_db(request), actor, session_id)
    return RedirectResponse("/inbox?acknowledged=1", status_code=303)
