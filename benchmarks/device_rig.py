"""Shared set-up of the real-device benchmarks (RehaStim 2 and RehaMove P24 on their pty
emulators): a plan, an emulator with a connected driver, what each device's emulator logs, and
summary statistics. Imported by the ``bench_*`` scripts next to it (not a benchmark itself).

``DEVICES[name]`` says, per device, how to build its emulator and driver and how to read the
emulator's log: when it stopped the output, which currents it applied, when its own timer (the
RehaStim 2's 1.2 s watchdog, the P24's 2 s keep-alive rule) stopped it.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stimwise.device.sciencemode2.driver import RehaStim2
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator
from stimwise.device.sciencemode4.driver import RehaMoveP24
from stimwise.device.sciencemode4.emulator import P24Emulator, P24EmulatorConfig
from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify
from stimwise.safety.plan import VerifiedPlan

RATE_HZ = 40.0
PERIOD_MS = 1000 / RATE_HZ
LABELS = ("A", "B")


@dataclass(frozen=True)
class Device:
    """One device's emulator, driver and log reading.

    Attributes
    ----------
    stopped_message, timer_message
        How the emulator's ``state`` events start when the device processed a stop, and when
        its own timer stopped it.
    timer_ms
        That timer: how long the device runs on without hearing from the host.
    """

    name: str
    emulator: Callable[..., Any]
    config: Callable[..., Any]
    defaults: dict[str, Any]
    driver: Callable[..., Any]
    update_ack: str
    stopped_message: str
    timer_message: str
    timer_ms: float
    applied: Callable[[Any], tuple[float, ...]]
    """The currents of one emulator ``applied`` event, in channel order."""


DEVICES = {
    "rehastim2": Device(
        name="RehaStim 2 (ScienceMode2)",
        emulator=RehaStim2Emulator,
        config=EmulatorConfig,
        # Acks after 5 ms, the spec's typical latency; Init every 100 ms only to connect faster
        defaults={"init_interval_ms": 100.0, "ack_latency_ms": 5.0, "seed": 1},
        driver=RehaStim2,
        update_ack="START_CHANNEL_LIST_MODE_ACK",
        stopped_message="stopped from",
        timer_message="watchdog reset",
        timer_ms=1200.0,
        applied=lambda e: tuple(float(entry[2]) for entry in e.detail["channels"].values()),
    ),
    "p24": Device(
        name="RehaMove P24 (ScienceMode4)",
        emulator=P24Emulator,
        config=P24EmulatorConfig,
        # the P24 is USB CDC: no documented latency; 5 ms as for the RehaStim 2
        defaults={"ack_latency_ms": 5.0, "seed": 1},
        driver=RehaMoveP24,
        update_ack="ML_UPDATE_ACK",
        stopped_message="mid level stopped",
        timer_message="keep-alive lapsed",
        timer_ms=2000.0,
        applied=lambda e: tuple(
            abs(channel["shape"][0][1]) for channel in e.detail["channels"].values()
        ),
    ),
}


def plan(rate_hz: float = RATE_HZ) -> VerifiedPlan:
    """Two channels of 250 µs symmetric biphasic pulses at ``rate_hz``, at most 30 mA."""
    electrodes = [
        {"site": "left_lower_back", "area_cm2": 25},
        {"site": "lumbar_midline", "area_cm2": 25},
    ]
    protocol = Protocol.model_validate(
        {
            "id": "bench-device",
            "name": "real-device benchmark train",
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


def start_emulator(device: Device, **config: Any) -> Any:
    """A started emulator of ``device`` (its defaults updated by ``config``)."""
    return device.emulator(device.config(**(device.defaults | config))).start()


@contextlib.contextmanager
def connected(device: Device, **config: Any) -> Iterator[tuple[Any, Any]]:
    """An emulator (``device.defaults`` updated by ``config``) and a connected driver."""
    with start_emulator(device, **config) as emulator:
        driver = device.driver(emulator.port)
        driver.connect()
        try:
            yield emulator, driver
        finally:
            driver.close()


def device_argument(parser: Any) -> None:
    """``--device rehastim2|p24|all`` (default all)."""
    parser.add_argument("--device", choices=[*DEVICES, "all"], default="all")


def chosen(name: str) -> list[Device]:
    return list(DEVICES.values()) if name == "all" else [DEVICES[name]]


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
