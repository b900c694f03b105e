"""ScienceMode4 link layer: command numbers, result codes, CRC-16, byte stuffing and framing.

Pure functions and one streaming decoder, no I/O, so the same code serves the P24 driver, the
pty emulator and the tests. A packet on the wire is (P24 instructions for use, "Packet
Structure"; ``docs/reference/sciencemode4.md``)::

    F0 | 81 LEN_HI^55 81 LEN_LO^55 | 81 CRC_HI^55 81 CRC_LO^55 | prefix (2) | data... | 0F

* Every F0, 0F or 81 after the start byte is escaped as ``81, value ^ 55``; the length and the
  checksum are *always* escaped, so each takes 4 bytes.
* LEN is the whole packet's length on the wire, start and stop bytes included (at most 1200).
* CRC is CRC-CCITT as XModem computes it (polynomial 0x1021, initial value 0) over the
  *stuffed* bytes from the command prefix through the last data byte.
* The prefix packs the packet number (6 bits, 0–63, echoed by the answer) above the command
  number (10 bits), big endian: ``number << 10 | command``.

A request's answer is its command number plus one (``..._ACK``), or General_error /
Unknown_cmd carrying a result byte.
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

HEADER_BYTES = 9
"""Start byte, then the escaped length and checksum (4 bytes each)."""
MAX_PACKET_BYTES = 1200
"""The longest packet on the wire, stuffing included."""
PACKET_NUMBERS = 64
COMMAND_MAX = 0x3FF


class Command(IntEnum):
    """The P24's command numbers (C library ``Smpt_Cmd``; the instructions for use list
    Ml_get_current_data as 37/38, which the library and every client send as 36/37)."""

    LL_INIT = 0
    LL_INIT_ACK = 1
    LL_CHANNEL_CONFIG = 2
    LL_CHANNEL_CONFIG_ACK = 3
    LL_STOP = 4
    LL_STOP_ACK = 5
    ML_INIT = 30
    ML_INIT_ACK = 31
    ML_UPDATE = 32
    ML_UPDATE_ACK = 33
    ML_STOP = 34
    ML_STOP_ACK = 35
    ML_GET_CURRENT_DATA = 36
    ML_GET_CURRENT_DATA_ACK = 37
    GET_DEVICE_ID = 52
    GET_DEVICE_ID_ACK = 53
    RESET = 58
    RESET_ACK = 59
    GET_STIM_STATUS = 62
    GET_STIM_STATUS_ACK = 63
    GENERAL_ERROR = 66
    UNKNOWN_CMD = 67
    GET_EXTENDED_VERSION = 68
    GET_EXTENDED_VERSION_ACK = 69


ACK_OF: dict[Command, Command] = {
    request: Command(request + 1)
    for request in (
        Command.LL_INIT,
        Command.LL_CHANNEL_CONFIG,
        Command.LL_STOP,
        Command.ML_INIT,
        Command.ML_UPDATE,
        Command.ML_STOP,
        Command.ML_GET_CURRENT_DATA,
        Command.GET_DEVICE_ID,
        Command.RESET,
        Command.GET_STIM_STATUS,
        Command.GET_EXTENDED_VERSION,
    )
}
"""Host requests, mapped to their answer's command number."""


def as_command(value: int) -> Command | None:
    """The :class:`Command` for a received command number, or ``None`` for an unknown one."""
    return member(Command, value)


def command_name(value: int) -> str:
    """A readable name for a command number, for logs (``INIT_ACK``, ``command 95``)."""
    return member_name(Command, value)


class Result(IntEnum):
    """Result and error codes (instructions for use, table 27; C library ``Smpt_Result``)."""

    SUCCESSFUL = 0
    TRANSFER_ERROR = 1
    PARAMETER_ERROR = 2
    PROTOCOL_ERROR = 3
    UC_STIM_TIMEOUT_ERROR = 4
    EMG_TIMEOUT_ERROR = 5
    EMG_REGISTER_ERROR = 6
    NOT_INITIALIZED = 7
    HV_ERROR = 8
    DEMUX_TIMEOUT_ERROR = 9
    ELECTRODE_ERROR = 10
    INVALID_CMD_ERROR = 11
    DEMUX_PARAMETER_ERROR = 12
    DEMUX_NOT_INITIALIZED_ERROR = 13
    DEMUX_TRANSFER_ERROR = 14
    DEMUX_UNKNOWN_ACK_ERROR = 15
    PULSE_TIMEOUT_ERROR = 16
    FUEL_GAUGE_ERROR = 17
    LIVE_SIGNAL_ERROR = 18
    FILE_TRANSMISSION_TIMEOUT = 19
    FILE_NOT_FOUND = 20
    BUSY = 21
    FILE_ERROR = 22
    FLASH_ERASE_ERROR = 23
    FLASH_WRITE_ERROR = 24
    UNKNOWN_CONTROLLER_ERROR = 25
    FIRMWARE_TOO_LARGE_ERROR = 26
    FUEL_GAUGE_NOT_PROGRAMMED = 27
    PULSE_LOW_CURRENT_ERROR = 28

    @classmethod
    def from_byte(cls, byte: int) -> Result:
        """The result a received byte stands for; ``InputError`` for a code the protocol lacks."""
        try:
            return cls(byte)
        except ValueError:
            raise InputError(
                FieldProblem("result", byte, "a ScienceMode4 result code from 0 to 28")
            ) from None


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final XOR
    (``b"123456789"`` → 0x31C3)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[(crc >> 8) ^ byte]
    return crc


def _escaped(value: int) -> bytes:
    return bytes((STUFFING_BYTE, value ^ STUFFING_KEY))


def encode_frame(packet_number: int, command: int, data: bytes = b"") -> bytes:
    """One complete packet, ready for a single ``write()``.

    Parameters
    ----------
    packet_number
        0–63; the host counts up per command and the device echoes it.
    command
        0–1023; usually a :class:`Command`, but any number so that Unknown_cmd tests can send one.
    data
        The command data before stuffing.
    """
    problems = [
        FieldProblem(name, value, f"an integer from 0 to {high}")
        for name, value, high in (
            ("packet_number", packet_number, PACKET_NUMBERS - 1),
            ("command", command, COMMAND_MAX),
        )
        if not 0 <= value <= high
    ]
    if problems:
        raise InputError(problems)
    prefix = (packet_number << 10 | command).to_bytes(2, "big")
    payload = stuff(prefix + data)
    length = HEADER_BYTES + len(payload) + 1
    if length > MAX_PACKET_BYTES:
        raise InputError(
            FieldProblem("data", f"{len(data)} bytes", f"a packet of at most {MAX_PACKET_BYTES} "
                         f"bytes on the wire (this one would be {length})")
        )
    crc = crc16(payload)
    header = (
        bytes((START_BYTE,))
        + _escaped(length >> 8)
        + _escaped(length & 0xFF)
        + _escaped(crc >> 8)
        + _escaped(crc & 0xFF)
    )
    return header + payload + bytes((STOP_BYTE,))


class FrameDecoder(StuffedFrameDecoder):
    """Streaming deframer (see :class:`~stimwise.device.stuffing.StuffedFrameDecoder`); each
    complete packet is checked here: the four escapes of the header, the length, the CRC."""

    def __init__(self) -> None:
        super().__init__(_check, MAX_PACKET_BYTES)


def _check(body: bytes) -> DecodedFrame | FrameError:
    raw = bytes((START_BYTE,)) + body + bytes((STOP_BYTE,))
    if len(body) < HEADER_BYTES - 1 + 2:
        return FrameError("packet too short", raw)
    if any(body[i] != STUFFING_BYTE for i in (0, 2, 4, 6)):
        return FrameError("no stuffing byte 81 before a length or checksum byte", raw)
    payload = body[HEADER_BYTES - 1 :]
    plain = unstuff(payload)  # cannot dangle: feed() lets an 81 escape even the stop byte
    if len(plain) < 2:
        return FrameError("no command prefix", raw)
    prefix = int.from_bytes(plain[:2], "big")
    number, command = prefix >> 10, prefix & COMMAND_MAX
    length = (body[1] ^ STUFFING_KEY) << 8 | (body[3] ^ STUFFING_KEY)
    if length != len(raw):
        return FrameError(f"length {length} but {len(raw)} bytes", raw, command, number)
    if (body[5] ^ STUFFING_KEY) << 8 | (body[7] ^ STUFFING_KEY) != crc16(payload):
        return FrameError("CRC mismatch", raw, command, number)
    return DecodedFrame(number, command, plain[2:], raw)
