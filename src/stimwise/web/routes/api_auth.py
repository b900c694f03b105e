"""Sign-in for API clients: ``POST /api/v1/auth/login`` with a JSON body sets the session
cookie and returns the CSRF token that every later write must send as ``X-CSRF-Token``.

The login takes JSON only, so a cross-site HTML form cannot post it (login CSRF)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from stimwise.protocol.base import StrictModel
from stimwise.web.deps import CSRF, SignedInActor, signed_in
from stimwise.web.security import signin
from stimwise.web.security.passwords import KEEP_SPACES
from stimwise.web.security.sessions import SESSION_COOKIE, SignedIn
from stimwise.web.services import users

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(StrictModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)

    model_config = KEEP_SPACES


class SessionOut(BaseModel):
    username: str
    role: str
    patient: str | None = Field(description="The own record of a patient account.")
    csrf_token: str = Field(description="Send as X-CSRF-Token with every write.")


class PasswordChangeIn(StrictModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)

    model_config = KEEP_SPACES


def _session_out(found: SignedIn) -> SessionOut:
    return SessionOut(
        username=found.username,
        role=found.role,
        patient=found.patient,
        csrf_token=found.csrf_token,
    )


@router.post(
    "/login",
    response_model=SessionOut,
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many failed attempts; see Retry-After"},
    },
)
def login(request: Request, response: Response, body: LoginIn) -> SessionOut | Response:
    found = signin.sign_in(request, response, body.username, body.password)
    if found is None:
        return JSONResponse(
            {"error": "wrong_credentials", "message": "the user name or password is not right"},
            status_code=401,
        )
    return _session_out(found)


@router.post("/logout", status_code=204, dependencies=CSRF)
def logout(request: Request, response: Response) -> None:
    signin.sign_out(request, response)


@router.get("/me", response_model=SessionOut)
def me(request: Request, _actor: SignedInActor) -> SessionOut:
    found = signed_in(request)
    assert found is not None  # current_actor refused anonymous requests
    return _session_out(found)


@router.post("/password", status_code=204, dependencies=CSRF)
def change_password(
    request: Request,
    response: Response,
    actor: SignedInActor,
    body: PasswordChangeIn,
) -> None:
    """Change one's own password; all of the user's sessions end (sign in again)."""
    users.change_password(
        request.app.state.db, actor, body.current_password, body.new_password,
        request.app.state.passwords,
    )
    response.delete_cookie(SESSION_COOKIE)
