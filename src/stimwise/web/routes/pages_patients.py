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
from stimwise.records.models import PATIENT_STATUSES
from stimwise.records.patient_status import MAX_REASON_CHARS
from stimwise.web.deps import (
    CSRF,
    ClinicianActor,
    PatientActor,
    SignedInActor,
    StaffActor,
    get_db,
    render,
)
from stimwise.web.routes.pages_diary import in_plain_words, own_export_url
from stimwise.web.services import home_programme, live_session, patients
from stimwise.web.services.patients import patient_query

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {"status": "New status", "reason": "Reason"}
"""The status form's fields as the page names them (in a refusal)."""
RECENT_SESSION_REPORTS = 20
"""Session reports the exports page links to, newest first [U: stimwise's choice]."""

@router.get("/")
def home(actor: SignedInActor) -> Response:
    target = {"patient": "/me", "administrator": "/users"}.get(actor.role, "/patients")
    return RedirectResponse(target, status_code=303)


@router.get("/patients")
def patient_list(request: Request, actor: StaffActor, q: str = "", status: str = "",
                 page: int = 1) -> Response:
    """The patient list; ``q`` keeps the pseudonyms that contain it, ``status`` filters. A
    search by name or date of birth is posted (:func:`patient_search`), never in the address."""
    return _list_page(request, actor, patient_query(q, status=status), page)


@router.post("/patients", dependencies=CSRF)
def patient_search(
    request: Request,
    actor: StaffActor,
    q: Annotated[str, Form(max_length=200)] = "",
    status: Annotated[str, Form(max_length=20)] = "",
    page: Annotated[int, Form(ge=1, le=100_000)] = 1,
) -> Response:
    """Find a person by pseudonym, name or date of birth (clinicians only: 403 with the reason
    for a researcher); the search and every name shown are audited, never the term."""
    return _list_page(request, actor, patient_query(q, status=status, by_identity=True), page)


def _list_page(request: Request, actor, query, page: int) -> Response:
    found = patients.find(get_db(request), actor, query, page)
    return render(request, "patients/list.html", {
        "found": found, "q": query.text, "status": query.status or "",
        "statuses": PATIENT_STATUSES, "by_identity": query.by_identity,
        "searched": bool(query.text.strip() or query.status)})


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


def _overview_page(request: Request, actor, pseudonym: str, status_code: int = 200,
                   **extra) -> Response:
    db = get_db(request)
    overview = patients.overview(db, actor, pseudonym)
    identity = extra.pop("identity", None)
    if identity is None and actor.role == "clinician":
        identity = patients.get_identity(db, actor, pseudonym)
    context = {"o": overview, "identity": identity, "statuses": PATIENT_STATUSES,
               "status_form": {}, **extra}
    return render(request, "patients/detail.html", context, status_code=status_code)


@router.get("/patients/{pseudonym}")
def patient_page(request: Request, pseudonym: str, actor: StaffActor) -> Response:
    notice = {"status": "Status changed."}.get(request.query_params.get("done", ""))
    return _overview_page(request, actor, pseudonym, notice=notice)


@router.post("/patients/{pseudonym}/status", dependencies=CSRF)
def status_submit(
    request: Request,
    pseudonym: str,
    actor: ClinicianActor,
    status: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=MAX_REASON_CHARS * 2)] = "",
) -> Response:
    """Make the person active, paused or discharged, with a reason (audited)."""
    try:
        patients.change_status(get_db(request), actor, pseudonym, status, reason)
    except InputError as error:
        problems = in_plain_words(error.problems, STATUS_LABELS)
        return _overview_page(request, actor, pseudonym, 422, status_problems=problems,
                              status_form={"status": status, "reason": reason})
    return RedirectResponse(f"/patients/{pseudonym}?done=status", status_code=303)


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
        form = {"full_name": full_name, "date_of_birth": date_of_birth, "contact": contact}
        return _overview_page(request, actor, pseudonym, 422, identity=form,
                              problems=error.problems)
    return RedirectResponse(f"/patients/{pseudonym}", status_code=303)


@router.get("/patients/{pseudonym}/exports")
def exports_page(request: Request, pseudonym: str, actor: StaffActor) -> Response:
    """What can be downloaded about the person: the record as FHIR or CSV, the reports."""
    db = get_db(request)
    overview = patients.overview(db, actor, pseudonym)
    sessions = live_session.recent_sessions(db, actor, pseudonym, RECENT_SESSION_REPORTS)
    return render(request, "patients/exports.html", {"o": overview, "sessions": sessions})


@router.get("/me")
def patient_home(request: Request, actor: PatientActor) -> Response:
    db = get_db(request)
    overview = patients.overview(db, actor, actor.patient or "")
    weekly = home_programme.adherence(db, actor, actor.patient or "", date.today(), 0)
    context = {"o": overview, "export_url": own_export_url(actor.patient or ""),
               "refusal": live_session.start_refusal(db, actor, actor.patient or "", home=True),
               "week": weekly.weeks[0] if weekly is not None and weekly.weeks else None,
               "week_asked": None if weekly is None else weekly.weekly.schedule.sessions_per_week}
    return render(request, "patients/me.html", context)
