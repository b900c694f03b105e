"""The prescription editor (verify, draw, store), a patient's prescription history, the review
of a prescription, and the clinicians' list of prescriptions due for review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.errors import InputError, SafetyBlockError
from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor
from stimwise.records.inputs import MAX_ROW_ID, home_amplitude_rule_text
from stimwise.records.review import DUE_SOON_DAYS
from stimwise.web.deps import csrf_protect, get_db, render, require_roles
from stimwise.web.services import clinical, prescribing, prescribing_form, review, wording
from stimwise.web.services.intake_form import form_lists
from stimwise.web.services.reports import prescription_history

router = APIRouter(include_in_schema=False)

Staff = Annotated[Actor, Depends(require_roles("clinician", "researcher"))]
Clinician = Annotated[Actor, Depends(require_roles("clinician"))]
KEPT_ON_LOAD = ("valid_from", "valid_to", "review_on")
"""What loading another protocol's usual settings keeps of the form: the dates."""


def _home_rule(values: dict, view, evaluation) -> str:
    """The home amplitude rule with this draft's ceiling (the same words as any refusal)."""
    if evaluation is not None:
        return home_amplitude_rule_text(evaluation.home_amplitude_ceiling_ma)
    amplitude = values.get("max_amplitude_ma")
    cap = view.screening.caps.max_amplitude_ma if view is not None else None
    if not isinstance(amplitude, int | float):
        return prescribing.HOME_AMPLITUDE_RULE
    return home_amplitude_rule_text(min(amplitude, cap) if cap is not None else amplitude)


def _editor(request: Request, pseudonym: str, view, values: dict, problems=(),
            evaluation=None, blocked: bool = False, status_code: int = 200) -> Response:
    lines = prescribing_form.problem_lines(problems)
    if evaluation is not None:
        lines += prescribing_form.problem_lines(evaluation.problems)
    channels = list(values.get("channels") or [])
    return render(request, "prescribing/editor.html", {
        "pseudonym": pseudonym, "view": view, "values": values, "channels": channels,
        "problems": lines, "field_problems": prescribing_form.problems_by_field(lines),
        "evaluation": evaluation, "blocked": blocked,
        "protocols": prescribing_form.protocol_options(),
        "pulse": prescribing_form.is_pulse_train(values.get("protocol_id")),
        "site_groups": prescribing_form.site_option_groups(view),
        "label_of": prescribing.draft_label,
        "intake_id": values.get("intake_id") or (view.intake_id if view else ""),
        "home_rule": _home_rule(values, view, evaluation),
        "review_days": review.REVIEW_DAYS_TEXT, **wording.template_words(),
    }, status_code=status_code)


def _starting_values(db, actor: Actor, pseudonym: str, view, protocol: str | None,
                     rank: int | None) -> dict:
    if protocol is None:
        found = clinical.recommendations(db, actor, pseudonym)
        ranked = found[1].recommendations if found else ()
        chosen = next((r for r in ranked if r.rank == (rank or 1)), None)
        if chosen is not None:
            return prescribing.draft_values(view, chosen.protocol_id, chosen.placement.channels)
    return prescribing.draft_values(view, protocol)


@router.get("/patients/{pseudonym}/prescribe")
def editor_page(
    request: Request, pseudonym: str, actor: Clinician,
    protocol: Annotated[str | None, Query(max_length=64)] = None,
    rank: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Response:
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    if view is None:
        return _editor(request, pseudonym, None, {})
    values = _starting_values(db, actor, pseudonym, view, protocol, rank)
    evaluation = None
    if view.usable_for_prescribing and view.screening.eligible:
        draft = validate_model(prescribing.PrescriptionDraft, values, source="draft")
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
    return _editor(request, pseudonym, view, values, evaluation=evaluation)


@router.post("/patients/{pseudonym}/prescribe", dependencies=[Depends(csrf_protect)])
async def editor_submit(request: Request, pseudonym: str, actor: Clinician) -> Response:
    form = form_lists(await request.form())
    return await run_in_threadpool(_submit_draft, request, pseudonym, actor, form)


def _load_protocol(request: Request, pseudonym: str, actor: Actor, view, form: dict) -> Response:
    """The chosen protocol's usual dose and electrodes, keeping the dates typed so far."""
    submitted = prescribing_form.read_form(form)
    values = prescribing.draft_values(view, submitted.get("protocol_id"))
    values.update({k: submitted[k] for k in KEPT_ON_LOAD if k in submitted})
    return _editor(request, pseudonym, view, values)


def _submit_draft(request: Request, pseudonym: str, actor: Actor, form: dict) -> Response:
    """The submission's work, off the event loop (database and verification are blocking)."""
    db = get_db(request)
    view = clinical.latest_screening(db, actor, pseudonym)
    action = form.get("action", [""])[0]
    if action == "load" and view is not None:
        return _load_protocol(request, pseudonym, actor, view, form)
    draft, values, problems = prescribing_form.parse_form(form)
    if draft is None:
        return _editor(request, pseudonym, view, values, problems, status_code=422)
    try:
        if action == "save":
            prescription_id, _ = prescribing.save(db, actor, pseudonym, draft)
            return RedirectResponse(f"/patients/{pseudonym}/prescriptions?saved={prescription_id}",
                                    status_code=303)
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
    except InputError as error:
        return _editor(request, pseudonym, view, values, error.problems, status_code=422)
    except SafetyBlockError:
        evaluation = prescribing.evaluate(db, actor, pseudonym, draft)
        return _editor(request, pseudonym, view, values, evaluation=evaluation, blocked=True,
                       status_code=409)
    return _editor(request, pseudonym, view, values, evaluation=evaluation)


@router.get("/patients/{pseudonym}/prescriptions")
def prescriptions_page(
    request: Request, pseudonym: str, actor: Staff,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    lines = prescription_history(get_db(request), actor, pseudonym)
    stored = next((line for line in lines if line.id == saved), None)
    return render(request, "prescribing/list.html",
                  {"pseudonym": pseudonym, "lines": lines, "saved": stored,
                   "today": datetime.now(UTC).date(), **wording.template_words()})


def _detail(request: Request, pseudonym: str, prescription_id: int, actor: Actor,
            problems=(), next_review_on: str = "", reviewed: bool = False,
            status_code: int = 200) -> Response:
    db = get_db(request)
    stored = prescribing.stored_prescription(db, actor, pseudonym, prescription_id)
    line = next(x for x in prescription_history(db, actor, pseudonym)
                if x.id == prescription_id)
    return render(request, "prescribing/detail.html", {
        "pseudonym": pseudonym, "stored": stored, "line": line, "reviewed": reviewed,
        "problems": [{"path": "next_review_on", "label": "Next review on",
                      "expected": p.expected, "value": None} for p in problems],
        "next_review_on": next_review_on or review.suggested_next_review().isoformat(),
        "review_days": review.REVIEW_DAYS_TEXT, "today": datetime.now(UTC).date(),
        **wording.template_words(),
    }, status_code=status_code)


@router.get("/patients/{pseudonym}/prescriptions/{prescription_id}")
def prescription_page(request: Request, pseudonym: str, prescription_id: int,
                      actor: Staff, reviewed: Annotated[bool, Query()] = False) -> Response:
    return _detail(request, pseudonym, prescription_id, actor, reviewed=reviewed)


@router.post("/patients/{pseudonym}/prescriptions/{prescription_id}/review",
             dependencies=[Depends(csrf_protect)])
def review_submit(request: Request, pseudonym: str,
                  prescription_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], actor: Clinician,
                  next_review_on: Annotated[str, Form(max_length=40)] = "") -> Response:
    """The clinician reviewed the prescription and keeps it until the next review date."""
    try:
        chosen = validate_model(review.NextReview, {"next_review_on": next_review_on or None},
                                source="review")
        review.reviewed(get_db(request), actor, pseudonym, prescription_id,
                        chosen.next_review_on)
    except InputError as error:
        return _detail(request, pseudonym, prescription_id, actor, error.problems,
                       next_review_on, status_code=422)
    return RedirectResponse(
        f"/patients/{pseudonym}/prescriptions/{prescription_id}?reviewed=true", status_code=303)


@router.get("/reviews")
def reviews_page(request: Request, actor: Clinician) -> Response:
    """Prescriptions due for review: overdue (or without a date) and due within a week."""
    return render(request, "prescribing/reviews.html", {
        "due": review.review_list(get_db(request), actor), "soon_days": DUE_SOON_DAYS,
        **wording.template_words()})
