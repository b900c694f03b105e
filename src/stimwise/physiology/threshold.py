"""Batched threshold search: every candidate amplitude of every problem advances together.

Each problem (a fibre, its unit-current potentials and the shared stimulus) is searched from
below: a geometric scan (ratio 1.5) starting at an a-priori estimate that lies near or below the
threshold (0.4-1.3x of it on the validation grid; downwards only while the lowest candidate still
excites), until one amplitude excites the detection node and one below it does not; then the
bracket (highest non-exciting, lowest exciting) is narrowed, with ``candidates_per_round``
candidates per fibre and round, until ``(upper - lower) / upper < rel_tol``. The reported
threshold is the upper (exciting) bound, as PyFibers reports it. Starting near threshold keeps
the search far below the virtual-anode block threshold (20x and more), the pitfall that makes a
top-down bound search return values 30x too high (``docs/physiology.md``). Initiation away from
the centre, excitation at a fibre end and a non-monotonic response are reported as warnings in
the result, never silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.fibers import Fiber
from stimwise.physiology.solver import SimulationError, simulate
from stimwise.physiology.stimulus import Stimulus

__all__ = [
    "MAX_AMPLITUDE_MA",
    "MAX_ROUNDS",
    "SCAN_RATIO",
    "ThresholdResult",
    "estimate_threshold_ma",
    "find_thresholds",
]

log = logging.getLogger(__name__)

SCAN_RATIO = 1.5  # geometric step of the upward scan [U] stimwise's choice (see module docstring)
MAX_AMPLITUDE_MA = 1000.0  # give up above 1 A: no excitation is reported as NaN with a warning
MAX_ROUNDS = 60


@dataclass
class ThresholdResult:
    """Thresholds (positive magnitudes, mA) with their final bracket and what was seen there.

    Examples
    --------
    See :func:`find_thresholds`; :func:`stimwise.fiber_threshold` returns one fibre's result as a
    :class:`~stimwise.physiology.single_fiber.FiberThreshold`.

    >>> from stimwise.physiology import Stimulus, find_thresholds, fiber_under_point_source
    >>> fiber, ve = fiber_under_point_source("mrg", 10.0, 1.0)
    >>> result = find_thresholds([fiber], [ve], Stimulus.pulse("monophasic", 0.1))
    >>> result.threshold_ma.shape, int(result.n_simulations[0]) > 0
    ((1,), True)
    """

    threshold_ma: np.ndarray
    lower_ma: np.ndarray
    upper_ma: np.ndarray
    initiation_node: np.ndarray
    latency_ms: np.ndarray
    ap_time_ms: np.ndarray
    n_simulations: np.ndarray
    section_steps: int
    warnings: list[list[str]] = field(default_factory=list)


@dataclass
class _Search:
    index: int
    guess: float
    lower: float = 0.0
    upper: float = math.inf
    upper_node: int = -1
    upper_time: float = math.nan
    n_sim: int = 0
    notes: list[str] = field(default_factory=list)
    started_not_detected: list[tuple[float, int]] = field(default_factory=list)
    done: bool = False
    failed: bool = False

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def candidates(self, k: int) -> list[float]:
        if self.upper == math.inf:
            start = self.lower * SCAN_RATIO if self.lower > 0 else self.guess / SCAN_RATIO ** (
                k // 2)
            return [min(start * SCAN_RATIO**j, MAX_AMPLITUDE_MA) for j in range(k)]
        if self.lower == 0.0:
            return [self.upper / SCAN_RATIO ** (j + 1) for j in range(k)]
        ratio = self.upper / self.lower
        return [self.lower * ratio ** (j / (k + 1)) for j in range(1, k + 1)]

    def record(self, amps: list[float], fired: np.ndarray, nodes: np.ndarray,
               times: np.ndarray, rel_tol: float, diverged: np.ndarray | None = None) -> None:
        self.n_sim += len(amps)
        broken = [a for j, a in enumerate(amps) if diverged is not None and diverged[j]]
        if broken and min(broken) < self.upper:
            self.failed = True
            self.done = True
            self.note(f"the integration diverged at {min(broken):.4g} mA (numerical failure at "
                      "extreme polarisation): no threshold is reported")
            return
        order = np.argsort(amps)
        seen_sub_above_supra = False
        for j in order:
            a = amps[j]
            if fired[j]:
                if a < self.upper:
                    self.upper, self.upper_node, self.upper_time = a, int(nodes[j]), times[j]
            else:
                if nodes[j] >= 0:
                    self.started_not_detected.append((a, int(nodes[j])))
                if a <= self.lower:
                    continue
                if a > self.upper:
                    seen_sub_above_supra = True
                else:
                    self.lower = a
        if self.lower >= self.upper:  # a lower amplitude fired after a higher one did not
            self.lower = max((a for j, a in enumerate(amps) if not fired[j] and a < self.upper),
                             default=0.0)
            seen_sub_above_supra = True
        if seen_sub_above_supra:
            self.note("non-monotonic response: an amplitude above an exciting one did not "
                      "excite (block or anodal effects); the lowest exciting one is kept")
        if self.upper < math.inf and (self.upper - self.lower) / self.upper < rel_tol:
            self.done = True
        elif self.upper == math.inf and max(amps) >= MAX_AMPLITUDE_MA:
            self.done = True
            self.note(f"no excitation up to {MAX_AMPLITUDE_MA:g} mA")


def estimate_threshold_ma(fiber: Fiber, ve_mv_per_ma: np.ndarray, stim: Stimulus) -> float:
    """A-priori threshold estimate from the peak second difference of Ve at the nodes.

    Only the scan's starting point: a wrong estimate costs extra scan rounds, never accuracy.
    """
    # MRG: the nodes; C fibre: points ~100 um apart (of the order of its length constant)
    stride = 1 if fiber.model == "mrg" else 12
    ve_nodes = np.asarray(ve_mv_per_ma)[fiber.node_sections[::stride]]
    second = ve_nodes[:-2] - 2 * ve_nodes[1:-1] + ve_nodes[2:]
    peak = float(np.abs(second).max()) if second.size else 0.0
    if not math.isfinite(peak) or peak <= 0:
        peak = float(np.abs(ve_nodes).max()) or 1.0
    charge_ms = float(np.abs(stim.samples).sum() * stim.dt_ms) / 2 if stim.samples.any() else 1.0
    chronaxie_ms = 0.1 if fiber.model == "mrg" else 1.0
    depolarisation_mv = 5.0 if fiber.model == "mrg" else 10.0
    return depolarisation_mv / peak * (1.0 + chronaxie_ms / max(charge_ms, 1e-3))


def find_thresholds(
    fibers: list[Fiber],
    ve_list: list[np.ndarray],
    stim: Stimulus,
    rel_tol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
    guesses_ma: list[float] | None = None,
    candidates_per_round: int = 1,
) -> ThresholdResult:
    """Threshold magnitude (mA) of every fibre ``i`` under ``ve_list[i]`` (mV per +1 mA).

    All fibres' candidates advance together in one batch per round. ``candidates_per_round``
    (per fibre) trades rounds for simulations: more candidates narrow the bracket faster per
    round (lower latency where simulations run in parallel) but cost more simulations in all;
    on one core one candidate (bisection) is cheapest, measured: 11-14 simulations per
    threshold against 20-24 with four. Because the candidates of a fibre never depend on the
    other fibres of the call, a threshold is identical whatever it is batched with.

    ``progress(resolved, total)`` is called after each round. NaN marks a fibre not excited up to
    1 A, or whose integration diverged below its first exciting amplitude (with a warning).

    Examples
    --------
    Two fibres in one batch, 1 and 2 mm from the source: the farther one needs more current.

    >>> from stimwise.physiology import Stimulus, find_thresholds, fiber_under_point_source
    >>> near = fiber_under_point_source("mrg", 10.0, 1.0)
    >>> far = fiber_under_point_source("mrg", 10.0, 2.0)
    >>> result = find_thresholds([near[0], far[0]], [near[1], far[1]],
    ...                          Stimulus.pulse("monophasic", 0.1))
    >>> [round(float(t), 3) for t in result.threshold_ma]
    [0.122, ...]
    >>> bool(result.threshold_ma[1] > result.threshold_ma[0])
    True
    """
    if len(fibers) != len(ve_list) or not fibers:
        raise InputError(FieldProblem("ve_list", len(ve_list),
                                      f"one potential array per fibre ({len(fibers)})"))
    if not (isinstance(candidates_per_round, int) and 1 <= candidates_per_round <= 16):
        raise InputError(FieldProblem("candidates_per_round", candidates_per_round,
                                      "an integer from 1 to 16"))
    if not (1e-6 <= rel_tol <= 0.5):
        raise InputError(FieldProblem("rel_tol", rel_tol, "a relative tolerance in [1e-6, 0.5]"))
    for i, (fiber, ve) in enumerate(zip(fibers, ve_list, strict=True)):
        ve = np.asarray(ve)
        if ve.shape != (fiber.n_sections,) or not np.isfinite(ve).all():
            raise InputError(FieldProblem(f"ve_list[{i}]", ve.shape,
                                          f"{fiber.n_sections} finite potentials (mV per mA)"))
    guesses = guesses_ma or [estimate_threshold_ma(f, v, stim) for f, v in zip(fibers, ve_list,
                                                                                strict=True)]
    searches = [_Search(i, min(g, MAX_AMPLITUDE_MA / SCAN_RATIO)) for i, g in enumerate(guesses)]
    section_steps = 0
    for _ in range(MAX_ROUNDS):
        open_ = [s for s in searches if not s.done]
        if not open_:
            break
        k = candidates_per_round
        amps = [s.candidates(k) for s in open_]
        member_fiber = np.repeat([s.index for s in open_], k)
        result = simulate(fibers, ve_list, member_fiber, np.concatenate(amps), stim.samples,
                          stim.dt_ms)
        section_steps += result.section_steps
        for j, s in enumerate(open_):
            sl = slice(j * k, (j + 1) * k)
            s.record(amps[j], result.fired[sl], result.initiation_node[sl],
                     result.ap_time_ms[sl], rel_tol, result.diverged[sl])
        if progress is not None:
            progress(sum(s.done for s in searches), len(searches))
    else:
        unresolved = [s.index for s in searches if not s.done]
        if unresolved:
            raise SimulationError(f"threshold search did not converge for fibres {unresolved}")
    for s in searches:
        _site_warnings(fibers[s.index], s)
    onset = stim.onset_ms
    upper = np.array([s.upper if s.upper < math.inf and not s.failed else np.nan
                      for s in searches])
    times = np.array([s.upper_time for s in searches])
    return ThresholdResult(
        threshold_ma=upper,
        lower_ma=np.array([s.lower for s in searches]),
        upper_ma=upper,
        initiation_node=np.array([s.upper_node for s in searches]),
        latency_ms=times - onset,
        ap_time_ms=times,
        n_simulations=np.array([s.n_sim for s in searches]),
        section_steps=section_steps,
        warnings=[s.notes for s in searches],
    )


def _site_warnings(fiber: Fiber, search: _Search) -> None:
    # within a scan step of threshold a partial response crossing -30 mV is ordinary
    failed = [(a, n) for a, n in search.started_not_detected
              if a < search.upper / SCAN_RATIO]
    if failed:
        a, n = max(failed)
        search.note(f"an action potential started at node {n} at {a:.4g} mA, below the "
                    "threshold, but did not reach the detection node (stopped by a later "
                    "anodic phase, block or conduction failure): the detection criterion, not "
                    "initiation, sets this threshold")
    node = search.upper_node
    if node < 0:
        return
    if node <= 1 or node >= fiber.n_nodes - 2:
        search.note(f"end excitation: the action potential started at node {node} "
                            f"next to a fibre end; the threshold reflects the fibre's truncation")
    centre = fiber.n_nodes // 2
    if abs(node - centre) > 2:
        search.note(f"off-centre initiation at node {node} ({node - centre:+d} from the "
                            "centre node)")
