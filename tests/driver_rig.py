"""Helpers shared by the tests of the real-device drivers against their emulators: a 40 Hz
two-channel plan, emulators and connected drivers that are closed afterwards, and waiting for
events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from builders import make_prescription, pulse_train, symmetric_pulse
from stimwise.device.interface import DeviceEvent, Stimulator
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify
from stimwise.safety.plan import VerifiedPlan

RATE_HZ = 40.0
PERIOD_S = 1 / RATE_HZ


def train(**kwargs: Any) -> dict:
    """A symmetric biphasic train at 40 Hz, 250 µs per phase, unless told otherwise."""
    return pulse_train(**({"pulse": symmetric_pulse(250), "frequency_hz": RATE_HZ} | kwargs))


def rx(**kwargs: Any) -> Prescription:
    """Two channels of :func:`train` unless told otherwise."""
    return make_prescription(**({"waveform": train(), "channels": 2} | kwargs))


def plan(**kwargs: Any) -> VerifiedPlan:
    return verify(rx(**kwargs)).require_plan()


def stimulate(driver: Stimulator, current_ma: float = 10.0, **plan_kwargs: Any) -> float:
    """Configure, arm, start and set every channel to ``current_ma``; the time it was acked."""
    loaded = plan(**plan_kwargs)
    driver.configure(loaded)
    driver.arm()
    driver.start()
    driver.update(dict.fromkeys([c.label for c in loaded.prescription.channels], current_ma))
    return time.monotonic()


@contextmanager
def emulators(make: Callable[[dict], Any], defaults: dict) -> Iterator[Callable[..., Any]]:
    """``build(**config)``: a started emulator (``make(defaults | config)``), closed after."""
    opened: list[Any] = []

    def build(**config: Any) -> Any:
        opened.append(make(defaults | config).start())
        return opened[-1]

    try:
        yield build
    finally:
        for emulator in opened:
            emulator.close()


@contextmanager
def rigs(build_emulator: Callable[..., Any], driver_class: type) -> Iterator[Callable[..., Any]]:
    """``build(config=..., **driver_kwargs) -> (emulator, connected driver)``; closed after."""
    drivers: list[Any] = []

    def build(config: dict | None = None, **kwargs: Any) -> tuple[Any, Any]:
        emulator = build_emulator(**(config or {}))
        drivers.append(driver_class(emulator.port, **kwargs))
        drivers[-1].connect()
        return emulator, drivers[-1]

    try:
        yield build
    finally:
        for driver in drivers:
            driver.close()


def wait_event(driver: Stimulator, kind: str, timeout_s: float = 1.0) -> DeviceEvent:
    """The next event of ``kind`` (earlier events of other kinds are consumed)."""
    deadline_s = time.monotonic() + timeout_s
    while (event := driver.events.get(max(0.0, deadline_s - time.monotonic()))) is not None:
        if event.kind == kind:
            return event
    raise AssertionError(f"no {kind} event within {timeout_s} s")


def counts(driver: Any, *names: str) -> tuple[int, ...]:
    """The link's counters ``names`` (frames unexpected, answers missing, resends ...)."""
    stats = driver.link_stats
    assert stats is not None
    return tuple(getattr(stats, name) for name in names)
