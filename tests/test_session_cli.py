"""``stimwise session run|recover`` end to end, including a kill -9 in the middle (HAZ-028)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.clinical.examples import example_patient_path
from stimwise.session.journal import read_journal

runner = CliRunner()
STIMWISE = str(Path(sys.executable).with_name("stimwise"))


def test_an_automatic_simulated_session_completes_and_prints_its_record(tmp_path):
    journal = tmp_path / "s.jsonl"
    result = runner.invoke(app, [
        "session", "run", "conventional-tens", "--device", "sim", "--auto", "--minutes", "0.05",
        "--calibration-step-s", "0.05", "--journal", str(journal), "--json",
    ])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["outcome"] == "completed"
    assert record["max_amplitude_ma"] > 0
    assert record["calibration"]["sensation_threshold_ma"] is not None
    assert read_journal(journal).ended


def test_a_patient_who_may_not_be_stimulated_gets_no_session(tmp_path):
    result = runner.invoke(app, [
        "session", "run", "conventional-tens", "--auto", "--patient",
        str(example_patient_path("pacemaker")), "--journal", str(tmp_path / "s.jsonl"),
    ])
    assert result.exit_code == 1
    assert "needs specialist clearance" in result.output
    assert not (tmp_path / "s.jsonl").exists()


def test_a_bad_device_spec_is_an_input_error(tmp_path):
    result = runner.invoke(app, [
        "session", "run", "conventional-tens", "--device", "usb", "--auto",
        "--journal", str(tmp_path / "s.jsonl"),
    ])
    assert result.exit_code == 2
    assert "--device" in result.output


def test_HAZ028_kill_9_leaves_a_complete_journal_that_recovers_as_aborted(tmp_path):
    journal = tmp_path / "crash.jsonl"
    process = subprocess.Popen(
        [STIMWISE, "session", "run", "conventional-tens", "--device", "sim", "--auto",
         "--minutes", "2", "--calibration-step-s", "0.05", "--journal", str(journal)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if journal.exists() and '"to_state":"running"' in journal.read_text():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the session never reached running")
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    contents = read_journal(journal)
    assert not contents.ended and contents.torn_lines <= 1
    assert [e["seq"] for e in contents.events] == list(range(len(contents.events)))
    result = runner.invoke(app, ["session", "recover", str(journal), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["outcome"] == "aborted"
    assert "not resumed" in record["reason"]
    assert record["stimulation_s"] > 0
    assert read_journal(journal).ended


def test_HAZ083_a_run_for_a_patient_is_bound_to_them_and_one_without_is_labelled(tmp_path):
    common = ["session", "run", "conventional-tens", "--device", "sim", "--auto", "--minutes",
              "0.01", "--target-ma", "5"]
    bound = tmp_path / "bound.jsonl"
    result = runner.invoke(app, [*common, "--patient", str(example_patient_path("crps-allodynia")),
                                 "--journal", str(bound)])
    assert result.exit_code == 0, result.output
    start = read_journal(bound).events[0]
    assert start["patient_id"] == start["plan_patient_id"] == "DEMO-CRPS-01"
    assert start["patient_specific"] is True and "not patient-specific" not in result.output
    free = tmp_path / "free.jsonl"
    result = runner.invoke(app, [*common, "--journal", str(free)])
    assert result.exit_code == 0, result.output
    assert "not patient-specific" in result.output
    start = read_journal(free).events[0]
    assert start["patient_id"] is None and start["patient_specific"] is False
