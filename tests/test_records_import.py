"""Importing session journals into the records: the delivered dose as the session recorded it,
idempotent re-import, and refusal (with nothing written) of truncated or mismatched journals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fake_device import FakeStimulator
from stimwise.errors import InputError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.inputs import LockedRanges, PatientIn, PrescriptionIn
from stimwise.records.models import SessionEntry
from stimwise.records.schema import open_database
from stimwise.records.sessions import import_journal, list_sessions
from stimwise.safety.caps import PatientCaps
from stimwise.safety.verify import verify
from stimwise.session.journal import Journal, chained_lines, read_journal, recover
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.record import record_from_events
from stimwise.session.runtime import SessionRunner, SessionSettings

CLINICIAN = Actor("dr-ward", "clinician")
PERSON = ScriptedResponder(sensation_threshold_ma=5, comfortable_ma=12, motor_threshold_ma=20)


def prescription(amplitude_ma: float = 30.0) -> Prescription:
    return Prescription.from_protocol(
        get_protocol("conventional-tens"), session_duration_min=0.05, max_amplitude_ma=amplitude_ma
    )


class FakeClock:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


def run_session(path, rx: Prescription, patient_id: str | None = "P001"):
    """A whole session on a fake stimulator and clock, journalled to ``path``."""
    clock = FakeClock()
    caps = None if patient_id is None else PatientCaps(patient_id=patient_id)
    runner = SessionRunner(
        verify(rx, caps=caps).require_plan(), FakeStimulator(), Journal(path, clock=clock), PERSON,
        settings=SessionSettings(calibration_step_s=0.2, rest_s=0.4), clock=clock,
        patient_id=patient_id,
    )
    while not runner.finished:
        clock.t += 0.05
        runner.heartbeat()
        runner.tick()
    return runner.record


@pytest.fixture(scope="module")
def journals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("journals")
    made = {}
    for name, rx, patient in (
        ("p001", prescription(), "P001"),
        ("p001_other_dose", prescription(25.0), "P001"),
        ("anonymous", prescription(), None),
    ):
        made[name] = (folder / f"{name}.jsonl", run_session(folder / f"{name}.jsonl", rx, patient))
    return made


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    with database.transaction() as s:
        for pseudonym in ("P001", "P002"):
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym=pseudonym,
                                                        enrolled_on=date.today() - timedelta(30)))
        repo.add_prescription(s, CLINICIAN, "P001", PrescriptionIn(
            prescription=prescription(), valid_from=date.today() - timedelta(days=1),
            prescribed_by="dr-ward"))
    yield database
    database.close()


def session_count(database) -> int:
    with database.reading() as s:
        return s.scalar(select(func.count()).select_from(SessionEntry))


def test_imported_session_is_the_record_the_session_produced(db, journals):
    path, record = journals["p001"]
    with db.transaction() as s:
        result = import_journal(s, CLINICIAN, path)
    row = result.session
    assert result.created and row.prescription_id is not None
    assert record.outcome == "completed" and row.outcome == "completed"
    assert row.started_at == datetime.fromisoformat(record.started_at)
    assert (row.max_amplitude_ma, row.mean_amplitude_ma, row.stimulation_s) == (
        record.max_amplitude_ma, record.mean_amplitude_ma, record.stimulation_s)
    assert row.minutes_at_amplitude == record.minutes_at_amplitude
    assert (row.nrs_pre, row.nrs_post, row.skin_post) == (record.nrs_pre, record.nrs_post,
                                                         record.skin_post)
    assert row.calibration == record.calibration.model_dump()
    waveform = prescription().waveform
    assert (row.frequency_hz, row.phase_width_us) == (waveform.frequency_hz,
                                                      waveform.pulse.phase_width_us)
    assert len(row.journal_sha256) == 64 and row.journal_ref.endswith("p001.jsonl")


def test_HAZ041_duplicate_import_is_idempotent(db, journals, tmp_path):
    path, _ = journals["p001"]
    with db.transaction() as s:
        first = import_journal(s, CLINICIAN, path, "P001")
    with db.transaction() as s:
        again = import_journal(s, CLINICIAN, path, "P001")
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes().rstrip(b"\n") + b" \n")  # other bytes, same session
    with db.transaction() as s:
        same_session = import_journal(s, CLINICIAN, copy, "P001")
    assert first.created and not again.created and not same_session.created
    assert again.session.id == first.session.id == same_session.session.id
    assert session_count(db) == 1
    with db.reading() as s:
        assert len(list_sessions(s, CLINICIAN, "P001")) == 1


def truncated(path, tmp_path, keep_lines: int | None = None, torn: bool = False):
    lines = path.read_bytes().splitlines(keepends=True)
    out = tmp_path / "broken.jsonl"
    kept = lines[:keep_lines] if keep_lines else lines
    out.write_bytes(b"".join(kept) + (b'{"seq": 99, "ty' if torn else b""))
    return out


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("no_end", "truncated"),
        ("torn_tail", "nothing after the session_end"),
        ("missing_middle", "lines are missing"),
        ("not_a_journal", "starting with session_start"),
        ("other_patient", "the journal's own patient 'P001'"),
        ("other_dose", "fingerprint of a prescription"),
        ("no_prescription", "prescription of this patient on record"),
        ("unknown_patient", "known patient"),
    ],
)
def test_HAZ045_truncated_or_mismatched_journal_is_refused_and_nothing_written(
    db, journals, tmp_path, damage, expected
):
    path, _ = journals["p001"]
    lines = path.read_bytes().splitlines(keepends=True)
    patient = None
    if damage == "no_end":
        path = truncated(path, tmp_path, keep_lines=len(lines) - 1)
    elif damage == "torn_tail":
        path = truncated(path, tmp_path, torn=True)
    elif damage == "missing_middle":
        path = tmp_path / "gap.jsonl"
        path.write_bytes(b"".join(lines[:5] + lines[7:]))
    elif damage == "not_a_journal":
        path = tmp_path / "other.jsonl"
        path.write_text(json.dumps({"seq": 0, "type": "note"}) + "\n")
    elif damage == "other_patient":
        patient = "P002"
    elif damage == "other_dose":
        path, _ = journals["p001_other_dose"]
    elif damage == "no_prescription":
        path, _ = journals["anonymous"]
        patient = "P002"
    elif damage == "unknown_patient":
        path, _ = journals["anonymous"]
        patient = "P404"
    with pytest.raises(InputError, match=expected), db.transaction() as s:
        import_journal(s, CLINICIAN, path, patient)
    assert session_count(db) == 0


@pytest.mark.parametrize("bound", ["P002", None])
def test_HAZ083_a_session_whose_plan_was_not_verified_for_this_person_is_not_stored(
    db, journals, tmp_path, bound
):
    path, _ = journals["p001"]
    lines = path.read_bytes().splitlines(keepends=True)
    start = json.loads(lines[0])
    assert (start["patient_id"], start["plan_patient_id"]) == ("P001", "P001")
    start["plan_patient_id"] = bound  # another person's plan, or a plan bound to no one
    edited = tmp_path / "edited.jsonl"  # re-chained, as a forger would, to reach the binding
    edited.write_bytes(chained_lines([start, *(json.loads(line) for line in lines[1:])]))
    with pytest.raises(InputError, match=r"journal\.plan_patient_id"), db.transaction() as s:
        import_journal(s, CLINICIAN, edited, "P001")
    assert session_count(db) == 0


def test_a_recovered_crash_journal_imports_as_aborted(db, journals, tmp_path):
    path, _ = journals["p001"]
    crashed = truncated(path, tmp_path, keep_lines=60, torn=True)
    recover(crashed)
    with db.transaction() as s:
        row = import_journal(s, CLINICIAN, crashed).session
    assert row.outcome == "aborted"
    assert row.stimulation_s == record_from_events(read_journal(crashed).events).stimulation_s


def test_anonymous_journal_needs_a_patient_and_unprescribed_sessions_need_a_flag(db, journals):
    path, _ = journals["anonymous"]
    with pytest.raises(InputError, match="the journal names none"), db.transaction() as s:
        import_journal(s, CLINICIAN, path)
    with db.transaction() as s:
        row = import_journal(s, CLINICIAN, path, "P002", unprescribed=True).session
    assert row.prescription_id is None and row.frequency_hz is None


def test_a_session_above_the_home_range_does_not_match_the_prescription(db, journals):
    path, record = journals["anonymous"]
    with db.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P003",
                                                    enrolled_on=date.today() - timedelta(3)))
        repo.add_prescription(s, CLINICIAN, "P003", PrescriptionIn(
            prescription=prescription(), valid_from=date.today() - timedelta(days=1),
            prescribed_by="dr-ward", home_use=True,
            locked_ranges=LockedRanges(
                amplitude_ma={"min": 1, "max": record.max_amplitude_ma / 2})))
    with pytest.raises(InputError, match="at most the prescribed amplitude"), db.transaction() as s:
        import_journal(s, CLINICIAN, path, "P003")


def test_a_session_before_enrolment_is_refused(db, journals):
    path, record = journals["anonymous"]
    started = datetime.fromisoformat(record.started_at).astimezone(UTC)
    later = started + timedelta(days=2)
    with db.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P004",
                                                    enrolled_on=later.date()), now=later)
    with pytest.raises(InputError, match="enrolment"), db.transaction() as s:
        import_journal(s, CLINICIAN, path, "P004", unprescribed=True, now=later)


def test_HAZ041_two_simultaneous_imports_of_one_journal_store_one_session(db, journals):
    import threading

    path, _ = journals["p001"]
    results = []
    with db.transaction() as s:
        results.append(import_journal(s, CLINICIAN, path))
        second = threading.Thread(  # waits for this transaction: its insert would collide
            target=lambda: results.append(_import_in_own_transaction(db.url, path)))
        second.start()
        second.join(0.5)
    second.join(30)
    assert [r.created for r in results] == [True, False]
    assert results[0].session.id == results[1].session.id
    assert session_count(db) == 1


def _import_in_own_transaction(url, path):
    with open_database(url) as database, database.transaction() as s:
        return import_journal(s, CLINICIAN, path)
