"""The Hasomed RehaStim 2 behind the :class:`~stimwise.device.interface.Stimulator` interface.

The device runs a channel list itself (device-timed trains, spec §3): ``configure`` loads the
timing and pulse shape, ``start`` begins at zero current, and every ``update`` is one
StartChannelListMode carrying every channel's current, so it is atomic on the wire. The layers:
:mod:`.link` (handshake, the §4 recovery, the Watchdog keep-alive, on the shared
:mod:`~stimwise.device.framed_link`), :mod:`.mapping` (what a plan becomes, or why it cannot) and
the shared :class:`~stimwise.device.linked_driver.LinkedStimulator` (one command at a time, stop
first and report afterwards, state checks, the ``applied`` record).

States (as the simulated stimulator's)::

    disconnected -connect-> connected -configure-> configured -arm-> armed -start-> stimulating
    stop / emergency_stop -> stopped (arm again: it reloads the channel list)
    StimulationError, device reset, link loss, a failed command -> fault (configure again;
    connect again after a reset or a loss)
    close -> disconnected

Choices of this driver (stimwise's):

* **Stop first, report afterwards (HAZ-023).** Every fault writes StopChannelListMode before the
  ``fault`` event. ``emergency_stop`` writes it at once, without waiting for an Ack or a command
  in flight; the link confirms it in the background and resends it if needed.
* **Fail closed.** A command whose outcome is unknown (timeout, refusal) faults the driver.
  After a link loss the driver stops its keep-alive, so a device that is alive but unreachable
  stops itself by its watchdog within 1.2 s.
* **Currents** are floored to whole mA (never more than asked) and capped by the verified plan's
  maximum as well as the device's 130 mA (HAZ-004 defence in depth).
* **Mode checks.** ``status`` and the idle keep-alive ask for the device's mode and fault when it
  is not the one the driver put it in (a StimulationError that arrived corrupted, a silent
  reset).
* **Electrodes.** The device tests the skin resistance before every pulse and reports a failure
  as StimulationError −2, without the channel; it never reports impedance. ``status`` therefore
  says ``ok`` for a channel delivering current with no error since ``configure``, ``unknown``
  otherwise, and the impedance is always ``None``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from stimwise.device.frames import DecodedFrame
from stimwise.device.interface import (
    CONFIGURABLE_STATES,
    Capabilities,
    ElectrodeState,
)
from stimwise.device.linked_driver import LinkedStimulator
from stimwise.device.sciencemode2.codec import Command, Result, command_name
from stimwise.device.sciencemode2.link import Sm2Link, _result_of
from stimwise.device.sciencemode2.mapping import CAPABILITIES, ChannelListPlan, map_prescription
from stimwise.device.sciencemode2.payloads import (
    StimulationError,
    StimulationErrorCode,
    StimulationMode,
)
from stimwise.errors import InputError
from stimwise.safety.plan import VerifiedPlan, require_verified

_STIMULATION_ERRORS = {
    StimulationErrorCode.EMERGENCY_SWITCH: (
        "emergency_switch",
        "its emergency switch is pressed or not connected (StimulationError -1)",
    ),
    StimulationErrorCode.ELECTRODE: (
        "electrode",
        "an electrode error (StimulationError -2; it does not say on which channel)",
    ),
    StimulationErrorCode.MODULE: ("module", "a stimulation module error (StimulationError -3)"),
}


class RehaStim2(LinkedStimulator[Sm2Link, ChannelListPlan]):
    """A RehaStim 2 on a serial port (or the emulator's pty).

    Parameters
    ----------
    port
        ``/dev/ttyUSB0``, ``COM3``, or ``RehaStim2Emulator.port``. Nothing is opened until
        :meth:`connect`.
    timeout_s
        MaxResponseTime: how long an Ack may take before the driver asks for the mode (spec §4:
        100 ms). The mode query gets 90 % of it, so a silent device is declared lost within
        2 × ``timeout_s`` of a reply falling due (200 ms at the default).
    clock
        Monotonic seconds stamped into the frame log (``clock_s``); waits and timeouts always
        use the real monotonic clock.
    keepalive_interval_s, probe_interval_s
        Longest transmit silence before a Watchdog, and longest receive silence before the
        keep-alive becomes a mode query (see :class:`~stimwise.device.framed_link.LinkTiming`).
    """

    stop_command = Command.STOP_CHANNEL_LIST_MODE
    stopped_state = StimulationMode.START
    running_state = StimulationMode.STARTED
    loss_output = (
        "stop sent; if it cannot arrive, the device's watchdog stops the output within 1.2 s of "
        "the last frame it received"
    )

    _electrode_error = False
    """Whether a StimulationError −2 arrived since ``configure``."""

    # ------------------------------------------------------------------ the interface

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def connect(self, timeout_s: float = 2.0) -> None:
        """Open the port and answer the device's Init (it repeats every 500 ms).

        Raises
        ------
        DeviceTimeoutError
            No Init, or no confirmation, within ``timeout_s``.
        DeviceError
            The port cannot be opened, or the driver is connected already.
        """
        deadline_s = time.monotonic() + timeout_s
        with self._exclusive("connect", deadline_s):
            self._detach_for_connect()
            link = Sm2Link(
                self.port,
                events=self.events,
                clock=self._clock,
                on_device_packet=self._on_device_packet,
                on_lost=self._on_link_lost,
                idle_probe=self._idle_probe,
                timing=self._timing,
            )
            version = link.open(deadline_s)
            self._attach(link, f"handshake done on {self.port} (protocol {version})")

    def configure(self, plan: VerifiedPlan, timeout_s: float = 1.0) -> None:
        """Load ``plan``: StopChannelListMode, then InitChannelListMode; currents are zero.

        Raises
        ------
        UnverifiedPlanError
            ``plan`` is not an intact :class:`VerifiedPlan` (HAZ-004).
        DeviceRefusalError
            With every reason the RehaStim 2 cannot deliver it (HAZ-029); nothing is sent.
        DeviceError
            While stimulating (stop first), before ``connect``, or when the device refuses.
        """
        plan = require_verified(plan)
        mapped = map_prescription(plan.prescription)

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            self._request(link, Command.STOP_CHANNEL_LIST_MODE, b"", deadline_s)
            self._load(link, mapped, deadline_s, epoch)
            with self._lock:
                self._commit("configure", epoch)
                self._adopt(plan, mapped, mapped.labels)
                self._electrode_error = False
            self._emit_applied("configure: channel list loaded", **mapped.describe())
            for note in mapped.notes:
                self.events.emit("info", note)

        self._command("configure", timeout_s, CONFIGURABLE_STATES, body)

    def arm(self, timeout_s: float = 1.0) -> None:
        """Make the device ready to fire; nothing is delivered. After a stop the device is back
        in start mode, so the channel list is loaded again (InitChannelListMode, no output)."""

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            if self._expected != StimulationMode.INITIALISED:
                self._load(link, plan, deadline_s, epoch)
            with self._lock:
                self._commit("arm", epoch)
                self._enter("armed", "armed: ready to fire, nothing delivered")

        self._command("arm", timeout_s, frozenset({"configured", "stopped"}), body)

    # ------------------------------------------------------------------ the device's part

    def _load(self, link: Sm2Link, plan: ChannelListPlan, deadline_s: float, epoch: int) -> None:
        """InitChannelListMode: the device (in start mode) takes the list and is initialised."""
        self._request(
            link,
            Command.INIT_CHANNEL_LIST_MODE,
            plan.init.encode(),
            deadline_s,
            effect_state=StimulationMode.INITIALISED,
            epoch=epoch,
        )

    def _output_frame(
        self, plan: ChannelListPlan, currents: Mapping[str, float]
    ) -> tuple[int, bytes]:
        """StartChannelListMode: it starts the list, and updates a started one."""
        whole_ma = {label: round(ma) for label, ma in currents.items()}  # whole mA already
        return Command.START_CHANNEL_LIST_MODE, plan.channel_list(whole_ma).encode()

    def _poll_state(self, link: Sm2Link, deadline_s: float) -> StimulationMode:
        return link.query_mode(deadline_s)

    def _refused(self, link: Sm2Link, command: int, answer: DecodedFrame) -> str | None:
        result = _result_of(answer)
        return None if result == Result.OK else f"{result.name} ({result.value})"

    def _on_device_packet(self, frame: DecodedFrame) -> None:
        """Unsolicited packets from the reader thread: StimulationError and a repeated Init."""
        with self._lock:
            if self._link is None:
                return
        if frame.command == Command.STIMULATION_ERROR:
            try:
                error = StimulationError.decode(frame.data).error
            except InputError:
                self._fault("stimulation_error", f"unreadable StimulationError {frame.data.hex()}")
                return
            code, what = _STIMULATION_ERRORS[error]
            if error == StimulationErrorCode.ELECTRODE:
                with self._lock:
                    self._electrode_error = True
            self._fault(code, f"the RehaStim 2 stopped the output: {what}", "stopped by the device")
        elif frame.command == Command.INIT:
            self._fault(
                "device_reset",
                "the RehaStim 2 sent Init again: it reset (watchdog or power), stopped the output "
                "and lost its configuration; connect() again",
                "stopped by the device",
            )
        else:
            self.events.emit("info", f"ignored {command_name(frame.command)} from the device")

    def _electrode(self, label: str) -> ElectrodeState:
        """The device tests the skin resistance before every pulse and reports a failure as
        StimulationError −2, without the channel; it never reports impedance: ``ok`` for a
        channel delivering current with no error since ``configure``, ``unknown`` otherwise."""
        delivering = self._state == "stimulating" and self._currents_ma.get(label, 0) > 0
        return "ok" if delivering and not self._electrode_error else "unknown"
