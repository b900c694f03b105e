"""Responder classification against the person's own baseline (IMMPACT).

Thresholds (Dworkin et al. 2008, J Pain 9:105-21, doi 10.1016/j.jpain.2007.09.005 [C]; Farrar
et al. 2001, Pain 94:149-58 [C]; clinical-facts.md §4): a pain-NRS reduction of ≥ 30 % is
moderately important and ≥ 50 % substantial; about 2 NRS points or 30 % corresponds to "much
improved". stimwise requires both the relative cut-off and ≥ 2 points, so a low baseline cannot
make a small absolute change look like a response.

Minimum-data rules (stimwise's own choices [U]; see ``docs/analysis.md``):

* baseline = mean daily pain over the 14 days before therapy starts, with ≥ 7 diary days;
* assessment = mean daily pain over the latest 14 days, with ≥ 7 diary days, and the window must
  begin at least 14 days after therapy starts (no verdict from the first fortnight);
* otherwise the verdict is the honest "not enough data yet", naming what is missing;
* when the 90 % interval of the reduction (allowing for day-to-day autocorrelation) straddles the
  responder cut-off, the verdict is "borderline" with the direction it leans, never a confident
  responder or non-responder (HAZ-051).

A person who met the responder cut-off in an earlier assessment window but no longer does is
reported as "response faded" rather than "non-responder": repeated daily TENS loses effect
(tolerance by day 4-5 in rats and healthy volunteers; only ~1/3 of initial responders still
benefit at 2 years — Chandran & Sluka 2003; Liebano 2011, clinical-facts.md §6 [C]/[C-s]), and
habituation calls for a change of dose, not for stopping (HAZ-053).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from stimwise.analysis.series import PatientSeries

MODERATE_REDUCTION = 0.30
SUBSTANTIAL_REDUCTION = 0.50
MIN_REDUCTION_NRS = 2.0
BASELINE_DAYS = 14
MIN_BASELINE_ENTRIES = 7
WINDOW_DAYS = 28
MIN_WINDOW_ENTRIES = 14
EARLIEST_WINDOW_START_DAY = 14
MIN_BASELINE_NRS = 2.0
"""A baseline below 2 cannot show the required 2-point reduction [U]."""
INTERVAL_Z = 1.645
"""90 % interval of the reduction (normal approximation) [U]."""
FADE_MIN_NRS = 1.0
"""An earlier window must have been at least this much better, and clearly so (beyond twice the
combined standard error), before a response is called faded [U]."""

Category = Literal[
    "substantial", "moderate", "non_responder", "faded", "borderline", "not_enough_data"
]
LABELS: dict[str, str] = {
    "substantial": "substantial responder (≥ 50 % and ≥ 2 points less pain)",
    "moderate": "moderate responder (≥ 30 % and ≥ 2 points less pain)",
    "non_responder": "non-responder (less than 30 % or less than 2 points)",
    "faded": "response faded: an earlier response is no longer seen (habituation likely)",
    "borderline": "borderline: the change is too close to the responder cut-off to call",
    "not_enough_data": "not enough data yet",
}


def reduction_categories(baseline_nrs, followup_nrs) -> np.ndarray:
    """IMMPACT class of each change in mean pain: substantial, moderate or non_responder."""
    baseline = np.asarray(baseline_nrs, dtype=float)
    drop = baseline - np.asarray(followup_nrs, dtype=float)
    relative = np.divide(drop, baseline, out=np.zeros_like(drop), where=baseline > 0)
    responds = (drop >= MIN_REDUCTION_NRS) & (relative >= MODERATE_REDUCTION)
    return np.where(
        responds,
        np.where(relative >= SUBSTANTIAL_REDUCTION, "substantial", "moderate"),
        "non_responder",
    )


def classify_reduction(baseline_nrs: float, followup_nrs: float) -> str:
    """IMMPACT class of one change in mean pain (see :func:`reduction_categories`)."""
    return str(reduction_categories([baseline_nrs], [followup_nrs])[0])


def is_responder(category: str) -> bool:
    return category in ("substantial", "moderate")


@dataclass(frozen=True)
class WindowMean:
    first_day: int
    last_day: int
    entries: int
    mean_nrs: float | None
    sem_nrs: float | None


@dataclass(frozen=True)
class ResponderVerdict:
    """The verdict with every figure it rests on, so a clinician can check it."""

    patient_id: str
    category: Category
    label: str
    reasons: tuple[str, ...]
    baseline: WindowMean
    current: WindowMean
    reduction_nrs: float | None
    reduction_fraction: float | None
    reduction_interval: tuple[float, float] | None
    borderline: bool
    best_earlier: WindowMean | None

    def to_dict(self) -> dict:
        return asdict(self)


def window_mean(values: np.ndarray, first_day: int, last_day: int) -> WindowMean:
    """Mean and standard error; the error allows for day-to-day autocorrelation (AR(1))."""
    n = int(values.size)
    if n == 0:
        return WindowMean(first_day, last_day, 0, None, None)
    mean = float(values.sum()) / n
    if n < 3:
        return WindowMean(first_day, last_day, n, mean, None)
    centred = values - mean
    sum_squares = float(centred @ centred)
    rho = float(centred[1:] @ centred[:-1]) / sum_squares if sum_squares > 0 else 0.0
    rho = min(max(rho, 0.0), 0.9)
    effective_n = n * (1 - rho) / (1 + rho)
    return WindowMean(first_day, last_day, n, mean,
                      math.sqrt(sum_squares / (n - 1) / effective_n))


def _windows(series: PatientSeries) -> tuple[WindowMean, WindowMean]:
    pain = series.pain
    baseline = window_mean(pain.window(-BASELINE_DAYS, -1), -BASELINE_DAYS, -1)
    first = series.as_of_day - WINDOW_DAYS + 1
    current = window_mean(pain.window(first, series.as_of_day), first, series.as_of_day)
    return baseline, current


def _missing_data(baseline: WindowMean, current: WindowMean) -> list[str]:
    reasons = []
    if baseline.entries < MIN_BASELINE_ENTRIES:
        reasons.append(
            f"baseline has {baseline.entries} diary days in the {BASELINE_DAYS} days before "
            f"therapy; at least {MIN_BASELINE_ENTRIES} are needed"
        )
    elif baseline.mean_nrs is not None and baseline.mean_nrs < MIN_BASELINE_NRS:
        reasons.append(
            f"baseline pain {baseline.mean_nrs:.1f} is below {MIN_BASELINE_NRS:g}: a "
            f"{MIN_REDUCTION_NRS:g}-point reduction cannot be shown"
        )
    if current.last_day < 0:
        reasons.append("therapy has not started: no session on record")
    elif current.first_day < EARLIEST_WINDOW_START_DAY:
        reasons.append(
            f"therapy day {current.last_day}: the first verdict needs "
            f"{EARLIEST_WINDOW_START_DAY + WINDOW_DAYS} days of therapy"
        )
    elif current.entries < MIN_WINDOW_ENTRIES:
        reasons.append(
            f"the latest {WINDOW_DAYS} days have {current.entries} diary days; at least "
            f"{MIN_WINDOW_ENTRIES} are needed"
        )
    return reasons


def _best_earlier(series: PatientSeries, current: WindowMean) -> WindowMean | None:
    """The lowest-pain full assessment window before the current one (non-overlapping steps)."""
    best = None
    last = current.first_day - 1
    while last - WINDOW_DAYS + 1 >= EARLIEST_WINDOW_START_DAY:
        first = last - WINDOW_DAYS + 1
        candidate = window_mean(series.pain.window(first, last), first, last)
        if candidate.entries >= MIN_WINDOW_ENTRIES and (
            best is None or candidate.mean_nrs < best.mean_nrs
        ):
            best = candidate
        last = first - 1
    return best


def _clearly_better(earlier: WindowMean, current: WindowMean) -> bool:
    gain = current.mean_nrs - earlier.mean_nrs
    if earlier.sem_nrs is None or current.sem_nrs is None:
        return False
    return gain >= FADE_MIN_NRS and gain > 2 * math.hypot(earlier.sem_nrs, current.sem_nrs)


def classify(series: PatientSeries) -> ResponderVerdict:
    """IMMPACT responder verdict for one person as of ``series.as_of_day``."""
    baseline, current = _windows(series)
    missing = _missing_data(baseline, current)
    if missing:
        return ResponderVerdict(
            series.patient_id, "not_enough_data", LABELS["not_enough_data"], tuple(missing),
            baseline, current, None, None, None, False, None,
        )
    drop = baseline.mean_nrs - current.mean_nrs
    fraction = drop / baseline.mean_nrs
    category = classify_reduction(baseline.mean_nrs, current.mean_nrs)
    interval = None
    borderline = False
    if baseline.sem_nrs is not None and current.sem_nrs is not None:
        sem_drop = math.hypot(baseline.sem_nrs, current.sem_nrs)
        low, high = drop - INTERVAL_Z * sem_drop, drop + INTERVAL_Z * sem_drop
        interval = (low / baseline.mean_nrs, high / baseline.mean_nrs)
        cut = max(MODERATE_REDUCTION, MIN_REDUCTION_NRS / baseline.mean_nrs)
        borderline = interval[0] < cut <= interval[1]
    reasons = [
        f"baseline {baseline.mean_nrs:.1f} over {baseline.entries} days, latest "
        f"{current.mean_nrs:.1f} over {current.entries} days: "
        + (f"{drop:.1f} points ({100 * fraction:.0f} %) less pain" if drop >= 0
           else f"{-drop:.1f} points ({-100 * fraction:.0f} %) more pain")
    ]
    if borderline:
        leaning = "a response" if is_responder(category) else "no response"
        reasons.append(
            f"the 90 % interval of the reduction ({100 * interval[0]:.0f}-"
            f"{100 * interval[1]:.0f} %) straddles the responder cut-off; the estimate leans "
            f"towards {leaning}, but the diary's day-to-day scatter does not allow a verdict"
        )
        category = "borderline"
    earlier = None
    if category == "non_responder":
        earlier = _best_earlier(series, current)
        if earlier is not None and _clearly_better(earlier, current) and is_responder(
            classify_reduction(baseline.mean_nrs, earlier.mean_nrs)
        ):
            category = "faded"
            reasons.append(
                f"days {earlier.first_day}-{earlier.last_day} averaged {earlier.mean_nrs:.1f}, "
                "a response; habituation or tolerance is likely — consider changing the dose "
                "(e.g. alternating frequencies, DeSantana 2008) before concluding non-response"
            )
    return ResponderVerdict(
        series.patient_id, category, LABELS[category], tuple(reasons), baseline, current,
        drop, fraction, interval, borderline, earlier,
    )
