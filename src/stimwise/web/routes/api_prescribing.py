"""REST API of prescriptions: verify a draft (with its waveform views), store a verified one,
list the history, and the waveform of any library protocol's defaults."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor
from stimwise.web.deps import csrf_protect, current_actor, get_db
from stimwise.web.services import prescribing
from stimwise.web.services.reports import PrescriptionLine, prescription_history
from stimwise.web.services.waveform_data import waveform_views

router = APIRouter(prefix="/api/v1", tags=["prescriptions"])
SignedIn = Annotated[Actor, Depends(current_actor)]


class Trace(BaseModel):
    name: str
    x: list[float]
    y: list[float]


class Panel(BaseModel):
    title: str
    x_label: str
    y_label: str
    traces: list[Trace]


class WaveformViews(BaseModel):
    """One pulse, one second and the envelope, as arrays for a chart."""

    pulse: Panel
    second: Panel
    envelope: Panel


class RangeProblem(BaseModel):
    path: str
    value: Any
    expected: str


class EvaluationOut(BaseModel):
    verdict: str
    storable: bool
    safety: dict[str, Any]
    range_problems: list[RangeProblem]
    intake_id: int
    screening_assessed_on: date
    waveform: WaveformViews | None = None


class StoredOut(BaseModel):
    id: int
    evaluation: EvaluationOut


@router.post("/patients/{pseudonym}/prescriptions/verify", response_model=EvaluationOut,
             dependencies=[Depends(csrf_protect)])
def verify_draft(
    request: Request, pseudonym: str, draft: prescribing.PrescriptionDraft, actor: SignedIn,
    waveform: Annotated[bool, Query(description="Include the waveform views.")] = True,
) -> dict:
    """Build and verify a draft with the patient's current screening; nothing is stored."""
    evaluation = prescribing.evaluate(get_db(request), actor, pseudonym, draft)
    document = evaluation.to_dict()
    if waveform:
        document["waveform"] = evaluation.views()
    return document


@router.post("/patients/{pseudonym}/prescriptions", response_model=StoredOut, status_code=201,
             dependencies=[Depends(csrf_protect)])
def store_prescription(
    request: Request, pseudonym: str, draft: prescribing.PrescriptionDraft, actor: SignedIn
) -> dict:
    """Store the draft only if it passes the safety verification (blocked: 409, nothing
    stored) and its home-use ranges verify at every corner (else 422)."""
    prescription_id, evaluation = prescribing.save(get_db(request), actor, pseudonym, draft)
    return {"id": prescription_id, "evaluation": evaluation.to_dict()}


@router.get("/patients/{pseudonym}/prescriptions", response_model=list[PrescriptionLine])
def list_prescriptions(request: Request, pseudonym: str, actor: SignedIn) -> list:
    """The patient's prescriptions, oldest first."""
    return prescription_history(get_db(request), actor, pseudonym)


class StoredOutDetail(BaseModel):
    id: int
    verdict: str
    fingerprint_matches: bool
    safety: dict[str, Any]
    waveform: WaveformViews


@router.get("/patients/{pseudonym}/prescriptions/{prescription_id}",
            response_model=StoredOutDetail)
def get_prescription(request: Request, pseudonym: str, prescription_id: int,
                     actor: SignedIn) -> dict:
    """A stored prescription re-verified now with its stored caps, and its waveform views."""
    stored = prescribing.stored_prescription(get_db(request), actor, pseudonym, prescription_id)
    return {"id": stored.id, "verdict": stored.report.verdict,
            "fingerprint_matches": stored.fingerprint_matches,
            "safety": stored.report.to_dict(), "waveform": stored.views()}


@router.get("/protocols/{protocol_id}/waveform", response_model=WaveformViews)
def protocol_waveform(protocol_id: str, _actor: SignedIn) -> dict:
    """The waveform views of a library protocol's defaults (a view, not a verification)."""
    protocols = library()
    if protocol_id not in protocols:
        raise InputError(FieldProblem("protocol_id", protocol_id,
                                      f"a library id ({', '.join(sorted(protocols))})"))
    return waveform_views(Prescription.from_protocol(protocols[protocol_id]))
