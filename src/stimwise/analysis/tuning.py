"""Next-dose suggestion: Bayesian optimisation of a person's own within-session relief.

Method
------
A Gaussian process (squared-exponential kernel on dose parameters scaled to [0, 1] within their
locked ranges) models expected relief as a smooth function of dose; its posterior is updated in
closed form from every answered session. The next dose is chosen by Thompson sampling: one draw of
the relief function from the posterior, then the candidate where the draw is highest. Thompson
sampling explores where the posterior is uncertain and exploits where it is confident, without a
tuning constant (Russo et al. 2018, "A Tutorial on Thompson Sampling" — method reference).

Safety (HAZ-050, HAZ-054)
-------------------------
* Candidates lie on a grid inside the prescription's **locked ranges**
  (``records.inputs.LockedRanges``), intersected with the person's **caps** (amplitude, session
  length): nothing outside is ever considered.
* Every candidate the rule would suggest is rebuilt as a :class:`Prescription` and passed through
  :func:`stimwise.safety.verify`; a blocked candidate is struck out and the next best is taken.
  Only a :class:`DoseProposal` backed by a ``VerifiedPlan`` is returned; if every candidate is
  blocked, :class:`NoSafeDoseError` is raised.
* A proposal is a *suggestion*: its plan is released only by :meth:`DoseProposal.accept`, which
  records who accepted it. Nothing here changes a dose on its own.

Model settings (stimwise's choices [U]): length scale 0.3 of each range, prior relief s.d. 2 NRS
points, within-session relief noise s.d. 1 point, 9 grid levels per tuned parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product

import numpy as np
from pydantic import Field

from stimwise.analysis.series import Sessions
from stimwise.errors import FieldProblem, InputError, SafetyBlockError, StimwiseError
from stimwise.protocol.base import StrictModel
from stimwise.protocol.models import PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.records.inputs import LockedRanges
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.safety.report import SafetyReport
from stimwise.safety.verify import verify

log = logging.getLogger(__name__)

TUNABLE = ("amplitude_ma", "frequency_hz", "phase_width_us", "session_duration_min")
SESSION_COLUMN = {
    "amplitude_ma": "amplitude_ma", "frequency_hz": "frequency_hz",
    "phase_width_us": "phase_width_us", "session_duration_min": "minutes",
}


MIN_ANSWERED_SESSIONS = 3
"""Answered sessions (pain before and after) a person needs before a next dose is suggested
to their clinician [U]. With none, the posterior is the prior (every candidate expects 0 ± 2
points) and one Thompson draw picks a dose at random, often the ceiling (issue 17: 8 mA,
"expected relief 0.0 ± 2.0" from 0 sessions). Three answered sessions at the prescribed dose
give the posterior a measured mean and put the suggestion next to what the person has used."""


class NoSafeDoseError(SafetyBlockError):
    """Every candidate dose within the locked ranges and caps was blocked by verify()."""


class NotEnoughDataError(StimwiseError):
    """Too few answered sessions for a suggestion a clinician could act on (HAZ-112)."""

    exit_code = 1


class TunerSettings(StrictModel):
    length_scale: float = Field(default=0.3, gt=0, le=10)
    prior_sd_nrs: float = Field(default=2.0, gt=0, le=10)
    noise_sd_nrs: float = Field(default=1.0, gt=0, le=10)
    levels: int = Field(default=9, ge=2, le=41)


def _effective_bounds(prescription: Prescription, locked: LockedRanges,
                      caps: PatientCaps | None) -> dict[str, tuple[float, float]]:
    tuned = {name: span for name in TUNABLE if (span := getattr(locked, name)) is not None}
    if ({"frequency_hz", "phase_width_us"} & set(tuned)
            and not isinstance(prescription.waveform, PulseTrain)):
        raise InputError(FieldProblem(
            "locked_ranges", sorted(tuned), "frequency/phase width only for pulse trains"))
    bounds = {}
    for name, dose_range in tuned.items():
        low, high = dose_range.min, dose_range.max
        cap = None
        if caps is not None and name == "amplitude_ma":
            cap = caps.max_amplitude_ma
        if caps is not None and name == "session_duration_min":
            cap = caps.max_session_duration_min
        if cap is not None:
            high = min(high, cap)
        if high < low:
            raise NoSafeDoseError(
                f"the locked {name} range {low:g}-{dose_range.max:g} lies above this person's "
                f"cap of {cap:g}: no dose can be suggested"
            )
        bounds[name] = (low, high)
    return bounds


@dataclass
class CandidateSet:
    """The candidate grid of one prescription, ranges and caps, with its verification cache.

    Verification results are kept per candidate, so a blocked candidate is never retried and a
    cohort tuned against the same prescription verifies each dose once.
    """

    prescription: Prescription
    locked: LockedRanges
    caps: PatientCaps | None = None
    settings: TunerSettings = field(default_factory=TunerSettings)
    names: tuple[str, ...] = field(init=False)
    bounds: dict[str, tuple[float, float]] = field(init=False)
    grid: np.ndarray = field(init=False)
    """Doses, one row per candidate, in the units of ``names``."""
    _reports: dict[int, SafetyReport | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.bounds = _effective_bounds(self.prescription, self.locked, self.caps)
        self.names = tuple(self.bounds)
        axes = [np.linspace(lo, hi, self.settings.levels) if hi > lo else np.array([lo])
                for lo, hi in self.bounds.values()]
        self.grid = np.asarray(list(product(*axes)), dtype=float)

    def unit(self, doses: np.ndarray) -> np.ndarray:
        low = np.asarray([lo for lo, _ in self.bounds.values()])
        span = np.asarray([max(hi - lo, 1e-9) for lo, hi in self.bounds.values()])
        return (np.asarray(doses, dtype=float) - low) / span

    def dose(self, index: int) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.names, self.grid[index], strict=True)}

    def report(self, index: int) -> SafetyReport | None:
        """verify() of candidate ``index`` (``None``: it is not even a valid prescription)."""
        if index not in self._reports:
            try:
                rx = self.prescription.with_dose(**self.dose(index), source="proposed dose")
                self._reports[index] = verify(rx, caps=self.caps)
            except StimwiseError:
                self._reports[index] = None
        return self._reports[index]

    def safe_in_order(self, order: np.ndarray) -> Iterator[tuple[int, SafetyReport]]:
        """Candidates in the given order of preference, skipping every blocked one."""
        for index in order:
            report = self.report(int(index))
            if report is not None and report.plan is not None:
                yield int(index), report


class DoseProposal:
    """A suggested next dose: verified, but its plan is released only when a clinician accepts.

    The safety report stays private; the proposal shows the dose, the verdict, the findings and
    the plan's fingerprint, and :meth:`accept` hands out the ``VerifiedPlan``.
    """

    def __init__(self, dose: dict[str, float], report: SafetyReport, expected_relief_nrs: float,
                 relief_sd_nrs: float, sessions_used: int, rationale: str):
        require_verified(report.plan)
        self.dose = dict(dose)
        self._report = report
        self.expected_relief_nrs = expected_relief_nrs
        self.relief_sd_nrs = relief_sd_nrs
        self.sessions_used = sessions_used
        self.rationale = rationale
        self.accepted_by: str | None = None

    @property
    def prescription(self) -> Prescription:
        return self._report.plan.prescription

    @property
    def verdict(self) -> str:
        return self._report.verdict

    @property
    def findings(self) -> tuple:
        return self._report.findings

    @property
    def plan_fingerprint(self) -> str:
        return self._report.plan.fingerprint

    @property
    def status(self) -> str:
        return "suggested" if self.accepted_by is None else "accepted"

    def accept(self, accepted_by: str) -> VerifiedPlan:
        """Release the verified plan, recording who accepted the suggestion."""
        if not accepted_by or not accepted_by.strip():
            raise InputError(FieldProblem("accepted_by", accepted_by, "the accepting clinician"))
        self.accepted_by = accepted_by.strip()
        log.info("dose proposal accepted (verdict %s)", self.verdict)
        return require_verified(self._report.plan)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "requires_acceptance": self.accepted_by is None,
            "dose": self.dose,
            "expected_relief_nrs": round(self.expected_relief_nrs, 3),
            "relief_sd_nrs": round(self.relief_sd_nrs, 3),
            "sessions_used": self.sessions_used,
            "verdict": self.verdict,
            "findings": [f"[{f.rule_id}] {f.message}" for f in self.findings],
            "plan_fingerprint": self.plan_fingerprint,
            "rationale": self.rationale,
        }


@dataclass(frozen=True)
class ReliefPosterior:
    """GP posterior of expected relief at every candidate."""

    mean: np.ndarray
    covariance: np.ndarray
    observations: int


def _kernel(a: np.ndarray, b: np.ndarray, settings: TunerSettings) -> np.ndarray:
    squared = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return settings.prior_sd_nrs**2 * np.exp(-squared / (2 * settings.length_scale**2))


def history_points(candidates: CandidateSet, history: Sessions) -> tuple[np.ndarray, np.ndarray]:
    """Answered sessions as (doses in candidate units, relief); the prescription's value fills a
    dose column the history lacks."""
    relief = history.relief_nrs
    columns = []
    for name in candidates.names:
        values = getattr(history, SESSION_COLUMN[name]).astype(float)
        columns.append(values)
    doses = np.column_stack(columns) if columns else np.zeros((len(history), 0))
    keep = ~np.isnan(relief) & ~np.isnan(doses).any(axis=1)
    return candidates.unit(doses[keep]), relief[keep]


def relief_posterior(candidates: CandidateSet, history: Sessions) -> ReliefPosterior:
    settings = candidates.settings
    x, y = history_points(candidates, history)
    grid = candidates.unit(candidates.grid)
    prior_cov = _kernel(grid, grid, settings)
    if not y.size:
        return ReliefPosterior(np.zeros(len(grid)), prior_cov, 0)
    prior_mean = float(y.mean())
    k_xx = _kernel(x, x, settings) + settings.noise_sd_nrs**2 * np.eye(y.size)
    k_gx = _kernel(grid, x, settings)
    chol = np.linalg.cholesky(k_xx)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y - prior_mean))
    v = np.linalg.solve(chol, k_gx.T)
    return ReliefPosterior(prior_mean + k_gx @ alpha, prior_cov - v.T @ v, int(y.size))


def _draw(posterior: ReliefPosterior, rng: np.random.Generator) -> np.ndarray:
    cov = posterior.covariance
    jitter = 1e-6 * max(float(np.trace(cov)) / len(cov), 1e-12)
    for _ in range(6):
        try:
            chol = np.linalg.cholesky(cov + jitter * np.eye(len(cov)))
            break
        except np.linalg.LinAlgError:
            jitter *= 10
    else:  # numerically degenerate: sample independently with the marginal variances
        chol = np.diag(np.sqrt(np.clip(np.diag(cov), 0, None)))
    return posterior.mean + chol @ rng.standard_normal(len(cov))


def _proposal(candidates: CandidateSet, posterior: ReliefPosterior, order: np.ndarray,
              rationale: str) -> DoseProposal:
    for index, report in candidates.safe_in_order(order):
        return DoseProposal(
            candidates.dose(index), report, float(posterior.mean[index]),
            float(np.sqrt(max(posterior.covariance[index, index], 0.0))),
            posterior.observations, rationale,
        )
    raise NoSafeDoseError(
        "every candidate dose within the locked ranges and caps was blocked by the safety "
        "verification; no dose can be suggested"
    )


def propose_next_dose(candidates: CandidateSet, history: Sessions,
                      rng: np.random.Generator) -> DoseProposal:
    """Thompson sampling: the verified candidate where one posterior draw of relief is highest."""
    posterior = relief_posterior(candidates, history)
    draw = _draw(posterior, rng)
    return _proposal(
        candidates, posterior, np.argsort(-draw),
        f"Thompson sampling over {len(candidates.grid)} verified candidate doses from "
        f"{posterior.observations} answered sessions",
    )


def answered_sessions(history: Sessions) -> int:
    """Sessions with the pain asked both before and after (the tuner's observations)."""
    return int(np.count_nonzero(~np.isnan(history.relief_nrs)))


def suggest_next_dose(candidates: CandidateSet, history: Sessions,
                      rng: np.random.Generator) -> DoseProposal:
    """The next-dose suggestion shown to a clinician: :func:`propose_next_dose`, but only once
    the person has :data:`MIN_ANSWERED_SESSIONS` answered sessions (HAZ-112); in-silico
    studies call :func:`propose_next_dose` directly, where exploring from nothing is the
    point."""
    answered = answered_sessions(history)
    if answered < MIN_ANSWERED_SESSIONS:
        raise NotEnoughDataError(
            f"no suggestion yet: {answered} of the {MIN_ANSWERED_SESSIONS} sessions with pain "
            "rated before and after that a suggestion needs"
        )
    return propose_next_dose(candidates, history, rng)


def recommended_dose(candidates: CandidateSet, history: Sessions) -> DoseProposal:
    """The verified candidate with the highest posterior mean relief (what is best so far)."""
    posterior = relief_posterior(candidates, history)
    return _proposal(
        candidates, posterior, np.argsort(-posterior.mean),
        f"highest expected relief after {posterior.observations} answered sessions",
    )
