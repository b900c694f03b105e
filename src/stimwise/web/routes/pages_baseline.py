"""The baseline page: what the response verdict still needs, recalled baseline days and the
therapy start (issue 17, defect 5)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import validate_model
from stimwise.records.baseline import RecalledDayIn, TherapyStartIn
from stimwise.web.deps import CSRF, ClinicianActor, StaffActor, get_db, render
from stimwise.web.services import baseline

router = APIRouter(include_in_schema=False)

PAIN_FIELD = "pain-"
"""Form fields ``pain-YYYY-MM-DD``: the recalled average pain of that day."""
NOTICES = {
    "recalled": "The recalled baseline days were stored (marked as recalled).",
    "start": "The therapy start was saved.",
}
START_LABELS = {"therapy_start_on": "Therapy start", "reason": "Why"}


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _page(request: Request, actor, pseudonym: str, *, problems=(), form=None,
          status_code: int = 200) -> Response:
    found = baseline.status(get_db(request), actor, pseudonym)
    return render(request, "response/baseline.html", {
        "pseudonym": pseudonym, "s": found, "problems": list(problems), "form": form or {},
        "day_label": day_label, "notice": NOTICES.get(request.query_params.get("done", "")),
    }, status_code=status_code)


@router.get("/patients/{pseudonym}/baseline")
def baseline_page(request: Request, pseudonym: str, actor: StaffActor) -> Response:
    return _page(request, actor, pseudonym)


class _FormProblemsError(Exception):
    """Problems of the form itself, before the records are asked."""

    def __init__(self, problems: list[dict]):
        super().__init__("form problems")
        self.problems = problems


def _recalled_from_form(form: dict[str, str]) -> list[RecalledDayIn]:
    days, problems = [], []
    for name, value in form.items():
        if not value.strip():
            continue
        try:
            day = date.fromisoformat(name.removeprefix(PAIN_FIELD))
            days.append(validate_model(RecalledDayIn, {"day": day, "pain_average_nrs": value}))
        except ValueError:
            problems.append({"path": name, "label": f"Average pain on {name[len(PAIN_FIELD):]}",
                             "value": value, "expected": "a whole number from 0 to 10"})
    if problems:
        raise _FormProblemsError(problems)
    if not days:
        raise _FormProblemsError([{"path": "recalled", "label": "Recalled days", "value": None,
                              "expected": "a pain score for at least one day"}])
    return days


def _plain(problems: list[FieldProblem], days: list[RecalledDayIn]) -> list[dict]:
    """Problems of recalled days named by the day and its form field."""
    shown = []
    for problem in problems:
        index = problem.path.removeprefix("days[").split("]")[0]
        day = days[int(index)].day if index.isdigit() else None
        path = f"{PAIN_FIELD}{day.isoformat()}" if day else problem.path
        label = f"Average pain on {day_label(day)}" if day else problem.path
        shown.append({"path": path, "label": label, "value": None, "expected": problem.expected})
    return shown


def _save_recalled(request: Request, actor, pseudonym: str, form: dict[str, str]) -> Response:
    days: list[RecalledDayIn] = []
    try:
        days = _recalled_from_form(form)
        baseline.record_recalled_days(get_db(request), actor, pseudonym, days)
    except _FormProblemsError as error:
        return _page(request, actor, pseudonym, problems=error.problems, form=form,
                     status_code=422)
    except InputError as error:
        return _page(request, actor, pseudonym, problems=_plain(error.problems, days),
                     form=form, status_code=422)
    return RedirectResponse(f"/patients/{pseudonym}/baseline?done=recalled", status_code=303)


@router.post("/patients/{pseudonym}/baseline/recalled", dependencies=CSRF)
async def recalled_submit(request: Request, pseudonym: str, actor: ClinicianActor) -> Response:
    raw = await request.form()
    form = {name: str(value)[:20] for name, value in raw.items()
            if name.startswith(PAIN_FIELD)}
    return await run_in_threadpool(_save_recalled, request, actor, pseudonym, form)


def _save_start(request: Request, actor, pseudonym: str, form: dict[str, str]) -> Response:
    try:
        data = validate_model(TherapyStartIn, {
            "therapy_start_on": form["therapy_start_on"] or None, "reason": form["reason"]})
        baseline.set_therapy_start(get_db(request), actor, pseudonym, data)
    except InputError as error:
        problems = [{"path": p.path, "label": START_LABELS.get(p.path, p.path),
                     "value": p.value, "expected": p.expected} for p in error.problems]
        return _page(request, actor, pseudonym, problems=problems, form=form, status_code=422)
    return RedirectResponse(f"/patients/{pseudonym}/response?done=start", status_code=303)


@router.post("/patients/{pseudonym}/baseline/start", dependencies=CSRF)
async def start_submit(request: Request, pseudonym: str, actor: ClinicianActor) -> Response:
    raw = await request.form()
    form = {"therapy_start_on": str(raw.get("therapy_start_on", ""))[:20],
            "reason": str(raw.get("reason", ""))[:2000]}
    return await run_in_threadpool(_save_start, request, actor, pseudonym, form)
