"""ScienceMode2 session layer: handshake, packet numbers, Ack matching, recovery and keep-alive.

Above :mod:`~stimwise.device.sciencemode2.transport` (bytes) and the codec (frames), below the
driver (stimulation states). What it guarantees (spec §2.3, §4, §5; fact sheet §11):

* **Handshake.** The device sends Init every 500 ms; the host answers InitAck 0 echoing the Init's
  packet number and confirms with one mode query. An Init *after* that means the device reset
  (its watchdog, or power): the link reports it and refuses further requests.
* **Numbering and matching.** Host packets are numbered 0–255, wrapping. An answer counts only
  when both its command (the request's Ack, or UnknownCommand) and its echoed packet number match
  a request in flight; anything else is logged as unexpected (late or unknown) and ignored.
* **Recovery (§4).** No answer within 100 ms → ask GetStimulationMode; a late Ack of the original
  that arrives meanwhile still counts. If the mode shows the command took effect, it is not sent
  again; otherwise it is resent once. A −1 (transfer error) or −8 (busy) answer also gets one
  resend. If neither the command nor the mode query is answered, the link is **lost**: 100 ms +
  90 ms after the request, so within 200 ms of a reply falling due.
* **Keep-alive.** A background thread sends Watchdog whenever nothing was sent for 400 ms (the
  device resets after 1.2 s of silence) and turns the keep-alive into a mode query when nothing
  was received for 1 s, so a dead device is noticed even while the host is idle. After a loss
  the thread stops: a device that is alive but unreachable then stops itself by its watchdog.
* **Immediate sends.** :meth:`Sm2Link.send_unconfirmed` writes a frame at once, without waiting
  for anything (the emergency stop); the background thread then confirms it with the same
  recovery rule.
* **Audit.** Every frame sent is a ``command`` event and every frame received an ``ack`` event,
  stamped by the monotonic clock, with the frame's bytes.

Requests from users are serialised (one in flight, so the device never answers −8 to them);
only the immediate sends bypass that.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stimwise.device.interface import DeviceError, DeviceTimeoutError, EventStream
from stimwise.device.sciencemode2.codec import (
    ACK_OF,
    Command,
    DecodedFrame,
    FrameDecoder,
    FrameError,
    Result,
    command_name,
    encode_frame,
)
from stimwise.device.sciencemode2.payloads import (
    Ack,
    Init,
    StimulationMode,
    StimulationModeAck,
)
from stimwise.device.sciencemode2.transport import WRITE_TIMEOUT_S, SerialTransport
from stimwise.errors import InputError

_ANSWERS = frozenset({*ACK_OF.values(), Command.UNKNOWN_COMMAND})
_RESENDABLE = frozenset({Result.TRANSFER_ERROR, Result.DEVICE_BUSY})
"""Answers that say the command was not executed, so one resend is safe."""
_CONFIRM_TIMEOUT_S = 1.0
"""How long the confirmation of an immediate send may take, waiting for a request in flight."""


@dataclass(frozen=True)
class LinkTiming:
    """Timeouts and intervals of the session layer (defaults from spec §4 and the brief).

    Attributes
    ----------
    reply_timeout_s
        MaxResponseTime: how long an Ack may take before the mode query (spec: 100 ms).
    probe_timeout_s
        How long the mode query may take. 90 ms keeps "link lost" within 200 ms of the request.
    keepalive_interval_s
        Longest transmit silence before a Watchdog is sent; well under the device's 1.2 s.
    probe_interval_s
        Longest receive silence before the keep-alive becomes a mode query (liveness while idle).
    busy_retry_s
        Pause before resending a command the device answered −8 (busy).
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
    answer: Command
    sent_s: float
    frame: DecodedFrame | None = None


@dataclass(frozen=True)
class _Confirm:
    command: Command
    packet_number: int
    effect_mode: StimulationMode


_PROBE = "probe"
_QUIT = "quit"


class Sm2Link:
    """One ScienceMode2 connection over one serial port.

    Parameters
    ----------
    port
        The serial port or pty path.
    events
        Where frames (``command``/``ack``) and recovery notes (``info``) are logged.
    clock
        Stamps frames in the events (``clock_s``); waits always use the real monotonic clock.
    on_device_packet
        Called from the reader thread with every packet the device starts after the handshake
        (StimulationError, an Init that means a reset, anything unknown).
    on_lost
        Called once when the link is lost (end of file, I/O error, or a silent device).
    idle_probe
        Called by the keep-alive thread when the device has been silent for a while; it should
        run :meth:`query_mode` when nothing else is in progress and return whether it did.
    timing
        See :class:`LinkTiming`.
    """

    def __init__(
        self,
        port: str,
        *,
        events: EventStream,
        clock: Callable[[], float],
        on_device_packet: Callable[[DecodedFrame], None],
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
        self._on_device_packet = on_device_packet
        self._on_lost = on_lost
        self._idle_probe = idle_probe
        self._transport = SerialTransport(port, on_bytes=self._on_bytes, on_lost=self._lose)
        self._decoder = FrameDecoder()
        self._cond = threading.Condition()
        self._pending: dict[int, _Pending] = {}
        self._write_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._inits: queue.Queue[DecodedFrame | None] = queue.Queue()
        self._jobs: queue.Queue[_Confirm | str] = queue.Queue()
        self._next_number = 0
        self._last_tx_s = self._last_rx_s = time.monotonic()
        self._closed = False
        self._worker: threading.Thread | None = None

    @property
    def port_notes(self) -> list[str]:
        """What the port could not do as the spec asks (for an ``info`` event)."""
        notes = []
        if not self._transport.low_latency:
            notes.append(
                f"{self.port} did not accept the low-latency request; on a real FTDI port set its "
                "latency timer to 1 ms (spec §2) to keep Acks fast"
            )
        if not self._transport.even_parity:
            notes.append(f"{self.port} refused even parity (a pty cannot carry it): opened 8N1")
        return notes

    # ------------------------------------------------------------------ lifecycle

    def open(self, deadline_s: float) -> int:
        """Open the port and do the handshake by ``deadline_s`` (monotonic); return the
        protocol version the device announced.

        Raises
        ------
        DeviceTimeoutError
            No Init, or no answer to the confirming mode query, before the deadline.
        DeviceError
            The port cannot be opened or fails.
        """
        self._transport.open()
        try:
            version = self._handshake(deadline_s)
        except BaseException:
            self.close()
            raise
        self._worker = threading.Thread(
            target=self._supervise, name=f"rehastim2-keepalive {self.port}", daemon=True
        )
        self._worker.start()
        return version

    def _handshake(self, deadline_s: float) -> int:
        waited_s = deadline_s - time.monotonic()
        while True:
            try:
                init = self._inits.get(timeout=max(0.0, deadline_s - time.monotonic()))
            except queue.Empty:
                init = None
            self._check_usable()  # a loss wakes this wait with None
            if init is None:
                raise DeviceTimeoutError(
                    f"no Init from a RehaStim 2 on {self.port} within {waited_s:.1f} s: is it "
                    "switched on, and is this its serial port?"
                )
            try:
                version = Init.decode(init.data).version
            except InputError:
                continue
            with self._write_lock:  # InitAck echoes the device's number, not ours
                self._write_locked(init.packet_number, Command.INIT_ACK, Ack(Result.OK).encode())
            number = self._send(Command.GET_STIMULATION_MODE)
            try:
                end_s = min(deadline_s, time.monotonic() + self.timing.reply_timeout_s)
                answer = self._await((number,), end_s)
            finally:
                self._forget(number)
            self._check_usable()
            if answer is not None and answer.command == Command.GET_STIMULATION_MODE_ACK:
                self.connected = True
                return version

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
        command: Command,
        data: bytes = b"",
        *,
        effect_mode: StimulationMode | None,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None = None,
    ) -> Result:
        """Send ``command`` and return the device's result, recovering per spec §4.

        Parameters
        ----------
        effect_mode
            The mode that proves the command took effect when its Ack is lost (StopChannelList
            → start, Init → initialised, the first Start → started). ``None`` when the mode
            cannot tell (an update leaves the device started either way): the command is then
            resent, which is safe because it sets absolute values.
        deadline_s
            Monotonic time by which everything, resends included, must be done.
        still_wanted
            Checked right before each (re)send, under the write lock: returning ``False`` (an
            emergency stop happened meanwhile) cancels the command with
            :class:`CommandCancelledError`.

        Raises
        ------
        DeviceTimeoutError
            The deadline passed, the link was found lost, or the device answers mode queries but
            never acknowledged the command, even after a resend.
        DeviceError
            The link is lost or closed, the device reset, or it does not know the command.
        """
        with self._serialised(deadline_s, command):
            return self._request_locked(command, data, effect_mode, deadline_s, still_wanted)

    def query_mode(self, deadline_s: float) -> StimulationMode:
        """The device's stimulation mode (GetStimulationMode); raises as :meth:`request` does."""
        with self._serialised(deadline_s, Command.GET_STIMULATION_MODE):
            answer = self._exchange(Command.GET_STIMULATION_MODE, b"", deadline_s, None)
        mode = _mode_of(answer)
        if mode is None:
            raise DeviceError(f"the device answered GetStimulationMode with {answer.data.hex()}")
        return mode

    def send_unconfirmed(self, command: Command, effect_mode: StimulationMode) -> None:
        """Write ``command`` now, without waiting for its Ack or for a request in flight; never
        raises. The keep-alive thread then confirms it (and resends it if needed) per §4.

        Used for the emergency stop: the frame goes out even when the link was declared lost
        (the port may still work while the device is silent).
        """
        confirm = self.connected and self.lost_reason is None
        failure: DeviceError | None = None
        locked = self._write_lock.acquire(timeout=WRITE_TIMEOUT_S)
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
            self._jobs.put(_Confirm(command, number, effect_mode))

    def _request_locked(
        self,
        command: Command,
        data: bytes,
        effect_mode: StimulationMode | None,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None,
    ) -> Result:
        name = command_name(command)
        mode: StimulationMode | None = None
        for attempt in (1, 2):
            answer = self._exchange(command, data, deadline_s, still_wanted)
            if answer.command == Command.UNKNOWN_COMMAND:
                raise DeviceError(f"the device does not know {name} (UnknownCommand)")
            if answer.command == ACK_OF[command]:
                result = _result_of(answer)
                if result not in _RESENDABLE or attempt == 2:
                    return result
                self._note_resend(name, f"the device answered {result.name}")
                if result == Result.DEVICE_BUSY:
                    threading.Event().wait(self.timing.busy_retry_s)
                continue
            mode = _mode_of(answer)
            if mode is not None and mode == effect_mode:
                self._events.emit(
                    "info",
                    f"{name}: its Ack was lost, but the device is in mode {mode.name}, so it took "
                    "effect; not resent",
                    command=name,
                    mode=mode.name,
                )
                return Result.OK
            if attempt == 1:
                shown = "unknown" if mode is None else mode.name
                self._note_resend(name, f"the mode ({shown}) does not show that it took effect")
        shown = "unknown" if mode is None else mode.name
        raise DeviceTimeoutError(
            f"{name} was not acknowledged, not even after one resend, although the device "
            f"answers mode queries (mode {shown})"
        )

    def _exchange(
        self,
        command: Command,
        data: bytes,
        deadline_s: float,
        still_wanted: Callable[[], bool] | None,
    ) -> DecodedFrame:
        """Send once and return its answer, or the answer to the §4 mode query sent when none
        came within the reply timeout; declare the link lost when both stay silent."""
        name = command_name(command)
        number = self._send(command, data, still_wanted)
        try:
            end_s = self._stage_end(self.timing.reply_timeout_s, deadline_s)
            answer = self._await((number,), end_s)
            if answer is None:
                self._check_silence(name, deadline_s)
                self.stats.missing_answers += 1
                self._events.emit(
                    "info",
                    f"no answer to {name} #{number} within "
                    f"{self.timing.reply_timeout_s * 1000:.0f} ms: asking for the mode (spec §4)",
                    command=name,
                    packet_number=number,
                )
                probe = self._send(Command.GET_STIMULATION_MODE)
                try:
                    end_s = self._stage_end(self.timing.probe_timeout_s, deadline_s)
                    answer = self._await((number, probe), end_s)
                finally:
                    self._forget(probe)
            if answer is None:
                self._check_silence(name, deadline_s)
                silent_ms = (self.timing.reply_timeout_s + self.timing.probe_timeout_s) * 1000
                message = (
                    f"the device answered neither {name} #{number} nor a mode query within "
                    f"{silent_ms:.0f} ms"
                )
                self._lose(message)
                raise DeviceTimeoutError(f"link lost: {message}")
            return answer
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
        self,
        command: Command,
        data: bytes = b"",
        still_wanted: Callable[[], bool] | None = None,
    ) -> int:
        """Number, register (when an answer is expected) and write one frame."""
        try:
            with self._write_lock:
                self._check_usable()
                if still_wanted is not None and not still_wanted():
                    raise CommandCancelledError(
                        f"{command_name(command)} was not sent: an emergency stop or a fault "
                        "came first"
                    )
                number = self._take_number()
                if command in ACK_OF:
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
        self._next_number = (number + 1) % 256
        return number

    def _write_locked(self, number: int, command: Command, data: bytes) -> None:
        """Log and write one frame; the caller holds the write lock (or gave up waiting)."""
        frame = encode_frame(number, command, data)
        self._events.emit(
            "command",
            f"sent {command_name(command)} #{number}",
            command=command_name(command),
            packet_number=number,
            data=data.hex(" "),
            frame=frame.hex(" "),
            clock_s=self._clock(),
        )
        self._transport.write(frame)
        self._last_tx_s = time.monotonic()
        self.stats.sent += 1

    def _register(self, number: int, command: Command) -> None:
        with self._cond:
            self._pending[number] = _Pending(ACK_OF[command], time.monotonic())

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
    def _serialised(self, deadline_s: float, command: Command) -> Iterator[None]:
        if not self.connected:
            self._check_usable()
            raise DeviceError(
                "the RehaStim 2 is not connected (it reset, or the handshake was not done): "
                "connect() again"
            )
        if not self._request_lock.acquire(timeout=max(0.0, deadline_s - time.monotonic())):
            raise DeviceTimeoutError(
                f"{command_name(command)}: another exchange with the device was still in "
                "progress at the caller's timeout"
            )
        try:
            yield
        finally:
            self._request_lock.release()

    def _check_usable(self) -> None:
        if self.lost_reason is not None:
            raise DeviceError(f"the link to the RehaStim 2 is lost: {self.lost_reason}")
        if self._closed:
            raise DeviceError("the link to the RehaStim 2 is closed")

    # ------------------------------------------------------------------ receiving

    def _on_bytes(self, chunk: bytes) -> None:
        for item in self._decoder.feed(chunk):
            if isinstance(item, FrameError):
                self._bad_frame(item)
            else:
                self._last_rx_s = time.monotonic()
                self._receive(item)

    def _receive(self, frame: DecodedFrame) -> None:
        if frame.command in _ANSWERS:
            self._match(frame)
            return
        self._log_rx(frame)
        if frame.command == Command.INIT and not self.connected:
            self._inits.put(frame)
            return
        if frame.command == Command.INIT:
            self.connected = False
        self._on_device_packet(frame)

    def _match(self, frame: DecodedFrame) -> None:
        with self._cond:
            pending = self._pending.get(frame.packet_number)
            matched = (
                pending is not None
                and pending.frame is None
                and frame.command in (pending.answer, Command.UNKNOWN_COMMAND)
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
        if self.connected:  # it may have been a StimulationError: check the mode soon
            self._jobs.put(_PROBE)

    def _log_rx(
        self, frame: DecodedFrame, matched: bool | None = None, round_trip_ms: float | None = None
    ) -> None:
        name = command_name(frame.command)
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
        self._inits.put(None)
        self._jobs.put(_QUIT)
        self._on_lost(reason)

    # ------------------------------------------------------------------ the keep-alive thread

    def _supervise(self) -> None:
        while True:
            due_s = self._last_tx_s + self.timing.keepalive_interval_s
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
                elif time.monotonic() - self._last_tx_s >= self.timing.keepalive_interval_s:
                    self._keep_alive()

    def _keep_alive(self) -> None:
        silent_s = time.monotonic() - self._last_rx_s
        if silent_s >= self.timing.probe_interval_s and self._idle_probe():
            return
        self._send(Command.WATCHDOG)

    def _confirm(self, job: _Confirm) -> None:
        """Wait for the Ack of an immediate send; without it, send again with recovery. A
        device that still does not confirm is treated as lost (its watchdog then stops it)."""
        deadline_s = time.monotonic() + _CONFIRM_TIMEOUT_S
        name = command_name(job.command)
        with self._serialised(deadline_s, job.command):
            with self._cond:
                pending = self._pending.get(job.packet_number)
                sent_s = time.monotonic() if pending is None else pending.sent_s
            answer = self._await((job.packet_number,), sent_s + self.timing.reply_timeout_s)
            self._forget(job.packet_number)
            if (
                answer is not None
                and answer.command == ACK_OF[job.command]
                and _result_of(answer) == Result.OK
            ):
                return
            self._note_resend(name, f"#{job.packet_number} was not acknowledged in time")
            try:
                result = self._request_locked(job.command, b"", job.effect_mode, deadline_s, None)
            except DeviceTimeoutError as error:
                self._lose(f"the device did not confirm {name}: {error}")
                raise
        if result != Result.OK:
            self._lose(f"the device answered {name} with {result.name}")


def _result_of(answer: DecodedFrame) -> Result:
    try:
        return Ack.decode(answer.data).result
    except InputError as error:
        raise DeviceError(f"unreadable {command_name(answer.command)}: {error.message}") from None


def _mode_of(answer: DecodedFrame) -> StimulationMode | None:
    """The mode in a GetStimulationModeAck, or ``None`` (error result, unreadable, other)."""
    if answer.command != Command.GET_STIMULATION_MODE_ACK:
        return None
    try:
        return StimulationModeAck.decode(answer.data).mode
    except InputError:
        return None
