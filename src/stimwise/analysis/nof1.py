"""n-of-1 trials: plan a randomised blocked comparison of two treatments and analyse it.

Design
------
``pairs`` blocks, each holding one period of A and one of B in random order (so ABBA, ABAB, BAAB
… all occur), every period ``period_days`` long and followed by ``washout_days`` without
stimulation that are not analysed, so that carry-over from one treatment does not colour the
next. The order is drawn from ``seed`` and written into the plan: it is reproducible and
auditable.

Model (closed form)
-------------------
The outcome of block *j* is ``d_j = mean pain in its B period − mean pain in its A period``
(positive: A leaves less pain). Analysing block means absorbs the day-to-day autocorrelation
within a period and any slow drift between blocks. The model is

    d_j | δ, σ² ~ N(δ, σ²)  independently,
    δ | σ² ~ N(μ0, σ² / κ0),   σ² ~ Inverse-Gamma(α0, β0),

the conjugate normal–inverse-gamma prior. The posterior is normal–inverse-gamma with
``κn = κ0 + n``, ``μn = (κ0 μ0 + n d̄) / κn``, ``αn = α0 + n/2``,
``βn = β0 + ½ Σ (d_j − d̄)² + κ0 n (d̄ − μ0)² / (2 κn)``, and δ's marginal posterior is Student-t
with ``2 αn`` degrees of freedom, location ``μn`` and scale ``√(βn / (αn κn))``.

Default priors (stimwise's choices [U]): μ0 = 0 (sceptical: no difference expected), κ0 = 1 (the
prior counts as one block), α0 = 2 and β0 = 1 (prior mean of σ² = β0/(α0 − 1) = 1 NRS², i.e.
block differences scatter by about 1 point).

Minimal important difference: 1 NRS point by default — IMMPACT calls a 10-20 % decrease
minimally important (Dworkin 2008 [C]); at the typical baseline of 5-7 that is about 1 point
(the rounding to 1 point is stimwise's [U]).

Calibration: when the truth is drawn from the prior, the posterior probabilities are exactly
calibrated; ``tests/test_analysis_nof1.py`` checks it by simulation (HAZ-052).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from stimwise.analysis.series import DailyPain
from stimwise.analysis.stats import t_cdf, t_quantile
from stimwise.protocol.base import StrictModel

DEFAULT_MID_NRS = 1.0
DECISION_PROBABILITY = 0.90
"""A conclusion is stated when its posterior probability reaches this level [U]."""
MIN_PERIOD_COVERAGE = 0.5
"""A period counts when at least half its days have a diary entry (and at least 2) [U]."""
MIN_COMPLETE_PAIRS = 2


class Nof1Prior(StrictModel):
    mean_nrs: float = Field(default=0.0, ge=-10, le=10)
    mean_weight_blocks: float = Field(default=1.0, gt=0, le=100)
    variance_shape: float = Field(default=2.0, gt=0, le=100)
    variance_scale: float = Field(default=1.0, gt=0, le=100)


DEFAULT_PRIOR = Nof1Prior()


class Period(StrictModel):
    pair: int = Field(ge=1)
    treatment: Literal["A", "B"]
    first_day: int = Field(ge=0)
    last_day: int = Field(ge=0)
    first_date: date
    last_date: date


class Nof1Plan(StrictModel):
    """A randomised blocked n-of-1 design; days count from ``start`` (day 0)."""

    treatment_a: str = Field(min_length=1, max_length=120)
    treatment_b: str = Field(min_length=1, max_length=120)
    pairs: int = Field(ge=1, le=20)
    period_days: int = Field(ge=2, le=56)
    washout_days: int = Field(ge=0, le=28)
    seed: int = Field(ge=0)
    start: date
    minimal_important_difference_nrs: float = Field(default=DEFAULT_MID_NRS, gt=0, le=10)
    prior: Nof1Prior = Nof1Prior()
    periods: tuple[Period, ...]

    @model_validator(mode="after")
    def _balanced(self) -> Nof1Plan:
        for pair in range(1, self.pairs + 1):
            kinds = sorted(p.treatment for p in self.periods if p.pair == pair)
            if kinds != ["A", "B"]:
                raise ValueError(f"pair {pair} must hold one A and one B period, has {kinds}")
        return self

    @property
    def total_days(self) -> int:
        return max(p.last_day for p in self.periods) + 1


def plan_nof1(treatment_a: str, treatment_b: str, *, pairs: int = 3, period_days: int = 7,
              washout_days: int = 2, seed: int = 0, start: date,
              minimal_important_difference_nrs: float = DEFAULT_MID_NRS,
              prior: Nof1Prior | None = None) -> Nof1Plan:
    """Randomise the order within each pair and lay out the calendar."""
    rng = np.random.default_rng(seed)
    periods = []
    day = 0
    for pair in range(1, pairs + 1):
        order = ("A", "B") if rng.random() < 0.5 else ("B", "A")
        for treatment in order:
            last = day + period_days - 1
            periods.append(Period(
                pair=pair, treatment=treatment, first_day=day, last_day=last,
                first_date=start + timedelta(days=day), last_date=start + timedelta(days=last),
            ))
            day = last + 1 + washout_days
    from stimwise.protocol.io import validate_model

    return validate_model(Nof1Plan, {
        "treatment_a": treatment_a, "treatment_b": treatment_b, "pairs": pairs,
        "period_days": period_days, "washout_days": washout_days, "seed": seed, "start": start,
        "minimal_important_difference_nrs": minimal_important_difference_nrs,
        "prior": prior or Nof1Prior(), "periods": periods,
    }, source="n-of-1 plan")


@dataclass(frozen=True)
class Posterior:
    """Normal–inverse-gamma posterior of the A-vs-B difference (positive: A better)."""

    blocks: int
    mean_nrs: float
    scale_nrs: float
    degrees_of_freedom: float

    def probability_above(self, threshold: float) -> float:
        return t_cdf((self.mean_nrs - threshold) / self.scale_nrs, self.degrees_of_freedom)

    def interval(self, level: float) -> tuple[float, float]:
        half = t_quantile(0.5 + level / 2, self.degrees_of_freedom) * self.scale_nrs
        return self.mean_nrs - half, self.mean_nrs + half


def posterior(differences: np.ndarray, prior: Nof1Prior = DEFAULT_PRIOR) -> Posterior:
    """The closed-form update of the module docstring."""
    d = np.asarray(differences, dtype=float)
    n = d.size
    mu0, k0 = prior.mean_nrs, prior.mean_weight_blocks
    a0, b0 = prior.variance_shape, prior.variance_scale
    mean = float(d.mean()) if n else 0.0
    kn = k0 + n
    mun = (k0 * mu0 + n * mean) / kn
    an = a0 + n / 2
    bn = b0 + 0.5 * float(((d - mean) ** 2).sum()) + k0 * n * (mean - mu0) ** 2 / (2 * kn)
    return Posterior(n, float(mun), math.sqrt(bn / (an * kn)), 2 * an)


@dataclass(frozen=True)
class BlockResult:
    pair: int
    mean_a_nrs: float | None
    mean_b_nrs: float | None
    days_a: int
    days_b: int
    difference_nrs: float | None
    """B minus A: positive when A left less pain."""


@dataclass(frozen=True)
class Nof1Result:
    treatment_a: str
    treatment_b: str
    blocks: tuple[BlockResult, ...]
    complete_blocks: int
    verdict: str
    enough_data: bool
    posterior_mean_nrs: float | None
    credible_interval_90_nrs: tuple[float, float] | None
    minimal_important_difference_nrs: float
    p_a_better: float | None
    p_a_better_by_mid: float | None
    p_b_better_by_mid: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def block_differences(plan: Nof1Plan, pain: DailyPain) -> tuple[BlockResult, ...]:
    """Mean pain of every period; a period with too few diary days gives no difference."""
    results = []
    for pair in range(1, plan.pairs + 1):
        means, counts = {}, {}
        for period in (p for p in plan.periods if p.pair == pair):
            values = pain.window(period.first_day, period.last_day)
            counts[period.treatment] = int(values.size)
            enough = values.size >= max(2, MIN_PERIOD_COVERAGE * plan.period_days)
            means[period.treatment] = float(values.mean()) if enough else None
        difference = (
            means["B"] - means["A"] if means["A"] is not None and means["B"] is not None else None
        )
        results.append(BlockResult(pair, means["A"], means["B"], counts["A"], counts["B"],
                                   difference))
    return tuple(results)


def analyse_nof1(plan: Nof1Plan, pain: DailyPain) -> Nof1Result:
    """Posterior probability that A beats B (by at least the minimal important difference)."""
    blocks = block_differences(plan, pain)
    differences = np.asarray([b.difference_nrs for b in blocks if b.difference_nrs is not None])
    mid = plan.minimal_important_difference_nrs
    a, b = plan.treatment_a, plan.treatment_b
    if differences.size < MIN_COMPLETE_PAIRS:
        return Nof1Result(
            a, b, blocks, int(differences.size),
            f"not enough data yet: {differences.size} complete pair(s) of periods, "
            f"{MIN_COMPLETE_PAIRS} needed",
            False, None, None, mid, None, None, None,
        )
    post = posterior(differences, plan.prior)
    p_a_mid = post.probability_above(mid)
    p_b_mid = 1 - post.probability_above(-mid)
    if p_a_mid >= DECISION_PROBABILITY:
        verdict = f"{a} beats {b} by at least {mid:g} NRS point(s) (P = {p_a_mid:.2f})"
    elif p_b_mid >= DECISION_PROBABILITY:
        verdict = f"{b} beats {a} by at least {mid:g} NRS point(s) (P = {p_b_mid:.2f})"
    elif post.probability_above(-mid) - post.probability_above(mid) >= DECISION_PROBABILITY:
        verdict = f"no important difference between {a} and {b} (within ±{mid:g} points)"
    else:
        verdict = "undecided: more pairs of periods are needed for a conclusion"
    return Nof1Result(
        a, b, blocks, int(differences.size), verdict, True, post.mean_nrs,
        post.interval(0.90), mid, post.probability_above(0.0), p_a_mid, p_b_mid,
    )
