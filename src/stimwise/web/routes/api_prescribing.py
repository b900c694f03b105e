"""REST API of prescriptions: verify a draft (with its waveform views), store a verified one,
list the history, and the waveform of any library protocol's defaults."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor
from stimwise.records.inputs import MAX_ROW_ID
from stimwise.web.deps import csrf_protect, current_actor, get_db, require_roles
from stimwise.web.services import prescribing, review
from stimwise.web.services.reports import PrescriptionLine, prescription_history
from stimwise.web.services.waveform_data import waveform_views

router = APIRouter(prefix="/api/v1", tags=["prescriptions"])
SignedIn = Annotated[Actor, Depends(current_actor)]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A prescription's id.")]


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


class DraftProblem(RangeProblem):
    label: str


class EvaluationOut(BaseModel):
    verdict: str
    storable: bool
    safety: dict[str, Any]
    range_problems: list[RangeProblem]
    problems: list[DraftProblem]
    home_amplitude_ceiling_ma: float
    home_amplitude_rule: str
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


class DueReviewOut(BaseModel):
    pseudonym: str
    prescription_id: int
    protocol_id: str
    protocol_name: str
    valid_from: date
    review_on: date | None
    overdue: bool
    when: str
    prescribed_by: str


@router.get("/reviews/due", response_model=list[DueReviewOut])
def due_reviews(request: Request, actor: Clinician) -> list[dict]:
    """Prescriptions in force whose review is overdue, not set, or due within a week (most
    urgent first; clinicians only)."""
    found = review.review_list(get_db(request), actor)
    return [{"pseudonym": d.pseudonym, "prescription_id": d.prescription_id,
             "protocol_id": d.protocol_id, "protocol_name": d.protocol_name,
             "valid_from": d.valid_from, "review_on": d.review_on, "overdue": d.overdue,
             "when": d.when_text, "prescribed_by": d.prescribed_by}
            for d in [*found.overdue, *found.due_soon]]


class ReviewedOut(BaseModel):
    prescription_id: int
    review_on: date


@router.post("/patients/{pseudonym}/prescriptions/{prescription_id}/review",
             response_model=ReviewedOut, dependencies=[Depends(csrf_protect)])
def record_review(request: Request, pseudonym: str, actor: Clinician,
                  body: review.NextReview, prescription_id: RowId) -> dict:
    """Record that the prescription was reviewed and stays, with its next review date (after
    its first day, not in the past, within 12 weeks; 422 naming ``next_review_on``)."""
    chosen = review.reviewed(get_db(request), actor, pseudonym, prescription_id,
                             body.next_review_on)
    return {"prescription_id": prescription_id, "review_on": chosen}
