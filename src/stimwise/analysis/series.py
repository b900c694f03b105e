"""Typed inputs of the analysis: one person's daily pain, delivered sessions and schedule.

Every analysis function takes these plain arrays rather than database rows, so the same code runs
on records loaded from the database (:mod:`stimwise.analysis.from_records`), on synthetic cohorts
(:mod:`stimwise.analysis.cohort`) and in tests. Days are integers counted from the first day of
therapy (day 0); the baseline lies on negative days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from stimwise.errors import FieldProblem, InputError

NRS_MIN = 0.0
NRS_MAX = 10.0
"""Pain NRS is an 11-point 0-10 scale (Farrar 2001, clinical-facts.md §4 [C])."""


def _floats(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size and np.isinf(array).any():
        raise InputError(FieldProblem(name, "inf", "finite numbers (NaN marks a missing value)"))
    return array


def _days(values, name: str) -> np.ndarray:
    array = np.asarray(values).reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InputError(FieldProblem(name, str(array.dtype), "integer day numbers"))
    return array.astype(np.int64)


def _check_nrs(values: np.ndarray, name: str) -> None:
    present = values[~np.isnan(values)]
    bad = present[(present < NRS_MIN) | (present > NRS_MAX)]
    if bad.size:
        raise InputError(FieldProblem(name, float(bad[0]), "a pain NRS between 0 and 10"))


def _check_same_length(arrays: dict[str, np.ndarray]) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(
            FieldProblem("series", lengths, "arrays of one length (one value per entry)")
        )


@dataclass(frozen=True)
class DailyPain:
    """One average-pain NRS per diary day (several entries a day are averaged first).

    Days without an entry are simply absent: missing days are information the minimum-data
    rules need, never filled in. ``recalled`` marks the days whose value a clinician recorded
    afterwards from the person's recall (a retrospective baseline entry); the verdict weighs
    them more cautiously than days written at the time (:mod:`stimwise.analysis.responder`).
    """

    day: np.ndarray
    nrs: np.ndarray
    recalled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        day, nrs = _days(self.day, "pain.day"), _floats(self.nrs, "pain.nrs")
        recalled = np.asarray(self.recalled, dtype=bool).reshape(-1)
        if not recalled.size:
            recalled = np.zeros(day.size, dtype=bool)
        _check_same_length({"pain.day": day, "pain.nrs": nrs, "pain.recalled": recalled})
        _check_nrs(nrs, "pain.nrs")
        if np.isnan(nrs).any():
            raise InputError(FieldProblem("pain.nrs", "NaN", "a value on every listed day"))
        if day.size > 1 and (np.diff(day) <= 0).any():
            raise InputError(FieldProblem("pain.day", "unordered", "strictly increasing days"))
        object.__setattr__(self, "day", day)
        object.__setattr__(self, "nrs", nrs)
        object.__setattr__(self, "recalled", recalled)

    @classmethod
    def from_entries(cls, days, values) -> DailyPain:
        """Average several diary entries of one day into that day's value."""
        days, values = _days(days, "pain.day"), _floats(values, "pain.nrs")
        _check_same_length({"pain.day": days, "pain.nrs": values})
        keep = ~np.isnan(values)
        unique, inverse = np.unique(days[keep], return_inverse=True)
        sums = np.bincount(inverse, weights=values[keep], minlength=unique.size)
        counts = np.bincount(inverse, minlength=unique.size)
        return cls(day=unique, nrs=sums / np.maximum(counts, 1))

    def _span(self, first_day: int, last_day: int) -> slice:
        lo, hi = np.searchsorted(self.day, [first_day, last_day + 1])
        return slice(int(lo), int(hi))

    def window(self, first_day: int, last_day: int) -> np.ndarray:
        """The NRS values of days ``first_day`` … ``last_day`` (inclusive) that have an entry."""
        return self.nrs[self._span(first_day, last_day)]

    def recalled_in(self, first_day: int, last_day: int) -> int:
        """How many of the days ``first_day`` … ``last_day`` hold a recalled value."""
        return int(np.count_nonzero(self.recalled[self._span(first_day, last_day)]))

    def shifted(self, days: int) -> DailyPain:
        """The same diary counted from another day 0 (e.g. an n-of-1 plan's first day)."""
        return DailyPain(self.day + days, self.nrs, self.recalled)


@dataclass(frozen=True)
class Sessions:
    """Delivered sessions: day, dose actually delivered, and the NRS before and after.

    Dose columns come from the session journal (``SessionRecord``): mean amplitude while
    stimulating, the prescription's leading phase width and pulse rate, minutes stimulated.
    ``NaN`` marks an unanswered NRS prompt.
    """

    day: np.ndarray
    amplitude_ma: np.ndarray
    phase_width_us: np.ndarray
    frequency_hz: np.ndarray
    minutes: np.ndarray
    nrs_pre: np.ndarray
    nrs_post: np.ndarray
    adverse_events: np.ndarray = field(default_factory=lambda: np.zeros(0))
    self_reported: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """True where the person logged the session themself (provenance ``self_reported``): its
    dose is what they read off their own device, not what a device stimwise drove recorded."""

    def __post_init__(self) -> None:
        arrays = {"sessions.day": _days(self.day, "sessions.day")}
        for name in ("amplitude_ma", "phase_width_us", "frequency_hz", "minutes", "nrs_pre",
                     "nrs_post"):
            arrays[f"sessions.{name}"] = _floats(getattr(self, name), f"sessions.{name}")
        events = _floats(self.adverse_events, "sessions.adverse_events")
        arrays["sessions.adverse_events"] = (
            events if events.size else np.zeros(arrays["sessions.day"].size)
        )
        reported = np.asarray(self.self_reported, dtype=bool).reshape(-1)
        arrays["sessions.self_reported"] = (
            reported if reported.size else np.zeros(arrays["sessions.day"].size, dtype=bool)
        )
        _check_same_length(arrays)
        _check_nrs(arrays["sessions.nrs_pre"], "sessions.nrs_pre")
        _check_nrs(arrays["sessions.nrs_post"], "sessions.nrs_post")
        for name in ("amplitude_ma", "phase_width_us", "frequency_hz", "minutes"):
            values = arrays[f"sessions.{name}"]
            if (values[~np.isnan(values)] < 0).any():
                raise InputError(FieldProblem(f"sessions.{name}", "negative", "values ≥ 0"))
        if arrays["sessions.day"].size > 1 and (np.diff(arrays["sessions.day"]) < 0).any():
            raise InputError(FieldProblem("sessions.day", "unordered", "days in time order"))
        for name, values in arrays.items():
            object.__setattr__(self, name.removeprefix("sessions."), values)

    def __len__(self) -> int:
        return int(self.day.size)

    @property
    def self_reported_count(self) -> int:
        return int(np.count_nonzero(self.self_reported))

    @property
    def relief_nrs(self) -> np.ndarray:
        """Within-session relief (pre − post; positive = less pain), NaN where unanswered."""
        return self.nrs_pre - self.nrs_post

    def select(self, mask: np.ndarray) -> Sessions:
        return Sessions(
            day=self.day[mask], amplitude_ma=self.amplitude_ma[mask],
            phase_width_us=self.phase_width_us[mask], frequency_hz=self.frequency_hz[mask],
            minutes=self.minutes[mask], nrs_pre=self.nrs_pre[mask], nrs_post=self.nrs_post[mask],
            adverse_events=self.adverse_events[mask], self_reported=self.self_reported[mask],
        )

    @classmethod
    def empty(cls) -> Sessions:
        nothing = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), nothing, nothing, nothing, nothing, nothing,
                   nothing)


@dataclass(frozen=True)
class IntakePain:
    """An average-pain rating (0-10) answered at the intake before therapy began, on ``day``
    (counted from the therapy start, so 0 or negative). A stand-in baseline when the diary has
    too few baseline days; see :mod:`stimwise.analysis.responder` for how it is weighed."""

    day: int
    nrs: float

    def __post_init__(self) -> None:
        if not NRS_MIN <= self.nrs <= NRS_MAX:
            raise InputError(FieldProblem("intake_pain.nrs", self.nrs,
                                          "a pain NRS between 0 and 10"))
        if self.day > 0:
            raise InputError(FieldProblem("intake_pain.day", self.day,
                                          "a day before therapy began (0 or earlier)"))


@dataclass(frozen=True)
class PatientSeries:
    """Everything the per-person analysis needs about one person.

    ``as_of_day`` is the last day the data cover (the day of the analysis); the verdict never
    looks past it. ``sessions_per_week`` is the prescribed schedule, for adherence.
    ``intake_pain`` holds the intake's pain ratings answered before therapy (a weaker baseline
    used only when the diary's is too short); ``sessions_before_start`` counts the sessions a
    clinician placed before the therapy start (e.g. a fitting trial), which the analysis leaves
    out.
    """

    patient_id: str
    therapy_start: date
    pain: DailyPain
    sessions: Sessions
    as_of_day: int
    sessions_per_week: float | None = None
    intake_pain: tuple[IntakePain, ...] = ()
    sessions_before_start: int = 0

    def __post_init__(self) -> None:
        late = [self.pain.day[-1] if self.pain.day.size else None,
                self.sessions.day[-1] if len(self.sessions) else None]
        for name, last in zip(("pain.day", "sessions.day"), late, strict=True):
            if last is not None and last > self.as_of_day:
                raise InputError(
                    FieldProblem(name, int(last), f"no day after the analysis day {self.as_of_day}")
                )
        if len(self.sessions) and self.sessions.day[0] < 0:
            raise InputError(FieldProblem(
                "sessions.day", int(self.sessions.day[0]),
                "days from the therapy start on (0 or later): sessions before the therapy start "
                "are left out of the analysis"))
