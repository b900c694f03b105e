"""The RehaStim 2 device model behind the emulator: connection, modes, validation, watchdog.

Pure logic with the time passed in and no I/O, so it is driven by the emulator's single event
loop and can be reasoned about frame by frame. It answers what the spec (§4–§5) prescribes:

* until a host answers Init with InitAck 0 it ignores everything else (InitAck −5 keeps Init
  going);
* modes start → initialised (InitChannelListMode) → started (StartChannelListMode, which also
  updates); StopChannelListMode is valid in every mode; SinglePulse only in start mode; a
  command in the wrong mode gets −3;
* a frame with a bad CRC or length gets its command's Ack with −1; an unknown command gets
  UnknownCommand; MOTOmed requests get −4 (no MOTOmed connected);
* out-of-range parameters get −2 under the ``strict`` policy; the ``lenient`` policy (the
  default, because pyScienceMode's default t2 of 2 ms is under the 8 ms firmware floor) clamps
  them and records a warning. Structural faults (wrong data length, no active channel) get −2
  under both policies. Pulse widths under 20 µs are raised to 20 µs, as the firmware does.

Checks run in the order busy (−8) → mode (−3) → parameters (−2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol, Self, TypeVar

from stimwise.device.frames import DecodedFrame, FrameError
from stimwise.device.sciencemode2.codec import (
    ACK_OF,
    Command,
    Result,
    as_command,
    encode_frame,
    is_motomed_command,
    unsigned_byte,
)
from stimwise.device.sciencemode2.payloads import (
    FIRMWARE_MIN_INTERVAL_MS,
    FIRMWARE_MIN_PULSE_WIDTH_US,
    Ack,
    ChannelSettings,
    Init,
    InitChannelListMode,
    SinglePulse,
    StartChannelListMode,
    StimulationError,
    StimulationErrorCode,
    StimulationMode,
    StimulationModeAck,
    UnknownCommand,
    t1_code_from_ms,
    t2_code_from_ms,
)
from stimwise.device.sciencemode2.pulses import ListSettings, Pulse, PulseTimeline
from stimwise.errors import FieldProblem, InputError

Policy = Literal["strict", "lenient"]
WatchdogPolicy = Literal["enforce", "warn"]
Recorder = Callable[..., None]
"""``record(t_s, kind, message, **detail)``: where the firmware reports what it does."""

_BUSY_CAPABLE = frozenset(
    {
        Command.GET_STIMULATION_MODE,
        Command.INIT_CHANNEL_LIST_MODE,
        Command.START_CHANNEL_LIST_MODE,
        Command.SINGLE_PULSE,
    }
)
"""Requests whose Ack may carry −8 (Stop may not: it must always be obeyed)."""
_MOTOMED_DEVICE_PACKETS = frozenset({58, 60, 89, 90})
"""PhaseResult, ActualValues, MotomedCommandDone, MotomedError: sent by the device only."""
_PSM_MISSTUFFED_GET_MODE = 0x5F
_NO_MOTOMED_MODE = -1


class _Checked(Protocol):
    def problems(self) -> list[FieldProblem]: ...

    def clamped(self) -> Self: ...


_P = TypeVar("_P", bound=_Checked)


@dataclass(frozen=True)
class Outgoing:
    """A packet the device sends; Acks are subject to the emulated latency, the rest are not."""

    command: int
    packet_number: int
    data: bytes
    is_ack: bool
    delay_s: float = 0.0

    def frame(self) -> bytes:
        return encode_frame(self.packet_number, self.command, self.data)


class Firmware:
    """One RehaStim 2's protocol state. Not thread-safe: the emulator calls it under its lock."""

    def __init__(
        self,
        *,
        record: Recorder,
        policy: Policy = "lenient",
        watchdog_timeout_s: float = 1.2,
        watchdog_policy: WatchdogPolicy = "enforce",
        version: int = 1,
    ) -> None:
        self._record = record
        self.policy = policy
        self.watchdog_timeout_s = watchdog_timeout_s
        self.watchdog_policy = watchdog_policy
        self.version = version
        self.timeline = PulseTimeline()
        self.connected = False
        self.mode = StimulationMode.START
        self._counter = 0
        self._init: InitChannelListMode | None = None
        self._last_valid_rx_s = 0.0
        self._watchdog_warned = False

    # ------------------------------------------------------------------ device-initiated packets

    def init_packet(self) -> Outgoing:
        """The next Init, numbered by the device's own counter."""
        return Outgoing(Command.INIT, self._next_counter(), Init(self.version).encode(), False)

    def stimulation_error(self, error: StimulationErrorCode, now_s: float, reason: str) -> Outgoing:
        """Stop everything, return to start mode and report ``error`` (fault injection)."""
        self._stop(now_s)
        self._record(now_s, "fault", f"StimulationError {error.name}: {reason}", error=error.value)
        payload = StimulationError(error).encode()
        return Outgoing(Command.STIMULATION_ERROR, self._next_counter(), payload, False)

    def _next_counter(self) -> int:
        number = self._counter
        self._counter = (self._counter + 1) % 256
        return number

    # ------------------------------------------------------------------ watchdog

    def watchdog_deadline_s(self) -> float | None:
        """When the watchdog fires next, or ``None`` when it cannot (not connected, or warned)."""
        if not self.connected or self._watchdog_warned:
            return None
        return self._last_valid_rx_s + self.watchdog_timeout_s

    def watchdog_expired(self, now_s: float) -> None:
        """No valid packet for the timeout: reset (``enforce``) or only record it (``warn``)."""
        silent_ms = (now_s - self._last_valid_rx_s) * 1000
        if self.watchdog_policy == "warn":
            self._watchdog_warned = True
            self._record(now_s, "warning", f"watchdog: no valid packet for {silent_ms:.0f} ms")
            return
        self.reset(now_s, f"watchdog reset after {silent_ms:.0f} ms")

    def reset(self, now_s: float, reason: str) -> None:
        """Reset (the watchdog, or an injected power glitch): stimulation stops, the connection
        and the channel list are lost, and Init is sent again until a host answers."""
        self._stop(now_s)
        self.connected = False
        self._record(now_s, "state", f"{reason}; sending Init")

    def restart_watchdog(self, now_s: float) -> None:
        """Count the watchdog timeout from ``now_s`` (after the emulated firmware was frozen)."""
        self._last_valid_rx_s = now_s
        self._watchdog_warned = False

    def _note_valid_packet(self, now_s: float) -> None:
        if self._watchdog_warned:
            gap_ms = (now_s - self._last_valid_rx_s) * 1000
            limit_ms = self.watchdog_timeout_s * 1000
            self._record(
                now_s, "warning", f"watchdog gap {gap_ms:.0f} ms > {limit_ms:.0f} ms", gap_ms=gap_ms
            )
            self._watchdog_warned = False
        self._last_valid_rx_s = now_s

    # ------------------------------------------------------------------ receiving

    def receive(
        self, item: DecodedFrame | FrameError, now_s: float, busy: bool = False
    ) -> list[Outgoing]:
        """Handle one decoded item; ``busy`` says a previous Ack is still unsent (−8 allowed)."""
        if isinstance(item, FrameError):
            return self._bad_frame(item, now_s)
        if not self.connected:
            self._before_connection(item, now_s)
            return []
        self._note_valid_packet(now_s)
        command = as_command(item.command)
        if command in (Command.WATCHDOG, Command.INIT_ACK):
            return []
        if command in ACK_OF:
            return [self._request(command, item, now_s, busy)]
        return [self._unexpected(item, now_s)]

    def _bad_frame(self, error: FrameError, now_s: float) -> list[Outgoing]:
        self._record(now_s, "error", f"bad frame: {error.reason}", raw=error.raw.hex(" "))
        command = None if error.command is None else as_command(error.command)
        if not self.connected or command not in ACK_OF:
            return []
        answer = bytes((Result.TRANSFER_ERROR.to_byte(),))
        return [Outgoing(ACK_OF[command], error.packet_number or 0, answer, True)]

    def _before_connection(self, frame: DecodedFrame, now_s: float) -> None:
        if frame.command != Command.INIT_ACK:
            return
        try:
            result = Ack.decode(frame.data).result
        except InputError as error:
            self._record(now_s, "warning", f"unreadable InitAck: {error.message}")
            return
        if result != Result.OK:
            self._record(now_s, "warning", f"InitAck {result.name}: still sending Init")
            return
        self.connected = True
        self._last_valid_rx_s = now_s
        self._record(now_s, "state", "connected")

    def _unexpected(self, frame: DecodedFrame, now_s: float) -> Outgoing:
        command = frame.command
        if _is_motomed_request(command):
            answer = bytes((Result.NO_MOTOMED.to_byte(),))
            return Outgoing(command + 1, frame.packet_number, answer, True)
        if command == _PSM_MISSTUFFED_GET_MODE:
            self._record(
                now_s,
                "warning",
                "command 0x5F: a client mis-stuffed GetStimulationMode (10 XOR 55), "
                "as pyScienceMode does; answering UnknownCommand",
            )
        return Outgoing(
            Command.UNKNOWN_COMMAND, frame.packet_number, UnknownCommand(command).encode(), True
        )

    def _request(self, command: Command, frame: DecodedFrame, now_s: float, busy: bool) -> Outgoing:
        ack = ACK_OF[command]

        def answer(result: Result) -> Outgoing:
            return Outgoing(ack, frame.packet_number, bytes((result.to_byte(),)), True)

        if busy and command in _BUSY_CAPABLE:
            self._record(now_s, "warning", f"{command.name} while busy: -8")
            return answer(Result.DEVICE_BUSY)
        if command == Command.GET_STIMULATION_MODE:
            data = StimulationModeAck(Result.OK, self.mode).encode()
            return Outgoing(ack, frame.packet_number, data, True)
        if command == Command.GET_MOTOMED_MODE:
            return Outgoing(
                ack, frame.packet_number, bytes((unsigned_byte(_NO_MOTOMED_MODE),)), True
            )
        if command == Command.STOP_CHANNEL_LIST_MODE:
            self._stop(now_s)
            return answer(Result.OK)
        allowed = {
            Command.INIT_CHANNEL_LIST_MODE: (StimulationMode.START,),
            Command.START_CHANNEL_LIST_MODE: (StimulationMode.INITIALISED, StimulationMode.STARTED),
            Command.SINGLE_PULSE: (StimulationMode.START,),
        }[command]
        if self.mode not in allowed:
            self._record(now_s, "warning", f"{command.name} in mode {self.mode.name}: -3")
            return answer(Result.WRONG_MODE)
        handler = {
            Command.INIT_CHANNEL_LIST_MODE: self._init_channel_list,
            Command.START_CHANNEL_LIST_MODE: self._start_channel_list,
            Command.SINGLE_PULSE: self._single_pulse,
        }[command]
        try:
            handler(frame.data, now_s)
        except InputError as error:
            self._record(now_s, "warning", f"{command.name} rejected (-2): {error.message}")
            return answer(Result.PARAMETER_ERROR)
        return answer(Result.OK)

    # ------------------------------------------------------------------ commands

    def _init_channel_list(self, data: bytes, now_s: float) -> None:
        payload = self._accept(
            InitChannelListMode.decode(data), now_s, _init_firmware_problems, _init_firmware_fix
        )
        self._init = payload
        self.mode = StimulationMode.INITIALISED
        self._record(now_s, "state", "initialised", channels=list(payload.channels))

    def _start_channel_list(self, data: bytes, now_s: float) -> None:
        init = self._init
        assert init is not None  # guaranteed by the mode check
        request = StartChannelListMode.decode(data)
        if len(request.channels) != len(init.channels):
            raise InputError(
                FieldProblem(
                    "StartChannelListMode.data",
                    f"{len(data)} bytes",
                    f"4 bytes for each of the {len(init.channels)} active channels",
                )
            )
        payload = self._accept(request, now_s)
        groups = max(entry.pulses_per_group for entry in payload.channels)
        t2_ms = init.t2_ms
        period_ms = init.t1_ms
        if period_ms is not None and period_ms < groups * t2_ms:
            self._policy_fix(
                [FieldProblem("t1_ms", period_ms, f"at least {groups} × t2 = {groups * t2_ms} ms")],
                now_s,
            )
            period_ms = groups * t2_ms
        settings = ListSettings(
            period_s=None if period_ms is None else period_ms / 1000,
            t2_s=t2_ms / 1000,
            low_frequency_factor=init.low_frequency_factor,
            low_frequency_channels=frozenset(
                channel
                for channel in init.channels
                if init.low_frequency_channels >> (channel - 1) & 1
            ),
            channels={
                channel: _raise_width(entry)
                for channel, entry in zip(init.channels, payload.channels, strict=True)
            },
        )
        self.timeline.apply(settings, now_s)
        if self.mode != StimulationMode.STARTED:
            self.mode = StimulationMode.STARTED
            self._record(now_s, "state", "started")
        self._record(
            now_s,
            "applied",
            "channel list applied",
            channels={
                c: (e.mode, e.pulse_width_us, e.current_ma) for c, e in settings.channels.items()
            },
        )

    def _single_pulse(self, data: bytes, now_s: float) -> None:
        payload = self._accept(SinglePulse.decode(data), now_s)
        width_us = max(payload.pulse_width_us, FIRMWARE_MIN_PULSE_WIDTH_US)
        if payload.current_ma > 0:
            self.timeline.single(
                Pulse(
                    now_s,
                    payload.channel,
                    payload.current_ma,
                    width_us,
                    "single",
                    0,
                    "single_pulse",
                )
            )

    def _stop(self, now_s: float) -> None:
        self.timeline.stop(now_s)
        if self.mode != StimulationMode.START:
            self._record(now_s, "state", f"stopped from {self.mode.name}")
        self.mode = StimulationMode.START
        self._init = None

    # ------------------------------------------------------------------ validation policy

    def _accept(
        self,
        payload: _P,
        now_s: float,
        firmware_problems: Callable[[_P], list[FieldProblem]] = lambda _: [],
        firmware_fix: Callable[[_P], _P] = lambda payload: payload,
    ) -> _P:
        """Apply the validation policy: ``payload`` as the firmware will use it, or InputError.

        Spec ranges come from the payload itself, firmware rules from the two callables.
        """
        problems = payload.problems() + firmware_problems(payload)
        if not problems:
            return payload
        fixed = firmware_fix(payload.clamped())
        remaining = fixed.problems() + firmware_problems(fixed)
        if remaining:
            raise InputError(remaining)
        self._policy_fix(problems, now_s)
        return fixed

    def _policy_fix(self, problems: list[FieldProblem], now_s: float) -> None:
        """Reject under ``strict``; under ``lenient`` record that the value was clamped."""
        if self.policy == "strict":
            raise InputError(problems)
        text = "; ".join(problem.describe() for problem in problems)
        self._record(now_s, "warning", f"clamped: {text}")


def _init_firmware_problems(payload: InitChannelListMode) -> list[FieldProblem]:
    found = []
    floor = FIRMWARE_MIN_INTERVAL_MS
    if payload.t2_ms < floor:
        found.append(FieldProblem("t2_ms", payload.t2_ms, f"at least {floor} ms (firmware)"))
    if payload.t1_ms is not None and payload.t1_ms < floor:
        found.append(FieldProblem("t1_ms", payload.t1_ms, f"at least {floor} ms (firmware)"))
    if payload.execution != 0:
        found.append(
            FieldProblem("execution", payload.execution, "0 (mode 1 is not implemented in v1.24)")
        )
    return found


def _init_firmware_fix(payload: InitChannelListMode) -> InitChannelListMode:
    floor = FIRMWARE_MIN_INTERVAL_MS
    t1_code = payload.t1_code
    if payload.t1_ms is not None:
        t1_code = max(t1_code, t1_code_from_ms(floor))
    return replace(
        payload,
        t2_code=max(payload.t2_code, t2_code_from_ms(floor)),
        t1_code=t1_code,
        execution=0,
    )


def _is_motomed_request(command: int) -> bool:
    """MOTOmed requests are the even numbers of the block, bar the device's own packets."""
    return (
        is_motomed_command(command) and command % 2 == 0 and command not in _MOTOMED_DEVICE_PACKETS
    )


def _raise_width(entry: ChannelSettings) -> ChannelSettings:
    return replace(entry, pulse_width_us=max(entry.pulse_width_us, FIRMWARE_MIN_PULSE_WIDTH_US))
