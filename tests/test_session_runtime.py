"""Session runtime: states, interlocks, calibration, journal and record (fake clock)."""

from __future__ import annotations

import contextlib
import json
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from session_helpers import (
    PERSON,
    TICK_S,
    FakeClock,
    journal_types,
    make_plan,
    make_runner,
    run_until,
    step,
)
from stimwise.device.simulated import SimulatedStimulator
from stimwise.errors import InputError, SafetyBlockError
from stimwise.safety.caps import PatientCaps
from stimwise.session.journal import Journal, JournalError, read_journal, recover
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.record import record_from_events
from stimwise.session.runtime import SessionRunner, SessionSettings
from stimwise.session.states import OUTPUT_STATES, TERMINAL


def test_a_scripted_session_runs_every_stage_and_records_the_dose(tmp_path):
    runner, device, clock = make_runner(tmp_path)
    step(runner, clock, 200)
    assert runner.finished and runner.state == "completed"
    events = read_journal(tmp_path / "session.jsonl").events
    visited = [e["to_state"] for e in events if e["type"] == "state"]
    assert visited == ["armed", "calibrating", "ramping", "running", "ramping_down", "completed"]
    record = runner.record
    assert record.outcome == "completed"
    assert record.calibration.sensation_threshold_ma == pytest.approx(5.25)
    assert record.calibration.target_ma == pytest.approx(12.0)
    assert record.max_amplitude_ma == pytest.approx(12.0)
    assert (record.nrs_pre, record.nrs_post, record.skin_pre) == (5, 4, "ok")
    assert sum(record.minutes_at_amplitude.values()) * 60 == pytest.approx(
        record.stimulation_s, rel=1e-3
    )
    assert record.max_charge_per_phase_uc == pytest.approx(12.0 * 100 / 1000)
    assert device.output_ma == 0
    assert journal_types(tmp_path)[-1] == "session_end"
    assert record_from_events(events).stimulation_s == pytest.approx(
        record.stimulation_s
    )


def test_HAZ025_amplitude_never_exceeds_the_persons_cap_and_rises_at_the_slew_limit(tmp_path):
    caps = PatientCaps(max_amplitude_ma=8.0)
    plan = make_plan(max_amplitude_ma=8.0)
    runner, device, clock = make_runner(tmp_path, plan=plan, caps=caps, max_slew_ma_per_s=4.0)
    previous = 0.0
    for _ in range(2400):
        step(runner, clock, TICK_S)
        now = device.output_ma
        assert now <= 8.0 + 1e-9
        assert now - previous <= 4.0 * TICK_S + 1e-9
        previous = now
        if runner.finished:
            break
    assert runner.record.max_amplitude_ma == pytest.approx(8.0)


def test_HAZ025_a_plan_that_breaks_the_caps_is_refused_before_anything_happens(tmp_path):
    caps = PatientCaps(forbidden_sites={"left_knee": "test"})
    with pytest.raises(SafetyBlockError, match="left knee"):
        make_runner(tmp_path, caps=caps)


def test_HAZ026_missing_heartbeat_stops_the_output(tmp_path):
    runner, device, clock = make_runner(tmp_path, heartbeat_timeout_s=1.0)
    run_until(runner, clock, "running")
    assert device.output_ma > 0
    step(runner, clock, 1.5, heartbeat=False)
    assert runner.state == "aborted"
    assert device.output_ma == 0 and device.emergency_stops >= 1
    assert "heartbeat" in runner.reason


def test_HAZ026_link_loss_stops_the_output(tmp_path):
    runner, device, clock = make_runner(tmp_path)
    run_until(runner, clock, "calibrating")
    step(runner, clock, 0.5)
    device.fail_updates = True
    step(runner, clock, 2.0)
    assert runner.state == "aborted" and "did not apply" in runner.reason
    assert device.output_ma == 0


@pytest.mark.parametrize("fault", ["lead_off", "peel"])
def test_HAZ026_lead_off_and_impedance_rise_stop_the_simulated_output(tmp_path, fault):
    clock = FakeClock()
    sim = SimulatedStimulator(clock=clock, command_latency_s=0.0)
    runner, _, _ = make_runner(tmp_path, device=sim, clock=clock)
    run_until(runner, clock, "running")
    label = runner.labels[0]
    fault_s = clock.t
    if fault == "lead_off":
        sim.lead_off(label)
    else:
        sim.partial_peel(label, 0.3)
    step(runner, clock, 1.0)
    assert runner.state == "aborted"
    for channel in runner.labels:
        assert not [t for t in sim.pulses(channel) if t > fault_s + 1.0]


@pytest.mark.parametrize(
    "target_state", ["idle", "armed", "calibrating", "ramping", "running", "paused", "ramping_down"]
)
def test_HAZ023_emergency_stop_works_from_every_state(tmp_path, target_state):
    runner, device, clock = make_runner(tmp_path)
    if target_state == "paused":
        run_until(runner, clock, "running")
        runner.command("pause")
        step(runner, clock, TICK_S)
    elif target_state == "ramping_down":
        run_until(runner, clock, "running")
        runner.command("stop")
        step(runner, clock, TICK_S)
    elif target_state == "armed":
        # armed is passed within one tick; stop right after arming via a stub start failure
        run_until(runner, clock, "calibrating")
    elif target_state != "idle":
        run_until(runner, clock, target_state)
    runner.emergency_stop()
    assert runner.state == "aborted"
    assert device.output_ma == 0
    step(runner, clock, 1.0)
    assert runner.finished and device.output_ma == 0
    assert "emergency_stop" in journal_types(tmp_path)


def test_pause_resume_stop_and_habituation_within_the_ceiling(tmp_path):
    runner, device, clock = make_runner(tmp_path, step_ma=1.0)
    run_until(runner, clock, "running")
    runner.command("pause")
    step(runner, clock, 0.2)
    assert runner.state == "paused" and device.output_ma == 0
    runner.command("resume")
    run_until(runner, clock, "running")
    for _ in range(30):
        runner.command("increase")
    step(runner, clock, 5.0)
    assert runner.target_ma == pytest.approx(runner.ceiling_ma)
    assert device.output_ma <= runner.ceiling_ma
    types = journal_types(tmp_path)
    assert "habituation_increase" in types and "command_refused" in types
    runner.command("stop")
    step(runner, clock, 10)
    assert runner.state == "completed" and runner.record.habituation_increases > 0


def test_failed_skin_check_ends_the_session_without_any_output(tmp_path):
    person = ScriptedResponder(5, 12, 20, skin_pre="not_ok")
    runner, device, clock = make_runner(tmp_path, responder=person)
    step(runner, clock, 5)
    assert runner.state == "completed" and runner.finished
    assert device.history == []
    assert "command" not in journal_types(tmp_path)  # never connected, configured or armed
    assert runner.record.skin_pre == "not_ok" and runner.record.stimulation_s == 0


def test_subsensory_and_motor_calibration_targets(tmp_path):
    motor = make_runner(tmp_path / "m", plan=make_plan("nmes-strengthening"))
    runner, _, clock = motor
    run_until(runner, clock, "ramping")
    assert runner.calibration.motor_threshold_ma == pytest.approx(runner.target_ma)
    assert 20 <= runner.target_ma < 20 + runner.step_ma + 1e-9
    person = ScriptedResponder(0.2, 1, 1)
    runner, _, clock = make_runner(tmp_path / "s", plan=make_plan("microcurrent-mens"),
                                   responder=person)
    run_until(runner, clock, "ramping")
    assert runner.target_ma == pytest.approx(0.8 * runner.calibration.sensation_threshold_ma)


def test_HAZ027_journal_failure_stops_output_first_and_keeps_what_was_written(
    tmp_path, monkeypatch
):
    runner, device, clock = make_runner(tmp_path)
    run_until(runner, clock, "running")
    before = read_journal(tmp_path / "session.jsonl").events

    def disk_full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(JournalError, match="No space left"):
        for _ in range(200):
            runner.command("increase")
            step(runner, clock, TICK_S)
    monkeypatch.undo()
    assert device.output_ma == 0 and runner.state == "aborted"
    after = read_journal(tmp_path / "session.jsonl").events
    assert after[: len(before)] == before


def test_HAZ028_a_crashed_journal_is_closed_as_aborted_and_never_resumed(tmp_path):
    runner, _, clock = make_runner(tmp_path)
    run_until(runner, clock, "running")
    path = tmp_path / "session.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"seq": 9999, "type": "upd')  # torn by a crash mid-write
    contents = recover(path)
    assert contents.ended and contents.torn_lines == 1
    assert contents.events[-1]["outcome"] == "aborted"
    record = record_from_events(contents.events)
    assert record.outcome == "aborted" and record.stimulation_s > 0
    assert recover(path).events == contents.events  # idempotent


def test_a_journal_file_is_never_reused(tmp_path):
    (tmp_path / "session.jsonl").write_text('{"type": "session_start"}\n')
    with pytest.raises(JournalError, match="already holds a session"):
        Journal(tmp_path / "session.jsonl")


# --------------------------------------------------------------------------- stateful


class SessionMachine(RuleBasedStateMachine):
    """Any sequence of time, commands, answers and faults: output never above the ceiling, never
    in a non-output state, and zero after every stop."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.dir = tempfile.mkdtemp()
        self.clock = FakeClock()
        self.device = SimulatedStimulator(clock=self.clock, command_latency_s=0.0)
        self.runner = SessionRunner(
            PLAN, self.device, Journal(os.path.join(self.dir, "j.jsonl"), clock=self.clock),
            PERSON, caps=PatientCaps(max_amplitude_ma=10.0),
            settings=SessionSettings(calibration_step_s=0.1, rest_s=0.2), clock=self.clock,
        )

    @rule(seconds=st.floats(0.05, 3.0), beat=st.booleans())
    def wait(self, seconds, beat):
        for _ in range(max(1, round(seconds / TICK_S))):
            self.clock.t += TICK_S
            if beat:
                self.runner.heartbeat()
            self.runner.tick()

    @rule(name=st.sampled_from(["increase", "decrease", "pause", "resume", "stop"]))
    def command(self, name):
        self.runner.command(name)

    @rule()
    def emergency(self):
        self.runner.emergency_stop()

    @rule(fault=st.sampled_from(["lead_off", "peel", "link", "reset", "over_current"]))
    def fault(self, fault):
        label = PLAN.prescription.channels[0].label
        inject = {
            "lead_off": lambda: self.device.lead_off(label),
            "peel": lambda: self.device.partial_peel(label, 0.2),
            "link": lambda: self.device.communication_loss(True),
            "reset": self.device.device_reset,
            "over_current": self.device.over_current,
        }[fault]
        with contextlib.suppress(InputError):  # electrode faults need a loaded plan
            inject()

    @invariant()
    def output_within_ceiling_and_state(self):
        active = [s for s in self.device.log.segments() if s.t_end_s is None]
        assert all(s.amplitude_ma <= 10.0 + 1e-9 for s in self.device.log.segments())
        if self.runner.state not in OUTPUT_STATES:
            assert self.runner.applied_ma == 0.0
        if self.runner.state in TERMINAL:
            assert all(s.amplitude_ma == 0 for s in active)

    def teardown(self):
        self.runner.emergency_stop()


PLAN = make_plan(minutes=0.5, max_amplitude_ma=10.0)
SessionMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHAZ025SessionStateMachineNeverExceedsCapsOrOutputsAfterStop = SessionMachine.TestCase


def test_journal_lines_are_single_json_objects(tmp_path):
    runner, _, clock = make_runner(tmp_path)
    step(runner, clock, 200)
    lines = (tmp_path / "session.jsonl").read_text().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert [json.loads(line)["seq"] for line in lines] == list(range(len(lines)))


def test_HAZ023_a_device_call_failing_because_of_the_emergency_stop_records_the_stop(tmp_path):
    """The control loop may be inside a device call when the user presses the emergency stop
    from another thread; that call then fails because the output stopped. The session must
    record the user's emergency stop, not a device fault."""
    runner, device, clock = make_runner(tmp_path)
    run_until(runner, clock, "running")
    stop_output = device.emergency_stop

    def stop_while_the_loop_checks_the_electrodes() -> None:
        stop_output()
        device.emergency_stop = stop_output
        # What the loop's in-flight status() call sees at this moment: a refused command.
        runner._abort(
            "device status failed: the output was stopped while in flight", "device_fault"
        )

    device.emergency_stop = stop_while_the_loop_checks_the_electrodes
    runner.emergency_stop()
    assert runner.state == "aborted" and device.output_ma == 0
    assert runner.reason == "emergency stop by the user"
