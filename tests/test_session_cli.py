"""``stimwise session run|recover`` end to end, including a kill -9 in the middle (HAZ-028)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


def _wait_for_output(journal: Path, process: subprocess.Popen, limit_s: float = 120) -> None:
    """Until the session delivers current (the journal shows a non-zero applied amplitude)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the session ended before it delivered anything"
        if journal.exists() and '"to_state":"running"' in journal.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the session never reached running")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "named"), [(signal.SIGINT, "Ctrl-C (SIGINT)"), (signal.SIGTERM, "SIGTERM")]
)
def test_HAZ103_ctrl_c_and_sigterm_stop_the_output_close_the_journal_and_say_so(
    tmp_path, signum, named
):
    journal = tmp_path / "interrupted.jsonl"
    process = subprocess.Popen(
        [STIMWISE, "session", "run", "conventional-tens", "--device", "sim", "--auto",
         "--minutes", "2", "--target-ma", "10", "--journal", str(journal)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for_output(journal, process)
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, err
    assert f"Session aborted: interrupted by {named}. The output was stopped first" in " ".join(
        out.split()
    )
    assert "Traceback" not in err
    events = read_journal(journal).events
    end = events[-1]
    assert end["type"] == "session_end" and end["cause"] == "interrupted"
    assert end["reason"] == f"interrupted by {named}"
    applied = [e["detail"]["delivered_ma"] for e in events
               if e["type"] == "device_event" and e["kind"] == "applied"]
    assert max(max(a.values()) for a in applied) > 0  # it was delivering when interrupted
    assert set(applied[-1].values()) == {0.0}  # and zero before the session end


def test_HAZ103_a_device_refusal_at_start_closes_the_journal_and_exits_1(tmp_path):
    from stimwise.device.sciencemode2.emulator import RehaStim2Emulator

    journal = tmp_path / "refused.jsonl"
    with RehaStim2Emulator() as emulator:
        result = runner.invoke(app, [
            "session", "run", "conventional-tens", "--device", f"rehastim2:{emulator.port}",
            "--auto", "--minutes", "0.1", "--journal", str(journal),
        ])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "Session not started: the device refused the plan before anything was delivered" in text
    assert "symmetric" in text and "Nothing was delivered" in text
    end = read_journal(journal).events[-1]
    assert end["type"] == "session_end" and end["cause"] == "refused"
    assert end["record"]["stimulation_s"] == 0


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
