"""The OpenAPI document with every status code an operation can answer (issue 17: schemathesis
found 65 undocumented ones). Some answers come from layers every operation passes through, not
from the operation itself; they are added to each operation here, once, instead of in every
route: the request limits (413, 431), the sign-in and role checks (401, 403), the CSRF check on
writes (403), input validation (422) and a device or runtime fault (503)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

COMMON_RESPONSES: dict[str, str] = {
    "400": "Malformed request (e.g. a body that is not valid JSON)",
    "401": "Not signed in",
    "403": "Not allowed for this user, or the CSRF token is missing or wrong",
    "404": "No such record",
    "413": "Request body too large",
    "422": "Invalid input: each problem names the field, value and expectation",
    "431": "Request headers too large",
    "503": "A device or runtime fault",
}
SIGN_IN_RESPONSES: dict[str, str] = {"429": "Too many failed sign-ins; see Retry-After"}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the common answers to every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)
            for path, operations in document.get("paths", {}).items():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    extra = {**COMMON_RESPONSES,
                             **(SIGN_IN_RESPONSES if path.startswith("/api/v1/auth") else {})}
                    for code, text in extra.items():
                        responses.setdefault(code, {"description": text})
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
