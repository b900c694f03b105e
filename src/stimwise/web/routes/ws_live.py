"""The live console's WebSocket: ``/ws/v1/live/{pseudonym}``.

Admission (before the handshake is accepted): the ``Origin`` must be this server (cookies ride
along on a cross-site handshake, which carries no CSRF token), the session cookie must be a live
sign-in, a clinician may drive any patient's session, a patient only their own home session
(HAZ-076). While a session of the patient runs, a further console only watches it: it sees the
snapshots and may press the emergency stop, but its commands are refused and its heartbeats do
not keep the session alive (HAZ-074; anyone allowed may stop, only one console drives).

Messages from the page (JSON): ``start {prescription_id, target_ma?}``, ``heartbeat`` (every
~0.5 s), ``command {name}`` (increase, decrease, pause, resume, stop), ``emergency_stop``,
``answer {kind, value}``. To the page: ``snapshot`` (state, amplitudes, ceiling, time, prompt,
electrodes) about five times a second, ``finished {session_id, outcome, reason}`` once, and
``error {message, problems}`` for a refused message, and ``refused {message}`` for a command or
answer that the runtime did not act on (with the runtime's reason; never silent). A socket that
closes stops the output at once; one that goes silent is stopped by the runtime's dead-man rule
(HAZ-073).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from stimwise.errors import InputError, StimwiseError
from stimwise.records.access import Actor
from stimwise.web.deps import same_origin, signed_in
from stimwise.web.services.live_session import LiveSession, registry_of, start_request

router = APIRouter()
logger = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_S = 0.2
"""How often the page is updated (five frames a second is enough to read) [U]."""
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN = 4403
WATCHING = ("this console watches a session driven by another console: only the emergency stop "
            "works here")


def admission(websocket: WebSocket, pseudonym: str) -> tuple[Actor | None, int]:
    """The actor allowed to open this console, or ``None`` and the close code."""
    if not same_origin(websocket):
        return None, CLOSE_FORBIDDEN
    found = signed_in(websocket)
    if found is None:
        return None, CLOSE_NOT_SIGNED_IN
    actor = found.actor()
    if actor.role == "clinician" or (actor.role == "patient" and actor.patient == pseudonym):
        return actor, 0
    return None, CLOSE_FORBIDDEN


@dataclass
class Console:
    """One connected page: its outbox and the session it drives (if any)."""

    websocket: WebSocket
    actor: Actor
    pseudonym: str
    console_id: str
    outbox: asyncio.Queue
    live: LiveSession | None = None
    watching: bool = False

    @property
    def home(self) -> bool:
        return self.actor.role == "patient"

    def error(self, message: str, problems: list[dict] | None = None) -> None:
        self.outbox.put_nowait({"type": "error", "message": message, "problems": problems or []})

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if self.watching and self.live is not None and self.live.finished:
            self.watching = False  # the watched session is over: this console may start one
        if self.watching and self.live is not None:
            if kind == "emergency_stop":
                self.live.emergency_stop()
            elif kind != "heartbeat":  # a watcher's heartbeat never feeds the dead-man rule
                self.error(WATCHING)
            return
        if kind == "start":
            await self._start(message)
            return
        if self.live is None:
            self.error("no session is running; start one first")
            return
        if kind == "heartbeat":
            self.live.heartbeat()
        elif kind == "emergency_stop":
            self.live.emergency_stop()
        elif kind == "command":
            self.live.command(str(message.get("name")))
        elif kind == "answer":
            self.live.answer(str(message.get("kind")), str(message.get("value")))
        else:
            self.error(f"unknown message type {kind!r}")

    async def _start(self, message: dict[str, Any]) -> None:
        if self.live is not None and not self.live.finished:
            self.error("this console already drives a session")
            return
        request = start_request(message)
        registry = registry_of(self.websocket.app)
        self.live = await run_in_threadpool(
            registry.start, self.actor, self.pseudonym, request,
            home=self.home, console_id=self.console_id,
        )
        self.outbox.put_nowait({"type": "started", "prescription_id": request.prescription_id})


async def _stream(console: Console) -> None:
    """The only writer to the socket: queued replies, then a snapshot every interval. Ends
    quietly when the socket is gone (the receiving side then stops the session)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await _send_updates(console)


async def _send_updates(console: Console) -> None:
    announced = False
    while True:
        with contextlib.suppress(TimeoutError):
            reply = await asyncio.wait_for(console.outbox.get(), SNAPSHOT_INTERVAL_S)
            await console.websocket.send_json(reply)
            continue
        live = console.live
        if live is None:
            continue
        await console.websocket.send_json(live.view())
        if not console.watching:
            for message in live.new_refusals():
                await console.websocket.send_json({"type": "refused", "message": message})
        if live.finished and not announced:
            announced = True
            record = live.runner.record
            await console.websocket.send_json({
                "type": "finished",
                "session_id": live.session_id,
                "outcome": record.outcome if record else live.runner.state,
                "reason": record.reason if record else live.runner.reason,
                "stored": live.session_id is not None,
                "problem": live.store_problem,
                "report_url": None if live.session_id is None or console.home
                else f"/patients/{console.pseudonym}/sessions/{live.session_id}/report",
            })
        elif not live.finished:
            announced = False


@router.websocket("/ws/v1/live/{pseudonym}")
async def live_socket(websocket: WebSocket, pseudonym: str) -> None:
    # The session lookup reads the database: in a worker thread, so that the event loop keeps
    # serving the other consoles (an emergency stop among them) meanwhile.
    actor, code = await run_in_threadpool(admission, websocket, pseudonym)
    if actor is None:
        await websocket.close(code=code)
        return
    await websocket.accept()
    console = Console(websocket, actor, pseudonym, secrets.token_hex(8), asyncio.Queue())
    running = registry_of(websocket.app).current(pseudonym)
    if running is not None and not running.finished:
        console.live, console.watching = running, True
        console.outbox.put_nowait({"type": "watching", "message": WATCHING})
    writer = asyncio.create_task(_stream(console))
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                console.error("messages are JSON objects with a 'type'")
                continue
            try:
                await console.handle(message)
            except InputError as error:
                console.error("refused", error.to_dict()["problems"])
            except StimwiseError as error:
                console.error(str(error))
    except WebSocketDisconnect:
        pass
    finally:
        writer.cancel()
        if console.live is not None and not console.watching:
            console.live.console_lost()
