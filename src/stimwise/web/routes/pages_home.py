"""The home programme on the person's own device: the patient's phone pages ("My device" with
the printable sheet and the calendar, "Log a session" with weekly adherence), the calendar
subscription address a phone polls, and the clinician's home-programme page of one patient."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stimwise.errors import FieldProblem, InputError
from stimwise.interop.home_sheet import placement_svg, schedule_text, sheet_html, sheet_pdf
from stimwise.records.access import require
from stimwise.records.models import ADVERSE_EVENT_KINDS
from stimwise.records.patient_status import ProgrammeNotOfferedError
from stimwise.records.self_logged import Felt, Skin
from stimwise.web.deps import CSRF, ClinicianActor, PatientActor, StaffActor, get_db, render
from stimwise.web.routes.pages_diary import in_plain_words, time_from_form
from stimwise.web.services import home_programme as hp
from stimwise.web.wording import FELT, PROBLEMS, SKIN, UNIT_WORDS

router = APIRouter(include_in_schema=False)

assert set(FELT) == set(Felt.__args__) and set(SKIN) == set(Skin.__args__)  # type: ignore[attr-defined]
assert set(PROBLEMS) == set(ADVERSE_EVENT_KINDS)
LOG_LABELS = {
    "started_at": "When you started", "minutes": "How many minutes", "profile": "Your device",
    "programme": "Programme", "settings.frequency_hz": "Pulse rate",
    "settings.phase_width_us": "Pulse width", "settings.burst_frequency_hz": "Burst rate",
    "settings.level": "Strength shown on the device", "settings.amplitude_ma": "Current shown",
    "felt": "How it felt", "nrs_pre": "Pain before", "nrs_post": "Pain after",
    "skin": "Your skin afterwards", "problems": "Problems", "note": "Note",
    "tz_offset_min": "Time zone", "entry_uuid": "Form id (reload the page)",
    "prescription": "Your home programme", "settings": "Settings",
}
"""What the patient sees instead of field names in a refused log."""
DEFAULT_TIME = time(18, 0)
"""The reminder time offered first [U: stimwise's choice; the person changes it]."""


def _today() -> date:
    return datetime.now(UTC).astimezone().date()


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip()) if text.strip() else DEFAULT_TIME
    except ValueError:
        raise InputError(FieldProblem("time", text, "a time of day like 18:00")) from None


# --------------------------------------------------------------------------- My device


def _device_page(request: Request, actor, *, status_code: int = 200, feed_token: str | None = None,
                 problems=(), preview: str | None = None) -> Response:
    db = get_db(request)
    pseudonym = actor.patient or ""
    view = hp.home_view(db, actor, pseudonym, _today(), preview)
    context = {
        "view": view, "choices": hp.device_choices(),
        "schedule": None if view.instructions is None else schedule_text(view.instructions),
        "placement": None if view.instructions is None else placement_svg(view.instructions),
        "feed": hp.feed_status(db, actor, pseudonym), "feed_token": feed_token,
        "feed_url": None if feed_token is None else str(
            request.url_for("calendar_feed", token=feed_token)),
        "unit_words": UNIT_WORDS, "problems": in_plain_words(problems, {"time": "Time"}),
        "notice_key": request.query_params.get("done", ""), "default_time": "18:00",
        "unpublished_ranges": hp.unpublished_ranges,
    }
    return render(request, "home/device.html", context, status_code=status_code)


@router.get("/my-device")
async def device_page(request: Request, actor: PatientActor) -> Response:
    return await run_in_threadpool(_device_page, request, actor)


@router.post("/my-device", dependencies=CSRF)
async def device_choose(request: Request, actor: PatientActor) -> Response:
    """The patient chooses their own device (an unknown id is refused, naming the field)."""
    form = await request.form()
    profile_id = str(form.get("profile", ""))

    def choose():
        try:
            hp.set_device(get_db(request), actor, actor.patient or "", profile_id)
        except InputError as error:
            return _device_page(request, actor, status_code=422, problems=[
                FieldProblem("profile", p.value, p.expected) for p in error.problems])
        return RedirectResponse("/my-device?done=device", status_code=303)

    return await run_in_threadpool(choose)


def _sheet(request: Request, actor, pseudonym: str, pdf: bool) -> Response:
    view = hp.home_view(get_db(request), actor, pseudonym, _today())
    if view.instructions is None:
        reason = view.no_programme or "Choose the device first, then print its sheet."
        return render(request, "home/refused.html", {"reason": reason}, status_code=409)
    if pdf:
        return Response(sheet_pdf(view.instructions, pseudonym, _today()),
                        media_type="application/pdf", headers={
                            "Content-Disposition": 'attachment; filename="home-programme.pdf"'})
    return Response(sheet_html(view.instructions, pseudonym, _today()), media_type="text/html")


@router.get("/my-device/sheet")
async def device_sheet(request: Request, actor: PatientActor) -> Response:
    """The printable home-programme sheet (the same HTML as `prescription instructions`)."""
    return await run_in_threadpool(_sheet, request, actor, actor.patient or "", False)


@router.get("/my-device/sheet.pdf")
async def device_sheet_pdf(request: Request, actor: PatientActor) -> Response:
    return await run_in_threadpool(_sheet, request, actor, actor.patient or "", True)


def _ics_response(body: bytes) -> Response:
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="home-programme.ics"',
        "Cache-Control": "no-store"})


@router.get("/my-device/calendar.ics")
async def device_calendar(request: Request, actor: PatientActor, time: str = "") -> Response:
    """The home schedule as a calendar file to import (a reminder before each session)."""

    def build():
        try:
            at = _time(time)
        except InputError as error:
            return _device_page(request, actor, status_code=422, problems=error.problems)
        try:
            body = hp.calendar_file(get_db(request), actor, actor.patient or "", _today(), at)
        except ProgrammeNotOfferedError as refused:
            return render(request, "home/refused.html", {"reason": str(refused)},
                          status_code=409)
        return _ics_response(body)

    return await run_in_threadpool(build)


@router.post("/my-device/calendar-link", dependencies=CSRF)
async def calendar_link_create(request: Request, actor: PatientActor) -> Response:
    """A new subscription address (shown on this answer only; the previous one stops)."""
    form = await request.form()

    def create():
        try:
            at = _time(str(form.get("time", "")))
        except InputError as error:
            return _device_page(request, actor, status_code=422, problems=error.problems)
        token = hp.create_feed(get_db(request), actor, actor.patient or "", at)
        response = _device_page(request, actor, feed_token=token)
        response.headers["Cache-Control"] = "no-store"
        return response

    return await run_in_threadpool(create)


@router.post("/my-device/calendar-link/stop", dependencies=CSRF)
def calendar_link_stop(request: Request, actor: PatientActor) -> Response:
    hp.stop_feed(get_db(request), actor, actor.patient or "")
    return RedirectResponse("/my-device?done=calendar-stopped", status_code=303)


@router.get("/calendar/{token}.ics", name="calendar_feed")
def calendar_feed(request: Request, token: str) -> Response:
    """A calendar application's poll: no sign-in, the unguessable address is the key. An
    unknown or stopped address gets 404 and nothing else (not even whether it existed)."""
    body = hp.feed_calendar(get_db(request), token, _today())
    if body is None:
        return Response("No such calendar.", status_code=404, media_type="text/plain",
                        headers={"Cache-Control": "no-store"})
    return Response(body, media_type="text/calendar",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


# --------------------------------------------------------------------------- log a session


def _log_values(form: dict[str, str], now: datetime) -> dict:
    """The form as :func:`~stimwise.records.self_logged.validate_self_logged` takes it."""
    minutes_text = form.get("minutes", "").strip()
    started = form.get("started_at", "").strip()
    if started:
        when = time_from_form("started_at", started, form.get("tz_offset_min", ""), now)
    else:  # left empty: the session has just ended
        try:
            when = now - timedelta(minutes=float(minutes_text))
        except ValueError:
            when = now
    as_prescribed = form.get("as_prescribed") == "1"
    settings: dict[str, str] = {}
    keys = ["level", "amplitude_ma"]
    if not as_prescribed:
        keys += ["frequency_hz", "phase_width_us", "burst_frequency_hz"]
    for key in keys:
        text = form.get(f"settings.{key}", "").strip()
        if text:
            settings[key] = text
    values = {
        "entry_uuid": form.get("entry_uuid") or str(uuid.uuid4()),
        "started_at": when.isoformat(), "minutes": minutes_text or None,
        "profile": form.get("profile", ""), "as_prescribed": as_prescribed,
        "settings": settings, "problems": form.get("problems_list", []),
    }
    if not as_prescribed and form.get("programme"):
        values["programme"] = form["programme"]
    for name in ("felt", "nrs_pre", "nrs_post", "skin", "note"):
        if form.get(name, "").strip():
            values[name] = form[name].strip()
    return values


LOG_FIELDS = ("entry_uuid", "profile", "programme", "as_prescribed", "minutes", "started_at",
              "tz_offset_min", "felt", "nrs_pre", "nrs_post", "skin", "note",
              "settings.frequency_hz", "settings.phase_width_us", "settings.burst_frequency_hz",
              "settings.level", "settings.amplitude_ma")


def _log_page(request: Request, actor, form: dict | None = None, problems=(),
              status_code: int = 200, saved=None) -> Response:
    db = get_db(request)
    pseudonym = actor.patient or ""
    today = _today()
    start = hp.log_form(db, actor, pseudonym, today)
    values = {**start.values, **(form or {})}
    values.setdefault("entry_uuid", str(uuid.uuid4()))
    if form is None:
        values["entry_uuid"] = str(uuid.uuid4())
    profiles_by_id = {c.id: c for c in hp.device_choices()}
    context = {
        "start": start, "form": values, "choices": list(profiles_by_id.values()),
        "problems": in_plain_words(problems, LOG_LABELS), "felt": FELT, "skin": SKIN,
        "problem_kinds": PROBLEMS, "saved": saved, "unit_words": UNIT_WORDS,
        "logs": hp.recent_logs(db, actor, pseudonym, 5),
        "adherence": hp.adherence(db, actor, pseudonym, today, hp.PATIENT_WEEKS),
    }
    return render(request, "home/log.html", context, status_code=status_code)


@router.get("/log-session")
async def log_page(request: Request, actor: PatientActor) -> Response:
    saved_id = request.query_params.get("saved", "")

    def page():
        saved = None
        if saved_id.isdigit():
            saved = next((row for row in hp.recent_logs(get_db(request), actor,
                                                        actor.patient or "", 20)
                          if row.id == int(saved_id)), None)
        return _log_page(request, actor, saved=saved)

    return await run_in_threadpool(page)


@router.post("/log-session", dependencies=CSRF)
async def log_submit(request: Request, actor: PatientActor) -> Response:
    raw = await request.form()
    form = {name: str(raw.get(name, "")) for name in LOG_FIELDS}
    form["problems_list"] = [str(v) for v in raw.getlist("problems")]

    def save():
        try:
            values = _log_values(form, datetime.now(UTC))
            result = hp.log_session(get_db(request), actor, actor.patient or "", values)
        except InputError as error:
            return _log_page(request, actor, form, error.problems, status_code=422)
        except ProgrammeNotOfferedError:  # the page says why in place of the form
            return _log_page(request, actor, form, status_code=409)
        return RedirectResponse(f"/log-session?saved={result.session.id}", status_code=303)

    return await run_in_threadpool(save)


# --------------------------------------------------------------------------- clinician page


@router.get("/patients/{pseudonym}/home-programme")
async def clinician_page(request: Request, pseudonym: str, actor: StaffActor) -> Response:
    """One patient's home programme for clinicians and researchers: the device, adherence with
    its provenance, and every self-logged session with its flags."""

    def page():
        db = get_db(request)
        view = hp.home_view(db, actor, pseudonym, _today())
        return render(request, "home/clinician.html", {
            "pseudonym": pseudonym, "here": "home", "view": view,
            "choices": hp.device_choices(),
            "adherence": hp.adherence(db, actor, pseudonym, _today()),
            "logs": hp.recent_logs(db, actor, pseudonym, 200), "felt": FELT, "skin": SKIN,
            "problem_kinds": PROBLEMS, "done": request.query_params.get("done", ""),
            "unit_words": UNIT_WORDS, "unpublished_ranges": hp.unpublished_ranges,
            "schedule": None if view.instructions is None else schedule_text(view.instructions),
            "placement": None if view.instructions is None else placement_svg(view.instructions),
        })

    return await run_in_threadpool(page)


@router.post("/patients/{pseudonym}/home-programme/device", dependencies=CSRF)
async def clinician_choose_device(request: Request, pseudonym: str,
                                  actor: ClinicianActor) -> Response:
    form = await request.form()
    profile_id = str(form.get("profile", ""))

    def choose():
        hp.set_device(get_db(request), actor, pseudonym, profile_id)
        return RedirectResponse(f"/patients/{pseudonym}/home-programme?done=device",
                                status_code=303)

    return await run_in_threadpool(choose)


@router.get("/patients/{pseudonym}/home-programme/sheet")
async def clinician_sheet(request: Request, pseudonym: str, actor: StaffActor,
                          pdf: bool = False) -> Response:
    require(actor, "read", pseudonym)
    return await run_in_threadpool(_sheet, request, actor, pseudonym, pdf)
