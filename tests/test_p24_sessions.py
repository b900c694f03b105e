"""Whole sessions of library protocols on the P24 emulator through stimwise's own driver, with
every fault the emulator can inject: each fault stops the output and reaches the journal with
its cause, and what the journal says was delivered agrees with the emulator's pulse log
(delivered charge within 1 %). HAZ-133 (the record of what was delivered), HAZ-131 (output
after a fault).

Each session runs in its own process (``p24_session_worker.py``), side by side, so the slow part
costs about one session's time.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

import pty_client
from p24_session_worker import HEAL_AFTER_S, run_session
from stimwise.session.journal import read_journal

CHARGE_TOLERANCE = 0.01
SESSION_LIMIT_S = 180
STIMWISE = str(Path(sys.executable).with_name("stimwise"))


def run_all(scenarios: list[tuple[str, str | None]], tmp_path) -> dict[str, dict]:
    """``{fault or "clean-PROTOCOL": report}`` of every (protocol, fault) session."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(scenarios)) as pool:
        pending = {
            fault or f"clean-{protocol_id}": pool.apply_async(
                run_session, (protocol_id, fault, str(tmp_path))
            )
            for protocol_id, fault in scenarios
        }
        return {name: result.get(timeout=SESSION_LIMIT_S) for name, result in pending.items()}


def agree(name: str, report: dict, recorded: str, delivered: str) -> None:
    """The journal's charge and the pulse log's agree within 1 % on every channel."""
    for label, charge_uc in report[delivered].items():
        assert charge_uc > 0, (name, label)
        error = abs(report[recorded][label] - charge_uc) / charge_uc
        assert error <= CHARGE_TOLERANCE, (name, label, report[recorded], report[delivered])


@pytest.mark.slow
def test_HAZ133_sessions_whose_link_recovers_complete_and_the_record_matches_the_pulse_log(
    tmp_path,
):
    reports = run_all(
        [
            ("conventional-tens", None),
            ("nmes-calf-pump", None),
            ("conventional-tens", "lost-host-frame"),
            ("nmes-calf-pump", "lost-answer"),
            ("conventional-tens", "corrupted-answer"),
            ("conventional-tens", "late-answers"),
        ],
        tmp_path,
    )
    for name, report in reports.items():
        assert report["outcome"] == "completed", (name, report["reason"])
        assert report["faults"] == [], (name, report["faults"])
        if not name.startswith("clean"):
            assert "injected_s" in report, name
        agree(name, report, "recorded_uc", "delivered_uc")


FAULT_CAUSES = {
    "electrode": ("electrode error", "channel"),
    "reset": ("reset",),
    "two-frames-lost": ("link", "lost", "answered neither"),
    "unplugged": ("link", "lost"),
    "device-stopped-a-channel": ("stopped without an error report",),
    "hang": ("link", "lost"),
}


@pytest.mark.slow
def test_HAZ131_every_device_fault_stops_the_session_with_its_cause_and_the_record_matches(
    tmp_path,
):
    reports = run_all(
        [("conventional-tens", fault) for fault in FAULT_CAUSES if fault != "two-frames-lost"]
        + [("nmes-calf-pump", "two-frames-lost")],
        tmp_path,
    )
    for name, report in reports.items():
        assert "injected_s" in report, name
        assert report["outcome"] == "aborted", (name, report["reason"])
        causes = " ".join(report["faults"]) + " " + (report["reason"] or "")
        assert all(word in causes for word in FAULT_CAUSES[name]), (name, causes)
        known_s, pulses = report["known_s"], report["pulse_times_s"]
        assert known_s - report["injected_s"] < 0.8, name  # tight bounds: test_p24_driver.py
        if name == "hang":  # the device carried on while hung, then stopped by its own rule
            agree(name, report, "recorded_until_fault_uc", "delivered_until_fault_uc")
            assert report["healed_s"] - report["injected_s"] >= HEAL_AFTER_S
            assert max(pulses) <= report["healed_s"] + 2.0 + 0.05
        else:
            agree(name, report, "recorded_uc", "delivered_uc")
            assert [t for t in pulses if t >= known_s + 0.05] == [], name


@pytest.mark.slow
def test_stimwise_session_run_conventional_tens_completes_on_stimwise_emulate_p24(tmp_path):
    """The commands as a person types them, each its own process."""
    link, pulse_log, journal = tmp_path / "p24", tmp_path / "pulses.jsonl", tmp_path / "s.jsonl"
    outputs: list[subprocess.CompletedProcess] = []

    def session() -> None:
        outputs.append(
            subprocess.run(
                [STIMWISE, "session", "run", "conventional-tens", "--device", f"p24:{link}",
                 "--auto", "--minutes", "0.05", "--target-ma", "6", "--journal", str(journal),
                 "--json"],
                capture_output=True, text=True, timeout=SESSION_LIMIT_S, check=False,
            )
        )

    emulate = [STIMWISE, "emulate", "p24", "--link", str(link), "--pulse-log", str(pulse_log)]
    pty_client.first_line_then_sigterm(emulate, link, session)
    [done] = outputs
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert (document["outcome"], document["device"]) == (
        "completed", "Hasomed RehaMove P24 (ScienceMode4)"
    )
    pulses = [json.loads(line) for line in pulse_log.read_text().splitlines()]
    events = read_journal(journal).events
    applied = [e for e in events if e["type"] == "device_event" and e["kind"] == "applied"]
    recorded_ma = max(max(e["detail"]["delivered_ma"].values(), default=0) for e in applied)
    peaks = [max(abs(current) for _, current in p["shape"]) for p in pulses]
    assert recorded_ma == max(peaks) > 0  # ramping up, on the device's 0.5 mA steps
    assert pulses[-1]["t_s"] < events[-1]["t_mono_s"]
