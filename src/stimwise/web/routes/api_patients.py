"""REST API: patients and their identifying data (``/api/v1/patients``).

Identities are for clinicians only; every read of a patient or an identity is audited."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stimwise.records.inputs import IdentityIn, PatientIn
from stimwise.records.patient_status import MAX_REASON_CHARS
from stimwise.web.deps import CSRF, ClinicianActor, SignedInActor, get_db
from stimwise.web.services import patients
from stimwise.web.services.patients import patient_query

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

PROBLEM_RESPONSES: dict[int | str, dict] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed for this user (or not this patient's own record)"},
    404: {"description": "No such patient"},
    422: {"description": "Invalid input: each problem names the field, value and expectation"},
}


def _no_identity() -> JSONResponse:
    return JSONResponse(
        {"error": "not_found", "message": "no identifying data is kept for this patient"},
        status_code=404,
    )


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pseudonym: str
    enrolled_on: date
    created_at: datetime


class PatientDetailOut(PatientOut):
    status: str
    counts: dict[str, int]


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    full_name: str
    date_of_birth: date | None
    contact: str | None


class PatientListOut(PatientOut):
    """One person in the list; name, date of birth and unread count for clinicians only."""

    status: str
    last_session_at: datetime | None
    unread: int | None
    full_name: str | None
    date_of_birth: date | None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(max_length=20)
    reason: str = Field(max_length=MAX_REASON_CHARS * 2)


class StatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    reason: str
    changed_by: str
    changed_at: datetime


@router.get("", response_model=list[PatientListOut], responses=PROBLEM_RESPONSES)
def list_patients(request: Request, actor: SignedInActor, q: str = "",
                  status: str = "") -> list[PatientListOut]:
    """Every patient by pseudonym (a patient account sees only its own record), or those whose
    pseudonym contains ``q``; ``status``: active, paused or discharged. A clinician's list
    holds names and dates of birth (each one shown is audited). To find a person by name or
    date of birth, post the search (``POST /api/v1/patients/search``): a name never travels
    in an address."""
    found = patients.find(get_db(request), actor, patient_query(q, status=status),
                          page_size=None)
    return [PatientListOut.model_validate(row) for row in found.rows]


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    born: str = Field(default="", max_length=40)
    status: str = Field(default="", max_length=20)


@router.post("/search", response_model=list[PatientListOut], dependencies=CSRF,
             responses=PROBLEM_RESPONSES)
def search_patients(request: Request, actor: SignedInActor,
                    body: SearchIn) -> list[PatientListOut]:
    """Find people by pseudonym, name or date of birth: ``q`` matches any of the three (a date
    as 1961-04-12 or 12.04.1961, day first), ``name`` and ``born`` only those. Clinicians only
    (403 with the reason for anyone else); the search and every name shown are audited, never
    the term."""
    query = patient_query(body.q, body.name, body.born, body.status, by_identity=True)
    found = patients.find(get_db(request), actor, query, page_size=None)
    return [PatientListOut.model_validate(row) for row in found.rows]


@router.post("/{pseudonym}/status", response_model=StatusOut, dependencies=CSRF,
             responses=PROBLEM_RESPONSES)
def change_status(request: Request, pseudonym: str, actor: ClinicianActor,
                  body: StatusIn) -> StatusOut:
    """Make the person active, paused or discharged, with the reason (audited). Paused or
    discharged: their home programme is no longer offered; discharged: no clinic session."""
    change = patients.change_status(get_db(request), actor, pseudonym, body.status, body.reason)
    return StatusOut.model_validate(change)


@router.post(
    "", status_code=201, response_model=PatientOut, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def create_patient(request: Request, actor: ClinicianActor, body: PatientIn) -> PatientOut:
    return PatientOut.model_validate(patients.create_patient(get_db(request), actor, body))


@router.get("/{pseudonym}", response_model=PatientDetailOut, responses=PROBLEM_RESPONSES)
def get_patient(request: Request, pseudonym: str, actor: SignedInActor) -> PatientDetailOut:
    found = patients.overview(get_db(request), actor, pseudonym)
    summary = PatientOut.model_validate(found.patient).model_dump()
    return PatientDetailOut(**summary, status=found.patient.status, counts=found.counts)


@router.get("/{pseudonym}/identity", response_model=IdentityOut, responses=PROBLEM_RESPONSES)
def get_identity(request: Request, pseudonym: str, actor: ClinicianActor) -> IdentityOut | Response:
    """The patient's identifying data (404 when none is kept)."""
    identity = patients.get_identity(get_db(request), actor, pseudonym)
    if identity is None:
        return _no_identity()
    return IdentityOut.model_validate(identity)


@router.put(
    "/{pseudonym}/identity",
    response_model=IdentityOut,
    dependencies=CSRF,
    responses=PROBLEM_RESPONSES,
)
def set_identity(
    request: Request, pseudonym: str, actor: ClinicianActor, body: IdentityIn
) -> IdentityOut:
    identity = patients.set_identity(get_db(request), actor, pseudonym, body)
    return IdentityOut.model_validate(identity)


@router.delete(
    "/{pseudonym}/identity", status_code=204, dependencies=CSRF, responses=PROBLEM_RESPONSES
)
def remove_identity(request: Request, pseudonym: str, actor: ClinicianActor) -> Response:
    """Remove the identifying data, keeping the pseudonymous record (404 when none)."""
    removed = patients.remove_identity(get_db(request), actor, pseudonym)
    return Response(status_code=204) if removed else _no_identity()
