"""A RehaStim 2 (ScienceMode2) emulator on a pseudo-terminal, for tests and demos without hardware.

Any serial client — the stimwise driver, pyScienceMode, a terminal program — opens the slave path
(``emulator.port``, e.g. ``/dev/pts/7``) as if it were the device's FTDI port. The emulator owns
the master end, keeps its own slave descriptor open (otherwise reads on the master fail with EIO
once the client closes), puts the line in raw mode and writes every frame with one ``write()``
(pyScienceMode stops reading at a chunk that ends in 0F).

One thread runs everything: it waits in ``poll()`` on the master and a wake-up pipe with a timeout
set by the next deadline (Init repetition, a delayed Ack, the watchdog, the pulse-log flush), so
nothing busy-waits, and all protocol state changes happen under one lock. The device logic is in
:mod:`~stimwise.device.sciencemode2.firmware`; the virtual output in
:mod:`~stimwise.device.sciencemode2.pulses`.

A command takes effect when its frame arrives; the Ack follows after the configured latency. A
late Ack therefore looks, to the host, like a lost one for a command that did run — exactly what
the spec's recovery rule (wait 100 ms, query the mode, resend if needed) is for.

With ``watchdog_policy="enforce"`` a reset is silent to pyScienceMode: it never notices the Init
that follows and keeps sending commands, which are then ignored. Use ``warn`` for pSM sessions
(its keep-alive gaps reach about 1.6 s).
"""

from __future__ import annotations

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self, cast

from stimwise.device.sciencemode2.codec import FrameDecoder, command_name
from stimwise.device.sciencemode2.firmware import (
    EventKind,
    Firmware,
    Outgoing,
    Policy,
    WatchdogPolicy,
)
from stimwise.device.sciencemode2.payloads import StimulationErrorCode, StimulationMode
from stimwise.device.sciencemode2.pulses import Pulse
from stimwise.errors import FieldProblem, InputError

_MAX_POLL_S = 0.5
_PULSE_FLUSH_S = 0.1
_MAX_EVENTS = 100_000


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulated RehaStim 2 behaves; defaults follow the spec except where noted.

    Attributes
    ----------
    policy
        ``lenient`` (default) clamps out-of-range parameters and records a warning; ``strict``
        answers them with −2 as the firmware would.
    watchdog_timeout_ms, watchdog_policy
        No valid packet for this long → ``enforce``: stop, reset modes, send Init again;
        ``warn``: only record it (needed for pyScienceMode, whose gaps reach 1.6 s).
    init_interval_ms
        Init repetition time until the host answers InitAck 0.
    ack_latency_ms, ack_jitter_ms
        Delay of every Ack, plus a uniform random extra of up to ``ack_jitter_ms``.
    busy_when_pending
        Answer −8 to a command that arrives while an earlier Ack is still unsent.
    pulse_log_path
        Append every delivered pulse to this JSONL file (flushed every 100 ms).
    seed
        Seed of the jitter's random generator, for reproducible runs.
    """

    policy: Policy = "lenient"
    watchdog_timeout_ms: float = 1200.0
    watchdog_policy: WatchdogPolicy = "enforce"
    init_interval_ms: float = 500.0
    ack_latency_ms: float = 5.0
    ack_jitter_ms: float = 0.0
    busy_when_pending: bool = False
    pulse_log_path: Path | None = None
    protocol_version: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = [
            FieldProblem(name, value, expected)
            for name, value, expected, ok in (
                ("policy", self.policy, "strict or lenient", self.policy in ("strict", "lenient")),
                (
                    "watchdog_policy",
                    self.watchdog_policy,
                    "enforce or warn",
                    self.watchdog_policy in ("enforce", "warn"),
                ),
                (
                    "watchdog_timeout_ms",
                    self.watchdog_timeout_ms,
                    "> 0",
                    self.watchdog_timeout_ms > 0,
                ),
                ("init_interval_ms", self.init_interval_ms, "> 0", self.init_interval_ms > 0),
                ("ack_latency_ms", self.ack_latency_ms, "≥ 0", self.ack_latency_ms >= 0),
                ("ack_jitter_ms", self.ack_jitter_ms, "≥ 0", self.ack_jitter_ms >= 0),
                (
                    "protocol_version",
                    self.protocol_version,
                    "0 to 255",
                    0 <= self.protocol_version <= 255,
                ),
            )
            if not ok
        ]
        if problems:
            raise InputError(problems, source="emulator configuration")


@dataclass(frozen=True)
class EmulatorEvent:
    """Something the emulator received, sent, changed or noticed; ``t_s`` is monotonic seconds.

    Kinds: ``rx`` (a valid frame: detail command, packet_number, data), ``tx`` (a frame sent),
    ``state`` (connection and mode changes), ``applied`` (channel-list settings as applied:
    detail channels maps channel → (mode, width µs, current mA)), ``warning`` (clamped values,
    rejections, watchdog gaps, protocol oddities), ``fault`` (injected faults), ``error``
    (frames that failed their checks).
    """

    t_s: float
    kind: EventKind
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass
class _Faults:
    drop_rx: int = 0
    drop_tx: int = 0
    corrupt_tx: int = 0
    extra_delay_s: float = 0.0
    hung: bool = False
    close_pty: bool = False


class RehaStim2Emulator:
    """An emulated RehaStim 2 on a pty. Use as a context manager, or ``start()`` and ``close()``.

    Parameters
    ----------
    config
        Behaviour; see :class:`EmulatorConfig`.
    link_path
        Also publish the slave path as this symlink (replaced if it is already a symlink).
    on_event
        Called with every :class:`EmulatorEvent`, from the emulator's thread and under its lock:
        keep it short (the CLI prints).
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        link_path: Path | None = None,
        on_event: Callable[[EmulatorEvent], None] | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self._on_event = on_event
        self._lock = threading.RLock()
        self._events: deque[EmulatorEvent] = deque(maxlen=_MAX_EVENTS)
        self._firmware = Firmware(
            record=self._record,
            policy=self.config.policy,
            watchdog_timeout_s=self.config.watchdog_timeout_ms / 1000,
            watchdog_policy=self.config.watchdog_policy,
            version=self.config.protocol_version,
        )
        self._faults = _Faults()
        self._decoder = FrameDecoder()
        self._random = random.Random(self.config.seed)
        self._outbox: list[tuple[float, int, Outgoing]] = []
        self._sequence = 0
        self._next_init_s: float | None = None
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

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start the device thread; Init goes out at once and then every ``init_interval_ms``."""
        if self._thread is None:
            if self.config.pulse_log_path is not None:
                self._pulse_file = self.config.pulse_log_path.open("a", encoding="utf-8")
            self._thread = threading.Thread(
                target=self._run, name="rehastim2-emulator", daemon=True
            )
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

    @property
    def connected(self) -> bool:
        """Whether a host has completed the handshake (and no watchdog reset followed)."""
        with self._lock:
            return self._firmware.connected

    @property
    def mode(self) -> StimulationMode:
        with self._lock:
            return self._firmware.mode

    def events(self, kind: EventKind | None = None) -> list[EmulatorEvent]:
        """A snapshot of the event log, optionally only one kind."""
        with self._lock:
            return [e for e in self._events if kind is None or e.kind == kind]

    def received(self) -> list[int]:
        """The command byte of every valid frame received, in order (Watchdogs included)."""
        return [cast(int, e.detail["command"]) for e in self.events("rx")]

    def pulse_log(self, since_s: float | None = None, until_s: float | None = None) -> list[Pulse]:
        """Delivered pulses with ``since_s ≤ t_s < until_s`` (monotonic seconds), in time order.

        ``until_s`` is capped at now: pulses still in the future are not delivered yet (a stop
        may still cancel them).
        """
        with self._lock:
            now_s = time.monotonic()
            until = now_s if until_s is None else min(until_s, now_s)
            return self._firmware.timeline.pulses(-1.0 if since_s is None else since_s, until)

    # ------------------------------------------------------------------ fault injection

    def inject_electrode_error(self, channel: int) -> None:
        """Electrode error on ``channel`` (1–8): StimulationError −2, stimulation stops."""
        if not 1 <= channel <= 8:
            raise InputError(FieldProblem("channel", channel, "a channel number from 1 to 8"))
        self._stimulation_error(
            StimulationErrorCode.ELECTRODE, f"electrode error on channel {channel}"
        )

    def inject_emergency_switch(self) -> None:
        """Emergency switch pressed: StimulationError −1, stimulation stops."""
        self._stimulation_error(StimulationErrorCode.EMERGENCY_SWITCH, "emergency switch")

    def inject_module_error(self) -> None:
        """Stimulation module error: StimulationError −3, stimulation stops."""
        self._stimulation_error(StimulationErrorCode.MODULE, "stimulation module error")

    def inject_reset(self) -> None:
        """The device resets (a power glitch): stimulation stops, the host's connection and the
        channel list are lost, and Init is sent again every ``init_interval_ms``."""
        with self._lock:
            self._firmware.reset(time.monotonic(), "reset (injected power glitch)")
        self._wake()

    def drop_frames(self, count: int, direction: Literal["rx", "tx"] = "rx") -> None:
        """Lose the next ``count`` frames received from (``rx``) or sent to (``tx``) the host."""
        with self._lock:
            if direction == "rx":
                self._faults.drop_rx += count
            else:
                self._faults.drop_tx += count
            self._record(time.monotonic(), "fault", f"dropping the next {count} {direction} frames")

    def corrupt_next_frame(self) -> None:
        """Send the next frame with a wrong CRC."""
        with self._lock:
            self._faults.corrupt_tx += 1
            self._record(time.monotonic(), "fault", "corrupting the next tx frame")

    def delay_acks(self, extra_ms: float) -> None:
        """Delay every later Ack by ``extra_ms`` on top of the latency (0 ends it)."""
        with self._lock:
            self._faults.extra_delay_s = extra_ms / 1000
            self._record(time.monotonic(), "fault", f"delaying acks by {extra_ms:g} ms")
        self._wake()

    def set_hung(self, hung: bool) -> None:
        """Hang (or un-hang) the firmware: nothing is answered or sent and the watchdog is frozen,
        while the output carries on unchanged — the worst case a driver must survive."""
        with self._lock:
            self._faults.hung = hung
            if not hung:
                self._firmware.restart_watchdog(time.monotonic())
            self._record(time.monotonic(), "fault", "hung" if hung else "no longer hung")
        self._wake()

    def close_pty(self) -> None:
        """Unplug: close the pty. The host reads end-of-file (pyserial raises SerialException)
        and its writes fail with EIO; the emulator's thread ends."""
        with self._lock:
            self._faults.close_pty = True
            self._record(time.monotonic(), "fault", "closing the pty")
        self._wake()

    def _stimulation_error(self, error: StimulationErrorCode, reason: str) -> None:
        with self._lock:
            self._send(self._firmware.stimulation_error(error, time.monotonic(), reason))
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
                busy = self.config.busy_when_pending and any(o.is_ack for _, _, o in self._outbox)
                for out in self._firmware.receive(item, now_s, busy):
                    self._schedule(out, now_s)
        return True

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
        firmware = self._firmware
        deadline = firmware.watchdog_deadline_s()
        if deadline is not None and deadline <= now_s:
            firmware.watchdog_expired(now_s)
            deadline = firmware.watchdog_deadline_s()
        if deadline is not None:
            deadlines.append(deadline)
        if firmware.connected:
            self._next_init_s = None
        else:
            if self._next_init_s is None or self._next_init_s <= now_s:
                self._send(firmware.init_packet())
                self._next_init_s = now_s + self.config.init_interval_ms / 1000
            deadlines.append(self._next_init_s)
        while self._outbox and self._outbox[0][0] <= now_s:
            self._send(heapq.heappop(self._outbox)[2])
        if self._outbox:
            deadlines.append(self._outbox[0][0])
        return max(0.0, min(deadlines) - now_s)

    def _schedule(self, out: Outgoing, now_s: float) -> None:
        """Queue ``out`` after the Ack latency, never before an Ack queued earlier (FIFO)."""
        delay_s = self.config.ack_latency_ms / 1000 + self._faults.extra_delay_s
        if self.config.ack_jitter_ms:
            delay_s += self._random.uniform(0, self.config.ack_jitter_ms / 1000)
        due_s = max([now_s + delay_s] + [when for when, _, _ in self._outbox])
        self._sequence += 1
        heapq.heappush(self._outbox, (due_s, self._sequence, out))

    def _send(self, out: Outgoing) -> None:
        if self._faults.hung:
            return
        now_s = time.monotonic()
        name = command_name(out.command)
        if self._faults.drop_tx:
            self._faults.drop_tx -= 1
            self._record(now_s, "fault", f"dropped outgoing {name}")
            return
        frame = out.frame()
        if self._faults.corrupt_tx:
            self._faults.corrupt_tx -= 1
            frame = frame[:2] + bytes((frame[2] ^ 0xFF,)) + frame[3:]
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
        """Warn once if the host did not set 460800 baud (the pty cannot show the parity)."""
        if self._baud_checked:
            return
        self._baud_checked = True
        speed = termios.tcgetattr(self._master)[5]
        if speed != termios.B460800:
            self._record(now_s, "warning", "the host did not set 460800 baud", speed=speed)

    def _flush_pulses(self, now_s: float) -> None:
        if self._pulse_file is None or now_s <= self._pulses_written_until_s:
            return
        pulses = self._firmware.timeline.pulses(self._pulses_written_until_s, now_s)
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
