"""The record says what the device delivered: every fault with its cause, a stop by the device
ends the session at once, no time at zero output counted, the device's quantised amplitudes,
every end closed with a ``session_end`` and the output zero first, refused commands with a
reason (simulated stimulator and the in-memory fake, manual clock).

Hazards: HAZ-100 (faults lost or misnamed), HAZ-101 (device-side stop), HAZ-102 (record from
delivery), HAZ-103 (every end closes the journal), HAZ-104 (the device's grid), HAZ-105 (refusals
say why). The RehaStim 2 emulator's faults are in ``test_rehastim2_delivery.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from fake_device import FakeStimulator
from session_helpers import TICK_S, FakeClock, make_plan, make_runner, run_until, step
from stimwise.device.interface import DeviceError, DeviceRefusalError
from stimwise.device.simulated import SimulatedStimulator
from stimwise.safety.caps import PatientCaps
from stimwise.session.journal import read_journal
from stimwise.session.record import record_from_events

TARGET_MA = 10.0


def sim_session(tmp_path, *, latency_s: float = 0.0, plan=None, **settings):
    """A session on the simulated stimulator that skips calibration (level ``TARGET_MA``)."""
    clock = FakeClock()
    sim = SimulatedStimulator(clock=clock, command_latency_s=latency_s)
    runner, _, _ = make_runner(
        tmp_path, device=sim, clock=clock, plan=plan,
        **({"calibrate": False, "target_ma": TARGET_MA} | settings),
    )
    return runner, sim, clock


def journal(tmp_path) -> tuple[dict, ...]:
    return read_journal(tmp_path / "session.jsonl").events


def device_faults(events) -> list[dict]:
    return [e for e in events if e["type"] == "device_event" and e["kind"] == "fault"]


def last_delivered_before_end(events) -> dict[str, float]:
    applied = [
        e["detail"]["delivered_ma"] for e in events
        if e["type"] == "device_event" and e["kind"] == "applied"
        and "delivered_ma" in e["detail"]
    ]
    return applied[-1]


def finish(runner, clock, seconds: float = 5.0) -> None:
    step(runner, clock, seconds)
    assert runner.finished


# The simulator's fault injections: (inject, the fault code it reports).
SIM_FAULTS: dict[str, tuple[Callable[[SimulatedStimulator, str], None], str]] = {
    "lead off": (lambda sim, label: sim.lead_off(label), "lead_off"),
    "one electrode off": (lambda sim, label: sim.lead_off(label, electrode=1), "lead_off"),
    "peel past compliance": (lambda sim, label: sim.partial_peel(label, 0.01), "compliance"),
    "link loss": (lambda sim, label: sim.communication_loss(True), "link_lost"),
    "over-current": (lambda sim, label: sim.over_current(), "over_current"),
    "device reset": (lambda sim, label: sim.device_reset(), "device_reset"),
}


class InjectInFlight:
    """Stands in for the simulator's link wait (``_idle``): the next command's wait injects the
    fault, so it arrives while that command is in flight, between the command's checks and its
    effect (deterministic; later waits return at once)."""

    def __init__(self, inject: Callable[[], None]) -> None:
        self._inject = inject
        self.fired = False

    def wait(self, timeout: float | None = None) -> bool:
        if not self.fired:
            self.fired = True
            self._inject()
        return False


# --------------------------------------------------------------------------- HAZ-100


@pytest.mark.parametrize("when", ["steady", "in flight"])
@pytest.mark.parametrize("fault", list(SIM_FAULTS))
def test_HAZ100_every_simulator_fault_is_journaled_with_its_cause(tmp_path, fault, when):
    """Every injectable fault, whenever it arrives, reaches the journal with its code and
    message, and the session's reason (what the user is told) names it: never the symptom."""
    runner, sim, clock = sim_session(tmp_path, latency_s=0.001)
    run_until(runner, clock, "running")
    label = runner.labels[0]
    inject, code = SIM_FAULTS[fault]
    if when == "in flight":
        hook = InjectInFlight(lambda: inject(sim, label))
        sim._idle = hook
        step(runner, clock, 1.0)  # the next status() or update() carries the fault
        assert hook.fired
    else:
        inject(sim, label)
        step(runner, clock, TICK_S)
    finish(runner, clock)
    events = journal(tmp_path)
    faults = [e for e in device_faults(events) if e["detail"].get("code") == code]
    assert faults, f"no {code} fault in the journal"
    message = faults[0]["message"]
    assert runner.state == "aborted" and runner.end_cause == "device_fault"
    assert runner.reason == f"device fault: {message}"
    assert "not applied" not in runner.reason and "failed" not in runner.reason
    assert message in runner.record.faults
    end = events[-1]
    assert end["type"] == "session_end" and end["reason"] == runner.reason
    assert end["cause"] == "device_fault"
    assert sim.log.segments() and all(s.t_end_s is not None for s in sim.log.segments())


def test_HAZ100_a_fault_during_a_command_keeps_the_failed_command_as_its_symptom(tmp_path):
    runner, sim, clock = sim_session(tmp_path, latency_s=0.001)
    run_until(runner, clock, "running")
    sim._idle = InjectInFlight(sim.over_current)
    step(runner, clock, 1.0)
    stop = next(e for e in journal(tmp_path) if e["type"] == "emergency_stop")
    assert stop["reason"] == "device fault: over-current detected: output stopped"
    assert "was not applied" in stop["symptom"]
    assert stop["cause"] == "device_fault"


# --------------------------------------------------------------------------- HAZ-101


def test_HAZ101_a_stop_made_by_the_device_ends_the_running_state_at_once(tmp_path):
    runner, sim, clock = sim_session(tmp_path)
    run_until(runner, clock, "running")
    step(runner, clock, 2.0)
    assert runner.delivered_ma == TARGET_MA
    sim.device_stop()
    stopped_s = clock.t
    step(runner, clock, TICK_S)
    assert runner.state == "aborted" and runner.end_cause == "device_stop"
    assert "stopped the output by itself" in runner.reason
    assert "own stop button" in runner.reason
    step(runner, clock, 6.0)  # the 5.9 s of the issue: none of it is stimulation
    record = runner.record
    events = journal(tmp_path)
    first_s = next(
        e["t_mono_s"] for e in events
        if e["type"] == "device_event" and e["kind"] == "applied"
        and max(e["detail"]["delivered_ma"].values(), default=0) > 0
    )
    # the stop is journaled at the next control step: at most one tick late
    assert 0 <= record.stimulation_s - (stopped_s - first_s) <= TICK_S + 1e-6
    assert events[-1]["cause"] == "device_stop"


def test_HAZ101_a_device_that_silently_stops_is_caught_by_the_status_check(tmp_path):
    """A driver that says nothing when it stops: the status reading ends the session."""
    runner, device, clock = make_runner(tmp_path, calibrate=False, target_ma=TARGET_MA)
    run_until(runner, clock, "running")
    device.state = "stopped"
    device.amplitudes = dict.fromkeys(device.amplitudes, 0.0)
    step(runner, clock, 1.0)
    assert runner.state == "aborted" and runner.end_cause == "device_stop"
    assert "reports stopped" in runner.reason


# --------------------------------------------------------------------------- HAZ-102


class FloorsToWholeMa(FakeStimulator):
    """A device that declares a fine step but delivers whole mA (as a driver must report)."""

    def _applied(self, reason: str) -> None:
        self.events.emit(
            "applied", reason,
            delivered_ma={label: float(int(ma)) for label, ma in self.amplitudes.items()},
        )


def test_HAZ102_the_record_counts_what_the_device_delivered_not_what_was_asked(tmp_path):
    runner, _, clock = make_runner(
        tmp_path, device=FloorsToWholeMa(), calibrate=False, target_ma=0.9
    )
    finish(runner, clock, 200)
    updates = [e["amplitude_ma"] for e in journal(tmp_path) if e["type"] == "update"]
    assert max(updates) == pytest.approx(0.9)  # asked for all session long
    assert runner.record.stimulation_s == 0  # the device delivered 0 mA throughout
    assert runner.record.max_amplitude_ma == 0 and runner.record.minutes_at_amplitude == {}


def test_HAZ102_ramps_and_their_tails_at_zero_output_are_not_stimulation(tmp_path):
    """crps-gentle-sensory (30 s ramps) for 1.6 min at 5 mA: the record held 126 s of
    stimulation for a 96 s session (the ramp-down's last 0.000184 mA, delivered as 0, counted for
    30 s of ramping down)."""
    plan = make_plan("crps-gentle-sensory", minutes=1.6, max_amplitude_ma=8.0)
    runner, _, clock = sim_session(tmp_path, plan=plan, target_ma=5.0)
    finish(runner, clock, 200)
    record = runner.record
    assert record.outcome == "completed"
    assert record.stimulation_s <= 96.0
    assert record.stimulation_s == pytest.approx(96.0, abs=0.5)
    assert record.max_amplitude_ma == 5.0


def test_HAZ102_a_pause_is_not_stimulation(tmp_path):
    """The planned time stands still in a pause: a session paused for 10 s delivers as long as
    one that was not, and lasts 10 s longer."""
    plain, _, clock = sim_session(tmp_path / "plain", plan=make_plan(minutes=0.5))
    finish(plain, clock, 60)
    runner, _, clock = sim_session(tmp_path / "paused", plan=make_plan(minutes=0.5))
    run_until(runner, clock, "running")
    runner.command("pause")
    step(runner, clock, 10.0)
    assert runner.delivered_ma == 0
    runner.command("resume")
    finish(runner, clock, 60)
    assert runner.record.stimulation_s == pytest.approx(plain.record.stimulation_s, abs=1.0)
    events = read_journal(tmp_path / "paused" / "session.jsonl").events
    assert record_from_events(events).stimulation_s == runner.record.stimulation_s


def test_HAZ102_journals_without_delivery_reports_hold_no_stimulation():
    start = {
        "seq": 0, "t_mono_s": 0.0, "t_wall": "2026-01-01T00:00:00+00:00",
        "type": "session_start", "ceiling_ma": 30, "protocol_id": "p", "plan_fingerprint": "f",
        "device": "d", "charge_per_phase_uc_at_max": 6.0, "plan_max_amplitude_ma": 30,
    }
    asked = {"seq": 1, "t_mono_s": 1.0, "type": "update", "amplitude_ma": 0.24}
    end = {"seq": 2, "t_mono_s": 3.7, "type": "session_end", "outcome": "completed"}
    assert record_from_events([start, asked, end]).stimulation_s == 0


# --------------------------------------------------------------------------- HAZ-103


class RefusesEverything(FakeStimulator):
    def configure(self, plan, timeout_s: float = 1.0) -> None:
        raise DeviceRefusalError(["it makes only symmetric pulses"])


ENDINGS: dict[str, tuple[Callable, str, str]] = {
    # how the session ends: (what to do once running or from the start, outcome, cause)
    "planned time": (lambda r, d, c: None, "completed", "completed"),
    "user stop": (lambda r, d, c: r.command("stop"), "completed", "stopped"),
    "emergency stop": (lambda r, d, c: r.emergency_stop(), "aborted", "emergency_stop"),
    "interrupt (SIGTERM)": (
        lambda r, d, c: r.interrupt("interrupted by SIGTERM"), "aborted", "interrupted"
    ),
    "device fault": (lambda r, d, c: d.over_current(), "aborted", "device_fault"),
    "dead-man": (lambda r, d, c: step(r, c, 3.0, heartbeat=False), "aborted", "interlock"),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_HAZ103_every_end_closes_the_journal_after_the_output_is_zero(tmp_path, ending):
    runner, sim, clock = sim_session(tmp_path, plan=make_plan(minutes=0.3))
    act, outcome, cause = ENDINGS[ending]
    run_until(runner, clock, "running")
    act(runner, sim, clock)
    finish(runner, clock, 60)
    events = journal(tmp_path)
    end = events[-1]
    assert end["type"] == "session_end"
    assert (end["outcome"], end["cause"]) == (outcome, cause)
    assert end["reason"] and end["reason"] == runner.reason == runner.record.reason
    assert set(last_delivered_before_end(events).values()) == {0.0}
    assert all(s.t_end_s is not None for s in sim.log.segments())


def test_HAZ103_a_device_refusal_at_start_closes_the_journal_with_nothing_delivered(tmp_path):
    device = RefusesEverything()
    runner, _, clock = make_runner(tmp_path, device=device, calibrate=False, target_ma=5.0)
    finish(runner, clock)
    end = journal(tmp_path)[-1]
    assert end["type"] == "session_end" and end["cause"] == "refused"
    assert "only symmetric pulses" in end["reason"]
    assert runner.record.stimulation_s == 0 and device.history == []


def test_HAZ103_the_time_limit_closes_the_journal(tmp_path):
    silent = type("Silent", (), {"answer": lambda self, prompt: None})()
    runner, _, clock = make_runner(tmp_path, responder=silent, max_overrun_s=1.0)
    step(runner, clock, 70)  # the pain question is never answered: 60 s planned + 1 s
    assert runner.finished and runner.end_cause == "interlock"
    assert journal(tmp_path)[-1]["reason"] == "session time limit exceeded"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_HAZ103_an_exception_in_the_control_loop_stops_then_closes_the_journal(tmp_path, error):
    runner, sim, clock = sim_session(tmp_path, tick_s=1e-4)
    delivering_ticks = []

    def on_tick(snapshot) -> None:
        clock.t += TICK_S
        runner.heartbeat()
        if snapshot.delivered_ma > 0:
            delivering_ticks.append(snapshot)
        if len(delivering_ticks) == 3:
            raise error("in the middle of a session")

    with pytest.raises(error):
        runner.run(on_tick=on_tick)
    end = journal(tmp_path)[-1]
    assert end["type"] == "session_end" and end["cause"] == "interrupted"
    assert end["reason"].startswith("interrupted by")
    assert runner.record is not None and runner.record.stimulation_s > 0
    assert sim.log.segments()[-1].t_end_s is not None


# --------------------------------------------------------------------------- HAZ-104


def test_HAZ104_the_ramp_reaches_its_level_and_an_increase_is_then_applied(tmp_path):
    """crps-gentle-sensory, level 5 mA, ceiling 8 mA: the ramp stopped at 4.999 mA and the
    session stayed "ramping" (every "+ mA" refused); from the CLI "running" came after 66 s."""
    plan = make_plan("crps-gentle-sensory", minutes=1.6, max_amplitude_ma=8.0)
    runner, _, clock = sim_session(tmp_path, plan=plan, target_ma=5.0)
    run_until(runner, clock, "ramping")
    ramp_started_s = clock.t
    run_until(runner, clock, "running", limit_s=40)
    assert clock.t - ramp_started_s == pytest.approx(30.0, abs=2 * TICK_S)
    assert runner.delivered_ma == 5.0
    runner.command("increase")
    step(runner, clock, 1.0)
    assert runner.refusal is None
    assert runner.target_ma == pytest.approx(5.2)  # one step: 1/40 of the 8 mA ceiling
    assert runner.delivered_ma == pytest.approx(5.2)


def test_HAZ104_a_coarse_device_is_asked_only_for_what_it_can_deliver(tmp_path):
    """A device with whole-mA steps (the RehaStim 2's): every request is on its grid, the
    ceiling is floored to it, the ramp still reaches the level, the rate limit holds."""
    device = FakeStimulator(step_ma=1.0)
    runner, _, clock = make_runner(
        tmp_path, device=device, plan=make_plan(minutes=0.5, max_amplitude_ma=7.5),
        caps=PatientCaps(max_amplitude_ma=7.5), calibrate=False, target_ma=6.6,
        max_slew_ma_per_s=4.0,
    )
    assert runner.ceiling_ma == 7.0 and runner.target_ma == 6.0 and runner.step_ma == 1.0
    run_until(runner, clock, "running")
    finish(runner, clock, 60)
    events = journal(tmp_path)
    asked = [(e["t_mono_s"], e["amplitude_ma"]) for e in events if e["type"] == "update"]
    assert {a for _, a in asked} <= {float(n) for n in range(8)}
    rises = [(t1 - t0, a1 - a0) for (t0, a0), (t1, a1) in itertools.pairwise(asked) if a1 > a0]
    assert all(ma / s <= 4.0 + 1e-6 for s, ma in rises)
    assert runner.record.max_amplitude_ma == 6.0


def test_HAZ104_a_ceiling_below_one_device_step_is_refused_before_anything(tmp_path):
    device = FakeStimulator(step_ma=1.0)
    runner, _, clock = make_runner(
        tmp_path, device=device, caps=PatientCaps(max_amplitude_ma=0.5),
        plan=make_plan(max_amplitude_ma=0.5), calibrate=False, target_ma=0.5,
    )
    finish(runner, clock)
    assert runner.end_cause == "refused" and "steps of 1 mA" in runner.reason
    assert device.history == []


# --------------------------------------------------------------------------- HAZ-105


def test_HAZ105_every_refused_command_says_why(tmp_path):
    plan = make_plan("crps-gentle-sensory", minutes=1.0, max_amplitude_ma=8.0)
    runner, _, clock = sim_session(tmp_path, plan=plan, target_ma=7.9)
    run_until(runner, clock, "ramping")
    seen: list[tuple[str, str]] = []

    def refused(command: str) -> str:
        runner.command(command)
        step(runner, clock, TICK_S)
        refusal = runner.snapshot().refusal
        assert refusal is not None and refusal.command == command
        assert refusal.seq == len(seen) + 1
        seen.append((command, refusal.reason))
        return refusal.reason

    assert "still ramping up" in refused("increase")
    assert "not paused" in refused("resume")
    assert "unknown command" in refused("louder")
    run_until(runner, clock, "running", limit_s=40)
    runner.command("increase")
    step(runner, clock, TICK_S)
    assert "ceiling of 8 mA" in refused("increase")
    events = journal(tmp_path)
    journaled = [(e["command"], e["reason"]) for e in events if e["type"] == "command_refused"]
    assert journaled == seen


# --------------------------------------------------------------------------- HAZ-106


def test_HAZ106_the_simulator_reports_what_it_delivers():
    """The reporting contract on the simulator: every change of output is an applied event
    naming every channel with the floored mA it delivers; a fault that stops a command in flight
    is on the stream when the command raises."""
    plan = make_plan()
    sim = SimulatedStimulator(command_latency_s=0.0)
    labels = [c.label for c in plan.prescription.channels]
    sim.connect()
    sim.configure(plan)
    sim.arm()
    sim.start()
    sim.update(dict.fromkeys(labels, 2.678))
    applied = [e for e in sim.events.drain() if e.kind == "applied"]
    assert applied[-1].detail["delivered_ma"] == dict.fromkeys(labels, 2.67)
    sim.emergency_stop()
    assert sim.events.drain()[-1].detail["delivered_ma"] == dict.fromkeys(labels, 0.0)
    sim.arm()
    sim.start()
    sim._idle = InjectInFlight(sim.over_current)
    with pytest.raises(DeviceError, match="not applied"):
        sim.update(dict.fromkeys(labels, 5.0))
    reported = sim.events.drain()
    assert any(e.kind == "fault" and e.detail["code"] == "over_current" for e in reported)


def test_HAZ103_an_interruption_during_the_questions_after_the_session_closes_it(tmp_path):
    silent_after = type("SilentAfter", (), {
        "answer": lambda self, prompt: None if prompt.kind == "nrs_post" else {
            "nrs_pre": "5", "skin_pre": "ok"}.get(prompt.kind)
    })()
    runner, _, clock = make_runner(
        tmp_path, responder=silent_after, plan=make_plan(minutes=0.1), calibrate=False,
        target_ma=5.0,
    )
    run_until(runner, clock, "completed")
    step(runner, clock, 1.0)
    assert not runner.finished and runner.prompt.kind == "nrs_post"
    runner.interrupt("interrupted by SIGTERM")
    step(runner, clock, TICK_S)
    assert runner.finished and runner.record.outcome == "completed"
    events = journal(tmp_path)
    assert any(e["type"] == "prompt_unanswered" and e["kind"] == "nrs_post" for e in events)
    assert events[-1]["type"] == "session_end"
