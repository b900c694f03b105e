"""A person's record as CSV files in a zip: their own copy of their data, readable in any
spreadsheet.

Files: ``diary.csv``, ``sessions.csv``, ``scores.csv``, ``adverse_events.csv``,
``prescriptions.csv``, ``intakes.csv`` (intake and screening) and ``README.txt`` (what each
file holds). One row per record, one column per stored field, with units in the column names;
nested values (medication changes, minutes at each amplitude, instrument answers, prescription
documents) are JSON text in their cell. Times are ISO 8601 in UTC. The files name the person by
pseudonym only: identifying data is never in this export (hazard HAZ-071). The export is for the
person themself and clinicians, and is audited (``export_csv``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from stimwise.csv_cells import SafeCsvWriter
from stimwise.interop.fhir_export import PersonRecord, load_record
from stimwise.interop.record_keys import instant
from stimwise.records.access import Actor

__all__ = [
    "ADVERSE_EVENT_COLUMNS",
    "DIARY_COLUMNS",
    "INTAKE_COLUMNS",
    "PRESCRIPTION_COLUMNS",
    "README",
    "SCORE_COLUMNS",
    "SESSION_COLUMNS",
    "cell",
    "csv_files",
    "export_csv_zip",
    "table",
]

DIARY_COLUMNS = (
    "entry_uuid", "recorded_at", "body_site", "pain_current_nrs", "pain_average_nrs",
    "pain_worst_nrs", "sleep_interference_nrs", "function_interference_nrs",
    "medication_changes", "note", "retrospective",
)
SESSION_COLUMNS = (
    "id", "prescription_id", "protocol_id", "plan_fingerprint", "device", "started_at",
    "ended_at", "outcome", "reason", "stimulation_s", "max_amplitude_ma", "mean_amplitude_ma",
    "max_charge_per_phase_uc", "frequency_hz", "phase_width_us", "minutes_at_amplitude",
    "calibration", "habituation_increases", "nrs_pre", "nrs_post", "skin_pre", "skin_post",
    "faults", "events",
)
SCORE_COLUMNS = (
    "instrument", "version", "answered_on", "total", "max_total", "positive", "response",
    "score",
)
ADVERSE_EVENT_COLUMNS = (
    "occurred_at", "kind", "severity", "body_site", "description", "session_id",
)
INTAKE_COLUMNS = ("assessed_on", "decision", "rules_version", "intake", "screening")
PRESCRIPTION_COLUMNS = (
    "id", "protocol_id", "fingerprint", "valid_from", "valid_to", "review_on", "home_use",
    "frequency_hz", "phase_width_us", "prescribed_by", "locked_ranges", "caps", "prescription",
)

README = """stimwise export of the record of {pseudonym} (exported {exported}).

diary.csv            symptom diary entries; ratings 0-10 (nrs = numeric rating scale);
                     retrospective = a baseline day a clinician recorded afterwards from
                     the person's recall (not written on the day)
sessions.csv         delivered stimulation sessions and their dose (ma = milliampere,
                     uc = microcoulomb, hz = hertz, us = microsecond, s = second)
scores.csv           completed questionnaires: the answers given and the score computed
adverse_events.csv   adverse events (session_id refers to sessions.csv)
prescriptions.csv    prescriptions with their home ranges and review date (prescription_id in
                     sessions.csv)
intakes.csv          intake assessments and their screening decision with reasons

Times are in UTC (ISO 8601). Cells holding several values are JSON.
stimwise is clinical-decision support and research software, not a certified medical device.
"""


def cell(value: Any) -> str | int | float:
    """One CSV cell: numbers and text as they are, times in UTC, structures as JSON."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def table(rows: Sequence[Any], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(getattr(row, name)) for name in columns])
    return out.getvalue()


def csv_files(record: PersonRecord, exported: datetime) -> dict[str, str]:
    """File name → content of the export of one record."""
    return {
        "README.txt": README.format(pseudonym=record.patient.pseudonym,
                                    exported=instant(exported)),
        "diary.csv": table(record.diary, DIARY_COLUMNS),
        "sessions.csv": table(record.sessions, SESSION_COLUMNS),
        "scores.csv": table(record.scores, SCORE_COLUMNS),
        "adverse_events.csv": table(record.adverse_events, ADVERSE_EVENT_COLUMNS),
        "prescriptions.csv": table(record.prescriptions, PRESCRIPTION_COLUMNS),
        "intakes.csv": table(record.intakes, INTAKE_COLUMNS),
    }


def export_csv_zip(
    database, actor: Actor, pseudonym: str, *, now: datetime | None = None
) -> bytes:
    """The zip (bytes) of a person's record as CSV files; the export is audited.

    Examples
    --------
    >>> import io, tempfile, pathlib, zipfile
    >>> from datetime import date
    >>> from stimwise.interop import export_csv_zip
    >>> from stimwise.records import Actor, create_patient, open_database
    >>> from stimwise.records.inputs import PatientIn
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> clinician = Actor(username="dr-lee", role="clinician")
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     with database.transaction() as session:
    ...         _ = create_patient(session, clinician,
    ...                            PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 5)))
    ...     data = export_csv_zip(database, clinician, "P001")
    >>> sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())[:3]
    ['P001/README.txt', 'P001/adverse_events.csv', 'P001/diary.csv']
    """
    from datetime import UTC

    exported = now or datetime.now(UTC)
    with database.transaction() as session:
        files = csv_files(load_record(session, actor, pseudonym, "export_csv"), exported)
    buffer = io.BytesIO()
    stamp = exported.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(f"{pseudonym}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
