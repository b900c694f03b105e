"""Sessions on the RehaStim 2 emulator: every fault the emulator can inject reaches the journal
with its cause, steady or while a command is in flight, and the record holds the whole mA the
device delivered (real time, pty emulator).

Hazards: HAZ-100 (faults lost or misnamed), HAZ-102 and HAZ-104 (the record and the requests are
the device's quantised amplitudes), HAZ-106 (the driver's reporting contract).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from builders import make_prescription, pulse_train, symmetric_pulse
from stimwise.device.interface import DeviceError
from stimwise.device.sciencemode2.driver import RehaStim2
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify
from stimwise.session.journal import Journal, read_journal
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings

LEVEL_MA = 8.0
PERIOD_S = 1 / 40


def session_prescription(minutes: float) -> Prescription:
    return make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(250), frequency_hz=40.0),
        channels=2,
        session_duration_min=minutes,
        envelope={"ramp_up_s": 0.6, "ramp_down_s": 0.6},
    )


@pytest.fixture
def emulator() -> Iterator[RehaStim2Emulator]:
    em = RehaStim2Emulator(EmulatorConfig(init_interval_ms=50.0, ack_latency_ms=2.0)).start()
    yield em
    em.close()


class Session:
    """A session of the runtime on a driver of ``em``, run in a thread like the web console's."""

    def __init__(self, tmp_path, em: RehaStim2Emulator, *, minutes: float = 0.2) -> None:
        self.path = tmp_path / "session.jsonl"
        self.driver = RehaStim2(em.port)
        self.runner = SessionRunner(
            verify(session_prescription(minutes)).require_plan(),
            self.driver,
            Journal(self.path),
            ScriptedResponder(sensation_threshold_ma=2, comfortable_ma=5, motor_threshold_ma=9),
            settings=SessionSettings(calibrate=False, target_ma=LEVEL_MA, stop_ramp_s=0.3),
        )
        self.error: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.runner.run(on_tick=lambda _: self.runner.heartbeat())
        except BaseException as error:  # the test reports it
            self.error.append(error)

    def __enter__(self) -> Session:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.runner.emergency_stop("test ended")
        self.thread.join(timeout=10)
        self.driver.close()

    def wait_state(self, state: str, timeout_s: float = 5.0) -> None:
        deadline_s = time.monotonic() + timeout_s
        while self.runner.state != state:
            assert time.monotonic() < deadline_s, f"never {state}; {self.runner.state}"
            time.sleep(0.01)

    def wait_end(self, timeout_s: float = 10.0) -> None:
        self.thread.join(timeout=timeout_s)
        assert not self.thread.is_alive(), f"still {self.runner.state} after {timeout_s} s"
        assert not self.error, self.error

    def events(self) -> tuple[dict, ...]:
        return read_journal(self.path).events


# Every fault the emulator injects: (inject, the fault codes the driver may report for it).
EMULATOR_FAULTS: dict[str, tuple[Callable[[RehaStim2Emulator], None], set[str]]] = {
    "electrode error": (lambda em: em.inject_electrode_error(1), {"electrode"}),
    "emergency switch": (lambda em: em.inject_emergency_switch(), {"emergency_switch"}),
    "module error": (lambda em: em.inject_module_error(), {"module"}),
    "reset": (lambda em: em.inject_reset(), {"device_reset"}),
    "hung firmware": (lambda em: em.set_hung(True), {"link_lost"}),
    "unplugged": (lambda em: em.close_pty(), {"link_lost"}),
    # A StimulationError lost on the wire is caught by the mode check (mode_mismatch); should
    # the corruption hit another frame first, the error itself arrives (emergency_switch).
    "StimulationError corrupted": (
        lambda em: (em.corrupt_next_frame(), em.inject_emergency_switch()),
        {"mode_mismatch", "emergency_switch"},
    ),
}


def inject_during_next_status(session: Session, em: RehaStim2Emulator, inject) -> list[bool]:
    """Delay the device's answers and inject the fault 15 ms into the next status() call, so it
    arrives while that call's request waits for its answer."""
    status = session.driver.status
    fired: list[bool] = []

    def status_with_a_fault(timeout_s: float = 0.5):
        if not fired:
            fired.append(True)
            threading.Timer(0.015, inject, args=(em,)).start()
        return status(timeout_s)

    em.delay_acks(40)
    session.driver.status = status_with_a_fault  # type: ignore[method-assign]
    return fired


@pytest.mark.slow
@pytest.mark.parametrize("when", ["steady", "in flight"])
@pytest.mark.parametrize("fault", list(EMULATOR_FAULTS))
def test_HAZ100_every_emulator_fault_is_journaled_with_its_cause(tmp_path, emulator, fault, when):
    inject, codes = EMULATOR_FAULTS[fault]
    with Session(tmp_path, emulator) as session:
        session.wait_state("running")
        if when == "in flight":
            fired = inject_during_next_status(session, emulator, inject)
        else:
            inject(emulator)
        session.wait_end()
        if when == "in flight":
            assert fired
    runner = session.runner
    events = session.events()
    faults = [e for e in events if e["type"] == "device_event" and e["kind"] == "fault"]
    assert faults and faults[0]["detail"]["code"] in codes
    assert runner.state == "aborted" and runner.end_cause == "device_fault"
    assert runner.reason == f"device fault: {faults[0]['message']}"
    for symptom in ("not applied", "overtaken", "not sent", "status failed", "did not apply"):
        assert symptom not in runner.reason
    end = events[-1]
    assert end["type"] == "session_end" and (end["cause"], end["reason"]) == (
        "device_fault", runner.reason
    )
    assert faults[0]["message"] in runner.record.faults


@pytest.mark.slow
def test_HAZ102_HAZ104_the_record_holds_the_whole_mA_the_device_delivered(tmp_path, emulator):
    """The RehaStim 2 delivers whole mA: the journal recorded 0.24 mA for 2.7 s while it
    delivered 0 mA. Now every request is whole mA and the record follows the pulses."""
    with Session(tmp_path, emulator, minutes=0.04) as session:
        session.wait_end()
    record = session.runner.record
    assert record.outcome == "completed"
    events = session.events()
    asked = [e["amplitude_ma"] for e in events if e["type"] == "update"]
    assert asked and all(a == int(a) for a in asked)
    pulses = emulator.pulse_log()
    assert max(p.current_ma for p in pulses) == record.max_amplitude_ma == LEVEL_MA
    delivering_s = pulses[-1].t_s - pulses[0].t_s
    assert record.stimulation_s == pytest.approx(delivering_s, abs=PERIOD_S + 0.1)
    assert "0-0.8 mA" not in record.minutes_at_amplitude  # nothing below the first whole mA


def test_HAZ106_the_driver_reports_what_the_device_delivers(emulator):
    """The reporting contract on the RehaStim 2 driver: every applied event names every channel
    with the whole mA delivered; a fault is on the stream before the command it broke raises."""
    driver = RehaStim2(emulator.port)
    driver.connect()
    try:
        plan = verify(session_prescription(1.0)).require_plan()
        driver.configure(plan)
        driver.arm()
        driver.start()
        driver.events.drain()
        driver.update({"A": 2.7, "B": 0.24})
        applied = [e for e in driver.events.drain() if e.kind == "applied"]
        assert applied[-1].detail["delivered_ma"] == {"A": 2.0, "B": 0.0}
        emulator.delay_acks(40)
        threading.Timer(0.015, emulator.close_pty).start()
        with pytest.raises(DeviceError):
            driver.update({"A": 5, "B": 5})
        reported = driver.events.drain()
        assert any(e.kind == "fault" and e.detail["code"] == "link_lost" for e in reported)
    finally:
        driver.close()
