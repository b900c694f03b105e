"""Bounded-time fuzzing of stimwise's input boundaries (issue 12, item 6).

Targets, each fed mutated copies of real documents, in-process, by hypothesis:

* ``protocol`` — protocol files (the library's protocols as YAML/JSON) through the loader,
  ``Prescription.from_protocol`` and ``verify()``;
* ``intake`` — patient intake files (the shipped examples) through the loader and ``screen()``;
* ``journal`` — journals of real sessions on the simulated stimulator, imported into a records
  database that holds the patient and the prescription (``records.sessions.import_journal``);
* ``recover`` — the same journals (and journals of crashed sessions) through
  ``session.journal.recover`` (``stimwise session recover``);
* ``fhir`` — bundles exported from a records database with real sessions, diary entries and
  adverse events, imported into one (``interop.fhir_import.import_bundle``);
* ``cli`` — option values of ``stimwise check``, ``waveform export`` and ``session run``
  (``--target-ma``, ``--minutes``, ``--seconds``, ``--amplitude-ma`` …) through the Typer
  application with ``CliRunner``; sessions run on the simulated stimulator in virtual time.

Mutations are structure-aware (a valid document with one field set to a bad value or type,
lines deleted, swapped, duplicated or inserted, units changed, a hash chain recomputed by a
forger) and byte-level (bits flipped, bytes inserted or deleted, truncation, invalid UTF-8).

Per target it prints: inputs tried, clean refusals (``InputError`` or another
``StimwiseError``; exit codes 1-3), acceptances, tracebacks (any other exception), hangs (the
per-input time limit or a resource limit reached), and wrong acceptances, judged by an oracle
independent of the code under test:

* journal: an accepted journal whose events differ from the session's real ones (any
  acceptance of a changed dose is wrong); recover: a journal closed whose events are not a
  prefix of the real ones;
* fhir: an accepted bundle that stores a non-finite or negative value, an NRS outside 0-10, an
  unknown outcome, a session above its prescription's ceiling, or a unit-converted dose that
  differs from the original;
* protocol, intake: a document accepted with a non-finite number, a number replaced by
  ``true``/text, or an assessment date in the future;
* cli: exit 0 for a non-finite, negative or out-of-range value.

Run: ``.venv/bin/python benchmarks/fuzz_inputs.py [--per-target N] [--seconds S]
[--targets a,b] [--seed N] [--input-timeout-s T]``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from stimwise.errors import InputError, StimwiseError

MAX_EXAMPLES = 5
"""Examples of each kind of finding kept per target in the report."""
FILE_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""Writes stop here (EFBIG): an export of a fuzzed length never fills the disk. A command
stopped by it had accepted its values, and the oracle judges them."""
MEMORY_LIMIT_BYTES = 6 * 1024 ** 3
"""Address-space limit of the harness: a runaway allocation fails instead of swapping."""
VIRTUAL_SESSION_BUDGET_S = 120.0
"""A fuzzed ``session run`` longer than this (virtual time) is stopped by the harness and
counted as accepted: its values passed every check at the start."""


# --------------------------------------------------------------------------- outcomes


class _Hang(BaseException):
    """Raised by the per-input alarm."""


@dataclass
class Result:
    outcome: str  # refused | accepted | traceback | hang | wrong
    detail: str = ""


COUNTERS = {"refused": "refused", "accepted": "accepted", "traceback": "tracebacks",
            "hang": "hangs", "wrong": "wrong_acceptances"}
"""Outcome → the counter it adds to."""


@dataclass
class Stats:
    target: str
    inputs: int = 0
    refused: int = 0
    accepted: int = 0
    tracebacks: int = 0
    hangs: int = 0
    wrong_acceptances: int = 0
    seconds: float = 0.0
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, mutation: str, result: Result) -> None:
        if result is _TIME_UP:
            return
        self.inputs += 1
        name = COUNTERS[result.outcome]
        setattr(self, name, getattr(self, name) + 1)
        if result.outcome == "wrong":
            self.accepted += 1
        if result.outcome in ("traceback", "hang", "wrong"):
            found = self.examples.setdefault(name, [])
            if len(found) < MAX_EXAMPLES and all(e["error"] != result.detail for e in found):
                found.append({"input": mutation[:300], "error": result.detail[:400]})

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs, "refused": self.refused, "accepted": self.accepted,
            "tracebacks": self.tracebacks, "hangs": self.hangs,
            "wrong_acceptances": self.wrong_acceptances, "seconds": round(self.seconds, 1),
            "examples": self.examples,
        }


def _crash(error: BaseException) -> Result:
    if isinstance(error, MemoryError):
        return Result("hang", "MemoryError (resource limit)")
    frames = traceback.extract_tb(error.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames)
                  if "stimwise" in f.filename), "?")
    return Result("traceback", f"{type(error).__name__} at {where}: {error}")


def _on_alarm(_signum, _frame) -> None:
    raise _Hang


_TIME_UP = Result("time_up")
_deadline_s = math.inf
"""``time.monotonic()`` after which :func:`guarded` runs nothing (the target's time is up)."""


def guarded(run: Callable[[], Result], timeout_s: float) -> Result:
    """Run one input under the per-input time limit; classify what escaped it. Once the
    target's time is up the input is drawn but not run (drawing less for the same choices
    would be inconsistent generation to hypothesis), and counts nowhere."""
    if time.monotonic() > _deadline_s:
        return _TIME_UP
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return run()
    except _Hang:
        return Result("hang", f"no answer within {timeout_s:g} s")
    except (InputError, StimwiseError):
        return Result("refused")
    except Exception as error:
        return _crash(error)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def resource_limits() -> Iterator[None]:
    """Bound file size and memory while fuzzing (restored afterwards)."""
    saved = {r: resource.getrlimit(r) for r in (resource.RLIMIT_FSIZE, resource.RLIMIT_AS)}
    old_xfsz = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write raises EFBIG
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_BYTES, saved[
            resource.RLIMIT_FSIZE][1]))
        hard = saved[resource.RLIMIT_AS][1]
        limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(
            MEMORY_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        yield
    finally:
        for which, value in saved.items():
            resource.setrlimit(which, value)
        signal.signal(signal.SIGXFSZ, old_xfsz)


# --------------------------------------------------------------------------- mutations


BAD_VALUES: tuple[Any, ...] = (
    None, True, False, "", "x", "2_0", "1e3", "NaN", 0, -1, -5, 42, 99, 199, -1800, 1e308,
    10**30, -(10**30), [], {}, [1, 2], {"a": 1}, "2099-01-01", "2026", "\x00", "\u202e",
)
"""Values a damaged or hostile document may put in any field."""

NON_FINITE = (math.nan, math.inf, -math.inf)


def leaf_paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path to a value in a JSON-like document (containers included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaf_paths(value, (*path, index))
    if path:
        yield path


def get_at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def mutate_bytes(data: st.DataObject, raw: bytes) -> tuple[str, bytes]:
    """One byte-level mutation: flips, insertions, deletions, truncation, bad UTF-8."""
    kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "bad_utf8",
                                      "digit"]))
    buffer = bytearray(raw)
    if not buffer:
        return "empty", b""
    at = data.draw(st.integers(0, len(buffer) - 1))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 3))):
            index = data.draw(st.integers(0, len(buffer) - 1))
            buffer[index] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "insert":
        buffer[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    elif kind == "delete":
        del buffer[at:at + data.draw(st.integers(1, 16))]
    elif kind == "truncate":
        del buffer[at:]
    elif kind == "bad_utf8":
        buffer[at:at] = data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
    else:  # change one digit: the subtlest numeric edit
        digits = [i for i, b in enumerate(buffer) if 48 <= b <= 57]
        if digits:
            index = digits[data.draw(st.integers(0, len(digits) - 1))]
            buffer[index] = 48 + (buffer[index] - 48 + data.draw(st.integers(1, 9))) % 10
    return f"bytes:{kind}@{at}", bytes(buffer)


def mutate_leaf(data: st.DataObject, document: Any) -> tuple[str, Any, bool]:
    """One field of a copy of ``document`` set to a bad value or deleted; the flag says
    whether a correct loader must refuse it (a number replaced by a bool, text or a
    non-finite number)."""
    damaged = copy.deepcopy(document)
    paths = sorted(leaf_paths(document), key=str)
    path = paths[data.draw(st.integers(0, len(paths) - 1))]
    old = get_at(document, path)
    parent = get_at(damaged, path[:-1])
    if isinstance(parent, dict) and data.draw(st.integers(0, 5)) == 0:
        del parent[path[-1]]
        return f"delete {path}", damaged, False
    if isinstance(parent, dict) and data.draw(st.integers(0, 9)) == 0:
        parent["unknown_field_x"] = 1
        return f"add unknown field at {path[:-1]}", damaged, True
    if is_number(old) and data.draw(st.booleans()):
        new = data.draw(st.sampled_from([*NON_FINITE, True, False, str(old), f"{old}_0",
                                         -abs(old) - 1, old * 20, 10**30]))
        must_refuse = not is_number(new) or not math.isfinite(new)
    else:
        new = data.draw(st.sampled_from(BAD_VALUES))
        must_refuse = is_number(old) and (isinstance(new, bool | str))
    parent[path[-1]] = new
    return f"set {path} = {new!r} (was {old!r})", damaged, must_refuse


def non_finite_inside(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite_inside(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(non_finite_inside(v) for v in value)
    return False


# --------------------------------------------------------------------------- targets


class Target:
    name = ""

    def setup(self, workdir: Path) -> None:
        self.workdir = workdir

    def draw_and_run(self, data: st.DataObject, timeout_s: float) -> tuple[str, Result]:
        raise NotImplementedError


class DocumentTarget(Target):
    """Protocol or intake files: YAML/JSON documents through a loader and the next stage."""

    future_date_fields: tuple[str, ...] = ()

    def corpus(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def load(self, path: Path) -> Any:
        raise NotImplementedError

    def setup(self, workdir: Path) -> None:
        super().setup(workdir)
        self.documents = self.corpus()

    def draw_and_run(self, data, timeout_s):
        document = self.documents[data.draw(st.integers(0, len(self.documents) - 1))]
        style = data.draw(st.sampled_from(["leaf", "leaf", "bytes", "yaml"]))
        must_refuse = False
        if style == "leaf":
            what, damaged, must_refuse = mutate_leaf(data, document)
            raw = self.serialise(data, damaged)
        elif style == "bytes":
            what, raw = mutate_bytes(data, self.serialise(data, document))
        else:
            what, raw = self.yaml_attack(data, document)
        path = self.workdir / f"{self.name}.document"
        path.write_bytes(raw)

        def run() -> Result:
            loaded = self.load(path)
            if must_refuse or self.wrongly_accepted(loaded):
                return Result("wrong", f"accepted: {what}")
            return Result("accepted")

        return what, guarded(run, timeout_s)

    def serialise(self, data, document) -> bytes:
        if data.draw(st.booleans()):
            return json.dumps(document, allow_nan=True, default=str).encode()
        return yaml.safe_dump(document, allow_unicode=True).encode()

    def yaml_attack(self, data, document) -> tuple[str, bytes]:
        attacks = {
            "alias_bomb": b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,'
                          b'*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,'
                          b'*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,'
                          b'*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,'
                          b'*g,*g,*g,*g,*g,*g,*g]\n',
            "python_tag": b"a: !!python/object/apply:os.system ['true']\n",
            "deep": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "binary": b"a: !!binary AAAA\n",
            "timestamp": b"a: 2020-02-30\n",
            "huge_int": b"a: " + b"9" * 5000 + b"\n",
            "merge": yaml.safe_dump(document).encode() + b"<<: {unknown_field_x: 1}\n",
        }
        name = data.draw(st.sampled_from(sorted(attacks)))
        return f"yaml:{name}", attacks[name]

    def wrongly_accepted(self, loaded: Any) -> bool:
        dumped = loaded.model_dump(mode="python") if hasattr(loaded, "model_dump") else {}
        if non_finite_inside(dumped):
            return True
        today = date.today()
        return any(isinstance(dumped.get(name), date) and dumped[name] > today
                   for name in self.future_date_fields)


class ProtocolTarget(DocumentTarget):
    name = "protocol"

    def corpus(self):
        from stimwise.protocol.library import library

        return [p.model_dump(mode="json") for p in library().values()]

    def load(self, path: Path):
        from stimwise.protocol.io import load_model_file
        from stimwise.protocol.models import Protocol
        from stimwise.protocol.prescription import Prescription
        from stimwise.safety.verify import verify

        protocol = load_model_file(Protocol, path)
        verify(Prescription.from_protocol(protocol))
        return protocol


class IntakeTarget(DocumentTarget):
    name = "intake"
    future_date_fields = ("assessed_on",)

    def corpus(self):
        from stimwise.clinical.examples import example_names, example_patient_path

        return [yaml.safe_load(example_patient_path(n).read_text()) for n in example_names()]

    def load(self, path: Path):
        from stimwise.clinical.intake import Intake
        from stimwise.clinical.screening import screen
        from stimwise.protocol.io import load_model_file

        intake = load_model_file(Intake, path)
        screen(intake)
        return intake


# ----------------------------------------------------------------------- records fixtures

CLINICIAN_NAME = "fuzz-clinician"


def _actor():
    from stimwise.records.access import Actor

    return Actor(CLINICIAN_NAME, "clinician")


class _FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def prescription(protocol_id: str = "conventional-tens", amplitude_ma: float = 30.0):
    from stimwise.protocol.library import get_protocol
    from stimwise.protocol.prescription import Prescription

    return Prescription.from_protocol(get_protocol(protocol_id), session_duration_min=0.05,
                                      max_amplitude_ma=amplitude_ma)


PRESCRIPTIONS = (("conventional-tens", 30.0), ("burst-tens", 40.0))


def simulated_session(path: Path, protocol_id: str, amplitude_ma: float, *,
                      stop: str | None = None) -> None:
    """A real session on the simulated stimulator under a fake clock, journalled to ``path``:
    to its end, emergency-stopped (``stop="estop"``) or cut off mid-session (``"crash"``)."""
    from stimwise.device.simulated import SimulatedStimulator
    from stimwise.safety.caps import PatientCaps
    from stimwise.safety.verify import verify
    from stimwise.session.journal import Journal
    from stimwise.session.prompts import ScriptedResponder
    from stimwise.session.runtime import SessionRunner, SessionSettings

    clock = _FakeClock()
    person = ScriptedResponder(sensation_threshold_ma=0.2 * amplitude_ma,
                               comfortable_ma=0.4 * amplitude_ma,
                               motor_threshold_ma=0.6 * amplitude_ma)
    runner = SessionRunner(
        verify(prescription(protocol_id, amplitude_ma),
               caps=PatientCaps(patient_id="P001")).require_plan(),
        SimulatedStimulator(clock=clock, command_latency_s=0.0), Journal(path, clock=clock),
        person, patient_id="P001", clock=clock,
        settings=SessionSettings(calibration_step_s=0.2, rest_s=0.4),
    )
    while not runner.finished:
        clock.t += 0.05
        runner.heartbeat()
        runner.tick()
        stimulating = runner.state in ("ramping", "running") and runner.applied_ma > 0
        if stop == "estop" and stimulating:
            runner.emergency_stop()
        if stop == "crash" and stimulating:
            return


def records_database(url: str):
    """A database with patient P001 and the prescriptions of :data:`PRESCRIPTIONS`."""
    from stimwise.records import repository as repo
    from stimwise.records.inputs import PatientIn, PrescriptionIn
    from stimwise.records.schema import open_database

    database = open_database(url)
    with database.transaction() as s:
        repo.create_patient(s, _actor(), PatientIn(pseudonym="P001",
                                                   enrolled_on=date.today() - timedelta(60)))
        for protocol_id, amplitude_ma in PRESCRIPTIONS:
            repo.add_prescription(s, _actor(), "P001", PrescriptionIn(
                prescription=prescription(protocol_id, amplitude_ma),
                valid_from=date.today() - timedelta(30), prescribed_by="dr-fuzz"))
    return database


class _Rollback(Exception):  # noqa: N818
    pass


class RolledBack:
    """A database whose write transactions are always rolled back, after ``check`` has looked
    at what they wrote: every input meets the same records."""

    def __init__(self, database) -> None:
        self.database = database
        self.check: Callable[[Any], None] | None = None

    @contextlib.contextmanager
    def transaction(self):
        try:
            with self.database.transaction() as session:
                yield session
                session.flush()
                if self.check is not None:
                    self.check(session)
                raise _Rollback
        except _Rollback:
            pass

    def reading(self):
        return self.database.reading()


# --------------------------------------------------------------------------- journals


def _events(raw: bytes) -> list[dict[str, Any]]:
    """The events of an intact journal (a torn line that a recovery accounted for skipped)."""
    found = []
    for line in raw.splitlines():
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found


FORGERIES: tuple[tuple[str, str, Callable[[dict, dict], Any]], ...] = (
    ("update", "amplitude_ma", lambda e, s: max(e["amplitude_ma"], 1.0) * 20 + s["ceiling_ma"]),
    ("update", "amplitude_ma", lambda e, s: -1.0),
    ("update", "amplitude_ma", lambda e, s: "5"),
    ("update", "amplitude_ma", lambda e, s: True),
    ("update", "amplitude_ma", lambda e, s: 10**30),
    ("session_start", "ceiling_ma", lambda e, s: e["plan_max_amplitude_ma"] * 3),
    ("session_start", "device_range_ma", lambda e, s: [0.0, 1.0]),
    ("session_start", "plan_max_amplitude_ma", lambda e, s: -1),
    ("response", "answer", lambda e, s: "42" if e["kind"].startswith("nrs") else "maybe"),
    ("response", "answer", lambda e, s: 10**30),
    ("calibration_result", "target_ma", lambda e, s: s["ceiling_ma"] * 3),
    ("device_event", "detail", lambda e, s: {**e.get("detail", {}),
                                             "delivered_ma": s["ceiling_ma"] * 2}),
    ("session_end", "outcome", lambda e, s: "cured"),
    ("later", "t_mono_s", lambda e, s: s["t_mono_s"] - 50.0),
    ("*", "type", lambda e, s: "teleport"),
    ("*", "seq", lambda e, s: e["seq"] + 1),
)
"""(event type, field, bad value from the event and session_start): changes a forger might
make with the chain recomputed; every one must be refused by the values' own checks."""


class JournalCorpus:
    def __init__(self, folder: Path) -> None:
        self.complete: list[bytes] = []
        self.crashed: list[bytes] = []
        for index, (protocol_id, amplitude_ma) in enumerate(PRESCRIPTIONS):
            for stop in (None, "estop", "crash"):
                path = folder / f"j{index}-{stop}.jsonl"
                simulated_session(path, protocol_id, amplitude_ma, stop=stop)
                (self.crashed if stop == "crash" else self.complete).append(path.read_bytes())
        from stimwise.session.journal import recover

        for index, raw in enumerate(list(self.crashed)):
            path = folder / f"recovered{index}.jsonl"
            path.write_bytes(raw + b'{"seq":')  # torn by the crash, then recovered
            recover(path)
            self.complete.append(path.read_bytes())

    def mutate(self, data: st.DataObject, raw: bytes) -> tuple[str, bytes]:
        from stimwise.session.journal import chained_lines

        style = data.draw(st.sampled_from(["edit", "forge", "lines", "bytes", "bytes"]))
        lines = raw.splitlines(keepends=True)
        events = _events(raw)
        k = data.draw(st.integers(0, len(lines) - 1))
        if style == "edit":  # one field changed by hand, nothing recomputed
            readable = [i for i, line in enumerate(lines) if _events(line)]
            k = readable[data.draw(st.integers(0, len(readable) - 1))]
            event = json.loads(lines[k])
            key = data.draw(st.sampled_from(sorted(event)))
            value = data.draw(st.sampled_from([*BAD_VALUES, "NaN", "Infinity"]))
            if key == "amplitude_ma" and data.draw(st.booleans()):
                value = event[key] * 20
            event[key] = value
            text = json.dumps(event, separators=(",", ":"), allow_nan=True)
            if value in ("NaN", "Infinity"):
                text = text.replace(f'"{value}"', value)
            lines[k] = (text + "\n").encode()
            return f"edit line {k + 1} {key}={value!r}", b"".join(lines)
        if style == "forge":
            kind, key, bad = FORGERIES[data.draw(st.integers(0, len(FORGERIES) - 1))]
            matches = [i for i, e in enumerate(events)
                       if kind in ("*", e["type"]) or (kind == "later" and i > 0)]
            if not matches:
                return "forge (nothing to forge)", raw + b"x"
            i = matches[data.draw(st.integers(0, len(matches) - 1))]
            events[i][key] = bad(events[i], events[0])
            return f"forge line {i + 1} {key}={events[i][key]!r}", chained_lines(events)
        if style == "lines":
            op = data.draw(st.sampled_from(["delete", "swap", "duplicate", "insert_foreign",
                                            "append_after_end"]))
            if op == "delete" and len(lines) > 1:
                del lines[k]
            elif op == "swap" and k + 1 < len(lines):
                lines[k], lines[k + 1] = lines[k + 1], lines[k]
            elif op == "duplicate":
                lines.insert(k, lines[k])
            elif op == "insert_foreign":
                foreign = self.complete[0].splitlines(keepends=True)
                lines.insert(k, foreign[data.draw(st.integers(0, len(foreign) - 1))])
            else:
                lines.append(lines[-1])
            return f"lines:{op}@{k + 1}", b"".join(lines)
        return mutate_bytes(data, raw)


class JournalTarget(Target):
    name = "journal"

    def setup(self, workdir: Path) -> None:
        super().setup(workdir)
        self.corpus = JournalCorpus(workdir)
        self.database = records_database(f"sqlite:///{workdir / 'journal-records.db'}")
        self.records = RolledBack(self.database)

    def draw_and_run(self, data, timeout_s):
        from stimwise.records.sessions import import_journal
        from stimwise.session.journal import read_journal

        source = self.corpus.complete
        original = source[data.draw(st.integers(0, len(source) - 1))]
        what, raw = self.corpus.mutate(data, original)
        path = self.workdir / "mutated.jsonl"
        path.write_bytes(raw)

        def run() -> Result:
            with self.records.transaction() as s:
                import_journal(s, _actor(), path)
            if read_journal(path).events != tuple(_events(original)):
                return Result("wrong", f"accepted a changed journal: {what}")
            return Result("accepted")

        return what, guarded(run, timeout_s)


class RecoverTarget(JournalTarget):
    name = "recover"

    def setup(self, workdir: Path) -> None:
        Target.setup(self, workdir)
        self.corpus = JournalCorpus(workdir)

    def draw_and_run(self, data, timeout_s):
        from stimwise.session.journal import recover

        source = self.corpus.complete + self.corpus.crashed * 2
        original = source[data.draw(st.integers(0, len(source) - 1))]
        what, raw = self.corpus.mutate(data, original)
        path = self.workdir / "recover.jsonl"
        path.write_bytes(raw)
        real = tuple(_events(original))

        def run() -> Result:
            try:
                contents = recover(path)
            except InputError:
                if path.read_bytes() != raw:
                    return Result("wrong", f"refused but changed the file: {what}")
                raise
            events = contents.events
            closed_now = events != real and events[-1].get("recovered")
            kept = events[:-1] if closed_now else events
            if not kept or kept != real[:len(kept)] or not contents.intact:
                differs = next((i for i, (a, b) in enumerate(zip(kept, real, strict=False))
                                if a != b), len(kept))
                return Result("wrong", f"closed a changed journal: {what} (event {differs} of "
                              f"{len(kept)} kept, {len(real)} real)")
            return Result("accepted")

        return what, guarded(run, timeout_s)


# --------------------------------------------------------------------------- FHIR bundles


UNIT_SCALES = {  # (UCUM code, factor from the exported unit) for equivalent quantities
    "mA": (("uA", 1000.0), ("A", 0.001)),
    "s": (("min", 1 / 60), ("ms", 1000.0), ("h", 1 / 3600)),
    "uC": (("nC", 1000.0), ("mC", 0.001)),
}
ALIEN_UNITS = ("kA", "mV", "Ohm", "%", "", "mA/cm2", "[in_i]", "µA")


class FhirTarget(Target):
    name = "fhir"

    def setup(self, workdir: Path) -> None:
        super().setup(workdir)
        from stimwise.interop.fhir_export import export_bundle
        from stimwise.records import repository as repo
        from stimwise.records.inputs import AdverseEventIn, DiaryEntryIn
        from stimwise.records.sessions import import_journal

        corpus = JournalCorpus(workdir)
        source = records_database(f"sqlite:///{workdir / 'fhir-source.db'}")
        now = datetime.now(UTC)
        with source.transaction() as s:
            for index, raw in enumerate(corpus.complete[:4]):
                path = workdir / f"fhir-journal{index}.jsonl"
                path.write_bytes(raw)
                with contextlib.suppress(InputError):  # same start: one of each pair stored
                    import_journal(s, _actor(), path)
            repo.add_diary_entries(s, _actor(), "P001", [
                DiaryEntryIn(recorded_at=now - timedelta(days=d), pain_current_nrs=d % 11,
                             pain_worst_nrs=10, sleep_interference_nrs=3)
                for d in range(1, 6)
            ])
            repo.add_adverse_event(s, _actor(), "P001", AdverseEventIn(
                occurred_at=now - timedelta(days=1), kind="skin_irritation", severity="mild"))
        self.bundle = export_bundle(source, _actor(), "P001")
        source.close()
        self.empty_url = f"sqlite:///{workdir / 'fhir-target.db'}"
        from stimwise.records.schema import open_database

        self.database = open_database(self.empty_url)
        self.records = RolledBack(self.database)
        self.baseline: dict[str, dict[str, Any]] = {}
        self.records.check = self._remember
        from stimwise.interop.fhir_import import import_bundle

        import_bundle(self.records, _actor(), self.bundle)
        self.records.check = None

    def _remember(self, session) -> None:
        self.baseline = {row["key"]: row for row in self._stored_sessions(session)}

    @staticmethod
    def _stored_sessions(session) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from stimwise.records.models import PrescriptionRecord, SessionEntry

        rows = []
        for row in session.scalars(select(SessionEntry)):
            prescription = (None if row.prescription_id is None else
                            session.get(PrescriptionRecord, row.prescription_id))
            rows.append({
                "key": f"{row.plan_fingerprint}|{row.started_at.isoformat()}",
                "numbers": {name: getattr(row, name) for name in (
                    "stimulation_s", "max_amplitude_ma", "mean_amplitude_ma",
                    "max_charge_per_phase_uc")},
                "row": row, "prescription": prescription,
            })
        return rows

    def oracle(self, what: str, rescaled: bool) -> Callable[[Any], None]:
        """Independent checks of what an accepted bundle stored."""
        from sqlalchemy import select

        from stimwise.records.models import AdverseEvent, DiaryEntry

        def check(session) -> None:
            problems = []
            for found in self._stored_sessions(session):
                row, rx = found["row"], found["prescription"]
                numbers = found["numbers"]
                if any(not math.isfinite(v) or v < 0 for v in numbers.values()):
                    problems.append(f"session numbers {numbers}")
                ceiling = 200.0
                if rx is not None:
                    ceiling = float(rx.prescription["max_amplitude_ma"])
                    if rx.locked_ranges:
                        ceiling = min(ceiling, rx.locked_ranges["amplitude_ma"]["max"])
                    if rx.fingerprint != row.plan_fingerprint:
                        problems.append("a session under another plan's prescription")
                if row.max_amplitude_ma > ceiling + 1e-6:
                    problems.append(f"{row.max_amplitude_ma} mA above {ceiling} mA")
                if row.mean_amplitude_ma > row.max_amplitude_ma + 1e-6:
                    problems.append("mean above max")
                for nrs in (row.nrs_pre, row.nrs_post):
                    if nrs is not None and (type(nrs) is not int or not 0 <= nrs <= 10):
                        problems.append(f"NRS {nrs!r}")
                if row.outcome not in ("completed", "aborted"):
                    problems.append(f"outcome {row.outcome!r}")
                if row.skin_pre not in (None, "ok", "not_ok") or row.skin_post not in (
                        None, "ok", "not_ok"):
                    problems.append("skin check")
                base = self.baseline.get(found["key"])
                if rescaled and base is not None and any(
                        not math.isclose(numbers[k], base["numbers"][k], rel_tol=1e-6,
                                         abs_tol=1e-9) for k in numbers):
                    problems.append(f"rescaled unit stored as {numbers} (was {base['numbers']})")
            for entry in session.scalars(select(DiaryEntry)):
                ratings = [entry.pain_current_nrs, entry.pain_average_nrs, entry.pain_worst_nrs,
                           entry.sleep_interference_nrs, entry.function_interference_nrs]
                if any(r is not None and not 0 <= r <= 10 for r in ratings):
                    problems.append(f"diary ratings {ratings}")
            for event in session.scalars(select(AdverseEvent)):
                if event.severity not in ("mild", "moderate", "severe"):
                    problems.append(f"severity {event.severity!r}")
            if problems:
                raise _Wrong("; ".join(problems))

        return check

    def mutate(self, data) -> tuple[str, Any, bool]:
        """(description, document or bytes, whether it is a unit rescaling)."""
        style = data.draw(st.sampled_from(["leaf", "procedure", "procedure", "bytes"]))
        if style == "leaf":
            what, damaged, _ = mutate_leaf(data, self.bundle)
            return what, damaged, False
        if style == "bytes":
            text = json.dumps(self.bundle).encode()
            if data.draw(st.integers(0, 9)) == 0:
                return "utf-16", text.decode().encode("utf-16"), False
            what, raw = mutate_bytes(data, text)
            return what, raw, False
        damaged = copy.deepcopy(self.bundle)
        procedures = [e["resource"] for e in damaged["entry"]
                      if e["resource"]["resourceType"] == "Procedure"]
        procedure = procedures[data.draw(st.integers(0, len(procedures) - 1))]
        quantities = [x for x in procedure.get("extension", []) if "valueQuantity" in x]
        extension = quantities[data.draw(st.integers(0, len(quantities) - 1))]
        quantity = extension["valueQuantity"]
        name = extension["url"].rsplit("/", 1)[-1]
        op = data.draw(st.sampled_from(["scale", "value", "unit", "alien", "nrs", "outcome",
                                        "start", "status"]))
        if op == "scale" and quantity["code"] in UNIT_SCALES:
            code, factor = data.draw(st.sampled_from(UNIT_SCALES[quantity["code"]]))
            quantity.update(value=quantity["value"] * factor, code=code, unit=code)
            return f"{name} rescaled to {code}", damaged, True
        if op == "value":
            value = data.draw(st.sampled_from([99, 199, -5, -1800, 1e308, 10**30, *NON_FINITE,
                                               "20", True, None]))
            quantity["value"] = value
            return f"{name} value {value!r}", damaged, False
        if op in ("unit", "alien"):
            unit = data.draw(st.sampled_from(ALIEN_UNITS))
            which = data.draw(st.sampled_from(["code", "unit", "both", "system"]))
            if which == "system":
                quantity["system"] = "http://example.org/units"
            else:
                for key in (("code", "unit") if which == "both" else (which,)):
                    quantity[key] = unit
            return f"{name} {which} {unit!r}", damaged, False
        if op == "nrs":
            value = data.draw(st.sampled_from([42, -1, 11, 10**30, True, "5"]))
            procedure["extension"].append({"url": extension["url"].rsplit("/", 1)[0]
                                           + "/nrs-before", "valueInteger": value})
            procedure["extension"] = [x for x in procedure["extension"]
                                      if not x["url"].endswith("/nrs-before")
                                      or x.get("valueInteger") == value]
            return f"nrs-before {value!r}", damaged, False
        if op == "outcome":
            for x in procedure["extension"]:
                if x["url"].endswith("/session-outcome"):
                    x["valueString"] = data.draw(st.sampled_from(["cured", "", "COMPLETED"]))
            return "unknown outcome", damaged, False
        if op == "start":
            value = data.draw(st.sampled_from([20260101, 1.5, "2026", "2099-01-01T00:00:00Z",
                                               None, [], {}]))
            procedure["performedPeriod"]["start"] = value
            return f"performedPeriod.start {value!r}", damaged, False
        procedure["status"] = data.draw(st.sampled_from(["in-progress", "unknown", 5]))
        return "status", damaged, False

    def draw_and_run(self, data, timeout_s):
        from stimwise.interop.fhir_import import import_bundle

        what, document, rescaled = self.mutate(data)
        self.records.check = self.oracle(what, rescaled)

        def run() -> Result:
            try:
                import_bundle(self.records, _actor(), document)
            except _Wrong as wrong:
                return Result("wrong", f"{what}: {wrong}")
            return Result("accepted")

        return what, guarded(run, timeout_s)


class _Wrong(Exception):  # noqa: N818
    pass


# --------------------------------------------------------------------------- CLI values


class VirtualClock:
    """Time for fuzzed sessions: starts at the real monotonic clock, advances only when the
    session "sleeps"."""

    def __init__(self) -> None:
        self.t = time.monotonic()
        self.start = self.t

    def __call__(self) -> float:
        return self.t


class _VirtualBudget(Exception):  # noqa: N818
    """A fuzzed session still running after :data:`VIRTUAL_SESSION_BUDGET_S`."""


OPTION_DOMAINS: dict[str, tuple[float, float]] = {
    "--amplitude-ma": (0.0, 200.0), "--minutes": (0.0, 480.0),
    "--electrode-area-cm2": (0.0, 1000.0), "--seconds": (0.0, 86_400.0),
    "--sample-rate-hz": (0.0, 10_000_000.0), "--target-ma": (0.0, 200.0),
    "--calibration-step-s": (0.0, 3600.0), "--load-ohm": (0.0, 1e7),
}
"""Values a command may accept: finite, above the low end and at most the high end (the
harness's own oracle: the prescription bounds, a day of export, an hour per calibration step)."""

COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "check": (("check", "conventional-tens", "--json"),
              ("--amplitude-ma", "--minutes", "--electrode-area-cm2", "--load-ohm")),
    "export": (("waveform", "export", "conventional-tens", "--seconds", "0.01"),
               ("--seconds", "--sample-rate-hz", "--amplitude-ma", "--electrode-area-cm2")),
    "session": (("session", "run", "conventional-tens", "--device", "sim", "--auto",
                 "--minutes", "0.02", "--json"),
                ("--target-ma", "--minutes", "--calibration-step-s", "--amplitude-ma")),
}

NUMBER_TEXTS = ("nan", "-nan", "inf", "-inf", "1e308", "1e20", "-1", "0", "-0", "1e-320",
                "0x10", "1_0", "", " ", "1,5", "10**30", "9" * 400, "true")


def option_value(data: st.DataObject) -> str:
    kind = data.draw(st.integers(0, 2))
    if kind == 0:
        return data.draw(st.sampled_from(NUMBER_TEXTS))
    if kind == 1:
        return repr(data.draw(st.floats(allow_nan=True, allow_infinity=True)))
    return str(data.draw(st.floats(min_value=-50, max_value=600, allow_nan=False)))


def outside_domain(option: str, text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return True
    low, high = OPTION_DOMAINS[option]
    return not (math.isfinite(value) and low < value <= high)


class CliTarget(Target):
    name = "cli"

    def setup(self, workdir: Path) -> None:
        super().setup(workdir)
        from typer.testing import CliRunner

        from stimwise.cli.main import app

        self.app = app
        self.runner = CliRunner()
        self.count = 0

    @contextlib.contextmanager
    def virtual_time(self) -> Iterator[VirtualClock]:
        """``session run`` on the simulated stimulator without real waits: its runner, journal
        and device read a virtual clock that the tick loop advances."""
        import stimwise.cli.session as cli_session
        import stimwise.session.journal as journal_module
        import stimwise.session.runtime as runtime
        from stimwise.device import registry
        from stimwise.device.simulated import SimulatedStimulator

        clock = VirtualClock()

        class Runner(runtime.SessionRunner):
            def __init__(self, *args, **kwargs):
                kwargs["clock"] = clock
                super().__init__(*args, **kwargs)

        class VirtualJournal(journal_module.Journal):
            def __init__(self, path, **kwargs):
                super().__init__(path, clock=clock)

        def open_device(spec, field="--device"):
            if spec != "sim":
                return original_open(spec, field)
            return SimulatedStimulator(clock=clock, command_latency_s=0.0)

        def run_live(console, runner, responder, *, interactive):
            while not runner.finished:
                clock.t += runner.settings.tick_s
                runner.heartbeat()
                runner.tick()
                if clock.t - clock.start > VIRTUAL_SESSION_BUDGET_S:
                    runner.emergency_stop("stopped by the fuzzing harness")
                    raise _VirtualBudget
            return runner.record

        original_open = registry.open_device
        with mock.patch.object(runtime, "SessionRunner", Runner), \
                mock.patch.object(journal_module, "Journal", VirtualJournal), \
                mock.patch.object(registry, "open_device", open_device), \
                mock.patch.object(cli_session, "run_live", run_live):
            yield clock

    def draw_and_run(self, data, timeout_s):
        command = data.draw(st.sampled_from(sorted(COMMANDS)))
        base, options = COMMANDS[command]
        chosen = data.draw(st.lists(st.sampled_from(options), min_size=1, max_size=3,
                                    unique=True))
        values = {option: option_value(data) for option in chosen}
        self.count += 1
        args = list(base)
        if command == "export":
            args += ["--out", str(self.workdir / f"export{self.count % 4}.npz")]
        if command == "session":
            args += ["--journal", str(self.workdir / f"session{self.count}.jsonl")]
        for option, value in values.items():
            args += [option, value]
        what = " ".join(args[:3]) + " " + " ".join(f"{o} {v!r}" for o, v in values.items())

        def run() -> Result:
            context = self.virtual_time() if command == "session" else contextlib.nullcontext()
            with context:
                result = self.runner.invoke(self.app, args, catch_exceptions=True)
            error = result.exception
            long_session = isinstance(error, _VirtualBudget)
            if error is not None and not isinstance(error, SystemExit) and not long_session:
                if isinstance(error, _Hang):
                    raise error
                return _crash(error)
            # a write stopped by the harness's file-size limit: the command took the value
            cut_short = "File too large" in (result.output or "")
            if result.exit_code not in (0, 1, 2, 3):
                return Result("traceback", f"exit code {result.exit_code}")
            if result.exit_code == 0 or long_session or cut_short:
                bad = [o for o, v in values.items() if outside_domain(o, v)]
                if bad:
                    return Result("wrong", f"exit 0 with {bad}")
                return Result("accepted")
            return Result("refused")

        try:
            return what, guarded(run, timeout_s)
        finally:
            for leftover in self.workdir.glob("session*.jsonl"):
                leftover.unlink()
            for leftover in self.workdir.glob("export*"):
                leftover.unlink()


# --------------------------------------------------------------------------- the harness


TARGETS: dict[str, type[Target]] = {
    "protocol": ProtocolTarget, "intake": IntakeTarget, "journal": JournalTarget,
    "recover": RecoverTarget, "fhir": FhirTarget, "cli": CliTarget,
}


def fuzz_target(target: Target, per_target: int, seconds: float, seed: int,
                input_timeout_s: float) -> Stats:
    global _deadline_s
    stats = Stats(target.name)
    started = time.monotonic()
    _deadline_s = started + seconds

    @hypothesis_seed(seed)
    @settings(max_examples=per_target, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(data=st.data())
    def run(data):
        what, result = target.draw_and_run(data, input_timeout_s)
        stats.add(what, result)

    try:
        run()
    finally:
        _deadline_s = math.inf
    stats.seconds = time.monotonic() - started
    return stats


def run_harness(*, per_target: int = 1000, seconds: float = 120.0, seed: int = 12,
                targets: tuple[str, ...] = tuple(TARGETS), input_timeout_s: float = 5.0,
                workdir: Path | None = None) -> dict[str, Any]:
    """Fuzz each target with at most ``per_target`` inputs and ``seconds`` of time; the
    report as a JSON-ready dict."""
    scratch = Path(tempfile.mkdtemp(prefix="stimwise-fuzz-",
                                    dir=workdir or ("/dev/shm" if os.path.isdir("/dev/shm")
                                                    else None)))
    report: dict[str, Any] = {"per_target": per_target, "seconds_per_target": seconds,
                              "seed": seed, "input_timeout_s": input_timeout_s, "targets": {}}
    try:
        for name in targets:
            target = TARGETS[name]()
            folder = scratch / name
            folder.mkdir()
            target.setup(folder)
            with resource_limits():
                stats = fuzz_target(target, per_target, seconds, seed, input_timeout_s)
            report["targets"][name] = stats.as_dict()
            if hasattr(target, "database"):
                target.database.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    found = report["targets"].values()
    report["totals"] = {key: sum(t[key] for t in found) for key in (
        "inputs", "refused", "accepted", "tracebacks", "hangs", "wrong_acceptances")}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-target", type=int, default=1000, help="inputs per target")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit per target")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated, of {', '.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--input-timeout-s", type=float, default=5.0,
                        help="an input taking longer is a hang")
    args = parser.parse_args(argv)
    names = tuple(n.strip() for n in args.targets.split(",") if n.strip())
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    import logging

    logging.disable(logging.WARNING)  # the code under test logs what it refuses
    report = run_harness(per_target=args.per_target, seconds=args.seconds, seed=args.seed,
                         targets=names, input_timeout_s=args.input_timeout_s)
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
