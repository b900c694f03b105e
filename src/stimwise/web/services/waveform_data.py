"""The three waveform views of a prescription as JSON arrays for the browser's charts.

The same three panels as ``stimwise plot`` (:mod:`stimwise.waveform.plot`): one pulse (or a few
carrier cycles), one second of steady stimulation, and the envelope. The pulse and second panels
come from the streaming sampler's samples and the envelope from the time functions the safety
metrics integrate, so the browser shows what would be delivered. Dense traces are reduced to the
minimum and maximum of each bin (every narrow pulse stays visible) so a page stays small.

A plot is a view of a description, verified or not: a clinician looks at a blocked prescription
to see why it was blocked. Nothing here can reach a stimulator.
"""

from __future__ import annotations

import math

import numpy as np

from stimwise.protocol.models import PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.safety.plan import prescription_fingerprint
from stimwise.waveform.plot import (
    CARRIER_CYCLES_SHOWN,
    CARRIER_SAMPLES_PER_CYCLE,
    MAX_PANEL_SAMPLES,
    ON_OFF_CYCLES_SHOWN,
    PULSE_SAMPLES_PER_PHASE,
    _bounded_rate,
    _envelope_corners,
)
from stimwise.waveform.sampler import (
    default_sample_rate_hz,
    minimum_sample_rate_hz,
    sample_window,
)
from stimwise.waveform.timefunctions import envelope_fraction
from stimwise.web.services.memo import Memo

MAX_POINTS = 2000
"""Points per trace sent to the browser (min/max pairs above this)."""


def _reduced(t: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Samples as steps, or alternating per-bin minimum and maximum when too many."""
    if y.size <= MAX_POINTS:
        return _rounded(t), _rounded(y)
    per_bin = math.ceil(y.size / (MAX_POINTS // 2))
    padded = np.full(per_bin * math.ceil(y.size / per_bin), np.nan)
    padded[: y.size] = y
    blocks = padded.reshape(-1, per_bin)
    low, high = np.nanmin(blocks, axis=1), np.nanmax(blocks, axis=1)
    t_bins = t[::per_bin][: blocks.shape[0]]
    return _rounded(np.repeat(t_bins, 2)), _rounded(np.column_stack([low, high]).ravel())


def _affordable(prescription: Prescription, fs: float, window_s: float) -> tuple[float, float]:
    """Rate and window of a panel within :data:`MAX_PANEL_SAMPLES`: the rate is lowered first
    (never below the minimum that still shows the shortest phase), then the window is shortened,
    so an extreme prescription (a phase of nanoseconds) cannot make a page allocate gigabytes."""
    floor = minimum_sample_rate_hz(prescription)
    if floor * window_s > MAX_PANEL_SAMPLES:
        return floor, MAX_PANEL_SAMPLES / floor
    return _bounded_rate(prescription, fs, window_s, given=False), window_s


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=float), 6).tolist()


def _traces(prescription: Prescription, t: np.ndarray, rows: np.ndarray) -> list[dict]:
    """One trace per distinct channel (identical pulse-train channels are sent once)."""
    labels = [c.label for c in prescription.channels]
    distinct: list[int] = []
    for index in range(rows.shape[0]):
        if not any(np.array_equal(rows[index], rows[d]) for d in distinct):
            distinct.append(index)
    traces = []
    for index in distinct:
        x, y = _reduced(t, rows[index])
        name = "all channels" if len(distinct) == 1 else f"channel {labels[index]}"
        traces.append({"name": name, "x": x, "y": y})
    return traces


def _one_pulse(prescription: Prescription) -> dict:
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        window_s = 1.3 * waveform.pulse.pulse_duration_us * 1e-6
        fs = PULSE_SAMPLES_PER_PHASE * 1e6 / waveform.pulse.shortest_phase_us
        title = "one pulse (steady state, full amplitude and width)"
    else:
        lowest_hz = min(waveform.lowest_carrier_hz + c.carrier_frequency_offset_hz
                        for c in prescription.channels)
        window_s = CARRIER_CYCLES_SHOWN / lowest_hz
        fs = CARRIER_SAMPLES_PER_CYCLE * minimum_sample_rate_hz(prescription) / 4
        title = f"first {CARRIER_CYCLES_SHOWN} carrier cycles (steady state)"
    fs, window_s = _affordable(prescription, fs, window_s)
    chunk = sample_window(prescription, sample_rate_hz=fs, duration_s=window_s, steady=True)
    scale, unit = (1e3, "ms") if window_s > 5e-3 else (1e6, "µs")
    return {"title": title, "x_label": f"time ({unit})", "y_label": "current (mA)",
            "traces": _traces(prescription, chunk.times_s() * scale, chunk.current_ma)}


def _one_second(prescription: Prescription) -> dict:
    fs, window_s = _affordable(prescription, default_sample_rate_hz(prescription), 1.0)
    chunk = sample_window(prescription, sample_rate_hz=fs, duration_s=window_s, steady=True)
    shown = "one second" if window_s == 1.0 else f"the first {window_s * 1e3:.3g} ms"
    return {"title": f"{shown} of steady stimulation ({fs:g} samples/s)",
            "x_label": "time (ms)", "y_label": "current (mA)",
            "traces": _traces(prescription, chunk.times_s() * 1e3, chunk.current_ma)}


def _envelope(prescription: Prescription) -> dict:
    envelope = prescription.envelope
    session_s = prescription.session_duration_min * 60.0
    cycle_s = envelope.cycle_s
    span_s = session_s if cycle_s is None else min(session_s, ON_OFF_CYCLES_SHOWN * cycle_s)
    corners = _envelope_corners(prescription, span_s)
    t = np.unique(np.concatenate([np.linspace(0.0, span_s, 801), corners]))
    amplitude = prescription.max_amplitude_ma * envelope_fraction(envelope, t, session_s)
    scale, unit = (1 / 60, "min") if span_s > 300 else (1.0, "s")
    over = "the session" if span_s == session_s else f"{span_s:g} s"
    return {"title": f"envelope: peak amplitude over {over}", "x_label": f"time ({unit})",
            "y_label": "peak amplitude (mA)",
            "traces": [{"name": "ramps and on/off", "x": _rounded(t * scale),
                        "y": _rounded(amplitude)}]}


_views: Memo[dict] = Memo(64)
"""Views by prescription fingerprint: the prescribe page draws the same draft again and again."""


def waveform_views(prescription: Prescription) -> dict:
    """``{"pulse": panel, "second": panel, "envelope": panel}``; each panel has a title, axis
    labels and traces of ``x``/``y`` arrays (current positive = anodic at the active electrode).
    Kept by the prescription's fingerprint (a view depends on nothing else); do not modify."""
    return _views.get(prescription_fingerprint(prescription), lambda: {
        "pulse": _one_pulse(prescription), "second": _one_second(prescription),
        "envelope": _envelope(prescription)})
