"""The plumbing every device emulator shares: a pseudo-terminal, one event loop, answer latency,
link faults and the pulse-log file.

Any serial client — a stimwise driver, pyScienceMode, science-mode-4, a terminal program — opens
the slave path (``emulator.port``, e.g. ``/dev/pts/7``) as if it were the device's USB-serial
port. The emulator owns the master end, keeps its own slave descriptor open (otherwise reads on
the master fail with EIO once the client closes), puts the line in raw mode and writes every
frame with one ``write()`` (some clients stop reading at a chunk that ends a frame).

One thread runs everything: it waits in ``poll()`` on the master and a wake-up pipe with a timeout
set by the next deadline (a device timer, a delayed answer, the pulse-log flush), so nothing
busy-waits, and all protocol state changes happen under one lock. A subclass supplies the device:
how received frames are answered (:meth:`PtyEmulator._receive`), its own timers
(:meth:`PtyEmulator._timers`) and its virtual output (:attr:`PtyEmulator.timeline`).

A command takes effect when its frame arrives; the answer follows after the configured latency.
A late answer therefore looks, to the host, like a lost one for a command that did run — what a
driver's recovery (wait, ask for the state, resend if needed) is for.

Faults every emulator can inject: frames lost in either direction, a corrupted frame, late
answers, a hang (nothing answered or sent, timers frozen, output carrying on unchanged: the worst
case a driver must survive) and an unplugged port.
"""

from __future__ import annotations

import abc
import contextlib
import heapq
import json
import os
import random
import select
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Literal, Protocol, Self, cast

from stimwise.device.frames import DecodedFrame, FrameDecoder, FrameError
from stimwise.errors import FieldProblem, InputError

EventKind = Literal["rx", "tx", "state", "applied", "warning", "fault", "error"]
_MAX_POLL_S = 0.5
_PULSE_FLUSH_S = 0.1
_MAX_EVENTS = 100_000


@dataclass(frozen=True)
class EmulatorEvent:
    """Something the emulator received, sent, changed or noticed; ``t_s`` is monotonic seconds.

    Kinds: ``rx`` (a valid frame: detail command, packet_number, data), ``tx`` (a frame sent),
    ``state`` (connection and mode changes), ``applied`` (settings as applied), ``warning``
    (clamped values, rejections, timer gaps, protocol oddities), ``fault`` (injected faults),
    ``error`` (frames that failed their checks).
    """

    t_s: float
    kind: EventKind
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)


class Outgoing(Protocol):
    """A frame the device sends; answers (``is_ack``) leave ``delay_s`` after the emulated
    latency."""

    @property
    def command(self) -> int: ...

    @property
    def delay_s(self) -> float: ...

    @property
    def packet_number(self) -> int: ...

    @property
    def is_ack(self) -> bool: ...

    def frame(self) -> bytes: ...


class Timeline(Protocol):
    """The device's virtual output: every pulse with ``since_s ≤ t_s < until_s``, in order."""

    def pulses(self, since_s: float, until_s: float) -> Sequence[LoggedPulse]: ...


class LoggedPulse(Protocol):
    @property
    def t_s(self) -> float: ...

    def to_json(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class PtyEmulatorConfig:
    """What every emulator's link does.

    Attributes
    ----------
    ack_latency_ms, ack_jitter_ms
        Delay of every answer, plus a uniform random extra of up to ``ack_jitter_ms``.
    pulse_log_path
        Append every delivered pulse to this JSONL file (flushed every 100 ms).
    seed
        Seed of the jitter's random generator, for reproducible runs.
    """

    ack_latency_ms: float = 5.0
    ack_jitter_ms: float = 0.0
    pulse_log_path: Path | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise InputError(problems, source="emulator configuration")

    def problems(self) -> list[FieldProblem]:
        """Every field outside its range (subclasses add theirs first)."""
        return [
            FieldProblem(name, value, "≥ 0")
            for name, value in (
                ("ack_latency_ms", self.ack_latency_ms),
                ("ack_jitter_ms", self.ack_jitter_ms),
            )
            if not value >= 0
        ]


@dataclass
class _Faults:
    drop_rx: int = 0
    drop_tx: int = 0
    corrupt_tx: int = 0
    extra_delay_s: float = 0.0
    hung: bool = False
    close_pty: bool = False


class PtyEmulator(abc.ABC):
    """An emulated device on a pty. Use as a context manager, or ``start()`` and ``close()``.

    Parameters
    ----------
    config
        The link behaviour (a device's config extends :class:`PtyEmulatorConfig`).
    link_path
        Also publish the slave path as this symlink (replaced if it is already a symlink).
    on_event
        Called with every :class:`EmulatorEvent`, from the emulator's thread and under its lock:
        keep it short (the CLI prints).
    """

    thread_name: ClassVar[str]
    expected_baud: ClassVar[int]
    """The rate the device's protocol specifies: the first frame warns once if the host did
    not set it (a pty cannot show parity, stop bits or flow control)."""
    checksum_index: ClassVar[int]
    """Offset of a checksum byte in a frame: :meth:`corrupt_next_frame` flips it."""

    def __init__(
        self,
        config: PtyEmulatorConfig,
        *,
        link_path: Path | None = None,
        on_event: Callable[[EmulatorEvent], None] | None = None,
    ) -> None:
        self._link_config = config
        self._on_event = on_event
        self._lock = threading.RLock()
        self._events: deque[EmulatorEvent] = deque(maxlen=_MAX_EVENTS)
        self._faults = _Faults()
        self._decoder = self._new_decoder()
        self._random = random.Random(config.seed)
        self._outbox: list[tuple[float, int, Outgoing]] = []
        self._sequence = 0
        self._baud_checked = False
        self._pulse_file: IO[str] | None = None
        self._pulses_written_until_s = time.monotonic()
        self._next_flush_s = 0.0
        self._thread: threading.Thread | None = None
        self._closing = False
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)  # on Linux this sets the pair's line discipline: no echo
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self.link_path = link_path
        if link_path is not None:
            if link_path.is_symlink():
                link_path.unlink()
            link_path.symlink_to(self.port)

    # ------------------------------------------------------------------ the device's part

    @abc.abstractmethod
    def _new_decoder(self) -> FrameDecoder: ...

    @property
    @abc.abstractmethod
    def timeline(self) -> Timeline: ...

    @abc.abstractmethod
    def _receive(self, item: DecodedFrame | FrameError, now_s: float) -> list[Outgoing]:
        """Handle one decoded item (under the lock, a valid frame already logged as ``rx``);
        return what to answer."""

    @abc.abstractmethod
    def _timers(self, now_s: float) -> list[float]:
        """Run the device's timers due at ``now_s`` (under the lock, not while hung; may
        :meth:`_send`); return their next deadlines."""

    @abc.abstractmethod
    def _thawed(self, now_s: float) -> None:
        """The hang ended at ``now_s``: restart the device's timers from now."""

    @abc.abstractmethod
    def _command_name(self, command: int) -> str: ...

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start the device thread."""
        if self._thread is None:
            if self._link_config.pulse_log_path is not None:
                self._pulse_file = self._link_config.pulse_log_path.open("a", encoding="utf-8")
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread, flush the pulse log, close the pty and remove the link; idempotent."""
        with self._lock:
            self._closing = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self._flush_pulses(time.monotonic())
            if self._pulse_file is not None:
                self._pulse_file.close()
                self._pulse_file = None
            self._close_pty()
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake_r = self._wake_w = -1

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ observation

    def events(self, kind: EventKind | None = None) -> list[EmulatorEvent]:
        """A snapshot of the event log, optionally only one kind."""
        with self._lock:
            return [e for e in self._events if kind is None or e.kind == kind]

    def received(self) -> list[int]:
        """The command number of every valid frame received, in order."""
        return [cast(int, e.detail["command"]) for e in self.events("rx")]

    def pulse_log(
        self, since_s: float | None = None, until_s: float | None = None
    ) -> list[LoggedPulse]:
        """Delivered pulses with ``since_s ≤ t_s < until_s`` (monotonic seconds), in time order.

        ``until_s`` is capped at now: pulses still in the future are not delivered yet (a stop
        may still cancel them).
        """
        with self._lock:
            now_s = time.monotonic()
            until = now_s if until_s is None else min(until_s, now_s)
            return list(self.timeline.pulses(-1.0 if since_s is None else since_s, until))

    # ------------------------------------------------------------------ link faults

    def drop_frames(self, count: int, direction: Literal["rx", "tx"] = "rx") -> None:
        """Lose the next ``count`` frames received from (``rx``) or sent to (``tx``) the host."""
        with self._lock:
            if direction == "rx":
                self._faults.drop_rx += count
            else:
                self._faults.drop_tx += count
            self._record(time.monotonic(), "fault", f"dropping the next {count} {direction} frames")

    def corrupt_next_frame(self) -> None:
        """Send the next frame with a wrong checksum."""
        with self._lock:
            self._faults.corrupt_tx += 1
            self._record(time.monotonic(), "fault", "corrupting the next tx frame")

    def delay_acks(self, extra_ms: float) -> None:
        """Delay every later answer by ``extra_ms`` on top of the latency (0 ends it)."""
        with self._lock:
            self._faults.extra_delay_s = extra_ms / 1000
            self._record(time.monotonic(), "fault", f"delaying acks by {extra_ms:g} ms")
        self._wake()

    def set_hung(self, hung: bool) -> None:
        """Hang (or un-hang) the firmware: nothing is answered or sent and its timers are frozen,
        while the output carries on unchanged — the worst case a driver must survive."""
        with self._lock:
            self._faults.hung = hung
            if not hung:
                self._thawed(time.monotonic())
            self._record(time.monotonic(), "fault", "hung" if hung else "no longer hung")
        self._wake()

    def close_pty(self) -> None:
        """Unplug: close the pty. The host reads end-of-file (pyserial raises SerialException)
        and its writes fail with EIO; the emulator's thread ends."""
        with self._lock:
            self._faults.close_pty = True
            self._record(time.monotonic(), "fault", "closing the pty")
        self._wake()

    # ------------------------------------------------------------------ the device thread

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        poller.register(self._master, select.POLLIN)
        while True:
            with self._lock:
                if self._closing:
                    return
                if self._faults.close_pty:
                    self._close_pty()
                    return
                timeout_s = self._due(time.monotonic())
            for fd, _ in poller.poll(timeout_s * 1000):
                if fd == self._wake_r:
                    os.read(self._wake_r, 512)
                elif not self._read_master():
                    poller.unregister(self._master)

    def _read_master(self) -> bool:
        try:
            chunk = os.read(self._master, 4096)
        except BlockingIOError:
            return True
        except OSError as error:
            with self._lock:
                self._record(time.monotonic(), "error", f"pty read failed: {error}")
            return False
        with self._lock:
            now_s = time.monotonic()
            if self._faults.hung:
                return True
            for item in self._decoder.feed(chunk):
                if self._faults.drop_rx:
                    self._faults.drop_rx -= 1
                    self._record(now_s, "fault", "dropped a received frame")
                    continue
                self._check_baud(now_s)
                if isinstance(item, DecodedFrame):
                    self._record(
                        now_s,
                        "rx",
                        self._command_name(item.command),
                        command=item.command,
                        packet_number=item.packet_number,
                        data=item.data.hex(" "),
                    )
                for out in self._receive(item, now_s):
                    self._schedule(out, now_s, out.delay_s)
        return True

    def _answer_pending(self) -> bool:
        """Whether an earlier answer is still waiting for its latency (the device is busy)."""
        return any(out.is_ack for _, _, out in self._outbox)

    def _due(self, now_s: float) -> float:
        """Do whatever is due at ``now_s``; return how long the loop may sleep."""
        deadlines = [now_s + _MAX_POLL_S]
        if self._pulse_file is not None and now_s >= self._next_flush_s:
            self._flush_pulses(now_s)
            self._next_flush_s = now_s + _PULSE_FLUSH_S
        if self._pulse_file is not None:
            deadlines.append(self._next_flush_s)
        if self._faults.hung:
            self._outbox.clear()
            return max(0.0, min(deadlines) - now_s)
        deadlines += self._timers(now_s)
        while self._outbox and self._outbox[0][0] <= now_s:
            self._send(heapq.heappop(self._outbox)[2])
        if self._outbox:
            deadlines.append(self._outbox[0][0])
        return max(0.0, min(deadlines) - now_s)

    def _schedule(self, out: Outgoing, now_s: float, delay_s: float = 0.0) -> None:
        """Queue ``out`` after the answer latency (plus ``delay_s``), never before an answer
        queued earlier (FIFO)."""
        config = self._link_config
        delay_s += config.ack_latency_ms / 1000 + self._faults.extra_delay_s
        if config.ack_jitter_ms:
            delay_s += self._random.uniform(0, config.ack_jitter_ms / 1000)
        due_s = max([now_s + delay_s] + [when for when, _, _ in self._outbox])
        self._sequence += 1
        heapq.heappush(self._outbox, (due_s, self._sequence, out))

    def _send(self, out: Outgoing) -> None:
        if self._faults.hung:
            return
        now_s = time.monotonic()
        name = self._command_name(out.command)
        if self._faults.drop_tx:
            self._faults.drop_tx -= 1
            self._record(now_s, "fault", f"dropped outgoing {name}")
            return
        frame = out.frame()
        if self._faults.corrupt_tx:
            self._faults.corrupt_tx -= 1
            at = self.checksum_index
            frame = frame[:at] + bytes((frame[at] ^ 0xFF,)) + frame[at + 1 :]
        try:
            os.write(self._master, frame)
        except OSError as error:  # the host is not reading and the pty buffer is full
            self._record(now_s, "error", f"could not send {name}: {error}")
            return
        self._record(
            now_s,
            "tx",
            name,
            command=out.command,
            packet_number=out.packet_number,
            frame=frame.hex(" "),
        )

    def _check_baud(self, now_s: float) -> None:
        """Warn once if the host did not set the protocol's baud rate."""
        if self._baud_checked:
            return
        self._baud_checked = True
        speed = termios.tcgetattr(self._master)[5]
        if speed != getattr(termios, f"B{self.expected_baud}", None):
            self._record(
                now_s, "warning", f"the host did not set {self.expected_baud} baud", speed=speed
            )

    def _flush_pulses(self, now_s: float) -> None:
        if self._pulse_file is None or now_s <= self._pulses_written_until_s:
            return
        pulses = self.timeline.pulses(self._pulses_written_until_s, now_s)
        self._pulses_written_until_s = now_s
        if pulses:
            self._pulse_file.writelines(json.dumps(p.to_json()) + "\n" for p in pulses)
            self._pulse_file.flush()

    def _record(self, t_s: float, kind: EventKind, message: str, **detail: object) -> None:
        event = EmulatorEvent(t_s, kind, message, detail)
        self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1
        if self.link_path is not None and self.link_path.is_symlink():
            self.link_path.unlink()
