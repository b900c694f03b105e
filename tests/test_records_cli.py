"""The record commands end to end: JSON documents, exit codes and one-paragraph errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", db_url])
    return result.exit_code, result.output


@pytest.fixture
def db(db_url):
    assert run(db_url, "db", "init")[0] == 0
    enrolled = (date.today() - timedelta(days=20)).isoformat()
    code, out = run(db_url, "patient", "add", "P001", "--enrolled-on", enrolled,
                    "--name", "Cleo Example", "--json")
    assert code == 0 and json.loads(out)["pseudonym"] == "P001"
    return db_url


def test_patient_and_diary_commands(db):
    at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    code, out = run(db, "diary", "add", "P001", "--pain", "6", "--average", "5", "--worst", "8",
                    "--sleep", "4", "--function", "3", "--site", "left_foot", "--at", at,
                    "--medication", "pregabalin:started", "--note", "bad night", "--json")
    assert code == 0, out
    entry_id = json.loads(out)["entry_uuid"]
    code, out = run(db, "diary", "add", "P001", "--pain", "6", "--entry-id", entry_id, "--json")
    assert code == 0 and json.loads(out)["entry_uuid"] == entry_id
    code, out = run(db, "patient", "show", "P001", "--json")
    shown = json.loads(out)
    assert shown["records"]["diary_entries"] == 1
    assert shown["latest_diary"]["pain_worst_nrs"] == 8
    assert "identity" not in shown and "Cleo" not in out
    code, out = run(db, "patient", "show", "P001", "--identity", "--json")
    assert json.loads(out)["identity"]["full_name"] == "Cleo Example"
    code, out = run(db, "patient", "list", "--json")
    assert [p["pseudonym"] for p in json.loads(out)] == ["P001"]


BAD_INPUT = (
    (["diary", "add", "P001", "--pain", "12"], "--pain"),
    (["diary", "add", "P001", "--pain", "3", "--at", "2099-01-01T00:00:00+00:00"], "--at"),
    (["diary", "add", "P001", "--pain", "3", "--at", "2001-01-01T00:00:00+00:00"], "--at"),
    (["diary", "add", "P001", "--pain", "3", "--at", "yesterday"], "--at"),
    (["diary", "add", "P001", "--pain", "3", "--medication", "x:doubled"], "--medication"),
    (["diary", "add", "P404", "--pain", "3"], "patient"),
    (["patient", "add", "P001"], "pseudonym"),
    (["patient", "add", "no spaces"], "PSEUDONYM"),
    (["patient", "add", "P002", "--enrolled-on", "2099-01-01"], "enrolled_on"),
)


def test_bad_input_exits_2_with_one_paragraph_naming_the_option(db):
    for args, named in BAD_INPUT:
        code, out = run(db, *args)
        assert code == 2, (args, out)
        assert out.startswith("stimwise: Invalid input") and named in out, (args, out)
        assert "Traceback" not in out
    code, out = run(db, "patient", "list", "--json")
    assert [p["pseudonym"] for p in json.loads(out)] == ["P001"]
    code, out = run(db, "patient", "show", "P001", "--json")
    assert json.loads(out)["records"]["diary_entries"] == 0


def test_session_import_and_prescription_commands(db, tmp_path):
    from test_records_import import prescription, run_session

    journal = tmp_path / "s.jsonl"
    run_session(journal, prescription(), "P001")
    code, out = run(db, "session", "import", str(journal), "--json")
    assert code == 2 and "prescription" in json.loads(out)["problems"][0]["path"]
    code, out = run(db, "prescription", "add", "P001", "conventional-tens", "--minutes", "0.05",
                    "--home-range-ma", "2:25", "--json")
    assert code == 0, out
    code, out = run(db, "session", "import", str(journal), "--json")
    assert code == 0 and json.loads(out)["created"] is True
    code, out = run(db, "session", "import", str(journal))
    assert code == 0 and "already imported" in out
    code, out = run(db, "prescription", "add", "P001", "conventional-tens", "--amplitude-ma",
                    "500")
    assert code == 2


def test_db_backup_and_restore_commands(db, tmp_path):
    target = tmp_path / "records.backup"
    code, out = run(db, "db", "backup", str(target), "--json")
    assert code == 0 and json.loads(out)["rows"] > 0
    code, out = run(db, "db", "restore", str(target))
    assert code == 1 and "--force" in out
    code, out = run(db, "db", "restore", str(target), "--force", "--keep",
                    str(tmp_path / "kept"), "--json")
    assert code == 0 and json.loads(out)["previous_database_backup"].endswith("kept")
    code, out = run(db, "db", "migrate", "--json")
    assert code == 0 and json.loads(out)["to_revision"] == json.loads(out)["from_revision"]


def test_adverse_event_command(db):
    code, out = run(db, "adverse-event", "add", "P001", "--kind", "skin_irritation",
                    "--severity", "mild", "--site", "left_calf", "--description", "redness",
                    "--json")
    assert code == 0 and json.loads(out)["kind"] == "skin_irritation"
    code, out = run(db, "adverse-event", "add", "P001", "--kind", "sunburn", "--severity", "mild")
    assert code == 2 and "--kind" in out
    code, out = run(db, "adverse-event", "add", "P001", "--kind", "burn", "--severity", "mild",
                    "--session", "99")
    assert code == 2 and "--session" in out
    code, out = run(db, "patient", "show", "P001", "--json")
    assert json.loads(out)["records"]["adverse_events"] == 1


def test_patient_intake_stores_intake_screening_and_scores(db_url):
    from stimwise.clinical.examples import example_patient_path

    intake = str(example_patient_path("crps-allodynia"))
    code, out = run(db_url, "patient", "intake", intake)
    assert code == 2 and "known patient" in out
    code, out = run(db_url, "patient", "intake", intake, "--enrol", "--json")
    assert code == 0, out
    stored = json.loads(out)
    assert stored["decision"] and stored["rules_version"]
    code, out = run(db_url, "patient", "show", stored["patient"], "--json")
    counts = json.loads(out)["records"]
    assert counts["intakes"] == 1
    assert counts["instrument_scores"] == len(stored["instrument_scores"]) > 0
