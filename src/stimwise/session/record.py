"""``SessionRecord``: the delivered dose of one session, computed from its journal.

The record is a pure function of the journal's events, so the same numbers come out at the end of
a session and when a crashed session's journal is read back later.

What counts is what the **device reported as delivered** (HAZ-102), never what the session asked
for: the delivered amplitude is piecewise constant between the device's ``applied`` events
(journaled as ``device_event`` lines of kind ``applied``, whose ``detail.delivered_ma`` holds the
quantised mA of every channel; see :mod:`stimwise.device.interface`), is zero from an
``emergency_stop`` until the device reports again, and zero before the first report. At each
moment the session's amplitude is the highest delivered channel amplitude; time at zero output
(ramps from zero, pauses, after a stop or a lead-off) is not stimulation. ``update`` lines are the
session's requests and do not enter the dose. The charge per phase scales linearly with amplitude
from the exact figure of the verified plan at its maximum amplitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from stimwise.protocol.base import StrictModel, field_contradictions

__all__ = [
    "AMPLITUDE_SLACK_MA",
    "BAND_SLACK_S",
    "N_AMPLITUDE_BINS",
    "CalibrationResult",
    "Count",
    "Milliamps",
    "Nrs",
    "SessionRecord",
    "SkinCheck",
    "delivered_amplitude_ma",
    "record_from_events",
]

N_AMPLITUDE_BINS = 10


Milliamps = Annotated[float, Field(ge=0, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]
Nrs = Annotated[int, Field(ge=0, le=10, strict=True)]
"""Pain now, 0 (none) to 10 (worst possible): the answers the session's prompts allow."""
SkinCheck = Literal["ok", "not_ok"]
AMPLITUDE_SLACK_MA = 1e-6
"""Rounding slack (amplitudes are rounded to 6 decimals) [U]."""
BAND_SLACK_S = 1.0
"""Slack between the minutes per band (rounded to 4 decimals each) and the stimulation time."""


class CalibrationResult(StrictModel):
    sensation_threshold_ma: Milliamps | None
    motor_threshold_ma: Milliamps | None
    target_ma: Milliamps | None
    ceiling_reached: bool


class SessionRecord(StrictModel):
    """What was delivered, for how long, what the person reported and what went wrong.

    Whatever made it (a journal, a FHIR Procedure), a record holds only finite values in their
    ranges: amplitudes, charge and times not negative, the mean amplitude not above the
    maximum, no more minutes in the amplitude bands than the stimulation time, pain ratings
    0-10 in whole numbers, skin checks and outcomes from their lists (hazard HAZ-092).

    Examples
    --------
    What :func:`stimwise.run_session` returns; a journal gives the same record back:

    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> from stimwise.session import Journal, SessionRunner
    >>> from stimwise.session.journal import journal_record, read_journal
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "session.jsonl"
    >>> runner = SessionRunner(plan, sw.open_device("sim"), Journal(path),
    ...                        sw.ScriptedResponder.typical(30))
    >>> runner.emergency_stop(); _ = runner.tick()
    >>> record = journal_record(read_journal(path), str(path))
    >>> record.outcome, record.reason, record.stimulation_s
    ('aborted', 'emergency stop by the user', 0.0)
    >>> record == runner.record
    True
    """

    protocol_id: str = Field(min_length=1, max_length=64)
    plan_fingerprint: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=120)
    patient_id: str | None
    started_at: str
    ended_at: str | None
    outcome: Literal["completed", "aborted"]
    reason: str | None
    stimulation_s: float = Field(ge=0, strict=True,
                                 description="Time with a non-zero amplitude delivered, as "
                                 "the device reported it.")
    max_amplitude_ma: Milliamps
    mean_amplitude_ma: Milliamps = Field(description="Time-weighted over the stimulation time.")
    minutes_at_amplitude: dict[str, Annotated[float, Field(ge=0, strict=True)]] = Field(
        description="Minutes spent in each amplitude band (tenths of the ceiling)."
    )
    max_charge_per_phase_uc: float = Field(ge=0, strict=True)
    calibration: CalibrationResult | None
    habituation_increases: Count
    nrs_pre: Nrs | None
    nrs_post: Nrs | None
    skin_pre: SkinCheck | None
    skin_post: SkinCheck | None
    faults: tuple[str, ...]
    events: Count

    @model_validator(mode="after")
    def _consistent(self) -> SessionRecord:
        problems = []
        if self.mean_amplitude_ma > self.max_amplitude_ma + AMPLITUDE_SLACK_MA:
            problems.append((("mean_amplitude_ma",), self.mean_amplitude_ma,
                             f"at most max_amplitude_ma ({self.max_amplitude_ma:g} mA)"))
        banded_s = 60 * sum(self.minutes_at_amplitude.values())
        if banded_s > self.stimulation_s + BAND_SLACK_S:
            problems.append((("minutes_at_amplitude",), round(banded_s / 60, 4),
                             f"at most the stimulation time ({self.stimulation_s:g} s)"))
        if problems:
            raise field_contradictions("SessionRecord", problems)
        return self


def _bands(ceiling_ma: float) -> list[tuple[float, float]]:
    width = ceiling_ma / N_AMPLITUDE_BINS
    return [(i * width, (i + 1) * width) for i in range(N_AMPLITUDE_BINS)]


def _band_label(lo: float, hi: float) -> str:
    return f"{lo:.3g}-{hi:.3g} mA"


def delivered_amplitude_ma(detail: object) -> float | None:
    """The highest channel amplitude in an ``applied`` event's detail (``delivered_ma``: channel
    label -> mA), ``0.0`` for an empty mapping, ``None`` when the detail carries no delivered
    amplitudes at all (an ``applied`` event that reports parameters, not output)."""
    if not isinstance(detail, dict) or not isinstance(detail.get("delivered_ma"), dict):
        return None
    return max((float(ma) for ma in detail["delivered_ma"].values()), default=0.0)


def record_from_events(events: Sequence[dict[str, Any]]) -> SessionRecord:
    """Summarise a session's journal events (the last one should be its ``session_end``)."""
    start = events[0]
    ceiling = float(start["ceiling_ma"])
    end = events[-1] if events[-1].get("type") == "session_end" else None
    answers: dict[str, str] = {}
    faults: list[str] = []
    calibration = None
    increases = 0
    segments: list[tuple[float, float]] = []  # (duration_s, amplitude_ma)
    amplitude = 0.0
    since = float(start["t_mono_s"])
    last_t = since
    for event in events:
        t = event.get("t_mono_s")
        kind = event.get("type")
        if t is not None:
            last_t = float(t)
        if kind == "device_event" and event.get("kind") == "applied":
            delivered = delivered_amplitude_ma(event.get("detail"))
            if delivered is not None:
                segments.append((last_t - since, amplitude))
                amplitude, since = delivered, last_t
        elif kind == "emergency_stop":
            segments.append((last_t - since, amplitude))
            amplitude, since = 0.0, last_t
            faults.append(str(event["reason"]))
        elif kind == "response":
            answers[event["kind"]] = event["answer"]
        elif kind == "calibration_result":
            calibration = CalibrationResult(
                sensation_threshold_ma=event["sensation_threshold_ma"],
                motor_threshold_ma=event["motor_threshold_ma"],
                target_ma=event["target_ma"],
                ceiling_reached=event["ceiling_reached"],
            )
        elif kind == "habituation_increase":
            increases += 1
        elif kind == "device_event" and event.get("kind") == "fault":
            faults.append(str(event["message"]))
    segments.append((last_t - since, amplitude))
    stimulating = [(d, a) for d, a in segments if a > 0 and d > 0]
    stimulation_s = sum(d for d, _ in stimulating)
    minutes: dict[str, float] = {}
    for lo, hi in _bands(ceiling):
        total = sum(d for d, a in stimulating if lo < a <= hi)
        if total > 0:
            minutes[_band_label(lo, hi)] = round(total / 60, 4)
    max_amplitude = max((a for _, a in stimulating), default=0.0)
    plan_max = float(start["plan_max_amplitude_ma"])
    return SessionRecord(
        protocol_id=start["protocol_id"],
        plan_fingerprint=start["plan_fingerprint"],
        device=start["device"],
        patient_id=start.get("patient_id"),
        started_at=start["t_wall"],
        ended_at=None if end is None else end.get("t_wall"),
        outcome="aborted" if end is None else str(end.get("outcome")),
        reason="journal ends without a session end" if end is None else end.get("reason"),
        stimulation_s=round(stimulation_s, 3),
        max_amplitude_ma=round(max_amplitude, 6),
        mean_amplitude_ma=round(
            sum(d * a for d, a in stimulating) / stimulation_s if stimulation_s else 0.0, 6
        ),
        minutes_at_amplitude=minutes,
        max_charge_per_phase_uc=round(
            float(start["charge_per_phase_uc_at_max"]) * max_amplitude / plan_max, 6
        ),
        calibration=calibration,
        habituation_increases=increases,
        nrs_pre=int(answers["nrs_pre"]) if "nrs_pre" in answers else None,
        nrs_post=int(answers["nrs_post"]) if "nrs_post" in answers else None,
        skin_pre=answers.get("skin_pre"),
        skin_post=answers.get("skin_post"),
        faults=tuple(faults),
        events=len(events),
    )
