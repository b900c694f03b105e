"""The home programme on the person's own device, for the phone pages and the clinician's page:
the device chosen, the prescription in its terms, logging a session, weekly adherence and the
calendar. Thin: the records layer validates, flags and audits writes
(:mod:`stimwise.records.self_logged`, :mod:`stimwise.records.home_device`); reads are audited
here (:func:`~stimwise.web.services.audit.audited_read`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from stimwise.analysis.adherence import WeekAdherence, WeeklyAdherence, weekly_adherence
from stimwise.analysis.from_records import load_schedule, load_series
from stimwise.device.profiles import profiles
from stimwise.device.profiles.models import DeviceProfile
from stimwise.device.profiles.translate import DeviceInstructions, translate
from stimwise.errors import InputError
from stimwise.interop.calendar import home_schedule_ics
from stimwise.records import home_device as hd
from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.home import HomePrescription, prescription_on
from stimwise.records.models import SelfLoggedSession
from stimwise.records.patient_status import ProgrammeNotOfferedError, programme_refusal
from stimwise.records.repository import get_patient
from stimwise.records.self_logged import LogResult, list_self_logged, log_self_session
from stimwise.web.services.audit import audited_read
from stimwise.web.wording import plural

GENERIC_PROFILE = "other-device"
RECENT_LOGS = 10
PATIENT_WEEKS = 4
"""Complete weeks of adherence the phone page shows (with the week under way) [U]."""


@dataclass(frozen=True)
class DeviceChoice:
    """One device in the chooser, with whether stimwise can check settings on it."""

    id: str
    name: str
    checkable: bool


def device_choices() -> list[DeviceChoice]:
    """Every profile by name, the 'other device' last. ``checkable``: its maximum output is
    documented or bounded by a declared standard (what makes a verification possible)."""
    found = profiles().values()
    ordered = sorted((p for p in found if not p.generic), key=lambda p: p.name.casefold())
    ordered += [p for p in found if p.generic]
    return [DeviceChoice(p.id, p.name, p.max_output.current_ma.known
                         or p.declares_iec_60601_2_10) for p in ordered]


def unpublished_ranges(instructions: DeviceInstructions) -> bool:
    """Whether a setting can only be set "if the device offers it" (its range unpublished)."""
    return any(s.match == "as_prescribed_if_offered" and s.parameter != "session_minutes"
               for s in instructions.settings)


def plain_status(instructions: DeviceInstructions) -> str:
    """The verification in words a patient reads (no state names, no rule ids)."""
    if instructions.status == "verified":
        strongest = instructions.worst_case.amplitude_ma
        if instructions.profile.max_output.current_ma.known:
            basis = f"the strongest current this device's manual states ({strongest:g} milliamps)"
        else:
            basis = (f"the strongest current that the safety standard its maker declares "
                     f"allows for them (taken as {strongest:.0f} milliamps; the manual states "
                     "no maximum)")
        return f"stimwise checked these settings at {basis} and found them within the limits."
    if instructions.status == "blocked":
        return ("The safety check refused these settings on this device. Do not use them: "
                "ask your clinician.")
    if instructions.profile.closed:
        return ("This device sets its own pulses, so stimwise cannot check them. You can still "
                "log your sessions; use it only as your clinician agreed.")
    if instructions.programme is None:
        return ("None of this device's programmes matches your prescription, so stimwise "
                "cannot check it. Ask your clinician before using it.")
    if any(s.device is None for s in instructions.settings):
        return ("This device's manual does not say which pulses its programme gives, so "
                "stimwise cannot check the settings. Use them only after your clinician has "
                "confirmed them.")
    return ("This device's manual does not say how strong its output can get, so stimwise "
            "cannot check the settings. Use them only after your clinician has confirmed them.")


@dataclass(frozen=True)
class HomeView:
    """What the 'My device' page shows."""

    profile: DeviceProfile | None
    instructions: DeviceInstructions | None
    no_programme: str | None
    """Why there are no instructions (no prescription valid today), in words."""

    @property
    def status_text(self) -> str | None:
        return None if self.instructions is None else plain_status(self.instructions)


def _home(session, actor: Actor, pseudonym: str, day: date
          ) -> tuple[HomePrescription | None, str | None]:
    """The prescription offered on ``day`` or, when none is, why in words: the person is not
    active now (paused or discharged, HAZ-170) or no prescription is valid that day."""
    refusal = programme_refusal(session, get_patient(session, actor, pseudonym),
                                datetime.now(UTC))
    if refusal is not None:
        return None, refusal
    try:
        return prescription_on(session, actor, pseudonym, day), None
    except InputError as error:
        if error.problems and error.problems[0].path == "prescription":
            return None, NO_PROGRAMME
        raise


def _instructions(home: HomePrescription, profile: DeviceProfile) -> DeviceInstructions:
    return translate(home.prescription, profile, caps=home.caps, ceiling_ma=home.home_ceiling_ma)


NO_PROGRAMME = ("You have no home programme valid today. Your clinician sets one; until then "
                "there are no settings to show and no session to log.")


def home_view(db: Database, actor: Actor, pseudonym: str, today: date,
              profile_id: str | None = None) -> HomeView:
    """The prescription valid ``today`` in the terms of ``profile_id`` (default: the person's
    chosen device; none chosen: no instructions yet)."""

    def read(session) -> HomeView:
        chosen = profile_id or hd.chosen_device(session, actor, pseudonym)
        profile = None if chosen is None else profiles().get(chosen)
        home, why = _home(session, actor, pseudonym, today)
        if home is None:
            return HomeView(profile, None, why)
        if profile is None:
            return HomeView(None, None, None)
        return HomeView(profile, _instructions(home, profile), None)

    return audited_read(db, actor, pseudonym, "home_programme", read)


def set_device(db: Database, actor: Actor, pseudonym: str, profile_id: str) -> None:
    with db.transaction() as session:
        hd.choose_device(session, actor, pseudonym, profile_id)


# --------------------------------------------------------------------------- logging


@dataclass(frozen=True)
class LogForm:
    """What the log form starts from: the device and settings of the last log (or the chosen
    device and the prescribed settings), and the prescribed session length."""

    profile: DeviceProfile | None
    instructions: DeviceInstructions | None
    no_programme: str | None
    values: dict[str, Any] = field(default_factory=dict)


def log_form(db: Database, actor: Actor, pseudonym: str, today: date) -> LogForm:
    def read(session) -> LogForm:
        last = hd.last_self_logged(session, actor, pseudonym)
        chosen = hd.chosen_device(session, actor, pseudonym)
        profile = None if chosen is None else profiles().get(chosen)
        home, why = _home(session, actor, pseudonym, today)
        if home is None:
            return LogForm(profile, None, why)
        instructions = None if profile is None else _instructions(home, profile)
        values: dict[str, Any] = {
            "profile": chosen or "",
            "minutes": f"{home.prescription.session_duration_min:g}",
            "as_prescribed": "1",
        }
        if last is not None and last.profile_id == chosen:
            values["minutes"] = f"{last.minutes:g}"
            if last.programme_id:
                values["programme"] = last.programme_id
            if not last.as_prescribed:
                values["as_prescribed"] = ""
                for key in ("frequency_hz", "phase_width_us", "burst_frequency_hz"):
                    if key in (last.settings or {}):
                        values[f"settings.{key}"] = f"{last.settings[key]:g}"
            for key in ("level", "amplitude_ma"):
                if key in (last.settings or {}):
                    values[f"settings.{key}"] = f"{last.settings[key]:g}"
        return LogForm(profile, instructions, None, values)

    return audited_read(db, actor, pseudonym, "home_programme", read)


def log_session(db: Database, actor: Actor, pseudonym: str, values: dict[str, Any]
                ) -> LogResult:
    """Validate and store one self-logged session (flagged when outside the locked ranges)."""
    with db.transaction() as session:
        return log_self_session(session, actor, pseudonym, values)


def recent_logs(db: Database, actor: Actor, pseudonym: str, limit: int = RECENT_LOGS
                ) -> list[SelfLoggedSession]:
    """The newest self-logged sessions first."""
    rows = audited_read(db, actor, pseudonym, "self_logged_sessions",
                        lambda s: list_self_logged(s, actor, pseudonym))
    return list(reversed(rows))[:limit]


# --------------------------------------------------------------------------- adherence


@dataclass(frozen=True)
class WeekRow:
    """One week of adherence with its calendar dates."""

    counts: WeekAdherence
    first_day: date
    last_day: date


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


@dataclass(frozen=True)
class AdherenceView:
    weekly: WeeklyAdherence
    weeks: tuple[WeekRow, ...]
    """Newest first."""

    @property
    def provenance(self) -> str:
        """Where the counted sessions come from, always named."""
        total = sum(w.counts.sessions for w in self.weeks)
        reported = sum(w.counts.self_reported_sessions for w in self.weeks)
        if total == 0:
            return "No sessions yet."
        counted = plural(total, "session")
        if reported == total:
            return (f"The {counted} counted {_were(total)} logged by the person "
                    "(self-reported).")
        if reported == 0:
            return f"The {counted} counted {_were(total)} recorded by stimwise's own device."
        return (f"Of {counted} counted, {reported} {_were(reported)} logged by the person "
                f"(self-reported) and {total - reported} recorded by stimwise's own device.")


def adherence(db: Database, actor: Actor, pseudonym: str, today: date,
              weeks: int | None = None) -> AdherenceView | None:
    """Weekly days, sessions and minutes against the prescribed schedule, counted from the
    first session up to ``today`` (``None``: no prescription). ``weeks`` keeps the newest."""

    def read(session):
        schedule = load_schedule(session, actor, pseudonym)
        if schedule is None:
            return None
        series = load_series(session, actor, pseudonym, today)
        return series, schedule

    loaded = audited_read(db, actor, pseudonym, "adherence", read)
    if loaded is None:
        return None
    series, schedule = loaded
    weekly = weekly_adherence(series, schedule)
    start = series.therapy_start
    rows = tuple(
        WeekRow(w, first_day=start + timedelta(days=w.first_day),
                last_day=start + timedelta(days=w.first_day + w.days_covered - 1))
        for w in reversed(weekly.weeks))
    return AdherenceView(weekly, rows if weeks is None else rows[:weeks + 1])


# --------------------------------------------------------------------------- calendar


def calendar_file(db: Database, actor: Actor, pseudonym: str, today: date, at: time
                  ) -> bytes:
    """The home schedule on the person's device as ICS; :class:`ProgrammeNotOfferedError`
    saying why when no programme is offered today."""

    def read(session):
        home, why = _home(session, actor, pseudonym, today)
        if home is None:
            raise ProgrammeNotOfferedError(why)
        chosen = hd.chosen_device(session, actor, pseudonym) or GENERIC_PROFILE
        return _instructions(home, profiles()[chosen]), home.row.valid_to

    instructions, valid_to = audited_read(db, actor, pseudonym, "home_programme", read)
    return home_schedule_ics(instructions, today, at, valid_to)


def feed_status(db: Database, actor: Actor, pseudonym: str):
    with db.reading() as session:
        return hd.active_calendar_feed(session, actor, pseudonym)


def create_feed(db: Database, actor: Actor, pseudonym: str, at: time) -> str:
    with db.transaction() as session:
        return hd.create_calendar_feed(session, actor, pseudonym, at)


def stop_feed(db: Database, actor: Actor, pseudonym: str) -> int:
    with db.transaction() as session:
        return hd.revoke_calendar_feeds(session, actor, pseudonym)


EMPTY_CALENDAR = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                  b"PRODID:-//stimwise//home programme//EN\r\nEND:VCALENDAR\r\n")
"""What a live address answers while no home programme is offered (none valid, or the person
paused or discharged): a calendar with no events, so the reminders stop."""


def feed_calendar(db: Database, token: str, today: date) -> bytes | None:
    """The calendar a subscription address opens (``None``: no such live address)."""
    with db.transaction() as session:
        found = hd.read_calendar_feed(session, token)
        if found is None:
            return None
        home, _why = _home(session, found.reader, found.pseudonym, today)
        if home is None:
            return EMPTY_CALENDAR
        chosen = hd.chosen_device(session, found.reader, found.pseudonym) or GENERIC_PROFILE
        instructions = _instructions(home, profiles()[chosen])
        valid_to = home.row.valid_to
    return home_schedule_ics(instructions, today, found.at, valid_to,
                             uid=f"home-programme-feed-{found.feed_id}@stimwise")
