"""The words the pages use instead of ids, state names and unit symbols, in one place.

A page never shows ``crps-gentle-sensory``, ``ramping``, ``Ceiling`` or "1 entries" (issue 16):
templates call the filters installed here (:func:`install`) and routes call the functions, so a
wording is changed once for every page. Clinical words (intake fields and choices, body sites)
come from :mod:`stimwise.clinical.labels` and :mod:`stimwise.protocol.site_names`; this module
adds what the web pages need on top: protocol names, session states and outcomes, settings with
their units spelt out, durations, counts, record statuses and audit actions.

Filters: ``plural``, ``protocol_name``, ``protocol_words``, ``console_state``,
``outcome_words``, ``setting_label``, ``duration_words``, ``site_words``, ``status_words``,
``day_words``, ``when_words``, ``record_count``, ``problem_words``, ``audit_action``,
``words``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from stimwise.protocol.site_names import site_words as _site_words
from stimwise.records.patient_status import STATUS_WORDS
from stimwise.web.services.wording import duration_text

_PARENTHESES = re.compile(r"\s*\([^()]*\)")

CONSOLE_STATES = {
    "idle": "Not started",
    "armed": "Getting ready",
    "calibrating": "Finding the right strength: answer the questions",
    "ramping": "Raising the strength slowly",
    "running": "Stimulating at the chosen strength",
    "paused": "Paused: no stimulation",
    "ramping_down": "Lowering the strength slowly to finish",
    "completed": "Finished",
    "aborted": "Stopped",
}
"""A session state as the person at the console reads it (``static/live.js`` shows these)."""
TERMINAL_STATES = frozenset({"completed", "aborted"})

OUTCOMES = {"completed": "Completed", "aborted": "Stopped early"}
"""How a session ended."""

SETTINGS = {
    "amplitude_ma": ("Strength", "mA"),
    "frequency_hz": ("Pulse rate", "Hz"),
    "phase_width_us": ("Pulse width", "µs"),
    "burst_frequency_hz": ("Burst rate", "Hz"),
    "session_duration_min": ("Session length", "min"),
    "sessions_per_week": ("Sessions a week", None),
    "level": ("Strength shown on the device", None),
}
"""A prescribed or logged setting: its name in words and its unit."""

UNIT_WORDS = ("Hz: pulses a second · µs: millionths of a second (pulse width) · "
              "mA: milliamps (strength of the current)")
"""The units spelt out once on a patient's page."""

FELT = {"nothing": "Nothing", "light_tingling": "Light tingling",
        "strong_comfortable": "Strong but comfortable", "muscle_twitch": "Muscle twitch",
        "painful": "Painful"}
SKIN = {"normal": "Normal", "redness_fading": "Red, fading", "redness_lasting": "Red, lasting",
        "irritated": "Irritated or itchy", "burn_or_blister": "Burn or blister"}
PROBLEMS = {"skin_irritation": "Skin irritation", "burn": "Burn", "flare": "Pain flare-up",
            "soreness": "Soreness", "other": "Something else"}
"""What a self-logged session's answers and a problem report's kinds read as."""

RECORD_KINDS = {
    "intakes": ("intake", "intakes"), "instrument_scores": ("scored questionnaire",
                                                            "scored questionnaires"),
    "prescriptions": ("prescription", "prescriptions"),
    "sessions": ("session on stimwise's stimulator", "sessions on stimwise's stimulator"),
    "self_logged_sessions": ("session logged on the person's own device",
                             "sessions logged on the person's own device"),
    "diary_entries": ("diary entry", "diary entries"),
    "adverse_events": ("adverse event", "adverse events"),
}
"""The kinds of record an overview counts, singular and plural."""

AUDIT_ACTIONS = {
    "read": "Read", "create": "Created", "bulk_insert": "Added records",
    "read_identity": "Read identifying data", "set_identity": "Changed identifying data",
    "remove_identity": "Removed identifying data", "search_identity":
    "Searched by name or date of birth", "set_status": "Changed status",
    "sign_in": "Signed in", "sign_out": "Signed out", "acknowledge": "Acknowledged",
    "supersede": "Replaced", "set_home_device": "Chose the home device",
}
"""Audit actions in words (any other action: :func:`words` of it)."""


def words(identifier: object) -> str:
    """A machine name in words (``read_adverse_events`` -> "Read adverse events"): the last
    resort for a name that has no wording of its own."""
    text = str(identifier).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``0 sessions``."""
    if count == 1:
        return f"{count} {singular}"
    if plural_form is None:
        plural_form = (singular[:-1] + "ies" if singular.endswith("y")
                       and singular[-2:-1] not in "aeiou" else singular + "s")
    return f"{count} {plural_form}"


def protocol_name(name: str) -> str:
    """A protocol's name without its parenthesised details ("Conventional (high-frequency)
    TENS, sensory level" -> "Conventional TENS, sensory level")."""
    return " ".join(_PARENTHESES.sub("", name).split())


@lru_cache(maxsize=1)
def _library_names() -> dict[str, str]:
    from stimwise.protocol.library import library

    return {protocol_id: protocol.name for protocol_id, protocol in library().items()}


def protocol_words(protocol_id: str) -> str:
    """The name of a protocol known by its id only (a library protocol's name; a protocol from
    a file: its id in words)."""
    name = _library_names().get(protocol_id)
    return protocol_name(name) if name else words(protocol_id)


def console_state(state: str) -> str:
    return CONSOLE_STATES.get(state, words(state))


def outcome_words(outcome: str) -> str:
    return OUTCOMES.get(outcome, words(outcome))


def setting_label(key: str) -> str:
    """"Pulse rate (Hz)" for ``frequency_hz``."""
    name, unit = SETTINGS.get(key, (words(key), None))
    return name if unit is None else f"{name} ({unit})"


def range_words(key: str, low: float, high: float) -> str:
    """A locked range in words: "strength 10–30 mA", "pulse rate 80–150 Hz"."""
    name, unit = SETTINGS.get(key, (words(key), None))
    text = f"{name.lower()} {low:g}–{high:g}"
    return text if unit is None else f"{text} {unit}"


def duration_words(seconds: float | None) -> str:
    """``12 min 30 s``, ``45 s``, ``1 h 5 min``: the reports' wording, rounded down so that a
    page never credits stimulation that was not delivered (HAZ-166)."""
    return duration_text(seconds)


def site_words(selector: str | None) -> str:
    """A body-site selector in words ("Left hand, back"), whatever its kind."""
    if not selector:
        return ""
    text = _site_words(selector)
    return text[:1].upper() + text[1:]


def record_count(count: int, kind: str) -> str:
    """``1 diary entry``, ``3 prescriptions`` for a kind of :data:`RECORD_KINDS`."""
    singular, plural_form = RECORD_KINDS.get(kind, (words(kind).lower(), None))
    return plural(count, singular, plural_form)


def day_words(day: date | datetime | str | None) -> str:
    """``3 May 2026`` (a time: its local day; text, e.g. a refused form's value: as it is)."""
    if day is None or day == "":
        return "–"
    if isinstance(day, str):
        return day
    if isinstance(day, datetime):
        day = day.astimezone().date()
    return f"{day.day} {day:%B %Y}"


def when_words(moment: datetime | None) -> str:
    """``3 May 2026, 14:05`` in the server's local time."""
    if moment is None:
        return "–"
    local = moment.astimezone()
    return f"{day_words(local.date())}, {local:%H:%M}"


def problem_words(kind: str) -> str:
    """An adverse event's kind ("Pain flare-up" for ``flare``)."""
    return PROBLEMS.get(kind, words(kind))


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, words(status))


def audit_action(action: str) -> str:
    return AUDIT_ACTIONS.get(action, words(action))


def device_words(profile_id: str, programme_id: str | None = None) -> str:
    """A home device and programme as their maker names them ("TENSunits.com TU 7000 digital
    TENS, TENS (parameter control)"); an id no profile knows any more stays as it is."""
    from stimwise.device.profiles.loader import profiles

    profile = profiles().get(profile_id)
    if profile is None:
        return " · ".join(part for part in (profile_id, programme_id) if part)
    programme = next((p for p in profile.programmes if p.id == programme_id), None)
    if programme is None:
        return profile.name if not programme_id else f"{profile.name}, {programme_id}"
    return f"{profile.name}, {programme.name}"


def install(env: Any) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update({
        "plural": plural, "protocol_name": protocol_name, "protocol_words": protocol_words,
        "console_state": console_state, "outcome_words": outcome_words,
        "setting_label": setting_label, "duration_words": duration_words,
        "site_words": site_words, "status_words": status_words, "words": words,
        "audit_action": audit_action, "day_words": day_words, "when_words": when_words,
        "record_count": record_count, "problem_words": problem_words,
        "device_words": device_words,
    })
