"""The crash-safe session journal: one JSON object per line, flushed to disk before acting.

Every event of a session (state change, command, acknowledgement, applied parameters, user
response, fault) is written with :meth:`Journal.append` *before* the session acts on it. Each line
is written with one ``write`` and made durable with ``fsync``, so after a crash the journal is
complete up to the crash (at worst the last line is torn, and :func:`read_journal` reports and
skips it). A journal without its closing ``session_end`` event is a crashed session:
:func:`recover` marks it aborted and never resumes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stimwise.errors import StimwiseError
from stimwise.protocol.io import check_file_size

SESSION_END = "session_end"


class JournalError(StimwiseError):
    """The journal cannot be written (disk full, permissions): the session must stop."""

    exit_code = 3


@dataclass(frozen=True)
class JournalContents:
    events: tuple[dict[str, Any], ...]
    torn_lines: int

    @property
    def ended(self) -> bool:
        return bool(self.events) and self.events[-1].get("type") == SESSION_END


class Journal:
    """Append-only JSON-lines journal with a monotonic sequence number per event."""

    def __init__(self, path: str | Path, *, clock=time.monotonic) -> None:
        self.path = Path(path)
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > 0:
                raise JournalError(
                    f"journal {self.path} already holds a session; choose a new file (a journal "
                    "is never appended to by a second session)"
                )
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as error:
            raise JournalError(f"cannot open journal {self.path}: {error.strerror}") from None
        self._seq = 0

    def append(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Write one event durably and return it; :class:`JournalError` when that fails."""
        event = {
            "seq": self._seq,
            "t_mono_s": round(self._clock(), 6),
            "t_wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "type": event_type,
            **fields,
        }
        line = (json.dumps(event, separators=(",", ":"), default=str) + "\n").encode()
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(28, "short write (disk full?)")
            os.fsync(self._fd)
        except OSError as error:
            raise JournalError(
                f"cannot write journal {self.path}: {error.strerror or error}"
            ) from None
        self._seq += 1
        return event

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


MAX_JOURNAL_BYTES = 128 * 2**20
"""Largest journal read (stimwise's bound, U): a session journals about 0.5 kB per amplitude
change and channel group, so the longest on/off NMES session (480 min, 2 s ramps every minute,
8 channels) writes about 60 MB."""


def read_journal(path: str | Path) -> JournalContents:
    """Every complete event of a journal; a torn last line (crash mid-write) is counted, not
    fatal. A missing file or one above :data:`MAX_JOURNAL_BYTES` is an :class:`InputError`."""
    check_file_size(Path(path), MAX_JOURNAL_BYTES, "session journal")
    events = []
    torn = 0
    with Path(path).open("rb") as handle:
        for raw in handle:
            try:
                events.append(json.loads(raw))
            except (json.JSONDecodeError, UnicodeDecodeError):
                torn += 1
    return JournalContents(events=tuple(events), torn_lines=torn)


def recover(path: str | Path) -> JournalContents:
    """Close a crashed session's journal as aborted (never resumed); a no-op when it ended."""
    contents = read_journal(path)
    if contents.ended:
        return contents
    last_seq = contents.events[-1]["seq"] if contents.events else -1
    event = {
        "seq": last_seq + 1,
        "t_mono_s": None,
        "t_wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "type": SESSION_END,
        "outcome": "aborted",
        "reason": "aborted on restart: the journal ends without a session end (crash); the "
        "session is not resumed",
        "torn_lines": contents.torn_lines,
    }
    with Path(path).open("ab") as handle:
        if contents.torn_lines:
            handle.write(b"\n")
        handle.write((json.dumps(event, separators=(",", ":")) + "\n").encode())
        handle.flush()
        os.fsync(handle.fileno())
    return read_journal(path)
