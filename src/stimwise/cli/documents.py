"""JSON documents the CLI prints with ``--json`` (the contract other tools rely on)."""

from __future__ import annotations

from stimwise.safety.report import SafetyReport

_SUMMARY_KEYS = (
    "peak_current_ma",
    "peak_voltage_v",
    "charge_per_phase_uc",
    "net_charge_per_pulse_uc",
    "dc_current_ua",
    "rms_current_ma",
    "rms_current_mean_ma",
    "rms_current_cycle_ma",
    "current_density_ma_per_cm2",
    "charge_density_uc_per_cm2",
    "shannon_k",
    "energy_per_pulse_mj",
    "energy_per_burst_mj",
    "average_power_w",
    "average_power_cycle_w",
    "power_density_w_per_cm2",
    "pulses_per_second",
    "output_frequency_hz",
    "duty_cycle",
    "smallest_electrode_area_cm2",
)


def _worst(values: list) -> object:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present, key=abs)


def check_document(report: SafetyReport) -> dict:
    """Verdict, findings and metrics; top-level metric keys hold the worst case over channels
    (largest magnitude; the smallest electrode area is the smallest), ``channels`` the detail."""
    channels = [c.to_dict() for c in report.metrics.channels]
    summary = {key: _worst([c[key] for c in channels]) for key in _SUMMARY_KEYS}
    summary["smallest_electrode_area_cm2"] = min(c["smallest_electrode_area_cm2"] for c in channels)
    return {
        "protocol": report.protocol_id,
        "verdict": report.verdict,
        "findings": [f.to_dict() for f in report.findings],
        "load_ohm": report.metrics.load_ohm,
        "steady_window_s": report.metrics.steady_window_s,
        "session_duration_min": report.metrics.session_duration_min,
        **summary,
        "channels": channels,
        "extra_loads": [m.to_dict() for m in report.extra_load_metrics],
        "fingerprint": None if report.plan is None else report.plan.fingerprint,
    }
