"""Byte stuffing and streaming deframing as every Hasomed ScienceMode protocol does them.

ScienceMode2 and ScienceMode4 frame packets alike: an F0 starts one, a 0F ends it, and every F0,
0F or 81 in between travels as ``81, value ^ 55`` (RehaStim 2 protocol §5; P24 instructions for
use, "Packet Structure"). Header layouts and checksums differ and stay in each protocol's codec,
which hands its check to :class:`StuffedFrameDecoder`.
"""

from __future__ import annotations

from collections.abc import Callable

from stimwise.device.frames import DecodedFrame, FrameError
from stimwise.errors import FieldProblem, InputError

START_BYTE = 0xF0
STOP_BYTE = 0x0F
STUFFING_BYTE = 0x81
STUFFING_KEY = 0x55
SPECIAL_BYTES = frozenset({START_BYTE, STOP_BYTE, STUFFING_BYTE})


def stuff(data: bytes) -> bytes:
    """Escape every F0, 0F and 81 as ``81, value ^ 55``; nothing else (55 itself stays)."""
    out = bytearray()
    for byte in data:
        if byte in SPECIAL_BYTES:
            out += bytes((STUFFING_BYTE, byte ^ STUFFING_KEY))
        else:
            out.append(byte)
    return bytes(out)


def unstuff(data: bytes) -> bytes:
    """Undo :func:`stuff`: the byte after any 81 is data XOR 55, whatever its value.

    Accepting any escaped value (not only F0/0F/81) is what makes pyScienceMode's over-stuffed
    ``81 00`` (for 55) and ``81 5F`` (for 0A) decode correctly.
    """
    out = bytearray()
    escaped = False
    for byte in data:
        if escaped:
            out.append(byte ^ STUFFING_KEY)
            escaped = False
        elif byte == STUFFING_BYTE:
            escaped = True
        else:
            out.append(byte)
    if escaped:
        raise InputError(FieldProblem("data", data.hex(" "), "no dangling 81 escape at the end"))
    return bytes(out)


class StuffedFrameDecoder:
    """Streaming deframer: feed it chunks as they arrive; chunk boundaries do not matter.

    An unescaped F0 starts a frame and silently discards any unfinished one, 81 marks the next
    byte as data, and an unescaped 0F ends the frame, whose body (between F0 and 0F, as
    received) goes to ``check``. Bytes outside a frame are junk and are dropped without a report.

    Parameters
    ----------
    check
        The protocol's checks of a complete body: a decoded frame, or why it failed.
    max_body
        A body longer than this is junk: it is reported and dropped.
    """

    def __init__(
        self, check: Callable[[bytes], DecodedFrame | FrameError], max_body: int
    ) -> None:
        self._check = check
        self._max_body = max_body
        self._body: bytearray | None = None
        self._escaped = False

    def feed(self, chunk: bytes) -> list[DecodedFrame | FrameError]:
        """Consume ``chunk`` and return every frame it completed, in order."""
        out: list[DecodedFrame | FrameError] = []
        for byte in chunk:
            if self._body is not None and self._escaped:
                self._body.append(byte)
                self._escaped = False
            elif byte == START_BYTE:
                self._body = bytearray()
            elif self._body is None:
                continue
            elif byte == STOP_BYTE:
                out.append(self._check(bytes(self._body)))
                self._body = None
            else:
                self._body.append(byte)
                self._escaped = byte == STUFFING_BYTE
            if self._body is not None and len(self._body) > self._max_body:
                out.append(FrameError("frame too long", bytes((START_BYTE,)) + bytes(self._body)))
                self._body = None
                self._escaped = False
        return out
