"""Synthetic virtual patients with a known truth, to check the analysis against it.

Every virtual person has a true baseline pain, a true maximal pain reduction and a true
dose-response; the simulation then adds what real diaries add: day-to-day autocorrelated noise,
integer NRS answers, missed diary days and missed sessions. Because the noise-free pain is kept
alongside, the IMMPACT class a perfect observer would give is known for every person and every
window (``true_verdict``), and so is the best relief achievable within the locked dose ranges.

Kinds and shares
----------------
``non_responder`` 30 % — about 30 % of patients fail to respond to TENS (as cited by Liebano 2011,
clinical-facts.md §6 [C-s]); ``responder`` 30 %; ``habituating_responder`` 20 % — relief fades
with repeated sessions (tolerance: Chandran & Sluka 2003; Liebano 2010/11 [C]; of initial
responders only ~1/3 still benefit at 2 years [C-s]); ``dose_dependent_responder`` 20 % — relief
depends on amplitude and pulse rate with a person-specific best dose. The split among responders
and every distribution below are stimwise's own choices [U].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np

from stimwise.analysis.responder import (
    BASELINE_DAYS,
    WINDOW_DAYS,
    classify_reduction,
)
from stimwise.analysis.series import DailyPain, PatientSeries, Sessions

__all__ = [
    "DOSE_SPACE",
    "DOSE_WIDTH",
    "HABITUATION_FLOOR",
    "KIND_SHARES",
    "SYNTHETIC_PREFIX",
    "THERAPY_START",
    "CohortSettings",
    "DoseSpace",
    "Kind",
    "SimulatedPatient",
    "VirtualPatient",
    "draw_patient",
    "simulate_cohort",
    "simulate_patient",
]

Kind = Literal[
    "non_responder", "responder", "habituating_responder", "dose_dependent_responder"
]
KIND_SHARES: dict[str, float] = {
    "non_responder": 0.30,  # ~30 % fail to respond (Liebano 2011 as cited, [C-s])
    "responder": 0.30,  # [U]
    "habituating_responder": 0.20,  # [U]
    "dose_dependent_responder": 0.20,  # [U]
}

SYNTHETIC_PREFIX = "SIM"
"""Every virtual person's pseudonym starts with this, so synthetic records are recognisable."""
THERAPY_START = date(2026, 1, 5)
"""Day 0 of every virtual person (a fixed date keeps cohorts reproducible)."""


@dataclass(frozen=True)
class DoseSpace:
    """The tunable dose parameters and their locked ranges (conventional TENS).

    Pulse rate 80-150 Hz: the evidence range of conventional TENS (Systematic Reviews 2017
    protocol, clinical-facts.md §1.1 [C]). Amplitude 10-30 mA: within the 10-35.5 mA range of the
    library protocol ([C-s]/[C]), capped at its 30 mA prescription [U].
    """

    names: tuple[str, ...] = ("amplitude_ma", "frequency_hz")
    low: tuple[float, ...] = (10.0, 80.0)
    high: tuple[float, ...] = (30.0, 150.0)
    fixed: tuple[float, ...] = (20.0, 100.0)
    """The fixed-protocol dose: 100 Hz as in the library protocol; 20 mA as a typical
    'strong but comfortable' level [U]."""

    def normalise(self, dose: np.ndarray) -> np.ndarray:
        low, high = np.asarray(self.low), np.asarray(self.high)
        return (np.asarray(dose, dtype=float) - low) / (high - low)


DOSE_SPACE = DoseSpace()
DOSE_WIDTH = 0.35
"""Width (normalised units) of a dose-dependent responder's Gaussian tuning curve [U]."""
HABITUATION_FLOOR = 0.15
"""Share of relief left after complete habituation [U]."""


@dataclass(frozen=True)
class CohortSettings:
    """Distributions of the virtual population; every value is a stimwise choice [U]."""

    therapy_days: int = 112
    baseline_nrs: tuple[float, float] = (4.5, 8.0)
    responder_reduction: tuple[float, float] = (0.45, 0.8)
    """True reduction of daily diary pain at the best dose on session days."""
    non_responder_reduction: tuple[float, float] = (0.0, 0.12)
    habituation_sessions: tuple[float, float] = (15.0, 45.0)
    """Time constant of fading relief, in sessions (tolerance in days to weeks, §6)."""
    diary_noise_sd: tuple[float, float] = (0.6, 1.2)
    diary_autocorrelation: float = 0.5
    session_noise_sd: float = 0.7
    missing_day_probability: tuple[float, float] = (0.0, 0.35)
    sparse_diarist_share: float = 0.08
    sparse_missing_probability: float = 0.8
    adherence: tuple[float, float] = (0.65, 1.0)
    persistence: tuple[float, float] = (0.6, 1.0)
    """Share of within-session relief that persists in that day's diary: the acute relief is
    the diary effect divided by it."""
    carry_over: float = 0.6
    """Share of the relief that persists on a day without a session."""
    kind_shares: dict[str, float] = field(default_factory=lambda: dict(KIND_SHARES))


@dataclass(frozen=True)
class VirtualPatient:
    """The truth about one virtual person."""

    patient_id: str
    kind: Kind
    baseline_nrs: float
    max_reduction: float
    best_dose_unit: tuple[float, ...] | None
    habituation_sessions: float | None
    diary_noise_sd: float
    missing_day_probability: float
    adherence: float
    persistence: float

    @property
    def max_relief_nrs(self) -> float:
        """Within-session relief at the best dose before any habituation."""
        return min(self.baseline_nrs, self.baseline_nrs * self.max_reduction / self.persistence)

    def dose_factor(self, dose: np.ndarray, space: DoseSpace = DOSE_SPACE) -> np.ndarray:
        """Share of the maximal relief reached at ``dose`` (rows of dose vectors)."""
        dose = np.atleast_2d(np.asarray(dose, dtype=float))
        if self.best_dose_unit is None:
            return np.ones(dose.shape[0])
        distance = space.normalise(dose) - np.asarray(self.best_dose_unit)
        return np.exp(-(distance**2).sum(axis=1) / (2 * DOSE_WIDTH**2))

    def habituation(self, session_number: np.ndarray) -> np.ndarray:
        n = np.asarray(session_number, dtype=float)
        if self.habituation_sessions is None:
            return np.ones_like(n)
        fade = np.exp(-n / self.habituation_sessions)
        return HABITUATION_FLOOR + (1 - HABITUATION_FLOOR) * fade

    def expected_relief(self, dose: np.ndarray, session_number: int = 0) -> np.ndarray:
        """Expected within-session relief (NRS points) at ``dose``."""
        return (
            self.max_relief_nrs * self.dose_factor(dose) * self.habituation(session_number)
        )

    def best_achievable_relief(self) -> float:
        """The highest expected relief within the locked ranges (the best dose is inside them)."""
        return self.max_relief_nrs

    def observe_relief(self, dose: np.ndarray, rng: np.random.Generator,
                       session_number: int = 0, noise_sd: float = 0.7) -> tuple[int, int]:
        """One session's (pre, post) integer NRS answers at ``dose``."""
        pre_true = self.baseline_nrs + rng.normal(0, self.diary_noise_sd)
        post_true = pre_true - float(self.expected_relief(dose, session_number)[0])
        pre = _nrs(pre_true + rng.normal(0, noise_sd))
        post = _nrs(post_true + rng.normal(0, noise_sd))
        return int(pre), int(post)


def _autoregressive(innovations: np.ndarray, rho: float) -> np.ndarray:
    """AR(1) series x[t] = rho · x[t-1] + e[t], started in its stationary state."""
    out = np.empty_like(innovations)
    previous = innovations[0] / np.sqrt(1 - rho**2)
    out[0] = previous
    for t in range(1, innovations.size):
        previous = rho * previous + innovations[t]
        out[t] = previous
    return out


def _nrs(values):
    return np.clip(np.rint(values), 0, 10)


@dataclass(frozen=True)
class SimulatedPatient:
    """A virtual person's truth, the data an observer sees, and the noise-free daily pain."""

    truth: VirtualPatient
    series: PatientSeries
    true_daily_nrs: np.ndarray
    """Noise-free mean pain of every day from ``-BASELINE_DAYS`` to ``as_of_day``."""

    def true_verdict(self) -> str:
        """The IMMPACT class a perfect observer gives on the same windows as the analysis."""
        days = np.arange(-BASELINE_DAYS, self.series.as_of_day + 1)
        baseline = self.true_daily_nrs[days < 0].mean()
        current = self.true_daily_nrs[days > self.series.as_of_day - WINDOW_DAYS].mean()
        return classify_reduction(float(baseline), float(current))


def draw_patient(patient_id: str, rng: np.random.Generator,
                 settings: CohortSettings = CohortSettings(),
                 kind: Kind | None = None) -> VirtualPatient:
    """Draw one virtual person's truth."""
    kinds = list(settings.kind_shares)
    if kind is None:
        shares = np.asarray([settings.kind_shares[k] for k in kinds])
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
    responds = kind != "non_responder"
    reduction = rng.uniform(
        *(settings.responder_reduction if responds else settings.non_responder_reduction)
    )
    sparse = rng.random() < settings.sparse_diarist_share
    return VirtualPatient(
        patient_id=patient_id,
        kind=kind,
        baseline_nrs=float(rng.uniform(*settings.baseline_nrs)),
        max_reduction=float(reduction),
        best_dose_unit=(
            tuple(float(u) for u in rng.uniform(0.05, 0.95, size=len(DOSE_SPACE.names)))
            if kind == "dose_dependent_responder" else None
        ),
        habituation_sessions=(
            float(rng.uniform(*settings.habituation_sessions))
            if kind == "habituating_responder" else None
        ),
        diary_noise_sd=float(rng.uniform(*settings.diary_noise_sd)),
        missing_day_probability=(
            settings.sparse_missing_probability if sparse
            else float(rng.uniform(*settings.missing_day_probability))
        ),
        adherence=float(rng.uniform(*settings.adherence)),
        persistence=float(rng.uniform(*settings.persistence)),
    )


def simulate_patient(truth: VirtualPatient, rng: np.random.Generator,
                     settings: CohortSettings = CohortSettings(),
                     dose: tuple[float, ...] | None = None) -> SimulatedPatient:
    """Simulate the baseline fortnight and ``settings.therapy_days`` of daily use at one dose."""
    days = np.arange(-BASELINE_DAYS, settings.therapy_days)
    therapy = days >= 0
    fixed = np.asarray(dose if dose is not None else DOSE_SPACE.fixed, dtype=float)
    n_therapy = int(therapy.sum())
    has_session = rng.random(n_therapy) < truth.adherence
    has_session[0] = True  # therapy starts with its first session
    amplitude = np.clip(fixed[0] + rng.normal(0, 1.0, n_therapy), *(DOSE_SPACE.low[0],
                                                                    DOSE_SPACE.high[0]))
    doses = np.column_stack([amplitude, np.full(n_therapy, fixed[1])])
    session_number = np.cumsum(has_session) - has_session
    relief = truth.max_relief_nrs * truth.dose_factor(doses) * truth.habituation(session_number)
    # Relief persists on session days and partly carries over to days without a session.
    last_relief = np.maximum.accumulate(np.where(has_session, np.arange(n_therapy), -1))
    carried = np.where(last_relief >= 0, relief[np.maximum(last_relief, 0)], 0.0)
    effect = np.where(has_session, relief, settings.carry_over * carried) * truth.persistence
    true_daily = np.full(days.size, truth.baseline_nrs)
    true_daily[therapy] -= effect
    rho = settings.diary_autocorrelation
    innovations = rng.normal(0, truth.diary_noise_sd * np.sqrt(1 - rho**2), days.size)
    noise = _autoregressive(innovations, rho)
    observed = _nrs(true_daily + noise)
    kept = rng.random(days.size) >= truth.missing_day_probability
    session_noise = rng.normal(0, settings.session_noise_sd, (2, n_therapy))
    pre = _nrs(truth.baseline_nrs + noise[therapy] + session_noise[0])
    post = _nrs(truth.baseline_nrs + noise[therapy] - relief + session_noise[1])
    on = has_session
    sessions = Sessions(
        day=days[therapy][on],
        amplitude_ma=doses[on, 0],
        phase_width_us=np.full(int(on.sum()), 100.0),
        frequency_hz=doses[on, 1],
        minutes=np.full(int(on.sum()), 30.0),
        nrs_pre=pre[on],
        nrs_post=post[on],
        adverse_events=(rng.random(int(on.sum())) < 0.01).astype(float),  # 1 % skin irritation [U]
    )
    series = PatientSeries(
        patient_id=truth.patient_id,
        therapy_start=THERAPY_START,
        pain=DailyPain(day=days[kept], nrs=observed[kept]),
        sessions=sessions,
        as_of_day=int(days[-1]),
        sessions_per_week=7.0,
    )
    return SimulatedPatient(truth=truth, series=series, true_daily_nrs=true_daily)


def simulate_cohort(n: int, seed: int, settings: CohortSettings = CohortSettings()
                    ) -> list[SimulatedPatient]:
    """``n`` virtual people, reproducible from ``seed`` (each person has its own stream).

    Examples
    --------
    >>> from stimwise.analysis import simulate_cohort
    >>> cohort = simulate_cohort(3, seed=7)
    >>> [person.series.patient_id for person in cohort]
    ['SIM7-00000', 'SIM7-00001', 'SIM7-00002']
    >>> cohort[0].series.as_of_day  # days of therapy so far
    111
    """
    streams = np.random.SeedSequence(seed).spawn(n)
    cohort = []
    for index, stream in enumerate(streams):
        rng = np.random.default_rng(stream)
        truth = draw_patient(f"{SYNTHETIC_PREFIX}{seed}-{index:05d}", rng, settings)
        cohort.append(simulate_patient(truth, rng, settings))
    return cohort
