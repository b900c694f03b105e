"""A request–answer link over a serial port, shared by the ScienceMode drivers.

Above :mod:`~stimwise.device.serial_transport` (bytes) and a protocol's codec (frames), below a
driver (stimulation states). A subclass names its protocol's commands and answers; this class
does the rest, the same way for every protocol:

* **Numbering and matching.** Host packets are numbered modulo :attr:`packet_modulo`. An answer
  counts only when both its command (one of the request's answers) and its echoed packet number
  match a request in flight; anything else is logged as unexpected (late or unknown) and ignored.
* **Recovery.** No answer within the reply timeout → send the protocol's state query (the
  *probe*); a late answer to the original that arrives meanwhile still counts. If the state shows
  that the command took effect, it is not sent again; otherwise it is resent once. An answer that
  says the command was not executed (a transfer error, busy) also gets one resend. If neither the
  command nor the probe is answered, the link is **lost**.
* **Keep-alive.** A background thread calls :meth:`_keep_alive` whenever nothing was sent for
  ``keepalive_interval_s``; after a loss the thread stops.
* **Immediate sends.** :meth:`send_unconfirmed` writes a frame at once, without waiting for
  anything (the emergency stop); the background thread then confirms it with the same recovery.
* **Audit.** Every frame sent is a ``command`` event and every frame received an ``ack`` event,
  stamped by the monotonic clock, with the frame's bytes.

Requests are serialised (one in flight); only the immediate sends bypass that.
"""

from __future__ import annotations

import abc
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from stimwise.device.frames import DecodedFrame, FrameDecoder, FrameError
from stimwise.device.interface import DeviceError, DeviceTimeoutError, EventStream
from stimwise.device.serial_transport import SerialSettings, SerialTransport

_WRITE_LOCK_WAIT_S = 0.1
"""How long an immediate send waits for a write in progress before it writes anyway."""
_CONFIRM_TIMEOUT_S = 1.0
"""How long the confirmation of an immediate send may take, waiting for a request in flight."""


@dataclass(frozen=True)
class LinkTiming:
    """Timeouts and intervals of the link.

    Attributes
    ----------
    reply_timeout_s
        How long an answer may take before the probe (ScienceMode2 spec §4: 100 ms).
    probe_timeout_s
        How long the probe may take; with the reply timeout, the longest a silent device goes
        unnoticed once an answer is due.
    keepalive_interval_s
        Longest transmit silence before :meth:`FramedLink._keep_alive` runs.
    probe_interval_s
        Longest receive silence before the keep-alive becomes a liveness probe.
    busy_retry_s
        Pause before resending a command the device answered "busy".
    """

    reply_timeout_s: float = 0.1
    probe_timeout_s: float = 0.09
    keepalive_interval_s: float = 0.4
    probe_interval_s: float = 1.0
    busy_retry_s: float = 0.01


@dataclass
class LinkStats:
    """Counters for tests and benchmarks: what the link sent, matched and recovered."""

    sent: int = 0
    answered: int = 0
    unexpected: int = 0
    bad_frames: int = 0
    missing_answers: int = 0
    resends: int = 0


class CommandCancelledError(DeviceError):
    """An emergency stop or a fault overtook the command before it was sent; nothing was sent."""


@dataclass
class _Pending:
    answers: frozenset[int]
    sent_s: float
    frame: DecodedFrame | None = None


@dataclass(frozen=True)
class _Confirm:
    command: int
    packet_number: int
    effect_state: object


_PROBE = "probe"
_QUIT = "quit"


class FramedLink(abc.ABC):
    """One request–answer connection over one serial port (see the module docstring).

    Parameters
    ----------
    port
        The serial port or pty path.
    events
        Where frames (``command``/``ack``) and recovery notes (``info``) are logged.
    clock
        Stamps frames in the events (``clock_s``); waits always use the real monotonic clock.
    on_lost
        Called once when the link is lost (end of file, I/O error, or a silent device).
    idle_probe
        Called by the keep-alive thread after a bad frame (and by :meth:`_keep_alive` as the
        protocol sees fit); it should check the device's state when nothing else is in
        progress and return whether it did.
    timing
        See :class:`LinkTiming`.
    """

    device_name: ClassVar[str]
    """For messages: "the link to the {device_name} is lost"."""
    serial_settings: ClassVar[SerialSettings]
    """The line settings the protocol specifies."""
    packet_modulo: ClassVar[int]
    probe_command: ClassVar[int]
    """The state query sent when an answer is late (its answer goes to :meth:`state_of`)."""
    answer_commands: ClassVar[frozenset[int]]
    """Every command number that answers a request (routed to the request, not to
    :meth:`_device_packet`)."""

    def __init__(
        self,
        port: str,
        *,
        events: EventStream,
        clock: Callable[[], float],
        on_lost: Callable[[str], None],
        idle_probe: Callable[[], bool],
        timing: LinkTiming | None = None,
    ) -> None:
        self.port = port
        self.timing = timing or LinkTiming()
        self.stats = LinkStats()
        self.connected = False
        self.lost_reason: str | None = None
        self._events = events
        self._clock = clock
        self._on_lost = on_lost
        self._idle_probe = idle_probe
        self._transport = SerialTransport(
            port,
            self.serial_settings,
            name=self.device_name,
            on_bytes=self._on_bytes,
            on_lost=self._lose,
        )
        self._decoder = self.new_decoder()
        self._cond = threading.Condition()
        self._pending: dict[int, _Pending] = {}
        self._write_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._jobs: queue.Queue[_Confirm | str] = queue.Queue()
        self._next_number = 0
        self._last_tx_s = self._last_rx_s = time.monotonic()
        self._closed = False
        self._worker: threading.Thread | None = None

    # ------------------------------------------------------------------ the protocol's part

    @abc.abstractmethod
    def new_decoder(self) -> FrameDecoder: ...

    @abc.abstractmethod
    def encode(self, packet_number: int, command: int, data: bytes) -> bytes: ...

    @abc.abstractmethod
    def answers_to(self, command: int) -> frozenset[int]:
        """The commands that may answer ``command`` (empty: it gets no answer)."""

    @abc.abstractmethod
    def command_name(self, command: int) -> str: ...

    @abc.abstractmethod
    def is_unknown_command(self, answer: DecodedFrame) -> bool:
        """Whether ``answer`` says the device does not know the command."""

    @abc.abstractmethod
    def not_executed(self, answer: DecodedFrame) -> tuple[str, float] | None:
        """``(why, pause_s)`` when ``answer`` says the command was not executed and may be
        resent after ``pause_s``; ``None`` when the answer stands."""

    @abc.abstractmethod
    def result_ok(self, answer: DecodedFrame) -> bool:
        """Whether ``answer`` reports success."""

    @abc.abstractmethod
    def state_of(self, answer: DecodedFrame) -> object | None:
        """The device state in a probe's answer, or ``None`` (an error, unreadable)."""

    @abc.abstractmethod
    def _device_packet(self, frame: DecodedFrame) -> None:
        """A valid frame that answers no request (from the reader thread)."""

    @abc.abstractmethod
    def _keep_alive(self) -> None:
        """Runs on the keep-alive thread after ``keepalive_interval_s`` without a transmission."""

    def reply_timeout_s(self, command: int) -> float:
        """How long ``command``'s answer may take before the probe."""
        return self.timing.reply_timeout_s

    # ------------------------------------------------------------------ lifecycle

    @property
    def port_notes(self) -> list[str]:
        """What the port could not do as the protocol asks (for an ``info`` event)."""
        return self._transport.notes

    def _open_transport(self) -> None:
        self._transport.open()

    def _start_keepalive(self) -> None:
        self._worker = threading.Thread(
            target=self._supervise, name=f"{self.device_name} keep-alive {self.port}", daemon=True
        )
        self._worker.start()

    def close(self) -> None:
        """Stop the keep-alive and the reader and close the port; idempotent, never raises."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._jobs.put(_QUIT)
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=1.0)
        self._transport.close()

    # ------------------------------------------------------------------ requests

    def request(
        self,
        command: int,
        data: bytes = b"",
        *,
        effect_state: object | None,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None = None,
    ) -> DecodedFrame | None:
        """Send ``command`` and return its answer, recovering as the module docstring says.

        Parameters
        ----------
        effect_state
            The probe's state that proves the command took effect when its answer is lost.
            ``None`` when the state cannot tell: the command is then resent, which must be safe
            (it sets absolute values).
        deadline_s
            Monotonic time by which everything, resends included, must be done.
        still_wanted
            Checked right before each (re)send, under the write lock: returning ``False`` (an
            emergency stop happened meanwhile) cancels the command with
            :class:`CommandCancelledError`.

        Returns
        -------
        The answer, or ``None`` when its answer was lost but the probe showed ``effect_state``.

        Raises
        ------
        DeviceTimeoutError
            The deadline passed, the link was found lost, or the device answers probes but never
            answered the command, even after a resend.
        DeviceError
            The link is lost or closed, or the device does not know the command.
        """
        with self._serialised(deadline_s, command):
            return self._request_locked(command, data, effect_state, deadline_s, still_wanted)

    def probe(self, deadline_s: float) -> DecodedFrame:
        """The answer to the protocol's state query; raises as :meth:`request` does."""
        with self._serialised(deadline_s, self.probe_command):
            answer, _ = self._exchange(self.probe_command, b"", deadline_s, None)
        return answer

    def send_unconfirmed(self, command: int, effect_state: object) -> None:
        """Write ``command`` now, without waiting for its answer or for a request in flight;
        never raises. The keep-alive thread then confirms it (and resends it if needed).

        Used for the emergency stop: the frame goes out even when the link was declared lost
        (the port may still work while the device is silent).
        """
        confirm = self.connected and self.lost_reason is None
        failure: DeviceError | None = None
        locked = self._write_lock.acquire(timeout=_WRITE_LOCK_WAIT_S)
        try:  # a holder stuck in a write must not delay the stop any further
            number = self._take_number()
            if confirm:
                self._register(number, command)
            self._write_locked(number, command, b"")
        except DeviceError as error:
            failure = error
        finally:
            if locked:
                self._write_lock.release()
        if failure is not None:
            self._lose(str(failure))
        elif confirm:
            self._jobs.put(_Confirm(command, number, effect_state))

    def _request_locked(
        self,
        command: int,
        data: bytes,
        effect_state: object | None,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None,
    ) -> DecodedFrame | None:
        name = self.command_name(command)
        state: object | None = None
        for attempt in (1, 2):
            answer, own = self._exchange(command, data, deadline_s, still_wanted)
            if own and self.is_unknown_command(answer):
                raise DeviceError(f"the {self.device_name} does not know {name}")
            if own:
                refused = self.not_executed(answer)
                if refused is None or attempt == 2:
                    return answer
                why, pause_s = refused
                self._note_resend(name, why)
                if pause_s:
                    threading.Event().wait(pause_s)
                continue
            state = self.state_of(answer)
            if state is not None and state == effect_state:
                self._events.emit(
                    "info",
                    f"{name}: its answer was lost, but the device's state ({_shown(state)}) shows "
                    "that it took effect; not resent",
                    command=name,
                    state=_shown(state),
                )
                return None
            if attempt == 1:
                self._note_resend(name, f"the state ({_shown(state)}) does not show that it "
                                  "took effect")
        raise DeviceTimeoutError(
            f"{name} was not answered, not even after one resend, although the device answers "
            f"its state query (state {_shown(state)})"
        )

    def _exchange(
        self,
        command: int,
        data: bytes,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None,
    ) -> tuple[DecodedFrame, bool]:
        """Send once and return ``(answer, True)``, or ``(probe's answer, False)`` when no answer
        came within the reply timeout; declare the link lost when both stay silent."""
        name = self.command_name(command)
        number = self._send(command, data, still_wanted)
        try:
            reply_s = self.reply_timeout_s(command)
            answer = self._await((number,), self._stage_end(reply_s, deadline_s))
            if answer is None:
                self._check_silence(name, deadline_s)
                self.stats.missing_answers += 1
                self._events.emit(
                    "info",
                    f"no answer to {name} #{number} within {reply_s * 1000:.0f} ms: asking for "
                    "the device's state",
                    command=name,
                    packet_number=number,
                )
                probe = self._send(self.probe_command)
                try:
                    end_s = self._stage_end(self.timing.probe_timeout_s, deadline_s)
                    answer = self._await((number, probe), end_s)
                finally:
                    self._forget(probe)
            if answer is None:
                self._check_silence(name, deadline_s)
                silent_ms = (reply_s + self.timing.probe_timeout_s) * 1000
                message = (
                    f"the device answered neither {name} #{number} nor a state query within "
                    f"{silent_ms:.0f} ms"
                )
                self._lose(message)
                raise DeviceTimeoutError(f"link lost: {message}")
            return answer, answer.packet_number == number
        finally:
            self._forget(number)

    def _check_silence(self, name: str, deadline_s: float) -> None:
        """After a wait that ended without an answer: was the link lost, or the deadline hit?"""
        self._check_usable()
        if time.monotonic() >= deadline_s:
            raise DeviceTimeoutError(f"{name}: no answer within the caller's timeout")

    def _note_resend(self, name: str, why: str) -> None:
        self.stats.resends += 1
        self._events.emit("info", f"{name}: {why}; sending it once more", command=name)

    # ------------------------------------------------------------------ sending

    def _send(
        self, command: int, data: bytes = b"", still_wanted: Callable[[], bool] | None = None
    ) -> int:
        """Number, register (when an answer is expected) and write one frame."""
        try:
            with self._write_lock:
                self._check_usable()
                if still_wanted is not None and not still_wanted():
                    raise CommandCancelledError(
                        f"{self.command_name(command)} was not sent: an emergency stop or a "
                        "fault came first"
                    )
                number = self._take_number()
                if self.answers_to(command):
                    self._register(number, command)
                self._write_locked(number, command, data)
                return number
        except CommandCancelledError:
            raise
        except DeviceError as error:
            if self.lost_reason is None and not self._closed:
                self._lose(str(error))
            raise

    def _take_number(self) -> int:
        number = self._next_number
        self._next_number = (number + 1) % self.packet_modulo
        return number

    def _write_locked(self, number: int, command: int, data: bytes) -> None:
        """Log and write one frame; the caller holds the write lock (or gave up waiting)."""
        frame = self.encode(number, command, data)
        name = self.command_name(command)
        self._events.emit(
            "command",
            f"sent {name} #{number}",
            command=name,
            packet_number=number,
            data=data.hex(" "),
            frame=frame.hex(" "),
            clock_s=self._clock(),
        )
        self._transport.write(frame)
        self._last_tx_s = time.monotonic()
        self.stats.sent += 1

    def _register(self, number: int, command: int) -> None:
        with self._cond:
            self._pending[number] = _Pending(self.answers_to(command), time.monotonic())

    def _forget(self, number: int) -> None:
        with self._cond:
            self._pending.pop(number, None)

    def _await(self, numbers: tuple[int, ...], until_s: float) -> DecodedFrame | None:
        """The first answer (in the order of ``numbers``) by ``until_s``, else ``None``; returns
        early when the link is lost or closed."""

        def answered() -> DecodedFrame | None:
            for number in numbers:
                pending = self._pending.get(number)
                if pending is not None and pending.frame is not None:
                    return pending.frame
            return None

        with self._cond:
            self._cond.wait_for(
                lambda: answered() is not None or self.lost_reason is not None or self._closed,
                timeout=max(0.0, until_s - time.monotonic()),
            )
            return answered()

    @staticmethod
    def _stage_end(stage_s: float, deadline_s: float) -> float:
        return min(time.monotonic() + stage_s, deadline_s)

    @contextlib.contextmanager
    def _serialised(self, deadline_s: float, command: int) -> Iterator[None]:
        if not self.connected:
            self._check_usable()
            raise DeviceError(
                f"the {self.device_name} is not connected (it reset, or the link was never "
                "set up): connect() again"
            )
        if not self._request_lock.acquire(timeout=max(0.0, deadline_s - time.monotonic())):
            raise DeviceTimeoutError(
                f"{self.command_name(command)}: another exchange with the device was still in "
                "progress at the caller's timeout"
            )
        try:
            yield
        finally:
            self._request_lock.release()

    def _check_usable(self) -> None:
        if self.lost_reason is not None:
            raise DeviceError(f"the link to the {self.device_name} is lost: {self.lost_reason}")
        if self._closed:
            raise DeviceError(f"the link to the {self.device_name} is closed")

    # ------------------------------------------------------------------ receiving

    def _on_bytes(self, chunk: bytes) -> None:
        for item in self._decoder.feed(chunk):
            if isinstance(item, FrameError):
                self._bad_frame(item)
            else:
                self._last_rx_s = time.monotonic()
                if item.command in self.answer_commands:
                    self._match(item)
                else:
                    self._log_rx(item)
                    self._device_packet(item)

    def _match(self, frame: DecodedFrame) -> None:
        with self._cond:
            pending = self._pending.get(frame.packet_number)
            matched = (
                pending is not None and pending.frame is None and frame.command in pending.answers
            )
            if pending is not None and matched:
                pending.frame = frame
                self.stats.answered += 1
                self._log_rx(frame, True, (time.monotonic() - pending.sent_s) * 1000)
                self._cond.notify_all()
            else:
                self.stats.unexpected += 1
                self._log_rx(frame, False)

    def _bad_frame(self, error: FrameError) -> None:
        self.stats.bad_frames += 1
        self._events.emit(
            "ack",
            f"bad frame from the device ({error.reason}): ignored",
            frame=error.raw.hex(" "),
            clock_s=self._clock(),
        )
        if self.connected:  # it may have carried an error report: check the state soon
            self._jobs.put(_PROBE)

    def _log_rx(
        self, frame: DecodedFrame, matched: bool | None = None, round_trip_ms: float | None = None
    ) -> None:
        name = self.command_name(frame.command)
        note = " (unexpected: late, or for no request in flight)" if matched is False else ""
        self._events.emit(
            "ack",
            f"received {name} #{frame.packet_number}{note}",
            command=name,
            packet_number=frame.packet_number,
            data=frame.data.hex(" "),
            frame=frame.raw.hex(" "),
            clock_s=self._clock(),
            matched=matched,
            round_trip_ms=round_trip_ms,
        )

    def _lose(self, reason: str) -> None:
        with self._cond:
            if self.lost_reason is not None or self._closed:
                return
            self.lost_reason = reason
            self._cond.notify_all()
        self._jobs.put(_QUIT)
        self._on_lost(reason)

    # ------------------------------------------------------------------ the keep-alive thread

    def _supervise(self) -> None:
        kept_s = 0.0  # when the keep-alive last ran: it waits a whole interval before it runs
        # again, also when it sent nothing because a command was in progress (no spinning)
        while True:
            interval_s = self.timing.keepalive_interval_s
            due_s = max(self._last_tx_s, kept_s) + interval_s
            try:
                job: _Confirm | str | None = self._jobs.get(
                    timeout=max(0.0, due_s - time.monotonic())
                )
            except queue.Empty:
                job = None
            if self._closed or self.lost_reason is not None or not self.connected:
                return
            with contextlib.suppress(DeviceError):  # a loss is reported by _lose already
                if isinstance(job, _Confirm):
                    self._confirm(job)
                elif job == _PROBE:
                    self._idle_probe()
                elif time.monotonic() >= max(self._last_tx_s, kept_s) + interval_s:
                    kept_s = time.monotonic()
                    self._keep_alive()

    @property
    def receive_silence_s(self) -> float:
        """Seconds since the last valid frame arrived."""
        return time.monotonic() - self._last_rx_s

    def _confirm(self, job: _Confirm) -> None:
        """Wait for the answer of an immediate send; without it, send again with recovery. A
        device that still does not confirm is treated as lost."""
        deadline_s = time.monotonic() + _CONFIRM_TIMEOUT_S
        name = self.command_name(job.command)
        with self._serialised(deadline_s, job.command):
            with self._cond:
                pending = self._pending.get(job.packet_number)
                sent_s = time.monotonic() if pending is None else pending.sent_s
            reply_s = self.reply_timeout_s(job.command)
            answer = self._await((job.packet_number,), sent_s + reply_s)
            self._forget(job.packet_number)
            if (
                answer is not None
                and not self.is_unknown_command(answer)
                and self.result_ok(answer)
            ):
                return
            self._note_resend(name, f"#{job.packet_number} was not confirmed in time")
            try:
                again = self._request_locked(job.command, b"", job.effect_state, deadline_s, None)
            except DeviceTimeoutError as error:
                self._lose(f"the device did not confirm {name}: {error}")
                raise
        if again is not None and not self.result_ok(again):
            self._lose(f"the device refused {name}")


def _shown(state: object | None) -> str:
    if state is None:
        return "unknown"
    return str(getattr(state, "name", state))
