"""Strength-duration curves: thresholds over pulse widths, Weiss and Lapicque fits.

Weiss (1901): I(d) = b (1 + c / d), linear in 1/d; b is the rheobase and c the chronaxie, which
is also the strength-duration time constant (SDTC) of Mogyoros, Kiernan & Burke (1996) because the
charge Q = I d = b (d + c) is linear in d. Lapicque (1907): I(d) = b / (1 - exp(-d / tau)),
chronaxie tau ln 2. Both are fitted by least squares on relative errors (scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.fibers import Fiber
from stimwise.physiology.stimulus import Stimulus
from stimwise.physiology.threshold import ThresholdResult, find_thresholds

DEFAULT_PULSE_WIDTHS_MS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # Mogyoros 1996 spanned 20 us - 1 ms
RUN_DURATION_MS = {"mrg": 10.0, "c": 35.0}  # reference windows (fibre-model-validation.md §4)


def run_duration_ms(model: str, pulse_ms: float) -> float:
    """Simulated time: the reference window, or longer when the pulse needs it."""
    return max(RUN_DURATION_MS[model], 0.1 + pulse_ms + RUN_DURATION_MS[model] / 2)


@dataclass(frozen=True)
class Fit:
    """One fitted law: rheobase (mA), chronaxie (ms) and the largest relative residual."""

    law: str
    rheobase_ma: float
    chronaxie_ms: float
    max_relative_residual: float


@dataclass(frozen=True)
class StrengthDuration:
    pulse_widths_ms: np.ndarray
    thresholds_ma: np.ndarray
    results: list[ThresholdResult]
    weiss: Fit
    lapicque: Fit
    warnings: list[str]


def fit_weiss(widths_ms: np.ndarray, thresholds_ma: np.ndarray) -> Fit:
    """Weiss fit I = b (1 + c/d), weighted by 1/I (relative residuals)."""
    w = 1.0 / thresholds_ma
    design = np.column_stack([np.ones_like(widths_ms), 1.0 / widths_ms]) * w[:, None]
    (b, bc), *_ = np.linalg.lstsq(design, thresholds_ma * w, rcond=None)
    model = b * (1 + (bc / b) / widths_ms)
    return Fit("weiss", float(b), float(bc / b), float(np.abs(model / thresholds_ma - 1).max()))


def fit_lapicque(widths_ms: np.ndarray, thresholds_ma: np.ndarray) -> Fit:
    """Lapicque fit I = b / (1 - exp(-d/tau)), chronaxie = tau ln 2."""

    def law(d, b, tau):
        return b / -np.expm1(-d / tau)

    start = fit_weiss(widths_ms, thresholds_ma)
    (b, tau), _ = curve_fit(law, widths_ms, thresholds_ma,
                            p0=(start.rheobase_ma, max(start.chronaxie_ms, 1e-3) / math.log(2)),
                            sigma=thresholds_ma, bounds=([0, 1e-5], [np.inf, 1e3]))
    residual = np.abs(law(widths_ms, b, tau) / thresholds_ma - 1).max()
    return Fit("lapicque", float(b), float(tau * math.log(2)), float(residual))


def strength_duration(
    fiber: Fiber,
    ve_mv_per_ma: np.ndarray,
    pulse_widths_ms: tuple[float, ...] = DEFAULT_PULSE_WIDTHS_MS,
    waveform: str = "monophasic",
    rel_tol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
) -> StrengthDuration:
    """Thresholds of ``fiber`` at each pulse width, and the Weiss and Lapicque fits."""
    widths = np.asarray(sorted(pulse_widths_ms), dtype=float)
    if widths.size < 3 or not (widths > 0).all() or np.unique(widths).size != widths.size:
        raise InputError(FieldProblem("pulse_widths_ms", list(pulse_widths_ms),
                                      "at least three distinct pulse widths > 0 ms"))
    results = []
    for i, pw in enumerate(widths):
        stim = Stimulus.pulse(waveform, float(pw), duration_ms=run_duration_ms(fiber.model, pw))
        results.append(find_thresholds([fiber], [ve_mv_per_ma], stim, rel_tol=rel_tol))
        if progress is not None:
            progress(i + 1, widths.size)
    thresholds = np.array([r.threshold_ma[0] for r in results])
    notes = [f"{pw:g} ms: {w}" for pw, r in zip(widths, results, strict=True)
             for w in r.warnings[0]]
    if not np.isfinite(thresholds).all():
        raise InputError(FieldProblem("pulse_widths_ms", list(pulse_widths_ms),
                                      "pulse widths at which the fibre is excited below 1 A"))
    return StrengthDuration(widths, thresholds, results, fit_weiss(widths, thresholds),
                            fit_lapicque(widths, thresholds), notes)
