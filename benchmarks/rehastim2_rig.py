"""Shared set-up of the RehaStim 2 benchmarks: a plan, an emulator with a connected driver, and
summary statistics. Imported by the ``bench_*`` scripts next to it (not a benchmark itself)."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator

from stimwise.device.sciencemode2.driver import RehaStim2
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator
from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify
from stimwise.safety.plan import VerifiedPlan

RATE_HZ = 40.0
PERIOD_MS = 1000 / RATE_HZ
LABELS = ("A", "B")
EMULATOR_DEFAULTS = {"init_interval_ms": 100.0, "ack_latency_ms": 5.0, "seed": 1}
"""Acks after 5 ms, the spec's typical latency (under 20 ms on average, at most 100 ms); Init
every 100 ms only to connect faster."""


def plan(rate_hz: float = RATE_HZ) -> VerifiedPlan:
    """Two channels of 250 µs symmetric biphasic pulses at ``rate_hz``, at most 30 mA."""
    electrodes = [
        {"site": "left_lower_back", "area_cm2": 25},
        {"site": "lumbar_midline", "area_cm2": 25},
    ]
    protocol = Protocol.model_validate(
        {
            "id": "bench-rehastim2",
            "name": "RehaStim 2 benchmark train",
            "modality": "TENS",
            "goal": "pain_modulation",
            "mechanism": "benchmark fixture",
            "waveform": {
                "kind": "pulse_train",
                "pulse": {"kind": "biphasic_symmetric", "phase_width_us": 250},
                "frequency_hz": rate_hz,
            },
            "intensity": {"level": "sensory", "max_amplitude_ma": 30},
            "channels": [{"label": label, "electrodes": electrodes} for label in LABELS],
            "session": {"duration_min": 30},
        }
    )
    return verify(Prescription.from_protocol(protocol)).require_plan()


@contextlib.contextmanager
def connected(**config: object) -> Iterator[tuple[RehaStim2Emulator, RehaStim2]]:
    """An emulator (``EMULATOR_DEFAULTS`` updated by ``config``) and a connected driver."""
    with RehaStim2Emulator(EmulatorConfig(**(EMULATOR_DEFAULTS | config))) as emulator:  # type: ignore[arg-type]
        driver = RehaStim2(emulator.port)
        driver.connect()
        try:
            yield emulator, driver
        finally:
            driver.close()


def summary(values: list[float], digits: int = 3) -> dict[str, float | int]:
    """Count, median, 99th percentile and worst of ``values``."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), digits),
        "p99": round(p99, digits),
        "max": round(ordered[-1], digits),
    }
