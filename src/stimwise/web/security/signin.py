"""Signing in and out over HTTP, shared by the sign-in page and the API.

The throttle is asked before the password is checked; a failure is counted and logged without
the user name (it may be a mistyped password); success opens a new server-side session, ends
the one the browser brought (no session fixation), and sets the signed cookie.
"""

from __future__ import annotations

import ipaddress
import logging

from fastapi import Request, Response

from stimwise.web.deps import get_db, get_settings, session_token, signed_in
from stimwise.web.errors import LoginThrottledError
from stimwise.web.security.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SignedIn,
)
from stimwise.web.services import users

log = logging.getLogger(__name__)


def client_address(request: Request) -> str:
    """The client's address: the connecting peer, or, when that peer is one of the configured
    trusted proxies, the last address in ``X-Forwarded-For`` that is not itself a trusted
    proxy (the one the outermost trusted proxy saw). A header from anyone else is ignored."""
    peer = request.client.host if request.client else "unknown"
    proxies = get_settings(request).trusted_proxies
    if not proxies or not is_trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, proxies):
            return hop[:64]
    return peer


def is_trusted(address: str, proxies: tuple[str, ...]) -> bool:
    """Whether ``address`` is one of ``proxies`` (addresses or CIDR networks)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in proxies)


def sign_in(request: Request, response: Response, username: str, password: str) -> SignedIn | None:
    """Check the credentials and, when right, put a new session cookie on ``response``;
    ``None`` when wrong. Raises :class:`LoginThrottledError` while throttled."""
    app = request.app
    address = client_address(request)
    wait_s = app.state.throttle.retry_after_s(address, username)
    if wait_s:
        log.warning("sign-in refused: too many failures from one address")
        raise LoginThrottledError(wait_s)
    settings = get_settings(request)
    result = users.sign_in(
        get_db(request), app.state.passwords, username, password, settings.session_lifetime_s
    )
    if result is None:
        app.state.throttle.failed(address, username)
        log.info("sign-in failed")
        return None
    app.state.throttle.succeeded(address, username)
    _end_server_session(request)
    token, new_session = result
    response.set_cookie(
        SESSION_COOKIE,
        app.state.signer.session_cookie(token),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_lifetime_s,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return new_session


def _end_server_session(request: Request) -> None:
    token = session_token(request)
    if token is not None:
        users.sign_out(get_db(request), token, signed_in(request))


def sign_out(request: Request, response: Response) -> None:
    """End the request's session (if any) on the server and clear its cookie."""
    _end_server_session(request)
    response.delete_cookie(SESSION_COOKIE)
