"""Typed ScienceMode2 command data: small frozen dataclasses with ``encode``/``decode``.

Each class holds the fields exactly as they travel on the wire (codes, bitmasks, whole mA and
µs), so that decoding whatever a peer sent never fails on a range: ``decode`` raises
:class:`~stimwise.errors.InputError` only for a structural fault (wrong number of bytes), and
``problems()`` lists every field outside the spec's ranges. ``encode()`` refuses to put an
out-of-range value on the wire. The ``from_ms`` builder and the ``*_ms`` properties convert
between milliseconds and the spec's interval codes.

Spec ranges live here; firmware behaviour (the 8 ms interval floor, t1 ≥ nPgr·t2, widths under
20 µs raised to 20 µs) belongs to the device model and is exported only as constants.
Multi-byte fields are sent MSB first, as every table in the spec lists them (the prose's
"little endian" contradicts the tables, pyScienceMode and the pyRehaStim trace).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from enum import IntEnum
from typing import Self

from stimwise.device.sciencemode2.codec import Result, signed_byte, unsigned_byte
from stimwise.device.wire_fields import expect_length, in_range, raise_problems
from stimwise.errors import FieldProblem, InputError

CHANNELS = 8
CURRENT_MAX_MA = 130
PULSE_WIDTH_MAX_US = 500
FIRMWARE_MIN_PULSE_WIDTH_US = 20
"""The firmware raises any pulse width under 20 µs to 20 µs."""
LOW_FREQUENCY_FACTOR_MAX = 7
T1_CODE_MAX = 2048
"""t1 is coded on 12 bits in practice (the spec says 11 bits but allows code 2048)."""
T2_CODE_MAX = 255
FIRMWARE_MIN_INTERVAL_MS = 8.0
"""Firmware floor of both t1 and t2 (4 slots of 1.5 ms plus 2 ms per module)."""
SLOT_MS = 1.5
"""Every active channel occupies one 1.5 ms slot per pulse group."""
PROTOCOL_VERSION = 1


class StimulationMode(IntEnum):
    """The device's stimulation state (GetStimulationModeAck)."""

    START = 0
    INITIALISED = 1
    STARTED = 2


class PulseMode(IntEnum):
    """Pulses per group in channel-list mode: ``value + 1`` pulses spaced by t2."""

    SINGLE = 0
    DOUBLET = 1
    TRIPLET = 2


_PULSE_MODES = frozenset(PulseMode)


class StimulationErrorCode(IntEnum):
    """What a StimulationError reports; any of them stops stimulation (device → start mode)."""

    EMERGENCY_SWITCH = -1
    ELECTRODE = -2
    MODULE = -3


def _clamp(value: int, low: int, high: int) -> int:
    return min(max(value, low), high)


def channels_in(mask: int) -> tuple[int, ...]:
    """The 1-based channel numbers set in a channel bitmask (bit 0 is channel 1), ascending."""
    return tuple(channel for channel in range(1, CHANNELS + 1) if mask >> (channel - 1) & 1)


def channel_mask(channels: Iterable[int]) -> int:
    """The bitmask of 1-based channel numbers; ``InputError`` outside 1–8."""
    channels = list(channels)
    raise_problems(in_range("channels", c, 1, CHANNELS) for c in channels)
    return sum(1 << (c - 1) for c in set(channels))


_T1_OFFSET_MS = 1.0
_T2_OFFSET_MS = 1.5
_CODE_STEP_MS = 0.5


def _interval_code(name: str, value_ms: float, offset_ms: float, codes: range) -> int:
    code = round((value_ms - offset_ms) / _CODE_STEP_MS)
    if code not in codes:
        low_ms, high_ms = (offset_ms + c * _CODE_STEP_MS for c in (codes[0], codes[-1]))
        expected = f"an interval from {low_ms:g} to {high_ms:g} ms"
        raise InputError(FieldProblem(name, value_ms, expected))
    return code


def t1_code_from_ms(t1_ms: float) -> int:
    """Main stimulation interval code for ``t1_ms`` (t1 = code·0.5 + 1 ms), rounded to 0.5 ms.

    Code 0 (1 ms) is reserved for one-shot mode and is not produced here.
    """
    return _interval_code("t1_ms", t1_ms, _T1_OFFSET_MS, range(1, T1_CODE_MAX + 1))


def t1_ms_from_code(code: int) -> float:
    """The interval a t1 code stands for; code 0 means one-shot and has no interval."""
    return _T1_OFFSET_MS + code * _CODE_STEP_MS


def t2_code_from_ms(t2_ms: float) -> int:
    """Inter-pulse interval code for ``t2_ms`` (t2 = code·0.5 + 1.5 ms), rounded to 0.5 ms."""
    return _interval_code("t2_ms", t2_ms, _T2_OFFSET_MS, range(T2_CODE_MAX + 1))


def t2_ms_from_code(code: int) -> float:
    """The inter-pulse interval a t2 code stands for."""
    return _T2_OFFSET_MS + code * _CODE_STEP_MS


@dataclass(frozen=True)
class _OneByte:
    """Base of the payloads that are a single unsigned byte: the subclass's only field."""

    def encode(self) -> bytes:
        name = fields(self)[0].name
        value = getattr(self, name)
        raise_problems([in_range(f"{type(self).__name__}.{name}", value, 0, 255)])
        return bytes((value,))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length(cls.__name__, data, 1, len(data) == 1)
        return cls(data[0])  # type: ignore[call-arg]  # the subclass has exactly one field


@dataclass(frozen=True)
class Init(_OneByte):
    """Init (device → host), repeated every 500 ms until the host answers InitAck 0."""

    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Ack:
    """A one-byte result: InitAck (0 or −5) and the Acks of InitChannelListMode, Start, Stop,
    SinglePulse and the MOTOmed requests."""

    result: Result

    def encode(self) -> bytes:
        return bytes((Result(self.result).to_byte(),))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("Ack", data, 1, len(data) == 1)
        return cls(Result.from_byte(data[0]))


@dataclass(frozen=True)
class UnknownCommand(_OneByte):
    """UnknownCommand (device → host): echoes the command byte it did not recognise."""

    command: int


@dataclass(frozen=True)
class StimulationModeAck:
    """GetStimulationModeAck: a result, and the mode only when the result is 0."""

    result: Result
    mode: StimulationMode | None = None

    def encode(self) -> bytes:
        result = Result(self.result)
        if (result == Result.OK) != (self.mode is not None):
            raise InputError(
                FieldProblem("StimulationModeAck.mode", self.mode, "a mode exactly when result 0")
            )
        tail = () if self.mode is None else (StimulationMode(self.mode).value,)
        return bytes((result.to_byte(), *tail))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("StimulationModeAck", data, "1 or 2", len(data) in (1, 2))
        result = Result.from_byte(data[0])
        if result != Result.OK:
            return cls(result)
        expect_length("StimulationModeAck", data, 2, len(data) == 2)
        try:
            return cls(result, StimulationMode(data[1]))
        except ValueError:
            raise InputError(
                FieldProblem(
                    "StimulationModeAck.mode", data[1], "0 start, 1 initialised, 2 started"
                )
            ) from None


@dataclass(frozen=True)
class StimulationError:
    """StimulationError (device → host, command 38): the device has stopped stimulating.

    A payload, not an exception: ``error`` is a :class:`StimulationErrorCode` value.
    """

    error: StimulationErrorCode

    def encode(self) -> bytes:
        return bytes((unsigned_byte(StimulationErrorCode(self.error).value),))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("StimulationError", data, 1, len(data) == 1)
        try:
            return cls(StimulationErrorCode(signed_byte(data[0])))
        except ValueError:
            raise InputError(
                FieldProblem("StimulationError.error", signed_byte(data[0]), "-1, -2 or -3")
            ) from None


@dataclass(frozen=True)
class InitChannelListMode:
    """InitChannelListMode: which channels run, how often, and how doublets are spaced.

    Attributes
    ----------
    low_frequency_factor
        0–7: channels in ``low_frequency_channels`` skip that many periods (1 = every other).
    active_channels, low_frequency_channels
        Bitmasks, bit 0 = channel 1.
    t2_code
        Inter-pulse interval inside a doublet/triplet: t2 = code·0.5 + 1.5 ms.
    t1_code
        Main stimulation interval: t1 = code·0.5 + 1 ms; 0 selects one-shot mode (the list runs
        once per StartChannelListMode, so the host sets the rate).
    execution
        0 = fixed 1.5 ms slots; 1 ("as fast as possible") is defined but not implemented by v1.24.
    """

    low_frequency_factor: int
    active_channels: int
    low_frequency_channels: int
    t2_code: int
    t1_code: int
    execution: int = 0

    @classmethod
    def from_ms(
        cls,
        *,
        t1_ms: float | None,
        channels: Iterable[int],
        t2_ms: float = FIRMWARE_MIN_INTERVAL_MS,
        low_frequency_channels: Iterable[int] = (),
        low_frequency_factor: int = 0,
    ) -> Self:
        """Build from physical units; ``t1_ms=None`` selects one-shot mode.

        Intervals are rounded to the 0.5 ms grid; the result's ``t1_ms``/``t2_ms`` say exactly
        what will be applied. Raises ``InputError`` listing every out-of-range field.
        """
        problems: list[FieldProblem] = []
        codes: dict[str, int] = {}
        for name, convert, value in (
            ("t1", t1_code_from_ms, t1_ms),
            ("t2", t2_code_from_ms, t2_ms),
        ):
            try:
                codes[name] = 0 if value is None else convert(value)
            except InputError as error:
                problems.extend(error.problems)
        try:
            active = channel_mask(channels)
            low = channel_mask(low_frequency_channels)
        except InputError as error:
            problems.extend(error.problems)
        if problems:
            raise InputError(problems)
        built = cls(low_frequency_factor, active, low, codes["t2"], codes["t1"])
        raise_problems(built.problems())
        return built

    @property
    def one_shot(self) -> bool:
        return self.t1_code == 0

    @property
    def t1_ms(self) -> float | None:
        """The main stimulation interval, or ``None`` in one-shot mode."""
        return None if self.one_shot else t1_ms_from_code(self.t1_code)

    @property
    def t2_ms(self) -> float:
        return t2_ms_from_code(self.t2_code)

    @property
    def channels(self) -> tuple[int, ...]:
        """Active 1-based channel numbers, in the order StartChannelListMode lists them."""
        return channels_in(self.active_channels)

    def problems(self) -> list[FieldProblem]:
        """Every field outside the spec's ranges (not the firmware's 8 ms floor)."""
        name = "InitChannelListMode"
        found = [
            in_range(
                f"{name}.low_frequency_factor",
                self.low_frequency_factor,
                0,
                LOW_FREQUENCY_FACTOR_MAX,
            ),
            in_range(f"{name}.active_channels", self.active_channels, 1, 255),
            in_range(f"{name}.low_frequency_channels", self.low_frequency_channels, 0, 255),
            in_range(f"{name}.t2_code", self.t2_code, 0, T2_CODE_MAX),
            in_range(f"{name}.t1_code", self.t1_code, 0, T1_CODE_MAX),
            in_range(f"{name}.execution", self.execution, 0, 1),
        ]
        if self.low_frequency_channels & ~self.active_channels & 0xFF:
            found.append(
                FieldProblem(
                    f"{name}.low_frequency_channels",
                    channels_in(self.low_frequency_channels),
                    f"a subset of the active channels {self.channels}",
                )
            )
        return [p for p in found if p is not None]

    def clamped(self) -> Self:
        """A copy with every numeric field forced into range (an empty channel mask stays)."""
        return replace(
            self,
            low_frequency_factor=_clamp(self.low_frequency_factor, 0, LOW_FREQUENCY_FACTOR_MAX),
            low_frequency_channels=self.low_frequency_channels & self.active_channels,
            t2_code=_clamp(self.t2_code, 0, T2_CODE_MAX),
            t1_code=_clamp(self.t1_code, 0, T1_CODE_MAX),
            execution=_clamp(self.execution, 0, 1),
        )

    def encode(self) -> bytes:
        raise_problems(self.problems())
        return bytes(
            (
                self.low_frequency_factor,
                self.active_channels,
                self.low_frequency_channels,
                self.t2_code,
                self.t1_code >> 8,
                self.t1_code & 0xFF,
                self.execution,
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("InitChannelListMode", data, 7, len(data) == 7)
        return cls(data[0], data[1], data[2], data[3], data[4] << 8 | data[5], data[6])


@dataclass(frozen=True)
class ChannelSettings:
    """One active channel's entry in StartChannelListMode."""

    mode: int
    pulse_width_us: int
    current_ma: int

    @property
    def pulses_per_group(self) -> int:
        """1, 2 or 3 (nPgr); an undefined mode counts as a single pulse."""
        return self.mode + 1 if self.mode in _PULSE_MODES else 1

    def problems(self, path: str) -> list[FieldProblem]:
        found = [
            in_range(f"{path}.mode", self.mode, 0, 2),
            in_range(f"{path}.pulse_width_us", self.pulse_width_us, 0, PULSE_WIDTH_MAX_US),
            in_range(f"{path}.current_ma", self.current_ma, 0, CURRENT_MAX_MA),
        ]
        return [p for p in found if p is not None]

    def clamped(self) -> Self:
        """Widths and currents forced into range; an undefined mode becomes SINGLE, which is what
        pyScienceMode means by the mode 3 it sends for a channel created without a mode."""
        return replace(
            self,
            mode=self.mode if self.mode in _PULSE_MODES else PulseMode.SINGLE,
            pulse_width_us=_clamp(self.pulse_width_us, 0, PULSE_WIDTH_MAX_US),
            current_ma=_clamp(self.current_ma, 0, CURRENT_MAX_MA),
        )

    def encode(self) -> bytes:
        raise_problems(self.problems("ChannelSettings"))
        return bytes(
            (self.mode, self.pulse_width_us >> 8, self.pulse_width_us & 0xFF, self.current_ma)
        )


@dataclass(frozen=True)
class StartChannelListMode:
    """StartChannelListMode (start, or update while started): one entry per active channel,
    in ascending channel order; the device checks there are exactly 4 bytes per active channel."""

    channels: tuple[ChannelSettings, ...]

    def problems(self) -> list[FieldProblem]:
        return [
            problem
            for index, entry in enumerate(self.channels)
            for problem in entry.problems(f"StartChannelListMode.channels[{index}]")
        ]

    def clamped(self) -> Self:
        return replace(self, channels=tuple(entry.clamped() for entry in self.channels))

    def encode(self) -> bytes:
        raise_problems(self.problems())
        return b"".join(entry.encode() for entry in self.channels)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("StartChannelListMode", data, "a multiple of 4", len(data) % 4 == 0)
        return cls(
            tuple(
                ChannelSettings(data[i], data[i + 1] << 8 | data[i + 2], data[i + 3])
                for i in range(0, len(data), 4)
            )
        )


@dataclass(frozen=True)
class SinglePulse:
    """SinglePulse: one pulse, fired as soon as the command is processed (the host times it).

    ``channel_index`` is **zero-based** (0–7), unlike the 1-based channel bitmasks.
    """

    channel_index: int
    pulse_width_us: int
    current_ma: int

    @property
    def channel(self) -> int:
        """The 1-based channel number."""
        return self.channel_index + 1

    def problems(self) -> list[FieldProblem]:
        found = [
            in_range("SinglePulse.channel_index", self.channel_index, 0, CHANNELS - 1),
            in_range("SinglePulse.pulse_width_us", self.pulse_width_us, 0, PULSE_WIDTH_MAX_US),
            in_range("SinglePulse.current_ma", self.current_ma, 0, CURRENT_MAX_MA),
        ]
        return [p for p in found if p is not None]

    def clamped(self) -> Self:
        return replace(
            self,
            pulse_width_us=_clamp(self.pulse_width_us, 0, PULSE_WIDTH_MAX_US),
            current_ma=_clamp(self.current_ma, 0, CURRENT_MAX_MA),
        )

    def encode(self) -> bytes:
        raise_problems(self.problems())
        width = self.pulse_width_us
        return bytes((self.channel_index, width >> 8, width & 0xFF, self.current_ma))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        expect_length("SinglePulse", data, 4, len(data) == 4)
        return cls(data[0], data[1] << 8 | data[2], data[3])
