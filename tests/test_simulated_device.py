"""The simulated stimulator: interface semantics, electrode model, pulse log, fault injection.

Hand-computed electrode figures use the default skin constants (r_s = 5 kΩ·cm², r_p = 50 kΩ·cm²,
c_p = 0.04 µF/cm², τ = 2 ms): two 25 cm² pads give k = 1/25 + 1/25 = 0.08 /cm².
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import replace
from functools import cache

import pytest

from builders import carrier, make_prescription, pulse_train
from stimwise.device.electrode_model import NOLAN_1991_IMPEDANCE_RANGE_OHM
from stimwise.device.interface import (
    DeviceError,
    DeviceEvent,
    DeviceRefusalError,
    DeviceTimeoutError,
)
from stimwise.device.simulated import DEFAULT_CAPABILITIES, SimulatedStimulator
from stimwise.errors import InputError, UnverifiedPlanError
from stimwise.safety import VerifiedPlan, verify


class ManualClock:
    """A clock the test moves by hand; ``broken`` makes it raise."""

    def __init__(self) -> None:
        self.t_s = 0.0
        self.broken = False

    def __call__(self) -> float:
        if self.broken:
            raise RuntimeError("clock failure")
        return self.t_s


@cache
def tens_plan(channels: int = 1) -> VerifiedPlan:
    """30 mA max, 200 µs/phase symmetric biphasic at 100 Hz, 2 × 25 cm² pads per channel."""
    return verify(make_prescription(channels=channels)).require_plan()


@cache
def waveform_plan(kind: str) -> VerifiedPlan:
    waveforms = {
        "burst": pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2),
        "carrier": carrier(carrier_frequency_hz=4000),
        "carrier_burst": carrier(
            carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=10
        ),
    }
    return verify(make_prescription(waveform=waveforms[kind], amplitude_ma=10)).require_plan()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_device(clock=time.monotonic, **kwargs) -> SimulatedStimulator:
    return SimulatedStimulator(command_latency_s=0.0, clock=clock, **kwargs)


def running(device: SimulatedStimulator, plan: VerifiedPlan, **amplitudes_ma: float):
    device.connect()
    device.configure(plan)
    device.arm()
    device.update(amplitudes_ma)
    device.start()
    return device


def events_of(device: SimulatedStimulator, kind: str) -> list[DeviceEvent]:
    return [e for e in device.events.drain() if e.kind == kind]


def delivered(device: SimulatedStimulator, label: str = "A") -> float:
    return next(c.amplitude_ma for c in device.status().channels if c.label == label)


# --------------------------------------------------------------------------- the interface


def test_steps_in_order_reach_stimulation_and_report_state_and_applied(clock):
    device = make_device(clock)
    assert device.status().state == "disconnected"
    device.connect()
    device.configure(tens_plan())
    assert device.status().channels[0].amplitude_ma == 0  # loaded at zero amplitude
    device.arm()
    device.update({"A": 12.5})
    assert delivered(device) == 0  # armed: nothing delivered yet
    device.start()
    assert device.status().state == "stimulating"
    assert delivered(device) == 12.5
    device.stop()
    assert device.status().state == "stopped"
    events = device.events.drain()
    states = [e.detail["state"] for e in events if e.kind == "state"]
    assert states == ["connected", "configured", "armed", "stimulating", "stopped"]
    applied = [e.detail["delivered_ma"] for e in events if e.kind == "applied"]
    assert applied == [{"A": 0.0}, {"A": 12.5}, {"A": 0.0}]


def test_restart_after_stop_begins_at_zero(clock):
    device = running(make_device(clock), tens_plan(), A=20)
    device.stop()
    device.arm()
    device.start()
    assert delivered(device) == 0


def test_HAZ004_configure_accepts_only_a_verified_plan():
    device = make_device()
    device.connect()
    with pytest.raises(UnverifiedPlanError):
        device.configure(make_prescription())  # type: ignore[arg-type]


def test_configure_refuses_with_every_reason():
    caps = replace(DEFAULT_CAPABILITIES, channels=1, current_range_ma=(0.0, 20.0))
    device = make_device(capabilities=caps)
    device.connect()
    with pytest.raises(DeviceRefusalError) as refused:
        device.configure(tens_plan(channels=2))
    assert refused.value.reasons == [
        f"the plan has 2 channels; {caps.name} has 1",
        "max_amplitude_ma 30 mA is outside the device's range 0–20 mA",
    ]
    assert device.status().state == "connected"


def test_configure_refuses_carriers_and_frequencies_outside_the_device():
    caps = replace(DEFAULT_CAPABILITIES, carriers=False, frequency_range_hz=(1.0, 3000.0))
    device = make_device(capabilities=caps)
    device.connect()
    with pytest.raises(DeviceRefusalError) as refused:
        device.configure(waveform_plan("carrier"))
    assert refused.value.reasons == [
        f"{caps.name} cannot deliver carrier waveforms",
        "lowest carrier frequency 4000 Hz is outside the device's range 1–3000 Hz",
        "highest carrier frequency 4000 Hz is outside the device's range 1–3000 Hz",
    ]


def test_configure_refuses_pulse_widths_outside_range_and_step():
    caps = replace(
        DEFAULT_CAPABILITIES,
        pulse_width_range_us=(250.0, 500.0),
        pulse_width_step_us=7.0,
        pulse_kinds=frozenset({"monophasic"}),
    )
    device = make_device(capabilities=caps)
    device.connect()
    with pytest.raises(DeviceRefusalError) as refused:
        device.configure(tens_plan())
    assert refused.value.reasons == [
        "pulse kind 'biphasic_symmetric' is not one of ['monophasic']",
        "phase_width_us 200 µs is not a multiple of the 7 µs step",
        "phase_width_us 200 µs is outside the device's range 250–500 µs",
    ]


@pytest.mark.parametrize(
    ("steps", "call", "hint"),
    [
        ((), "configure", "connect() first"),
        (("connect",), "arm", "configure() a verified plan first"),
        (("connect", "configure"), "start", "arm() first"),
        (("connect", "configure"), "update", "arm() first"),
        (("connect",), "connect", "close() it first"),
        (("connect", "configure", "arm"), "arm", "start() or stop() it"),
        (("connect", "configure", "arm", "start"), "start", "stop() first"),
        (("connect", "configure", "arm", "start"), "configure", "stop() first"),
        (("connect", "configure", "arm", "start", "stop"), "update", "arm() it again first"),
    ],
)
def test_wrong_order_raises_a_device_error_that_says_what_to_do(steps, call, hint):
    device = make_device()
    calls = {
        "connect": device.connect,
        "configure": lambda: device.configure(tens_plan()),
        "arm": device.arm,
        "start": device.start,
        "update": lambda: device.update({"A": 1.0}),
        "stop": device.stop,
    }
    for step in steps:
        calls[step]()
    with pytest.raises(DeviceError, match=rf"{call}\(\) is not allowed.*{re.escape(hint)}"):
        calls[call]()


def test_update_is_atomic_one_bad_channel_changes_nothing(clock):
    device = running(make_device(clock), tens_plan(channels=2), A=5, B=5)
    with pytest.raises(InputError) as bad:
        device.update({"A": 10, "B": 31, "C": 1})
    problems = {p.path: (p.value, p.expected) for p in bad.value.problems}
    assert problems["amplitudes_ma['B']"][0] == 31
    assert "from 0 to 30" in problems["amplitudes_ma['B']"][1]
    assert problems["amplitudes_ma['C']"] == ("C", "a channel of the plan: ['A', 'B']")
    assert (delivered(device, "A"), delivered(device, "B")) == (5, 5)
    assert len(device.log.segments()) == 2  # no new segment: nothing was applied


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf, "10", True])
def test_update_refuses_values_that_are_not_amplitudes(clock, value):
    device = running(make_device(clock), tens_plan(), A=5)
    with pytest.raises(InputError, match=r"amplitudes_ma\['A'\]"):
        device.update({"A": value})
    assert delivered(device) == 5


def test_update_floors_to_the_current_step_and_keeps_unnamed_channels(clock):
    device = running(make_device(clock), tens_plan(channels=2), A=5, B=7)
    device.update({"A": 12.3456})
    assert (delivered(device, "A"), delivered(device, "B")) == (12.34, 7)


def test_stop_is_idempotent_in_every_state(clock):
    device = make_device(clock)
    device.stop()
    device.connect()
    device.stop()
    assert device.status().state == "connected"
    device.configure(tens_plan())
    device.arm()
    device.stop()
    device.stop()
    assert device.status().state == "stopped"


def test_blocking_calls_honour_their_timeout():
    device = SimulatedStimulator(command_latency_s=0.2)
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match=r"no answer within 0\.02 s"):
        device.connect(timeout_s=0.02)
    assert time.monotonic() - started < 0.15
    assert device.status(timeout_s=1.0).state == "disconnected"


def test_a_command_in_flight_is_not_applied_after_an_emergency_stop():
    device = running(SimulatedStimulator(command_latency_s=0.03), tens_plan(), A=5)
    errors: list[Exception] = []

    def late_update() -> None:
        try:
            device.update({"A": 20})
        except DeviceError as exc:
            errors.append(exc)

    worker = threading.Thread(target=late_update)
    worker.start()
    threading.Event().wait(0.01)  # the update is in flight for 30 ms
    device.emergency_stop()
    worker.join()
    assert "not applied" in str(errors[0])
    assert delivered(device) == 0


def test_close_emergency_stops_and_disconnects(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    clock.t_s = 1.0
    device.close()
    assert device.status().state == "disconnected"
    assert device.last_pulse_time_s() == pytest.approx(0.9904)


# --------------------------------------------------------------------------- emergency stop


def _drive_to(device: SimulatedStimulator, state: str) -> None:
    steps = {
        "disconnected": [],
        "connected": [device.connect],
        "configured": [device.connect, lambda: device.configure(tens_plan())],
        "armed": [device.connect, lambda: device.configure(tens_plan()), device.arm],
        "stimulating": [lambda: running(device, tens_plan(), A=10)],
        "stopped": [lambda: running(device, tens_plan(), A=10), device.stop],
        "fault": [lambda: running(device, tens_plan(), A=10), device.over_current],
        "link lost": [lambda: running(device, tens_plan(), A=10), device.communication_loss],
    }
    for step in steps[state]:
        step()


@pytest.mark.parametrize(
    "state",
    [
        "disconnected",
        "connected",
        "configured",
        "armed",
        "stimulating",
        "stopped",
        "fault",
        "link lost",
    ],
)
def test_HAZ023_emergency_stop_from_every_state_never_raises(clock, state):
    device = make_device(clock)
    _drive_to(device, state)
    clock.t_s = 0.5
    device.emergency_stop()
    device.emergency_stop()
    assert all(segment.t_end_s is not None for segment in device.log.segments())
    device.communication_loss(lost=False)
    assert device.status().state in {"disconnected", "connected", "configured", "stopped", "fault"}
    assert all(channel.amplitude_ma == 0 for channel in device.status().channels)


def test_HAZ023_emergency_stop_never_raises_even_with_a_broken_clock(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    clock.broken = True
    device.emergency_stop()
    clock.broken = False
    assert device.status().state == "stopped"
    assert device.log.segments()[0].t_end_s is not None


def test_HAZ023_emergency_stop_ends_output_at_the_call_time(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    clock.t_s = 1.0052
    device.emergency_stop()
    assert device.log.segments()[0].t_end_s == 1.0052
    clock.t_s = 5.0
    assert len(device.pulses("A", 1.0052)) == 0
    assert device.last_pulse_time_s() == pytest.approx(1.0004)  # onset 1.000 + 400 µs
    assert delivered(device) == 0


def test_a_pulse_in_progress_is_cut_at_the_emergency_stop(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    clock.t_s = 1.0002
    device.emergency_stop()
    assert device.last_pulse_time_s() == pytest.approx(1.0002)


# --------------------------------------------------------------------------- electrode model


def test_impedance_of_two_25cm2_pads_is_inside_nolan_1991(clock):
    device = make_device(clock)
    device.connect()
    device.configure(tens_plan())
    low, high = NOLAN_1991_IMPEDANCE_RANGE_OHM
    impedance = device.status().channels[0].impedance_ohm
    assert impedance == pytest.approx(0.08 * (5_000 + 50_000))  # 4,400 Ω
    assert low <= impedance <= high


def test_end_of_phase_voltage_for_30ma_200us(clock):
    device = running(make_device(clock), tens_plan(), A=30)
    report = device.electrode_report("A")
    # k·(r_s + r_p·(1 − e^(−200 µs / 2 ms))) = 0.08 × (5,000 + 50,000 × 0.0951626) = 780.65 Ω
    assert report.phase_impedance_ohm == pytest.approx(780.650, abs=1e-3)
    assert report.electrode_voltage_v == pytest.approx(23.4195, abs=1e-4)


def test_compliance_clips_the_delivered_current_and_reports_it(clock):
    caps = replace(DEFAULT_CAPABILITIES, compliance_voltage_v=20.0)
    device = running(make_device(clock, capabilities=caps), tens_plan(), A=30)
    assert delivered(device) == pytest.approx(20 / 780.650 * 1000, abs=1e-3)  # 25.620 mA
    faults = events_of(device, "fault")
    assert [f.message for f in faults] == [
        "channel 'A': compliance reached: delivered 25.62 mA of 30.00 mA"
    ]
    assert faults[0].detail["output"] == "clipped"
    assert "compliance reached" in device.status().errors[0]
    assert device.log.segments()[0].amplitude_ma == pytest.approx(25.620, abs=1e-3)


def test_HAZ024_partial_peel_raises_impedance_and_current_density(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    before = device.electrode_report("A")
    device.events.drain()
    device.partial_peel("A", 0.5)
    after = device.electrode_report("A")
    # k = 1/12.5 + 1/25 = 0.12 /cm²: 6,600 Ω; 10 mA on 12.5 cm² = 0.8 mA/cm² peak
    assert (before.impedance_ohm, after.impedance_ohm) == pytest.approx((4_400, 6_600))
    assert before.electrodes[0].peak_density_ma_per_cm2 == pytest.approx(0.4)
    assert after.electrodes[0].peak_density_ma_per_cm2 == pytest.approx(0.8)
    assert after.electrodes[0].rms_density_ma_per_cm2 == pytest.approx(10 * 0.2 / 12.5)
    assert device.status().channels[0].electrode == "partial"
    event = events_of(device, "electrode")[0]
    assert event.message == (
        "channel 'A': electrode 0 at 50% contact; impedance 6600 Ω, peak 0.80 mA/cm²"
    )
    assert event.detail["electrodes"][0]["effective_area_cm2"] == 12.5
    assert delivered(device) == 10  # still delivering: below the density limit


def test_HAZ024_peel_past_the_density_limit_stops_the_channel_first(clock):
    device = running(make_device(clock), tens_plan(), A=30)
    clock.t_s = 1.0
    device.partial_peel("A", 0.1)
    # k = 1/2.5 + 1/25 = 0.44: 30 mA needs 0.44 × 9,758.13 Ω × 30 mA = 128.8 V > 120 V, so it is
    # clipped to 27.948 mA, whose r.m.s. (× 6/30) on the 2.5 cm² left is 2.236 > 2 mA/cm²
    fault = events_of(device, "fault")[0]
    assert fault.detail["code"] == "current_density"
    assert fault.detail["rms_density_ma_per_cm2"] == pytest.approx(2.2359, abs=1e-4)
    clock.t_s = 3.0
    assert len(device.pulses("A", 1.0)) == 0
    assert delivered(device) == 0
    device.partial_peel("A", 1.0)
    assert delivered(device) == 0  # latched off until configure


def test_lead_off_of_one_channel_stops_it_and_leaves_the_other(clock):
    device = running(make_device(clock), tens_plan(channels=2), A=10, B=10)
    clock.t_s = 1.0
    device.lead_off("A", electrode=1)
    clock.t_s = 2.0
    assert len(device.pulses("A", 1.0)) == 0
    assert len(device.pulses("B", 1.0)) == 100
    channel_a = device.status().channels[0]
    assert (channel_a.electrode, channel_a.impedance_ohm) == ("lead_off", None)
    assert device.status().state == "stimulating"
    assert "channel 'A': output latched off (lead off)" in device.status().errors


def test_fault_injection_rejects_unknown_channels_electrodes_and_fractions(clock):
    device = make_device(clock)
    device.connect()
    device.configure(tens_plan())
    with pytest.raises(InputError, match="channel"):
        device.lead_off("Z")
    with pytest.raises(InputError, match="electrode"):
        device.partial_peel("A", 0.5, electrode=2)
    with pytest.raises(InputError, match="area_fraction"):
        device.partial_peel("A", 0.0)


# --------------------------------------------------------------------------- fault injection


FAULTS = {
    "lead_off": (lambda d: d.lead_off("A"), "lead_off"),
    "communication_loss": (lambda d: d.communication_loss(), "link_lost"),
    "device_reset": (lambda d: d.device_reset(), "device_reset"),
    "over_current": (lambda d: d.over_current(), "over_current"),
    "density_trip": (lambda d: d.partial_peel("A", 0.05), "current_density"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_HAZ023_every_fault_stops_output_first_then_reports(fault):
    inject, code = FAULTS[fault]
    device = running(make_device(), tens_plan(), A=30)  # the real clock, as events use it
    threading.Event().wait(0.015)
    inject(device)
    after = time.monotonic()
    report = next(e for e in device.events.drain() if e.detail.get("code") == code)
    segment = device.log.segments()[-1]
    assert segment.t_end_s is not None
    assert segment.t_end_s <= report.t_s  # the output ended before the fault was reported
    assert device.last_pulse_time_s() <= segment.t_end_s
    assert len(device.pulses("A", segment.t_end_s, after + 1.0)) == 0
    assert device.log.segments("A")[0].t_start_s < segment.t_end_s  # pulses did flow before


def test_communication_loss_times_out_commands_until_restored_and_reconfigured():
    device = running(make_device(), tens_plan(), A=10)
    device.communication_loss()
    with pytest.raises(DeviceTimeoutError, match="link is lost"):
        device.status(timeout_s=0.01)
    device.emergency_stop()  # bypasses the link
    device.communication_loss(lost=False)
    status = device.status()
    assert status.state == "fault"
    assert "communication lost" in status.errors[0]
    device.configure(tens_plan())
    assert device.status().errors == ()


def test_device_reset_returns_to_disconnected_and_forgets_the_plan(clock):
    device = running(make_device(clock), tens_plan(), A=10)
    device.device_reset()
    status = device.status()
    assert (status.state, status.channels) == ("disconnected", ())
    with pytest.raises(DeviceError, match="connect\\(\\) first"):
        device.arm()


# --------------------------------------------------------------------------- pulse log


@pytest.mark.parametrize(
    ("kind", "duration_s", "pulses"),
    [
        ("tens", 2.0, 200),  # 100 Hz for 2 s
        ("burst", 2.0, 28),  # 7 pulses per burst, 2 bursts per second
        ("carrier", 0.5, 2000),  # 4 kHz carrier cycles
        ("carrier_burst", 1.0, 50),  # 10 ms bursts at 50 Hz
    ],
)
def test_pulse_log_expands_segments_to_pulse_onsets(clock, kind, duration_s, pulses):
    plan = tens_plan() if kind == "tens" else waveform_plan(kind)
    device = running(make_device(clock), plan, A=5)
    clock.t_s = duration_s
    device.stop()
    assert len(device.pulses("A")) == pulses


def amplitude_step(clock, first_ma: float, second_ma: float, change_s: float, end_s: float):
    """A device that stimulated at ``first_ma``, then at ``second_ma`` from ``change_s`` until
    it stopped at ``end_s``."""
    device = running(make_device(clock), tens_plan(), A=first_ma)
    clock.t_s = change_s
    device.update({"A": second_ma})
    clock.t_s = end_s
    device.stop()
    return device


def test_an_amplitude_change_does_not_restart_the_pulse_train(clock):
    device = amplitude_step(clock, 5, 10, change_s=0.0055, end_s=2.0)
    onsets = device.pulses("A")
    assert len(onsets) == 200
    assert onsets[1] == pytest.approx(0.01)
    assert [s.amplitude_ma for s in device.log.segments()] == [5, 10]


def test_delivered_charge_from_segments(clock):
    device = amplitude_step(clock, 30, 15, change_s=2.0, end_s=3.0)
    # |charge| per pulse: 30 mA × 2 × 200 µs = 12 µC; 200 pulses, then 100 pulses of 6 µC
    assert device.delivered_charge_uc("A") == pytest.approx(200 * 12 + 100 * 6)


def test_last_pulse_time_searches_back_over_a_burst_gap(clock):
    device = running(make_device(clock), waveform_plan("burst"), A=5)
    clock.t_s = 10.3  # the last burst began at 10.0: onsets 10.00 … 10.06
    device.emergency_stop()
    assert device.last_pulse_time_s("A") == pytest.approx(10.06 + 400e-6)
    assert make_device(clock).last_pulse_time_s() is None
