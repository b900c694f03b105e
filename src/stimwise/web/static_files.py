"""Static files served compressed and cacheable, all of them alike (issue 17: a 4.8 MB chart
library went out uncompressed on every page, so the prescribe and response pages took ~2 s in a
fresh browser; since issue 13 the charts are drawn by the package's own small ``plots.js``).

* Every file under ``/static/`` has a content hash; pages link it as
  ``/static/<path>?v=<hash>`` (:func:`static_url`, a template global), so a browser may keep it
  for a year (``immutable``) and a new release changes the address. A request without the
  current hash gets a short cache time and the ``ETag``; a matching ``If-None-Match`` is
  answered 304 with no body.
* Text files (scripts, styles, SVG, JSON) go out gzip-compressed to a client that accepts it,
  compressed once on first use and kept in memory ("precompressed where cheap": the package
  ships plain files, so nothing needs building).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".map")


@dataclass
class _Asset:
    path: Path
    digest: str
    media_type: str
    body: bytes
    _gzip: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzip is None:
            self._gzip = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzip


class StaticAssets:
    """The static files of one application: a mapping from the URL path below ``/static/`` to
    a file, read and hashed once."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._files = files
        self._assets: dict[str, _Asset] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path) -> StaticAssets:
        return cls({p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()})

    def asset(self, name: str) -> _Asset | None:
        if name not in self._files:
            return None
        with self._lock:
            found = self._assets.get(name)
            if found is None:
                path = self._files[name]
                body = path.read_bytes()
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if path.suffix == ".js":
                    media_type = "text/javascript"
                found = _Asset(path, hashlib.sha256(body).hexdigest()[:16], media_type, body)
                self._assets[name] = found
            return found

    def url(self, name: str) -> str:
        """The versioned address of ``name`` (e.g. ``"app.css"``)."""
        found = self.asset(name)
        if found is None:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{name}?v={found.digest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app mounted at ``/static``."""
        response = self.response(scope)
        await response(scope, receive, send)

    def response(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return Response(status_code=405, headers={"Allow": "GET, HEAD"})
        name = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
        name = name.removeprefix("static/")
        found = self.asset(name)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = Headers(scope=scope)
        etag = f'"{found.digest}"'
        query = scope.get("query_string", b"").decode()
        versioned = f"v={found.digest}" in query.split("&")
        common = {"ETag": etag, "Cache-Control": LONG_CACHE if versioned else SHORT_CACHE,
                  "Vary": "Accept-Encoding"}
        if etag in [t.strip() for t in headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=common)
        body = found.body
        if (found.path.suffix in COMPRESSIBLE
                and "gzip" in headers.get("accept-encoding", "").lower()):
            body = found.gzipped()
            common["Content-Encoding"] = "gzip"
        if scope["method"] == "HEAD":
            return Response(status_code=200, headers={**common,
                            "Content-Length": str(len(body))}, media_type=found.media_type)
        return Response(body, media_type=found.media_type, headers=common)
