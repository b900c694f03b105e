"""The RehaMove P24 device model behind the emulator: levels, validation, the keep-alive rule.

Pure logic with the time passed in and no I/O, driven by the emulator's single event loop. What
it answers (P24 instructions for use, tables 4–27; C library; ``docs/reference/sciencemode4.md``
with confidence marks for what is inferred):

* **General layer.** Get_device_id, Get_stim_status (level and high voltage),
  Get_extended_version, Reset (answered, then everything stops and no level is active).
* **Levels.** One level at a time: Ll_init enters the low level, Ml_init the mid level; a
  command of the other level, or of a level not initialised, gets result 7 (not initialised).
  Ll_stop and Ml_stop leave their level and switch the high voltage off; each is answered 0
  whenever its own level is not the other one (so a repeated stop is harmless).
* **Mid level.** Ml_update starts or changes the channels' point lists and periods (channels left
  out are switched off); Ml_get_current_data reports which channels run and each one's error
  state. The stimulation stops by itself when neither arrives for 2 s (the keep-alive rule).
* **Low level.** Each enabled Ll_channel_config fires its point list once, after the pulses
  already queued; its answer comes when the pulse has run.
* **Validation.** A structural fault or a value out of range (a current above 130 mA, a period
  outside 0.25–16383.5 ms, channels whose pulses do not fit their periods) gets result 2; a bad
  checksum or length gets General_error with result 1 echoing the packet number; an unknown
  command gets Unknown_cmd with result 11.
* **Faults.** An electrode error stops the channel (every channel when Ml_init asked to stop on
  all errors) and is reported by Ml_get_current_data (result 10 and the channel's state) or, at
  the low level, by the pulse's answer; a reset stops everything and forgets the level.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from stimwise.device.frames import DecodedFrame, FrameError
from stimwise.device.sciencemode4.codec import (
    ACK_OF,
    Command,
    Result,
    as_command,
    command_name,
    encode_frame,
)
from stimwise.device.sciencemode4.payloads import (
    CHANNELS,
    ChannelPoint,
    ChannelState,
    GetDeviceIdAck,
    GetExtendedVersionAck,
    GetStimStatusAck,
    HighVoltage,
    LlChannelConfig,
    LlChannelConfigAck,
    LlInit,
    MlGetCurrentData,
    MlGetCurrentDataAck,
    MlInit,
    MlUpdate,
    ResultAck,
    StimStatus,
)
from stimwise.device.sciencemode4.pulses import PulseTimeline, Shape
from stimwise.errors import FieldProblem, InputError

Recorder = Callable[..., None]
"""``record(t_s, kind, message, **detail)``: where the firmware reports what it does."""

CURRENT_LIMIT_MA = 130.0
"""The P24's output range, 0–130 mA (instructions for use, technical specification)."""
PULSE_OVERHEAD_US = 60
"""Time the device adds to each pulse for its duty check (C library ``check_parameters``:
40 µs mute + 20 µs reserve)."""
DUTY_LIMIT_MS_PER_S = 1000
_MID_LEVEL = frozenset({StimStatus.MID_LEVEL_INITIALIZED, StimStatus.MID_LEVEL_RUNNING})


@dataclass(frozen=True)
class Outgoing:
    """A packet the device sends (every P24 packet answers a request), ``delay_s`` after the
    answer latency (a low-level pulse is answered once it has run)."""

    command: int
    packet_number: int
    data: bytes
    delay_s: float = 0.0
    is_ack: bool = True

    def frame(self) -> bytes:
        return encode_frame(self.packet_number, self.command, self.data)


@dataclass(frozen=True)
class Identity:
    """What the general layer reports."""

    device_id: str = "P24EMUL001"
    firmware: tuple[int, int, int] = (1, 0, 0)
    science_mode: tuple[int, int, int] = (4, 0, 0)


class Firmware:
    """One P24's protocol state. Not thread-safe: the emulator calls it under its lock."""

    def __init__(
        self,
        *,
        record: Recorder,
        keepalive_timeout_s: float = 2.0,
        identity: Identity | None = None,
    ) -> None:
        self._record = record
        self.keepalive_timeout_s = keepalive_timeout_s
        self.identity = identity or Identity()
        self.timeline = PulseTimeline()
        self.status = StimStatus.NO_LEVEL
        self.stop_all_on_error = False
        self.states = [ChannelState.OK] * CHANNELS
        self._last_keepalive_s = 0.0

    # ------------------------------------------------------------------ timers and faults

    def keepalive_deadline_s(self) -> float | None:
        """When the running mid-level stimulation stops unless kept alive (``None``: idle)."""
        if self.status != StimStatus.MID_LEVEL_RUNNING:
            return None
        return self._last_keepalive_s + self.keepalive_timeout_s

    def keepalive_expired(self, now_s: float) -> None:
        silent_ms = (now_s - self._last_keepalive_s) * 1000
        self.timeline.stop(now_s)
        self.status = StimStatus.MID_LEVEL_INITIALIZED
        self._record(
            now_s,
            "state",
            f"keep-alive lapsed: no Ml_update or Ml_get_current_data for {silent_ms:.0f} ms; "
            "stimulation stopped",
        )

    def restart_keepalive(self, now_s: float) -> None:
        """Count the keep-alive timeout from ``now_s`` (after the emulated firmware was frozen)."""
        self._last_keepalive_s = now_s

    def electrode_error(self, output: int, now_s: float) -> None:
        """The electrode of ``output`` (1–8) fails: its channel stops (every channel if Ml_init
        asked to stop on all errors) and its state says so."""
        index = output - 1
        self.states[index] = ChannelState.ELECTRODE_ERROR
        stopped = self.timeline.running if self.stop_all_on_error else {output}
        for channel in stopped & self.timeline.running:
            self.timeline.stop_channel(channel, now_s)
        if self.status == StimStatus.MID_LEVEL_RUNNING and not self.timeline.running:
            self.status = StimStatus.MID_LEVEL_INITIALIZED
        self._record(now_s, "fault", f"electrode error on channel {output}", channel=output)

    def reset(self, now_s: float) -> None:
        """Restart: every output stops, no level is active, errors are forgotten."""
        self.timeline.stop(now_s)
        self.status = StimStatus.NO_LEVEL
        self.states = [ChannelState.OK] * CHANNELS
        self._record(now_s, "state", "reset: output stopped, no level initialised")

    # ------------------------------------------------------------------ receiving

    def receive(self, item: DecodedFrame | FrameError, now_s: float) -> list[Outgoing]:
        """Handle one decoded item; return the answers."""
        if isinstance(item, FrameError):
            self._record(now_s, "error", f"bad frame: {item.reason}", raw=item.raw.hex(" "))
            if item.packet_number is None:
                return []
            data = ResultAck(Result.TRANSFER_ERROR).encode()
            return [Outgoing(Command.GENERAL_ERROR, item.packet_number, data)]
        command = as_command(item.command)
        if command not in ACK_OF:
            self._record(now_s, "warning", f"{command_name(item.command)}: unknown command")
            data = ResultAck(Result.INVALID_CMD_ERROR).encode()
            return [Outgoing(Command.UNKNOWN_CMD, item.packet_number, data)]
        assert command is not None
        handler = {
            Command.GET_DEVICE_ID: self._device_id,
            Command.GET_STIM_STATUS: self._stim_status,
            Command.GET_EXTENDED_VERSION: self._version,
            Command.RESET: self._reset,
            Command.LL_INIT: self._ll_init,
            Command.LL_CHANNEL_CONFIG: self._ll_channel_config,
            Command.LL_STOP: self._ll_stop,
            Command.ML_INIT: self._ml_init,
            Command.ML_UPDATE: self._ml_update,
            Command.ML_STOP: self._ml_stop,
            Command.ML_GET_CURRENT_DATA: self._ml_current_data,
        }[command]
        try:
            data, delay_s = handler(item.data, now_s)
        except InputError as error:
            self._record(now_s, "warning", f"{command.name} rejected (2): {error.message}")
            data, delay_s = self._refusal(command, Result.PARAMETER_ERROR), 0.0
        return [Outgoing(ACK_OF[command], item.packet_number, data, delay_s)]

    def _refusal(self, command: Command, result: Result) -> bytes:
        """The answer of ``command`` carrying ``result`` and nothing else of meaning."""
        if command == Command.ML_GET_CURRENT_DATA:
            return MlGetCurrentDataAck(result, (False,) * CHANNELS, (0,) * CHANNELS).encode()
        if command == Command.LL_CHANNEL_CONFIG:
            return LlChannelConfigAck(result, 0, 0).encode()
        return ResultAck(result).encode()

    def _not_in(self, command: Command, levels: frozenset[StimStatus], now_s: float) -> bool:
        """Record and say whether ``command`` arrived outside ``levels``."""
        if self.status in levels:
            return False
        self._record(
            now_s, "warning", f"{command.name} while {self.status.name.lower()}: not initialised"
        )
        return True

    # ------------------------------------------------------------------ general layer

    def _device_id(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        return GetDeviceIdAck(Result.SUCCESSFUL, self.identity.device_id).encode(), 0.0

    def _stim_status(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        voltage = HighVoltage.OFF if self.status == StimStatus.NO_LEVEL else HighVoltage.V150
        return GetStimStatusAck(Result.SUCCESSFUL, self.status, voltage).encode(), 0.0

    def _version(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        identity = self.identity
        ack = GetExtendedVersionAck(
            Result.SUCCESSFUL, identity.firmware, identity.science_mode, 0, 0, False
        )
        return ack.encode(), 0.0

    def _reset(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        self.reset(now_s)
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    # ------------------------------------------------------------------ low level

    def _ll_init(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        request = LlInit.decode(data)
        _require(request.problems())
        if self._not_in(Command.LL_INIT, frozenset({StimStatus.NO_LEVEL,
                                                    StimStatus.LOW_LEVEL_INITIALIZED}), now_s):
            return ResultAck(Result.NOT_INITIALIZED).encode(), 0.0
        self.status = StimStatus.LOW_LEVEL_INITIALIZED
        self.states = [ChannelState.OK] * CHANNELS
        self._record(now_s, "state", "low level initialised")
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    def _ll_channel_config(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        request = LlChannelConfig.decode(data)
        _require(request.problems() + _current_problems(request.points, "LlChannelConfig"))
        level = frozenset({StimStatus.LOW_LEVEL_INITIALIZED})
        if self._not_in(Command.LL_CHANNEL_CONFIG, level, now_s):
            return LlChannelConfigAck(Result.NOT_INITIALIZED, request.channel,
                                      request.connector).encode(), 0.0
        output = request.output
        if self.states[output - 1] == ChannelState.ELECTRODE_ERROR:
            result = Result.ELECTRODE_ERROR
            ends_s = now_s
        else:
            result = Result.SUCCESSFUL
            shape = _shape(request.points) if request.enable else ()
            ends_s = self.timeline.single(output, shape, now_s) if shape else now_s
        ack = LlChannelConfigAck(result, request.channel, request.connector)
        return ack.encode(), ends_s - now_s

    def _ll_stop(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        if self._not_in(Command.LL_STOP, frozenset({StimStatus.NO_LEVEL,
                                                    StimStatus.LOW_LEVEL_INITIALIZED}), now_s):
            return ResultAck(Result.NOT_INITIALIZED).encode(), 0.0
        self._leave(now_s, "low level stopped")
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    # ------------------------------------------------------------------ mid level

    def _ml_init(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        request = MlInit.decode(data)
        if self._not_in(Command.ML_INIT, frozenset({StimStatus.NO_LEVEL, *_MID_LEVEL}), now_s):
            return ResultAck(Result.NOT_INITIALIZED).encode(), 0.0
        self.timeline.stop(now_s)
        self.status = StimStatus.MID_LEVEL_INITIALIZED
        self.stop_all_on_error = request.stop_all_on_error
        self.states = [ChannelState.OK] * CHANNELS
        self._record(
            now_s, "state", "mid level initialised",
            stop_all_on_error=request.stop_all_on_error,
        )
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    def _ml_update(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        request = MlUpdate.decode(data)
        configs = request.by_channel
        problems = request.problems()
        for channel, config in configs.items():
            problems += _current_problems(config.points, f"MlUpdate.channels[{channel}]")
        _require(problems + _duty_problems(request))
        if self._not_in(Command.ML_UPDATE, _MID_LEVEL, now_s):
            return ResultAck(Result.NOT_INITIALIZED).encode(), 0.0
        for output in self.timeline.running - {channel + 1 for channel in configs}:
            self.timeline.stop_channel(output, now_s)
        for channel, config in configs.items():
            self.states[channel] = ChannelState.OK
            self.timeline.set_channel(
                channel + 1, _shape(config.points), config.period_ms / 1000, config.ramp, now_s
            )
        self.status = (
            StimStatus.MID_LEVEL_RUNNING if configs else StimStatus.MID_LEVEL_INITIALIZED
        )
        self._last_keepalive_s = now_s
        self._record(
            now_s,
            "applied",
            "mid-level update applied",
            channels={
                channel + 1: {
                    "period_ms": config.period_ms,
                    "ramp": config.ramp,
                    "shape": _shape(config.points),
                }
                for channel, config in configs.items()
            },
        )
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    def _ml_stop(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        if self._not_in(Command.ML_STOP, frozenset({StimStatus.NO_LEVEL, *_MID_LEVEL}), now_s):
            return ResultAck(Result.NOT_INITIALIZED).encode(), 0.0
        self._leave(now_s, "mid level stopped")
        return ResultAck(Result.SUCCESSFUL).encode(), 0.0

    def _ml_current_data(self, data: bytes, now_s: float) -> tuple[bytes, float]:
        request = MlGetCurrentData.decode(data)
        _require(request.problems())
        if request.selection != 4:
            raise InputError(FieldProblem("MlGetCurrentData.selection", request.selection,
                                          "4 (all errors of all channels)"))
        if self._not_in(Command.ML_GET_CURRENT_DATA, _MID_LEVEL, now_s):
            return self._refusal(Command.ML_GET_CURRENT_DATA, Result.NOT_INITIALIZED), 0.0
        self._last_keepalive_s = now_s
        errors = [state for state in self.states if state != ChannelState.OK]
        result = errors[0].result if errors else Result.SUCCESSFUL
        running = self.timeline.running
        active = tuple(channel + 1 in running for channel in range(CHANNELS))
        ack = MlGetCurrentDataAck(result, active, tuple(self.states))
        return ack.encode(), 0.0

    def _leave(self, now_s: float, message: str) -> None:
        self.timeline.stop(now_s)
        if self.status != StimStatus.NO_LEVEL:
            self._record(now_s, "state", message)
        self.status = StimStatus.NO_LEVEL


def _require(problems: list[FieldProblem]) -> None:
    if problems:
        raise InputError(problems)


def _shape(points: tuple[ChannelPoint, ...]) -> Shape:
    """The pulse as run: durations under 10 µs last 10 µs (C library)."""
    return tuple((max(p.duration_us, 10), p.current_ma) for p in points)


def _current_problems(points: tuple[ChannelPoint, ...], name: str) -> list[FieldProblem]:
    return [
        FieldProblem(f"{name}.points[{i}].current_ma", p.current_ma,
                     f"at most {CURRENT_LIMIT_MA:g} mA either way (the P24's output range)")
        for i, p in enumerate(points)
        if abs(p.current_ma) > CURRENT_LIMIT_MA
    ]


def _duty_problems(request: MlUpdate) -> list[FieldProblem]:
    """The channels' pulses must fit in their periods: Σ (pulse + 60 µs) / period < 1000 ms/s."""
    load = sum(
        (config.pulse_us + PULSE_OVERHEAD_US) / config.period_ms for _, config in request.channels
    )
    if math.ceil(load) < DUTY_LIMIT_MS_PER_S:
        return []
    return [FieldProblem("MlUpdate.channels", f"{load:.0f} ms of pulses per second",
                         f"less than {DUTY_LIMIT_MS_PER_S} ms per second (pulses plus "
                         f"{PULSE_OVERHEAD_US} µs each must fit their periods)")]
