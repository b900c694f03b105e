"""Helpers for session runtime tests: a manual clock, plans, runners and stepping in ticks."""

from __future__ import annotations

from fake_device import FakeStimulator
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety.verify import verify
from stimwise.session.journal import Journal, read_journal
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings

TICK_S = 0.05


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_plan(protocol_id: str = "conventional-tens", minutes: float = 1.0, **overrides):
    rx = Prescription.from_protocol(
        get_protocol(protocol_id), session_duration_min=minutes, **overrides
    )
    return verify(rx).require_plan()


PERSON = ScriptedResponder(sensation_threshold_ma=5, comfortable_ma=12, motor_threshold_ma=20)


def make_runner(tmp_path, *, device=None, plan=None, responder=PERSON, caps=None, clock=None,
                **settings):
    clock = clock or FakeClock()
    device = device or FakeStimulator()
    journal = Journal(tmp_path / "session.jsonl", clock=clock)
    runner = SessionRunner(
        plan or make_plan(), device, journal, responder, caps=caps,
        settings=SessionSettings(calibration_step_s=0.2, rest_s=0.4, **settings), clock=clock,
    )
    return runner, device, clock


def step(runner, clock, seconds: float, *, heartbeat: bool = True) -> list[str]:
    states = []
    for _ in range(round(seconds / TICK_S)):
        clock.t += TICK_S
        if heartbeat:
            runner.heartbeat()
        runner.tick()
        states.append(runner.state)
        if runner.finished:
            break
    return states


def run_until(runner, clock, state: str, limit_s: float = 300.0) -> None:
    for _ in range(round(limit_s / TICK_S)):
        if runner.state == state:
            return
        step(runner, clock, TICK_S)
    raise AssertionError(f"never reached {state}; stuck in {runner.state}")


def journal_types(tmp_path) -> list[str]:
    return [e["type"] for e in read_journal(tmp_path / "session.jsonl").events]
