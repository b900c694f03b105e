"""Weekly adherence against the prescribed home schedule: days, sessions and minutes.

Weeks are counted from the first day of therapy (day 0). The prescription asks for
``sessions_per_week`` sessions of ``session_minutes`` each, at most ``sessions_per_day`` a day,
so it asks for ``ceil(sessions_per_week / sessions_per_day)`` days with a session. A week that
has not ended is reported with the days it has so far (``complete = False``) and is not counted
in the overall share, so a Monday is never called poor adherence. Every count says how many of
its sessions were self-reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from stimwise.analysis.series import PatientSeries

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Schedule:
    """What the prescription asks for each week."""

    sessions_per_week: int
    sessions_per_day: int
    session_minutes: float

    @property
    def days_per_week(self) -> int:
        return min(DAYS_PER_WEEK, math.ceil(self.sessions_per_week / self.sessions_per_day))

    @property
    def minutes_per_week(self) -> float:
        return self.sessions_per_week * self.session_minutes


@dataclass(frozen=True)
class WeekAdherence:
    week: int
    first_day: int
    days_covered: int
    complete: bool
    days_with_session: int
    sessions: int
    self_reported_sessions: int
    minutes: float
    days_share: float
    sessions_share: float
    minutes_share: float


@dataclass(frozen=True)
class WeeklyAdherence:
    schedule: Schedule
    weeks: tuple[WeekAdherence, ...]
    complete_weeks: int
    sessions_share: float | None
    """Sessions done over sessions prescribed, complete weeks only (None before a full week)."""
    days_share: float | None
    minutes_share: float | None
    self_reported_sessions: int

    def to_dict(self) -> dict:
        document = asdict(self)
        document["schedule"]["days_per_week"] = self.schedule.days_per_week
        document["schedule"]["minutes_per_week"] = self.schedule.minutes_per_week
        return document


def weekly_adherence(series: PatientSeries, schedule: Schedule) -> WeeklyAdherence:
    """Per-week adherence from day 0 to the analysis day."""
    sessions = series.sessions
    last = series.as_of_day
    weeks = []
    for week in range(max(last // DAYS_PER_WEEK + 1, 0)):
        first = week * DAYS_PER_WEEK
        covered = min(DAYS_PER_WEEK, last - first + 1)
        inside = (sessions.day >= first) & (sessions.day < first + DAYS_PER_WEEK)
        days = int(np.unique(sessions.day[inside]).size)
        count = int(inside.sum())
        minutes = float(np.nansum(sessions.minutes[inside]))
        weeks.append(WeekAdherence(
            week=week, first_day=first, days_covered=covered,
            complete=covered == DAYS_PER_WEEK, days_with_session=days, sessions=count,
            self_reported_sessions=int(sessions.self_reported[inside].sum()), minutes=minutes,
            days_share=days / schedule.days_per_week,
            sessions_share=count / schedule.sessions_per_week,
            minutes_share=minutes / schedule.minutes_per_week,
        ))
    complete = [w for w in weeks if w.complete]

    def share(name: str, prescribed: float) -> float | None:
        if not complete:
            return None
        return sum(getattr(w, name) for w in complete) / (prescribed * len(complete))

    return WeeklyAdherence(
        schedule=schedule, weeks=tuple(weeks), complete_weeks=len(complete),
        sessions_share=share("sessions", schedule.sessions_per_week),
        days_share=share("days_with_session", schedule.days_per_week),
        minutes_share=share("minutes", schedule.minutes_per_week),
        self_reported_sessions=sessions.self_reported_count,
    )
