"""ScienceMode2 link layer: command numbers, result codes, CRC-8, byte stuffing and framing.

Pure functions and one streaming decoder, no I/O, so the same code serves the RehaStim 2 driver,
the pty emulator and the tests. A frame on the wire is::

    F0 | 81 CRC^55 | 81 LEN^55 | packet-no | command | data... | 0F

Every F0, 0F or 81 after the start byte is escaped as ``81, value ^ 55``. CRC (CRC-8, polynomial
0x07, init 0) and LEN are computed over the *stuffed* bytes from the packet number through the
last data byte, and both are always sent in escaped form, so a raw 0F or F0 may legitimately
follow the 81 at offsets 1 and 3: the decoder therefore treats the byte after any 81 as data.

The decoder is deliberately tolerant of what pyScienceMode transmits (see the fact sheet, §5):
packet-number and command bytes XORed with 55 without the 81 escape arrive as plain values
(command 10 becomes 0x5F and is reported as such, so the receiver can answer UnknownCommand),
and over-stuffed data bytes (``81 00`` for 55, ``81 5F`` for 0A) unstuff to the intended value.
CRC and length are checked over the bytes exactly as received, which is what both pyScienceMode
and the spec compute them over.
"""

from __future__ import annotations

from enum import IntEnum

from stimwise.device.frames import DecodedFrame, FrameError
from stimwise.device.stuffing import (
    START_BYTE,
    STOP_BYTE,
    STUFFING_BYTE,
    STUFFING_KEY,
    StuffedFrameDecoder,
    stuff,
    unstuff,
)
from stimwise.device.wire_fields import member, member_name
from stimwise.errors import FieldProblem, InputError

MAX_DATA_BYTES = 60
"""The spec allows "under 61" command-data bytes (before stuffing)."""
_MAX_BODY_BYTES = 4 + 2 * (2 + MAX_DATA_BYTES)
"""Longest possible frame body (between F0 and 0F): a decoder that sees more is reading junk."""


class Command(IntEnum):
    """ScienceMode2 command numbers (spec §4); an ``..._ACK`` is its request's number plus one.

    MOTOmed commands (50–90) are not listed one by one: see :func:`is_motomed_command`.
    """

    INIT = 1
    INIT_ACK = 2
    UNKNOWN_COMMAND = 3
    WATCHDOG = 4
    GET_STIMULATION_MODE = 10
    GET_STIMULATION_MODE_ACK = 11
    GET_MOTOMED_MODE = 12
    GET_MOTOMED_MODE_ACK = 13
    INIT_CHANNEL_LIST_MODE = 30
    INIT_CHANNEL_LIST_MODE_ACK = 31
    START_CHANNEL_LIST_MODE = 32
    START_CHANNEL_LIST_MODE_ACK = 33
    STOP_CHANNEL_LIST_MODE = 34
    STOP_CHANNEL_LIST_MODE_ACK = 35
    SINGLE_PULSE = 36
    SINGLE_PULSE_ACK = 37
    STIMULATION_ERROR = 38


ACK_OF: dict[Command, Command] = {
    request: Command(request + 1)
    for request in (
        Command.GET_STIMULATION_MODE,
        Command.GET_MOTOMED_MODE,
        Command.INIT_CHANNEL_LIST_MODE,
        Command.START_CHANNEL_LIST_MODE,
        Command.STOP_CHANNEL_LIST_MODE,
        Command.SINGLE_PULSE,
    )
}
"""Host requests that the device answers, mapped to the answer's command number."""

MOTOMED_COMMANDS = range(50, 91)


def is_motomed_command(command: int) -> bool:
    """Whether ``command`` lies in the MOTOmed block (50–90), which stimwise does not model."""
    return command in MOTOMED_COMMANDS


def as_command(value: int) -> Command | None:
    """The :class:`Command` for a received command number, or ``None`` for an unknown one."""
    return member(Command, value)


def command_name(value: int) -> str:
    """A readable name for a command number, for logs (``INIT_ACK``, ``command 95``)."""
    return member_name(Command, value)


class Result(IntEnum):
    """Result codes carried by Acks; on the wire they are signed bytes (−1 is 0xFF)."""

    OK = 0
    TRANSFER_ERROR = -1
    PARAMETER_ERROR = -2
    WRONG_MODE = -3
    NO_MOTOMED = -4
    VERSION_ERROR = -5
    INVALID_TRAINER = -6
    MOTOMED_BUSY = -7
    DEVICE_BUSY = -8

    @classmethod
    def from_byte(cls, byte: int) -> Result:
        """The result a received byte stands for; ``InputError`` for a code the spec lacks."""
        value = signed_byte(byte)
        try:
            return cls(value)
        except ValueError:
            raise InputError(
                FieldProblem("result", value, "a ScienceMode2 result code from -8 to 0")
            ) from None

    def to_byte(self) -> int:
        """The byte that carries this result."""
        return unsigned_byte(self.value)


def signed_byte(byte: int) -> int:
    """Read a byte as a two's-complement value (0xFE → −2)."""
    return byte - 256 if byte >= 0x80 else byte


def unsigned_byte(value: int) -> int:
    """The byte that carries a signed value from −128 to 127 (−2 → 0xFE)."""
    if not -128 <= value <= 127:
        raise InputError(FieldProblem("value", value, "a signed byte from -128 to 127"))
    return value & 0xFF


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8_TABLE = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8/SMBUS: polynomial 0x07, init 0, no reflection, no final XOR (``b"123456789"`` → F4)."""
    crc = 0
    for byte in data:
        crc = _CRC8_TABLE[crc ^ byte]
    return crc


def encode_frame(packet_number: int, command: int, data: bytes = b"") -> bytes:
    """One complete, spec-conformant frame, ready for a single ``write()``.

    Parameters
    ----------
    packet_number
        0–255. The host increments it per command; the device echoes it in the Ack and uses its
        own counter for packets it starts (Init, StimulationError).
    command
        0–255; usually a :class:`Command`, but any byte so that UnknownCommand tests can send one.
    data
        Command data before stuffing, at most :data:`MAX_DATA_BYTES`.
    """
    problems = [
        FieldProblem(name, value, "an integer from 0 to 255")
        for name, value in (("packet_number", packet_number), ("command", command))
        if not 0 <= value <= 255
    ]
    if len(data) > MAX_DATA_BYTES:
        problems.append(
            FieldProblem("data", data.hex(" "), f"at most {MAX_DATA_BYTES} bytes of data")
        )
    if problems:
        raise InputError(problems)
    payload = stuff(bytes((packet_number, command)) + data)
    header = (
        START_BYTE,
        STUFFING_BYTE,
        crc8(payload) ^ STUFFING_KEY,
        STUFFING_BYTE,
        len(payload) ^ STUFFING_KEY,
    )
    return bytes(header) + payload + bytes((STOP_BYTE,))


class FrameDecoder(StuffedFrameDecoder):
    """Streaming deframer implementing the receiver duties of spec §5.2.

    Feed it chunks as they arrive (see :class:`~stimwise.device.stuffing.StuffedFrameDecoder`);
    each complete frame is checked here: 81 at offsets 1 and 3, LEN, CRC.
    """

    def __init__(self) -> None:
        super().__init__(_check, _MAX_BODY_BYTES)


def _check(body: bytes) -> DecodedFrame | FrameError:
    raw = bytes((START_BYTE,)) + body + bytes((STOP_BYTE,))
    if len(body) < 6:
        return FrameError("frame too short", raw)
    if body[0] != STUFFING_BYTE or body[2] != STUFFING_BYTE:
        return FrameError("no stuffing byte 81 at offset 1 or 3", raw)
    payload = body[4:]
    plain = unstuff(payload)  # cannot dangle: feed() lets an 81 escape even the stop byte
    if len(plain) < 2:
        return FrameError("no packet number and command", raw)
    packet_number, command = plain[0], plain[1]
    if body[3] ^ STUFFING_KEY != len(payload):
        reason = f"length {body[3] ^ STUFFING_KEY} but {len(payload)} bytes"
        return FrameError(reason, raw, command, packet_number)
    if body[1] ^ STUFFING_KEY != crc8(payload):
        return FrameError("CRC mismatch", raw, command, packet_number)
    return DecodedFrame(packet_number, command, plain[2:], raw)
