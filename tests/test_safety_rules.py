"""Safety verification: every rule fires where it must, and only there. Names carry hazard ids
from docs/safety/hazards.md."""

from __future__ import annotations

import math

import pytest

from builders import (
    asymmetric_pulse,
    carrier,
    make_prescription,
    make_protocol,
    monophasic_pulse,
    pulse_train,
    symmetric_pulse,
)
from stimwise.errors import InputError, SafetyBlockError, UnverifiedPlanError
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import get_protocol, library
from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety import PatientCaps, VerifiedPlan, require_verified, verify
from stimwise.safety.limits import limits


def rule_ids(report, severity=None):
    return {f.rule_id for f in report.findings if severity is None or f.severity == severity}


def wide_pulse_rx(amplitude_ma: float, frequency_hz: float = 400.0, area_cm2: float = 100.0):
    # 1 ms/phase symmetric biphasic: rms = A·sqrt(f · 2 ms)
    return make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(1000.0), frequency_hz=frequency_hz),
        amplitude_ma=amplitude_ma,
        area_cm2=area_cm2,
    )


# --------------------------------------------------------------------------- HAZ-001


def test_HAZ001_rms_current_above_50ma_below_400hz_blocks():
    rx = wide_pulse_rx(60.0)  # rms = 60·sqrt(400·0.002) = 53.7 mA > 50 mA
    report = verify(rx)
    assert report.verdict == "block"
    finding = next(f for f in report.findings if f.rule_id == "IEC60601-2-10.rms-current")
    assert finding.measured == pytest.approx(60 * math.sqrt(0.8))
    assert finding.limit == 50
    assert report.plan is None


def test_HAZ001_rms_current_just_below_the_band_limit_passes():
    rx = wide_pulse_rx(55.0)  # rms = 49.2 mA
    assert "IEC60601-2-10.rms-current" not in rule_ids(verify(rx))


def test_HAZ001_frequency_bands_follow_the_iec_table():
    limit = limits()["IEC60601-2-10.rms-current"]
    assert [limit.band_limit(f) for f in (1, 400, 400.5, 1500, 1500.5, 30_000)] == [
        50,
        50,
        80,
        80,
        100,
        100,
    ]


def test_HAZ001_amplitude_modulation_does_not_lower_the_judged_rms():
    modulated = make_prescription(
        waveform=pulse_train(
            pulse=symmetric_pulse(1000.0),
            frequency_hz=400.0,
            modulations=[
                {"parameter": "amplitude", "shape": "sine", "period_s": 2, "low_fraction": 0.1}
            ],
        ),
        amplitude_ma=60.0,
        area_cm2=100.0,
    )
    report = verify(modulated)
    assert "IEC60601-2-10.rms-current" in rule_ids(report, "block")
    channel = report.metrics.channels[0]
    assert channel.rms_current_mean_ma < channel.rms_current_ma


# --------------------------------------------------------------------------- HAZ-002


def test_HAZ002_power_density_at_or_above_quarter_watt_per_cm2_blocks():
    # NMES-like 300 µs/phase at 35 Hz, 200 mA on 1 cm²: rms = 200·sqrt(35·600e-6) = 28.98 mA,
    # power = rms²·500 Ω = 0.42 W on 1 cm² ≥ 0.25 W/cm²
    rx = make_prescription(
        waveform=pulse_train(pulse=symmetric_pulse(300.0), frequency_hz=35.0),
        amplitude_ma=200.0,
        area_cm2=1.0,
    )
    report = verify(rx)
    finding = next(f for f in report.findings if f.rule_id == "FDA.power-density")
    assert finding.severity == "block"
    assert finding.measured == pytest.approx(200**2 * 35 * 600e-6 * 500 * 1e-6)


def test_HAZ002_current_density_above_2ma_per_cm2_warns_on_the_smallest_electrode():
    # 30 mA, 200 µs, 100 Hz: rms 6 mA; 6/2 cm² = 3 mA/cm² on the small electrode only
    from builders import channel_dict

    rx = make_prescription(channels=[channel_dict("A", (25.0, 2.0))])
    report = verify(rx)
    finding = next(f for f in report.findings if f.rule_id == "IEC60601-2-10.current-density")
    assert finding.severity == "warn"
    assert finding.measured == pytest.approx(3.0)
    assert report.verdict == "warn"
    assert report.plan is not None


def test_HAZ002_shannon_k_warns_at_1_85_and_says_it_is_implant_derived():
    # 50 mA × 200 µs = 10 µC on 1 cm²: D = 10 µC/cm², k = log10(10) + log10(10) = 2.0
    rx = make_prescription(amplitude_ma=50.0, area_cm2=1.0, waveform=pulse_train(frequency_hz=2))
    finding = next(f for f in verify(rx).findings if f.rule_id == "shannon-k")
    assert finding.measured == pytest.approx(2.0)
    assert "implant-derived" in finding.message


def test_HAZ002_shannon_k_below_threshold_is_silent():
    assert "shannon-k" not in rule_ids(verify(make_prescription()))  # k = 0.16


# --------------------------------------------------------------------------- HAZ-003


def test_HAZ003_unbalanced_biphasic_pulse_blocks():
    # leading 100 µs; second 400 µs at 0.5 → second phase 200 vs 100 (mA·µs per mA): the net
    # 100 is 50 % of the larger phase
    rx = make_prescription(waveform=pulse_train(pulse=asymmetric_pulse(100.0, 400.0, ratio=0.5)))
    report = verify(rx)
    finding = next(f for f in report.findings if f.rule_id == "charge-balance")
    assert finding.severity == "block"
    assert finding.measured == pytest.approx(0.5)
    assert report.plan is None


def test_HAZ003_balance_within_one_percent_passes():
    rx = make_prescription(
        waveform=pulse_train(pulse=asymmetric_pulse(100.0, 400.0, ratio=0.2525))  # 1 % off
    )
    assert "charge-balance" not in rule_ids(verify(rx))


def test_HAZ003_monophasic_without_reversal_reports_net_dc():
    rx = make_prescription(
        waveform=pulse_train(pulse=monophasic_pulse(1000.0), frequency_hz=10.0), amplitude_ma=0.5
    )
    finding = next(f for f in verify(rx).findings if f.rule_id == "dc-component")
    assert finding.severity == "warn"
    assert finding.measured == pytest.approx(-0.5 * 1e-3 * 10 * 1000)  # −5 µA, cathodic


def test_HAZ003_monophasic_with_reversal_still_warns_about_pulsed_dc():
    rx = make_prescription(
        waveform=pulse_train(
            pulse=monophasic_pulse(1000.0, polarity_reversal_interval_s=2.0), frequency_hz=10.0
        ),
        amplitude_ma=0.5,
    )
    report = verify(rx)
    assert report.metrics.channels[0].dc_current_ua == pytest.approx(0.0, abs=1e-9)
    finding = next(f for f in report.findings if f.rule_id == "dc-component")
    assert finding.measured == pytest.approx(5.0)


def test_HAZ003_dc_component_above_80ma_blocks():
    # 200 mA monophasic at 50 % duty: d.c. 100 mA
    rx = make_prescription(
        waveform=pulse_train(pulse=monophasic_pulse(5000.0), frequency_hz=100.0),
        amplitude_ma=200.0,
        area_cm2=400.0,
    )
    assert "IEC60601-2-10.dc-current" in rule_ids(verify(rx), "block")


def test_HAZ003_balanced_carrier_has_no_dc_finding():
    rx = make_prescription(waveform=carrier(), amplitude_ma=10.0)
    assert "dc-component" not in rule_ids(verify(rx))


# --------------------------------------------------------------------------- HAZ-004


def test_HAZ004_verified_plan_cannot_be_constructed_outside_verify(tens_prescription):
    report = verify(tens_prescription)
    with pytest.raises(UnverifiedPlanError):
        VerifiedPlan(tens_prescription, report)
    with pytest.raises(UnverifiedPlanError):
        VerifiedPlan(tens_prescription, report, _gate=object())


def test_HAZ004_require_verified_refuses_anything_but_a_plan(tens_prescription):
    with pytest.raises(UnverifiedPlanError, match="Prescription"):
        require_verified(tens_prescription)
    with pytest.raises(UnverifiedPlanError):
        require_verified(verify(tens_prescription))  # a report is not a plan


def test_HAZ004_blocked_report_has_no_plan_and_require_plan_raises():
    report = verify(wide_pulse_rx(60.0))
    assert report.plan is None
    with pytest.raises(SafetyBlockError, match=r"IEC60601-2-10\.rms-current"):
        report.require_plan()


def test_HAZ004_passing_report_yields_a_plan_carrying_the_same_report(tens_prescription):
    report = verify(tens_prescription)
    plan = report.require_plan()
    assert require_verified(plan) is plan
    # The same report: equal, sharing what was judged, and naming this plan (the seal keeps
    # what was judged; no object is completed after it is made).
    assert plan.report == report and plan.report.plan is plan
    assert plan.report.findings is report.findings and plan.metrics is report.metrics
    assert plan.prescription == tens_prescription


# --------------------------------------------------------------------------- HAZ-005


def test_HAZ005_wrong_unit_field_name_is_refused_not_ignored():
    document = make_protocol().model_dump(mode="json")
    pulse = document["waveform"]["pulse"]
    pulse["phase_width_ms"] = pulse.pop("phase_width_us") / 1000
    with pytest.raises(InputError) as caught:
        validate_model(Protocol, document)
    paths = {p.path for p in caught.value.problems}
    assert "waveform.pulse.phase_width_ms" in paths
    assert "waveform.pulse.phase_width_us" in paths


def test_HAZ005_microamps_typed_as_milliamps_are_out_of_range():
    with pytest.raises(InputError) as caught:
        make_protocol(amplitude_ma=300.0)  # meant 300 µA
    problem = caught.value.problems[0]
    assert problem.path == "intensity.max_amplitude_ma"
    assert problem.value == 300.0
    assert "200" in problem.expected


# --------------------------------------------------------------------------- HAZ-006


def test_HAZ006_energy_per_pulse_above_300mj_blocks():
    # 200 mA, 50 ms monophasic: 0.2² × 500 × 0.05 = 1 J = 1000 mJ
    rx = make_prescription(
        waveform=pulse_train(pulse=monophasic_pulse(50_000.0), frequency_hz=1.0),
        amplitude_ma=200.0,
        area_cm2=400.0,
    )
    finding = next(f for f in verify(rx).findings if f.rule_id == "IEC60601-2-10.energy-per-pulse")
    assert finding.measured == pytest.approx(1000.0)
    assert finding.severity == "block"


def test_HAZ006_energy_judged_at_the_fda_loads_when_asked():
    # 40 mA, 90 ms monophasic at 5 Hz: 72 mJ at 500 Ω and 288 mJ at 2 kΩ (pass), 1440 mJ at
    # 10 kΩ (blocks)
    rx = make_prescription(
        waveform=pulse_train(pulse=monophasic_pulse(90_000.0), frequency_hz=5.0),
        amplitude_ma=40.0,
        area_cm2=400.0,
    )
    assert "IEC60601-2-10.energy-per-pulse" not in rule_ids(verify(rx))
    report = verify(rx, extra_loads_ohm=(2000.0, 10_000.0))
    energy = [f for f in report.findings if f.rule_id == "IEC60601-2-10.energy-per-pulse"]
    assert [f.load_ohm for f in energy] == [10_000.0]
    assert energy[-1].measured == pytest.approx(0.04**2 * 10_000 * 0.09 * 1000)


def test_HAZ006_peak_voltage_above_500v_at_high_load_warns():
    rx = make_prescription(amplitude_ma=60.0, area_cm2=100.0)  # 60 mA × 10 kΩ = 600 V
    report = verify(rx, extra_loads_ohm=(10_000.0,))
    finding = next(f for f in report.findings if f.rule_id == "IEC60601-2-10.peak-voltage")
    assert finding.measured == pytest.approx(600.0)
    assert finding.severity == "warn"


# --------------------------------------------------------------------------- HAZ-008


@pytest.mark.parametrize(
    ("minutes", "rule", "severity"),
    [
        (45, None, None),
        (90, "session-length.long", "warn"),
        (300, "session-length.cap", "block"),
    ],
)
def test_HAZ008_session_length_warns_then_blocks(minutes, rule, severity):
    report = verify(make_prescription(duration_min=minutes))
    found = {f.rule_id: f.severity for f in report.findings if f.rule_id.startswith("session")}
    assert found == ({} if rule is None else {rule: severity})


# --------------------------------------------------------------------------- HAZ-009


def test_HAZ009_amplitude_above_patient_cap_blocks(tens_prescription):
    caps = PatientCaps(max_amplitude_ma=20.0, source="screening S-1")
    finding = next(
        f
        for f in verify(tens_prescription, caps=caps).findings
        if f.rule_id == "patient.max-amplitude"
    )
    assert (finding.measured, finding.limit, finding.severity) == (30.0, 20.0, "block")
    assert finding.source == "screening S-1"


def test_HAZ009_forbidden_site_blocks_and_names_the_site(tens_prescription):
    caps = PatientCaps(forbidden_sites={"lumbar_midline": "malignancy at site"})
    report = verify(tens_prescription, caps=caps)
    finding = next(f for f in report.findings if f.rule_id == "patient.forbidden-site")
    assert "lower back, midline" in finding.message and "malignancy" in finding.message  # in words
    assert report.verdict == "block"


def test_HAZ009_level_and_session_caps_block():
    rx = make_prescription(intensity={"level": "motor", "max_amplitude_ma": 30.0}, duration_min=40)
    caps = PatientCaps(max_level="sensory", max_session_duration_min=20)
    assert {"patient.max-level", "patient.max-session"} <= rule_ids(verify(rx, caps=caps), "block")


def test_HAZ009_caps_within_bounds_add_nothing(tens_prescription):
    caps = PatientCaps(
        max_amplitude_ma=30.0, max_level="sensory", forbidden_sites={"left_eye": "x"}
    )
    assert not any(
        f.rule_id.startswith("patient") for f in verify(tens_prescription, caps=caps).findings
    )


def test_HAZ009_caps_with_unknown_site_are_invalid_input():
    with pytest.raises(InputError):
        validate_model(PatientCaps, {"forbidden_sites": {"left_elbw": "typo"}})


# --------------------------------------------------------------------------- HAZ-010, HAZ-011


def test_HAZ010_prescription_outside_evidence_range_warns_with_its_citations():
    protocol = get_protocol("conventional-tens")
    rx = Prescription.from_protocol(protocol, session_duration_min=5)
    finding = next(f for f in verify(rx).findings if f.rule_id == "evidence-range")
    assert finding.measured == 5
    assert finding.severity == "warn"
    cited = protocol.ranges.session_duration_min.sources[0].source
    assert cited in finding.source


def test_HAZ011_continuous_motor_nmes_warns():
    rx = make_prescription(modality="NMES", intensity={"level": "motor", "max_amplitude_ma": 30.0})
    finding = next(f for f in verify(rx).findings if f.rule_id == "FDA-PMS.duty-cycle")
    assert finding.measured == "continuous"


def test_HAZ011_on_time_under_one_second_warns():
    rx = make_prescription(
        modality="NMES",
        intensity={"level": "motor", "max_amplitude_ma": 30.0},
        envelope={"on_s": 0.5, "off_s": 5.0},
    )
    finding = next(f for f in verify(rx).findings if f.rule_id == "FDA-PMS.duty-cycle")
    assert finding.measured == 0.5


# HAZ-013 (a plan altered after verification) and the other gate hazards: tests/test_safety_gate.py


# --------------------------------------------------------------------------- library and limits


@pytest.mark.parametrize("protocol_id", sorted(library()))
def test_every_library_protocol_gets_its_documented_verdict(protocol_id):
    protocol = library()[protocol_id]
    assert protocol.expected_verdict is not None
    report = verify(Prescription.from_protocol(protocol))
    assert report.verdict == protocol.expected_verdict, [f.message for f in report.findings]


@pytest.mark.parametrize("protocol_id", sorted(library()))
def test_library_defaults_lie_within_their_own_evidence_ranges(protocol_id):
    report = verify(Prescription.from_protocol(library()[protocol_id]))
    assert "evidence-range" not in rule_ids(report)


def test_every_limit_carries_a_source_and_a_confidence_mark():
    for limit in limits().values():
        assert len(limit.source) > 10
        assert limit.confidence in {"C", "C-s", "U", "M"}


def test_every_limit_id_is_used_by_a_rule():
    import inspect

    import stimwise.safety.rules as rules

    text = inspect.getsource(rules)
    unused = [limit_id for limit_id in limits() if f'"{limit_id}"' not in text]
    assert unused == []
