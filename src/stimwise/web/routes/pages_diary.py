"""The patient's phone-sized diary page (several entries a day, today's entries and a
four-week progress list) and the diary list of one patient for anyone allowed to read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.body_sites import SELECTOR_NAMES
from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor, require
from stimwise.records.inputs import AdverseEventIn, DiaryEntryIn
from stimwise.records.models import ADVERSE_EVENT_KINDS, SEVERITIES
from stimwise.web.deps import CSRF, PatientActor, SignedInActor, get_db, render
from stimwise.web.services import diary

router = APIRouter(include_in_schema=False)

RATINGS = (
    ("pain_current_nrs", "Pain right now", "no pain", "worst pain imaginable"),
    ("pain_average_nrs", "Average pain over the last 24 hours", "no pain", "worst pain imaginable"),
    ("pain_worst_nrs", "Worst pain over the last 24 hours", "no pain", "worst pain imaginable"),
    ("sleep_interference_nrs", "How much pain disturbed your sleep", "not at all", "completely"),
    ("function_interference_nrs", "How much pain got in the way of daily activities",
     "not at all", "completely"),
)
MEDICATION_CHANGES = ("started", "stopped", "dose_increased", "dose_decreased")
FORM_FIELDS = (
    "entry_uuid", "recorded_at", "tz_offset_min", "body_site", "note", "medication",
    "medication_change", *(name for name, *_ in RATINGS),
)
FIELD_LABELS = {
    **{name: question for name, question, *_ in RATINGS},
    "recorded_at": "When", "occurred_at": "When", "tz_offset_min": "Time zone",
    "body_site": "Where", "medication": "Medication", "medication_change": "What changed",
    "note": "Note", "kind": "What happened", "severity": "How bad",
    "description": "Describe it", "entry_uuid": "Form id (reload the page)",
}
"""What the patient sees instead of field names in a refused form."""

MAX_OFFSET_MIN = 14 * 60
"""UTC offsets span −12:00 to +14:00 [C: IANA time zone database]."""


def own_export_url(pseudonym: str) -> str:
    """The person's own data as CSV files in a zip (route of :mod:`.api_interop`)."""
    return f"/api/v1/patients/{pseudonym}/export.csv.zip"


def time_from_form(field: str, value: str, offset_min: str, now: datetime) -> datetime:
    """A form's time: now when left empty; else the local date-time typed (or filled in by
    the browser) at the browser's UTC offset, or the server's when the browser sent none."""
    if not value.strip():
        return now
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            FieldProblem(field, value, "a date and time like 2026-01-31T08:30")
        ) from None
    if local.tzinfo is not None:
        return local
    try:
        minutes = int(offset_min)
    except ValueError:
        return local.astimezone()  # server's zone
    if abs(minutes) > MAX_OFFSET_MIN:
        raise InputError(FieldProblem("tz_offset_min", offset_min, "a UTC offset in minutes"))
    return local.replace(tzinfo=timezone(timedelta(minutes=minutes)))


def entry_from_form(form: dict[str, str], now: datetime) -> DiaryEntryIn:
    """Validate the diary form; problems name the form fields."""
    data: dict = {
        name: form[name]
        for name in ("entry_uuid", "body_site", "note", *(n for n, *_ in RATINGS))
        if form.get(name, "").strip()
    }
    data["recorded_at"] = time_from_form(
        "recorded_at", form.get("recorded_at", ""), form.get("tz_offset_min", ""), now
    )
    medication = form.get("medication", "").strip()
    if medication or form.get("medication_change"):
        data["medication_changes"] = [
            {"medication": medication, "change": form.get("medication_change", "")}
        ]
    try:
        return validate_model(DiaryEntryIn, data)
    except InputError as error:
        renamed = [
            FieldProblem(_form_field(p.path), p.value, p.expected) for p in error.problems
        ]
        raise InputError(renamed) from None


def _form_field(path: str) -> str:
    """``medication_changes.0.medication`` → ``medication`` (the form's own field names)."""
    if path.startswith("medication_changes"):
        return "medication_change" if path.endswith("change") else "medication"
    return path


def in_plain_words(problems, labels: dict[str, str] | None = None) -> list[dict]:
    """The problems with the form's own labels for the field names (the path stays, for the
    link to the field); ``labels`` defaults to the diary form's."""
    labels = FIELD_LABELS if labels is None else labels
    plain = []
    for problem in problems:
        expected = problem.expected
        for name, label in labels.items():
            if "_" in name:  # only unmistakable field names inside the sentence
                expected = expected.replace(name, f"“{label}”")
        label = labels.get(problem.path, problem.path)
        plain.append({"path": problem.path, "label": label, "value": problem.value,
                      "expected": expected})
    return plain


def _diary_page(request: Request, actor, form: dict, problems=(), status_code: int = 200):
    today, days = diary.today_and_progress(get_db(request), actor, actor.patient or "")
    context = {
        "form": form,
        "problems": in_plain_words(problems),
        "today_entries": today,
        "days": days,
        "chart": diary.progress_chart(days, diary.local_midnight().date()),
        "chart_size": (diary.CHART_WIDTH, diary.CHART_HEIGHT),
        "ratings": RATINGS,
        "sites": sorted(SELECTOR_NAMES),
        "medication_changes": MEDICATION_CHANGES,
        "saved": request.query_params.get("saved") == "1",
        "reported": request.query_params.get("reported") == "1",
        "export_url": own_export_url(actor.patient or ""),
    }
    return render(request, "diary/today.html", context, status_code=status_code)


@router.get("/diary")
def diary_page(request: Request, actor: PatientActor) -> Response:
    return _diary_page(request, actor, {"entry_uuid": str(uuid.uuid4())})


@router.post("/diary", dependencies=CSRF)
async def diary_submit(request: Request, actor: PatientActor) -> Response:
    raw = await request.form()
    form = {name: str(raw.get(name, "")) for name in FORM_FIELDS}
    return await run_in_threadpool(_save_entry, request, actor, form)


def _save_entry(request: Request, actor, form: dict[str, str]) -> Response:
    try:
        entry = entry_from_form(form, datetime.now(UTC))
        diary.add_entry(get_db(request), actor, actor.patient or "", entry)
    except InputError as error:
        form["entry_uuid"] = form["entry_uuid"] or str(uuid.uuid4())
        return _diary_page(request, actor, form, error.problems, status_code=422)
    return RedirectResponse("/diary?saved=1", status_code=303)


class ProblemForm(BaseModel):
    """The adverse-event form as sent (validated as :class:`AdverseEventIn` afterwards, so
    problems name the form's fields)."""

    kind: str = Field(default="", max_length=40)
    severity: str = Field(default="", max_length=20)
    body_site: str = Field(default="", max_length=60)
    description: str = Field(default="", max_length=4000)
    occurred_at: str = Field(default="", max_length=40)
    tz_offset_min: str = Field(default="", max_length=10)


def _problem_page(
    request: Request, action: str, form: dict, problems=(), status_code: int = 200
) -> Response:
    context = {
        "action": action,
        "form": form,
        "problems": in_plain_words(problems),
        "kinds": ADVERSE_EVENT_KINDS,
        "severities": SEVERITIES,
        "sites": sorted(SELECTOR_NAMES),
    }
    return render(request, "diary/problem.html", context, status_code=status_code)


def _save_problem(
    request: Request, actor: Actor, pseudonym: str, form: ProblemForm, action: str, done: str
) -> Response:
    try:
        data = {
            "kind": form.kind,
            "severity": form.severity,
            "body_site": form.body_site or None,
            "description": form.description.strip() or None,
            "occurred_at": time_from_form(
                "occurred_at", form.occurred_at, form.tz_offset_min, datetime.now(UTC)
            ),
        }
        event = validate_model(AdverseEventIn, data)
        diary.add_adverse_event(get_db(request), actor, pseudonym, event)
    except InputError as error:
        return _problem_page(request, action, form.model_dump(), error.problems, 422)
    return RedirectResponse(done, status_code=303)


@router.get("/diary/problem")
def problem_page(request: Request, _actor: PatientActor) -> Response:
    return _problem_page(request, "/diary/problem", {})


@router.post("/diary/problem", dependencies=CSRF)
def problem_submit(
    request: Request, actor: PatientActor, form: Annotated[ProblemForm, Form()]
) -> Response:
    """A patient reports a problem (skin irritation, burn, flare, soreness, other)."""
    pseudonym = actor.patient or ""
    return _save_problem(request, actor, pseudonym, form, "/diary/problem", "/diary?reported=1")


@router.get("/patients/{pseudonym}/adverse-events/new")
def record_problem_page(request: Request, pseudonym: str, actor: SignedInActor) -> Response:
    """A clinician records an adverse event for a patient (a patient may use it for themself;
    a researcher may not)."""
    require(actor, "write_own", pseudonym)
    return _problem_page(request, f"/patients/{pseudonym}/adverse-events/new", {})


@router.post("/patients/{pseudonym}/adverse-events/new", dependencies=CSRF)
def record_problem_submit(
    request: Request, pseudonym: str, actor: SignedInActor, form: Annotated[ProblemForm, Form()]
) -> Response:
    action = f"/patients/{pseudonym}/adverse-events/new"
    return _save_problem(request, actor, pseudonym, form, action, f"/patients/{pseudonym}/diary")


@router.get("/patients/{pseudonym}/diary")
def diary_list(
    request: Request, pseudonym: str, actor: SignedInActor,
    before: Annotated[AwareDatetime | None, Query(description="Entries before this time.")] = None,
) -> Response:
    """The diary page by page (newest first), with the adverse events."""
    entries, earlier, events = diary.entries_page(get_db(request), actor, pseudonym, before)
    context = {
        "pseudonym": pseudonym,
        "entries": entries,
        "earlier": None if earlier is None else earlier.isoformat(),
        "paged": before is not None,
        "events": list(reversed(events)),
        "days": diary.progress(entries),
    }
    return render(request, "diary/list.html", context)
