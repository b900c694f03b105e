"""Pictures of a prescription: one pulse, one second of the train and the envelope.

Plots are views of the description: they may be drawn for prescriptions that were never verified
(a clinician looks before deciding, or wants to see why one was blocked), so nothing here asks for
a ``VerifiedPlan``. The pulse and train panels are drawn from the streaming sampler's samples and
the envelope from the same time functions the exact metrics use, so the picture shows what would
be exported, not a separate re-drawing.

matplotlib is imported inside :func:`plot_prescription` and used through an Agg canvas without
pyplot, so ``import stimwise`` stays fast, no display is needed and no global matplotlib state
(backend, open figures) is touched.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.sampler import (
    check_sample_rate_hz,
    default_sample_rate_hz,
    minimum_sample_rate_hz,
    sample_window,
)
from stimwise.waveform.timefunctions import envelope_fraction, modulation_fraction, scaled_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PLOT_FORMATS = ("png", "svg", "pdf")

PULSE_SAMPLES_PER_PHASE = 200
"""Samples across the shortest phase in the one-pulse panel when no rate is given."""

CARRIER_SAMPLES_PER_CYCLE = 100
"""Samples per carrier cycle in the carrier-cycles panel when no rate is given."""

MAX_PANEL_SAMPLES = 400_000
"""Upper bound on the samples rendered for one panel when no rate is given (keeps plots quick)."""

MAX_RENDERED_PANEL_SAMPLES = 10_000_000
"""Hard bound on the samples rendered for one panel and channel (80 MB), whatever the rate
asked for or the prescription's shortest feature."""

MAX_DRAWN_POINTS = 4000
"""Denser traces are drawn as their per-bin minimum and maximum, which keeps every narrow pulse
visible and the files small."""

CARRIER_CYCLES_SHOWN = 3
ON_OFF_CYCLES_SHOWN = 3

_SIGN_NOTE = "+ anodic at the active electrode"


def plot_prescription(
    prescription: Prescription,
    out_path: str | os.PathLike[str],
    *,
    sample_rate_hz: float | None = None,
    envelope_seconds: float | None = None,
) -> Path:
    """Draw the three panels and save them; the suffix of ``out_path`` picks png, svg or pdf.

    Parameters
    ----------
    prescription
        What to draw (verified or not: a plot is a view).
    out_path
        Destination in an existing directory. Written via a temporary file and a rename, so a
        failure never leaves a half-written picture.
    sample_rate_hz
        Rate of the one-pulse and one-second panels (e.g. the rate an export would use); by
        default a fine rate for the pulse and :func:`default_sample_rate_hz` for the second.
    envelope_seconds
        Span of the envelope panel; by default the whole session for continuous stimulation or
        three on/off cycles.

    Returns
    -------
    Path
        ``out_path`` as a :class:`~pathlib.Path`.
    """
    path = Path(out_path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise InputError(FieldProblem("out", str(out_path), "a .png, .svg or .pdf file"))
    if not path.parent.is_dir():
        raise InputError(FieldProblem("out", str(out_path), "a file in an existing directory"))
    rate = None if sample_rate_hz is None else check_sample_rate_hz(prescription, sample_rate_hz)
    span_s = None
    if envelope_seconds is not None:
        span_s = _positive_seconds(
            "envelope_seconds", envelope_seconds, prescription.session_duration_min * 60.0
        )

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 9.5), layout="constrained")
    FigureCanvasAgg(figure)
    pulse_ax, second_ax, envelope_ax = figure.subplots(3, 1)
    _draw_single_event(pulse_ax, prescription, rate)
    _draw_one_second(second_ax, prescription, rate)
    _draw_envelope(envelope_ax, prescription, span_s)
    protocol = prescription.protocol
    headline = textwrap.shorten(protocol.name, width=90, placeholder="…")
    figure.suptitle(
        f"{headline}\n{protocol.id}: {protocol.modality}, {prescription.max_amplitude_ma:g} mA, "
        f"{prescription.session_duration_min:g} min · current {_SIGN_NOTE} · "
        "a view, not a verification",
        fontsize=10,
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            figure.savefig(stream, format=fmt, dpi=120)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def _positive_seconds(field: str, value: object, session_s: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and 0 < number <= session_s):
        raise InputError(
            FieldProblem(field, value, f"a span > 0 s and at most the session ({session_s:g} s)")
        )
    return number


# --------------------------------------------------------------------------- panels


def _draw_single_event(ax: Axes, prescription: Prescription, rate: float | None) -> None:
    """One pulse at full amplitude and width, or the first few carrier cycles."""
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        window_s = 1.3 * waveform.pulse.pulse_duration_us * 1e-6
        fs = rate or PULSE_SAMPLES_PER_PHASE * 1e6 / waveform.pulse.shortest_phase_us
        title = "one pulse (steady state, full amplitude and width)"
    else:
        lowest_hz = min(
            waveform.lowest_carrier_hz + c.carrier_frequency_offset_hz
            for c in prescription.channels
        )
        window_s = CARRIER_CYCLES_SHOWN / lowest_hz
        highest_hz = minimum_sample_rate_hz(prescription) / 4
        fs = rate or CARRIER_SAMPLES_PER_CYCLE * highest_hz
        title = f"first {CARRIER_CYCLES_SHOWN} carrier cycles (steady state)"
    fs = _bounded_rate(prescription, fs, window_s, given=rate is not None)
    chunk = sample_window(prescription, sample_rate_hz=fs, duration_s=window_s, steady=True)
    scale, unit = (1e3, "ms") if window_s > 5e-3 else (1e6, "µs")
    _draw_rows(ax, prescription, chunk.times_s() * scale, chunk.current_ma)
    ax.set_title(title)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("current (mA)")


def _draw_one_second(ax: Axes, prescription: Prescription, rate: float | None) -> None:
    fs = rate or default_sample_rate_hz(prescription)
    fs = _bounded_rate(prescription, fs, 1.0, given=rate is not None)
    chunk = sample_window(prescription, sample_rate_hz=fs, duration_s=1.0, steady=True)
    _draw_rows(ax, prescription, chunk.times_s() * 1e3, chunk.current_ma)
    ax.set_title(f"one second of steady stimulation ({fs:g} samples/s; ramps and off-time aside)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("current (mA)")


def _draw_envelope(ax: Axes, prescription: Prescription, span_s: float | None) -> None:
    """Peak amplitude over the session (continuous) or over a few on/off cycles."""
    envelope = prescription.envelope
    session_s = prescription.session_duration_min * 60.0
    if span_s is None:
        cycle_s = envelope.cycle_s
        span_s = session_s if cycle_s is None else min(session_s, ON_OFF_CYCLES_SHOWN * cycle_s)
    corners = _envelope_corners(prescription, span_s)
    t = np.unique(np.concatenate([np.linspace(0.0, span_s, 2001), corners]))
    amplitude = prescription.max_amplitude_ma * envelope_fraction(envelope, t, session_s)
    scale, unit = (1 / 60, "min") if span_s > 300 else (1.0, "s")
    ax.plot(t * scale, amplitude, color="C0", label="ramps and on/off")
    am = _amplitude_modulation(prescription)
    if am is not None and am.period_s * 100 >= span_s:
        tm = np.linspace(0.0, span_s, 4001)
        swept = scaled_value(am.low_fraction, modulation_fraction(am.shape, tm, am.period_s))
        ramped = prescription.max_amplitude_ma * envelope_fraction(envelope, tm, session_s)
        ax.plot(tm * scale, ramped * swept, color="C1", lw=0.8, label="with amplitude sweep")
    elif am is not None:
        ax.plot([], [], color="C1", label=f"amplitude sweep every {am.period_s:g} s (not drawn)")
    ax.set_ylim(bottom=0, top=1.08 * prescription.max_amplitude_ma)
    ax.set_xlim(0, span_s * scale)
    over = "the session" if span_s == session_s else f"{span_s:g} s"
    ax.set_title(f"envelope: peak amplitude over {over}")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("peak amplitude (mA)")
    ax.legend(loc="lower right", fontsize=8)


# --------------------------------------------------------------------------- helpers


def _bounded_rate(prescription: Prescription, fs: float, window_s: float, *, given: bool) -> float:
    """The rate for a panel, lowered (never below the minimum) to stay within the sample cap;
    a panel that would still need more than :data:`MAX_RENDERED_PANEL_SAMPLES` is refused."""
    if not given:
        fs = max(min(fs, MAX_PANEL_SAMPLES / window_s), minimum_sample_rate_hz(prescription))
    if fs * window_s > MAX_RENDERED_PANEL_SAMPLES:
        raise InputError(FieldProblem(
            "sample_rate_hz", fs,
            f"at most {MAX_RENDERED_PANEL_SAMPLES / window_s:.6g} Hz for a {window_s:.3g} s panel "
            f"({MAX_RENDERED_PANEL_SAMPLES:,} samples per channel)",
        ))
    return fs


def _draw_rows(ax: Axes, prescription: Prescription, t: np.ndarray, rows: np.ndarray) -> None:
    """Every distinct channel (pulse-train channels are identical: drawn once)."""
    labels = [c.label for c in prescription.channels]
    distinct: list[int] = []
    for index in range(rows.shape[0]):
        if not any(np.array_equal(rows[index], rows[d]) for d in distinct):
            distinct.append(index)
    for colour, index in enumerate(distinct):
        name = "all channels" if len(distinct) == 1 else f"channel {labels[index]}"
        _trace(ax, t, rows[index], f"C{colour}", name)
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.legend(loc="upper right", fontsize=8)


def _trace(ax: Axes, t: np.ndarray, y: np.ndarray, colour: str, label: str) -> None:
    """Samples as steps (each holds for its interval), or min/max bands when too dense."""
    n = y.size
    if n <= MAX_DRAWN_POINTS:
        if n > 1:
            t = np.concatenate([t, [t[-1] + (t[1] - t[0])]])
            y = np.concatenate([y, [y[-1]]])
        ax.step(t, y, where="post", color=colour, lw=1.0, label=label)
        return
    per_bin = math.ceil(n / (MAX_DRAWN_POINTS // 2))
    padded = np.full(per_bin * math.ceil(n / per_bin), np.nan)
    padded[:n] = y
    blocks = padded.reshape(-1, per_bin)
    low, high = np.nanmin(blocks, axis=1), np.nanmax(blocks, axis=1)
    t_bins = t[::per_bin][: blocks.shape[0]]
    ax.fill_between(t_bins, low, high, step="post", color=colour, lw=0.6, label=label)


def _envelope_corners(prescription: Prescription, span_s: float) -> np.ndarray:
    """Times where the envelope bends or steps, so the drawn line has crisp corners."""
    envelope = prescription.envelope
    session_s = prescription.session_duration_min * 60.0
    if envelope.on_s is None:
        points = [0.0, envelope.ramp_up_s, session_s - envelope.ramp_down_s, session_s]
    else:
        offsets = [0.0, envelope.ramp_up_s, envelope.on_s - envelope.ramp_down_s, envelope.on_s]
        starts = np.arange(0.0, span_s, envelope.cycle_s)[:10_000]
        points = (starts[:, None] + np.asarray(offsets)[None, :]).ravel().tolist()
    corners = np.asarray(points, dtype=float)
    corners = np.concatenate([corners - 1e-9 * span_s, corners])
    return corners[(corners >= 0) & (corners <= span_s)]


def _amplitude_modulation(prescription: Prescription):
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        return next((m for m in waveform.modulations if m.parameter == "amplitude"), None)
    return waveform.amplitude_modulation
