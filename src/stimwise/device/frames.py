"""What a protocol codec's streaming decoder hands out: a checked frame, or why a frame failed.

Shared by the ScienceMode2 and ScienceMode4 codecs, their drivers' links and their emulators, so
that the generic link (:mod:`~stimwise.device.framed_link`) and emulator plumbing
(:mod:`~stimwise.device.pty_emulator`) handle both without knowing either wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DecodedFrame:
    """A frame that passed every check; ``command`` is the raw command number."""

    packet_number: int
    command: int
    data: bytes
    raw: bytes


@dataclass(frozen=True)
class FrameError:
    """A frame that failed a check.

    ``command`` and ``packet_number`` are the header's values when the frame was long enough to
    carry them (even if its checksum or length is wrong), else ``None``: a receiver may then
    answer the command with a transfer error.
    """

    reason: str
    raw: bytes
    command: int | None = None
    packet_number: int | None = None


class FrameDecoder(Protocol):
    """A streaming deframer: feed it chunks as they arrive, get every frame they completed."""

    def feed(self, chunk: bytes) -> list[DecodedFrame | FrameError]: ...
