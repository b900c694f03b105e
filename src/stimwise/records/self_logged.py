"""Sessions a person did on their own device and logged themself (provenance ``self_reported``).

An import like any other: the values are checked by :func:`validate_self_logged` — one function
taking a plain dict, so the fuzzing harness can drive it — and refused with field, value and
expectation unless finite, in range, in their unit, possible on the named device and tied to a
prescription valid on the day. What is accepted is stored with:

* the settings' verification at the device's worst case
  (:func:`stimwise.device.profiles.translate.translate`), whatever it says;
* ``flagged`` and the reasons when a setting lies outside the prescription's locked ranges (a
  rate, width, programme, level or current other than prescribed, or a longer session): such a
  session is stored as reported — never silently taken as prescribed — and waits in the
  clinicians' inbox (:func:`unacknowledged_flagged_sessions`) until acknowledged;
* an adverse event for each problem reported, so a skin problem reaches the clinician as any
  problem report does.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stimwise.device.profiles import get_profile
from stimwise.device.profiles.models import DeviceProfile
from stimwise.device.profiles.translate import DeviceInstructions, translate
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel
from stimwise.protocol.io import validate_model
from stimwise.protocol.models import PulseTrain
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.home import HomePrescription, prescription_on
from stimwise.records.inputs import AdverseEventKind, Nrs
from stimwise.records.models import AdverseEvent, Patient, SelfLoggedSession
from stimwise.records.patient_status import require_home_programme
from stimwise.records.repository import (
    date_problems,
    find_patient,
    get_patient,
    now_utc,
    raise_if,
    store,
)

SETTING_UNITS: dict[str, str] = {
    "frequency_hz": "Hz", "phase_width_us": "µs", "burst_frequency_hz": "Hz",
    "level": "level", "amplitude_ma": "mA",
}
"""The settings a person may report (``--setting KEY=VALUE``); the unit is in the key."""
MAX_MINUTES = 240.0
"""Longest session stimwise accepts as a record (the ``session-length.cap`` limit, [U])."""
RELATIVE_TOLERANCE = 0.005
"""Slack when comparing a reported setting with the prescribed one (display rounding) [U]."""
Felt = Literal["nothing", "light_tingling", "strong_comfortable", "muscle_twitch", "painful"]
Skin = Literal["normal", "redness_fading", "redness_lasting", "irritated", "burn_or_blister"]


class SelfLoggedIn(StrictModel):
    """One self-logged session as reported (validated; device facts checked separately)."""

    started_at: AwareDatetime
    minutes: float = Field(gt=0, le=MAX_MINUTES)
    profile: str = Field(min_length=2, max_length=64)
    programme: str | None = Field(default=None, max_length=40)
    as_prescribed: bool = False
    settings: dict[str, float] = Field(default_factory=dict, max_length=len(SETTING_UNITS))
    felt: Felt | None = None
    nrs_pre: Nrs | None = None
    nrs_post: Nrs | None = None
    skin: Skin | None = None
    problems: tuple[AdverseEventKind, ...] = Field(default=(), max_length=5)
    note: str | None = Field(default=None, max_length=2000)
    entry_uuid: uuid.UUID = Field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class CheckedSession:
    """A validated report with what the checks found."""

    data: SelfLoggedIn
    profile: DeviceProfile
    settings: dict[str, float]
    amplitude_ma: float | None
    verification: DeviceInstructions
    flag_reasons: tuple[str, ...]


# --------------------------------------------------------------------------- validation


def _setting_problems(settings: dict, profile: DeviceProfile, programme_id: str | None
                      ) -> list[FieldProblem]:
    problems = []
    for key, value in settings.items():
        path = f"settings.{key}"
        if key not in SETTING_UNITS:
            problems.append(FieldProblem(path, value, f"one of {', '.join(SETTING_UNITS)}"))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value) or value < 0:
            problems.append(FieldProblem(path, value, f"a finite number ≥ 0 in "
                                                      f"{SETTING_UNITS[key]}"))
    if problems:
        return problems
    programme = None if programme_id is None else profile.programme(programme_id)
    if programme_id is not None and programme is None:
        ids = ", ".join(p.id for p in profile.programmes) or "none"
        return [FieldProblem("programme", programme_id, f"a programme of {profile.id} ({ids})")]
    for key in ("frequency_hz", "phase_width_us", "burst_frequency_hz"):
        setting = None if programme is None else getattr(programme, key)
        if key in settings and setting is not None and not setting.contains(settings[key]):
            problems.append(FieldProblem(
                f"settings.{key}", settings[key],
                f"a value {programme.name} offers ({setting.describe(SETTING_UNITS[key])})"))
    scale = profile.intensity
    if "level" in settings:
        low, high = scale.min_level.value, scale.max_level.value
        if (low is not None and settings["level"] < low) or (
                high is not None and settings["level"] > high):
            problems.append(FieldProblem("settings.level", settings["level"],
                                         f"a level of {profile.name} ({low:g}–{high:g})"))
    if "amplitude_ma" in settings and settings["amplitude_ma"] > 200:
        problems.append(FieldProblem("settings.amplitude_ma", settings["amplitude_ma"],
                                     "at most 200 mA"))
    return problems


def _logged_prescription(home: HomePrescription, settings: dict[str, float]):
    """The prescription with the reported rate and width in place of the prescribed ones."""
    rx = home.prescription
    if not isinstance(rx.waveform, PulseTrain):
        return rx
    return rx.with_dose(frequency_hz=settings.get("frequency_hz"),
                        phase_width_us=settings.get("phase_width_us"),
                        source="self-logged settings")


def _flags(home: HomePrescription, instructed: DeviceInstructions, data: SelfLoggedIn,
           settings: dict[str, float], amplitude_ma: float | None) -> list[str]:
    """Why the session lies outside the prescription's locked ranges (empty: it does not)."""
    reasons = []
    locked = home.locked
    for key, label in (("frequency_hz", "pulse rate"), ("phase_width_us", "pulse width")):
        if key not in settings:
            continue
        value = settings[key]
        span = None if locked is None else getattr(locked, key)
        if span is not None:
            inside = span.min - 1e-9 <= value <= span.max + 1e-9
            allowed = f"{span.min:g}–{span.max:g} {SETTING_UNITS[key]}"
        else:
            target = instructed.setting(key)
            expected = None if target is None else target.device
            inside = expected is None or math.isclose(value, expected,
                                                      rel_tol=RELATIVE_TOLERANCE)
            allowed = "unknown" if expected is None else f"{expected:g} {SETTING_UNITS[key]}"
        if not inside:
            reasons.append(f"{label} {value:g} {SETTING_UNITS[key]} outside the prescribed "
                           f"{allowed}")
    prescribed_minutes = home.prescription.session_duration_min
    span = None if locked is None else locked.session_duration_min
    longest = span.max if span is not None else prescribed_minutes
    if data.minutes > longest * (1 + RELATIVE_TOLERANCE):
        reasons.append(f"{data.minutes:g} minutes, longer than the prescribed {longest:g}")
    if amplitude_ma is not None and amplitude_ma > home.home_ceiling_ma + 1e-9:
        reasons.append(f"{amplitude_ma:g} mA above the home maximum {home.home_ceiling_ma:g} mA")
    programme = instructed.programme
    if data.programme is not None and programme is not None and data.programme != programme.id:
        reasons.append(f"programme {data.programme} instead of the prescribed {programme.id}")
    if data.felt in ("muscle_twitch", "painful") and (
            home.prescription.protocol.intensity.level != "motor"):
        reasons.append(f"felt {data.felt.replace('_', ' ')}: above the prescribed "
                       f"{home.prescription.protocol.intensity.level} level")
    return reasons


def validate_self_logged(values: dict[str, Any], home: HomePrescription) -> CheckedSession:
    """Check one reported session against its device and prescription.

    ``values`` is a plain dict (the CLI's options, the phone page's form, a fuzzer's input):
    ``started_at`` (ISO 8601 with offset), ``minutes``, ``profile`` and optionally
    ``programme``, ``as_prescribed``, ``settings`` ({key: number}, keys in
    :data:`SETTING_UNITS`), ``felt``, ``nrs_pre``, ``nrs_post``, ``skin``, ``problems``,
    ``note``, ``entry_uuid``. Raises :class:`InputError` naming every bad field; what it
    returns may be stored.
    """
    if not isinstance(values, dict):
        raise InputError(FieldProblem("(document)", type(values).__name__, "an object"))
    data = validate_model(SelfLoggedIn, values, source="self-logged session")
    profile = get_profile(data.profile)
    instructed = translate(home.prescription, profile, caps=home.caps,
                           ceiling_ma=home.home_ceiling_ma)
    programme = data.programme or (None if instructed.programme is None
                                   else instructed.programme.id)
    settings = dict(data.settings)
    if data.as_prescribed:
        for s in instructed.settings:
            if s.parameter in SETTING_UNITS and s.device is not None:
                settings.setdefault(s.parameter, s.device)
    raise_if(_setting_problems(settings, profile, data.programme), "self-logged session")
    amplitude = settings.get("amplitude_ma")
    if amplitude is None and "level" in settings:
        amplitude = profile.level_current_ma(settings["level"])
    try:
        logged_rx = _logged_prescription(home, settings)
    except InputError as error:
        raise InputError([FieldProblem(f"settings.{p.path.rsplit('.', 1)[-1]}", p.value,
                                       p.expected) for p in error.problems],
                         source="self-logged session") from None
    verification = translate(logged_rx, profile, caps=home.caps,
                             ceiling_ma=home.home_ceiling_ma, programme_id=programme)
    reasons = _flags(home, instructed, data.model_copy(update={"programme": programme}),
                     settings, amplitude)
    if verification.status == "blocked":
        reasons.append("the reported settings are blocked by the safety verification")
    return CheckedSession(data, profile, settings, amplitude, verification, tuple(reasons))


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class LogResult:
    session: SelfLoggedSession
    created: bool


def _verification_document(checked: CheckedSession) -> dict:
    v = checked.verification
    return {"status": v.status, "reason": v.status_reason,
            "verdict": None if v.report is None else v.report.verdict,
            "worst_case_ma": v.worst_case.amplitude_ma, "basis": v.worst_case.basis,
            "checked_at": datetime.now(UTC).isoformat()}


def log_self_session(session: Session, actor: Actor, pseudonym: str, values: dict[str, Any],
                     *, now: datetime | None = None) -> LogResult:
    """Validate and store one self-logged session (and an adverse event per problem); the
    same ``entry_uuid`` again returns the stored row and adds nothing."""
    require(actor, "write_own", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    started = validate_model(SelfLoggedIn, values, source="self-logged session").started_at
    raise_if(date_problems("started_at", started, patient, now))
    require_home_programme(session, patient, started)  # paused or discharged: HAZ-170
    home = prescription_on(session, actor, pseudonym, started.astimezone(UTC).date())
    checked = validate_self_logged(values, home)
    data = checked.data
    existing = session.scalar(select(SelfLoggedSession).where(
        SelfLoggedSession.entry_uuid == str(data.entry_uuid)))
    if existing is not None:
        if existing.patient_id != patient.id:
            raise InputError(FieldProblem("entry_uuid", str(data.entry_uuid),
                                          "an id not used by another patient"))
        return LogResult(existing, created=False)
    row = SelfLoggedSession(
        entry_uuid=str(data.entry_uuid), patient_id=patient.id,
        prescription_id=home.row.id, provenance="self_reported",
        reported_by=actor.username, reporter_role=actor.role, profile_id=checked.profile.id,
        programme_id=None if checked.verification.programme is None
        else checked.verification.programme.id,
        started_at=data.started_at, minutes=data.minutes, as_prescribed=data.as_prescribed,
        settings=checked.settings, frequency_hz=checked.settings.get("frequency_hz"),
        phase_width_us=checked.settings.get("phase_width_us"),
        level=checked.settings.get("level"), amplitude_ma=checked.amplitude_ma,
        felt=data.felt, nrs_pre=data.nrs_pre, nrs_post=data.nrs_post, skin=data.skin,
        problems=list(data.problems), note=data.note,
        verification=_verification_document(checked), flagged=bool(checked.flag_reasons),
        flag_reasons=list(checked.flag_reasons), acknowledged_at=None, acknowledged_by=None,
        created_at=now,
    )
    store(session, actor, row, "self_logged_session")
    for kind in data.problems:
        severity = "moderate" if kind == "burn" else "mild"
        store(session, actor, AdverseEvent(
            patient_id=patient.id, session_id=None, occurred_at=data.started_at, kind=kind,
            severity=severity, body_site=None,
            description=f"reported with a self-logged session on {checked.profile.name}"
            + (f": {data.note}" if data.note else ""), created_at=now), "adverse_event")
    return LogResult(row, created=True)


def list_self_logged(session: Session, actor: Actor, pseudonym: str) -> list[SelfLoggedSession]:
    """A person's self-logged sessions in time order."""
    patient = get_patient(session, actor, pseudonym)
    return list(session.scalars(
        select(SelfLoggedSession).where(SelfLoggedSession.patient_id == patient.id)
        .order_by(SelfLoggedSession.started_at, SelfLoggedSession.id)))


# --------------------------------------------------------------------------- inbox hook


def unacknowledged_flagged_sessions(session: Session, actor: Actor
                                    ) -> list[tuple[SelfLoggedSession, str]]:
    """Flagged self-logged sessions no clinician has acknowledged, newest first, with the
    patient's pseudonym: what the clinicians' inbox lists next to problem reports."""
    require(actor, "write_clinical")
    rows = session.execute(
        select(SelfLoggedSession, Patient.pseudonym)
        .join(Patient, Patient.id == SelfLoggedSession.patient_id)
        .where(SelfLoggedSession.flagged.is_(True),
               SelfLoggedSession.acknowledged_at.is_(None))
        .order_by(SelfLoggedSession.started_at.desc(), SelfLoggedSession.id.desc()))
    return [(row, pseudonym) for row, pseudonym in rows]


def count_unacknowledged_flagged_sessions(session: Session, actor: Actor) -> int:
    require(actor, "write_clinical")
    return session.scalar(unacknowledged_flagged_sessions_count()) or 0


def unacknowledged_flagged_sessions_count():
    """The statement counting the inbox's flagged sessions (for a combined count)."""
    return select(func.count()).select_from(SelfLoggedSession).where(
        SelfLoggedSession.flagged.is_(True), SelfLoggedSession.acknowledged_at.is_(None))


def acknowledge_flagged_session(session: Session, actor: Actor, session_id: int,
                                *, now: datetime | None = None) -> SelfLoggedSession:
    """A clinician has seen the flagged session (audited; acknowledging twice keeps the first)."""
    require(actor, "write_clinical")
    row = session.get(SelfLoggedSession, session_id)
    if row is None:
        raise InputError(FieldProblem("session_id", session_id, "a self-logged session id"))
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now or now_utc(), actor.username
        log_action(session, actor, "acknowledge", "self_logged_session", row.id)
    return row
