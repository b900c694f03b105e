"""REST API: user accounts (administrators only). Password hashes never appear in a response."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from stimwise.protocol.base import StrictModel
from stimwise.web.deps import CSRF, AdministratorActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.security.passwords import KEEP_SPACES
from stimwise.web.services import users

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    patient: str | None
    created_at: datetime
    can_sign_in: bool = Field(description="False once sign-in was revoked (no password).")
    display_name: str | None = Field(
        default=None, description="The name reports are signed with (None: the user name).")


class PasswordIn(StrictModel):
    model_config = KEEP_SPACES

    password: SecretStr = Field(description="The new password, at least 12 characters.")


@router.get("", response_model=list[UserOut], responses=PROBLEM_RESPONSES)
def list_users(request: Request, actor: AdministratorActor) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in users.list_users(get_db(request), actor)]


@router.post(
    "", status_code=201, response_model=UserOut, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def create_user(request: Request, actor: AdministratorActor, body: users.NewUser) -> UserOut:
    """Create a clinician, researcher or patient account (a patient account is tied to the
    patient's pseudonym) with a first password of at least 12 characters."""
    created = users.create_user(get_db(request), actor, body, request.app.state.passwords)
    return UserOut.model_validate(created)


@router.put(
    "/{username}/password", status_code=204, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def set_password(
    request: Request, username: str, actor: AdministratorActor, body: PasswordIn
) -> Response:
    """Set an account's password (a forgotten one, or to re-open a revoked account); the
    account's sessions end."""
    users.reset_password(
        get_db(request), actor, username, body.password.get_secret_value(),
        request.app.state.passwords,
    )
    return Response(status_code=204)


@router.put(
    "/{username}/display-name", status_code=204, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def set_display_name(
    request: Request, username: str, actor: AdministratorActor, body: users.DisplayNameIn
) -> Response:
    """Set the name the account signs reports with (blank or null: the user name)."""
    users.set_display_name(get_db(request), actor, username, body)
    return Response(status_code=204)


@router.post(
    "/{username}/revoke", status_code=204, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def revoke(request: Request, username: str, actor: AdministratorActor) -> Response:
    """Stop the account signing in: its password is deleted and its sessions end."""
    users.revoke_sign_in(get_db(request), actor, username)
    return Response(status_code=204)
