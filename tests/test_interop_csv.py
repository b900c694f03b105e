"""CSV export of a person's record (issue 7 item 4): files, contents, access and audit."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from interop_records import CLINICIAN, CONTACT, FULL_NAME, NOW, add_person, person_database
from stimwise.cli.main import app
from stimwise.interop.csv_export import export_csv_zip
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.models import AuditEntry
from stimwise.records.schema import open_database


@pytest.fixture(scope="module")
def db():
    with person_database() as database:
        yield database


def read_zip(data: bytes) -> dict[str, list[dict[str, str]] | str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()}
    return {name: text if name.endswith(".txt") else list(csv.DictReader(io.StringIO(text)))
            for name, text in files.items()}


def test_the_zip_holds_one_csv_per_kind_of_record_with_every_row(db):
    files = read_zip(export_csv_zip(db, CLINICIAN, "P001", now=NOW))
    assert set(files) == {"README.txt", "diary.csv", "sessions.csv", "scores.csv",
                          "adverse_events.csv", "prescriptions.csv", "intakes.csv"}
    assert [len(files[n]) for n in ("diary.csv", "sessions.csv", "scores.csv",
                                    "adverse_events.csv", "prescriptions.csv")] == [8, 2, 3, 2, 2]
    assert [row["retrospective"] for row in files["diary.csv"]] == ["true"] + ["false"] * 7
    first = files["sessions.csv"][0]
    assert (first["started_at"], first["max_amplitude_ma"], first["outcome"]) == (
        "2026-02-03T09:00:00Z", "18.5", "completed")
    assert json.loads(first["minutes_at_amplitude"]) == {"15-18 mA": 10.5, "18-21 mA": 19.333}
    noted = next(row for row in files["diary.csv"] if row["medication_changes"] != "[]")
    assert json.loads(noted["medication_changes"]) == [{"change": "started",
                                                        "medication": "pregabalin"}]
    assert noted["pain_current_nrs"] == "" and noted["pain_worst_nrs"] == "9"
    event = next(row for row in files["adverse_events.csv"] if row["session_id"])
    assert event["session_id"] == first["id"]
    assert "UTC" in files["README.txt"]
    (intake,) = files["intakes.csv"]
    assert intake["assessed_on"] == "2026-01-20" and intake["decision"]
    assert json.loads(intake["screening"])["decision"] == intake["decision"]


def test_HAZ071_the_csv_export_carries_no_identifying_data(db):
    data = export_csv_zip(db, CLINICIAN, "P001", now=NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = "".join(archive.read(name).decode() for name in archive.namelist())
    for identifying in (FULL_NAME, CONTACT, "1970-03-04"):
        assert identifying not in text


def test_a_person_exports_their_own_record_and_no_one_elses(db):
    own = read_zip(export_csv_zip(db, Actor("alice", "patient", "P001"), "P001", now=NOW))
    assert len(own["diary.csv"]) == 8
    with pytest.raises(AccessDeniedError):
        export_csv_zip(db, Actor("bob", "patient", "P002"), "P001")
    with pytest.raises(AccessDeniedError, match="researcher"):
        export_csv_zip(db, Actor("rs", "researcher"), "P001")


def test_each_csv_export_is_audited(db):
    with db.reading() as s:
        before = s.scalar(select(AuditEntry.id).where(AuditEntry.action == "export_csv")
                          .order_by(AuditEntry.id.desc()))
    export_csv_zip(db, CLINICIAN, "P001", now=NOW)
    with db.reading() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "export_csv")
                          .order_by(AuditEntry.id.desc())).first()
    assert entry.id != before and entry.actor == CLINICIAN.username
    assert entry.record_type == "patient"


def test_cli_writes_the_zip(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    add_person(open_database(url))
    out = tmp_path / "p001.zip"
    result = CliRunner().invoke(app, ["export", "csv", "P001", "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    assert len(read_zip(out.read_bytes())["sessions.csv"]) == 2
    result = CliRunner().invoke(app, ["export", "csv", "NOPE", "--out", str(out), "--db", url])
    assert result.exit_code == 2 and "known patient" in result.output


def test_HAZ116_formulas_typed_into_notes_are_written_as_text_in_every_csv():
    """Issue 17: ``=HYPERLINK(...)``, ``+cmd`` and ``@SUM`` in a note were live formulas."""
    import io

    from stimwise.csv_cells import SafeCsvWriter, safe_cell

    for typed in ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
                  "\t=1", "\r=1"):
        assert safe_cell(typed) == "'" + typed
    assert safe_cell(-2.5) == -2.5 and safe_cell("plain note") == "plain note"
    out = io.StringIO()
    SafeCsvWriter(out).writerow(["=1+1", 3, "@x"])
    assert out.getvalue() == "'=1+1,3,'@x\n"
    from types import SimpleNamespace

    from stimwise.interop.csv_export import table

    written = table([SimpleNamespace(note='=HYPERLINK("http://x","y")', pain=-1)],
                    ["note", "pain"])
    assert written.splitlines()[1] == '"\'=HYPERLINK(""http://x"",""y"")",-1'
