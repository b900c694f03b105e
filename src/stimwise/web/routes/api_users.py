"""REST API: user accounts (clinicians only). Password hashes never appear in a response."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from stimwise.web.deps import CSRF, ClinicianActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.services import users

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    patient: str | None
    created_at: datetime


@router.get("", response_model=list[UserOut], responses=PROBLEM_RESPONSES)
def list_users(request: Request, actor: ClinicianActor) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in users.list_users(get_db(request), actor)]


@router.post(
    "", status_code=201, response_model=UserOut, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def create_user(request: Request, actor: ClinicianActor, body: users.NewUser) -> UserOut:
    """Create a clinician, researcher or patient account (a patient account is tied to the
    patient's pseudonym) with a first password of at least 12 characters."""
    created = users.create_user(get_db(request), actor, body, request.app.state.passwords)
    return UserOut.model_validate(created)
