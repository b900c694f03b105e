"""What every driver of a real stimulator on a :class:`~stimwise.device.framed_link.FramedLink`
does the same way: one command at a time, stop first and report afterwards, the record of what
the device really delivers.

A subclass (the RehaStim 2, the RehaMove P24) says how to connect, configure, arm, start and
update its device; this base gives it:

* **Commands** (:meth:`_command`): one at a time on the link after the state check, with a
  deadline; a failure whose outcome is unknown faults the driver (fail closed).
* **The fault before the failure** (the reporting contract of
  :mod:`stimwise.device.interface`, HAZ-100): a command that fails because of a fault — a
  device report, a reset, a link loss the reader thread noticed while the command waited —
  raises only once that fault's event is on the stream.
* **Epochs.** Every stop and fault bumps the epoch; a command begun in an older epoch is neither
  sent (:meth:`_request` cancels it) nor recorded (:meth:`_commit`), so an emergency stop that
  overtakes an update always wins.
* **Stop first, report afterwards (HAZ-023).** :meth:`_fault` writes the stop command before
  the ``fault`` event; :meth:`emergency_stop` writes it at once, without waiting for an answer or
  a command in flight; the link confirms it in the background and resends it if needed.
* **State checks.** ``status`` and the idle keep-alive ask for the device's state and fault when
  it is not the one the driver put it in (a report that arrived corrupted, a silent reset).
* **The gate, again (HAZ-004, HAZ-134).** ``configure`` keeps the :class:`VerifiedPlan`; every
  ``update`` re-checks it with ``require_verified`` before anything is sent, and a plan that no
  longer passes stops the output (an emergency stop) and is refused.
* **The record.** Every change of output is an ``applied`` event whose ``delivered_ma`` maps each
  channel to the current the device delivers (its quantised value) and ``requested_ma`` to what
  was asked; every fault is a ``fault`` event with a ``code`` and its cause.
"""

from __future__ import annotations

import abc
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar, Generic, Protocol, TypeVar

from stimwise.device.framed_link import CommandCancelledError, FramedLink, LinkStats, LinkTiming
from stimwise.device.interface import (
    ANY_STATE,
    OUTPUT_STATES,
    ChannelStatus,
    DeviceError,
    DeviceState,
    DeviceStatus,
    DeviceTimeoutError,
    ElectrodeState,
    Stimulator,
)
from stimwise.errors import UnverifiedPlanError
from stimwise.safety.plan import VerifiedPlan, require_verified


class LoadedPlan(Protocol):
    """What a driver's mapped plan offers the shared start and update."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def currents(
        self, amplitudes_ma: Mapping[str, object], previous_ma: Mapping[str, float]
    ) -> Mapping[str, float]:
        """Every channel's device current after setting those named (``InputError`` when any
        is unknown or out of range)."""
        ...


_T = TypeVar("_T")
L = TypeVar("L", bound=FramedLink)
P = TypeVar("P", bound=LoadedPlan)
_Body = Callable[[L, float, int], _T]
"""What a command does with the link, its deadline (monotonic s) and the epoch it started in."""
_PROBE_SHARE = 0.9
"""The state query may take this share of the reply timeout (ScienceMode2: 100 + 90 ms stay
under the spec's 200 ms)."""
_PROBE_MARGIN_S = 0.05
"""Slack on an idle probe's deadline, so that the link's own silence verdict comes first."""


class LinkedStimulator(Stimulator, Generic[L, P], abc.ABC):
    """A stimulator driven through a :class:`FramedLink` ``L``, with its loaded plan ``P``.

    Parameters
    ----------
    port
        Serial port or pty path; nothing is opened until ``connect``.
    clock
        Monotonic seconds stamped into events (``clock_s``); waits always use the real clock.
    timeout_s
        How long an answer may take before the link asks for the device's state; that query
        gets 90 % of it, so a silent device is declared lost within about 2 × ``timeout_s``
        of an answer falling due.
    keepalive_interval_s, probe_interval_s
        See :class:`~stimwise.device.framed_link.LinkTiming`; the keep-alive interval defaults
        to the driver's :attr:`keepalive_interval_s`.
    """

    stop_command: int
    """The command that stops the output in every device state."""
    running_state: object
    """The device state once ``start`` has the output running."""
    keepalive_interval_s: ClassVar[float] = 0.4
    """Longest transmit silence before the link's keep-alive runs (default)."""
    check_before_update: ClassVar[bool] = False
    """Ask for the device's state before every update, so that an update never restarts what
    the device stopped by itself (for devices whose update would)."""
    stopped_state: object
    """The device state the stop command leads to (what the link's probe then reports)."""
    loss_output: str
    """What happens to the output when the link is lost (for the ``fault`` event)."""

    def __init__(
        self,
        port: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 0.1,
        keepalive_interval_s: float | None = None,
        probe_interval_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.port = port
        self._clock = clock
        self._timing = LinkTiming(
            reply_timeout_s=timeout_s,
            probe_timeout_s=_PROBE_SHARE * timeout_s,
            keepalive_interval_s=keepalive_interval_s or self.keepalive_interval_s,
            probe_interval_s=probe_interval_s,
        )
        self._io_lock = threading.Lock()
        """Held for a whole command's exchange; ``self._lock`` only ever briefly, never across
        I/O, so that ``emergency_stop`` and the reader thread never wait on the device."""
        self._link: L | None = None
        self._state: DeviceState = "disconnected"
        self._plan: P | None = None
        self._verified: VerifiedPlan | None = None
        self._currents_ma: dict[str, float] = {}
        """What the device delivers on each channel now (its quantised values)."""
        self._requested_ma: dict[str, float] = {}
        self._expected: object = self.stopped_state
        """The device state this driver last put the device in; a state query must agree."""
        self._epoch = 0
        """Bumped by every stop and fault: a command begun in an older epoch is not applied."""
        self._errors: list[str] = []
        self._loss_reported: L | None = None
        """The link whose loss was reported (once per link, by whichever thread came first)."""

    # ------------------------------------------------------------------ the device's part

    @abc.abstractmethod
    def _poll_state(self, link: L, deadline_s: float) -> object:
        """The device's state, asked over ``link`` (raises as ``request`` does)."""

    @abc.abstractmethod
    def _refused(self, link: L, command: int, answer: object) -> str | None:
        """Why ``answer`` (a decoded frame) means the device did not do ``command``; ``None``
        when it did."""

    @abc.abstractmethod
    def _electrode(self, label: str) -> ElectrodeState: ...

    @abc.abstractmethod
    def _output_frame(self, plan: P, currents: Mapping[str, float]) -> tuple[int, bytes]:
        """The command and data that set every channel's current at once."""

    # ------------------------------------------------------------------ the interface

    @property
    def link_stats(self) -> LinkStats | None:
        """Frames sent, answers matched, unexpected answers, resends (``None`` before connect)."""
        link = self._link
        return None if link is None else link.stats

    def start(self, timeout_s: float = 1.0) -> None:
        """Start the output with every current at zero (the device then times the pulses)."""

        def body(link: L, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            zero = dict.fromkeys(plan.labels, 0.0)
            command, data = self._output_frame(plan, zero)
            self._request(
                link, command, data, deadline_s, effect_state=self.running_state, epoch=epoch
            )
            with self._lock:
                self._commit("start", epoch)
                self._begin_output(plan.labels)
            self._emit_applied("start")

        self._command("start", timeout_s, frozenset({"armed"}), body)

    def update(self, amplitudes_ma: Mapping[str, float], timeout_s: float = 0.5) -> None:
        """Set the currents of the channels named (the others keep theirs) in one command: all
        channels change together or none does. Currents are floored to the device's step.

        Raises
        ------
        UnverifiedPlanError
            The loaded plan no longer passes ``require_verified`` (HAZ-004); the output stops.
        InputError
            Every unknown label and every value outside 0 mA to the plan's maximum; nothing is
            sent.
        DeviceError
            Unless stimulating; when the device did not apply it (the driver then faults); when
            the device had stopped by itself (``check_before_update``); or when an emergency
            stop overtook it.
        """
        wanted = dict(amplitudes_ma)

        def body(link: L, deadline_s: float, epoch: int) -> None:
            plan = self._loaded()
            currents = plan.currents(wanted, self._currents_ma)
            if self.check_before_update:
                self._check_state(self._poll_state(link, deadline_s), epoch)
                if self._state == "fault":  # the device stopped: do not restart it
                    raise CommandCancelledError(f"update() not sent: {self._errors[-1]}")
            command, data = self._output_frame(plan, currents)
            # no effect state: the device runs either way, so a lost answer means a resend,
            # which is safe because the command sets absolute values
            self._request(link, command, data, deadline_s, epoch=epoch)
            with self._lock:
                self._commit("update", epoch)
                self._record_output(currents, wanted)
            self._emit_applied("update")

        self._command("update", timeout_s, frozenset({"stimulating"}), body, recheck=True)

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop output (the stop command, valid in every device state) and zero the currents;
        idempotent. A stimulating or armed driver goes to ``stopped``; other states stay.

        Raises
        ------
        DeviceError
            The device did not confirm the stop (the link is lost).
        """
        with self._lock:
            if self._state == "disconnected":
                return

        def body(link: L, deadline_s: float, epoch: int) -> None:
            with self._lock:
                self._epoch += 1
            self._request(link, self.stop_command, b"", deadline_s)
            with self._lock:
                self._zero()
                if self._state in OUTPUT_STATES:
                    self._enter("stopped", "stop")
            self._emit_applied("stop")

        self._command("stop", timeout_s, ANY_STATE, body)

    def emergency_stop(self) -> None:
        """Write the stop command now and zero the currents; never raises, never waits for the
        device or for a command in flight (the link confirms the stop in the background)."""
        with contextlib.suppress(Exception):  # whatever fails, the rest must still run
            with self._lock:
                self._epoch += 1
                if self._link is not None:
                    self._link.send_unconfirmed(self.stop_command, self.stopped_state)
                self._expected = self.stopped_state
                self._zero()
                if self._state in OUTPUT_STATES:
                    self._enter("stopped", "emergency stop")
            self._emit_applied("emergency stop")

    def status(self, timeout_s: float = 0.5) -> DeviceStatus:
        """State, channels and errors; when connected, the device's state is queried first and
        a state other than the expected one faults the driver.

        Raises
        ------
        DeviceTimeoutError
            The query was not answered (the link is then lost and the driver in fault).
        """
        with self._lock:
            link = self._link
        if link is not None and link.connected and link.lost_reason is None:

            def body(link: L, deadline_s: float, epoch: int) -> None:
                self._check_state(self._poll_state(link, deadline_s), epoch)

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
            link, self._link, self._plan, self._verified = self._link, None, None, None
            self._currents_ma, self._requested_ma = {}, {}
            if self._state != "disconnected":
                self._enter("disconnected", "closed")
        if link is not None:
            link.close()

    # ------------------------------------------------------------------ commands

    def _require_state(self, name: str, allowed: frozenset[DeviceState]) -> None:
        """As :meth:`Stimulator._require_state`, naming the fault's cause when in fault, so that
        whoever is refused learns why the device stopped."""
        try:
            super()._require_state(name, allowed)
        except DeviceError as error:
            if self._state != "fault" or not self._errors:
                raise
            raise DeviceError(f"{error} (the fault: {self._errors[-1]})") from None

    def _attach(self, link: L, reason: str) -> None:
        """Adopt a freshly opened ``link``: nothing loaded, nothing delivered, ``connected``."""
        with self._lock:
            self._link, self._plan, self._expected = link, None, self.stopped_state
            self._currents_ma, self._requested_ma, self._errors = {}, {}, []
            self._epoch += 1
            self._enter("connected", reason)
        for note in link.port_notes:
            self.events.emit("info", note)

    def _detach_for_connect(self) -> None:
        """Under the command lock: refuse ``connect`` unless disconnected or in fault, and close
        the old link."""
        with self._lock:
            self._require_state("connect", frozenset({"disconnected", "fault"}))
            old, self._link = self._link, None
        if old is not None:
            old.close()

    def _command(
        self,
        name: str,
        timeout_s: float,
        allowed: frozenset[DeviceState],
        body: _Body[L, _T],
        *,
        recheck: bool = False,
    ) -> _T:
        """Run ``body`` alone on the link after the state check (and, with ``recheck``, after
        re-checking the loaded plan); fault on a failure whose outcome is unknown (unless the
        link already reported why)."""
        deadline_s = time.monotonic() + timeout_s
        with self._exclusive(name, deadline_s):
            with self._lock:
                self._require_state(name, allowed)
                link, epoch = self._link, self._epoch
            if link is None:
                raise DeviceError(f"{name}() needs a connected device: connect() first")
            if recheck:
                self._recheck_plan(name)
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
        link: L,
        command: int,
        data: bytes,
        deadline_s: float,
        *,
        effect_state: object | None = None,
        epoch: int | None = None,
    ) -> object | None:
        """One request with recovery; an answer that refuses the command is a
        :class:`DeviceError`. Returns the answer (``None`` when its effect was confirmed by the
        state query instead).

        ``epoch`` given: the command is not sent once a stop or fault moved past it. The stop
        command is sent whatever happened (its effect, the stopped state, is implied).
        """
        stop = command == self.stop_command
        answer = link.request(
            command,
            data,
            effect_state=self.stopped_state if stop else effect_state,
            deadline_s=deadline_s,
            still_wanted=None if epoch is None else lambda: self._epoch == epoch,
        )
        if answer is not None and (why := self._refused(link, command, answer)) is not None:
            raise DeviceError(f"the device refused {link.command_name(command)}: {why}")
        with self._lock:
            if stop:
                self._expected = self.stopped_state
            elif effect_state is not None and self._epoch == epoch:
                self._expected = effect_state
        return answer

    def _recheck_plan(self, name: str) -> None:
        """Fail closed when the plan loaded by ``configure`` no longer passes the gate: the
        output stops and nothing is sent (HAZ-081, HAZ-134)."""
        try:
            require_verified(self._verified)
        except UnverifiedPlanError:
            self.emergency_stop()
            raise

    def _adopt(self, verified: VerifiedPlan, plan: P, labels: tuple[str, ...]) -> None:
        """Under ``self._lock``, after ``configure``: the loaded plan, zero current on every
        channel, no errors."""
        self._verified, self._plan = verified, plan
        self._currents_ma = dict.fromkeys(labels, 0.0)
        self._requested_ma = dict.fromkeys(labels, 0.0)
        self._errors = []
        self._enter("configured", f"loaded {verified!r} at zero current")

    def _begin_output(self, labels: tuple[str, ...]) -> None:
        """Under ``self._lock``, after ``start``: output runs at zero current."""
        self._currents_ma = dict.fromkeys(labels, 0.0)
        self._requested_ma = dict.fromkeys(labels, 0.0)
        self._enter("stimulating", "output started at zero current")

    def _record_output(self, delivered_ma: Mapping[str, float], requested: Mapping) -> None:
        """Under ``self._lock``, after an update the device acknowledged: what it delivers now
        (its quantised values) and what was asked."""
        self._currents_ma = {label: float(ma) for label, ma in delivered_ma.items()}
        self._requested_ma.update({label: float(ma) for label, ma in requested.items()})

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

    def _loaded(self) -> P:
        plan = self._plan
        assert plan is not None  # every state that allows the caller has a plan
        return plan

    # ------------------------------------------------------------------ faults and checks

    def _fault(self, code: str, message: str, output: str = "stopped") -> None:
        """Stop first (unless the device reset, which stopped it), then report."""
        with self._lock:
            self._epoch += 1
            if self._link is not None and code != "device_reset":
                self._link.send_unconfirmed(self.stop_command, self.stopped_state)
            self._expected = self.stopped_state
            self._zero()
            self._errors.append(message)
            self.events.emit("fault", message, code=code, output=output, clock_s=self._clock())
            if self._state not in ("fault", "disconnected"):
                self._enter("fault", message)
        self._emit_applied(f"fault ({code})")

    def _on_link_lost(self, reason: str, link: L | None = None) -> None:
        """Report the loss of the current link once, from the reader thread or from a command
        that failed on it, whichever comes first; the other waits for that report (the lock)."""
        with self._lock:
            lost = self._link if link is None else link
            if lost is None or lost is not self._link or self._loss_reported is lost:
                return
            self._loss_reported = lost
            self._fault(
                "link_lost",
                f"link to the {self.capabilities.name} lost: {reason}",
                self.loss_output,
            )

    def _idle_probe(self) -> bool:
        """The keep-alive thread's liveness and state check; skipped while a command runs."""
        if not self._io_lock.acquire(blocking=False):
            return False
        try:
            with self._lock:
                link, epoch = self._link, self._epoch
            if link is None:
                return False
            timing = link.timing
            budget_s = timing.reply_timeout_s + timing.probe_timeout_s + _PROBE_MARGIN_S
            self._check_state(self._poll_state(link, time.monotonic() + budget_s), epoch)
            return True
        finally:
            self._io_lock.release()

    def _check_state(self, state: object, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch or self._state in ("fault", "disconnected"):
                return
            found = self._state_fault(state)
            if found is not None:
                self._fault(*found)

    def _state_fault(self, state: object) -> tuple[str, str] | None:
        """Under ``self._lock``: ``(code, cause)`` when the state reported by
        :meth:`_poll_state` means a fault, else ``None``. By default any state other than the
        expected one is a ``mode_mismatch``."""
        if state == self._expected:
            return None
        shown = getattr(state, "name", state)
        expected = getattr(self._expected, "name", self._expected)
        return (
            "mode_mismatch",
            f"the {self.capabilities.name} is in state {shown}, not {expected}: it stopped or "
            "reset without a report that arrived",
        )

    # ------------------------------------------------------------------ reporting

    def _zero(self) -> None:
        self._currents_ma = dict.fromkeys(self._currents_ma, 0.0)
        self._requested_ma = dict.fromkeys(self._requested_ma, 0.0)

    def _emit_applied(self, reason: str, **detail: object) -> None:
        """The ``applied`` event: what each channel delivers now (and ``detail``)."""
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
            **detail,
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
