"""Clinician and researcher pages for patients (list, new patient, one patient's overview), the
start page that sends each role to its own home, and the patient's own home page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from stimwise.errors import InputError
from stimwise.protocol.io import validate_model
from stimwise.records.inputs import IdentityIn, PatientIn
from stimwise.web.deps import (
    CSRF,
    ClinicianActor,
    PatientActor,
    SignedInActor,
    StaffActor,
    get_db,
    render,
)
from stimwise.web.routes.pages_diary import own_export_url
from stimwise.web.services import home_programme, patients

router = APIRouter(include_in_schema=False)

@router.get("/")
def home(actor: SignedInActor) -> Response:
    target = {"patient": "/me", "administrator": "/users"}.get(actor.role, "/patients")
    return RedirectResponse(target, status_code=303)


@router.get("/patients")
def patient_list(request: Request, actor: StaffActor, q: str = "") -> Response:
    """Patients by pseudonym; ``q`` keeps those whose pseudonym contains it (any case)."""
    rows = patients.list_patients(get_db(request), actor)
    wanted = q.strip().casefold()
    shown = [row for row in rows if wanted in row.pseudonym.casefold()]
    return render(request, "patients/list.html", {"patients": shown, "q": q, "total": len(rows)})


@router.get("/patients/new")
def new_patient_page(request: Request, _actor: ClinicianActor) -> Response:
    return render(request, "patients/new.html", {"today": date.today().isoformat(), "form": {}})


@router.post("/patients/new", dependencies=CSRF)
def new_patient_submit(
    request: Request,
    actor: ClinicianActor,
    pseudonym: Annotated[str, Form()],
    enrolled_on: Annotated[str, Form()],
    full_name: Annotated[str, Form()] = "",
    date_of_birth: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "pseudonym": pseudonym,
        "enrolled_on": enrolled_on,
        "full_name": full_name,
        "date_of_birth": date_of_birth,
        "contact": contact,
    }
    identity = None
    if full_name.strip():
        identity = {
            "full_name": full_name,
            "date_of_birth": date_of_birth or None,
            "contact": contact or None,
        }
    try:
        data = validate_model(
            PatientIn,
            {"pseudonym": pseudonym, "enrolled_on": enrolled_on, "identity": identity},
        )
        created = patients.create_patient(get_db(request), actor, data)
    except InputError as error:
        context = {"form": form, "problems": error.problems, "today": date.today().isoformat()}
        return render(request, "patients/new.html", context, status_code=422)
    return RedirectResponse(f"/patients/{created.pseudonym}", status_code=303)


@router.get("/patients/{pseudonym}")
def patient_page(
    request: Request, pseudonym: str, actor: SignedInActor
) -> Response:
    db = get_db(request)
    overview = patients.overview(db, actor, pseudonym)
    identity = None
    if actor.role == "clinician":
        identity = patients.get_identity(db, actor, pseudonym)
    return render(request, "patients/detail.html", {"o": overview, "identity": identity})


@router.post("/patients/{pseudonym}/identity", dependencies=CSRF)
def identity_submit(
    request: Request,
    pseudonym: str,
    actor: ClinicianActor,
    full_name: Annotated[str, Form(max_length=400)] = "",
    date_of_birth: Annotated[str, Form(max_length=40)] = "",
    contact: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    """Set (or, with an empty name, remove) the patient's identifying data."""
    db = get_db(request)
    try:
        if not full_name.strip():
            patients.remove_identity(db, actor, pseudonym)
        else:
            data = validate_model(IdentityIn, {
                "full_name": full_name, "date_of_birth": date_of_birth or None,
                "contact": contact or None,
            })
            patients.set_identity(db, actor, pseudonym, data)
    except InputError as error:
        overview = patients.overview(db, actor, pseudonym)
        form = {"full_name": full_name, "date_of_birth": date_of_birth, "contact": contact}
        context = {"o": overview, "identity": form, "problems": error.problems}
        return render(request, "patients/detail.html", context, status_code=422)
    return RedirectResponse(f"/patients/{pseudonym}", status_code=303)


@router.get("/me")
def patient_home(request: Request, actor: PatientActor) -> Response:
    db = get_db(request)
    overview = patients.overview(db, actor, actor.patient or "")
    weekly = home_programme.adherence(db, actor, actor.patient or "", date.today(), 0)
    context = {"o": overview, "export_url": own_export_url(actor.patient or ""),
               "week": weekly.weeks[0] if weekly is not None and weekly.weeks else None,
               "week_asked": None if weekly is None else weekly.weekly.schedule.sessions_per_week}
    return render(request, "patients/me.html", context)
