"""What each journal event may hold, and what a session could have written at all.

A journal is evidence of a delivered dose, so reading one back checks more than its chain
(:mod:`stimwise.session.journal`): every event must be of a kind the session runtime writes, with
the fields the record is computed from in their types (no ``true`` for a number, no text for an
amplitude), finite, in range, and consistent with the journal's own first line:

* no amplitude above the session's ceiling (``ceiling_ma`` of ``session_start``), and that
  ceiling not above the plan's amplitude (``plan_max_amplitude_ma``), the person's cap or the
  device's range (``device_range_ma``), whatever ``--unprescribed`` says (HAZ-091);
* pain ratings 0-10 in whole numbers and every answer one its question allows (HAZ-092);
* the monotonic clock never running backwards, and no stimulation after the session's time
  limit (planned time plus the runtime's overrun limit) (HAZ-092).

Fields the record does not read may be added to events freely (they are still covered by the
chain); a new event *kind* must be added to :data:`EVENT_MODELS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stimwise.errors import FieldProblem
from stimwise.session.limits import SessionSettings
from stimwise.session.prompts import ANSWERS, PromptKind
from stimwise.session.states import SessionState

AMPLITUDE_TOLERANCE_MA = 1e-6
"""Rounding slack of the runtime's amplitudes (it rounds them to 6 decimals) [U]."""
TIME_TOLERANCE_S = 1.0
"""Slack on the session's time limit: one control step and the final ramp's last update [U]."""
DEFAULT_MAX_OVERRUN_S = SessionSettings().max_overrun_s
"""The runtime's overrun limit when a journal's settings do not name one."""

Milliamps = Annotated[float, Field(ge=0, le=1000)]
Seconds = Annotated[float, Field(ge=0)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Event(BaseModel):
    """Fields every line has. Strict: a number is a JSON number (not ``true``, not text)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, allow_inf_nan=False)

    seq: int = Field(ge=0)
    t_mono_s: float
    t_wall: str
    prev_sha256: Sha256Hex
    line_sha256: Sha256Hex

    @model_validator(mode="after")
    def _wall_time(self) -> Event:
        try:
            moment = datetime.fromisoformat(self.t_wall)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(f"t_wall {self.t_wall!r} is not an ISO 8601 time with an offset")
        return self


class SessionStart(Event):
    type: Literal["session_start"]
    protocol_id: str = Field(min_length=1, max_length=200)
    plan_fingerprint: Sha256Hex
    device: str = Field(min_length=1, max_length=200)
    device_range_ma: list[Milliamps] = Field(min_length=2, max_length=2)
    patient_id: str | None = Field(max_length=200)
    ceiling_ma: float = Field(gt=0, le=1000)
    session_s: float = Field(gt=0)
    channels: list[str]
    charge_per_phase_uc_at_max: float = Field(ge=0)
    plan_max_amplitude_ma: float = Field(gt=0, le=1000)
    caps: dict[str, Any] | None
    settings: dict[str, Any]


class Update(Event):
    type: Literal["update"]
    amplitude_ma: Milliamps


class EmergencyStop(Event):
    type: Literal["emergency_stop"]
    reason: str


class PromptEvent(Event):
    type: Literal["prompt"]
    kind: PromptKind
    amplitude_ma: Milliamps


class Response(Event):
    type: Literal["response"]
    kind: PromptKind
    answer: str
    amplitude_ma: Milliamps

    @model_validator(mode="after")
    def _allowed_answer(self) -> Response:
        if self.answer not in ANSWERS[self.kind]:
            raise ValueError(
                f"answer {self.answer!r} is not one of {', '.join(ANSWERS[self.kind])} "
                f"(the answers to {self.kind})"
            )
        return self


class ResponseRefused(Event):
    type: Literal["response_refused"]


class CalibrationEvent(Event):
    type: Literal["calibration_result"]
    sensation_threshold_ma: Milliamps | None
    motor_threshold_ma: Milliamps | None
    target_ma: Milliamps | None
    ceiling_reached: bool
    series_ma: list[Milliamps] = []


class Change(Event):
    type: Literal["habituation_increase", "decrease"]
    from_ma: Milliamps
    to_ma: Milliamps


class StateChange(Event):
    type: Literal["state"]
    from_state: SessionState
    to_state: SessionState
    reason: str


class Command(Event):
    type: Literal["command", "user_command", "command_refused"]
    command: str


class Delivered(BaseModel):
    """The detail of a device event; ``delivered_ma`` is what a device reports it applied (one
    figure, or one per channel label)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, allow_inf_nan=False)

    delivered_ma: Milliamps | dict[str, Milliamps] | None = None


class DeviceEventLine(Event):
    type: Literal["device_event"]
    kind: str
    message: str
    device_t_s: float | None = None
    detail: Delivered = Delivered()


class TornTailSummary(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    line: int = Field(ge=1)
    bytes: int = Field(ge=1)
    sha256: Sha256Hex


class SessionEnd(Event):
    type: Literal["session_end"]
    t_mono_s: float | None  # None only on the end a recovery wrote (no session clock then)
    outcome: Literal["completed", "aborted"]
    reason: str | None
    record: dict[str, Any] | None = None
    recovered: bool = False
    torn_tail: TornTailSummary | None = None

    @model_validator(mode="after")
    def _clock_only_missing_after_recovery(self) -> SessionEnd:
        if self.t_mono_s is None and not self.recovered:
            raise ValueError("t_mono_s is missing on a session_end that no recovery wrote")
        return self


EVENT_MODELS: dict[str, type[Event]] = {
    "session_start": SessionStart,
    "update": Update,
    "emergency_stop": EmergencyStop,
    "prompt": PromptEvent,
    "response": Response,
    "response_refused": ResponseRefused,
    "calibration_result": CalibrationEvent,
    "habituation_increase": Change,
    "decrease": Change,
    "state": StateChange,
    "command": Command,
    "user_command": Command,
    "command_refused": Command,
    "device_event": DeviceEventLine,
    "session_end": SessionEnd,
}
"""Every event kind the session runtime writes, and the model of its fields."""


def _where(number: int, kind: object, loc: tuple) -> str:
    field = ".".join(str(part) for part in loc)
    shown = kind if isinstance(kind, str) and re.fullmatch(r"[a-z_]{1,40}", kind) else "?"
    return f"journal line {number} ({shown})" + (f".{field}" if field else "")


def _validated(number: int, event: dict[str, Any]) -> tuple[Event | None, list[FieldProblem]]:
    kind = event.get("type")
    model = EVENT_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return None, [FieldProblem(
            _where(number, kind, ("type",)), kind,
            f"an event kind the session writes ({', '.join(sorted(EVENT_MODELS))})")]
    try:
        return model.model_validate(event), []
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            value = item.get("input") if item["type"] != "missing" else None
            expected = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                expected = "a value (this field is required)"
            problems.append(FieldProblem(_where(number, kind, tuple(item["loc"])),
                                         "{...}" if isinstance(value, dict) else value,
                                         expected))
        return None, problems


def _above(number: int, kind: str, field: str, value: float, limit: float,
           what: str) -> FieldProblem | None:
    if value > limit + AMPLITUDE_TOLERANCE_MA:
        return FieldProblem(_where(number, kind, (field,)), value, f"at most {what} ({limit:g} mA)")
    return None


def _start_problems(number: int, start: SessionStart) -> list[FieldProblem]:
    """The ceiling the session ran under may not exceed the plan, the caps or the device."""
    limits = [(start.plan_max_amplitude_ma, "the plan's amplitude"),
              (start.device_range_ma[1], "the top of the device's range")]
    cap = (start.caps or {}).get("max_amplitude_ma")
    if isinstance(cap, int | float) and not isinstance(cap, bool):
        limits.append((float(cap), "the person's cap"))
    found = [_above(number, "session_start", "ceiling_ma", start.ceiling_ma, limit, what)
             for limit, what in limits]
    return [p for p in found if p is not None]


def _amplitudes(model: Event) -> list[tuple[str, float]]:
    """(field, mA) of every amplitude an event states."""
    if isinstance(model, Update | PromptEvent | Response):
        return [("amplitude_ma", model.amplitude_ma)]
    if isinstance(model, Change):
        return [("from_ma", model.from_ma), ("to_ma", model.to_ma)]
    if isinstance(model, CalibrationEvent):
        found = [(name, getattr(model, name)) for name in
                 ("sensation_threshold_ma", "motor_threshold_ma", "target_ma")]
        found += [(f"series_ma.{i}", v) for i, v in enumerate(model.series_ma)]
        return [(name, value) for name, value in found if value is not None]
    if isinstance(model, DeviceEventLine):
        delivered = model.detail.delivered_ma
        if isinstance(delivered, dict):
            return [(f"detail.delivered_ma.{label}", v) for label, v in delivered.items()]
        if delivered is not None:
            return [("detail.delivered_ma", delivered)]
    return []


def _time_limit_s(start: SessionStart) -> float:
    overrun = start.settings.get("max_overrun_s", DEFAULT_MAX_OVERRUN_S)
    if not isinstance(overrun, int | float) or isinstance(overrun, bool) or overrun < 0:
        overrun = DEFAULT_MAX_OVERRUN_S
    return start.session_s + float(overrun) + TIME_TOLERANCE_S


def event_problems(numbered: Sequence[tuple[int, dict[str, Any]]]) -> list[FieldProblem]:
    """Every problem of a journal's events: ``(line number, event)`` in file order."""
    problems: list[FieldProblem] = []
    models: list[tuple[int, Event]] = []
    for number, event in numbered:
        model, found = _validated(number, event)
        problems += found
        if model is not None:
            models.append((number, model))
    if problems:
        return problems
    number, start = models[0]
    if not isinstance(start, SessionStart):
        kind = getattr(start, "type", "?")
        return [FieldProblem(_where(number, kind, ("type",)), kind,
                             "session_start as the first event")]
    problems += _start_problems(number, start)
    limit_s = _time_limit_s(start)
    last_t = start.t_mono_s
    for number, model in models[1:]:
        kind = getattr(model, "type", "?")
        if isinstance(model, SessionStart):
            problems.append(FieldProblem(_where(number, kind, ("type",)), kind,
                                         "one session_start, on the first line"))
        if model.t_mono_s is not None:
            if model.t_mono_s < last_t:
                problems.append(FieldProblem(
                    _where(number, kind, ("t_mono_s",)), model.t_mono_s,
                    f"at least {last_t:g} (the monotonic clock of an earlier line)"))
            last_t = max(last_t, model.t_mono_s)
        for field, value in _amplitudes(model):
            found = _above(number, kind, field, value, start.ceiling_ma, "the session's ceiling")
            if found is not None:
                problems.append(found)
        if (isinstance(model, Update) and model.amplitude_ma > 0
                and model.t_mono_s - start.t_mono_s > limit_s):
            problems.append(FieldProblem(
                _where(number, kind, ("t_mono_s",)), model.t_mono_s,
                f"stimulation within {limit_s:g} s of the start (the planned time plus the "
                "overrun limit, after which the runtime stops the output)"))
    return problems
