"""The session journal as evidence: its hash chain (HAZ-090), its consistency with its own plan
(HAZ-091, HAZ-092), malformed lines (HAZ-093) and a recovery that never crashes (HAZ-095).

Journals come from real sessions on the simulated stimulator under a fake clock, and are then
damaged the ways a crash, a disk or a person could damage them."""

from __future__ import annotations

import itertools
import json
import math
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.device.simulated import SimulatedStimulator
from stimwise.errors import InputError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.inputs import PatientIn, PrescriptionIn
from stimwise.records.models import SessionEntry
from stimwise.records.schema import open_database
from stimwise.records.sessions import import_journal
from stimwise.safety.caps import PatientCaps
from stimwise.safety.verify import verify
from stimwise.session.journal import (
    HASH_FIELD,
    PREV_FIELD,
    Journal,
    JournalError,
    chained_lines,
    line_hash,
    load_journal,
    recover,
)
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings

CLINICIAN = Actor("dr-ward", "clinician")
PERSON = ScriptedResponder(sensation_threshold_ma=5, comfortable_ma=12, motor_threshold_ma=20)
cli = CliRunner()


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def prescription(amplitude_ma: float = 30.0) -> Prescription:
    return Prescription.from_protocol(
        get_protocol("conventional-tens"), session_duration_min=0.05, max_amplitude_ma=amplitude_ma
    )


def run_session(path, *, stop_after_s: float | None = None) -> None:
    """A whole session on the simulated stimulator and a fake clock, journalled to ``path``;
    with ``stop_after_s`` the process "dies" then (the journal simply stops)."""
    clock = FakeClock()
    runner = SessionRunner(
        verify(prescription(), caps=PatientCaps(patient_id="P001")).require_plan(),
        SimulatedStimulator(clock=clock, command_latency_s=0.0),
        Journal(path, clock=clock), PERSON, patient_id="P001", clock=clock,
        settings=SessionSettings(calibration_step_s=0.2, rest_s=0.4),
    )
    while not runner.finished:
        clock.t += 0.05
        runner.heartbeat()
        runner.tick()
        if stop_after_s is not None and clock.t - 100.0 >= stop_after_s:
            return


@pytest.fixture(scope="module")
def session_journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("journal") / "session.jsonl"
    run_session(path)
    return path.read_bytes()


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'records.db'}")
    with database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001",
                                                    enrolled_on=date.today() - timedelta(30)))
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P002",
                                                    enrolled_on=date.today() - timedelta(30)))
        repo.add_prescription(s, CLINICIAN, "P001", PrescriptionIn(
            prescription=prescription(), valid_from=date.today() - timedelta(days=1),
            prescribed_by="dr-ward"))
    yield database
    database.close()


def sessions_stored(database) -> int:
    with database.reading() as s:
        return s.scalar(select(func.count()).select_from(SessionEntry))


def events_of(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines()]


def index_of(events: list[dict], event_type: str, **match) -> int:
    return next(i for i, e in enumerate(events) if e["type"] == event_type
                and all(e.get(k) == v for k, v in match.items()))


def loudest_update(events: list[dict]) -> int:
    return max(range(len(events)), key=lambda i: events[i].get("amplitude_ma", -1)
               if events[i]["type"] == "update" else -1)


def write(tmp_path, data: bytes, name: str = "damaged.jsonl"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(database, path, *, patient=None, unprescribed=False) -> str:
    """Import ``path``: it must be refused with nothing stored; returns the message."""
    with pytest.raises(InputError) as caught, database.transaction() as s:
        import_journal(s, CLINICIAN, path, patient, unprescribed=unprescribed)
    assert sessions_stored(database) == 0
    return str(caught.value)


def edit_line(data: bytes, index: int, **changes) -> bytes:
    """Change fields of one line and recompute nothing (a hand edit)."""
    lines = data.splitlines(keepends=True)
    event = json.loads(lines[index])
    event.update(changes)
    lines[index] = (json.dumps(event, separators=(",", ":")) + "\n").encode()
    return b"".join(lines)


# --------------------------------------------------------------------------- HAZ-090 chain


def test_the_journal_a_session_writes_is_chained_and_imports(db, session_journal, tmp_path):
    events = events_of(session_journal)
    assert all(PREV_FIELD in e and HASH_FIELD in e for e in events)
    assert all(b[PREV_FIELD] == a[HASH_FIELD] for a, b in itertools.pairwise(events))
    assert load_journal(write(tmp_path, session_journal)).intact
    with db.transaction() as s:
        assert import_journal(s, CLINICIAN, write(tmp_path, session_journal)).created


def test_HAZ090_an_edited_line_is_named_with_its_number(db, session_journal, tmp_path):
    events = events_of(session_journal)
    k = loudest_update(events)
    damaged = edit_line(session_journal, k, amplitude_ma=events[k]["amplitude_ma"] * 20)
    message = refused(db, write(tmp_path, damaged))
    assert f"journal line {k + 1}" in message and "was edited" in message


@pytest.mark.parametrize("damage", ["delete", "insert", "swap", "duplicate"])
def test_HAZ090_deleted_inserted_or_reordered_lines_are_named(
    db, session_journal, tmp_path, damage
):
    lines = session_journal.splitlines(keepends=True)
    k = index_of(events_of(session_journal), "update")
    if damage == "delete":
        lines.pop(k)
    elif damage == "insert":  # a well-formed line with a valid hash of its own
        forged = chained_lines([{**events_of(session_journal)[0]}]).decode()
        lines.insert(k, forged.encode())
    elif damage == "swap":
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    else:
        lines.insert(k, lines[k])
    message = refused(db, write(tmp_path, b"".join(lines)))
    assert f"journal line {k + 1}" in message or f"journal line {k + 2}" in message
    assert "deleted or inserted, or lines were reordered" in message


def test_HAZ090_the_first_line_commits_to_the_plan_fingerprint(db, session_journal, tmp_path):
    """Another plan's fingerprint, with every line's hash recomputed after the first, still
    breaks the chain's start: the start is derived from the fingerprint."""
    events = events_of(session_journal)
    events[0]["plan_fingerprint"] = "0" * 64
    lines = chained_lines(events).splitlines(keepends=True)
    first = json.loads(lines[0])
    first[PREV_FIELD] = json.loads(session_journal.splitlines()[0])[PREV_FIELD]
    body = {k: v for k, v in first.items() if k != HASH_FIELD}
    first[HASH_FIELD] = line_hash(body)
    lines[0] = (json.dumps(first, separators=(",", ":")) + "\n").encode()
    message = refused(db, write(tmp_path, b"".join(lines)))
    assert "journal line 1.prev_sha256" in message and "fingerprint" in message


def test_HAZ090_nothing_may_follow_the_session_end(db, session_journal, tmp_path):
    extra = chained_lines(events_of(session_journal)).splitlines(keepends=True)[-1]
    message = refused(db, write(tmp_path, session_journal + extra))
    assert "nothing after the session_end" in message


def test_HAZ090_a_journal_without_the_chain_is_refused_by_import_and_recover(
    db, session_journal, tmp_path
):
    """Decision: a journal of the previous format (no chain) cannot be verified, so it is
    neither imported nor recovered, and the message says why."""
    legacy = b"".join(
        (json.dumps({k: v for k, v in e.items() if k not in (PREV_FIELD, HASH_FIELD)},
                    separators=(",", ":")) + "\n").encode()
        for e in events_of(session_journal)
    )
    path = write(tmp_path, legacy)
    assert "without the chain" in refused(db, path)
    with pytest.raises(InputError, match="without the chain"):
        recover(path)
    assert path.read_bytes() == legacy


def test_HAZ090_a_crash_tail_is_recovered_but_damage_elsewhere_is_not(db, tmp_path):
    """An unterminated last line is a crash; the same bytes as a terminated line in the middle
    are damage. Recovery closes the first (naming the torn bytes) and refuses the second
    without touching the file."""
    crashed = tmp_path / "crashed.jsonl"
    run_session(crashed, stop_after_s=6.0)
    whole = crashed.read_bytes()
    crashed.write_bytes(whole + b'{"seq":999,"type":"upd')
    contents = recover(crashed)
    assert contents.ended and contents.torn_lines == 1 and contents.intact
    assert contents.events[-1]["outcome"] == "aborted" and contents.events[-1]["recovered"]
    assert contents.events[-1]["torn_tail"]["bytes"] == len(b'{"seq":999,"type":"upd')
    assert recover(crashed).events == contents.events  # idempotent
    with db.transaction() as s:
        row = import_journal(s, CLINICIAN, crashed).session
    assert row.outcome == "aborted" and row.stimulation_s > 0

    lines = whole.splitlines(keepends=True)
    middle = write(tmp_path, b"".join([*lines[:5], b'{"seq":5,"type":"upd\n', *lines[5:]]),
                   "middle.jsonl")
    before = middle.read_bytes()
    with pytest.raises(InputError, match="journal line 6"):
        recover(middle)
    assert middle.read_bytes() == before


def test_HAZ090_editing_the_torn_line_after_a_recovery_is_detected(db, tmp_path):
    crashed = tmp_path / "crashed.jsonl"
    run_session(crashed, stop_after_s=6.0)
    crashed.write_bytes(crashed.read_bytes() + b'{"seq":999,"ty')
    recover(crashed)
    lines = crashed.read_bytes().splitlines(keepends=True)
    lines[-2] = b'{"seq":999,"tx\n'
    message = refused(db, write(tmp_path, b"".join(lines)))
    assert "not JSON" in message


def test_a_torn_journal_is_not_imported_before_recovery(db, tmp_path):
    crashed = tmp_path / "crashed.jsonl"
    run_session(crashed, stop_after_s=6.0)
    crashed.write_bytes(crashed.read_bytes() + b'{"seq":999')
    assert "run `stimwise session recover`" in refused(db, crashed)


# --------------------------------------------------------------------------- HAZ-091 ceiling


def forged(session_journal: bytes, k: int, **changes) -> bytes:
    """Change fields of one event and recompute the whole chain (a forger who knows the
    format): only the values' consistency can catch this."""
    events = events_of(session_journal)
    events[k].update(changes)
    return chained_lines(events)


@pytest.mark.parametrize("unprescribed", [False, True])
def test_HAZ091_an_amplitude_above_the_journals_own_ceiling_is_refused(
    db, session_journal, tmp_path, unprescribed
):
    """×20 with the chain recomputed; also for a patient without a prescription imported with
    --unprescribed, which used to check nothing."""
    events = events_of(session_journal)
    k = loudest_update(events)
    path = write(tmp_path, forged(session_journal, k,
                                  amplitude_ma=events[k]["amplitude_ma"] * 20))
    message = refused(db, path, patient="P002" if unprescribed else None,
                      unprescribed=unprescribed)
    assert f"journal line {k + 1} (update).amplitude_ma" in message
    assert "the session's ceiling (30 mA)" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("ceiling_ma", 90.0, "at most the plan's amplitude (30 mA)"),
        ("device_range_ma", [0.0, 10.0], "at most the top of the device's range (10 mA)"),
        ("caps", {"max_amplitude_ma": 12.0}, "at most the person's cap (12 mA)"),
    ],
)
def test_HAZ091_a_ceiling_above_the_plan_caps_or_device_is_refused(
    db, session_journal, tmp_path, field, value, expected
):
    path = write(tmp_path, forged(session_journal, 0, **{field: value}))
    message = refused(db, path, patient="P002", unprescribed=True)
    assert "journal line 1 (session_start).ceiling_ma" in message and expected in message


def test_HAZ091_a_session_above_the_prescription_is_refused_also_when_the_journal_agrees(
    db, tmp_path
):
    """A journal consistent with a 40 mA plan whose fingerprint is forged to the patient's
    30 mA prescription: the chain and the journal's own ceiling pass, the prescription's
    ceiling does not."""
    path = tmp_path / "forty.jsonl"
    clock = FakeClock()
    runner = SessionRunner(
        verify(prescription(40.0), caps=PatientCaps(patient_id="P001")).require_plan(),
        SimulatedStimulator(clock=clock, command_latency_s=0.0), Journal(path, clock=clock),
        ScriptedResponder(sensation_threshold_ma=8, comfortable_ma=34, motor_threshold_ma=39),
        patient_id="P001", clock=clock, settings=SessionSettings(calibration_step_s=0.2,
                                                                 rest_s=0.4),
    )
    while not runner.finished:
        clock.t += 0.05
        runner.heartbeat()
        runner.tick()
    assert runner.record.max_amplitude_ma > 30
    with db.reading() as s:
        fingerprint = repo.list_prescriptions(s, CLINICIAN, "P001")[0].fingerprint
    events = events_of(path.read_bytes())
    for event in events:
        if "plan_fingerprint" in event:
            event["plan_fingerprint"] = fingerprint
    message = refused(db, write(tmp_path, chained_lines(events)))
    assert "record.max_amplitude_ma" in message and "prescribed amplitude (30 mA)" in message


# --------------------------------------------------------------------------- HAZ-092 values


@pytest.mark.parametrize(
    ("raw_value", "expected"),
    [("NaN", "NaN is not a number"), ("Infinity", "Infinity is not a number"),
     ("-Infinity", "-Infinity is not a number"), ("1e400", "out of the range of a number")],
)
def test_HAZ092_a_non_finite_amplitude_is_refused_not_dropped(
    db, session_journal, tmp_path, raw_value, expected
):
    lines = session_journal.splitlines(keepends=True)
    k = index_of(events_of(session_journal), "update")
    text = lines[k].decode()
    start = text.index('"amplitude_ma":') + len('"amplitude_ma":')
    end = text.index(",", start)
    lines[k] = (text[:start] + raw_value + text[end:]).encode()
    message = refused(db, write(tmp_path, b"".join(lines)))
    assert f"journal line {k + 1}" in message and expected in message


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        ("response", {"answer": "42"}, "is not one of 0, 1"),
        ("response", {"answer": 10**30}, "valid string"),
        ("response", {"answer": str(10**30)}, "is not one of 0, 1"),
        ("update", {"amplitude_ma": -1.0}, "greater than or equal to 0"),
        ("update", {"amplitude_ma": 10**30}, "less than or equal to 1000"),
        ("update", {"t_mono_s": 1.0}, "the monotonic clock of an earlier line"),
        ("update", {"t_mono_s": 1e9}, "stimulation within"),
        ("update", {"t_wall": "yesterday"}, "ISO 8601"),
        ("calibration_result", {"target_ma": 300.0}, "the session's ceiling"),
    ],
)
def test_HAZ092_out_of_range_or_inconsistent_values_are_refused_even_with_a_valid_chain(
    db, session_journal, tmp_path, kind, changes, expected
):
    events = events_of(session_journal)
    match = {"kind": "nrs_pre"} if kind == "response" else {}
    k = index_of(events, kind, **match)
    if changes.get("t_mono_s") == 1e9:  # a stimulation long after the session's time limit
        k = max(i for i, e in enumerate(events) if e["type"] == "update" and e["amplitude_ma"])
        for event in events[k:]:
            event["t_mono_s"] = 1e9 if event["t_mono_s"] is not None else None
        changes = {}
    events[k].update(changes)
    message = refused(db, write(tmp_path, chained_lines(events)))
    assert f"journal line {k + 1}" in message and expected in message


# --------------------------------------------------------------------------- HAZ-093 malformed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"[]", "a JSON list, not an event object"),
        (b"42", "a JSON int, not an event object"),
        (b'{"seq": 1, "seq": 2}', "appears twice"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[" * 100_000, "nested too deep"),
    ],
)
def test_HAZ093_a_malformed_line_is_named_and_the_database_is_unchanged(
    db, session_journal, tmp_path, line, expected
):
    lines = session_journal.splitlines(keepends=True)
    lines.insert(3, line + b"\n")
    path = write(tmp_path, b"".join(lines))
    message = refused(db, path)
    assert "journal line 4" in message and expected in message
    result = cli.invoke(app, ["session", "import", str(path), "--db",
                              str(db.url), "--json"])
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"] == "invalid_input"
    assert sessions_stored(db) == 0


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        ("update", {"amplitude_ma": "5"}, "valid number"),
        ("update", {"amplitude_ma": True}, "valid number"),
        ("update", {"type": "teleport"}, "an event kind the session writes"),
        ("response", {"kind": "mood"}, "'nrs_pre'"),
        ("calibration_result", {"ceiling_reached": "no"}, "valid boolean"),
        ("state", {"to_state": "flying"}, "'aborted'"),
        ("session_end", {"outcome": "cured"}, "'completed' or 'aborted'"),
    ],
)
def test_HAZ093_wrong_types_and_unknown_kinds_are_named(
    db, session_journal, tmp_path, kind, changes, expected
):
    events = events_of(session_journal)
    k = index_of(events, kind)
    events[k].update(changes)
    message = refused(db, write(tmp_path, chained_lines(events)))
    assert f"journal line {k + 1}" in message and expected in message


def test_HAZ093_a_missing_field_is_named(db, session_journal, tmp_path):
    events = events_of(session_journal)
    k = index_of(events, "update")
    del events[k]["amplitude_ma"]
    message = refused(db, write(tmp_path, chained_lines(events)))
    assert f"journal line {k + 1} (update).amplitude_ma" in message and "required" in message


def test_the_writer_refuses_a_non_finite_value_instead_of_journaling_it(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append("session_start", plan_fingerprint="a" * 64)
    with pytest.raises(JournalError, match="non-finite"):
        journal.append("update", amplitude_ma=math.nan)
    assert len((tmp_path / "j.jsonl").read_bytes().splitlines()) == 1


def test_the_writer_refuses_a_journal_that_does_not_start_with_the_plan(tmp_path):
    with pytest.raises(JournalError, match="begins with session_start"):
        Journal(tmp_path / "j.jsonl").append("update", amplitude_ma=1.0)


# --------------------------------------------------------------------------- HAZ-095 recover


def test_HAZ095_recover_says_the_session_ended_abnormally(tmp_path):
    crashed = tmp_path / "crashed.jsonl"
    run_session(crashed, stop_after_s=6.0)
    result = cli.invoke(app, ["session", "recover", str(crashed)])
    assert result.exit_code == 0, result.output
    assert "ended abnormally" in result.output and "never resumed" in result.output
    again = cli.invoke(app, ["session", "recover", str(crashed), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["recovered_now"] is False


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"[]\n", b"\x00" * 64, b'{"seq":0}', b'{"type":"session_start"}\n',
     b"null\n" * 3, "\u2028".encode() + b"\n"],
)
def test_HAZ095_recover_refuses_what_is_not_a_journal_with_exit_2(tmp_path, data):
    path = write(tmp_path, data)
    result = cli.invoke(app, ["session", "recover", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert path.read_bytes() == data


def test_HAZ095_recover_of_a_missing_file_is_exit_2(tmp_path):
    result = cli.invoke(app, ["session", "recover", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), junk=st.binary(max_size=40), flip=st.integers(0, 10_000))
def test_HAZ095_recover_never_crashes_on_a_damaged_journal(tmp_path, session_journal, cut, junk,
                                                           flip):
    """Cut anywhere, append any bytes, flip any byte: recovery either closes the journal (and
    it then reads back intact) or refuses with an InputError and leaves the file as it was."""
    data = bytearray(session_journal[: cut % (len(session_journal) + 1)] + junk)
    if data:
        data[flip % len(data)] ^= 0x20
    path = write(tmp_path, bytes(data), f"fuzz-{cut}-{flip}.jsonl")
    try:
        contents = recover(path)
    except InputError:
        assert path.read_bytes() == bytes(data)
    else:
        assert contents.ended and contents.intact


def test_HAZ095_a_last_line_cut_only_before_its_newline_is_a_whole_event(db, tmp_path):
    """A crash can also stop the write just before the newline: the line's own hash shows it
    is whole, so it is kept (not mistaken for a torn line) and the chain goes on from it."""
    crashed = tmp_path / "crashed.jsonl"
    run_session(crashed, stop_after_s=6.0)
    whole = crashed.read_bytes()
    crashed.write_bytes(whole[:-1])
    contents = recover(crashed)
    assert contents.intact and contents.torn_lines == 0
    assert contents.events[:-1] == tuple(events_of(whole))
    ended = tmp_path / "ended.jsonl"
    run_session(ended)
    complete = ended.read_bytes()
    ended.write_bytes(complete[:-1])
    with db.transaction() as s:
        assert import_journal(s, CLINICIAN, ended).created
    assert recover(ended).events == tuple(events_of(complete))
    assert ended.read_bytes() == complete
