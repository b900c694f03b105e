"""The crash-safe, tamper-evident session journal: one JSON object per line, chained by SHA-256.

Every event of a session (state change, command, acknowledgement, applied parameters, user
response, fault) is written with :meth:`Journal.append` *before* the session acts on it. Each line
is written with one ``write`` and made durable with ``fsync``, so after a crash the journal is
complete up to the crash: at worst its last line is torn (no newline at its end).

**The chain** (format ``stimwise-journal/2``). Every line is an event object that carries two
more fields:

* ``prev_sha256``: the ``line_sha256`` of the line before it; for the first line (always
  ``session_start``) the SHA-256 of ``b"stimwise-journal/2\\x00"`` followed by the plan's
  fingerprint, so the first line commits to the verified plan;
* ``line_sha256``: the SHA-256 of the line's *canonical bytes*: the event with ``prev_sha256``
  and without ``line_sha256``, serialised as JSON with sorted keys, no spaces, UTF-8 and no
  NaN or infinity (:func:`canonical_bytes`).

The ``session_end`` line closes the chain: nothing may follow it. Reading a journal back
(:func:`read_journal`) checks every line and names each problem with its line number: a line
edited after it was written (its content no longer has its hash), a line deleted, inserted or
moved (its ``prev_sha256`` is not the hash of the line before it, or its ``seq`` is out of
order), a line that is not a JSON event, and events whose values the session could not have
written (:mod:`stimwise.session.journal_events`).

**Crash tail versus tampering.** Only the *last* line can be torn by a crash, and a torn line
has no newline at its end (the writer writes the newline with the line in one call). So an
unterminated last line is a crash tail; any other unreadable line is damage. :func:`recover`
closes a crashed journal with a ``session_end`` (outcome ``aborted``) that continues the chain
from the last intact line and records the torn tail's length and SHA-256 (``torn_tail``), so a
reader can tell the one accounted-for torn line from damage. A session is never resumed.

A chain without a key proves that nothing was changed *after* the line's successor was written
by the same process; someone who rewrites the whole file and recomputes every hash is not
detected by the chain, but the values must still be consistent with the journal's own plan and
the prescription on record (hazards HAZ-090 and HAZ-091).

Journals written before the chain (no ``prev_sha256``) cannot be verified: they are refused by
import and recovery with a message that says so (HAZ-090).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stimwise import strict_json
from stimwise.errors import FieldProblem, InputError, StimwiseError
from stimwise.protocol.io import check_file_size

__all__ = [
    "HASH_FIELD",
    "JOURNAL_FORMAT",
    "MAX_JOURNAL_BYTES",
    "MAX_REPORTED",
    "PREV_FIELD",
    "RECOVERY_REASON",
    "SESSION_END",
    "SESSION_START",
    "Journal",
    "JournalContents",
    "JournalError",
    "TornTail",
    "canonical_bytes",
    "chained_lines",
    "genesis_hash",
    "journal_record",
    "line_hash",
    "load_journal",
    "parse_line",
    "read_journal",
    "recover",
    "refuse_damaged",
]

SESSION_END = "session_end"
SESSION_START = "session_start"
JOURNAL_FORMAT = "stimwise-journal/2"
PREV_FIELD = "prev_sha256"
HASH_FIELD = "line_sha256"
MAX_JOURNAL_BYTES = 256 * 1024 * 1024
"""Largest journal read back. The longest prescribable session (480 min plus the 15 min overrun
limit) with an amplitude update at every 50 ms control step is about 600,000 lines of ~250 bytes
(150 MB) [U: stimwise's own bound]."""
MAX_REPORTED = 20
"""Problems listed in one error at most."""


class JournalError(StimwiseError):
    """The journal cannot be written (disk full, permissions): the session must stop."""

    exit_code = 3


def canonical_bytes(body: dict[str, Any]) -> bytes:
    """The bytes a line's hash covers: sorted keys, no spaces, UTF-8, finite numbers only."""
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def line_hash(body: dict[str, Any]) -> str:
    """SHA-256 (hex) of a line's canonical bytes; ``body`` holds ``prev_sha256``, not the hash."""
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def genesis_hash(plan_fingerprint: str) -> str:
    """The ``prev_sha256`` of a journal's first line: it commits the chain to the plan."""
    return hashlib.sha256(
        JOURNAL_FORMAT.encode() + b"\x00" + plan_fingerprint.encode("utf-8")
    ).hexdigest()


def _sealed(event: dict[str, Any], prev: str) -> tuple[dict[str, Any], bytes]:
    """The event with its chain fields, and the line that holds it (with its newline)."""
    body = {**event, PREV_FIELD: prev}
    sealed = {**body, HASH_FIELD: line_hash(body)}
    line = json.dumps(sealed, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return sealed, (line + "\n").encode("utf-8")


def chained_lines(events: Sequence[dict[str, Any]]) -> bytes:
    """Events (without chain fields) as the bytes of a chained journal, as :class:`Journal`
    writes them: for tools and tests that build journals outside a session. The first event
    must be ``session_start`` with its ``plan_fingerprint``."""
    out = []
    prev = genesis_hash(str(events[0].get("plan_fingerprint"))) if events else ""
    for event in events:
        body = {k: v for k, v in event.items() if k not in (PREV_FIELD, HASH_FIELD)}
        sealed, line = _sealed(body, prev)
        prev = sealed[HASH_FIELD]
        out.append(line)
    return b"".join(out)


def _write_durably(fd: int, line: bytes) -> None:
    written = os.write(fd, line)
    if written != len(line):
        raise OSError(28, "short write (disk full?)")
    os.fsync(fd)


class Journal:
    """Append-only, hash-chained JSON-lines journal with a sequence number per event.

    The first event must be ``session_start`` with the plan's ``plan_fingerprint``.

    Examples
    --------
    Sessions write it (:class:`~stimwise.session.runtime.SessionRunner`); it begins with the plan's
    fingerprint and chains every line to the one before:

    >>> import tempfile, pathlib
    >>> from stimwise.session import Journal, read_journal
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "session.jsonl"
    >>> journal = Journal(path)
    >>> event = journal.append("session_start", plan_fingerprint="0" * 64)
    >>> event["seq"], event["type"]
    (0, 'session_start')
    >>> journal.close()
    >>> Journal(path)
    Traceback (most recent call last):
    ...
    stimwise.session.journal.JournalError: journal ... already holds a session; ...
    """

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
        self._prev: str | None = None

    def append(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Write one event durably and return it as a reader will see it (with its chain
        fields); :class:`JournalError` when that fails."""
        if PREV_FIELD in fields or HASH_FIELD in fields:
            raise JournalError(f"event fields may not be named {PREV_FIELD} or {HASH_FIELD}")
        prev = self._prev
        if prev is None:
            fingerprint = fields.get("plan_fingerprint")
            if event_type != SESSION_START or not isinstance(fingerprint, str):
                raise JournalError(
                    "a journal begins with session_start and the plan fingerprint it commits to"
                )
            prev = genesis_hash(fingerprint)
        event = {
            "seq": self._seq,
            "t_mono_s": round(self._clock(), 6),
            "t_wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "type": event_type,
            **fields,
        }
        try:  # what a reader parses back: JSON values only, never NaN or infinity
            event = json.loads(json.dumps(event, default=str, allow_nan=False))
        except ValueError:
            raise JournalError(
                f"refusing to journal a non-finite number in a {event_type} event"
            ) from None
        sealed, line = _sealed(event, prev)
        try:
            _write_durably(self._fd, line)
        except OSError as error:
            raise JournalError(
                f"cannot write journal {self.path}: {error.strerror or error}"
            ) from None
        self._seq += 1
        self._prev = sealed[HASH_FIELD]
        return sealed

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TornTail:
    """The bytes of a line torn by a crash: where it is and what it held."""

    line: int
    data: bytes

    def summary(self) -> dict[str, Any]:
        return {"line": self.line, "bytes": len(self.data),
                "sha256": hashlib.sha256(self.data).hexdigest()}


@dataclass(frozen=True)
class JournalContents:
    """A journal as read back. ``events`` are the readable events in file order; ``problems``
    is empty exactly when every line is intact, chained and consistent."""

    events: tuple[dict[str, Any], ...]
    torn_lines: int
    problems: tuple[FieldProblem, ...] = ()
    tail: TornTail | None = None
    """An unterminated last line (a crash while writing it) that no recovery accounted for."""
    missing_newline: bool = False
    """The last line is a whole event whose newline was not written (a crash right then)."""
    legacy: bool = False
    sha256: str = ""
    """SHA-256 of the file's bytes as read."""

    @property
    def ended(self) -> bool:
        return bool(self.events) and self.events[-1].get("type") == SESSION_END

    @property
    def intact(self) -> bool:
        return not self.problems


def parse_line(raw: bytes) -> dict[str, Any]:
    """One line as an event object; ``ValueError`` naming why it is not one (not UTF-8, not
    JSON, NaN or infinity, a repeated field, not an object, nested too deep)."""
    value = strict_json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"a JSON {type(value).__name__}, not an event object")
    return value


def _file_bytes(path: Path) -> bytes:
    check_file_size(path, MAX_JOURNAL_BYTES, "session journal")
    return path.read_bytes()


def _problem(line: int, field: str, value: object, expected: str) -> FieldProblem:
    return FieldProblem(f"journal line {line}" + (f".{field}" if field else ""), value, expected)


class _ChainReader:
    """One pass over a journal's lines: parse, chain, sequence and the recovery's torn line."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.split(b"\n")
        unterminated = self.lines.pop()  # b"" when the file ends with a newline
        self.tail = TornTail(len(self.lines) + 1, unterminated) if unterminated else None
        self.missing_newline = False
        self.events: list[dict[str, Any]] = []
        self.numbers: list[int] = []
        self.problems: list[FieldProblem] = []
        self.torn_lines = 0
        self.legacy = False

    def read(self) -> None:
        parsed: list[tuple[int, dict[str, Any] | None, str | None]] = []
        for index, raw in enumerate(self.lines):
            try:
                parsed.append((index + 1, parse_line(raw), None))
            except ValueError as error:
                parsed.append((index + 1, None, str(error)))
        self._complete_tail(parsed)
        parsed = self._account_for_recovered_tear(parsed)
        first = next((event for _, event, _ in parsed if event is not None), None)
        if (first is not None and first.get("type") == SESSION_START
                and PREV_FIELD not in first and HASH_FIELD not in first):
            self.legacy = True
            self.problems.append(_problem(
                1, "", "no prev_sha256/line_sha256",
                f"a hash-chained journal ({JOURNAL_FORMAT}); this one was written by a stimwise "
                "version without the chain and cannot be verified, so it is neither imported "
                "nor recovered"))
            return
        prev: str | None = None
        for number, event, error in parsed:
            if event is None:
                self.problems.append(_problem(number, "", "(unreadable)",
                                              f"a JSON event object ({error})"))
                prev = None
                continue
            self._check_link(number, event, prev)
            stated = event.get(HASH_FIELD)
            prev = stated if isinstance(stated, str) else None
            self.events.append(event)
            self.numbers.append(number)
        self._check_sequence()

    def _complete_tail(self, parsed: list) -> None:
        """A last line cut off only before its newline is a whole event (its own hash proves
        it), not a torn one."""
        if self.tail is None:
            return
        try:
            event = parse_line(self.tail.data)
        except ValueError:
            return
        stated = event.get(HASH_FIELD)
        body = {k: v for k, v in event.items() if k != HASH_FIELD}
        with contextlib.suppress(ValueError):  # a body that cannot be canonical is torn
            if isinstance(stated, str) and line_hash(body) == stated:
                parsed.append((self.tail.line, event, None))
                self.tail = None
                self.missing_newline = True

    def _account_for_recovered_tear(self, parsed):
        """The torn line a recovery terminated is dropped when the recovery's ``session_end``
        right after it names its exact bytes; any other unreadable line stays a problem."""
        if len(parsed) < 2 or parsed[-2][1] is not None or parsed[-1][1] is None:
            return parsed
        end = parsed[-1][1]
        torn = TornTail(parsed[-2][0], self.lines[parsed[-2][0] - 1])
        if end.get("type") == SESSION_END and end.get("torn_tail") == torn.summary():
            self.torn_lines = 1
            return parsed[:-2] + parsed[-1:]
        return parsed

    def _check_link(self, number: int, event: dict[str, Any], prev: str | None) -> None:
        stated_prev = event.get(PREV_FIELD)
        stated = event.get(HASH_FIELD)
        first = not self.events
        fingerprint = event.get("plan_fingerprint")
        if first and (event.get("type") != SESSION_START or not isinstance(fingerprint, str)):
            self.problems.append(_problem(number, "type", event.get("type"),
                                          "a session journal starting with session_start "
                                          "and the plan fingerprint it commits to"))
            return
        if not isinstance(stated, str) or not isinstance(stated_prev, str):
            self.problems.append(_problem(number, HASH_FIELD, stated,
                                          "the line's SHA-256 and its predecessor's "
                                          "(prev_sha256) as hex text"))
            return
        body = {k: v for k, v in event.items() if k != HASH_FIELD}
        if line_hash(body) != stated:
            self.problems.append(_problem(
                number, "", event.get("type"),
                "the content the line was written with (its SHA-256 no longer matches: the "
                "line was edited)"))
        if first and stated_prev != genesis_hash(fingerprint):
            self.problems.append(_problem(
                number, PREV_FIELD, stated_prev[:12],
                "the chain's start for this plan fingerprint (lines before it were removed, "
                "or the fingerprint was edited)"))
        elif not first and prev is not None and stated_prev != prev:
            self.problems.append(_problem(
                number, PREV_FIELD, stated_prev[:12],
                f"the SHA-256 of line {self.numbers[-1]} ({prev[:12]}): a line between them was "
                "deleted or inserted, or lines were reordered"))

    def _check_sequence(self) -> None:
        for index, (number, event) in enumerate(zip(self.numbers, self.events, strict=True)):
            seq = event.get("seq")
            if type(seq) is not int or seq != index:
                self.problems.append(_problem(
                    number, "seq", seq,
                    f"{index} (events are numbered in order without gaps: lines are missing, "
                    "inserted or reordered)"))
                break
        ends = [i for i, event in enumerate(self.events) if event.get("type") == SESSION_END]
        if ends and ends[0] != len(self.events) - 1:
            self.problems.append(_problem(self.numbers[ends[0] + 1], "", "(line after the end)",
                                          "nothing after the session_end that closes the "
                                          "journal"))
        if ends and self.tail is not None:
            self.problems.append(_problem(self.tail.line, "", "(bytes after the end)",
                                          "nothing after the session_end that closes the "
                                          "journal"))
        if not self.events and not self.problems:
            self.problems.append(_problem(
                1, "", "(no complete line)",
                "at least the session_start line (the session stopped before it began: nothing "
                "was delivered)"))


def read_journal(path: str | Path) -> JournalContents:
    """Read a journal back and check every line (chain, sequence, values).

    Never raises for what the file holds: damage is listed in ``problems`` with the line
    numbers; :class:`InputError` only when the file is missing or larger than
    :data:`MAX_JOURNAL_BYTES`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> from stimwise.session import Journal, SessionRunner, read_journal
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "session.jsonl"
    >>> runner = SessionRunner(plan, sw.open_device("sim"), Journal(path),
    ...                        sw.ScriptedResponder.typical(30))
    >>> runner.emergency_stop(); _ = runner.tick()
    >>> contents = read_journal(path)
    >>> contents.problems, contents.events[0]["type"], contents.events[-1]["type"]
    ((), 'session_start', 'session_end')
    """
    from stimwise.session.journal_events import event_problems

    data = _file_bytes(Path(path))
    reader = _ChainReader(data)
    reader.read()
    problems = list(reader.problems)
    if not reader.legacy and not problems:
        problems += event_problems(list(zip(reader.numbers, reader.events, strict=True)))
    return JournalContents(
        events=tuple(reader.events),
        torn_lines=reader.torn_lines + (reader.tail is not None),
        problems=tuple(problems),
        tail=reader.tail,
        missing_newline=reader.missing_newline,
        legacy=reader.legacy,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def refuse_damaged(contents: JournalContents, source: str) -> None:
    """:class:`InputError` listing the journal's problems, if it has any."""
    if contents.problems:
        listed = list(contents.problems[:MAX_REPORTED])
        if len(contents.problems) > MAX_REPORTED:
            listed.append(FieldProblem("journal", f"{len(contents.problems)} problems",
                                       f"(only the first {MAX_REPORTED} are listed)"))
        raise InputError(listed, source=source)


def load_journal(path: str | Path) -> JournalContents:
    """A complete, intact journal (chained, consistent and closed by ``session_end``), or
    :class:`InputError` naming each line that is not."""
    source = str(path)
    contents = read_journal(path)
    refuse_damaged(contents, source)
    if contents.tail is not None:
        raise InputError(FieldProblem(
            f"journal line {contents.tail.line}", f"{len(contents.tail.data)} bytes, no newline",
            "a complete line (the session crashed while writing it; run `stimwise session "
            "recover` on the journal first)"), source=source)
    if not contents.ended:
        raise InputError(FieldProblem(
            "journal", f"{len(contents.events)} events, last {contents.events[-1].get('type')!r}",
            "a complete journal ending with session_end (truncated; run `stimwise session "
            "recover` on a crashed session's journal first)"), source=source)
    return contents


def journal_record(contents: JournalContents, source: str):
    """The :class:`~stimwise.session.record.SessionRecord` of an intact journal; a record the
    events cannot make is an :class:`InputError`, never a crash."""
    from pydantic import ValidationError

    from stimwise.protocol.io import problems_from_validation
    from stimwise.session.record import record_from_events

    refuse_damaged(contents, source)
    try:
        return record_from_events(contents.events)
    except ValidationError as error:
        problems = [FieldProblem(f"journal (its record).{p.path}", p.value, p.expected)
                    for p in problems_from_validation(error)]
        raise InputError(problems, source=source) from None


RECOVERY_REASON = (
    "aborted on restart: the journal ends without a session end (crash); the session is not "
    "resumed"
)


def recover(path: str | Path) -> JournalContents:
    """Close a crashed session's journal as aborted (never resumed); a no-op when it ended.

    The closing ``session_end`` continues the chain from the last intact line and names the
    torn last line, if any (``torn_tail``). A journal with any other damage is not touched:
    :class:`InputError` names its problems."""
    source = str(path)
    contents = read_journal(path)
    refuse_damaged(contents, source)
    torn = contents.tail is not None or contents.missing_newline
    if contents.ended:
        if contents.missing_newline:
            _append(path, b"\n")
            return read_journal(path)
        return contents
    last = contents.events[-1]
    event = {
        "seq": last["seq"] + 1,
        "t_mono_s": None,
        "t_wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "type": SESSION_END,
        "outcome": "aborted",
        "reason": RECOVERY_REASON,
        "recovered": True,
        "torn_tail": None if contents.tail is None else contents.tail.summary(),
    }
    _, line = _sealed(event, last[HASH_FIELD])
    # the newline ends the torn line, so the closing event is a line of its own
    _append(path, (b"\n" if torn else b"") + line)
    return read_journal(path)


def _append(path: str | Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        _write_durably(fd, data)
    finally:
        os.close(fd)
