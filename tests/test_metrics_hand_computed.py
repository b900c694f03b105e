"""Exact waveform metrics checked against figures computed by hand.

Every expected value is written out as arithmetic in a comment (units: mA, µs, µC, Ω, s) and is
computed here independently of the library. Definitions: ``stimwise.waveform.metrics`` docstring.
Unit bridges used throughout:
  mA·µs = 1e-3 µC;  mA²·Ω·s = 1e-3 mJ;  mA²·Ω = 1e-6 W.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import (
    asymmetric_pulse,
    carrier,
    channel_dict,
    channel_metrics,
    frequency_modulation,
    make_prescription,
    make_protocol,
    monophasic_pulse,
    pulse_train,
    symmetric_pulse,
)
from stimwise.waveform.metrics import FDA_CHARACTERISATION_LOADS_OHM, compute_metrics
from stimwise.waveform.schedule import pulse_events, steady_onsets
from stimwise.waveform.window import MAX_WINDOW_S, steady_window_s

REL = 1e-9
ZERO = 1e-9  # absolute tolerance for figures that are exactly 0 in closed form


def approx(value: float) -> object:
    return pytest.approx(value, rel=REL, abs=1e-15)


# =========================================================================== pulse trains


def test_conventional_tens_figures_match_clinical_facts_worked_example():
    # 30 mA, 200 µs/phase symmetric biphasic, 100 Hz, two 25 cm² electrodes, 500 Ω.
    c = channel_metrics(make_prescription())
    # charge/phase = 30 mA · 200 µs = 6000 mA·µs = 6 µC
    assert c.charge_per_phase_uc == approx(6.0)
    # symmetric → net charge 0 and no DC
    assert c.net_charge_per_pulse_uc == 0.0
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    # rms = 30 · √(100 Hz · 400 µs) = 30 · √0.04 = 30 · 0.2 = 6 mA
    # (bound = mean = cycle for continuous stimulation)
    assert c.rms_current_ma == approx(6.0)
    assert c.rms_current_mean_ma == approx(6.0)
    assert c.rms_current_cycle_ma == approx(6.0)
    # current density = 6 mA / 25 cm² = 0.24 mA/cm²; charge density = 6 µC / 25 cm² = 0.24 µC/cm²
    assert c.current_density_ma_per_cm2 == approx(0.24)
    assert c.charge_density_uc_per_cm2 == approx(0.24)
    # Shannon k = log10(0.24) + log10(6) = log10(1.44) ≈ 0.1584
    assert c.shannon_k == approx(math.log10(0.24) + math.log10(6))
    assert c.shannon_k == approx(math.log10(1.44))
    # energy/pulse = (0.03 A)² · 500 Ω · 400e-6 s = 1.8e-4 J = 0.18 mJ
    assert c.energy_per_pulse_mj == approx(0.03**2 * 500 * 400e-6 * 1e3)
    assert c.energy_per_pulse_mj == approx(0.18)
    assert c.energy_per_burst_mj is None
    # power = (6e-3 A)² · 500 Ω = 0.018 W; power density = 0.018 / 25 = 0.00072 W/cm²
    assert c.average_power_w == approx(0.018)
    assert c.average_power_cycle_w == approx(0.018)
    assert c.power_density_w_per_cm2 == approx(0.00072)
    # peak voltage = 30 mA · 500 Ω = 15 V
    assert c.peak_current_ma == 30.0
    assert c.peak_voltage_v == approx(15.0)
    assert c.pulses_per_second == approx(100.0)
    assert c.output_frequency_hz == approx(100.0)
    assert c.duty_cycle == 1.0
    assert c.smallest_electrode_area_cm2 == 25.0


@pytest.mark.parametrize(
    ("load_ohm", "energy_mj", "power_w", "peak_v"),
    [
        # energy = 0.03² · R · 400e-6 J;  power = 0.006² · R W;  V = 0.03 · R
        (500.0, 0.03**2 * 500 * 400e-6 * 1e3, 0.006**2 * 500, 15.0),  # 0.18 mJ, 0.018 W
        (2000.0, 0.03**2 * 2000 * 400e-6 * 1e3, 0.006**2 * 2000, 60.0),  # 0.72 mJ, 0.072 W
        (10_000.0, 0.03**2 * 10_000 * 400e-6 * 1e3, 0.006**2 * 10_000, 300.0),  # 3.6 mJ, 0.36 W
    ],
)
def test_load_dependent_figures_scale_with_the_fda_characterisation_loads(
    load_ohm, energy_mj, power_w, peak_v
):
    assert load_ohm in FDA_CHARACTERISATION_LOADS_OHM
    c = channel_metrics(make_prescription(), load_ohm=load_ohm)
    assert c.load_ohm == load_ohm
    assert c.energy_per_pulse_mj == approx(energy_mj)
    assert c.average_power_w == approx(power_w)
    # power density = power / 25 cm²
    assert c.power_density_w_per_cm2 == approx(power_w / 25)
    assert c.peak_voltage_v == approx(peak_v)
    # load-independent figures do not move
    assert c.charge_per_phase_uc == approx(6.0)
    assert c.rms_current_ma == approx(6.0)
    assert c.current_density_ma_per_cm2 == approx(0.24)


def test_load_must_be_positive():
    with pytest.raises(ValueError, match="load_ohm"):
        compute_metrics(make_prescription(), load_ohm=0)


def test_asymmetric_balanced_pulse_has_no_net_charge():
    # 40 mA, 250 µs leading, 1000 µs second phase at ratio 250/1000 = 0.25, 80 Hz, 25 cm².
    rx = make_prescription(
        waveform=pulse_train(pulse=asymmetric_pulse(250, 1000), frequency_hz=80), amplitude_ma=40
    )
    c = channel_metrics(rx)
    # charge/phase (leading) = 40 · 250 = 10000 mA·µs = 10 µC
    assert c.charge_per_phase_uc == approx(10.0)
    # net = 40 · (250 − 0.25 · 1000) = 0 µC
    assert c.net_charge_per_pulse_uc == pytest.approx(0.0, abs=ZERO)
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    # ∫i² per pulse = 40² · (250 + 0.25² · 1000) µs = 1600 · 312.5e-6 = 0.5 mA²·s
    # rms = √(80 · 0.5) = √40 mA ≈ 6.3246 mA
    assert c.rms_current_ma == approx(math.sqrt(40))
    assert c.rms_current_mean_ma == approx(math.sqrt(40))
    # energy/pulse = 0.5 mA²·s · 500 Ω · 1e-3 = 0.25 mJ
    assert c.energy_per_pulse_mj == approx(0.25)
    # power = 40 mA² · 500 Ω · 1e-6 = 0.02 W
    assert c.average_power_w == approx(0.02)


@pytest.mark.parametrize(("leading", "sign"), [("cathodic", -1.0), ("anodic", 1.0)])
def test_explicit_unbalanced_ratio_leaves_exact_net_charge_and_dc(leading, sign):
    # 20 mA, 200 µs leading, 600 µs second at ratio 0.25, 50 Hz.
    rx = make_prescription(
        waveform=pulse_train(
            pulse=asymmetric_pulse(200, 600, ratio=0.25, leading_polarity=leading), frequency_hz=50
        ),
        amplitude_ma=20,
    )
    c = channel_metrics(rx)
    # charge/phase = 20 · 200 = 4000 mA·µs = 4 µC
    assert c.charge_per_phase_uc == approx(4.0)
    # net = 20 · (200 − 0.25 · 600) = 20 · 50 = 1000 mA·µs = 1 µC per pulse
    assert c.net_charge_per_pulse_uc == approx(1.0)
    # DC = ±1 µC · 50 /s = ±50 µA, sign of the leading phase (+ anodic)
    assert c.dc_current_ua == approx(sign * 50.0)
    # ∫i² = 20² · (200 + 0.0625 · 600) µs = 400 · 237.5e-6 = 0.095 mA²·s; rms = √(50 · 0.095)
    assert c.rms_current_ma == approx(math.sqrt(4.75))


def test_monophasic_microcurrent_dc_is_amplitude_times_width_times_rate():
    # 0.3 mA, 1000 µs cathodic monophasic at 100 Hz, two 4 cm² electrodes.
    rx = make_prescription(
        waveform=pulse_train(pulse=monophasic_pulse(1000), frequency_hz=100),
        amplitude_ma=0.3,
        area_cm2=4,
    )
    c = channel_metrics(rx)
    # charge/phase = net/pulse = 0.3 · 1000 = 300 mA·µs = 0.3 µC
    assert c.charge_per_phase_uc == approx(0.3)
    assert c.net_charge_per_pulse_uc == approx(0.3)
    # DC = −A·w·f = −0.3 mA · 1e-3 s · 100 /s = −0.03 mA = −30 µA (cathodic)
    assert c.dc_current_ua == approx(-30.0)
    # rms = 0.3 · √(100 · 1e-3) = 0.3 · √0.1 ≈ 0.09487 mA
    assert c.rms_current_ma == approx(0.3 * math.sqrt(0.1))
    # densities on 4 cm²: charge 0.3/4 = 0.075 µC/cm²; k = log10(0.075 · 0.3) = log10(0.0225)
    assert c.charge_density_uc_per_cm2 == approx(0.075)
    assert c.shannon_k == approx(math.log10(0.0225))
    assert c.current_density_ma_per_cm2 == approx(0.3 * math.sqrt(0.1) / 4)


def test_monophasic_polarity_reversal_cancels_dc_over_the_window():
    # Same pulse with polarity reversed every 1 s: window = 2 s, 100 cathodic + 100 anodic pulses.
    rx = make_prescription(
        waveform=pulse_train(
            pulse=monophasic_pulse(1000, polarity_reversal_interval_s=1.0), frequency_hz=100
        ),
        amplitude_ma=0.3,
        area_cm2=4,
    )
    m = compute_metrics(rx)
    c = m.channel("A")
    assert m.steady_window_s == approx(2.0)
    # DC = (−100 + 100) · 0.3 µC / 2 s = 0; per pulse the net charge is still 0.3 µC
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    assert c.net_charge_per_pulse_uc == approx(0.3)
    assert c.rms_current_ma == approx(0.3 * math.sqrt(0.1))
    assert c.pulses_per_second == approx(100.0)


def test_polarity_reversal_that_splits_pulses_unevenly_leaves_dc():
    # 3 Hz, reversal every 0.5 s: pulses at 0 and 1/3 s are cathodic, 2/3 s anodic (window 1 s).
    # DC = (−2 + 1) · 0.3 µC / 1 s = −0.3 µA.
    rx = make_prescription(
        waveform=pulse_train(
            pulse=monophasic_pulse(1000, polarity_reversal_interval_s=0.5), frequency_hz=3
        ),
        amplitude_ma=0.3,
    )
    m = compute_metrics(rx)
    assert m.steady_window_s == approx(1.0)
    assert m.channel("A").dc_current_ua == approx(-0.3)


def test_alternating_leading_phase_cancels_dc_of_an_unbalanced_pulse():
    # 30 mA, 200 µs leading, 800 µs second at ratio 0.125, alternating, 100 Hz.
    rx = make_prescription(
        waveform=pulse_train(
            pulse=asymmetric_pulse(200, 800, ratio=0.125, leading_polarity="alternating"),
            frequency_hz=100,
        )
    )
    c = channel_metrics(rx)
    # net per pulse = 30 · (200 − 0.125 · 800) = 30 · 100 = 3000 mA·µs = 3 µC (nonzero)
    assert c.net_charge_per_pulse_uc == approx(3.0)
    # 50 pulses of each sign per second → DC 0
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    # ∫i² = 900 · (200 + 0.015625 · 800) µs = 900 · 212.5e-6 = 0.19125 mA²·s; rms = √19.125
    assert c.rms_current_ma == approx(math.sqrt(19.125))


def test_burst_tens_counts_fourteen_pulses_per_second():
    # 40 mA, 200 µs/phase symmetric, bursts of 7 pulses at 100 Hz repeated at 2 Hz.
    rx = make_prescription(
        waveform=pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2),
        amplitude_ma=40,
    )
    m = compute_metrics(rx)
    c = m.channel("A")
    assert m.steady_window_s == approx(1.0)
    # 7 · 2 = 14 pulses per second
    assert c.pulses_per_second == approx(14.0)
    # rms = 40 · √(14 · 400e-6) = 40 · √0.0056 ≈ 2.9933 mA (exact: burst rate divides 1 s)
    assert c.rms_current_ma == approx(40 * math.sqrt(14 * 2 * 200e-6))
    assert c.rms_current_mean_ma == approx(40 * math.sqrt(0.0056))
    # energy/pulse = 40² · 400e-6 · 500 · 1e-3 = 0.32 mJ; per burst 7 · 0.32 = 2.24 mJ
    assert c.energy_per_pulse_mj == approx(0.32)
    assert c.energy_per_burst_mj == approx(2.24)
    # the output (burst) frequency is 2 Hz
    assert c.output_frequency_hz == approx(2.0)
    assert c.charge_per_phase_uc == approx(8.0)  # 40 · 200 = 8000 mA·µs


def _nmes_sum_of_squared_ramp_fractions() -> float:
    """Plain loop over the pulses of one 60 s cycle (50 Hz, on 10 s, ramps 2 s up / 1 s down).

    Written from the envelope definition, independent of the library: the fraction is
    min(1, t/ramp_up, (on − t)/ramp_down) while t < on, else 0."""
    total = 0.0
    for k in range(60 * 50):
        t = k / 50
        if t >= 10:
            continue
        total += min(1.0, t / 2, (10 - t) / 1) ** 2
    return total


def test_on_off_nmes_cycle_rms_sums_every_ramped_pulse():
    # 40 mA, 300 µs/phase symmetric at 50 Hz; on 10 s, off 50 s, ramp up 2 s, ramp down 1 s.
    rx = make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(300), frequency_hz=50),
        envelope={"on_s": 10, "off_s": 50, "ramp_up_s": 2, "ramp_down_s": 1},
        amplitude_ma=40,
        modality="NMES",
        goal="muscle_reeducation",
    )
    c = channel_metrics(rx)
    # Pulses at t = k/50 s. Ramp up k = 0..99: fraction k/100 → Σ (k/100)² = 328350/10⁴ = 32.835
    # Plateau k = 100..450 (t = 2 … 9 s): 351 pulses at 1.
    # Ramp down k = 451..499: fraction (500 − k)/50 = j/50, j = 1..49 → Σ (j/50)² = 40425/2500
    #   = 16.17.  Total Σ fraction² = 32.835 + 351 + 16.17 = 400.005
    ramp_up = sum((k / 100) ** 2 for k in range(100))
    ramp_down = sum((j / 50) ** 2 for j in range(1, 50))
    assert ramp_up == pytest.approx(32.835, rel=REL)
    assert ramp_down == pytest.approx(16.17, rel=REL)
    total = ramp_up + 351 + ramp_down
    assert total == pytest.approx(400.005, rel=REL)
    assert _nmes_sum_of_squared_ramp_fractions() == pytest.approx(total, rel=REL)
    # rms_cycle = 40 · √(400.005 · 600e-6 s / 60 s)
    expected_cycle = 40 * math.sqrt(400.005 * 600e-6 / 60)
    assert c.rms_current_cycle_ma == approx(expected_cycle)
    # steady figures exclude ramps and off-time: 40 · √(50 · 600e-6) = 40 · √0.03 ≈ 6.928 mA
    assert c.rms_current_ma == approx(40 * math.sqrt(0.03))
    assert c.rms_current_mean_ma == approx(40 * math.sqrt(0.03))
    assert c.duty_cycle == approx(10 / 60)
    # cycle power = rms_cycle² · 500 Ω · 1e-6 W
    assert c.average_power_cycle_w == approx(expected_cycle**2 * 500e-6)
    assert c.average_power_w == approx(0.03 * 1600 * 500e-6)  # 48 mA² · 500 Ω = 0.024 W


def test_alternating_frequency_modulation_counts_pulses_over_its_six_second_window():
    # 30 mA, 200 µs/phase; frequency alternates 100 Hz for 3 s and 4 Hz for 3 s (period 6 s).
    rx = make_prescription(
        waveform=pulse_train(frequency_hz=100, modulations=[frequency_modulation(4, 6)])
    )
    m = compute_metrics(rx)
    c = m.channel("A")
    assert m.steady_window_s == approx(6.0)
    # pulses per second over 6 s = (3 · 100 + 3 · 4) / 6 = 312 / 6 = 52
    assert c.pulses_per_second == approx(52.0)
    # rms bound uses the highest rate: 30 · √(100 · 400e-6) = 6 mA
    assert c.rms_current_ma == approx(6.0)
    # long-run rms: 30 · √(52 · 400e-6) = 30 · √0.0208 ≈ 4.3267 mA
    assert c.rms_current_mean_ma == approx(30 * math.sqrt(0.0208))
    assert c.output_frequency_hz == approx(4.0)
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)


def test_current_density_uses_the_smallest_electrode_of_the_channel():
    # 30 mA, 200 µs, 100 Hz; active electrode 25 cm², return electrode 16 cm².
    rx = make_prescription(channels=[channel_dict("A", (25.0, 16.0))])
    c = channel_metrics(rx)
    assert c.smallest_electrode_area_cm2 == 16.0
    # 6 mA / 16 cm² = 0.375 mA/cm²; 6 µC / 16 cm² = 0.375 µC/cm²; k = log10(0.375 · 6) = log10 2.25
    assert c.current_density_ma_per_cm2 == approx(0.375)
    assert c.charge_density_uc_per_cm2 == approx(0.375)
    assert c.shannon_k == approx(math.log10(2.25))
    # 0.018 W / 16 cm² = 0.001125 W/cm²
    assert c.power_density_w_per_cm2 == approx(0.001125)
    # each electrode is also reported at its own area
    by_area = {e.area_cm2: e for e in c.electrodes}
    assert by_area[25.0].current_density_ma_per_cm2 == approx(0.24)
    assert by_area[16.0].current_density_ma_per_cm2 == approx(0.375)
    assert by_area[25.0].power_density_w_per_cm2 == approx(0.00072)


def test_interphase_gap_adds_no_charge_or_energy():
    # 30 mA, 200 µs phases with a 100 µs gap at 100 Hz: the gap carries no current.
    rx = make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(200, interphase_gap_us=100), frequency_hz=100)
    )
    c = channel_metrics(rx)
    assert c.charge_per_phase_uc == approx(6.0)
    assert c.rms_current_ma == approx(6.0)
    assert c.energy_per_pulse_mj == approx(0.18)


def test_pulse_width_and_amplitude_modulation_lower_the_mean_but_not_the_bound():
    # 30 mA, 200 µs, 100 Hz; amplitude and width each swept down to 0.5 with a 1 s triangle.
    # Bound takes every parameter at its maximum: 6 mA, 6 µC/phase.
    rx = make_prescription(
        waveform=pulse_train(
            modulations=[
                {
                    "parameter": "amplitude",
                    "shape": "alternate",
                    "period_s": 1,
                    "low_fraction": 0.5,
                },
                {
                    "parameter": "pulse_width",
                    "shape": "alternate",
                    "period_s": 1,
                    "low_fraction": 0.5,
                },
            ]
        )
    )
    c = channel_metrics(rx)
    assert c.rms_current_ma == approx(6.0)
    assert c.charge_per_phase_uc == approx(6.0)
    # alternate: first 0.5 s full (50 pulses at 1² · 1), last 0.5 s at amplitude 0.5, width 0.5
    # → Σ a² · w = 50 + 50 · 0.25 · 0.5 = 56.25; rms = 30 · √(56.25 · 400e-6 / 1 s) = 30 · 0.15
    assert c.rms_current_mean_ma == approx(4.5)


# =========================================================================== carriers


def test_sine_carrier_rms_is_amplitude_over_root_two():
    # 20 mA sine at 4000 Hz, continuous.
    rx = make_prescription(
        waveform=carrier(shape="sine", carrier_frequency_hz=4000), amplitude_ma=20, modality="IFC"
    )
    c = channel_metrics(rx)
    # rms = 20/√2 ≈ 14.142 mA
    assert c.rms_current_ma == approx(20 / math.sqrt(2))
    assert c.rms_current_mean_ma == approx(20 / math.sqrt(2))
    # charge per half-cycle = ∫₀^{1/2f} A sin(2πft) dt = A/(πf) = 20/(π · 4000) mA·s → ×1e3 µC
    assert c.charge_per_phase_uc == approx(20 / (math.pi * 4000) * 1e3)
    assert c.net_charge_per_pulse_uc == 0.0
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    # energy per cycle = A²/2 · (1/f) · R = 400 · 0.5 / 4000 · 500 · 1e-3 = 0.025 mJ
    assert c.energy_per_pulse_mj == approx(0.025)
    # power = 200 mA² · 500 Ω · 1e-6 = 0.1 W
    assert c.average_power_w == approx(0.1)
    assert c.pulses_per_second == approx(4000.0)
    assert c.output_frequency_hz == approx(4000.0)


def test_square_carrier_rms_equals_amplitude():
    # 10 mA square at 2000 Hz, continuous.
    rx = make_prescription(
        waveform=carrier(shape="square", carrier_frequency_hz=2000), amplitude_ma=10
    )
    c = channel_metrics(rx)
    assert c.rms_current_ma == approx(10.0)
    # charge per half-cycle = A · 1/(2f) = 10 · 0.25e-3 mA·s = 2.5 µC
    assert c.charge_per_phase_uc == approx(2.5)
    # energy per cycle = 10² · (1/2000) · 500 · 1e-3 = 0.025 mJ
    assert c.energy_per_pulse_mj == approx(0.025)
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)


def test_russian_current_whole_cycles_per_burst_has_no_dc():
    # 50 mA sine 2500 Hz, 10 ms bursts at 50 Hz: 2500 · 0.01 = 25 whole cycles per burst.
    rx = make_prescription(
        waveform=carrier(
            shape="sine", carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=10
        ),
        amplitude_ma=50,
        modality="NMES",
        goal="muscle_reeducation",
    )
    c = channel_metrics(rx)
    # whole cycles → net 0 per burst, DC 0
    assert c.net_charge_per_pulse_uc == pytest.approx(0.0, abs=ZERO)
    assert c.dc_current_ua == pytest.approx(0.0, abs=ZERO)
    # rms = A · √(1/2 · duty) = 50 · √(0.5 · 0.5) = 25 mA (duty = 10 ms · 50 Hz = 0.5)
    assert c.rms_current_ma == approx(25.0)
    assert c.rms_current_mean_ma == approx(25.0)
    # energy per burst = A² · (duration/2) · R = 2500 · 0.005 · 500 · 1e-3 = 6.25 mJ
    assert c.energy_per_burst_mj == approx(6.25)
    # carrier cycles per second = 2500 · 0.01 · 50 = 1250
    assert c.pulses_per_second == approx(1250.0)
    # charge per half-cycle = 50/(π · 2500) mA·s → ≈ 6.366 µC
    assert c.charge_per_phase_uc == approx(50 / (math.pi * 2500) * 1e3)


def test_russian_current_with_a_quarter_cycle_left_over_has_exact_dc():
    # 50 mA sine 2500 Hz, 10.1 ms bursts at 50 Hz: 25.25 cycles; carrier starts cathodic.
    # charge/burst = −A · (1 − cos(2π · 25.25)) / (2π · 2500) = −50 / (5000 π) mA·s ≈ −3.183 µC
    rx = make_prescription(
        waveform=carrier(
            shape="sine", carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=10.1
        ),
        amplitude_ma=50,
    )
    c = channel_metrics(rx)
    net_uc = 50 / (5000 * math.pi) * 1e3
    assert c.net_charge_per_pulse_uc == pytest.approx(net_uc, rel=1e-9)
    # DC = −3.183 µC · 50 /s ≈ −159.15 µA
    assert c.dc_current_ua == pytest.approx(-net_uc * 50, rel=1e-9)


def test_square_carrier_burst_with_an_odd_number_of_half_cycles_has_exact_dc():
    # 10 mA square 2000 Hz, 1.25 ms bursts at 100 Hz: 5 half-cycles (− + − + −), one uncancelled.
    # net = 10 mA · 0.25 ms = 2.5 µC (cathodic); DC = −2.5 µC · 100 /s = −250 µA.
    rx = make_prescription(
        waveform=carrier(
            shape="square",
            carrier_frequency_hz=2000,
            burst_frequency_hz=100,
            burst_duration_ms=1.25,
        ),
        amplitude_ma=10,
    )
    c = channel_metrics(rx)
    assert c.net_charge_per_pulse_uc == approx(2.5)
    assert c.dc_current_ua == approx(-250.0)
    # rms = 10 · √(1.25e-3 · 100) = 10 · √0.125 mA
    assert c.rms_current_ma == approx(10 * math.sqrt(0.125))


def test_interferential_pair_uses_each_channels_offset_frequency():
    # 20 mA sine 4000 Hz; channel A offset 0, channel B offset +100 Hz (100 Hz beat).
    rx = make_prescription(
        waveform=carrier(shape="sine", carrier_frequency_hz=4000),
        amplitude_ma=20,
        modality="IFC",
        channels=[
            channel_dict("A", (25.0, 25.0)),
            channel_dict("B", (25.0, 25.0), carrier_frequency_offset_hz=100),
        ],
    )
    m = compute_metrics(rx)
    a, b = m.channel("A"), m.channel("B")
    assert a.output_frequency_hz == approx(4000.0)
    assert b.output_frequency_hz == approx(4100.0)
    # charge per half-cycle: A/(π f) → 20/(4000π) and 20/(4100π) mA·s
    assert a.charge_per_phase_uc == approx(20 / (math.pi * 4000) * 1e3)
    assert b.charge_per_phase_uc == approx(20 / (math.pi * 4100) * 1e3)
    # energy per cycle: 400 · 0.5 / f · 500 · 1e-3 mJ
    assert b.energy_per_pulse_mj == approx(400 * 0.5 / 4100 * 0.5)
    # rms does not depend on the frequency: 20/√2 on both
    assert a.rms_current_ma == approx(20 / math.sqrt(2))
    assert b.rms_current_ma == approx(20 / math.sqrt(2))
    assert b.pulses_per_second == approx(4100.0)


def test_sine_carrier_with_on_off_envelope_weights_linear_ramps_by_one_third():
    # 20 mA sine 4000 Hz; on 10 s (2 s up, 2 s down), off 10 s.
    # mean of envelope² over the cycle = (10 − 4 + 4/3) / 20 = (22/3)/20 = 11/30
    rx = make_prescription(
        waveform=carrier(shape="sine", carrier_frequency_hz=4000),
        envelope={"on_s": 10, "off_s": 10, "ramp_up_s": 2, "ramp_down_s": 2},
        amplitude_ma=20,
    )
    c = channel_metrics(rx)
    assert c.rms_current_cycle_ma == approx(20 / math.sqrt(2) * math.sqrt(11 / 30))
    assert c.duty_cycle == approx(0.5)


# =========================================================================== schedule


def test_burst_schedule_places_seven_pulses_at_the_start_of_every_burst():
    protocol = make_protocol(
        waveform=pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2)
    )
    onsets, index = steady_onsets(protocol.waveform, 0.0, 1.0)
    expected = [b / 2 + k / 100 for b in range(2) for k in range(7)]
    np.testing.assert_allclose(onsets, expected, rtol=0, atol=1e-12)
    assert index.tolist() == list(range(14))


def test_burst_schedule_in_a_later_interval_keeps_global_indices():
    protocol = make_protocol(
        waveform=pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2)
    )
    # [0.53, 1.02): burst 1 pulses 3..6 (0.53 … 0.56 s) and burst 2 pulses 0..2 (1.00 … 1.02 s
    # exclusive) → onsets 0.53, 0.54, 0.55, 0.56, 1.00, 1.01
    onsets, index = steady_onsets(protocol.waveform, 0.53, 1.02)
    np.testing.assert_allclose(onsets, [0.53, 0.54, 0.55, 0.56, 1.0, 1.01], atol=1e-12)
    assert index.tolist() == [10, 11, 12, 13, 14, 15]


def test_alternating_fm_schedule_is_three_seconds_at_100_hz_then_three_at_4_hz():
    protocol = make_protocol(
        waveform=pulse_train(frequency_hz=100, modulations=[frequency_modulation(4, 6)])
    )
    onsets, index = steady_onsets(protocol.waveform, 0.0, 6.0)
    expected = [n / 100 for n in range(300)] + [3 + j / 4 for j in range(12)]
    assert len(onsets) == 312
    np.testing.assert_allclose(onsets, expected, rtol=0, atol=1e-9)
    assert index.tolist() == list(range(312))


def _phase_integral(shape: str, t: np.ndarray, low: float, high: float, period: float):
    """Φ(t) = ∫₀ᵗ f(τ) dτ written from the modulation definitions (independent of the library).

    sine: m = (1 + cos 2πu)/2; triangle: m = |1 − 2u|; alternate: m = 1 for u < 1/2 else 0."""
    whole, u = np.divmod(np.asarray(t) / period, 1.0)
    if shape == "sine":
        part = u / 2 + np.sin(2 * np.pi * u) / (4 * np.pi)
    elif shape == "triangle":
        part = np.where(u < 0.5, u - u**2, 0.25 + (u - 0.5) ** 2)
    else:
        part = np.minimum(u, 0.5)
    return low * np.asarray(t) + (high - low) * period * (whole / 2 + part)


@pytest.mark.parametrize("shape", ["sine", "triangle", "alternate"])
def test_fm_onsets_satisfy_phase_integral_equals_pulse_index(shape):
    low, high, period = 4.0, 100.0, 5.0
    protocol = make_protocol(
        waveform=pulse_train(
            frequency_hz=high, modulations=[frequency_modulation(low, period, shape)]
        )
    )
    onsets, index = steady_onsets(protocol.waveform, 0.0, 2 * period)
    # Φ over two periods = 2 · 5 s · (4 + 100)/2 Hz = 520 pulses (mean of every shape is 1/2)
    assert len(onsets) == 520
    assert index.tolist() == list(range(520))
    phi = _phase_integral(shape, onsets, low, high, period)
    np.testing.assert_allclose(phi, index, rtol=0, atol=1e-7)
    assert onsets[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(onsets) > 0)
    # no pulse interval is shorter than the highest rate allows (1/100 s)
    assert np.diff(onsets).min() >= 1 / high - 1e-9


# =========================================================================== invariants

_rates = st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 50.0, 80.0, 100.0, 125.0, 200.0])


@settings(max_examples=60, deadline=None)
@given(
    amplitude=st.floats(0.1, 100.0),
    width=st.sampled_from([20.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0]),
    rate=_rates,
    area=st.floats(1.0, 200.0),
)
def test_integer_rate_symmetric_train_rms_is_peak_times_root_rate_times_phase_time(
    amplitude, width, rate, area
):
    # I_rms = I_peak · √(f · 2w) (clinical-facts.md §3.3), exact because the period divides 1 s
    rx = make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(width), frequency_hz=rate),
        amplitude_ma=amplitude,
        area_cm2=area,
    )
    c = channel_metrics(rx)
    expected = amplitude * math.sqrt(rate * 2 * width * 1e-6)
    assert c.rms_current_ma == pytest.approx(expected, rel=REL)
    assert c.rms_current_mean_ma == pytest.approx(expected, rel=REL)
    assert c.current_density_ma_per_cm2 == pytest.approx(expected / area, rel=REL)
    assert c.charge_per_phase_uc == pytest.approx(amplitude * width * 1e-3, rel=REL)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(2.0, 200.0),
    low_ratio=st.floats(0.05, 0.9),
    period=st.floats(0.5, 10.0),
    shape=st.sampled_from(["sine", "triangle", "alternate"]),
    burst=st.booleans(),
)
def test_steady_rms_mean_never_exceeds_the_worst_second_bound(
    rate, low_ratio, period, shape, burst
):
    if burst:
        waveform = pulse_train(frequency_hz=rate, pulses_per_burst=2, burst_frequency_hz=rate / 4)
    else:
        fm = frequency_modulation(rate * low_ratio, max(period, 1.5 / (rate * low_ratio)), shape)
        waveform = pulse_train(frequency_hz=rate, modulations=[fm])
    c = channel_metrics(make_prescription(waveform=waveform))
    assert c.rms_current_mean_ma <= c.rms_current_ma * (1 + 1e-9)
    assert c.rms_current_cycle_ma <= c.rms_current_ma * (1 + 1e-9)


def test_split_schedule_equals_whole_schedule():
    # Streaming in chunks must give exactly the pulses of one call (the sampler relies on it).
    for waveform in (
        pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2),
        pulse_train(frequency_hz=100, modulations=[frequency_modulation(4, 6, "sine")]),
        pulse_train(frequency_hz=33),
    ):
        train = make_protocol(waveform=waveform).waveform
        whole = pulse_events(train, None, 0.0, 12.0)
        edges = [0.0, 0.005, 1.0, 2.71, 3.0, 6.0, 9.999, 12.0]
        parts = [pulse_events(train, None, a, b) for a, b in itertools.pairwise(edges)]
        joined = np.concatenate([p.onset_s for p in parts])
        np.testing.assert_allclose(joined, whole.onset_s, rtol=0, atol=1e-9)


# =========================================================================== steady window


def test_alternating_polarity_fm_train_with_odd_pulse_count_per_period_has_no_dc():
    # net/pulse = 30 · (200 − 0.125 · 800) = 3 µC; Φ(6 s) = 6 · (5 + 100)/2 = 315 (odd), so the
    # pattern of leading signs repeats only after 12 s (630 pulses, 315 of each sign) → DC 0.
    rx = make_prescription(
        waveform=pulse_train(
            pulse=asymmetric_pulse(200, 800, ratio=0.125, leading_polarity="alternating"),
            frequency_hz=100,
            modulations=[frequency_modulation(5, 6)],
        )
    )
    m = compute_metrics(rx)
    assert m.steady_window_s == approx(12.0)
    assert m.channel("A").dc_current_ua == pytest.approx(0.0, abs=ZERO)
    assert m.channel("A").net_charge_per_pulse_uc == approx(3.0)


def test_fm_train_with_fractional_pulses_per_period_reports_long_run_pulse_rate():
    # Φ(1 s) = 4 + (99 − 4)/2 = 51.5 pulses per period → pattern repeats after 2 s, 51.5 /s
    rx = make_prescription(
        waveform=pulse_train(frequency_hz=99, modulations=[frequency_modulation(4, 1)])
    )
    m = compute_metrics(rx)
    assert m.steady_window_s == approx(2.0)
    assert m.channel("A").pulses_per_second == approx(51.5)


def test_steady_window_of_a_valid_fm_train_stays_bounded():
    protocol = make_protocol(
        waveform=pulse_train(
            frequency_hz=100, modulations=[frequency_modulation(math.pi, 600, "sine")]
        )
    )
    # at most the longer of MAX_WINDOW_S and the longest period the description declares
    assert steady_window_s(protocol.waveform) <= max(MAX_WINDOW_S, 600.0)
