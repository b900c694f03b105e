"""RehaStim 2 driver: the plan mapping (pure), then the driver against the pty emulator (link
recovery, faults, keep-alive, emergency stop) and whole sessions through the session runtime.

Hazards: HAZ-029 the device is asked for something it cannot represent (refusals); HAZ-023
output after a fault or an emergency stop; HAZ-026 link loss.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pydantic import ValidationError

from builders import (
    asymmetric_pulse,
    carrier,
    channel_dict,
    frequency_modulation,
    monophasic_pulse,
    symmetric_pulse,
)
from driver_rig import (
    PERIOD_S,
    RATE_HZ,
    counts,
    emulators,
    plan,
    rigs,
    rx,
    stimulate,
    train,
    wait_event,
)
from stimwise.device.interface import (
    DeviceError,
    DeviceRefusalError,
    DeviceTimeoutError,
)
from stimwise.device.sciencemode2.codec import Command
from stimwise.device.sciencemode2.driver import RehaStim2
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator
from stimwise.device.sciencemode2.mapping import CAPABILITIES, map_prescription
from stimwise.device.sciencemode2.payloads import PulseMode, StimulationMode
from stimwise.errors import UnverifiedPlanError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.session.journal import Journal, read_journal
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings


@pytest.fixture
def emulator() -> Iterator[Callable[..., RehaStim2Emulator]]:
    """``emulator(**config)``: a started emulator, closed afterwards."""
    defaults = {"init_interval_ms": 50.0, "ack_latency_ms": 2.0}
    with emulators(lambda config: RehaStim2Emulator(EmulatorConfig(**config)), defaults) as build:
        yield build


@pytest.fixture
def rig(emulator) -> Iterator[Callable[..., tuple[RehaStim2Emulator, RehaStim2]]]:
    """``rig(config=..., **driver_kwargs)``: an emulator and a driver connected to it."""
    with rigs(emulator, RehaStim2) as build:
        yield build


def received(em: RehaStim2Emulator, command: Command) -> int:
    return em.received().count(command)


# --------------------------------------------------------------------------- mapping (pure)


def test_a_symmetric_train_maps_to_one_channel_list_in_plan_order():
    mapped = map_prescription(rx(channels=[channel_dict("B"), channel_dict("A")]))
    assert mapped.labels == ("B", "A")
    assert mapped.init.channels == (1, 2)
    assert (mapped.init.t1_ms, mapped.mode, mapped.pulse_width_us) == (25.0, PulseMode.SINGLE, 250)
    assert mapped.max_current_ma == 30.0
    assert any("fixed 100 µs pause" in note for note in mapped.notes)
    start = mapped.channel_list(mapped.currents({"A": 7.9}, {"B": 3, "A": 0}))
    assert [(c.mode, c.pulse_width_us, c.current_ma) for c in start.channels] == [
        (0, 250, 3),
        (0, 250, 7),
    ]


@pytest.mark.parametrize(("group", "mode"), [(2, PulseMode.DOUBLET), (3, PulseMode.TRIPLET)])
def test_doublet_and_triplet_bursts_map_to_pulse_groups(group, mode):
    wave = train(frequency_hz=50, pulses_per_burst=group, burst_frequency_hz=10)
    mapped = map_prescription(rx(waveform=wave))
    assert (mapped.mode, mapped.init.t2_ms, mapped.init.t1_ms) == (mode, 20.0, 100.0)


def test_intervals_are_rounded_to_the_half_millisecond_grid_with_a_note():
    mapped = map_prescription(rx(waveform=train(frequency_hz=70)))
    assert mapped.init.t1_ms == 14.5
    assert any("70 Hz runs at 68.97 Hz" in note for note in mapped.notes)
    exact = map_prescription(rx(waveform=train(pulse=symmetric_pulse(250, interphase_gap_us=100))))
    assert not any("Hz runs at" in n or "pause" in n for n in exact.notes)


def test_capabilities_describe_the_device():
    assert CAPABILITIES.channels == 8
    assert CAPABILITIES.current_range_ma == (0.0, 130.0)
    assert CAPABILITIES.pulse_width_range_us == (20.0, 500.0)
    assert CAPABILITIES.frequency_range_hz == pytest.approx((0.9756, 125.0), rel=1e-3)
    assert CAPABILITIES.pulse_kinds == {"biphasic_symmetric"}
    assert not CAPABILITIES.carriers and CAPABILITIES.timing == "device"


REFUSALS = {
    "asymmetric": ({"waveform": train(pulse=asymmetric_pulse(200, 800))}, "biphasic_asymmetric"),
    "monophasic": ({"waveform": train(pulse=monophasic_pulse(200))}, "monophasic pulses"),
    "carrier": ({"waveform": carrier()}, "carrier waveforms"),
    "modulated": (
        {"waveform": train(frequency_hz=100, modulations=[frequency_modulation(4, 6)])},
        "frequency modulation",
    ),
    "too_high_frequency": ({"waveform": train(frequency_hz=200)}, "frequency_hz 200 Hz"),
    "too_many_channels_for_the_rate": (
        {"waveform": train(frequency_hz=100), "channels": 8},
        "8 channels × 1.5 ms slots",
    ),
    "burst_of_7": (
        {"waveform": train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2)},
        "bursts of 7 pulses",
    ),
    "doublet_too_tight": (
        {"waveform": train(frequency_hz=200, pulses_per_burst=2, burst_frequency_hz=10)},
        "pulses 5 ms apart",
    ),
    "interphase_gap": (
        {"waveform": train(pulse=symmetric_pulse(200, interphase_gap_us=50))},
        "fixed at 100 µs",
    ),
    "alternating": (
        {"waveform": train(pulse=symmetric_pulse(200, leading_polarity="alternating"))},
        "'alternating'",
    ),
    "pulse_width": ({"waveform": train(pulse=symmetric_pulse(600))}, "600 µs is outside"),
    "amplitude": ({"amplitude_ma": 140}, "140 mA is above"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_HAZ029_configure_refuses_what_the_device_cannot_represent(rig, case):
    kwargs, reason = REFUSALS[case]
    em, driver = rig()
    with pytest.raises(DeviceRefusalError) as refused:
        driver.configure(plan(**kwargs))
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons
    assert received(em, Command.STOP_CHANNEL_LIST_MODE) == 0  # nothing was sent
    assert driver.status().state == "connected"


def test_HAZ029_every_reason_is_listed_at_once():
    wave = train(
        pulse=asymmetric_pulse(10.5, 800),
        frequency_hz=150,
        modulations=[frequency_modulation(4, 6)],
    )
    with pytest.raises(DeviceRefusalError) as refused:
        map_prescription(rx(waveform=wave, amplitude_ma=150))
    text = " | ".join(refused.value.reasons)
    for reason in (
        "150 mA",
        "whole number",
        "10.5 µs is outside",
        "biphasic_asymmetric",
        "frequency modulation",
        "150 Hz",
    ):
        assert reason in text
    assert len(refused.value.reasons) == 6


def test_HAZ029_more_channels_than_the_device_has_are_refused():
    # A prescription holds at most 8 channels (model_copy validates too), so the device's own
    # check is reached here only by forcing the field past validation.
    eight = rx(channels=8)
    with pytest.raises(ValidationError):
        eight.model_copy(update={"channels": eight.channels * 2})
    nine = rx(channels=8)
    object.__setattr__(nine, "channels", eight.channels * 2)
    with pytest.raises(DeviceRefusalError, match="16 channels; the RehaStim 2 has 8"):
        map_prescription(nine)


def test_HAZ029_library_protocols_the_device_cannot_run_are_refused():
    for protocol_id in (
        "conventional-tens",
        "hf-ems-neuropathy",
        "mixed-frequency-tens",
        "burst-tens",
        "microcurrent-mens",
    ):
        with pytest.raises(DeviceRefusalError):
            map_prescription(Prescription.from_protocol(get_protocol(protocol_id)))
    map_prescription(Prescription.from_protocol(get_protocol("nmes-calf-pump")))


# --------------------------------------------------------------------------- connection


def test_handshake_answers_init_echoing_its_number_and_confirms_with_a_mode_query(rig):
    em, driver = rig()
    assert em.connected and driver.status().state == "connected"
    ack = next(e for e in em.events("rx") if e.detail["command"] == Command.INIT_ACK)
    inits = [e for e in em.events("tx") if e.detail["command"] == Command.INIT]
    answered = [e for e in inits if e.t_s < ack.t_s][-1]  # the one before the port opened is lost
    assert ack.detail["packet_number"] == answered.detail["packet_number"]
    assert em.received()[:2] == [Command.INIT_ACK, Command.GET_STIMULATION_MODE]
    with pytest.raises(DeviceError, match=r"RehaStim 2 \(ScienceMode2\) is connected"):
        driver.connect()


def quiet(emulator) -> RehaStim2Emulator:
    """An emulator that sends no Init for 10 s after its first, which a port opened later
    never sees (pyserial discards what arrived before the open)."""
    em = emulator(init_interval_ms=10_000)
    while not em.events("tx"):
        time.sleep(0.005)
    return em


def test_connect_times_out_without_init_and_fails_on_a_bad_port(emulator):
    silent = quiet(emulator)
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match="no Init"):
        RehaStim2(silent.port).connect(timeout_s=0.3)
    assert time.monotonic() - started < 0.5
    with pytest.raises(DeviceError, match="cannot open"):
        RehaStim2("/nonexistent/tty").connect()


def test_a_port_lost_during_the_handshake_fails_connect_at_once(emulator):
    em = quiet(emulator)
    threading.Timer(0.05, em.close_pty).start()
    started = time.monotonic()
    with pytest.raises(DeviceError, match="lost"):
        RehaStim2(em.port).connect(timeout_s=2.0)
    assert time.monotonic() - started < 0.2


# --------------------------------------------------------------------------- output


def test_configure_start_update_deliver_the_planned_pulses(rig):
    em, driver = rig()
    acked_s = stimulate(driver, 12.0)
    driver.update({"B": 7.6})  # B floors to 7 mA; A keeps 12 mA
    time.sleep(0.3)
    pulses = em.pulse_log(since_s=time.monotonic() - 0.2)
    ch1 = [p for p in pulses if p.channel == 1]
    ch2 = [p for p in pulses if p.channel == 2]
    assert {(p.current_ma, p.pulse_width_us, p.group) for p in ch1} == {(12, 250, "single")}
    assert {(p.current_ma, p.pulse_width_us) for p in ch2} == {(7, 250)}
    assert [b.t_s - a.t_s for a, b in itertools.pairwise(ch1)] == pytest.approx(
        [PERIOD_S] * (len(ch1) - 1)
    )
    assert ch2[0].t_s - ch1[0].t_s == pytest.approx(0.0015)  # the next 1.5 ms slot
    assert em.pulse_log(until_s=acked_s - 0.01) == []  # nothing before the first update
    status = driver.status()
    assert status.state == "stimulating"
    assert [(c.label, c.electrode, c.impedance_ohm, c.amplitude_ma) for c in status.channels] == [
        ("A", "ok", None, 12.0),
        ("B", "ok", None, 7.0),
    ]


def test_doublets_run_on_the_emulator(rig):
    em, driver = rig()
    stimulate(
        driver,
        5.0,
        waveform=train(frequency_hz=50, pulses_per_burst=2, burst_frequency_hz=10),
        channels=1,
    )
    time.sleep(0.35)
    ch1 = em.pulse_log(since_s=time.monotonic() - 0.3)
    assert {p.group for p in ch1} == {"doublet"}
    first = ch1.index(next(p for p in ch1 if p.index_in_group == 0))
    assert ch1[first + 1].t_s - ch1[first].t_s == pytest.approx(0.020)
    assert ch1[first + 2].t_s - ch1[first].t_s == pytest.approx(0.100)


def test_stop_is_idempotent_and_arm_reloads_the_list(rig):
    em, driver = rig()
    stimulate(driver, 8.0)
    driver.stop()
    stopped_s = time.monotonic()
    driver.stop()
    assert driver.status().state == "stopped"
    assert em.mode == StimulationMode.START
    time.sleep(0.1)
    assert em.pulse_log(since_s=stopped_s) == []
    driver.arm()  # the device is in start mode: InitChannelListMode again, nothing delivered
    assert em.mode == StimulationMode.INITIALISED and em.pulse_log(since_s=stopped_s) == []
    driver.start()
    assert [c.amplitude_ma for c in driver.status().channels] == [0.0, 0.0]
    driver.stop()
    driver.close()
    driver.stop()  # disconnected: nothing to stop


# --------------------------------------------------------------------------- §4 recovery


def test_a_corrupted_ack_is_recovered_by_the_mode_query_without_resending(rig):
    em, driver = rig()
    driver.configure(plan())
    driver.arm()
    em.corrupt_next_frame()
    driver.start()
    assert driver.status().state == "stimulating"
    assert received(em, Command.START_CHANNEL_LIST_MODE) == 1
    assert counts(driver, "bad_frames", "missing_answers", "resends") == (1, 1, 0)


def test_a_lost_command_is_resent_once_after_the_mode_query(rig):
    em, driver = rig()
    driver.configure(plan())
    driver.arm()
    em.drop_frames(1, "rx")
    driver.start()
    assert em.mode == StimulationMode.STARTED and driver.status().state == "stimulating"
    assert received(em, Command.START_CHANNEL_LIST_MODE) == 1  # the dropped one never arrived
    assert counts(driver, "resends") == (1,)


def test_an_update_whose_ack_is_lost_is_resent_because_the_mode_cannot_tell(rig):
    em, driver = rig()
    stimulate(driver, 3.0)
    em.drop_frames(1, "tx")
    driver.update({"A": 6})
    assert received(em, Command.START_CHANNEL_LIST_MODE) == 4  # start, update, update twice
    assert em.events("applied")[-1].detail["channels"][1] == (0, 250, 6)


def test_a_late_ack_within_the_mode_query_window_counts(rig):
    em, driver = rig()
    stimulate(driver, 3.0)
    starts = received(em, Command.START_CHANNEL_LIST_MODE)
    em.delay_acks(130)
    began_s = time.monotonic()
    driver.update({"A": 9})
    assert 0.12 < time.monotonic() - began_s < 0.19
    assert received(em, Command.START_CHANNEL_LIST_MODE) == starts + 1  # not resent
    em.delay_acks(0)
    time.sleep(0.2)  # the mode query's answer arrives after its request was given up
    assert counts(driver, "unexpected", "resends") == (1, 0)
    driver.update({"A": 4})
    assert driver.status().state == "stimulating"


def test_HAZ081_an_update_after_the_plan_was_edited_is_refused_and_stops_the_output(rig):
    em, driver = rig()
    loaded = plan()  # 30 mA
    driver.configure(loaded)
    driver.arm()
    driver.start()
    driver.update({"A": 10, "B": 10})
    object.__setattr__(loaded.prescription, "max_amplitude_ma", 90.0)
    refused_s = time.monotonic()
    with pytest.raises(UnverifiedPlanError, match="changed after verification"):
        driver.update({"A": 20, "B": 20})
    time.sleep(PERIOD_S + 0.05)
    assert {p.current_ma for p in em.pulse_log(since_s=refused_s - 0.1)} <= {10}
    last = em.pulse_log(since_s=refused_s)[-1:]
    assert not last or last[0].t_s <= refused_s + PERIOD_S + 0.020
    assert driver.status().state == "stopped" and em.mode == StimulationMode.START


# --------------------------------------------------------------------------- HAZ-023


def test_HAZ023_an_electrode_error_faults_and_nothing_is_delivered_after(rig):
    em, driver = rig()
    stimulate(driver, 15.0)
    driver.events.drain()
    injected_s = time.monotonic()
    em.inject_electrode_error(1)
    fault = wait_event(driver, "fault", 0.2)
    assert fault.detail["code"] == "electrode" and "electrode error" in fault.message
    assert fault.t_s - injected_s < 0.05
    status = driver.status()
    assert status.state == "fault" and any("electrode" in e for e in status.errors)
    assert {c.electrode for c in status.channels} == {"unknown"}
    with pytest.raises(DeviceError, match=r"RehaStim 2 \(ScienceMode2\) is fault"):
        driver.update({"A": 15})
    time.sleep(0.1)
    assert em.pulse_log(since_s=injected_s) == []
    driver.configure(plan())  # configure clears the fault
    assert driver.status().state == "configured"


def test_HAZ023_a_stimulation_error_that_arrives_corrupted_is_caught_by_the_mode_check(rig):
    em, driver = rig()
    stimulate(driver, 10.0)
    em.corrupt_next_frame()
    em.inject_emergency_switch()
    fault = wait_event(driver, "fault", 0.3)
    assert fault.detail["code"] == "mode_mismatch"
    assert driver.status().state == "fault"


def test_a_device_reset_by_its_watchdog_is_a_fault_and_connect_recovers(rig):
    _, driver = rig({"watchdog_timeout_ms": 250}, keepalive_interval_s=0.4)
    stimulate(driver, 5.0)
    fault = wait_event(driver, "fault", 1.0)
    assert fault.detail["code"] == "device_reset"
    assert driver.status().state == "fault"
    with pytest.raises(DeviceError, match="connect"):
        driver.configure(plan())
    driver.connect()
    driver.configure(plan())
    assert driver.status().state == "configured"


# --------------------------------------------------------------------------- HAZ-026


def test_HAZ026_the_idle_keepalive_probe_detects_a_hung_device(rig):
    em, driver = rig(probe_interval_s=0.3)
    stimulate(driver, 10.0)
    driver.events.drain()
    em.set_hung(True)
    hung_s = time.monotonic()
    fault = wait_event(driver, "fault", 1.0)
    assert fault.detail["code"] == "link_lost"
    assert fault.t_s - hung_s < 0.4 + 0.19 + 0.05


@pytest.mark.slow
def test_HAZ026_the_keepalive_keeps_an_enforcing_device_alive_while_idle(rig):
    em, driver = rig({"watchdog_policy": "enforce"})
    started_s = stimulate(driver, 5.0, channels=1)
    time.sleep(3.0)
    assert em.connected and em.mode == StimulationMode.STARTED
    assert not any("watchdog" in e.message for e in em.events("state") + em.events("warning"))
    rx_times = [e.t_s for e in em.events("rx") if e.t_s >= started_s]
    assert max(b - a for a, b in itertools.pairwise(rx_times)) <= 0.45
    assert len(em.pulse_log(since_s=started_s + 0.1, until_s=started_s + 3.0)) == pytest.approx(
        2.9 * RATE_HZ, abs=2
    )
    assert Command.WATCHDOG in em.received()
    assert driver.status().state == "stimulating"


@pytest.mark.slow
def test_HAZ026_after_a_loss_the_driver_goes_silent_so_the_device_watchdog_stops_output(rig):
    em, driver = rig()
    stimulate(driver, 10.0)
    em.set_hung(True)
    with pytest.raises(DeviceTimeoutError):
        driver.update({"A": 12})
    driver.emergency_stop()  # written into a hung device: lost
    time.sleep(0.1)  # the hung device has read and ignored it
    em.set_hung(False)
    revived_s = time.monotonic()
    time.sleep(1.35)
    assert not em.connected  # its watchdog reset it
    last = em.pulse_log(since_s=revived_s)[-1]
    assert last.t_s - revived_s <= 1.2 + PERIOD_S


# --------------------------------------------------------------------------- sessions


def session_plan():
    return plan(
        channels=2,
        session_duration_min=0.04,
        envelope={"ramp_up_s": 0.3, "ramp_down_s": 0.3},
    )


def run_session(tmp_path, port: str) -> tuple[SessionRunner, RehaStim2]:
    driver = RehaStim2(port)
    runner = SessionRunner(
        session_plan(),
        driver,
        Journal(tmp_path / "session.jsonl"),
        ScriptedResponder(sensation_threshold_ma=2, comfortable_ma=5, motor_threshold_ma=9),
        settings=SessionSettings(calibrate=False, target_ma=8.0, stop_ramp_s=0.3),
    )
    return runner, driver


@pytest.mark.slow
def test_a_session_runs_to_completion_on_the_emulator(tmp_path, emulator):
    em = emulator()
    runner, driver = run_session(tmp_path, em.port)
    try:
        record = runner.run(on_tick=lambda _: runner.heartbeat())
        ended_s = time.monotonic()
    finally:
        driver.close()
    assert record.outcome == "completed"
    assert record.max_amplitude_ma == pytest.approx(8.0)
    pulses = em.pulse_log()
    assert {p.channel for p in pulses} == {1, 2}
    assert max(p.current_ma for p in pulses) == 8
    assert pulses[-1].t_s < ended_s
    events = read_journal(tmp_path / "session.jsonl").events
    kinds = {e["kind"] for e in events if e["type"] == "device_event"}
    assert {"command", "ack", "applied", "state"} <= kinds
    assert "fault" not in kinds


@pytest.mark.slow
def test_HAZ023_an_electrode_error_mid_session_aborts_it_with_no_output_after(tmp_path, emulator):
    em = emulator()
    runner, driver = run_session(tmp_path, em.port)
    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(runner.run(on_tick=lambda _: runner.heartbeat()))
    )
    worker.start()
    try:
        deadline_s = time.monotonic() + 3.0
        while not any(p.current_ma >= 4 for p in em.pulse_log()):
            assert time.monotonic() < deadline_s, "the session never reached 4 mA"
            time.sleep(0.02)
        injected_s = time.monotonic()
        em.inject_electrode_error(2)
        worker.join(timeout=3.0)
    finally:
        driver.close()
    assert result and result[0].outcome == "aborted"
    assert "electrode error" in (runner.reason or "")
    assert em.pulse_log(since_s=injected_s) == []
