"""Records repository on SQLite and PostgreSQL: patients, identities, diaries, events, clinical
documents, roles, the audit log, transactions and bulk cohorts."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from intake_builders import redated_example
from stimwise.clinical.instruments import InstrumentResponse
from stimwise.errors import InputError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as repo
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.audit import audit_entries
from stimwise.records.cohort import CohortPatient, insert_cohort
from stimwise.records.inputs import (
    AdverseEventIn,
    DiaryEntryIn,
    IdentityIn,
    LockedRanges,
    PatientIn,
    PrescriptionIn,
    UserIn,
)
from stimwise.records.models import AuditEntry, DiaryEntry, Patient, PatientIdentity
from stimwise.records.schema import open_database
from stimwise.safety.plan import prescription_fingerprint

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CLINICIAN = Actor("dr-ward", "clinician")
ENROLLED = date(2026, 1, 15)


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    with database.transaction() as s:
        repo.create_patient(
            s, CLINICIAN,
            PatientIn(pseudonym="P001", enrolled_on=ENROLLED,
                      identity=IdentityIn(full_name="Alice Example", contact="alice@example.org")),
            now=NOW,
        )
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P002", enrolled_on=ENROLLED),
                            now=NOW)
    yield database
    database.close()


def entry(days: float = 10, **ratings) -> DiaryEntryIn:
    ratings = ratings or {"pain_current_nrs": 5, "pain_average_nrs": 4, "pain_worst_nrs": 7}
    return DiaryEntryIn(recorded_at=NOW - timedelta(days=days), **ratings)


def diary_count(database, pseudonym="P001") -> int:
    with database.reading() as s:
        return len(repo.list_diary(s, CLINICIAN, pseudonym))


def test_diary_keeps_several_entries_a_day_in_time_order_with_sites(db):
    morning = DiaryEntryIn(recorded_at=datetime(2026, 5, 1, 8, tzinfo=UTC), pain_current_nrs=6,
                           body_site="left_foot")
    evening = DiaryEntryIn(recorded_at=datetime(2026, 5, 1, 20, tzinfo=UTC), pain_current_nrs=3,
                           sleep_interference_nrs=2, function_interference_nrs=4,
                           medication_changes=[{"medication": "gabapentin",
                                                "change": "dose_increased"}])
    with db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [evening, morning], now=NOW)
    with db.reading() as s:
        rows = repo.list_diary(s, CLINICIAN, "P001")
    assert [r.pain_current_nrs for r in rows] == [6, 3]
    assert rows[0].body_site == "left_foot" and rows[0].recorded_at == morning.recorded_at
    assert rows[1].medication_changes == [{"medication": "gabapentin", "change": "dose_increased"}]
    assert rows[1].recorded_at.tzinfo is not None


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"pain_current_nrs": 11}, "pain_current_nrs"),
        ({"pain_worst_nrs": -1}, "pain_worst_nrs"),
        ({"sleep_interference_nrs": 10.5}, "sleep_interference_nrs"),
        ({"pain_current_nrs": 8, "pain_worst_nrs": 6}, "pain_current_nrs"),
        ({}, "pain_current_nrs"),
        ({"pain_current_nrs": 3, "body_site": "left_wing"}, "body_site"),
    ],
)
def test_out_of_range_diary_values_are_refused_naming_the_field(fields, path):
    from stimwise.protocol.io import validate_model

    with pytest.raises(InputError) as caught:
        validate_model(DiaryEntryIn, {"recorded_at": "2026-05-01T08:00:00+00:00", **fields})
    assert caught.value.problems[0].path == path


def test_naive_times_are_refused():
    from stimwise.protocol.io import validate_model

    with pytest.raises(InputError, match="recorded_at"):
        validate_model(DiaryEntryIn, {"recorded_at": "2026-05-01T08:00:00", "pain_current_nrs": 3})


@pytest.mark.parametrize(
    ("when", "expected"),
    [(NOW + timedelta(hours=1), "not in the future"), (datetime(2026, 1, 14, 23, tzinfo=UTC),
                                                       r"enrolment \(2026-01-15\)")],
)
def test_HAZ040_a_bad_entry_in_a_batch_writes_nothing(db, when, expected):
    bad = DiaryEntryIn(recorded_at=when, pain_current_nrs=4)
    with pytest.raises(InputError, match=expected) as caught, db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [entry(3), entry(2), bad], now=NOW)
    assert caught.value.problems[0].path == "entries[2].recorded_at"
    assert diary_count(db) == 0


def test_HAZ040_a_failure_late_in_a_transaction_rolls_back_earlier_writes(db):
    with pytest.raises(InputError), db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [entry(3)], now=NOW)
        repo.add_adverse_event(
            s, CLINICIAN, "P001",
            AdverseEventIn(occurred_at=NOW + timedelta(days=1), kind="burn", severity="mild"),
            now=NOW,
        )
    assert diary_count(db) == 0
    with db.reading() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.record_type == "diary_entry")) is None


def test_a_resubmitted_diary_entry_is_recognised_not_stored_twice(db):
    first = entry(4)
    with db.transaction() as s:
        (a,) = repo.add_diary_entries(s, CLINICIAN, "P001", [first], now=NOW)
    with db.transaction() as s:
        (b,) = repo.add_diary_entries(s, CLINICIAN, "P001", [first], now=NOW)
    assert a.id == b.id and diary_count(db) == 1
    with pytest.raises(InputError, match="another patient"), db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P002", [first], now=NOW)
    with pytest.raises(InputError, match="unique in a batch"), db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [entry(2), *[entry(1)] * 2], now=NOW)


def test_patients_are_unique_and_not_enrolled_in_the_future(db):
    with pytest.raises(InputError, match="not yet in use"), db.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001", enrolled_on=ENROLLED))
    with pytest.raises(InputError, match="not in the future"), db.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P003", enrolled_on=date(2030, 1, 1)),
                            now=NOW)
    with pytest.raises(InputError, match="known patient"), db.reading() as s:
        repo.get_patient(s, CLINICIAN, "P999")


def test_identity_is_stored_apart_and_can_be_removed_keeping_the_record(db):
    with db.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [entry(2)], now=NOW)
    with db.reading() as s:
        patient = s.scalar(select(Patient).where(Patient.pseudonym == "P001"))
        assert "Alice" not in repr(
            {c.key: getattr(patient, c.key) for c in Patient.__table__.columns}
        )
    with db.transaction() as s:
        assert repo.get_identity(s, CLINICIAN, "P001").full_name == "Alice Example"
        assert repo.remove_identity(s, CLINICIAN, "P001")
    with db.transaction() as s:
        assert repo.get_identity(s, CLINICIAN, "P001") is None
        assert s.scalar(select(PatientIdentity)) is None
    assert diary_count(db) == 1


def test_HAZ044_a_patient_reads_and_writes_only_their_own_record(db):
    with db.transaction() as s:
        admin = Actor("root", "administrator")
        repo.add_user(s, admin, UserIn(username="alice", role="patient", patient="P001"))
        repo.add_user(s, admin, UserIn(username="rita", role="researcher"))
        repo.add_diary_entries(s, CLINICIAN, "P002", [entry(5)], now=NOW)
        alice = repo.actor_for(s, "alice")
        rita = repo.actor_for(s, "rita")
    assert alice == Actor("alice", "patient", "P001")
    with db.transaction() as s:
        repo.add_diary_entries(s, alice, "P001", [entry(1)], now=NOW)
        assert len(repo.list_diary(s, alice, "P001")) == 1
        assert [p.pseudonym for p in repo.list_patients(s, alice)] == ["P001"]
    for attempt in (
        lambda s: repo.list_diary(s, alice, "P002"),
        lambda s: repo.get_identity(s, alice, "P002"),
        lambda s: repo.add_diary_entries(s, alice, "P002", [entry(1)], now=NOW),
        lambda s: repo.add_adverse_event(
            s, alice, "P002", AdverseEventIn(occurred_at=NOW, kind="flare", severity="mild")),
        lambda s: repo.create_patient(s, alice, PatientIn(pseudonym="P009", enrolled_on=ENROLLED)),
        lambda s: repo.get_identity(s, rita, "P001"),
        lambda s: repo.add_diary_entries(s, rita, "P001", [entry(1)], now=NOW),
        lambda s: audit_entries(s, rita),
        lambda s: audit_entries(s, CLINICIAN),
        lambda s: repo.add_user(s, CLINICIAN, UserIn(username="eve", role="administrator")),
        lambda s: repo.list_patients(s, Actor("root", "administrator")),
    ):
        with pytest.raises(AccessDeniedError), db.transaction() as s:
            attempt(s)
    with db.reading() as s:
        assert len(repo.list_diary(s, rita, "P002")) == 1
        assert len(repo.list_patients(s, rita)) == 2
    assert diary_count(db, "P002") == 1


def test_HAZ043_audit_log_is_append_only_and_holds_no_health_data(db, caplog):
    caplog.set_level(logging.DEBUG)
    secret_note = "told my sister about the flare-up"
    with db.transaction() as s:
        repo.add_diary_entries(
            s, CLINICIAN, "P001", [entry(2, pain_current_nrs=9, pain_worst_nrs=9)], now=NOW
        )
        repo.add_diary_entries(s, CLINICIAN, "P001",
                               [DiaryEntryIn(recorded_at=NOW, pain_current_nrs=7,
                                             note=secret_note)], now=NOW)
        repo.get_identity(s, CLINICIAN, "P001")
    with db.reading() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [(e.action, e.record_type) for e in entries]
    assert ("create", "diary_entry") in actions and ("read_identity", "patient") in actions
    assert all(e.actor == "dr-ward" and e.role == "clinician" for e in entries)
    logged = " ".join(
        " ".join(str(getattr(e, c.key)) for c in AuditEntry.__table__.columns) for e in entries
    ) + caplog.text
    for private in ("Alice", "alice@example.org", secret_note, "flare"):
        assert private not in logged
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.reading() as s:
        assert len(list(s.scalars(select(AuditEntry)))) == len(entries)


def test_adverse_events_belong_to_the_patients_own_sessions(db):
    event = AdverseEventIn(occurred_at=NOW - timedelta(days=1), kind="skin_irritation",
                           severity="moderate", body_site="left_calf", description="redness")
    with db.transaction() as s:
        repo.add_adverse_event(s, CLINICIAN, "P001", event, now=NOW)
    with pytest.raises(InputError, match="session of this patient"), db.transaction() as s:
        repo.add_adverse_event(s, CLINICIAN, "P001", event.model_copy(update={"session_id": 42}),
                               now=NOW)
    with db.reading() as s:
        (stored,) = repo.list_adverse_events(s, CLINICIAN, "P001")
    assert (stored.kind, stored.severity, stored.body_site) == ("skin_irritation", "moderate",
                                                                "left_calf")


def test_intake_screening_and_instrument_scores_are_stored_with_versions(db):

    intake = redated_example("crps-allodynia", patient_id="P001", assessed_on=date(2026, 2, 1))
    responses = [InstrumentResponse(instrument="pain_nrs", answered_on=date(2026, 2, 1),
                                    answers={"current": 6, "average": 5, "worst": 8})]
    with db.transaction() as s:
        row = repo.add_intake(s, CLINICIAN, intake, now=NOW)
        (score,) = repo.add_instrument_scores(s, CLINICIAN, "P001", responses, now=NOW)
    assert row.rules_version and row.decision == row.screening["decision"]
    assert row.intake["patient_id"] == "P001"
    assert score.instrument == "pain_nrs" and score.score["version"] == score.version
    with db.reading() as s:
        assert repo.record_counts(s, CLINICIAN, "P001")["instrument_scores"] == 1
    late = responses[0].model_copy(update={"answered_on": date(2026, 1, 1)})
    with pytest.raises(InputError, match="enrolment"), db.transaction() as s:
        repo.add_instrument_scores(s, CLINICIAN, "P001", [late], now=NOW)


def test_prescriptions_record_the_verified_fingerprint_and_locked_home_ranges(db):
    rx = Prescription.from_protocol(get_protocol("conventional-tens"), max_amplitude_ma=25)
    data = PrescriptionIn(prescription=rx, home_use=True, valid_from=date(2026, 2, 1),
                          valid_to=date(2026, 3, 1), prescribed_by="dr-ward",
                          locked_ranges=LockedRanges(amplitude_ma={"min": 5, "max": 20}))
    with db.transaction() as s:
        row = repo.add_prescription(s, CLINICIAN, "P001", data, now=NOW)
    assert row.fingerprint == prescription_fingerprint(rx)
    assert (row.frequency_hz, row.phase_width_us) == (rx.waveform.frequency_hz,
                                                      rx.waveform.pulse.phase_width_us)
    with db.reading() as s:
        assert len(repo.list_prescriptions(s, CLINICIAN, "P001", valid_on=date(2026, 2, 15))) == 1
        assert repo.list_prescriptions(s, CLINICIAN, "P001", valid_on=date(2026, 3, 2)) == []
    with pytest.raises(Exception, match="at most the prescribed"):
        PrescriptionIn(prescription=rx, home_use=True, valid_from=date(2026, 2, 1),
                       prescribed_by="dr", locked_ranges=LockedRanges(
                           amplitude_ma={"min": 5, "max": 30}))


def test_cohort_insertion_is_bulk_validated_and_all_or_nothing(db):
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    members = [
        CohortPatient(
            patient=PatientIn(pseudonym=f"C{i:03d}", enrolled_on=date(2025, 1, 1)),
            diary=[
                DiaryEntryIn(recorded_at=start + timedelta(days=d), pain_average_nrs=(i + d) % 11,
                             entry_uuid=uuid.UUID(int=i * 1000 + d))
                for d in range(30)
            ],
            adverse_events=[AdverseEventIn(occurred_at=start, kind="soreness", severity="mild")],
        )
        for i in range(20)
    ]
    with db.transaction() as s:
        ids = insert_cohort(s, CLINICIAN, members, now=NOW)
    assert len(ids) == 20
    with db.reading() as s:
        assert len(repo.list_diary(s, CLINICIAN, "C007")) == 30
        assert s.scalar(select(DiaryEntry.pain_average_nrs).where(
            DiaryEntry.entry_uuid == str(uuid.UUID(int=7 * 1000 + 3)))) == 10
    future = CohortPatient(PatientIn(pseudonym="Z001", enrolled_on=date(2025, 1, 1)),
                           diary=[DiaryEntryIn(recorded_at=NOW + timedelta(days=2),
                                               pain_current_nrs=1)])
    fine = CohortPatient(PatientIn(pseudonym="Z000", enrolled_on=date(2025, 1, 1)))
    with pytest.raises(InputError, match="cohort\\[Z001\\]"), db.transaction() as s:
        insert_cohort(s, CLINICIAN, [fine, future], now=NOW)
    with pytest.raises(InputError, match="C003"), db.transaction() as s:
        insert_cohort(s, CLINICIAN, [fine, members[3]], now=NOW)
    with db.reading() as s:
        assert "Z000" not in {p.pseudonym for p in repo.list_patients(s, CLINICIAN)}


def test_a_resubmission_racing_the_first_submission_stores_one_entry(db):
    import threading

    first = entry(4)
    results = []

    def resubmit() -> None:
        with open_database(db.url) as other, other.transaction() as s:
            results.append(repo.add_diary_entries(s, CLINICIAN, "P001", [first], now=NOW)[0].id)

    with db.transaction() as s:
        results.append(repo.add_diary_entries(s, CLINICIAN, "P001", [first], now=NOW)[0].id)
        racer = threading.Thread(target=resubmit)  # its insert waits for this transaction
        racer.start()
        racer.join(0.5)
    racer.join(30)
    assert len(results) == 2 and results[0] == results[1]
    assert diary_count(db) == 1
