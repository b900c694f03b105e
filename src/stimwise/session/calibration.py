"""Intensity calibration by the ascending method of limits.

The amplitude rises in fixed steps; at each step the person says whether they feel the current.
The first step they feel ends one ascending series; the sensation threshold is the mean of the
series. The therapeutic level is then set relative to it, within the caps:

* sensory programmes keep ascending from the threshold until the person reports "strong but
  comfortable" (the usual TENS instruction; re-adjusting for fading gave more hypoalgesia than a
  fixed amplitude, Pantaleão 2011, J Pain 12:581-90 [C]);
* motor programmes keep ascending until a visible twitch (motor threshold);
* subsensory programmes are set to 80 % of the sensation threshold (stimwise choice [U]).

The procedure is a small state machine driven by the session: :meth:`amplitude_ma` says what to
apply, :meth:`prompt` what to ask once the step has been held, :meth:`record` takes the answer.
It never proposes more than ``ceiling_ma``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from stimwise.session.prompts import Prompt

SUBSENSORY_FRACTION = 0.8
"""Subsensory target as a fraction of the sensation threshold (stimwise choice [U])."""

Phase = Literal["threshold", "rest", "level", "done"]


@dataclass
class Calibration:
    level: Literal["subsensory", "sensory", "motor"]
    ceiling_ma: float
    step_ma: float
    series: int = 3
    phase: Phase = "threshold"
    current_ma: float = 0.0
    thresholds_ma: list[float] = field(default_factory=list)
    motor_threshold_ma: float | None = None
    target_ma: float | None = None
    ceiling_reached: bool = False

    def __post_init__(self) -> None:
        self.current_ma = min(self.step_ma, self.ceiling_ma)

    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def sensation_threshold_ma(self) -> float | None:
        if not self.thresholds_ma:
            return None
        return sum(self.thresholds_ma) / len(self.thresholds_ma)

    def amplitude_ma(self) -> float:
        return 0.0 if self.phase in ("rest", "done") else self.current_ma

    def prompt(self) -> Prompt | None:
        if self.phase == "threshold":
            return Prompt("sensation", self.current_ma)
        if self.phase == "level":
            kind = "motor" if self.level == "motor" else "comfort"
            return Prompt(kind, self.current_ma)
        return None

    def end_rest(self) -> None:
        """After a rest at zero between series, start the next ascending series."""
        self.phase = "threshold"
        self.current_ma = min(self.step_ma, self.ceiling_ma)

    def _ascend(self) -> bool:
        """One step up; False when the ceiling was already applied."""
        if self.current_ma >= self.ceiling_ma:
            self.ceiling_reached = True
            return False
        self.current_ma = min(self.current_ma + self.step_ma, self.ceiling_ma)
        return True

    def record(self, answer: str) -> None:
        if self.phase == "threshold":
            self._record_threshold(answer)
        elif self.phase == "level":
            self._record_level(answer)

    def _record_threshold(self, answer: str) -> None:
        if answer == "yes":
            self.thresholds_ma.append(self.current_ma)
            if len(self.thresholds_ma) < self.series:
                self.phase = "rest"
            else:
                self._after_threshold()
        elif not self._ascend():
            # Not felt even at the ceiling: no threshold; the ceiling is the level.
            self.target_ma = self.ceiling_ma
            self.phase = "done"

    def _after_threshold(self) -> None:
        threshold = self.sensation_threshold_ma or 0.0
        if self.level == "subsensory":
            self.target_ma = min(self.ceiling_ma, SUBSENSORY_FRACTION * threshold)
            self.phase = "done"
            return
        self.current_ma = min(threshold, self.ceiling_ma)
        self.phase = "level"

    def _record_level(self, answer: str) -> None:
        if answer in ("strong_comfortable", "twitch"):
            if answer == "twitch":
                self.motor_threshold_ma = self.current_ma
            self.target_ma = self.current_ma
            self.phase = "done"
        elif answer == "too_strong":
            self.target_ma = max(self.current_ma - self.step_ma, 0.0)
            self.phase = "done"
        elif not self._ascend():
            self.target_ma = self.ceiling_ma
            self.phase = "done"
