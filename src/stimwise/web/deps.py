"""FastAPI dependencies shared by every page and API route.

* :func:`get_db` — the records :class:`~stimwise.records.database.Database`;
* :func:`current_actor` — the signed-in user as an :class:`~stimwise.records.access.Actor`
  (API: 401; pages: redirect to ``/login``);
* :func:`require_roles` — a dependency that also refuses other roles (403);
* :func:`csrf_protect` — refuses a state-changing request without the session's CSRF token
  (form field ``csrf_token`` or header ``X-CSRF-Token``);
* :data:`templates` and :func:`render` — Jinja2 pages extending ``base.html``.

Role checks here only shape the navigation and fail early: the services and the records layer
check again, so a forgotten dependency cannot open a record.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.database import Database
from stimwise.settings import Settings
from stimwise.web import wording
from stimwise.web.patient_menu import menu_for
from stimwise.web.security.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SignedIn,
    find_session,
    tokens_match,
)
from stimwise.web.services.inbox import unread_count

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.auto_reload = False
"""The templates are package files, so each is compiled once and kept: Jinja's default checks
every template file's time on every render (a stat() per template per page; issue 17)."""
wording.install(templates.env)


class NotSignedInError(Exception):
    """No live session: the API answers 401, pages redirect to the sign-in page."""


class CsrfRefusedError(Exception):
    """A state-changing request without the right CSRF token (403)."""


def get_db(request: HTTPConnection) -> Database:
    return request.app.state.db


def get_settings(request: HTTPConnection) -> Settings:
    return request.app.state.settings


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def session_token(request: HTTPConnection) -> str | None:
    """The raw session token of a validly signed cookie (not yet checked against the DB)."""
    return request.app.state.signer.session_token(request.cookies.get(SESSION_COOKIE))


def signed_in(request: HTTPConnection) -> SignedIn | None:
    """The live session of this request (or WebSocket), looked up once per connection."""
    cached = getattr(request.state, "signed_in", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = session_token(request)
    found = None
    if token is not None:
        with get_db(request).reading() as session:
            found = find_session(session, token)
    request.state.signed_in = found
    return found


def same_origin(connection: HTTPConnection) -> bool:
    """Whether a browser's ``Origin`` header names this server (WebSocket handshakes carry
    cookies but no CSRF token: refuse those opened by another site's page)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc == connection.headers.get("host")


def current_actor(request: Request) -> Actor:
    found = signed_in(request)
    if found is None:
        raise NotSignedInError
    return found.actor()


def require_roles(*roles: str) -> Callable[[Request], Actor]:
    """A dependency returning the actor when their role is one of ``roles`` (else 403)."""

    def dependency(request: Request) -> Actor:
        actor = current_actor(request)
        if actor.role not in roles:
            raise AccessDeniedError(f"this page is for {' or '.join(roles)} accounts only")
        return actor

    return dependency


def expected_csrf_token(request: Request) -> str | None:
    """The session's CSRF token; before sign-in, the token of the signed login cookie."""
    found = signed_in(request)
    if found is not None:
        return found.csrf_token
    return request.app.state.signer.login_token(request.cookies.get(LOGIN_CSRF_COOKIE))


async def csrf_protect(request: Request) -> None:
    """Refuse POST/PUT/PATCH/DELETE without the expected token (header or form field). The
    session's token is looked up in the database in a worker thread, never in the event loop
    (which would hold up every other request while it waits for the database)."""
    if request.method in _SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(await run_in_threadpool(expected_csrf_token, request), given):
        raise CsrfRefusedError


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with the layout's context: the signed-in actor (or ``None``) and a CSRF token
    for its forms (before sign-in, a fresh one bound to a signed cookie)."""
    found = signed_in(request)
    login_token = None
    csrf_token = found.csrf_token if found is not None else None
    if found is None:
        csrf_token = expected_csrf_token(request)
        if csrf_token is None:
            csrf_token = login_token = secrets.token_urlsafe(32)
    actor = None if found is None else found.actor()
    unread = 0 if actor is None else unread_count(get_db(request), actor)
    response = templates.TemplateResponse(
        request,
        template,
        {"actor": actor, "csrf_token": csrf_token, "inbox_unread": unread,
         "static_url": request.app.state.static_assets.url,
         "patient_menu": menu_for(request, actor, get_db(request)), **(context or {})},
        status_code=status_code,
    )
    if login_token is not None:
        settings = get_settings(request)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            request.app.state.signer.login_cookie(login_token),
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            max_age=settings.session_lifetime_s,
        )
    return response


SignedInActor = Annotated[Actor, Depends(current_actor)]
"""Any signed-in user (the records layer decides what they may reach)."""
ClinicianActor = Annotated[Actor, Depends(require_roles("clinician"))]
StaffActor = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
PatientActor = Annotated[Actor, Depends(require_roles("patient"))]
AdministratorActor = Annotated[Actor, Depends(require_roles("administrator"))]
CSRF = [Depends(csrf_protect)]
"""``dependencies=CSRF`` on every state-changing route."""
