"""Security headers on every HTTP response (an ASGI middleware, so it also covers error pages
and static files).

* ``Content-Security-Policy``: only this server's own scripts (no inline script, no CDN, no
  eval), no plugins, no framing, forms post only here. Styles also allow inline style: the
  printable home sheet carries its own ``<style>``; scripts never run inline.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (older browsers),
  ``Referrer-Policy: same-origin`` (no pseudonym in URLs leaves the site),
  ``Permissions-Policy`` (no camera, microphone or location), and ``Cache-Control: no-store``
  on everything but static files (health data must not stay in shared caches).
* ``Strict-Transport-Security`` only when served over HTTPS (``secure_cookies``): over plain
  HTTP on a clinic network it would be ignored or lock the site out.
[C: OWASP HTTP Headers Cheat Sheet; MDN Content-Security-Policy]
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        base = {
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "same-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=()",
            "cross-origin-opener-policy": "same-origin",
        }
        if hsts:
            base["strict-transport-security"] = HSTS
        self._headers = [(k.encode(), v.encode()) for k, v in base.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self._headers if k not in present]
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
