"""Weekly adherence against the prescribed home schedule: days, sessions and minutes.

Weeks are counted from the first day of therapy (day 0). The prescription asks for
``sessions_per_week`` sessions of ``session_minutes`` each, at most ``sessions_per_day`` a day,
so it asks for ``ceil(sessions_per_week / sessions_per_day)`` days with a session. A week that
has not ended is reported with the days it has so far (``complete = False``) and is not counted
in the overall share, so a Monday is never called poor adherence. Every count says how many of
its sessions were self-reported.

:func:`period_adherence` measures one prescription's period (from its first day to today or its
end) against what it planned for that time, without extrapolating a weekly rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

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


@dataclass(frozen=True)
class SessionDone:
    """One session for adherence: its day (in the clinic's time zone), its minutes of
    stimulation and whether the person logged it themself."""

    day: date
    minutes: float
    self_reported: bool = False


@dataclass(frozen=True)
class PeriodAdherence:
    """What was done over a prescription's period so far, against what it planned for that
    time (issue 16: a one-day-old prescription was extrapolated to "14.0 sessions per week").

    The plan for ``days`` days is ``sessions_per_week * days / 7`` sessions of
    ``session_minutes``; shares are given only once a whole week has passed (before that, the
    counts stand against the plan without a rate)."""

    first_day: date
    last_day: date
    days: int
    """Days of the period up to and including ``last_day`` (0: it has not begun)."""
    schedule: Schedule
    sessions: int
    self_reported_sessions: int
    minutes: float
    days_with_session: int

    @property
    def planned_sessions(self) -> float:
        return self.schedule.sessions_per_week * self.days / DAYS_PER_WEEK

    @property
    def planned_minutes(self) -> float:
        return self.planned_sessions * self.schedule.session_minutes

    @property
    def whole_weeks(self) -> int:
        return self.days // DAYS_PER_WEEK

    @property
    def sessions_share(self) -> float | None:
        """Sessions done over sessions planned (None before a whole week)."""
        return self.sessions / self.planned_sessions if self.whole_weeks else None

    @property
    def minutes_share(self) -> float | None:
        return self.minutes / self.planned_minutes if self.whole_weeks else None


def period_adherence(first_day: date, last_day: date, schedule: Schedule,
                     sessions: Iterable[SessionDone]) -> PeriodAdherence:
    """Adherence from ``first_day`` to ``last_day`` (both counted) against ``schedule``;
    sessions outside the period are ignored."""
    inside = [s for s in sessions if first_day <= s.day <= last_day]
    return PeriodAdherence(
        first_day=first_day, last_day=last_day,
        days=max((last_day - first_day).days + 1, 0), schedule=schedule,
        sessions=len(inside), self_reported_sessions=sum(s.self_reported for s in inside),
        minutes=sum(s.minutes for s in inside),
        days_with_session=len({s.day for s in inside}),
    )
