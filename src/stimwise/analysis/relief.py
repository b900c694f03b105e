"""Within-session relief (NRS before minus after) and how much of it persists in the diary.

A session can relieve pain for its duration only; what matters to the person is whether the
relief shows in the day's diary. The persistence fraction compares the two: the diary's drop from
baseline on session days divided by the mean within-session relief.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from stimwise.analysis.responder import (
    BASELINE_DAYS,
    MIN_REDUCTION_NRS,
    MODERATE_REDUCTION,
)
from stimwise.analysis.series import PatientSeries
from stimwise.analysis.stats import mean_interval

MIN_SESSIONS = 5
"""Fewer answered sessions give no relief summary [U]."""


@dataclass(frozen=True)
class ReliefSummary:
    answered_sessions: int
    mean_relief_nrs: float | None
    relief_interval_nrs: tuple[float, float] | None
    """90 % interval of the mean within-session relief."""
    share_meaningful: float | None
    """Sessions with ≥ 2 points and ≥ 30 % relief (IMMPACT cut-offs applied per session)."""
    diary_session_days_nrs: float | None
    diary_other_days_nrs: float | None
    persistence_fraction: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def relief_summary(series: PatientSeries) -> ReliefSummary:
    sessions = series.sessions
    relief = sessions.relief_nrs
    answered = ~np.isnan(relief)
    count = int(answered.sum())
    if count < MIN_SESSIONS:
        return ReliefSummary(count, None, None, None, None, None, None)
    values = relief[answered]
    pre = sessions.nrs_pre[answered]
    meaningful = (values >= MIN_REDUCTION_NRS) & (values >= MODERATE_REDUCTION * pre)
    pain = series.pain
    therapy = (pain.day >= 0) & (pain.day <= series.as_of_day)
    on_session_day = np.isin(pain.day, sessions.day)
    session_days = pain.nrs[therapy & on_session_day]
    other_days = pain.nrs[therapy & ~on_session_day]
    baseline = pain.window(-BASELINE_DAYS, -1)
    mean_relief = float(values.mean())
    persistence = None
    if baseline.size and session_days.size and mean_relief > 0.5:
        persistence = float((baseline.mean() - session_days.mean()) / mean_relief)
    return ReliefSummary(
        answered_sessions=count,
        mean_relief_nrs=mean_relief,
        relief_interval_nrs=mean_interval(values),
        share_meaningful=float(meaningful.mean()),
        diary_session_days_nrs=float(session_days.mean()) if session_days.size else None,
        diary_other_days_nrs=float(other_days.mean()) if other_days.size else None,
        persistence_fraction=persistence,
    )
