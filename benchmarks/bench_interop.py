"""Time of a FHIR export, its import into an empty database, and a CSV export, for one person
with a year of records (twice-daily diary, a session a day, a prescription, instruments).

No target is set by the issue; this reports what a clinician waits for. The baseline in the same
run is reading the same rows without building anything (``read_only_s``), so the cost of
building and validating the FHIR resources is visible. Prints one JSON document.

Run: ``.venv/bin/python benchmarks/bench_interop.py [--days N] [--repeats N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stimwise.clinical.instruments import InstrumentResponse
from stimwise.interop.csv_export import export_csv_zip
from stimwise.interop.fhir_export import export_bundle, load_record
from stimwise.interop.fhir_import import import_bundle
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.cohort import CohortPatient, insert_cohort
from stimwise.records.inputs import DiaryEntryIn, PatientIn, PrescriptionIn, SessionIn
from stimwise.records.schema import open_database
from stimwise.safety.plan import prescription_fingerprint
from stimwise.session.record import SessionRecord

ACTOR = Actor("bench", "clinician")
START = datetime(2025, 1, 1, 8, tzinfo=UTC)


def session(fingerprint: str, day: int) -> SessionIn:
    started = START + timedelta(days=day, hours=10)
    return SessionIn(record=SessionRecord(
        protocol_id="conventional-tens", plan_fingerprint=fingerprint, device="simulated",
        patient_id="B001", started_at=started.isoformat(),
        ended_at=(started + timedelta(minutes=30)).isoformat(), outcome="completed", reason=None,
        stimulation_s=1800.0, max_amplitude_ma=18.0, mean_amplitude_ma=16.5,
        minutes_at_amplitude={"15-18 mA": 30.0}, max_charge_per_phase_uc=3.6, calibration=None,
        habituation_increases=0, nrs_pre=6, nrs_post=4, skin_pre="ok", skin_post="ok",
        faults=(), events=40,
    ), frequency_hz=100.0, phase_width_us=200.0)


def populate(url: str, days: int, now: datetime) -> None:
    rx = Prescription.from_protocol(get_protocol("conventional-tens"), max_amplitude_ma=25)
    fingerprint = prescription_fingerprint(rx)
    diary = [
        DiaryEntryIn(recorded_at=START + timedelta(hours=12 * i), entry_uuid=uuid.UUID(int=i + 1),
                     pain_current_nrs=i % 9, pain_average_nrs=4, pain_worst_nrs=9)
        for i in range(2 * days)
    ]
    with open_database(url) as database, database.transaction() as s:
        insert_cohort(s, ACTOR, [CohortPatient(
            patient=PatientIn(pseudonym="B001", enrolled_on=date(2025, 1, 1)), diary=diary,
            sessions=[session(fingerprint, day) for day in range(days)])], now=now)
        repo.add_prescription(s, ACTOR, "B001", PrescriptionIn(
            prescription=rx, valid_from=date(2025, 1, 1), prescribed_by="bench"), now=now)
        repo.add_instrument_scores(s, ACTOR, "B001", [
            InstrumentResponse(instrument="pain_nrs", answered_on=date(2025, 1, 1) +
                               timedelta(days=d), answers={"current": 5, "average": 4, "worst": 8})
            for d in range(0, days, 28)
        ], now=now)


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    now = START + timedelta(days=args.days + 1)
    with tempfile.TemporaryDirectory() as folder:
        source = f"sqlite:///{Path(folder) / 'source.sqlite3'}"
        populate(source, args.days, now)
        with open_database(source) as database:
            def read_only():
                with database.transaction() as s:
                    return load_record(s, ACTOR, "B001", "bench_read")

            read_s, _ = timed(read_only, args.repeats)
            export_s, bundle = timed(
                lambda: export_bundle(database, ACTOR, "B001", now=now), args.repeats)
            csv_s, archive = timed(
                lambda: export_csv_zip(database, ACTOR, "B001", now=now), args.repeats)
        text = json.dumps(bundle)
        import_times = []
        for repeat in range(args.repeats):
            with open_database(f"sqlite:///{Path(folder) / f'target{repeat}.sqlite3'}") as target:
                start = time.perf_counter()
                summary = import_bundle(target, ACTOR, text, now=now)
                import_times.append(time.perf_counter() - start)
    print(json.dumps({
        "days": args.days,
        "entries": len(bundle["entry"]),
        "bundle_bytes": len(text),
        "read_only_s": round(read_s, 3),
        "fhir_export_s": round(export_s, 3),
        "fhir_import_into_empty_s": round(statistics.median(import_times), 3),
        "created": sum(summary.created.values()),
        "csv_export_s": round(csv_s, 3),
        "csv_zip_bytes": len(archive),
        "repeats": args.repeats,
    }, indent=2))


if __name__ == "__main__":
    main()
