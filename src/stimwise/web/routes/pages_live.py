"""Pages of the live session console: the clinician's console for one patient and the
patient's phone-sized home session. Both draw the same WebSocket console (``static/live.js``,
``routes/ws_live.py``); these pages only list what may be run."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from stimwise.web.deps import ClinicianActor, PatientActor, get_db, render
from stimwise.web.services import live_session

router = APIRouter(include_in_schema=False)


@router.get("/patients/{pseudonym}/session")
async def console_page(request: Request, pseudonym: str, actor: ClinicianActor) -> Response:
    db = get_db(request)
    choices = await run_in_threadpool(
        live_session.runnable_prescriptions, db, actor, pseudonym, home=False)
    sessions = await run_in_threadpool(live_session.recent_sessions, db, actor, pseudonym)
    refusal = await run_in_threadpool(
        live_session.start_refusal, db, actor, pseudonym, home=False)
    return await run_in_threadpool(render, request, "live/console.html", {  # reads the inbox
        "pseudonym": pseudonym, "here": "session", "choices": choices, "sessions": sessions,
        "refusal": refusal,
    })


@router.get("/home-session")
async def home_page(request: Request, actor: PatientActor) -> Response:
    db = get_db(request)
    pseudonym = actor.patient or ""
    choices = await run_in_threadpool(
        live_session.runnable_prescriptions, db, actor, pseudonym, home=True)
    sessions = await run_in_threadpool(live_session.recent_sessions, db, actor, pseudonym, 5)
    refusal = await run_in_threadpool(
        live_session.start_refusal, db, actor, pseudonym, home=True)
    return await run_in_threadpool(render, request, "live/home.html", {
        "pseudonym": pseudonym, "choices": choices, "sessions": sessions, "refusal": refusal,
    })
