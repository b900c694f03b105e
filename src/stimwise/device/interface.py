"""The device-independent stimulator interface every driver implements.

A stimulator goes through separate, explicit steps — ``connect``, ``configure`` (only a
:class:`~stimwise.safety.plan.VerifiedPlan`), ``arm``, ``start`` — so that parameters can be loaded
and reviewed before anything is fired. ``update`` changes the amplitudes of all channels
atomically (all or none), ``stop`` is idempotent and always safe, ``emergency_stop`` never raises
and never waits. Every blocking call takes a timeout; nothing busy-waits. What the device actually
applied and every fault is reported as a :class:`DeviceEvent` on the event stream, which the
session journals.

Amplitude convention: ``update`` sets each channel's peak current of the leading phase in mA, the
same quantity as ``Prescription.max_amplitude_ma``. The session layer, not the device, enforces
caps and ramp rates; drivers additionally refuse values outside their own capabilities.

The reporting contract (every driver; the session record is built on it)
-------------------------------------------------------------------------
The session journals every event a driver emits, and the session *record* — stimulation time,
amplitudes, dose — is computed from what the driver reports as delivered, never from what was
asked. A driver therefore follows these rules (HAZ-100 to HAZ-104):

1. **Every change of output is an** ``applied`` **event** emitted after the output changed
   (``start``, each ``update``, ``stop``, ``emergency_stop``, every fault, a channel latched off,
   a compliance clip). Its ``detail["delivered_ma"]`` maps **every** channel label of the loaded
   plan to the mA that channel now actually delivers: the device's quantised value (floored to
   ``Capabilities.current_step_ma`` or whatever its hardware does), clipped by compliance, and
   ``0.0`` for a channel that is stopped, latched off or not stimulating. An ``applied`` event
   with no plan loaded may carry an empty mapping. ``detail["requested_ma"]`` may add what was
   asked.
2. **Every fault is a** ``fault`` **event** whose message states the cause in words a person
   understands and whose ``detail["code"]`` names it (``over_current``, ``link_lost``,
   ``device_reset``, ``lead_off``, ``electrode``...); ``detail["output"]`` says what happened to
   the output. The output is stopped *before* the event is emitted (HAZ-023).
3. **A stop the device makes by itself** (a button on the device, a watchdog, a reset) that is
   not a fault is a ``state`` event leaving ``stimulating`` (``detail["state"]`` the new state,
   ``detail["reason"]`` why), followed by its ``applied`` event.
4. **A command that fails because of a fault raises only after that fault's event is on the
   stream.** A fault that arrives while a command is in flight (a reset, a link loss, an
   over-current during ``status`` or ``update``) is therefore always found by the caller, who
   drains the stream as soon as the command fails, and the user is told the real cause rather
   than the symptom ("status() was not applied").
"""

from __future__ import annotations

import abc
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from stimwise.errors import StimwiseError
from stimwise.safety.plan import VerifiedPlan

__all__ = [
    "ANY_STATE",
    "CONFIGURABLE_STATES",
    "NEXT_STEP",
    "OUTPUT_STATES",
    "Capabilities",
    "ChannelStatus",
    "DeviceError",
    "DeviceEvent",
    "DeviceRefusalError",
    "DeviceState",
    "DeviceStatus",
    "DeviceTimeoutError",
    "ElectrodeState",
    "EventKind",
    "EventStream",
    "Stimulator",
]

DeviceState = Literal[
    "disconnected", "connected", "configured", "armed", "stimulating", "stopped", "fault"
]
ElectrodeState = Literal["ok", "partial", "lead_off", "unknown"]
EventKind = Literal["state", "applied", "command", "ack", "fault", "electrode", "info"]

ANY_STATE: frozenset[DeviceState] = frozenset(get_args(DeviceState))
OUTPUT_STATES: frozenset[DeviceState] = frozenset({"armed", "stimulating"})
"""States in which a device holds amplitudes it may deliver."""
CONFIGURABLE_STATES: frozenset[DeviceState] = frozenset(
    {"connected", "configured", "armed", "stopped", "fault"}
)
NEXT_STEP: dict[DeviceState, str] = {
    "disconnected": "connect() first",
    "connected": "configure() a verified plan first",
    "configured": "arm() first",
    "armed": "it is armed already: start() or stop() it",
    "stimulating": "stop() first",
    "stopped": "arm() it again first",
    "fault": "configure() again once the fault is cleared",
}
"""What a caller must do next when a call is not allowed in a state."""


class DeviceError(StimwiseError):
    """A device or link fault (exit code 3): no answer, a broken reply, a reported error.

    Examples
    --------
    A call made in the wrong order is refused with what to do instead:

    >>> import stimwise as sw
    >>> device = sw.open_device("sim")
    >>> device.arm()
    Traceback (most recent call last):
    ...
    stimwise.device.interface.DeviceError: arm() is not allowed while the ... is disconnected ...
    """

    exit_code = 3


class DeviceTimeoutError(DeviceError):
    """A blocking call did not complete within its timeout."""


class DeviceRefusalError(StimwiseError):
    """The device cannot represent what was asked (exit code 1: nothing is delivered)."""

    exit_code = 1

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("The device cannot deliver this plan: " + "; ".join(self.reasons))


@dataclass(frozen=True)
class Capabilities:
    """What a stimulator can deliver; ``configure`` refuses anything outside it.

    Examples
    --------
    >>> import stimwise as sw
    >>> capabilities = sw.open_device("sim").capabilities
    >>> capabilities.current_range_ma[0] == 0, capabilities.timing
    (True, '...')
    """

    name: str
    channels: int
    current_range_ma: tuple[float, float]
    current_step_ma: float
    pulse_width_range_us: tuple[float, float]
    pulse_width_step_us: float
    frequency_range_hz: tuple[float, float]
    pulse_kinds: frozenset[str]
    carriers: bool
    timing: Literal["device", "host"]
    compliance_voltage_v: float | None = None


@dataclass(frozen=True)
class ChannelStatus:
    label: str
    electrode: ElectrodeState
    impedance_ohm: float | None
    amplitude_ma: float


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    channels: tuple[ChannelStatus, ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceEvent:
    """Something the device did or reported, stamped with ``time.monotonic()`` seconds."""

    t_s: float
    kind: EventKind
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)


class EventStream:
    """A thread-safe queue of device events with a blocking ``get`` that takes a timeout."""

    def __init__(self) -> None:
        self._queue: queue.Queue[DeviceEvent] = queue.Queue()

    def emit(self, kind: EventKind, message: str, **detail: object) -> DeviceEvent:
        event = DeviceEvent(time.monotonic(), kind, message, detail)
        self._queue.put(event)
        return event

    def get(self, timeout_s: float) -> DeviceEvent | None:
        """The next event, or ``None`` when none arrives within ``timeout_s``."""
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def drain(self) -> list[DeviceEvent]:
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events


class Stimulator(abc.ABC):
    """Base class of every stimulator driver (simulated or real).

    Examples
    --------
    The steps a session runner takes (:func:`stimwise.run_session` does them for you):

    >>> import stimwise as sw
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> device = sw.open_device("sim")
    >>> device.connect(); device.configure(plan); device.arm(); device.start()
    >>> device.update({"left leg": 5.0, "right leg": 5.0})
    >>> device.status().state
    'stimulating'
    >>> device.stop(); device.close()
    """

    def __init__(self) -> None:
        self.events = EventStream()
        self._lock = threading.RLock()
        self._state: DeviceState = "disconnected"

    def _require_state(self, name: str, allowed: frozenset[DeviceState]) -> None:
        """Refuse a call made in the wrong order, saying what to do instead."""
        if self._state in allowed:
            return
        hint = (
            "it is connected already; close() it first"
            if name == "connect"
            else NEXT_STEP[self._state]
        )
        raise DeviceError(
            f"{name}() is not allowed while the {self.capabilities.name} is {self._state} (it "
            f"needs {' or '.join(sorted(allowed))}): {hint}"
        )

    def _enter(self, state: DeviceState, reason: str) -> None:
        """Change state and report the change on the event stream."""
        previous, self._state = self._state, state
        self.events.emit(
            "state",
            f"{previous} -> {state}: {reason}",
            state=state,
            previous=previous,
            reason=reason,
        )

    @property
    @abc.abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abc.abstractmethod
    def connect(self, timeout_s: float = 2.0) -> None:
        """Open the link and complete the handshake."""

    @abc.abstractmethod
    def configure(self, plan: VerifiedPlan, timeout_s: float = 1.0) -> None:
        """Load a verified plan (at zero amplitude); raise :class:`DeviceRefusalError` listing every
        reason the device cannot represent it. Every driver calls ``require_verified(plan)``
        first and keeps the plan to check it again at every :meth:`update`."""

    @abc.abstractmethod
    def arm(self, timeout_s: float = 1.0) -> None:
        """Make a configured device ready to fire; nothing is delivered yet."""

    @abc.abstractmethod
    def start(self, timeout_s: float = 1.0) -> None:
        """Begin output at the current amplitudes (zero after ``configure``)."""

    @abc.abstractmethod
    def update(self, amplitudes_ma: Mapping[str, float], timeout_s: float = 0.5) -> None:
        """Set the peak amplitude of every channel at once (channel label -> mA). A driver first
        checks that the configured plan is still intact (``require_verified``); if it is not,
        it stops the output and raises :class:`~stimwise.errors.UnverifiedPlanError`."""

    @abc.abstractmethod
    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop output; idempotent, valid in any state."""

    @abc.abstractmethod
    def emergency_stop(self) -> None:
        """Zero the output immediately; never raises, never waits for an answer."""

    @abc.abstractmethod
    def status(self, timeout_s: float = 0.5) -> DeviceStatus: ...

    def close(self) -> None:
        """Stop and release the link."""
        self.emergency_stop()
