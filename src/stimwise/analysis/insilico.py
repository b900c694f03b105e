"""In-silico tuning trials: a dosing strategy against a virtual person with a known best dose.

Used by ``benchmarks/bench_tuning.py`` and the tuning tests. A strategy suggests a dose for
every session; the virtual person answers with integer NRS before and after; the trial records
the true expected relief of every delivered dose, so the sessions needed to come within 10 % of
the person's best achievable relief are known exactly.

Strategies
----------
``thompson``  the stimwise tuner (:func:`stimwise.analysis.tuning.propose_next_dose`), starting
              from the prescribed dose;
``fixed``     the prescribed dose every session (a fixed protocol);
``grid``      naive grid search: a 3 × 3 grid of the locked ranges in a fixed order, then the
              grid dose with the best mean relief so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Literal

import numpy as np

from stimwise.analysis.cohort import DOSE_SPACE, VirtualPatient
from stimwise.analysis.series import Sessions
from stimwise.analysis.tuning import (
    CandidateSet,
    propose_next_dose,
    recommended_dose,
)
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records.inputs import LockedRanges, ValueSpan

Strategy = Literal["thompson", "fixed", "grid"]
TARGET_SHARE = 0.90
"""Within 10 % of the best achievable relief (issue 6, 'Done when')."""
GRID_LEVELS = 3


def tuning_candidates() -> CandidateSet:
    """Conventional TENS with amplitude and pulse rate unlocked over the cohort's dose space."""
    prescription = Prescription.from_protocol(get_protocol("conventional-tens"))
    ranges = {name: ValueSpan(min=lo, max=hi)
              for name, lo, hi in zip(DOSE_SPACE.names, DOSE_SPACE.low, DOSE_SPACE.high,
                                      strict=True)}
    return CandidateSet(prescription, LockedRanges(**ranges))


@dataclass(frozen=True)
class TuningTrial:
    strategy: str
    delivered_share: np.ndarray
    """True expected relief of each delivered dose as a share of the best achievable."""
    recommended_share: np.ndarray
    """The same for the dose the strategy would recommend after each session."""

    def sessions_to_target(self, which: str = "recommended") -> int | None:
        """First session (1-based) from which the share stays ≥ 90 % to the end; None: never."""
        shares = self.recommended_share if which == "recommended" else self.delivered_share
        below = np.flatnonzero(shares < TARGET_SHARE)
        if below.size == 0:
            return 1
        if below[-1] == shares.size - 1:
            return None
        return int(below[-1]) + 2


def _sessions(doses: list[np.ndarray], pre: list[int], post: list[int]) -> Sessions:
    count = len(doses)
    array = np.asarray(doses).reshape(count, 2) if count else np.zeros((0, 2))
    return Sessions(
        day=np.arange(count), amplitude_ma=array[:, 0], phase_width_us=np.full(count, 100.0),
        frequency_hz=array[:, 1], minutes=np.full(count, 30.0),
        nrs_pre=np.asarray(pre, float), nrs_post=np.asarray(post, float),
    )


def _grid_doses() -> np.ndarray:
    axes = [np.linspace(lo, hi, GRID_LEVELS) for lo, hi in zip(DOSE_SPACE.low, DOSE_SPACE.high,
                                                               strict=True)]
    return np.asarray(list(product(*axes)))


def _grid_best(doses: list[np.ndarray], relief: list[int]) -> np.ndarray:
    keys = [tuple(d) for d in doses]
    means = {k: np.mean([r for kk, r in zip(keys, relief, strict=True) if kk == k])
             for k in set(keys)}
    return np.asarray(max(means, key=means.get))


def run_trial(patient: VirtualPatient, strategy: Strategy, sessions: int,
              rng: np.random.Generator, candidates: CandidateSet | None = None) -> TuningTrial:
    """Simulate ``sessions`` sessions of one strategy for one virtual person."""
    candidates = candidates or tuning_candidates()
    best = patient.best_achievable_relief()
    fixed = np.asarray(DOSE_SPACE.fixed)
    grid = _grid_doses()
    doses: list[np.ndarray] = []
    pre: list[int] = []
    post: list[int] = []
    delivered, recommended = [], []
    for n in range(sessions):
        if strategy == "fixed" or (strategy == "thompson" and n == 0):
            dose = fixed
        elif strategy == "grid":
            dose = grid[n] if n < len(grid) else _grid_best(doses, [a - b for a, b in
                                                                    zip(pre, post, strict=True)])
        else:
            proposal = propose_next_dose(candidates, _sessions(doses, pre, post), rng)
            dose = np.asarray([proposal.dose[name] for name in DOSE_SPACE.names])
        answer = patient.observe_relief(dose, rng)
        doses.append(dose)
        pre.append(answer[0])
        post.append(answer[1])
        delivered.append(float(patient.expected_relief(dose)[0]) / best)
        if strategy == "thompson":
            pick = recommended_dose(candidates, _sessions(doses, pre, post))
            choice = np.asarray([pick.dose[name] for name in DOSE_SPACE.names])
        elif strategy == "grid":
            choice = _grid_best(doses, [a - b for a, b in zip(pre, post, strict=True)])
        else:
            choice = fixed
        recommended.append(float(patient.expected_relief(choice)[0]) / best)
    return TuningTrial(strategy, np.asarray(delivered), np.asarray(recommended))
