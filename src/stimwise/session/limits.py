"""The control parameters of a session (:class:`SessionSettings`) and the range of each number.

Stimwise's sanity bounds (confidence U): wide enough for every use seen, narrow enough to
refuse typos and non-numbers (a NaN calibration step stalled calibration until the overrun
limit; a negative level "completed" a session that delivered nothing). Kept apart from the
runtime so that the command line can read its options with them without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import Bounds

__all__ = ["SETTING_BOUNDS", "SessionSettings"]

SETTING_BOUNDS: dict[str, Bounds] = {
    "tick_s": Bounds("s", gt=0, le=1),
    "heartbeat_timeout_s": Bounds("s", gt=0, le=60),
    "max_slew_ma_per_s": Bounds("mA/s", gt=0, le=100),
    "step_ma": Bounds("mA", gt=0, le=200),
    "target_ma": Bounds("mA", gt=0, le=200),
    "calibration_step_s": Bounds("s", gt=0, le=60),
    "calibration_series": Bounds("", ge=1, le=10, integer=True),
    "rest_s": Bounds("s", ge=0, le=60),
    "status_interval_s": Bounds("s", gt=0, le=10),
    "max_impedance_ohm": Bounds("Ω", gt=0, le=1_000_000),
    "max_impedance_rise": Bounds("", gt=1, le=100),
    "stop_ramp_s": Bounds("s", gt=0, le=60),
    "device_timeout_s": Bounds("s", gt=0, le=10),
    "max_overrun_s": Bounds("s", gt=0, le=86_400),
}


@dataclass(frozen=True)
class SessionSettings:
    """Control parameters; the defaults are stimwise choices (confidence U) unless cited.

    Examples
    --------
    >>> import stimwise as sw
    >>> sw.SessionSettings(calibrate=False, target_ma=12).max_slew_ma_per_s
    10.0
    >>> sw.SessionSettings(tick_s=float("nan"))
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input in session settings (1 problem): settings.tick_s: ...
    """

    tick_s: float = 0.05
    heartbeat_timeout_s: float = 2.0
    max_slew_ma_per_s: float = 10.0
    """Rise limit. On a device whose current step is larger than one tick's rise (the RehaStim 2's
    whole mA), one step is allowed once the time since the last rise covers it, so the rate holds
    on average."""
    step_ma: float | None = None
    """Calibration and habituation step; default 1/40 of the ceiling. Rounded to a whole number
    (at least one) of the device's current steps."""
    calibrate: bool = True
    target_ma: float | None = None
    """Therapeutic level when calibration is skipped."""
    calibration_step_s: float = 1.0
    calibration_series: int = 3
    rest_s: float = 2.0
    status_interval_s: float = 0.5
    max_impedance_ohm: float = 50_000.0
    max_impedance_rise: float = 2.0
    """Abort when a channel's impedance exceeds this multiple of its first reading (a peeling
    electrode concentrates the current on what is left of the contact)."""
    stop_ramp_s: float = 2.0
    device_timeout_s: float = 0.5
    max_overrun_s: float = 900.0
    """Hard limit on calibration, pauses and prompts beyond the planned minutes."""

    def __post_init__(self) -> None:
        """Every setting finite and in its range, so that a NaN step cannot stall calibration
        and a negative level cannot "complete" a session that delivered nothing (HAZ-085)."""
        problems = [
            problem
            for name, bounds in SETTING_BOUNDS.items()
            if (value := getattr(self, name)) is not None
            and (problem := bounds.problem(f"settings.{name}", value)) is not None
        ]
        if not isinstance(self.calibrate, bool):
            problems.append(FieldProblem("settings.calibrate", self.calibrate, "true or false"))
        if problems:
            raise InputError(problems, source="session settings")
