"""Population summaries for a clinic or study: responder rates, adherence, adverse events.

Intervals: responder rates carry both the Wilson score interval (good coverage at small n) and
the exact Clopper–Pearson interval (never below nominal coverage); adverse-event rates per 100
sessions carry the exact Poisson (Garwood) interval. All at 95 % by default.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special

from stimwise.analysis.responder import is_responder

LEVEL = 0.95


def wilson_interval(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    if trials == 0:
        return 0.0, 1.0
    z = float(special.ndtri(0.5 + level / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def clopper_pearson_interval(successes: int, trials: int,
                             level: float = LEVEL) -> tuple[float, float]:
    if trials == 0:
        return 0.0, 1.0
    alpha = 1 - level
    low = 0.0 if successes == 0 else special.betaincinv(
        successes, trials - successes + 1, alpha / 2)
    high = 1.0 if successes == trials else special.betaincinv(
        successes + 1, trials - successes, 1 - alpha / 2)
    return float(low), float(high)


def poisson_rate_interval(events: int, exposure: float,
                          level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval of a rate ``events / exposure``."""
    if exposure <= 0:
        return 0.0, float("inf")
    alpha = 1 - level
    # chi-squared quantiles with 2k degrees of freedom, halved = gamma(k) quantiles
    low = 0.0 if events == 0 else special.gammaincinv(events, alpha / 2)
    high = special.gammaincinv(events + 1, 1 - alpha / 2)
    return float(low / exposure), float(high / exposure)


@dataclass(frozen=True)
class Proportion:
    count: int
    total: int
    rate: float | None
    wilson_95: tuple[float, float]
    clopper_pearson_95: tuple[float, float]

    @classmethod
    def of(cls, count: int, total: int) -> Proportion:
        return cls(count, total, count / total if total else None,
                   wilson_interval(count, total), clopper_pearson_interval(count, total))


@dataclass(frozen=True)
class PopulationSummary:
    patients: int
    categories: dict[str, int]
    assessable: int
    responders: Proportion
    """Moderate or substantial responders among the assessable (enough data)."""
    substantial_responders: Proportion
    faded: int
    sessions: int
    adherence_median: float | None
    adherence_quartiles: tuple[float, float] | None
    adverse_events: int
    adverse_events_per_100_sessions: float | None
    adverse_events_per_100_sessions_95: tuple[float, float] | None

    def to_dict(self) -> dict:
        return asdict(self)


def summarise(categories: Sequence[str], adherence_shares: Sequence[float],
              sessions: int, adverse_events: int) -> PopulationSummary:
    """Summary from per-person verdict categories, per-person adherence (share of prescribed
    sessions delivered; NaN where no schedule is known) and cohort totals."""
    counts = Counter(categories)
    assessable = sum(n for c, n in counts.items() if c != "not_enough_data")
    responders = sum(n for c, n in counts.items() if is_responder(c))
    shares = np.asarray(adherence_shares, dtype=float)
    shares = shares[~np.isnan(shares)]
    quartiles = (
        (float(np.percentile(shares, 25)), float(np.percentile(shares, 75)))
        if shares.size else None
    )
    return PopulationSummary(
        patients=len(categories),
        categories=dict(sorted(counts.items())),
        assessable=assessable,
        responders=Proportion.of(responders, assessable),
        substantial_responders=Proportion.of(counts.get("substantial", 0), assessable),
        faded=counts.get("faded", 0),
        sessions=int(sessions),
        adherence_median=float(np.median(shares)) if shares.size else None,
        adherence_quartiles=quartiles,
        adverse_events=int(adverse_events),
        adverse_events_per_100_sessions=100 * adverse_events / sessions if sessions else None,
        adverse_events_per_100_sessions_95=(
            tuple(100 * v for v in poisson_rate_interval(adverse_events, sessions))
            if sessions else None
        ),
    )
