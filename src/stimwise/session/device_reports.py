"""A device's event stream as the session reads it: journaled, followed, and its problems found.

The session drains the stream at every control step, after every device call and right after it
stops the output (the drivers' reporting contract is in :mod:`stimwise.device.interface`). Each
event becomes one ``device_event`` journal line as it is read; ``applied`` events give the
amplitude the device really delivers; a ``fault``, or a ``state`` event leaving ``stimulating``
while the session expects output, is a problem that ends the session, named by its cause
(HAZ-100, HAZ-101).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stimwise.device.interface import Stimulator
from stimwise.session.outcomes import EndCause
from stimwise.session.record import delivered_amplitude_ma

Problem = tuple[str, EndCause]
"""A reason in words and its cause code."""


class DeviceReports:
    """Reads one device's events for one session.

    Parameters
    ----------
    device
        The stimulator whose ``events`` are read.
    log
        ``log(event_type, **fields)``: appends one journal line (the session's journal).
    """

    def __init__(self, device: Stimulator, log: Callable[..., Any]) -> None:
        self._device = device
        self._log = log
        self.delivered_ma = 0.0
        """The highest channel amplitude of the latest ``applied`` report (0 before any)."""
        self.expect_output = False
        """True while the device should be stimulating (from ``start`` until the session stops
        it): a stop the device makes then is a problem; one the session makes is expected."""

    def drain(self) -> Problem | None:
        """Journal every event emitted so far, follow the delivered amplitude, and return the
        first problem among them (``None`` when there is none): the first fault, whose message
        is the cause, before any change of state it brought (drivers may report either first)."""
        fault: Problem | None = None
        stop: Problem | None = None
        for event in self._device.events.drain():
            detail = dict(event.detail)
            self._log(
                "device_event",
                kind=event.kind,
                message=event.message,
                device_t_s=event.t_s,
                detail=detail,
            )
            if event.kind == "applied":
                delivered = delivered_amplitude_ma(detail)
                if delivered is not None:
                    self.delivered_ma = delivered
            elif event.kind == "fault":
                fault = fault or (f"device fault: {event.message}", "device_fault")
            elif event.kind == "state" and self.expect_output and stop is None:
                stop = _stop_problem(detail, event.message)
        return fault or stop


def _stop_problem(detail: dict[str, Any], message: str) -> Problem | None:
    """The problem a device's change of state is while output is expected (``None``: none)."""
    state = detail.get("state")
    if state == "stimulating":
        return None
    if state == "fault":
        return f"device fault: {detail.get('reason') or message}", "device_fault"
    return f"the device stopped the output by itself ({message})", "device_stop"
