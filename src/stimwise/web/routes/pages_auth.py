"""Sign-in, sign-out and password pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from stimwise.errors import InputError
from stimwise.web.deps import CSRF, SignedInActor, get_db, render, signed_in
from stimwise.web.security import signin
from stimwise.web.security.passwords import MIN_PASSWORD_LENGTH
from stimwise.web.services import users

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL): no open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.api_route("/login", methods=["GET", "HEAD"])
def login_page(request: Request, next: str | None = None) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": next})


@router.post("/login", dependencies=CSRF)
def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if signin.sign_in(request, response, username, password) is None:
        context = {"failed": True, "username": username, "next": next}
        return render(request, "auth/login.html", context, status_code=401)
    return response


@router.post("/logout", dependencies=CSRF)
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    signin.sign_out(request, response)
    return response


@router.get("/account/password")
def password_page(request: Request, _actor: SignedInActor) -> Response:
    return render(request, "auth/password.html", {"min_length": MIN_PASSWORD_LENGTH})


@router.post("/account/password", dependencies=CSRF)
def password_submit(
    request: Request,
    actor: SignedInActor,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
) -> Response:
    try:
        users.change_password(
            get_db(request), actor, current_password, new_password, request.app.state.passwords
        )
    except InputError as error:
        context = {"min_length": MIN_PASSWORD_LENGTH, "problems": error.problems}
        return render(request, "auth/password.html", context, status_code=422)
    response = RedirectResponse("/login", status_code=303)
    signin.sign_out(request, response)
    return response
