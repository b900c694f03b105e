"""The Hasomed RehaStim 2 behind the :class:`~stimwise.device.interface.Stimulator` interface.

The device runs a channel list itself (device-timed trains, spec §3): ``configure`` loads the
timing and pulse shape, ``start`` begins at zero current, and every ``update`` is one
StartChannelListMode carrying every channel's current, so it is atomic on the wire. The layers:
:mod:`.transport` (pyserial), :mod:`.link` (handshake, numbering, Ack matching, the §4 recovery,
keep-alive) and :mod:`.mapping` (what a plan becomes, or why it cannot).

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
* **The fault before the failure (the reporting contract of** :mod:`stimwise.device.interface`
  **, HAZ-100).** A command that fails because of a fault — a StimulationError, a reset, a link
  loss the reader thread noticed while the command waited — raises only once that fault's event
  is on the stream, so the session journals the real cause, not the failed command.
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

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from stimwise.device.interface import (
    ANY_STATE,
    CONFIGURABLE_STATES,
    OUTPUT_STATES,
    Capabilities,
    ChannelStatus,
    DeviceError,
    DeviceState,
    DeviceStatus,
    DeviceTimeoutError,
    ElectrodeState,
    Stimulator,
)
from stimwise.device.sciencemode2.codec import Command, DecodedFrame, Result, command_name
from stimwise.device.sciencemode2.link import CommandCancelledError, LinkStats, LinkTiming, Sm2Link
from stimwise.device.sciencemode2.mapping import CAPABILITIES, ChannelListPlan, map_prescription
from stimwise.device.sciencemode2.payloads import (
    StimulationError,
    StimulationErrorCode,
    StimulationMode,
)
from stimwise.errors import InputError, UnverifiedPlanError
from stimwise.safety.plan import VerifiedPlan, require_verified

_T = TypeVar("_T")
_Body = Callable[[Sm2Link, float, int], _T]
"""What a command does with the link, its deadline (monotonic s) and the epoch it started in."""

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
_PROBE_SHARE = 0.9
"""The §4 mode query may take this share of the reply timeout: 100 + 90 ms < 200 ms."""
_PROBE_MARGIN_S = 0.05
"""Slack on an idle probe's deadline, so that the link's own silence verdict comes first."""


class RehaStim2(Stimulator):
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
        keep-alive becomes a mode query (see :class:`~.link.LinkTiming`).
    """

    def __init__(
        self,
        port: str,
        *,
        timeout_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        keepalive_interval_s: float = 0.4,
        probe_interval_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.port = port
        self._timing = LinkTiming(
            reply_timeout_s=timeout_s,
            probe_timeout_s=_PROBE_SHARE * timeout_s,
            keepalive_interval_s=keepalive_interval_s,
            probe_interval_s=probe_interval_s,
        )
        self._clock = clock
        self._io_lock = threading.Lock()
        """Held for a whole command's exchange; ``self._lock`` only ever briefly, never across
        I/O, so that ``emergency_stop`` and the reader thread never wait on the device."""
        self._link: Sm2Link | None = None
        self._state: DeviceState = "disconnected"
        self._plan: ChannelListPlan | None = None
        self._verified: VerifiedPlan | None = None
        """The plan ``configure`` loaded; every ``update`` checks it is still intact."""
        self._currents_ma: dict[str, int] = {}
        self._requested_ma: dict[str, float] = {}
        self._mode = StimulationMode.START
        """The mode this driver last put the device in; a mode query must agree."""
        self._epoch = 0
        """Bumped by every stop and fault: a command begun in an older epoch is not applied."""
        self._errors: list[str] = []
        self._electrode_error = False
        self._loss_reported: Sm2Link | None = None
        """The link whose loss was reported (once per link, by whichever thread came first)."""

    # ------------------------------------------------------------------ the interface

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def link_stats(self) -> LinkStats | None:
        """Frames sent, answers matched, unexpected answers, resends (``None`` before connect)."""
        link = self._link
        return None if link is None else link.stats

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
            with self._lock:
                self._require_state("connect", frozenset({"disconnected", "fault"}))
                old, self._link = self._link, None
            if old is not None:
                old.close()
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
            with self._lock:
                self._link, self._plan, self._mode = link, None, StimulationMode.START
                self._currents_ma, self._requested_ma, self._errors = {}, {}, []
                self._epoch += 1
                self._enter("connected", f"handshake done on {self.port} (protocol {version})")
            for note in link.port_notes:
                self.events.emit("info", note)

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
                self._plan, self._verified = mapped, plan
                self._currents_ma = dict.fromkeys(mapped.labels, 0)
                self._requested_ma = dict.fromkeys(mapped.labels, 0.0)
                self._errors, self._electrode_error = [], False
                self._enter("configured", f"loaded {plan!r} at zero current")
            self.events.emit(
                "applied",
                "channel list loaded",
                reason="configure",
                delivered_ma=dict.fromkeys(mapped.labels, 0.0),
                **mapped.describe(),
            )
            for note in mapped.notes:
                self.events.emit("info", note)

        self._command("configure", timeout_s, CONFIGURABLE_STATES, body)

    def arm(self, timeout_s: float = 1.0) -> None:
        """Make the device ready to fire; nothing is delivered. After a stop the device is back
        in start mode, so the channel list is loaded again (InitChannelListMode, no output)."""

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            if self._mode != StimulationMode.INITIALISED:
                self._load(link, plan, deadline_s, epoch)
            with self._lock:
                self._commit("arm", epoch)
                self._enter("armed", "armed: ready to fire, nothing delivered")

        self._command("arm", timeout_s, frozenset({"configured", "stopped"}), body)

    def start(self, timeout_s: float = 1.0) -> None:
        """Start the channel list with every current at zero (StartChannelListMode)."""

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            zero = dict.fromkeys(plan.labels, 0)
            self._request(
                link,
                Command.START_CHANNEL_LIST_MODE,
                plan.channel_list(zero).encode(),
                deadline_s,
                effect_mode=StimulationMode.STARTED,
                epoch=epoch,
            )
            with self._lock:
                self._commit("start", epoch)
                self._currents_ma = zero
                self._requested_ma = dict.fromkeys(plan.labels, 0.0)
                self._enter("stimulating", "output started at zero current")
            self._emit_applied("start")

        self._command("start", timeout_s, frozenset({"armed"}), body)

    def update(self, amplitudes_ma: Mapping[str, float], timeout_s: float = 0.5) -> None:
        """Set the currents of the channels named (the others keep theirs) in one
        StartChannelListMode: all channels change together or none does.

        Raises
        ------
        InputError
            Every unknown label and every value outside 0 mA to the plan's maximum (at most
            130 mA); nothing is sent.
        UnverifiedPlanError
            The configured plan was changed after verification: the output is stopped.
        DeviceError
            Unless stimulating; when the device did not apply it (the driver then faults); or
            when an emergency stop overtook it.
        """
        wanted = dict(amplitudes_ma)

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            self._require_intact()
            currents = plan.currents(wanted, self._currents_ma)
            # effect_mode None: the device is started either way, so a lost Ack means a resend
            self._request(
                link,
                Command.START_CHANNEL_LIST_MODE,
                plan.channel_list(currents).encode(),
                deadline_s,
                epoch=epoch,
            )
            with self._lock:
                self._commit("update", epoch)
                self._currents_ma = currents
                self._requested_ma.update({label: float(ma) for label, ma in wanted.items()})
            self._emit_applied("update")

        self._command("update", timeout_s, frozenset({"stimulating"}), body)

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop output (StopChannelListMode, valid in every device mode) and zero the currents;
        idempotent. A stimulating or armed driver goes to ``stopped``; other states stay.

        Raises
        ------
        DeviceError
            The device did not confirm the stop (the link is lost: its watchdog stops the
            output within 1.2 s of the last frame it received).
        """
        with self._lock:
            if self._state == "disconnected":
                return

        def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
            with self._lock:
                self._epoch += 1
            self._request(link, Command.STOP_CHANNEL_LIST_MODE, b"", deadline_s)
            with self._lock:
                self._zero()
                if self._state in OUTPUT_STATES:
                    self._enter("stopped", "stop")
            self._emit_applied("stop")

        self._command("stop", timeout_s, ANY_STATE, body)

    def emergency_stop(self) -> None:
        """Write StopChannelListMode now and zero the currents; never raises, never waits for
        the device or for a command in flight (the link confirms the stop in the background)."""
        with contextlib.suppress(Exception):  # whatever fails, the rest must still run
            with self._lock:
                self._epoch += 1
                if self._link is not None:
                    self._link.send_unconfirmed(
                        Command.STOP_CHANNEL_LIST_MODE, StimulationMode.START
                    )
                self._mode = StimulationMode.START
                self._zero()
                if self._state in OUTPUT_STATES:
                    self._enter("stopped", "emergency stop")
            self._emit_applied("emergency stop")

    def status(self, timeout_s: float = 0.5) -> DeviceStatus:
        """State, channels and errors; when connected, the device's mode is queried first and a
        mode other than the expected one faults the driver.

        Raises
        ------
        DeviceTimeoutError
            The mode query was not answered (the link is then lost and the driver in fault).
        """
        with self._lock:
            link = self._link
        if link is not None and link.connected and link.lost_reason is None:

            def body(link: Sm2Link, deadline_s: float, epoch: int) -> None:
                self._check_mode(link.query_mode(deadline_s), epoch)

            self._command("status", timeout_s, ANY_STATE, body)
        with self._lock:
            return self._status_now()

    def close(self) -> None:
        """Emergency-stop, then stop with confirmation when the link still works, and release
        the port; never raises."""
        self.emergency_stop()
        with contextlib.suppress(DeviceError):
            self.stop(timeout_s=0.5)
        with self._lock:
            link, self._link, self._plan = self._link, None, None
            self._currents_ma, self._requested_ma = {}, {}
            if self._state != "disconnected":
                self._enter("disconnected", "closed")
        if link is not None:
            link.close()

    # ------------------------------------------------------------------ commands

    def _command(
        self, name: str, timeout_s: float, allowed: frozenset[DeviceState], body: _Body[_T]
    ) -> _T:
        """Run ``body`` alone on the link after the state check; fault on a failure whose
        outcome is unknown (unless the link already reported why)."""
        deadline_s = time.monotonic() + timeout_s
        with self._exclusive(name, deadline_s):
            with self._lock:
                self._require_state(name, allowed)
                link, epoch = self._link, self._epoch
            if link is None:
                raise DeviceError(f"{name}() needs a connected device: connect() first")
            try:
                return body(link, deadline_s, epoch)
            except CommandCancelledError:
                # A fault that cancelled it holds self._lock from the cancel to its report:
                # taking the lock once waits until its event is on the stream.
                with self._lock:
                    pass
                raise
            except DeviceError as error:
                if link.lost_reason is not None:
                    self._on_link_lost(link.lost_reason, link)  # reported before raising
                elif link.connected:
                    self._fault("command_failed", f"{name}() failed: {error}")
                raise

    def _request(
        self,
        link: Sm2Link,
        command: Command,
        data: bytes,
        deadline_s: float,
        *,
        effect_mode: StimulationMode | None = None,
        epoch: int | None = None,
    ) -> None:
        """One request with recovery; a result other than 0 is a :class:`DeviceError`.

        ``epoch`` given: the command is not sent once a stop or fault moved past it. A
        StopChannelListMode is sent whatever happened (its effect, start mode, is implied).
        """
        stop = command == Command.STOP_CHANNEL_LIST_MODE
        result = link.request(
            command,
            data,
            effect_mode=StimulationMode.START if stop else effect_mode,
            deadline_s=deadline_s,
            still_wanted=None if epoch is None else lambda: self._epoch == epoch,
        )
        if result != Result.OK:
            raise DeviceError(
                f"the device refused {command_name(command)} with {result.name} ({result.value})"
            )
        with self._lock:
            if stop:
                self._mode = StimulationMode.START
            elif effect_mode is not None and self._epoch == epoch:
                self._mode = effect_mode

    def _load(self, link: Sm2Link, plan: ChannelListPlan, deadline_s: float, epoch: int) -> None:
        """InitChannelListMode: the device (in start mode) takes the list and is initialised."""
        self._request(
            link,
            Command.INIT_CHANNEL_LIST_MODE,
            plan.init.encode(),
            deadline_s,
            effect_mode=StimulationMode.INITIALISED,
            epoch=epoch,
        )

    def _commit(self, name: str, epoch: int) -> None:
        """Under ``self._lock``: refuse to record a command that a stop or fault overtook."""
        if self._epoch != epoch:
            raise CommandCancelledError(
                f"{name}() was overtaken by a stop or fault while the device answered; the "
                f"driver is {self._state}"
            )

    @contextlib.contextmanager
    def _exclusive(self, name: str, deadline_s: float) -> Iterator[None]:
        if not self._io_lock.acquire(timeout=max(0.0, deadline_s - time.monotonic())):
            raise DeviceTimeoutError(f"{name}(): another command was still running at its timeout")
        try:
            yield
        finally:
            self._io_lock.release()


    def _loaded(self) -> ChannelListPlan:
        plan = self._plan
        assert plan is not None  # every state that allows the caller has a plan
        return plan

    def _require_intact(self) -> None:
        """The verified plan behind the loaded channel list must still be intact (HAZ-081): a
        plan edited after ``configure`` stops the output and nothing is sent."""
        try:
            require_verified(self._verified)
        except UnverifiedPlanError:
            self.emergency_stop()
            raise

    # ------------------------------------------------------------------ faults and checks

    def _fault(self, code: str, message: str, output: str = "stopped") -> None:
        """Stop first (unless the device reset, which stopped it), then report."""
        with self._lock:
            self._epoch += 1
            if self._link is not None and code != "device_reset":
                self._link.send_unconfirmed(Command.STOP_CHANNEL_LIST_MODE, StimulationMode.START)
            self._mode = StimulationMode.START
            self._zero()
            self._errors.append(message)
            self.events.emit("fault", message, code=code, output=output, clock_s=self._clock())
            if self._state not in ("fault", "disconnected"):
                self._enter("fault", message)
        self._emit_applied(f"fault ({code})")

    def _on_link_lost(self, reason: str, link: Sm2Link | None = None) -> None:
        """Report the loss of the current link once, from the reader thread or from a command
        that failed on it, whichever comes first; the other waits for that report (the lock)."""
        with self._lock:
            lost = self._link if link is None else link
            if lost is None or lost is not self._link or self._loss_reported is lost:
                return
            self._loss_reported = lost
            self._fault(
                "link_lost",
                f"link to the RehaStim 2 lost: {reason}",
                output="stop sent; if it cannot arrive, the device's watchdog stops the output "
                "within 1.2 s of the last frame it received",
            )

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

    def _idle_probe(self) -> bool:
        """The keep-alive thread's liveness and mode check; skipped while a command runs."""
        if not self._io_lock.acquire(blocking=False):
            return False
        try:
            with self._lock:
                link, epoch = self._link, self._epoch
            if link is None:
                return False
            timing = self._timing
            budget_s = timing.reply_timeout_s + timing.probe_timeout_s + _PROBE_MARGIN_S
            self._check_mode(link.query_mode(time.monotonic() + budget_s), epoch)
            return True
        finally:
            self._io_lock.release()

    def _check_mode(self, mode: StimulationMode, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch or self._state in ("fault", "disconnected"):
                return
            if mode != self._mode:
                self._fault(
                    "mode_mismatch",
                    f"the RehaStim 2 is in mode {mode.name}, not {self._mode.name}: it stopped or "
                    "reset without a report that arrived",
                )

    # ------------------------------------------------------------------ reporting

    def _zero(self) -> None:
        self._currents_ma = dict.fromkeys(self._currents_ma, 0)
        self._requested_ma = dict.fromkeys(self._requested_ma, 0.0)

    def _emit_applied(self, reason: str) -> None:
        with self._lock:
            delivered = {label: float(ma) for label, ma in self._currents_ma.items()}
            requested = dict(self._requested_ma)
        shown = ", ".join(f"{label} {ma:g} mA" for label, ma in delivered.items()) or "none"
        self.events.emit(
            "applied",
            f"{reason}: delivering {shown}",
            reason=reason,
            delivered_ma=delivered,
            requested_ma=requested,
            clock_s=self._clock(),
        )

    def _status_now(self) -> DeviceStatus:
        return DeviceStatus(
            self._state,
            tuple(
                ChannelStatus(label, self._electrode(label), None, float(current_ma))
                for label, current_ma in self._currents_ma.items()
            ),
            tuple(self._errors),
        )

    def _electrode(self, label: str) -> ElectrodeState:
        delivering = self._state == "stimulating" and self._currents_ma.get(label, 0) > 0
        return "ok" if delivering and not self._electrode_error else "unknown"
