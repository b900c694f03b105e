"""Plots of a prescription's waveform: one pulse, one second of the train, the whole envelope.

Plots are views: they may be drawn before verification (a clinician looks before deciding).
matplotlib is imported inside the function so that ``import stimwise`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.sampler import default_sample_rate_hz, minimum_sample_rate_hz, stream_samples
from stimwise.waveform.timefunctions import envelope_fraction, modulation_fraction, scaled_value

PLOT_FORMATS = (".png", ".svg", ".pdf")
ENVELOPE_POINTS = 4000
ZOOM_SAMPLES = 2000
"""Samples across the one-pulse panel: enough to show every phase edge sharply."""


def _samples(prescription: Prescription, rate_hz: float, duration_s: float, steady: bool):
    chunks = list(
        stream_samples(
            prescription,
            sample_rate_hz=rate_hz,
            duration_s=duration_s,
            chunk_s=duration_s,
            steady=steady,
            dtype=np.float64,
        )
    )
    current = np.concatenate([c.current_ma for c in chunks], axis=1)
    times = np.arange(current.shape[1]) / rate_hz
    return times, current


def _zoom_span_s(prescription: Prescription) -> float:
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        return 1.5 * waveform.pulse.pulse_duration_us * 1e-6
    return 3.0 / waveform.lowest_carrier_hz


def envelope_curve(prescription: Prescription, span_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Peak amplitude (mA) over time from ramps, on/off cycle and amplitude modulation."""
    t = np.linspace(0.0, span_s, ENVELOPE_POINTS)
    session_s = prescription.session_duration_min * 60.0
    amplitude = prescription.max_amplitude_ma * envelope_fraction(
        prescription.envelope, t, session_s
    )
    waveform = prescription.waveform
    modulations = (
        [m for m in waveform.modulations if m.parameter == "amplitude"]
        if isinstance(waveform, PulseTrain)
        else [m for m in [waveform.amplitude_modulation] if m is not None]
    )
    for m in modulations:
        amplitude = amplitude * scaled_value(
            m.low_fraction, modulation_fraction(m.shape, t, m.period_s)
        )
    return t, amplitude


def default_envelope_span_s(prescription: Prescription) -> float:
    """Three on/off cycles, or the whole session for continuous stimulation."""
    cycle = prescription.envelope.cycle_s
    session_s = prescription.session_duration_min * 60.0
    return min(session_s, 3 * cycle) if cycle is not None else session_s


def plot_prescription(
    prescription: Prescription,
    out_path: str | Path,
    *,
    sample_rate_hz: float | None = None,
    envelope_seconds: float | None = None,
) -> Path:
    """Draw the three panels and save them; the suffix of ``out_path`` picks the format."""
    out = Path(out_path)
    if out.suffix.lower() not in PLOT_FORMATS:
        raise InputError(
            FieldProblem("out", str(out), f"a file ending in {', '.join(PLOT_FORMATS)}")
        )
    if envelope_seconds is not None and not envelope_seconds > 0:
        raise InputError(FieldProblem("seconds", envelope_seconds, "a span > 0 s"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rate = sample_rate_hz or default_sample_rate_hz(prescription)
    zoom_s = _zoom_span_s(prescription)
    zoom_rate = max(rate, ZOOM_SAMPLES / zoom_s, minimum_sample_rate_hz(prescription))
    t_zoom, i_zoom = _samples(prescription, zoom_rate, zoom_s, steady=True)
    t_train, i_train = _samples(prescription, rate, 1.0, steady=True)
    span = envelope_seconds or default_envelope_span_s(prescription)
    t_env, a_env = envelope_curve(prescription, span)

    figure, (ax_zoom, ax_train, ax_env) = plt.subplots(3, 1, figsize=(9, 9), layout="constrained")
    label = prescription.channels[0].label
    ax_zoom.plot(t_zoom * 1e6, i_zoom[0], drawstyle="steps-post", color="tab:blue")
    ax_zoom.set(xlabel="time (µs)", ylabel="current (mA)", title=f"one pulse (channel {label})")
    ax_train.plot(t_train * 1e3, i_train[0], drawstyle="steps-post", color="tab:blue", lw=0.6)
    ax_train.set(
        xlabel="time (ms)", ylabel="current (mA)", title="one second of steady stimulation"
    )
    ax_env.plot(t_env, a_env, color="tab:orange")
    ax_env.set(xlabel="time (s)", ylabel="peak amplitude (mA)", title="envelope")
    for axis in (ax_zoom, ax_train, ax_env):
        axis.grid(alpha=0.3)
    figure.suptitle(
        f"{prescription.protocol.name} — max {prescription.max_amplitude_ma:g} mA "
        "(positive = anodic at the active electrode)"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
