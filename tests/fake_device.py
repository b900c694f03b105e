"""A minimal in-memory stimulator for session tests: records every amplitude it is given.

It follows the reporting contract of :mod:`stimwise.device.interface`: amplitudes are floored to
its current step and every change of output is an ``applied`` event with ``delivered_ma``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from stimwise.device.interface import (
    Capabilities,
    ChannelStatus,
    DeviceError,
    DeviceStatus,
    Stimulator,
)
from stimwise.safety.plan import require_verified


class FakeStimulator(Stimulator):
    def __init__(self, max_ma: float = 100.0, step_ma: float = 0.01) -> None:
        super().__init__()
        self.max_ma = max_ma
        self.step_ma = step_ma
        self.state = "disconnected"
        self.amplitudes: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self.emergency_stops = 0
        self.fail_updates = False
        self.electrode = "ok"
        self.impedance_ohm = 2000.0
        self.labels: tuple[str, ...] = ()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            name="fake",
            channels=8,
            current_range_ma=(0.0, self.max_ma),
            current_step_ma=self.step_ma,
            pulse_width_range_us=(1, 100_000),
            pulse_width_step_us=1,
            frequency_range_hz=(0.1, 100_000),
            pulse_kinds=frozenset({"biphasic_symmetric"}),
            carriers=True,
            timing="device",
        )

    def connect(self, timeout_s: float = 2.0) -> None:
        self.state = "connected"

    def configure(self, plan, timeout_s: float = 1.0) -> None:
        require_verified(plan)
        self.labels = tuple(c.label for c in plan.prescription.channels)
        self.state = "configured"

    def arm(self, timeout_s: float = 1.0) -> None:
        self.state = "armed"

    def start(self, timeout_s: float = 1.0) -> None:
        self.state = "stimulating"
        self.amplitudes = dict.fromkeys(self.labels, 0.0)
        self._applied("start")

    def update(self, amplitudes_ma: Mapping[str, float], timeout_s: float = 0.5) -> None:
        if self.fail_updates:
            raise DeviceError("link lost")
        if self.state != "stimulating":
            raise DeviceError(f"update while {self.state}")
        floored = {
            label: round(math.floor(ma / self.step_ma + 1e-9) * self.step_ma, 9)
            for label, ma in amplitudes_ma.items()
        }
        self.amplitudes = {**self.amplitudes, **floored}
        self.history.append(dict(amplitudes_ma))
        self._applied("update")

    def stop(self, timeout_s: float = 1.0) -> None:
        self.amplitudes = dict.fromkeys(self.amplitudes, 0.0)
        self.state = "stopped"
        self._applied("stop")

    def emergency_stop(self) -> None:
        self.emergency_stops += 1
        self.amplitudes = dict.fromkeys(self.amplitudes, 0.0)
        self.state = "stopped"
        self._applied("emergency stop")

    def _applied(self, reason: str) -> None:
        self.events.emit("applied", reason, delivered_ma=dict(self.amplitudes))

    def status(self, timeout_s: float = 0.5) -> DeviceStatus:
        return DeviceStatus(
            state=self.state,  # type: ignore[arg-type]
            channels=tuple(
                ChannelStatus(
                    label,
                    self.electrode,
                    self.impedance_ohm,  # type: ignore[arg-type]
                    self.amplitudes.get(label, 0.0),
                )
                for label in self.labels
            ),
        )

    @property
    def output_ma(self) -> float:
        return max(self.amplitudes.values(), default=0.0)
