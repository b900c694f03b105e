"""Reference thresholds from NEURON/PyFibers for ``validate_neuron.py`` (optional extra only).

PyFibers (GPL, non-commercial) and NEURON are imported lazily inside the functions that run in
worker processes, so importing this module needs neither; stimwise itself never imports it.

The set-up follows ``shared/reference/fibre-model-validation.md`` §4 and §9: MRG_INTERPOLATION or
SUNDT fibres with one passive end node each side at 37 °C, a point source in an infinite
homogeneous medium above the middle node, backward Euler at dt = 1 µs, waveform sampled at step
starts with edges half a step off the grid, activation = an upward −30 mV crossing at node
⌊0.9·(n−1)⌋, 0.1 % bracket, arithmetic bisection, bottom bound 0.01 mA and a top bound ≈ 2.5× an
a-priori estimate (pitfall A: a top bound above the virtual-anode block threshold silently returns
a value many times too high).
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DT_MS = 0.001
PULSE_START_MS = 0.1
SIGMA_S_PER_M = 0.2
TOLERANCE_PERCENT = 0.1
TOP_BOUND_FACTOR = 2.5
BOTTOM_BOUND_MA = 0.01
BOUNDS_STEP_PERCENT = 10.0

# Per fibre family: PyFibers model name, requested length (µm), tstop and early-exit shift (ms),
# first rung of the coarse estimation ladder (mA) and how far (in nodes) initiation may sit from
# the node under the source and still count as central. Values from the reference doc §4, §6.
FAMILY = {
    "mrg": {
        "model": "MRG_INTERPOLATION",
        "length_um": 40_000.0,
        "tstop_ms": 10.0,
        "exit_shift_ms": 5.0,
        "ladder_start_ma": 0.01,
        "central_nodes": 1,
    },
    "c": {
        "model": "SUNDT",
        "length_um": 6_000.0,
        "tstop_ms": 35.0,
        "exit_shift_ms": 20.0,
        "ladder_start_ma": 0.1,
        "central_nodes": 6,
    },
}

COARSE_DT_MS = 0.005
LADDER_FACTOR = 2.0
LADDER_MAX_MA = 50.0

MISSING_EXTRA_MESSAGE = (
    "NEURON/PyFibers are not usable here ({why}): install the optional extra with "
    '`pip install -e ".[validation]"`, then compile its mechanisms once with `pyfibers_compile` '
    "(nrnivmodl must be on PATH, e.g. `PATH=$PWD/.venv/bin:$PATH .venv/bin/pyfibers_compile`)."
)


def missing_extra_reason() -> str | None:
    """Say why the validation extra cannot run, or ``None`` when it can.

    Checked without importing NEURON (which prints display warnings and loads shared
    libraries): both packages must be installed and PyFibers' MOD files compiled.
    """
    for name in ("neuron", "pyfibers"):
        if importlib.util.find_spec(name) is None:
            return f"package {name!r} is not installed"
    spec = importlib.util.find_spec("pyfibers")
    mod_dir = Path(next(iter(spec.submodule_search_locations))) / "MOD"
    if not any(mod_dir.glob("*/libnrnmech.so")) and not any(mod_dir.glob("*/.libs/libnrnmech.so")):
        return "PyFibers' NEURON mechanisms are not compiled"
    return None


def unit_waveform(
    waveform: str, pulse_width_ms: float, dt_ms: float = DT_MS, start_ms: float = PULSE_START_MS
) -> Callable[[float], float]:
    """Unit waveform as a function of time, positive in the first phase.

    Edges sit half a step before the nominal times so that sampling at ``k·dt`` gives exactly
    ``round(pw/dt)`` non-zero samples per phase with no rounding ambiguity. Multiplied by a
    negative amplitude the first phase is cathodic; ``"biphasic"`` adds an equal, opposite phase
    straight after (no gap).
    """
    if waveform not in ("monophasic", "biphasic"):
        raise ValueError(f"waveform must be 'monophasic' or 'biphasic', got {waveform!r}")
    on = start_ms - dt_ms / 2
    mid = on + pulse_width_ms
    end = mid + pulse_width_ms if waveform == "biphasic" else mid

    def value(t_ms: float) -> float:
        if on <= t_ms < mid:
            return 1.0
        if mid <= t_ms < end:
            return -1.0
        return 0.0

    return value


def sampled_waveform(
    waveform: str, pulse_width_ms: float, duration_ms: float, dt_ms: float = DT_MS
):
    """The unit waveform sampled at step starts ``k·dt`` for ``k < duration/dt`` (as PyFibers)."""
    import numpy as np

    fn = unit_waveform(waveform, pulse_width_ms, dt_ms)
    n_steps = int(duration_ms / dt_ms)
    return np.array([fn(k * dt_ms) for k in range(n_steps)])


def _build(point: dict[str, Any]):
    from pyfibers import FiberModel, build_fiber

    family = FAMILY[point["fiber"]]
    fiber = build_fiber(
        FiberModel[family["model"]],
        diameter=point["diameter_um"],
        length=family["length_um"],
        temperature=37.0,
        passive_end_nodes=1,
    )
    middle = fiber.nodes[len(fiber.nodes) // 2]
    z_mid_um = fiber.longitudinal_coordinates[fiber.sections.index(middle)]
    fiber.potentials = fiber.point_source_potentials(
        0.0, point["distance_mm"] * 1000.0, z_mid_um, 1.0, SIGMA_S_PER_M
    )
    return fiber


class _TrialLog:
    """Wraps ``run_sim`` to count trials, simulated steps and the bracket actually reached."""

    def __init__(self, stim, fiber) -> None:
        from neuron import h

        self._h = h
        self._run = stim.run_sim
        self._dt = stim.dt
        self.fiber = fiber
        self.n_simulations = 0
        self.steps = 0
        self.sub_ma = 0.0
        self.supra_ma = math.inf
        stim.run_sim = self

    def __call__(self, stimamp, fiber, *args, **kwargs):
        n_aps, ap_time = self._run(stimamp, fiber, *args, **kwargs)
        self.n_simulations += 1
        self.steps += round(self._h.t / self._dt)
        magnitude = abs(float(stimamp))
        if n_aps >= 1:
            self.supra_ma = min(self.supra_ma, magnitude)
        else:
            self.sub_ma = max(self.sub_ma, magnitude)
        return n_aps, ap_time


def coarse_estimate_ma(point: dict[str, Any]) -> dict[str, Any]:
    """A-priori threshold from a coarse upward ladder (dt = 5 µs, amplitudes doubling).

    Scanning upwards stops at the first supra-threshold rung, so it never reaches the virtual-anode
    block region; the estimate is the geometric mean of the last sub- and first supra-threshold
    rung (within √2 of the coarse threshold). Used only when no stimwise threshold is available.
    """
    from pyfibers import ScaledStim

    family = FAMILY[point["fiber"]]
    fiber = _build(point)
    stim = ScaledStim(
        waveform=unit_waveform(point["waveform"], point["pulse_width_ms"], COARSE_DT_MS),
        dt=COARSE_DT_MS,
        tstop=family["tstop_ms"],
    )
    log = _TrialLog(stim, fiber)
    started = time.perf_counter()
    amplitude = family["ladder_start_ma"]
    while amplitude <= LADDER_MAX_MA:
        n_aps, _ = stim.run_sim(
            -amplitude, fiber, exit_func=stim.supra_exit, fail_on_end_excitation=None
        )
        if n_aps >= 1:
            break
        amplitude *= LADDER_FACTOR
    else:
        raise RuntimeError(f"no excitation up to {LADDER_MAX_MA} mA for {point}")
    lower = log.sub_ma if log.sub_ma > 0 else amplitude / LADDER_FACTOR
    return {
        "estimate_ma": math.sqrt(lower * log.supra_ma),
        "seconds": time.perf_counter() - started,
        "simulations": log.n_simulations,
    }


def search_bounds_ma(estimate_ma: float) -> tuple[float, float]:
    """PyFibers' initial (bottom, top) magnitudes for an a-priori threshold estimate.

    Top 2.5× the estimate (below the virtual-anode block amplitude, pitfall A); bottom the
    canonical 0.01 mA (a quarter of the top for tiny estimates). A bottom of estimate/10 would put
    the estimate itself on the arithmetic bisection lattice, so NEURON could return the stimwise
    value exactly and hide a disagreement inside the bracket.
    """
    top = TOP_BOUND_FACTOR * estimate_ma
    return min(BOTTOM_BOUND_MA, top / 4), top


def neuron_threshold(point: dict[str, Any]) -> dict[str, Any]:
    """One PyFibers threshold search for a grid point (runs in a fresh worker process).

    ``point`` holds fiber, diameter_um, distance_mm, waveform, pulse_width_ms and optionally
    ``estimate_ma`` (e.g. the stimwise threshold); without it a coarse ladder supplies one.
    Returns the threshold (magnitude, mA), the bracket reached, the wall time of the search,
    the simulation count, the initiation nodes and whether initiation was central.
    """
    import warnings

    from pyfibers import ScaledStim

    family = FAMILY[point["fiber"]]
    result: dict[str, Any] = {}
    estimate = point.get("estimate_ma")
    if estimate is None or not math.isfinite(estimate) or estimate <= 0:
        coarse = coarse_estimate_ma(point)
        estimate = coarse["estimate_ma"]
        result["coarse_estimate"] = coarse
    bottom, top = search_bounds_ma(estimate)

    fiber = _build(point)
    stim = ScaledStim(
        waveform=unit_waveform(point["waveform"], point["pulse_width_ms"]),
        dt=DT_MS,
        tstop=family["tstop_ms"],
    )
    log = _TrialLog(stim, fiber)
    started, cpu_started = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        amplitude, (_, ap_time) = stim.find_threshold(
            fiber,
            stimamp_top=-top,
            stimamp_bottom=-bottom,
            termination_tolerance=TOLERANCE_PERCENT,
            bounds_search_step=BOUNDS_STEP_PERCENT,
            bisection_mean="arithmetic",
            exit_t_shift=family["exit_shift_ms"],
        )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    init_nodes, n_sites, _ = fiber.initiation_nodes()
    middle = len(fiber.nodes) // 2
    offsets = [int(n) - middle for n in init_nodes]
    result.update(
        {
            "threshold_ma": abs(float(amplitude)),
            "lower_ma": log.sub_ma,
            "upper_ma": log.supra_ma,
            "top_bound_ma": top,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "simulations": log.n_simulations,
            "section_steps": log.steps * len(fiber.sections),
            "n_sections": len(fiber.sections),
            "n_nodes": len(fiber.nodes),
            "detect_node": fiber.loc_index(0.9),
            "ap_time_ms": ap_time,
            "initiation_offsets_nodes": offsets,
            "initiation_sites": int(n_sites),
            "central_initiation": bool(offsets)
            and all(abs(o) <= family["central_nodes"] for o in offsets),
            "warnings": sorted({str(w.message)[:120] for w in caught}),
        }
    )
    return result


def neuron_step_cost(diameter_um: float = 10.0, steps: int = 5000) -> dict[str, Any]:
    """NEURON's own cost per section per step, without PyFibers' Python loop (doc §7).

    A 10 µm MRG fibre is driven by ``Vector.play`` into every section's ``e_extracellular`` (a
    0.1 ms cathodic pulse at 0.1 mA) and stepped with ``h.fadvance()`` alone.
    """
    import numpy as np
    from neuron import h

    point = {
        "fiber": "mrg",
        "diameter_um": diameter_um,
        "distance_mm": 1.0,
        "waveform": "monophasic",
        "pulse_width_ms": 0.1,
    }
    fiber = _build(point)
    h.celsius = fiber.temperature
    h.dt = DT_MS
    h.finitialize(fiber.v_rest)
    wave = sampled_waveform("monophasic", 0.1, steps * DT_MS) * -0.1
    played = []
    for ve, section in zip(fiber.potentials[0], fiber.sections, strict=True):
        vec = h.Vector(np.ascontiguousarray(wave * ve))
        vec.play(section(0.5)._ref_e_extracellular, DT_MS)
        played.append(vec)
    h.finitialize(fiber.v_rest)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(steps):
        h.fadvance()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    section_steps = len(fiber.sections) * steps
    return {
        "diameter_um": diameter_um,
        "n_sections": len(fiber.sections),
        "steps": steps,
        "seconds": seconds,
        "us_per_section_step": seconds / section_steps * 1e6,
        "cpu_us_per_section_step": cpu_seconds / section_steps * 1e6,
    }
