"""The range of every number of :class:`~stimwise.session.runtime.SessionSettings`.

Stimwise's sanity bounds (confidence U): wide enough for every use seen, narrow enough to
refuse typos and non-numbers (a NaN calibration step stalled calibration until the overrun
limit; a negative level "completed" a session that delivered nothing). Kept apart from the
runtime so that the command line can read its options with them without loading it.
"""

from __future__ import annotations

from stimwise.numbers import Bounds

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
