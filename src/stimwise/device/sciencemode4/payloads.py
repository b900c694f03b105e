"""Typed ScienceMode4 command data: small frozen dataclasses with ``encode``/``decode``.

As for ScienceMode2, each class holds its fields as they travel on the wire (codes, bit fields,
whole µs), so decoding whatever a peer sent fails only on a structural fault (too few or too
many bytes, raised as :class:`~stimwise.errors.InputError`), ``problems()`` lists every field
outside the protocol's ranges, and ``encode()`` refuses to put an out-of-range value on the wire.
Builders (``from_ma``, ``from_ms``) and properties convert between codes and physical units.
Multi-byte fields are big endian. Layouts: P24 instructions for use (tables 5–26) and the C
library's packet builders; see ``docs/reference/sciencemode4.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from stimwise.device.sciencemode4.codec import Result
from stimwise.device.wire_fields import expect_length, in_range, raise_problems
from stimwise.errors import FieldProblem, InputError

CHANNELS = 8
"""Mid-level channels 1–8 (the yellow cable carries 1–4, the green one 5–8)."""
POINTS_MAX = 16
POINT_DURATION_MAX_US = 4095
POINT_CURRENT_LIMIT_MA = 150.0
"""What a point's 10-bit current code can carry: ±150 mA in 0.5 mA steps."""
CURRENT_STEP_MA = 0.5
_CURRENT_OFFSET_CODE = 300
RAMP_MAX = 15
PERIOD_CODE_MAX = 0x7FFF
DEVICE_ID_BYTES = 10


class StimStatus(IntEnum):
    """Which stimulation level is active (Get_stim_status_ack)."""

    NO_LEVEL = 0
    LOW_LEVEL_INITIALIZED = 1
    MID_LEVEL_INITIALIZED = 2
    MID_LEVEL_RUNNING = 3


class HighVoltage(IntEnum):
    """High-voltage source settings (C library ``Smpt_High_Voltage``): Ll_init asks for one;
    Get_stim_status_ack reports 1 (off) or 6 (150 V)."""

    DEFAULT = 0
    OFF = 1
    V30 = 2
    V60 = 3
    V90 = 4
    V120 = 5
    V150 = 6


class ChannelState(IntEnum):
    """A mid-level channel's error state in Ml_get_current_data_ack."""

    OK = 0
    ELECTRODE_ERROR = 1
    PULSE_TIMEOUT_ERROR = 2
    PULSE_LOW_CURRENT_ERROR = 3

    @property
    def result(self) -> Result:
        """The result code that describes this state (table 27)."""
        return {
            ChannelState.OK: Result.SUCCESSFUL,
            ChannelState.ELECTRODE_ERROR: Result.ELECTRODE_ERROR,
            ChannelState.PULSE_TIMEOUT_ERROR: Result.PULSE_TIMEOUT_ERROR,
            ChannelState.PULSE_LOW_CURRENT_ERROR: Result.PULSE_LOW_CURRENT_ERROR,
        }[self]


class _Payload:
    """Shared ``encode`` guard of the dataclasses below."""

    def problems(self, name: str | None = None) -> list[FieldProblem]:
        raise NotImplementedError

    def _check(self) -> None:
        raise_problems(self.problems())


# --------------------------------------------------------------------------- points


@dataclass(frozen=True)
class ChannelPoint(_Payload):
    """One point of a pulse shape: hold ``current_code`` for ``duration_us``.

    The current is ``(current_code − 300) / 2`` mA, so codes 0–600 are −150 to +150 mA in
    0.5 mA steps; durations under 10 µs are run as 10 µs by the device (C library). On the wire:
    duration in the top 12 bits of a 32-bit word, the current code in the next 10, the
    interpolation mode in bits 5–6 (0: hold, the only mode the device implements).
    """

    duration_us: int
    current_code: int
    interpolation: int = 0

    @classmethod
    def from_ma(cls, duration_us: int, current_ma: float) -> ChannelPoint:
        """The point for ``current_ma``, which must be a multiple of 0.5 mA."""
        code = current_ma * 2 + _CURRENT_OFFSET_CODE
        if code != round(code):
            raise InputError(
                FieldProblem("current_ma", current_ma, "a multiple of 0.5 mA (the device's step)")
            )
        return cls(duration_us, round(code))

    @property
    def current_ma(self) -> float:
        return (self.current_code - _CURRENT_OFFSET_CODE) / 2

    @property
    def charge_uc(self) -> float:
        """|current| × duration, in µC."""
        return abs(self.current_ma) * self.duration_us * 1e-3

    def problems(self, name: str = "point") -> list[FieldProblem]:
        return [
            p
            for p in (
                in_range(f"{name}.duration_us", self.duration_us, 0, POINT_DURATION_MAX_US),
                in_range(f"{name}.current_code", self.current_code, 0, 2 * _CURRENT_OFFSET_CODE),
                in_range(f"{name}.interpolation", self.interpolation, 0, 1),
            )
            if p is not None
        ]

    def encode(self) -> bytes:
        self._check()
        word = self.duration_us << 20 | self.current_code << 10 | self.interpolation << 5
        return word.to_bytes(4, "big")

    @classmethod
    def decode(cls, data: bytes) -> ChannelPoint:
        expect_length("ChannelPoint", data, 4, len(data) == 4)
        word = int.from_bytes(data, "big")
        return cls(word >> 20, word >> 10 & 0x3FF, word >> 5 & 0x3)


def _points(data: bytes, count: int, name: str) -> tuple[ChannelPoint, ...]:
    expect_length(name, data, f"at least {4 * count}", len(data) >= 4 * count)
    return tuple(ChannelPoint.decode(data[4 * i : 4 * i + 4]) for i in range(count))


def _points_problems(points: tuple[ChannelPoint, ...], name: str) -> list[FieldProblem]:
    found = [] if 1 <= len(points) <= POINTS_MAX else [
        FieldProblem(f"{name}.points", len(points), f"1 to {POINTS_MAX} points")
    ]
    for index, point in enumerate(points):
        found += point.problems(f"{name}.points[{index}]")
    return found


# --------------------------------------------------------------------------- one-byte answers


@dataclass(frozen=True)
class ResultAck(_Payload):
    """A one-byte result: the answers to Ll_init, Ll_stop, Ml_init, Ml_update, Ml_stop and
    Reset, and the General_error and Unknown_cmd packets."""

    result: Result

    def problems(self, name: str = "ResultAck") -> list[FieldProblem]:
        return []

    def encode(self) -> bytes:
        return bytes((self.result,))

    @classmethod
    def decode(cls, data: bytes) -> ResultAck:
        expect_length("ResultAck", data, "at least 1", len(data) >= 1)
        return cls(Result.from_byte(data[0]))


# --------------------------------------------------------------------------- general layer


@dataclass(frozen=True)
class GetDeviceIdAck(_Payload):
    result: Result
    device_id: str

    def problems(self, name: str = "GetDeviceIdAck") -> list[FieldProblem]:
        ok = len(self.device_id) == DEVICE_ID_BYTES and self.device_id.isascii()
        return [] if ok else [
            FieldProblem(f"{name}.device_id", self.device_id, f"{DEVICE_ID_BYTES} ASCII characters")
        ]

    def encode(self) -> bytes:
        self._check()
        return bytes((self.result,)) + self.device_id.encode("ascii")

    @classmethod
    def decode(cls, data: bytes) -> GetDeviceIdAck:
        size = 1 + DEVICE_ID_BYTES
        expect_length("GetDeviceIdAck", data, size, len(data) == size)
        return cls(Result.from_byte(data[0]), data[1:].decode("ascii", errors="replace"))


@dataclass(frozen=True)
class GetStimStatusAck(_Payload):
    result: Result
    status: int
    high_voltage: int

    def problems(self, name: str = "GetStimStatusAck") -> list[FieldProblem]:
        return [
            p
            for p in (
                in_range(f"{name}.status", self.status, 0, max(StimStatus)),
                in_range(f"{name}.high_voltage", self.high_voltage, 0, max(HighVoltage)),
            )
            if p is not None
        ]

    @property
    def stim_status(self) -> StimStatus | None:
        return StimStatus(self.status) if self.status in set(StimStatus) else None

    def encode(self) -> bytes:
        self._check()
        return bytes((self.result, self.status, self.high_voltage))

    @classmethod
    def decode(cls, data: bytes) -> GetStimStatusAck:
        expect_length("GetStimStatusAck", data, 3, len(data) == 3)
        return cls(Result.from_byte(data[0]), data[1], data[2])


@dataclass(frozen=True)
class GetExtendedVersionAck(_Payload):
    """Firmware and ScienceMode versions (major, minor, revision) and the firmware's hash."""

    result: Result
    firmware: tuple[int, int, int]
    science_mode: tuple[int, int, int]
    firmware_hash: int
    hash_type: int
    hash_valid: bool

    def problems(self, name: str = "GetExtendedVersionAck") -> list[FieldProblem]:
        found = [
            in_range(f"{name}.{field}[{i}]", part, 0, 255)
            for field in ("firmware", "science_mode")
            for i, part in enumerate(getattr(self, field))
        ]
        found += [
            in_range(f"{name}.firmware_hash", self.firmware_hash, 0, 0xFFFFFFFF),
            in_range(f"{name}.hash_type", self.hash_type, 0, 3),
        ]
        return [p for p in found if p is not None]

    def encode(self) -> bytes:
        self._check()
        return (
            bytes((self.result, *self.firmware, *self.science_mode))
            + self.firmware_hash.to_bytes(4, "big")
            + bytes((self.hash_type, int(self.hash_valid)))
        )

    @classmethod
    def decode(cls, data: bytes) -> GetExtendedVersionAck:
        expect_length("GetExtendedVersionAck", data, 13, len(data) == 13)
        return cls(
            Result.from_byte(data[0]),
            (data[1], data[2], data[3]),
            (data[4], data[5], data[6]),
            int.from_bytes(data[7:11], "big"),
            data[11],
            data[12] == 1,
        )


# --------------------------------------------------------------------------- low level


@dataclass(frozen=True)
class LlInit(_Payload):
    """Ll_init: enter the low level and switch the high voltage on.

    ``measurement`` (0: none) is reserved by the P24 ("not yet implemented" in the C library);
    ``high_voltage`` 0 is the standard 150 V source, 1 switches it off.
    """

    measurement: int = 0
    high_voltage: int = HighVoltage.DEFAULT

    def problems(self, name: str = "LlInit") -> list[FieldProblem]:
        return [
            p
            for p in (
                in_range(f"{name}.measurement", self.measurement, 0, 3),
                in_range(f"{name}.high_voltage", self.high_voltage, 0, max(HighVoltage)),
            )
            if p is not None
        ]

    def encode(self) -> bytes:
        self._check()
        return bytes(((self.measurement & 7) << 4 | (self.high_voltage & 7) << 1,))

    @classmethod
    def decode(cls, data: bytes) -> LlInit:
        expect_length("LlInit", data, 1, len(data) == 1)
        return cls(data[0] >> 4 & 7, data[0] >> 1 & 7)


@dataclass(frozen=True)
class LlChannelConfig(_Payload):
    """Ll_channel_config: fire one pulse shape now on ``channel`` (0–3) of ``connector``
    (0 yellow: channels 1–4; 1 green: 5–8). Without ``enable`` no point is sent or fired."""

    enable: bool
    channel: int
    connector: int
    points: tuple[ChannelPoint, ...]

    @property
    def output(self) -> int:
        """The 1-based output number, as the mid level counts channels (1–8)."""
        return self.connector * 4 + self.channel + 1

    def problems(self, name: str = "LlChannelConfig") -> list[FieldProblem]:
        found = [
            p
            for p in (
                in_range(f"{name}.channel", self.channel, 0, 3),
                in_range(f"{name}.connector", self.connector, 0, 1),
            )
            if p is not None
        ]
        return found + (_points_problems(self.points, name) if self.enable else [])

    def encode(self) -> bytes:
        self._check()
        count = max(len(self.points), 1) - 1
        head = int(self.enable) << 7 | self.channel << 5 | self.connector << 4 | count
        points = b"".join(p.encode() for p in self.points) if self.enable else b""
        return bytes((head,)) + points

    @classmethod
    def decode(cls, data: bytes) -> LlChannelConfig:
        expect_length("LlChannelConfig", data, "at least 1", len(data) >= 1)
        head = data[0]
        enable, count = bool(head >> 7), (head & 0x0F) + 1
        points = _points(data[1:], count, "LlChannelConfig") if enable else ()
        rest = len(data) - 1 - 4 * len(points)
        expect_length("LlChannelConfig", data, 1 + 4 * len(points), rest == 0)
        return cls(enable, head >> 5 & 3, head >> 4 & 1, points)


@dataclass(frozen=True)
class LlChannelConfigAck(_Payload):
    """The answer to Ll_channel_config, sent once the pulse has run (no measurement data)."""

    result: Result
    channel: int
    connector: int

    def problems(self, name: str = "LlChannelConfigAck") -> list[FieldProblem]:
        return [
            p
            for p in (
                in_range(f"{name}.channel", self.channel, 0, 3),
                in_range(f"{name}.connector", self.connector, 0, 1),
            )
            if p is not None
        ]

    def encode(self) -> bytes:
        self._check()
        return bytes((self.result, self.connector << 4 | self.channel, 0))

    @classmethod
    def decode(cls, data: bytes) -> LlChannelConfigAck:
        expect_length("LlChannelConfigAck", data, "at least 3", len(data) >= 3)
        return cls(Result.from_byte(data[0]), data[1] & 0x0F, data[1] >> 4)


# --------------------------------------------------------------------------- mid level


@dataclass(frozen=True)
class MlInit(_Payload):
    """Ml_init: enter the mid level and switch the high voltage on. With
    ``stop_all_on_error`` an error on one channel stops every channel."""

    stop_all_on_error: bool

    def problems(self, name: str = "MlInit") -> list[FieldProblem]:
        return []

    def encode(self) -> bytes:
        return bytes((int(self.stop_all_on_error),))

    @classmethod
    def decode(cls, data: bytes) -> MlInit:
        expect_length("MlInit", data, 1, len(data) == 1)
        return cls(bool(data[0] & 1))


@dataclass(frozen=True)
class MlChannelConfig(_Payload):
    """One channel's part of Ml_update: its pulse shape (``points``), repeated every period.

    The period is ``period_code`` × 0.5 ms, or × 0.25 ms with ``fine`` (15-bit codes: up to
    16383.5 ms, or 8191.75 ms). ``ramp`` pulses of linearly rising lower current run first
    whenever the channel is switched on.
    """

    points: tuple[ChannelPoint, ...]
    period_code: int
    fine: bool = False
    ramp: int = 0

    @classmethod
    def from_ms(
        cls, period_ms: float, points: tuple[ChannelPoint, ...], ramp: int = 0
    ) -> MlChannelConfig:
        """The config whose period is nearest ``period_ms`` (0.25 ms steps where they reach)."""
        fine = period_ms * 4 <= PERIOD_CODE_MAX
        code = round(period_ms * (4 if fine else 2))
        if not 1 <= code <= PERIOD_CODE_MAX:
            raise InputError(
                FieldProblem("period_ms", period_ms, "a period from 0.25 ms to 16383.5 ms")
            )
        return cls(points, code, fine, ramp)

    @property
    def period_ms(self) -> float:
        return self.period_code / (4 if self.fine else 2)

    @property
    def pulse_us(self) -> int:
        """The duration of the whole point list (µs)."""
        return sum(p.duration_us for p in self.points)

    def problems(self, name: str = "MlChannelConfig") -> list[FieldProblem]:
        found = [
            p
            for p in (
                in_range(f"{name}.period_code", self.period_code, 1, PERIOD_CODE_MAX),
                in_range(f"{name}.ramp", self.ramp, 0, RAMP_MAX),
            )
            if p is not None
        ]
        return found + _points_problems(self.points, name)

    def encode(self) -> bytes:
        self._check()
        head = bytes(((len(self.points) - 1) << 4 | self.ramp,))
        period = (self.period_code << 1 | int(self.fine)).to_bytes(2, "big")
        return head + period + b"".join(p.encode() for p in self.points)

    @classmethod
    def decode_prefix(cls, data: bytes) -> tuple[MlChannelConfig, bytes]:
        """The config at the start of ``data`` and the bytes after it."""
        expect_length("MlChannelConfig", data, "at least 3", len(data) >= 3)
        count = (data[0] >> 4) + 1
        word = int.from_bytes(data[1:3], "big")
        points = _points(data[3:], count, "MlChannelConfig")
        return cls(points, word >> 1, bool(word & 1), data[0] & 0x0F), data[3 + 4 * count :]


@dataclass(frozen=True)
class MlUpdate(_Payload):
    """Ml_update: start or change the mid-level stimulation. ``channels`` maps each enabled
    channel (0–7) to its config; channels not in it are switched off."""

    channels: tuple[tuple[int, MlChannelConfig], ...]

    @classmethod
    def of(cls, channels: Mapping[int, MlChannelConfig]) -> MlUpdate:
        return cls(tuple(sorted(channels.items())))

    @property
    def by_channel(self) -> dict[int, MlChannelConfig]:
        return dict(self.channels)

    def problems(self, name: str = "MlUpdate") -> list[FieldProblem]:
        found = []
        numbers = [c for c, _ in self.channels]
        if len(set(numbers)) != len(numbers) or numbers != sorted(numbers):
            found.append(FieldProblem(f"{name}.channels", numbers, "distinct, ascending channels"))
        for channel, config in self.channels:
            if (problem := in_range(f"{name}.channel", channel, 0, CHANNELS - 1)) is not None:
                found.append(problem)
            found += config.problems(f"{name}.channels[{channel}]")
        return found

    def encode(self) -> bytes:
        self._check()
        mask = sum(1 << channel for channel, _ in self.channels)
        return bytes((mask,)) + b"".join(config.encode() for _, config in self.channels)

    @classmethod
    def decode(cls, data: bytes) -> MlUpdate:
        expect_length("MlUpdate", data, "at least 1", len(data) >= 1)
        rest, channels = data[1:], []
        for channel in range(CHANNELS):
            if data[0] >> channel & 1:
                config, rest = MlChannelConfig.decode_prefix(rest)
                channels.append((channel, config))
        expect_length("MlUpdate", data, f"{len(data) - len(rest)}", not rest)
        return cls(tuple(channels))


CURRENT_DATA_ALL_CHANNELS = 4
"""Ml_get_current_data's data selection "all errors of all channels", the one the P24 serves."""


@dataclass(frozen=True)
class MlGetCurrentData(_Payload):
    """Ml_get_current_data: the keep-alive, asking for the channels' states."""

    selection: int = CURRENT_DATA_ALL_CHANNELS

    def problems(self, name: str = "MlGetCurrentData") -> list[FieldProblem]:
        problem = in_range(f"{name}.selection", self.selection, 0, 255)
        return [] if problem is None else [problem]

    def encode(self) -> bytes:
        self._check()
        return bytes((self.selection,))

    @classmethod
    def decode(cls, data: bytes) -> MlGetCurrentData:
        expect_length("MlGetCurrentData", data, 1, len(data) == 1)
        return cls(data[0])


@dataclass(frozen=True)
class MlGetCurrentDataAck(_Payload):
    """The answer to Ml_get_current_data (selection 4): which channels are stimulating and
    each channel's error state (4 bits each, channel 1 in the low nibble of the first byte)."""

    result: Result
    active: tuple[bool, ...]
    states: tuple[int, ...]
    selection: int = CURRENT_DATA_ALL_CHANNELS

    def problems(self, name: str = "MlGetCurrentDataAck") -> list[FieldProblem]:
        found = []
        if len(self.active) != CHANNELS or len(self.states) != CHANNELS:
            found.append(FieldProblem(name, (len(self.active), len(self.states)),
                                      f"{CHANNELS} active flags and {CHANNELS} states"))
        found += [
            p
            for i, state in enumerate(self.states)
            if (p := in_range(f"{name}.states[{i}]", state, 0, 15)) is not None
        ]
        return found

    @property
    def channel_states(self) -> tuple[ChannelState | None, ...]:
        """Each channel's state, ``None`` for a code the protocol does not define."""
        known = set(ChannelState)
        return tuple(ChannelState(s) if s in known else None for s in self.states)

    def encode(self) -> bytes:
        self._check()
        mask = sum(int(on) << i for i, on in enumerate(self.active))
        nibbles = bytes(
            self.states[i] | self.states[i + 1] << 4 for i in range(0, CHANNELS, 2)
        )
        return bytes((self.result, self.selection, mask)) + nibbles

    @classmethod
    def decode(cls, data: bytes) -> MlGetCurrentDataAck:
        expect_length("MlGetCurrentDataAck", data, "at least 2", len(data) >= 2)
        result, selection = Result.from_byte(data[0]), data[1]
        if selection != CURRENT_DATA_ALL_CHANNELS:
            raise InputError(
                FieldProblem("MlGetCurrentDataAck.selection", selection,
                             f"{CURRENT_DATA_ALL_CHANNELS} (all errors of all channels)")
            )
        expect_length("MlGetCurrentDataAck", data, 7, len(data) == 7)
        active = tuple(bool(data[2] >> i & 1) for i in range(CHANNELS))
        states = tuple(data[3 + i // 2] >> (4 * (i % 2)) & 0x0F for i in range(CHANNELS))
        return cls(result, active, states, selection)
