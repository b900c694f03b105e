"""Error responses: the same content as the CLI, as JSON for the API and as a page for people.

* InputError and request validation → 422 ``{"error": "invalid_input", "problems": [...]}``
  (each problem names the field, the value and what was expected; password values are never
  echoed);
* AccessDeniedError and a refused CSRF token → 403; not signed in → 401 (API) or a redirect to
  the sign-in page; too many sign-in failures → 429 with ``Retry-After``;
* other refusals (exit code 1, e.g. a safety block) → 409; runtime faults (exit 3) → 503;
* anything unexpected → 500 without details (:class:`UnexpectedErrorMiddleware`); the log names
  the route template (never the path, which holds a pseudonym), the exception type and the
  traceback's code lines, never the exception's message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stimwise.errors import FieldProblem, InputError, StimwiseError
from stimwise.records.access import AccessDeniedError
from stimwise.web.deps import CsrfRefusedError, NotSignedInError, is_api, render
from stimwise.web.security.limits import MAX_ECHO_CHARS, bounded

log = logging.getLogger(__name__)

_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header", "cookie"})
_HIDDEN = "<hidden>"


class LoginThrottledError(Exception):
    """Too many failed sign-ins from this address (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def problems_from_request(errors: Sequence[Any]) -> list[FieldProblem]:
    """FastAPI's validation errors as field problems (path without the 'body.' prefix)."""
    problems = []
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        if loc and loc[0] in _LOCATION_PREFIXES:
            loc = loc[1:]
        path = ".".join(loc) or "(request)"
        kind = item.get("type", "")
        expected = str(item.get("msg", "a valid value")).removeprefix("Value error, ")
        if kind == "missing":
            expected, value = "a value (this field is required)", None
        elif kind == "extra_forbidden":
            expected = "no such field (check the spelling; unknown fields are not allowed)"
            value = item.get("input")
        else:
            value = item.get("input")
        if "password" in path:
            value = _HIDDEN
        if isinstance(value, dict | list):
            value = "{...}" if isinstance(value, dict) else "[...]"
        problems.append(FieldProblem(path[:MAX_ECHO_CHARS], bounded(value), expected))
    return problems


def _error_page(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
    context = {"status": status, "title": title, "message": message, **extra}
    return render(request, "errors/error.html", context, status_code=status)


async def _answer(
    request: Request, status: int, payload: dict[str, Any], title: str, headers=None
) -> Response:
    if is_api(request):
        return JSONResponse(payload, status_code=status, headers=headers)
    # A page reads the session and the inbox count from the database: in a worker thread,
    # never in the event loop.
    response = await run_in_threadpool(
        _error_page, request, status, title, payload.get("message", ""),
        problems=payload.get("problems", ()))
    if headers:
        response.headers.update(headers)
    return response


def _unknown_patient(request: Request, error: InputError) -> bool:
    """The repository's answer for an unknown pseudonym taken from the URL (a 404; an unknown
    pseudonym in a request body stays a 422)."""
    pseudonym = request.path_params.get("pseudonym")
    return [(p.path, p.value) for p in error.problems] == [("patient", pseudonym)]


async def _invalid_input(request: Request, error: Exception) -> Response:
    assert isinstance(error, InputError)
    error = InputError([FieldProblem(p.path, bounded(p.value), p.expected)
                        for p in error.problems], error.source)  # never echo unbounded input
    if _unknown_patient(request, error):
        payload = {**error.to_dict(), "error": "not_found", "message": "no such patient"}
        return await _answer(request, 404, payload, "Not found")
    return await _answer(request, 422, error.to_dict(), "Please check what you entered")


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    as_input = InputError(problems_from_request(error.errors()))
    return await _invalid_input(request, as_input)


async def _access_denied(request: Request, error: Exception) -> Response:
    payload = {"error": "access_denied", "message": str(error)}
    return await _answer(request, 403, payload, "Not allowed")


async def _csrf_refused(request: Request, _error: Exception) -> Response:
    message = "the form or request lacks a valid CSRF token; reload the page and try again"
    return await _answer(request, 403, {"error": "csrf_refused", "message": message}, "Not allowed")


async def _not_signed_in(request: Request, _error: Exception) -> Response:
    if is_api(request):
        return JSONResponse(
            {"error": "not_signed_in", "message": "sign in first (POST /api/v1/auth/login)"},
            status_code=401,
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _throttled(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginThrottledError)
    headers = {"Retry-After": str(error.retry_after_s)}
    payload = {"error": "too_many_attempts", "message": str(error)}
    return await _answer(request, 429, payload, "Too many attempts", headers)


async def _stimwise_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StimwiseError)
    status = 409 if error.exit_code == 1 else 503
    payload = {"error": type(error).__name__, "message": str(error)}
    return await _answer(request, status, payload, "Refused" if status == 409 else "Unavailable")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    payload = {"error": "http_error", "message": str(error.detail)}
    return await _answer(request, error.status_code, payload,
                         titles.get(error.status_code, "Error"), getattr(error, "headers", None))


class UnexpectedErrorMiddleware:
    """Turns an unexpected exception into a plain 500 answer and a log line that holds the
    exception type, the route template and the code lines of the traceback, never the
    exception's message (it may quote a name or a value). The exception is not re-raised, so
    the server does not log it again with its message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            route = getattr(scope.get("route"), "path", "(no route)")
            log.error(
                "unexpected %s on %s %s\n%s",
                type(error).__name__,
                scope.get("method"),
                route,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            if started:
                return
            if scope["path"].startswith("/api/"):
                response: Response = JSONResponse(
                    {"error": "internal", "message": _UNEXPECTED}, status_code=500
                )
            else:
                response = HTMLResponse(_UNEXPECTED_PAGE, status_code=500)
            await response(scope, receive, send)


_UNEXPECTED = "an unexpected error; nothing was changed"
_UNEXPECTED_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong'
    '</title><link rel="stylesheet" href="/static/app.css"></head><body><main id="main">'
    "<h1>Something went wrong</h1><p>An unexpected error; nothing was changed. "
    '<a href="/">Back to the start page</a></p></main></body></html>'
)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InputError, _invalid_input)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(AccessDeniedError, _access_denied)
    app.add_exception_handler(CsrfRefusedError, _csrf_refused)
    app.add_exception_handler(NotSignedInError, _not_signed_in)
    app.add_exception_handler(LoginThrottledError, _throttled)
    app.add_exception_handler(StimwiseError, _stimwise_error)
    app.add_exception_handler(HTTPException, _http_error)
