"""A synthetic person with every kind of record, written through the records repository, for
the interoperability tests (FHIR and CSV export, FHIR import)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from intake_builders import redated_example
from stimwise.clinical.instruments import InstrumentResponse
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.baseline import RecalledDayIn, add_recalled_days
from stimwise.records.inputs import (
    AdverseEventIn,
    DiaryEntryIn,
    IdentityIn,
    LockedRanges,
    MedicationChange,
    PatientIn,
    PrescriptionIn,
    SessionIn,
)
from stimwise.records.schema import open_database
from stimwise.records.sessions import add_session
from stimwise.safety.plan import prescription_fingerprint
from stimwise.session.record import CalibrationResult, SessionRecord

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CLINICIAN = Actor("dr-ward", "clinician")
ENROLLED = date(2026, 1, 15)
FULL_NAME = "Alice Example"
CONTACT = "alice@example.org"


def session_record(fingerprint: str, started: datetime, outcome: str = "completed",
                   amplitude_ma: float = 18.5) -> SessionRecord:
    return SessionRecord(
        protocol_id="conventional-tens", plan_fingerprint=fingerprint, device="simulated",
        patient_id="P001", started_at=started.isoformat(),
        ended_at=(started + timedelta(minutes=30)).isoformat(), outcome=outcome,
        reason=None if outcome == "completed" else "emergency stop pressed",
        stimulation_s=1790.25, max_amplitude_ma=amplitude_ma, mean_amplitude_ma=amplitude_ma - 1.3,
        minutes_at_amplitude={"15-18 mA": 10.5, "18-21 mA": 19.333},
        max_charge_per_phase_uc=3.7,
        calibration=CalibrationResult(sensation_threshold_ma=5.0, motor_threshold_ma=None,
                                      target_ma=17.0, ceiling_reached=False),
        habituation_increases=2, nrs_pre=6, nrs_post=3, skin_pre="ok", skin_post="not_ok",
        faults=() if outcome == "completed" else ("emergency_stop",), events=123,
    )


def add_person(database, pseudonym: str = "P001") -> None:
    """Diary, sessions, scores, prescriptions and adverse events for one person."""
    rx = Prescription.from_protocol(get_protocol("conventional-tens"), max_amplitude_ma=25)
    fingerprint = prescription_fingerprint(rx)
    with database.transaction() as s:
        repo.create_patient(
            s, CLINICIAN,
            PatientIn(pseudonym=pseudonym, enrolled_on=ENROLLED,
                      identity=IdentityIn(full_name=FULL_NAME, date_of_birth=date(1970, 3, 4),
                                          contact=CONTACT)),
            now=NOW,
        )
        home = repo.add_prescription(s, CLINICIAN, pseudonym, PrescriptionIn(
            prescription=rx, home_use=True, valid_from=date(2026, 2, 1),
            valid_to=date(2026, 3, 1), prescribed_by="dr-ward",
            locked_ranges=LockedRanges(amplitude_ma={"min": 5, "max": 20},
                                       session_duration_min={"min": 10, "max": 30})),
            now=NOW)
        repo.add_prescription(s, CLINICIAN, pseudonym, PrescriptionIn(
            prescription=Prescription.from_protocol(get_protocol("conventional-tens"),
                                                    max_amplitude_ma=30),
            valid_from=date(2026, 3, 2), prescribed_by="dr-ward"), now=NOW)
        first = add_session(s, CLINICIAN, pseudonym, SessionIn(
            record=session_record(fingerprint, datetime(2026, 2, 3, 9, tzinfo=UTC)),
            frequency_hz=100.0, phase_width_us=200.0, prescription_id=home.id,
            journal_sha256="a" * 64), now=NOW).session
        add_session(s, CLINICIAN, pseudonym, SessionIn(
            record=session_record(fingerprint, datetime(2026, 2, 5, 18, 30, tzinfo=UTC),
                                  outcome="aborted", amplitude_ma=12.25)), now=NOW)
        entries = [
            DiaryEntryIn(
                recorded_at=datetime(2026, 2, 1, 8, tzinfo=UTC) + timedelta(hours=12 * i),
                entry_uuid=uuid.UUID(int=1000 + i),
                pain_current_nrs=i % 8, pain_average_nrs=min(i % 8, 5), pain_worst_nrs=8,
                sleep_interference_nrs=4 if i % 2 else None,
                function_interference_nrs=3,
            )
            for i in range(6)
        ]
        entries.append(DiaryEntryIn(
            recorded_at=datetime(2026, 2, 4, 20, tzinfo=UTC), entry_uuid=uuid.UUID(int=2000),
            pain_worst_nrs=9, body_site="left_calf", note="walked further today",
            medication_changes=(MedicationChange(medication="pregabalin", change="started"),),
        ))
        repo.add_diary_entries(s, CLINICIAN, pseudonym, entries, now=NOW)
        add_recalled_days(s, CLINICIAN, pseudonym, [  # a baseline day from before enrolment
            RecalledDayIn(day=date(2026, 1, 14), pain_average_nrs=6, note="recalled at intake")],
            now=datetime(2026, 1, 20, 10, tzinfo=UTC))
        repo.add_instrument_scores(s, CLINICIAN, pseudonym, [
            InstrumentResponse(instrument="pain_nrs", answered_on=date(2026, 2, 1),
                               answers={"current": 6, "average": 5, "worst": 8}),
            InstrumentResponse(instrument="dn4", version="interview", answered_on=date(2026, 2, 1),
                               answers={"burning": "yes", "painful_cold": "no",
                                        "electric_shocks": True, "tingling": "yes",
                                        "pins_and_needles": "no", "numbness": "no",
                                        "itching": "no"}),
            InstrumentResponse(instrument="pgic", answered_on=date(2026, 3, 1),
                               answers={"impression": "Much improved"}),
        ], now=NOW)
        repo.add_adverse_event(s, CLINICIAN, pseudonym, AdverseEventIn(
            occurred_at=datetime(2026, 2, 3, 10, tzinfo=UTC), kind="skin_irritation",
            severity="mild", body_site="left_calf", description="redness under the electrode",
            session_id=first.id), now=NOW)
        repo.add_adverse_event(s, CLINICIAN, pseudonym, AdverseEventIn(
            occurred_at=datetime(2026, 2, 10, 7, tzinfo=UTC), kind="flare", severity="moderate"),
            now=NOW)
        intake = redated_example("crps-allodynia", patient_id=pseudonym,
                                 assessed_on=date(2026, 1, 20))
        repo.add_intake(s, CLINICIAN, intake, now=NOW)


@contextmanager
def person_database(url: str = "sqlite://") -> Iterator:
    """An open database holding the synthetic person P001, closed afterwards."""
    database = open_database(url)
    try:
        add_person(database)
        yield database
    finally:
        database.close()
