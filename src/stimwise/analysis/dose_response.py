"""Per-person dose–response and habituation from delivered sessions.

Dose–response: within-session relief against each delivered dose parameter (amplitude, phase
width, pulse rate, minutes), one straight-line fit per parameter that actually varied, and
weekly diary pain against weekly adherence (sessions and minutes per week).

Habituation test (stated, stimwise's choice [U]): among sessions at a constant dose (amplitude
within ±10 % of the median, the most common pulse rate and phase width), fit relief against
session number by least squares; habituation is reported when the slope is negative with
one-sided p < 0.01 *and* the fitted relief falls by at least 1 NRS point over those sessions.
Tolerance to repeated TENS is well documented (loss of effect by day 4-5 in rats and healthy
volunteers; Chandran & Sluka 2003, Liebano 2010/11, clinical-facts.md §6 [C]), so fading relief
at a constant dose is named as such rather than taken for non-response (HAZ-053).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from stimwise.analysis.series import PatientSeries, Sessions
from stimwise.analysis.stats import LineFit, fit_line

DOSE_PARAMETERS = ("amplitude_ma", "phase_width_us", "frequency_hz", "minutes")
CONSTANT_AMPLITUDE_TOLERANCE = 0.10
HABITUATION_ALPHA = 0.01
HABITUATION_MIN_DROP_NRS = 1.0
MIN_CONSTANT_DOSE_SESSIONS = 10
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class ParameterEffect:
    parameter: str
    low: float
    high: float
    fit: LineFit | None
    """Relief per unit of the parameter; ``None`` when it did not vary enough to tell."""


@dataclass(frozen=True)
class Habituation:
    constant_dose_sessions: int
    fit: LineFit | None
    fitted_drop_nrs: float | None
    detected: bool
    explanation: str


@dataclass(frozen=True)
class Adherence:
    therapy_days: int
    sessions: int
    sessions_per_week: float
    prescribed_per_week: float | None
    share_of_prescribed: float | None
    minutes_per_week: float
    pain_per_weekly_session: LineFit | None
    """Weekly mean diary pain against sessions that week (negative slope: more use, less pain)."""


@dataclass(frozen=True)
class DoseResponse:
    effects: tuple[ParameterEffect, ...]
    habituation: Habituation
    adherence: Adherence

    def to_dict(self) -> dict:
        return asdict(self)


def _effects(sessions: Sessions) -> tuple[ParameterEffect, ...]:
    relief = sessions.relief_nrs
    effects = []
    for name in DOSE_PARAMETERS:
        values = getattr(sessions, name)
        present = values[~np.isnan(values)]
        if not present.size:
            effects.append(ParameterEffect(name, float("nan"), float("nan"), None))
            continue
        spread = float(present.max() - present.min())
        varied = spread > 0.05 * max(abs(float(present.mean())), 1e-9)
        fit = fit_line(values, relief) if varied else None
        effects.append(ParameterEffect(name, float(present.min()), float(present.max()), fit))
    return tuple(effects)


def constant_dose_mask(sessions: Sessions) -> np.ndarray:
    """Sessions at the person's usual dose: median amplitude ±10 %, modal rate and width.

    A self-reported session whose current is unknown (most home devices publish no level
    currents) counts by its rate and width alone; the explanation says so."""
    if not len(sessions):
        return np.zeros(0, dtype=bool)
    amplitude = sessions.amplitude_ma
    known = ~np.isnan(amplitude)
    median = float(np.median(amplitude[known])) if known.any() else 0.0
    mask = ~known | (np.abs(amplitude - median) <= CONSTANT_AMPLITUDE_TOLERANCE * median)
    for name in ("frequency_hz", "phase_width_us"):
        values = getattr(sessions, name)
        unique, counts = np.unique(values, return_counts=True)
        mask &= values == unique[np.argmax(counts)]
    return mask


def habituation(sessions: Sessions) -> Habituation:
    mask = constant_dose_mask(sessions)
    number = np.arange(len(sessions), dtype=float)
    relief = sessions.relief_nrs
    usable = mask & ~np.isnan(relief)
    count = int(usable.sum())
    if count < MIN_CONSTANT_DOSE_SESSIONS:
        return Habituation(
            count, None, None, False,
            f"{count} answered sessions at a constant dose; {MIN_CONSTANT_DOSE_SESSIONS} needed",
        )
    fit = fit_line(number[usable], relief[usable])
    if fit is None:
        return Habituation(count, None, None, False, "session numbers do not vary")
    span = float(number[usable].max() - number[usable].min())
    drop = -fit.slope * span
    detected = fit.p_decreasing < HABITUATION_ALPHA and drop >= HABITUATION_MIN_DROP_NRS
    explanation = (
        f"relief at a constant dose fell by {drop:.1f} points over {count} sessions "
        f"(one-sided p = {fit.p_decreasing:.2g}): habituation"
        if detected else
        f"no clear fading at a constant dose (change {-drop:+.1f} points over {count} sessions, "
        f"one-sided p = {fit.p_decreasing:.2g})"
    )
    return Habituation(count, fit, drop, detected, explanation)


def adherence(series: PatientSeries) -> Adherence:
    sessions = series.sessions
    days = max(series.as_of_day + 1, 1)
    weeks = days / DAYS_PER_WEEK
    per_week = len(sessions) / weeks
    prescribed = series.sessions_per_week
    share = per_week / prescribed if prescribed else None
    week_of_session = sessions.day // DAYS_PER_WEEK
    full_weeks = days // DAYS_PER_WEEK
    pain = series.pain
    therapy = (pain.day >= 0) & (pain.day < full_weeks * DAYS_PER_WEEK)
    week_of_pain = pain.day[therapy] // DAYS_PER_WEEK
    weekly_sessions = np.bincount(week_of_session[week_of_session < full_weeks],
                                  minlength=full_weeks).astype(float)
    pain_sum = np.bincount(week_of_pain, weights=pain.nrs[therapy], minlength=full_weeks)
    pain_count = np.bincount(week_of_pain, minlength=full_weeks)
    weekly_pain = np.where(pain_count > 0, pain_sum / np.maximum(pain_count, 1), np.nan)
    return Adherence(
        therapy_days=days,
        sessions=len(sessions),
        sessions_per_week=per_week,
        prescribed_per_week=prescribed,
        share_of_prescribed=share,
        minutes_per_week=float(np.nansum(sessions.minutes)) / weeks,
        pain_per_weekly_session=fit_line(weekly_sessions, weekly_pain),
    )


def dose_response(series: PatientSeries) -> DoseResponse:
    return DoseResponse(
        effects=_effects(series.sessions),
        habituation=habituation(series.sessions),
        adherence=adherence(series),
    )
