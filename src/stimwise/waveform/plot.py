"""Pictures of a prescription: one pulse, one second of the train and the envelope.

Plots are views of the description: they may be drawn for prescriptions that were never verified
(a clinician looks before deciding, or wants to see why one was blocked), so nothing here asks for
a ``VerifiedPlan``. The pulse and train panels are drawn from the streaming sampler's samples and
the envelope from the same time functions the exact metrics use, so the picture shows what would
be exported, not a separate re-drawing.

matplotlib is imported only when a figure is made (:func:`stimwise.plotting.figure_and_axes`,
the Figure API without pyplot), so ``import stimwise`` stays fast, no display is needed and no
global matplotlib state (backend, open figures) is touched.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.plotting import figure_and_axes
from stimwise.protocol.models import Protocol, PulseTrain
from stimwise.protocol.prescription import Prescription, as_prescription
from stimwise.waveform.sampler import (
    check_sample_rate_hz,
    default_sample_rate_hz,
    minimum_sample_rate_hz,
    sample_window,
)
from stimwise.waveform.timefunctions import envelope_fraction, modulation_fraction, scaled_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PANELS", "plot_prescription"]

PANELS = ("pulse", "second", "envelope")
"""The panels :func:`plot_prescription` can draw, in its default order."""

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
    prescription: Prescription | Protocol,
    *,
    ax: Axes | Sequence[Axes] | None = None,
    panels: Sequence[str] = PANELS,
    sample_rate_hz: float | None = None,
    envelope_seconds: float | None = None,
) -> Figure:
    """Draw one pulse, one second of the train and the envelope of a prescription.

    Parameters
    ----------
    prescription
        What to draw, verified or not (a plot is a view). A protocol is drawn at its defaults.
    ax
        Axes to draw into, one per panel (a single Axes when one panel is asked); by default a
        new figure with one row per panel and a title naming the protocol and the dose.
    panels
        Which panels, in order (one name alone is one panel): ``"pulse"`` (one pulse at full
        amplitude and width, or the first carrier cycles), ``"second"`` (one second of steady
        stimulation), ``"envelope"`` (peak amplitude over the session or over three on/off
        cycles).
    sample_rate_hz
        Rate of the pulse and one-second panels (e.g. the rate an export would use); by
        default a fine rate for the pulse and :func:`default_sample_rate_hz` for the second.
    envelope_seconds
        Span of the envelope panel; by default the whole session for continuous stimulation or
        three on/off cycles.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into; save it with :func:`stimwise.save_figure`.

    Raises
    ------
    InputError
        An unknown panel, a sample rate below what the waveform needs, or an envelope span
        outside the session.

    Examples
    --------
    >>> import stimwise as sw
    >>> figure = sw.plot_prescription(sw.load_protocol("conventional-tens"))
    >>> [ax.get_title().split(" (")[0] for ax in figure.axes]
    ['one pulse', 'one second of steady stimulation', 'envelope: peak amplitude over the session']

    Into your own axes, one panel:

    >>> from matplotlib.figure import Figure
    >>> mine = Figure().subplots()
    >>> figure = sw.plot_prescription(sw.load_protocol("burst-tens"), ax=mine, panels=["pulse"])
    >>> figure is mine.figure
    True
    """
    prescription = as_prescription(prescription, function="plot_prescription")
    chosen = tuple(panels) if not isinstance(panels, str) else (panels,)
    for name in chosen:
        if name not in PANELS:
            raise InputError(FieldProblem("panels", name, f"one of {', '.join(PANELS)}"))
    if not chosen:
        raise InputError(FieldProblem("panels", [], f"at least one of {', '.join(PANELS)}"))
    rate = None if sample_rate_hz is None else check_sample_rate_hz(prescription, sample_rate_hz)
    span_s = None
    if envelope_seconds is not None:
        span_s = _positive_seconds(
            "envelope_seconds", envelope_seconds, prescription.session_duration_min * 60.0
        )
    figure, axes = figure_and_axes(
        ax, len(chosen), function="plot_prescription", figsize=(9.0, 3.0 * len(chosen) + 0.5)
    )
    for name, panel_ax in zip(chosen, axes, strict=True):
        if name == "pulse":
            _draw_single_event(panel_ax, prescription, rate)
        elif name == "second":
            _draw_one_second(panel_ax, prescription, rate)
        else:
            _draw_envelope(panel_ax, prescription, span_s)
    if ax is None:
        protocol = prescription.protocol
        headline = textwrap.shorten(protocol.name, width=90, placeholder="…")
        figure.suptitle(
            f"{headline}\n{protocol.id}: {protocol.modality}, "
            f"{prescription.max_amplitude_ma:g} mA, {prescription.session_duration_min:g} min · "
            f"current {_SIGN_NOTE} · a view, not a verification",
            fontsize=10,
        )
    return figure


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
