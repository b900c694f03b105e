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
* otherwise the verdict is the honest "not enough data yet", naming what is missing with the
  dates it can still be recorded for (:class:`MissingData`);
* when the 90 % interval of the reduction (allowing for day-to-day autocorrelation) straddles the
  responder cut-off, the verdict is "borderline" with the direction it leans, never a confident
  responder or non-responder (HAZ-051).

Baselines that were not written at the time (issue 17: a first session on the enrolment day
left no diary baseline at all) count, more cautiously:

* **recalled days** (retrospective baseline entries a clinician recorded from the person's
  recall, ``DailyPain.recalled``) count in the baseline mean like diary days, but recall
  smooths and inflates: recalled ratings run higher than the average of ratings made at the
  time, and day-by-day recall fades beyond the past several days (Broderick et al. 2008, Pain
  139:146-57, doi 10.1016/j.pain.2008.03.024 [C: abstract]). So when any baseline day is
  recalled, the baseline's standard error is never taken smaller than one from
  :data:`MIN_ASSUMED_DAILY_SD_NRS` or the therapy diary's own day-to-day s.d., whichever is
  larger, and the verdict says that the reduction may be overstated;
* **the intake's average-pain rating** (:class:`~stimwise.analysis.series.IntakePain`) stands in
  only when the diary baseline has fewer than :data:`MIN_BASELINE_ENTRIES` days. A single
  rating is far less reliable than a mean of days (Stone et al. 2014, Clin J Pain 30(9),
  doi 10.1097/AJP.0000000000000030 [C: abstract]), so each rating is weighed as one diary day: its
  standard error is that same assumed day-to-day s.d. (divided by the square root of the number
  of ratings). Most changes near the cut-off are then "borderline"; a clear change still gives
  a verdict. Population summaries do not use it (their responder rates rest on diary
  baselines only).

A person who met the responder cut-off in an earlier assessment window but no longer does is
reported as "response faded" rather than "non-responder": repeated daily TENS loses effect
(tolerance by day 4-5 in rats and healthy volunteers; only ~1/3 of initial responders still
benefit at 2 years — Chandran & Sluka 2003; Liebano 2011, clinical-facts.md §6 [C]/[C-s]), and
habituation calls for a change of dose, not for stopping (HAZ-053).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
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
MIN_ASSUMED_DAILY_SD_NRS = 1.0
"""The smallest day-to-day s.d. of daily pain assumed for a baseline resting on recall or on an
intake rating [U]: about the middle of the day-to-day scatter seen in daily pain diaries and
used for the synthetic cohorts (0.6-1.2 NRS, docs/analysis.md), rounded up to be cautious."""
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


BaselineSource = Literal["diary", "intake"]


@dataclass(frozen=True)
class WindowMean:
    """The mean pain of a window of days. For a baseline, ``recalled`` counts the days whose
    value was recalled afterwards and ``source`` says whether it is the diary's or the
    intake's rating."""

    first_day: int
    last_day: int
    entries: int
    mean_nrs: float | None
    sem_nrs: float | None
    recalled: int = 0
    source: BaselineSource = "diary"


MissingKind = Literal["baseline", "low_baseline", "not_started", "too_early", "sparse_window"]


@dataclass(frozen=True)
class MissingData:
    """One thing the verdict still waits for, with the dates a clinician or the person can act
    on (ISO dates, inclusive) and how many days are there and needed."""

    kind: MissingKind
    text: str
    have: int | None = None
    need: int | None = None
    first_date: str | None = None
    last_date: str | None = None


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
    missing: tuple[MissingData, ...] = ()

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


def _assumed_daily_sd(series: PatientSeries, current: WindowMean) -> float:
    """Day-to-day s.d. of daily pain assumed for a recalled or intake baseline: the therapy
    window's own scatter, never below :data:`MIN_ASSUMED_DAILY_SD_NRS`."""
    values = series.pain.window(current.first_day, current.last_day)
    observed = float(np.std(values, ddof=1)) if values.size >= 2 else 0.0
    return max(observed, MIN_ASSUMED_DAILY_SD_NRS)


def _intake_baseline(series: PatientSeries) -> WindowMean | None:
    """The intake's average-pain ratings as a stand-in baseline (no standard error yet: it is
    set from the therapy diary's scatter once that is known)."""
    ratings = [r for r in series.intake_pain if -BASELINE_DAYS <= r.day <= 0]
    if not ratings:
        return None
    days = [r.day for r in ratings]
    return WindowMean(min(days), max(days), len(ratings),
                      sum(r.nrs for r in ratings) / len(ratings), None, source="intake")


def _windows(series: PatientSeries) -> tuple[WindowMean, WindowMean]:
    """The baseline (diary, else the intake's rating) and the latest assessment window; a
    baseline that rests on recall or on the intake gets its cautious standard error here."""
    pain = series.pain
    diary = window_mean(pain.window(-BASELINE_DAYS, -1), -BASELINE_DAYS, -1)
    baseline = replace(diary, recalled=pain.recalled_in(-BASELINE_DAYS, -1))
    # The latest window never reaches back into the baseline (it is shown before a verdict).
    first = max(series.as_of_day - WINDOW_DAYS + 1, 0)
    current = window_mean(pain.window(first, series.as_of_day), first, series.as_of_day)
    if baseline.entries < MIN_BASELINE_ENTRIES:
        baseline = _intake_baseline(series) or baseline
    if baseline.source == "intake" or baseline.recalled:
        floor = _assumed_daily_sd(series, current) / math.sqrt(baseline.entries)
        baseline = replace(baseline, sem_nrs=max(baseline.sem_nrs or 0.0, floor))
    return baseline, current


def _shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _missing_data(series: PatientSeries, baseline: WindowMean,
                  current: WindowMean) -> list[MissingData]:
    """What the verdict waits for, in dates: the baseline window is the 14 days before the
    therapy start, the first verdict comes on therapy day 41."""
    def on(day: int) -> date:
        return series.therapy_start + timedelta(days=day)

    started = current.last_day >= 0
    missing = []
    if baseline.source == "diary" and baseline.entries < MIN_BASELINE_ENTRIES:
        first, last = on(-BASELINE_DAYS), on(-1)
        need = MIN_BASELINE_ENTRIES - baseline.entries
        where = (f"between {_shown(first)} and {_shown(last)}" if started else
                 f"in the {BASELINE_DAYS} days before the first session")
        missing.append(MissingData(
            "baseline",
            f"baseline: {need} more day{'s' if need > 1 else ''} with a pain score {where} "
            f"({baseline.entries} of the {MIN_BASELINE_ENTRIES} needed), or an intake "
            "average-pain rating answered before the first session"
            + (f" (between {_shown(first)} and {_shown(on(0))})" if started else ""),
            baseline.entries, MIN_BASELINE_ENTRIES, first.isoformat(), last.isoformat()))
    elif baseline.mean_nrs is not None and baseline.mean_nrs < MIN_BASELINE_NRS:
        missing.append(MissingData(
            "low_baseline",
            f"baseline pain {baseline.mean_nrs:.1f} is below {MIN_BASELINE_NRS:g}: a "
            f"{MIN_REDUCTION_NRS:g}-point reduction cannot be shown"))
    first_verdict = EARLIEST_WINDOW_START_DAY + WINDOW_DAYS - 1
    if not started:
        missing.append(MissingData(
            "not_started", "therapy has not started: no session on record (the first verdict "
            f"comes {first_verdict} days after the first session)"))
    elif current.first_day < EARLIEST_WINDOW_START_DAY:
        first = on(EARLIEST_WINDOW_START_DAY)
        missing.append(MissingData(
            "too_early",
            f"therapy day {current.last_day}: the first verdict can be given on "
            f"{_shown(on(first_verdict))} (therapy day {first_verdict}, after "
            f"{first_verdict + 1} days of therapy), with at least {MIN_WINDOW_ENTRIES} days "
            f"with a pain score from {_shown(first)} on",
            None, MIN_WINDOW_ENTRIES, first.isoformat(), on(first_verdict).isoformat()))
    elif current.entries < MIN_WINDOW_ENTRIES:
        first, last = on(current.first_day), on(current.last_day)
        need = MIN_WINDOW_ENTRIES - current.entries
        missing.append(MissingData(
            "sparse_window",
            f"the latest {WINDOW_DAYS} days ({_shown(first)} to {_shown(last)}) have "
            f"{current.entries} diary days with a pain score: {need} more are needed (at "
            f"least {MIN_WINDOW_ENTRIES})",
            current.entries, MIN_WINDOW_ENTRIES, first.isoformat(), last.isoformat()))
    return missing


def _baseline_statement(baseline: WindowMean) -> str | None:
    """How a baseline that was not written at the time was weighed (None: a plain diary)."""
    if baseline.source == "intake":
        count = baseline.entries
        return (f"baseline from the intake's average-pain rating{'s' if count > 1 else ''} "
                f"({count}, not from the diary): weighed as {count} diary day"
                f"{'s' if count > 1 else ''}, so the verdict is less certain than one from a "
                "diary baseline")
    if baseline.recalled:
        return (f"{baseline.recalled} of the {baseline.entries} baseline days were recalled "
                "afterwards: recalled pain tends to run higher than pain noted at the time, so "
                "the reduction may be overstated; the interval allows for more scatter")
    return None


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
    missing = _missing_data(series, baseline, current)
    if missing:
        return ResponderVerdict(
            series.patient_id, "not_enough_data", LABELS["not_enough_data"],
            tuple(m.text for m in missing), baseline, current, None, None, None, False, None,
            tuple(missing),
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
        f"baseline {baseline.mean_nrs:.1f} over {baseline.entries} "
        f"{'intake rating' if baseline.source == 'intake' else 'day'}"
        f"{'s' if baseline.entries > 1 else ''}, latest "
        f"{current.mean_nrs:.1f} over {current.entries} days: "
        + (f"{drop:.1f} points ({100 * fraction:.0f} %) less pain" if drop >= 0
           else f"{-drop:.1f} points ({-100 * fraction:.0f} %) more pain")
    ]
    statement = _baseline_statement(baseline)
    if statement:
        reasons.append(statement)
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
