"""Request size limits, applied before anything parses a request (issue 17: 200 MB of JSON to
the unauthenticated sign-in was parsed, taking the server from 224 to 1,225 MB; a 1 MB cookie
was accepted).

* headers (names and values together) above :data:`MAX_HEADER_BYTES`: 431;
* a body above :data:`MAX_BODY_BYTES`: 413, from its ``Content-Length`` before a byte is read,
  or, for a body without one (chunked), as soon as the bytes received pass the limit.

The answers are small JSON documents that echo nothing of the request (HAZ-115).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_HEADER_BYTES = 16 * 1024
"""Request headers, all together [U]: a session cookie and a CSRF token are under 300 bytes;
common servers stop at 8-16 KiB."""
MAX_BODY_BYTES = 2 * 1024 * 1024
"""Request body [U]: the largest legitimate body is a FHIR bundle or an intake document, well
under 2 MiB; a JSON sign-in is under 2 KiB."""
MAX_ECHO_CHARS = 200
"""At most this much of a submitted value is ever shown back in an error [U]."""


def bounded(value: object) -> object:
    """A submitted value as an error may show it: long text cut to :data:`MAX_ECHO_CHARS`
    with its length said (a 10 MB user name is never echoed back)."""
    if isinstance(value, str | bytes) and len(value) > MAX_ECHO_CHARS:
        text = value if isinstance(value, str) else value.decode("utf-8", "replace")
        return f"{text[:MAX_ECHO_CHARS]}… ({len(value)} characters in all)"
    return value


async def _refuse(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestLimitsMiddleware:
    """Refuses oversized headers (431) and bodies (413) before the application sees them."""

    def __init__(self, app: ASGIApp, max_header_bytes: int = MAX_HEADER_BYTES,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if sum(len(k) + len(v) for k, v in headers) > self.max_header_bytes:
            if scope["type"] == "http":
                await _refuse(send, 431, "headers_too_large",
                              f"request headers above {self.max_header_bytes} bytes")
            else:
                await send({"type": "websocket.close", "code": 1009})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        declared = dict(headers).get(b"content-length")
        if declared is not None and (not declared.isdigit()
                                     or int(declared) > self.max_body_bytes):
            await _refuse(send, 413, "body_too_large",
                          f"request body above {self.max_body_bytes} bytes")
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            # Past the limit, the 413 goes out at once and the application is told that the
            # client left (its own answer is then dropped): nothing reads the rest.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes and not started:
                    refused = True
                    await _refuse(send, 413, "body_too_large",
                                  f"request body above {self.max_body_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
