"""RehaMove P24 driver: the plan mapping (pure), then the driver against the pty emulator
(connection, output and its record, recovery, device faults, link loss, keep-alive).

Hazards: HAZ-130 the P24 is asked for something it cannot represent; HAZ-131 output after a
device-side stop, a fault or an emergency stop; HAZ-132 link loss and the keep-alive; HAZ-133 the
record of what the P24 delivered; HAZ-134 a plan altered after ``configure``; HAZ-135 net charge
from the 0.5 mA steps of asymmetric pulses.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator

import pytest

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
from stimwise.device.interface import DeviceError, DeviceRefusalError, DeviceTimeoutError
from stimwise.device.sciencemode4 import codec
from stimwise.device.sciencemode4 import payloads as pl
from stimwise.device.sciencemode4.codec import Command
from stimwise.device.sciencemode4.driver import RehaMoveP24
from stimwise.device.sciencemode4.emulator import P24Emulator, P24EmulatorConfig
from stimwise.device.sciencemode4.mapping import CAPABILITIES, balanced_levels, map_prescription
from stimwise.device.sciencemode4.payloads import StimStatus
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription


@pytest.fixture
def emulator() -> Iterator[Callable[..., P24Emulator]]:
    """``emulator(**config)``: a started emulator, closed afterwards."""
    defaults = {"ack_latency_ms": 2.0}
    with emulators(lambda config: P24Emulator(P24EmulatorConfig(**config)), defaults) as build:
        yield build


@pytest.fixture
def rig(emulator) -> Iterator[Callable[..., tuple[P24Emulator, RehaMoveP24]]]:
    """``rig(config=..., **driver_kwargs)``: an emulator and a driver connected to it."""
    with rigs(emulator, RehaMoveP24) as build:
        yield build


def received(em: P24Emulator, command: Command) -> int:
    return em.received().count(command)


def net_charge(points: tuple[pl.ChannelPoint, ...]) -> float:
    return sum(p.current_ma * p.duration_us for p in points)


# --------------------------------------------------------------------------- mapping (pure)


def test_a_symmetric_train_maps_to_one_point_list_per_channel_in_plan_order():
    mapped = map_prescription(
        rx(channels=[channel_dict("B"), channel_dict("A")],
           waveform=train(pulse=symmetric_pulse(250, interphase_gap_us=100)))
    )
    assert mapped.labels == ("B", "A")
    assert (mapped.period.period_ms, mapped.period.fine) == (25.0, True)
    update = mapped.update({"B": 12.5, "A": 0.0})
    first = update.by_channel[0].points
    assert [(p.duration_us, p.current_ma) for p in first] == [(250, -12.5), (100, 0), (250, 12.5)]
    assert set(update.by_channel) == {0, 1}
    assert any("negative current" in note for note in mapped.notes)


@pytest.mark.parametrize("current_ma", [0.5 * k for k in range(0, 61)])
def test_HAZ135_asymmetric_pulses_stay_charge_balanced_on_the_half_milliampere_grid(current_ma):
    protocol = get_protocol("conventional-tens")
    mapped = map_prescription(Prescription.from_protocol(protocol))
    points = mapped.shape.points(current_ma)
    assert points[0].duration_us == 100 and points[0].current_ma == -current_ma
    assert sum(p.duration_us for p in points) == 500  # 100 µs + 400 µs, no gap
    assert abs(net_charge(points)) <= 0.5  # mA·µs: exact or within one half step
    assert all(p.duration_us >= 10 for p in points)
    assert all(abs(p.current_ma) <= current_ma for p in points[1:])


def test_HAZ135_the_split_second_phase_is_exact_where_both_levels_last_10_us():
    for charge_steps in range(10, 400):  # from 5 mA·µs: 0.5 mA for the shortest 10 µs phase
        charge = charge_steps * 0.5
        levels = balanced_levels(charge, 400)
        assert sum(d for d, _ in levels) == 400
        assert abs(sum(d * c for d, c in levels) - charge) <= 0.5
        assert all(d >= 10 for d, _ in levels)
        if len(levels) == 2 and levels[1][1] - levels[0][1] == 0.5:
            assert sum(d * c for d, c in levels) == charge


def test_rates_are_rounded_to_the_quarter_millisecond_grid_with_a_note():
    close = map_prescription(rx(waveform=train(frequency_hz=70)))
    assert close.period.period_ms == 14.25  # 70.18 Hz: within 0.5 %, no note
    assert not any("runs at" in note for note in close.notes)
    far = map_prescription(rx(waveform=train(frequency_hz=320)))
    assert far.period.period_ms == 3.0
    assert any("320 Hz runs at 333.3 Hz" in note for note in far.notes)


def test_capabilities_describe_the_device():
    assert CAPABILITIES.channels == 8
    assert (CAPABILITIES.current_range_ma, CAPABILITIES.current_step_ma) == ((0.0, 130.0), 0.5)
    assert CAPABILITIES.pulse_width_range_us == (10.0, 4095.0)
    assert CAPABILITIES.pulse_kinds == {"biphasic_symmetric", "biphasic_asymmetric"}
    assert not CAPABILITIES.carriers and CAPABILITIES.timing == "device"


REFUSALS = {
    "monophasic": ({"waveform": train(pulse=monophasic_pulse(200))}, "monophasic pulses"),
    "carrier": ({"waveform": carrier()}, "carrier waveforms"),
    "modulated": (
        {"waveform": train(frequency_hz=100, modulations=[frequency_modulation(4, 6)])},
        "frequency modulation",
    ),
    "burst": (
        {"waveform": train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2)},
        "bursts (7 pulses",
    ),
    "alternating": (
        {"waveform": train(pulse=symmetric_pulse(200, leading_polarity="alternating"))},
        "'alternating'",
    ),
    "long_phase": ({"waveform": train(pulse=symmetric_pulse(5000), frequency_hz=10)}, "5000 µs"),
    "fractional_phase": ({"waveform": train(pulse=symmetric_pulse(100.5))}, "whole number"),
    "short_gap": (
        {"waveform": train(pulse=symmetric_pulse(200, interphase_gap_us=5))},
        "0 or 10–4095",
    ),
    "unbalanced": (
        {"waveform": train(pulse=asymmetric_pulse(100, 400, ratio=0.252))},  # 0.8 %: verifies
        "leaves net charge",
    ),
    "amplitude": ({"amplitude_ma": 140}, "140 mA is above"),
    "duty": (
        {"waveform": train(pulse=symmetric_pulse(2000), frequency_hz=200), "channels": 2},
        "ms of output per second",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_HAZ130_configure_refuses_what_the_p24_cannot_represent(rig, case):
    kwargs, reason = REFUSALS[case]
    refused_plan = plan(**kwargs)
    em, driver = rig()
    stops = received(em, Command.ML_STOP)
    with pytest.raises(DeviceRefusalError) as refused:
        driver.configure(refused_plan)
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons
    assert received(em, Command.ML_STOP) == stops  # nothing was sent
    assert driver.status().state == "connected"


def test_HAZ130_every_reason_is_listed_at_once():
    wave = train(
        pulse=symmetric_pulse(100.5, leading_polarity="alternating"),
        modulations=[frequency_modulation(4, 6)],
    )
    with pytest.raises(DeviceRefusalError) as refused:
        map_prescription(rx(waveform=wave, amplitude_ma=150))
    text = " | ".join(refused.value.reasons)
    for reason in ("150 mA", "whole number", "'alternating'", "frequency modulation"):
        assert reason in text


def test_HAZ130_library_protocols_the_p24_cannot_run_are_refused_the_others_map():
    refused = {"burst-tens", "hf-ems-neuropathy", "microcurrent-mens", "mixed-frequency-tens"}
    for protocol_id in (
        *refused,
        "conventional-tens",
        "crps-gentle-sensory",
        "nmes-calf-pump",
        "nmes-strengthening",
        "acupuncture-like-tens",
    ):
        prescription = Prescription.from_protocol(get_protocol(protocol_id))
        if protocol_id in refused:
            with pytest.raises(DeviceRefusalError):
                map_prescription(prescription)
        else:
            map_prescription(prescription)


# --------------------------------------------------------------------------- connection


def test_connect_reads_identity_and_stops_a_level_left_active(emulator):
    em = emulator(device_id="P24LEFTON1")
    fd = os.open(em.port, os.O_RDWR | os.O_NOCTTY)
    os.write(fd, codec.encode_frame(0, Command.LL_INIT, pl.LlInit().encode()))
    deadline = time.monotonic() + 1
    while em.stim_status != StimStatus.LOW_LEVEL_INITIALIZED and time.monotonic() < deadline:
        time.sleep(0.01)
    os.close(fd)
    driver = RehaMoveP24(em.port)
    try:
        driver.connect()
        state = wait_event(driver, "state")
        assert "P24LEFTON1" in state.message
        assert "stopped its low_level_initialized level" in state.message
        assert em.stim_status == StimStatus.NO_LEVEL and driver.device_id == "P24LEFTON1"
        with pytest.raises(DeviceError, match=r"RehaMove P24 \(ScienceMode4\) is connected"):
            driver.connect()
    finally:
        driver.close()


def test_connect_fails_fast_on_a_silent_device_and_on_a_bad_port(emulator):
    em = emulator()
    em.set_hung(True)
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match="no answer from a RehaMove P24"):
        RehaMoveP24(em.port).connect(timeout_s=1.0)
    assert time.monotonic() - started < 0.5
    with pytest.raises(DeviceError, match="cannot open"):
        RehaMoveP24("/nonexistent/tty").connect()


# --------------------------------------------------------------------------- output


def test_HAZ133_the_device_delivers_the_quantised_currents_the_applied_events_record(rig):
    em, driver = rig()
    stimulate(driver, 12.0)
    driver.events.drain()
    driver.update({"B": 7.8})  # floored to 7.5 mA; A keeps 12 mA
    applied = wait_event(driver, "applied")
    assert applied.detail["delivered_ma"] == {"A": 12.0, "B": 7.5}
    assert applied.detail["requested_ma"] == {"A": 12.0, "B": 7.8}
    time.sleep(0.3)
    pulses = em.pulse_log(since_s=time.monotonic() - 0.2)
    first = [p for p in pulses if p.channel == 1]
    second = [p for p in pulses if p.channel == 2]
    assert {p.shape for p in first} == {((250, -12.0), (250, 12.0))}
    assert {p.peak_current_ma for p in second} == {7.5}
    assert [b.t_s - a.t_s for a, b in itertools.pairwise(first)] == pytest.approx(
        [PERIOD_S] * (len(first) - 1)
    )
    status = driver.status()
    assert status.state == "stimulating"
    assert [(c.label, c.electrode, c.amplitude_ma) for c in status.channels] == [
        ("A", "ok", 12.0),
        ("B", "ok", 7.5),
    ]


def test_stop_is_idempotent_and_arm_enters_the_mid_level_again(rig):
    em, driver = rig()
    stimulate(driver, 8.0)
    driver.stop()
    stopped_s = time.monotonic()
    driver.stop()
    assert driver.status().state == "stopped" and em.stim_status == StimStatus.NO_LEVEL
    driver.arm()
    assert em.stim_status == StimStatus.MID_LEVEL_INITIALIZED
    driver.start()
    assert [c.amplitude_ma for c in driver.status().channels] == [0.0, 0.0]
    time.sleep(0.05)
    assert em.pulse_log(since_s=stopped_s) == []
    driver.close()
    driver.stop()  # disconnected: nothing to stop


# --------------------------------------------------------------------------- recovery


def test_a_corrupted_answer_is_recovered_by_the_status_query_without_resending(rig):
    em, driver = rig()
    driver.configure(plan())
    em.corrupt_next_frame()
    driver.arm()
    assert driver.status().state == "armed"
    assert received(em, Command.ML_INIT) == 1
    assert counts(driver, "bad_frames", "missing_answers", "resends") == (1, 1, 0)


def test_a_lost_command_is_resent_once_after_the_status_query(rig):
    em, driver = rig()
    driver.configure(plan())
    driver.arm()
    em.drop_frames(1, "rx")
    driver.start()
    assert em.stim_status == StimStatus.MID_LEVEL_RUNNING
    assert driver.status().state == "stimulating"
    assert counts(driver, "resends") == (1,)


def test_a_late_answer_within_the_status_query_window_counts(rig):
    em, driver = rig()
    stimulate(driver, 3.0)
    em.delay_acks(130)
    updates = received(em, Command.ML_UPDATE)
    driver.update({"A": 9})
    assert received(em, Command.ML_UPDATE) == updates + 1  # not resent
    em.delay_acks(0)
    time.sleep(0.3)
    driver.update({"A": 4})
    assert driver.status().state == "stimulating"


# --------------------------------------------------------------------------- HAZ-131


def test_HAZ131_an_electrode_error_faults_with_its_channel_and_nothing_follows(rig):
    em, driver = rig()
    stimulate(driver, 15.0)
    driver.events.drain()
    injected_s = time.monotonic()
    em.inject_electrode_error(2)
    fault = wait_event(driver, "fault", 0.3)
    assert fault.detail["code"] == "electrode"
    assert "channel B (device channel 2)" in fault.message
    assert fault.t_s - injected_s < 0.15  # one keep-alive check
    status = driver.status()
    assert status.state == "fault"
    assert [c.electrode for c in status.channels] == ["unknown", "lead_off"]
    with pytest.raises(DeviceError, match=r"is fault"):
        driver.update({"A": 15})
    time.sleep(0.1)
    assert em.pulse_log(since_s=injected_s) == []  # Ml_init asked to stop every channel
    driver.configure(plan())  # configure clears the fault
    assert driver.status().state == "configured"


def test_HAZ131_an_update_never_restarts_a_channel_the_device_stopped(rig):
    em, driver = rig(keepalive_interval_s=5.0)  # only the update's own check can see it
    stimulate(driver, 10.0)
    em.inject_electrode_error(1)
    updates = received(em, Command.ML_UPDATE)
    with pytest.raises(DeviceError, match=r"electrode error \(.*\) on channel A"):
        driver.update({"A": 12, "B": 12})
    assert received(em, Command.ML_UPDATE) == updates
    assert driver.status().state == "fault"


@pytest.mark.parametrize(
    ("inject", "code"),
    [
        (lambda em: em.inject_reset(), "device_reset"),
        (lambda em: em.timeline.stop_channel(1, time.monotonic()), "stopped_by_device"),
    ],
)
def test_HAZ131_a_device_that_stops_by_itself_faults_the_driver_with_the_cause(rig, inject, code):
    em, driver = rig()
    stimulate(driver, 10.0)
    driver.events.drain()
    with em._lock:
        inject(em)
    fault = wait_event(driver, "fault", 0.3)
    assert fault.detail["code"] == code
    assert driver.status().state == "fault"


def test_HAZ131_the_device_keepalive_rule_lapsing_faults_the_driver(rig):
    em, driver = rig({"keepalive_timeout_ms": 150}, keepalive_interval_s=0.5)
    stimulate(driver, 10.0)
    driver.events.drain()
    fault = wait_event(driver, "fault", 1.0)
    assert fault.detail["code"] == "stopped_by_device"
    lapsed = next(e for e in em.events("state") if e.message.startswith("keep-alive lapsed"))
    assert em.pulse_log(since_s=lapsed.t_s) == []


# --------------------------------------------------------------------------- HAZ-132


def test_HAZ132_an_unplugged_port_is_detected_without_a_request_and_the_output_stops(rig):
    em, driver = rig()
    stimulate(driver, 10.0)
    driver.events.drain()
    unplugged_s = time.monotonic()
    em.close_pty()
    fault = wait_event(driver, "fault", 0.2)
    assert fault.detail["code"] == "link_lost" and fault.t_s - unplugged_s < 0.1
    assert em.pulse_log(since_s=unplugged_s + 0.001) == []  # USB-powered: off with the cable
    with pytest.raises(DeviceError, match="lost"):
        driver.stop()


def test_HAZ132_the_idle_keepalive_detects_a_hung_device(rig):
    em, driver = rig()
    stimulate(driver, 10.0)
    driver.events.drain()
    em.set_hung(True)
    hung_s = time.monotonic()
    fault = wait_event(driver, "fault", 1.0)
    assert fault.detail["code"] == "link_lost"
    assert fault.t_s - hung_s < 0.1 + 0.19 + 0.1  # interval, answer and state query, slack


@pytest.mark.slow
def test_HAZ132_the_keepalive_keeps_the_device_going_while_nothing_changes(rig):
    em, driver = rig()
    started_s = stimulate(driver, 5.0, channels=1)
    time.sleep(3.0)
    assert em.stim_status == StimStatus.MID_LEVEL_RUNNING
    assert not [e for e in em.events("state") if "keep-alive" in e.message]
    rx_times = [e.t_s for e in em.events("rx") if e.t_s >= started_s]
    assert max(b - a for a, b in itertools.pairwise(rx_times)) <= 0.2
    pulses = em.pulse_log(since_s=started_s + 0.1, until_s=started_s + 3.0)
    assert len(pulses) == pytest.approx(2.9 * RATE_HZ, abs=2)
    assert driver.status().state == "stimulating"


@pytest.mark.slow
def test_HAZ132_after_a_loss_the_driver_goes_silent_and_the_device_stops_within_2_s(rig):
    em, driver = rig()
    stimulate(driver, 10.0)
    em.set_hung(True)
    with pytest.raises(DeviceTimeoutError):
        driver.update({"A": 12})
    driver.emergency_stop()  # written into a hung device: lost
    time.sleep(0.1)
    em.set_hung(False)
    revived_s = time.monotonic()
    time.sleep(2.2)
    assert em.stim_status == StimStatus.MID_LEVEL_INITIALIZED  # its keep-alive lapsed
    last = em.pulse_log(since_s=revived_s)[-1]
    assert last.t_s - revived_s <= 2.0 + 0.01
