"""Accounts page (administrators): list users, create clinician, researcher or patient accounts,
set the name a clinician signs reports with, set a forgotten password, and revoke sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import SecretStr

from stimwise.errors import InputError
from stimwise.protocol.io import validate_model
from stimwise.web.deps import CSRF, AdministratorActor, get_db, render
from stimwise.web.security.passwords import MIN_PASSWORD_LENGTH
from stimwise.web.services import users

router = APIRouter(include_in_schema=False)


def _users_page(request: Request, actor, form: dict, problems=(), status_code: int = 200):
    context = {
        "users": users.list_users(get_db(request), actor),
        "form": form,
        "problems": problems,
        "min_length": MIN_PASSWORD_LENGTH,
        "created": request.query_params.get("created"),
        "changed": request.query_params.get("changed"),
        "named": request.query_params.get("named"),
    }
    return render(request, "users/list.html", context, status_code=status_code)


@router.get("/users")
def users_page(request: Request, actor: AdministratorActor) -> Response:
    return _users_page(request, actor, {})


@router.post("/users", dependencies=CSRF)
def create_user_submit(
    request: Request,
    actor: AdministratorActor,
    username: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1024)],
    patient: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    form = {"username": username, "role": role, "patient": patient, "display_name": display_name}
    data = {"username": username, "role": role, "patient": patient.strip() or None,
            "display_name": display_name}
    try:
        new_user = validate_model(users.NewUser, {**data, "password": SecretStr(password)})
        users.create_user(get_db(request), actor, new_user, request.app.state.passwords)
    except InputError as error:
        return _users_page(request, actor, form, error.problems, status_code=422)
    return RedirectResponse(f"/users?created={new_user.username}", status_code=303)


@router.post("/users/password", dependencies=CSRF)
def set_password_submit(
    request: Request,
    actor: AdministratorActor,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    try:
        users.reset_password(
            get_db(request), actor, username, password, request.app.state.passwords
        )
    except InputError as error:
        return _users_page(request, actor, {"reset_username": username}, error.problems, 422)
    return RedirectResponse(f"/users?changed={username}", status_code=303)


@router.post("/users/display-name", dependencies=CSRF)
def display_name_submit(
    request: Request,
    actor: AdministratorActor,
    username: Annotated[str, Form(max_length=200)],
    display_name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """The name an account signs reports with (blank: the user name)."""
    try:
        data = validate_model(users.DisplayNameIn, {"display_name": display_name})
        users.set_display_name(get_db(request), actor, username, data)
    except InputError as error:
        return _users_page(request, actor, {"name_username": username,
                                            "display_name_new": display_name},
                           error.problems, 422)
    return RedirectResponse(f"/users?named={username}", status_code=303)


@router.post("/users/revoke", dependencies=CSRF)
def revoke_submit(
    request: Request, actor: AdministratorActor, username: Annotated[str, Form(max_length=200)]
) -> Response:
    try:
        users.revoke_sign_in(get_db(request), actor, username)
    except InputError as error:
        return _users_page(request, actor, {}, error.problems, 422)
    return RedirectResponse(f"/users?changed={username}", status_code=303)
