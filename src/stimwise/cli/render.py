"""Rich rendering of reports and tables for people (``--json`` output never goes through here)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from stimwise.protocol.models import CarrierTrain, Protocol
from stimwise.safety.report import SafetyReport

VERDICT_STYLE = {"pass": "bold green", "warn": "bold yellow", "block": "bold red"}
DISCLAIMER = (
    "stimwise is clinical-decision support and research software, not a certified medical device."
)

METRIC_ROWS = (
    ("peak_current_ma", "peak current", "mA"),
    ("charge_per_phase_uc", "charge per phase", "µC"),
    ("net_charge_per_pulse_uc", "net charge per pulse", "µC"),
    ("dc_current_ua", "d.c. current", "µA"),
    ("rms_current_ma", "r.m.s. current (worst 1 s)", "mA"),
    ("rms_current_cycle_ma", "r.m.s. current (on/off cycle)", "mA"),
    ("current_density_ma_per_cm2", "r.m.s. current density", "mA/cm²"),
    ("charge_density_uc_per_cm2", "charge density per phase", "µC/cm²"),
    ("shannon_k", "Shannon k (implant-derived)", ""),
    ("energy_per_pulse_mj", "energy per pulse", "mJ"),
    ("average_power_w", "average power (worst 1 s)", "W"),
    ("power_density_w_per_cm2", "average power density", "W/cm²"),
    ("pulses_per_second", "pulses (carrier cycles) per second", "/s"),
    ("duty_cycle", "on/off duty cycle", ""),
)


def waveform_summary(protocol: Protocol) -> str:
    w = protocol.waveform
    if isinstance(w, CarrierTrain):
        text = f"{w.shape} carrier {w.carrier_frequency_hz:g} Hz"
        if w.sweep:
            text += f" → {w.sweep.stop_frequency_hz:g} Hz every {w.sweep.period_s:g} s"
        if w.burst:
            text += (
                f", {w.burst.burst_duration_ms:g} ms bursts at {w.burst.burst_frequency_hz:g} Hz"
            )
        return text
    text = (
        f"{w.pulse.kind.replace('_', ' ')} {w.pulse.phase_width_us:g} µs at {w.frequency_hz:g} Hz"
    )
    if w.burst:
        text += f", {w.burst.pulses_per_burst}-pulse bursts at {w.burst.burst_frequency_hz:g} Hz"
    for m in w.modulations:
        text += f", {m.parameter} {m.shape} modulation"
    return text


def protocols_table(protocols: list[Protocol]) -> Table:
    table = Table(title="stimwise protocol library")
    for column in ("id", "modality", "goal", "waveform", "level / max", "session", "verdict"):
        table.add_column(column)
    for p in protocols:
        table.add_row(
            p.id,
            p.modality,
            p.goal.replace("_", " "),
            waveform_summary(p),
            f"{p.intensity.level} / {p.intensity.max_amplitude_ma:g} mA",
            f"{p.session.duration_min:g} min × {p.session.sessions_per_week}/wk",
            p.expected_verdict or "",
        )
    return table


def print_report(console: Console, report: SafetyReport) -> None:
    for channel in report.metrics.channels:
        table = Table(
            title=f"{report.protocol_id} — channel {channel.channel} into {channel.load_ohm:g} Ω"
        )
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("unit")
        values = channel.to_dict()
        for key, label, unit in METRIC_ROWS:
            table.add_row(label, f"{values[key]:.4g}", unit)
        console.print(table)
    if report.findings:
        findings = Table(title="findings")
        for column in ("severity", "rule", "message", "source"):
            findings.add_column(column, overflow="fold")
        for f in report.findings:
            where = f" [{f.channel}]" if f.channel else ""
            findings.add_row(
                f"[{VERDICT_STYLE[f.severity] if f.severity != 'info' else ''}]{f.severity}",
                f.rule_id + where,
                f.message,
                f"{f.source} [{f.confidence}]",
            )
        console.print(findings)
    style = VERDICT_STYLE[report.verdict]
    console.print(f"verdict: [{style}]{report.verdict.upper()}[/]")
    console.print(f"[dim]{DISCLAIMER}[/]")
