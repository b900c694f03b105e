"""Speed of the physiology engine, printed as JSON.

Figures (single process, this machine):

* ``numba_compile_s``: the kernels compiled from scratch (an empty numba cache, fresh process),
  and ``numba_cached_load_s``: the same first call with the cache filled (what users see after
  the first run);
* ``ns_per_section_step``: the solver's cost per compartment and time step (16 members of a
  10 um MRG fibre, 5 ms, no early stop), against NEURON's ~800 ns and PyFibers' ~1,750 ns
  measured on this machine (shared/reference/fibre-model-validation.md §7);
* ``mrg_batch``: 100 MRG thresholds (25 diameters 5.7-14 um x 1 and 2 mm x 0.1 and 0.5 ms
  monophasic, 0.1 % bracket) amortised: wall time per threshold including fibre building and
  rest states, and the ratio to PyFibers' median 41 s per threshold (target >= 50x; 500x asked
  as the stretch);
* ``single``: one MRG threshold alone (10 um, 1 mm, 0.1 ms) and one C-fibre threshold
  (1 um, 6 mm, 0.5 ms, 35 ms window) against PyFibers' 41 s and ~430 s.

Times per threshold and per section-step are the process's CPU time (single-threaded, so equal
to the wall time on an idle machine); wall times are printed alongside, because on a shared
machine other jobs inflate them. PyFibers' own figures come from the reference document (same
machine class, one process per core); ``validate_neuron.py`` measures NEURON in the same run.

Usage: ``python benchmarks/bench_physiology_speed.py [--skip-compile] [--skip-c]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

PYFIBERS_MRG_S = 41.0  # median per MRG threshold, 0.1 % bracket (reference §7)
PYFIBERS_C_S = 430.0  # SUNDT per threshold (reference §7: 408-446 s)
NEURON_NS_PER_SECTION_STEP = 780.0  # NEURON stepping alone (reference §7: 0.78 us)
PYFIBERS_NS_PER_SECTION_STEP = 1750.0

FIRST_CALL = """
import time, numpy as np
t = time.perf_counter()
from stimwise.physiology.fibers import build_fiber
from stimwise.physiology.conductors import PointSource
from stimwise.physiology.geometry import straight_fiber_points_mm
from stimwise.physiology.stimulus import Stimulus
from stimwise.physiology.threshold import find_thresholds
f = build_fiber("mrg", 14.0, 10.0)
ve = PointSource(0.2, (0, 0, 1.0)).potential_mv_per_ma(straight_fiber_points_mm(f))
find_thresholds([f], [ve], Stimulus.pulse("monophasic", 0.1, duration_ms=2.0), rel_tol=0.2)
print(time.perf_counter() - t)
"""


def first_call_s(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    done = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def compile_figures() -> dict:
    with tempfile.TemporaryDirectory() as cache:
        cold = first_call_s(cache)
        warm = first_call_s(cache)
    return {"numba_compile_s": round(cold - warm, 2), "numba_cached_load_s": round(warm, 2),
            "first_call_cold_s": round(cold, 2)}


def point_source_problem(model: str, diameter_um: float, distance_mm: float, length_mm: float):
    from stimwise.physiology.conductors import PointSource
    from stimwise.physiology.fibers import build_fiber
    from stimwise.physiology.geometry import straight_fiber_points_mm

    fiber = build_fiber(model, diameter_um, length_mm)
    source = PointSource(0.2, (0.0, 0.0, distance_mm))
    return fiber, source.potential_mv_per_ma(straight_fiber_points_mm(fiber))


def section_step_cost() -> dict:
    from stimwise.physiology.solver import simulate

    fiber, ve = point_source_problem("mrg", 10.0, 1.0, 40.0)
    samples = np.zeros(5000)
    samples[100:200] = -1.0
    members = 16
    args = ([fiber], [ve], np.zeros(members, int), np.full(members, 0.01), samples, 0.001)
    simulate(*args, rest_tolerance_mv=-1.0)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = simulate(*args, rest_tolerance_mv=-1.0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    ns = cpu / result.section_steps * 1e9
    return {"ns_per_section_step": round(ns, 1), "members": members,
            "wall_ns_per_section_step": round(wall / result.section_steps * 1e9, 1),
            "vs_neuron_x": round(NEURON_NS_PER_SECTION_STEP / ns, 1),
            "vs_pyfibers_x": round(PYFIBERS_NS_PER_SECTION_STEP / ns, 1)}


def mrg_batch() -> dict:
    from stimwise.physiology.solver import rest_state
    from stimwise.physiology.stimulus import Stimulus
    from stimwise.physiology.threshold import find_thresholds

    diameters = np.linspace(5.7, 14.0, 25)
    start, cpu_start = time.perf_counter(), time.process_time()
    problems = [point_source_problem("mrg", float(d), dist, 40.0)
                for dist in (1.0, 2.0) for d in diameters]
    fibers = [p[0] for p in problems]
    for fiber in fibers:
        rest_state(fiber)
    built = time.perf_counter() - start
    counts, steps, brackets, central = [], 0, [], 0
    for pw in (0.1, 0.5):
        result = find_thresholds(fibers, [p[1] for p in problems], Stimulus.pulse("monophasic", pw))
        counts.extend(result.n_simulations.tolist())
        steps += result.section_steps
        brackets.extend(((result.upper_ma - result.lower_ma) / result.upper_ma).tolist())
        central += int(sum(node == f.n_nodes // 2 for node, f in
                           zip(result.initiation_node, fibers, strict=True)))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    per = cpu / 100
    return {
        "thresholds": 100,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "wall_s_per_threshold": round(wall / 100, 4),
        "build_and_rest_s": round(built, 2),
        "s_per_threshold": round(per, 4),
        "speedup_vs_pyfibers_x": round(PYFIBERS_MRG_S / per, 1),
        "fraction_of_500x_target": round(PYFIBERS_MRG_S / per / 500, 3),
        "simulations_per_threshold": round(float(np.mean(counts)), 2),
        "max_relative_bracket": float(np.max(brackets)),
        "central_initiation": central,
        "section_steps": steps,
    }


def single_thresholds(include_c: bool) -> dict:
    from stimwise.physiology.stimulus import Stimulus
    from stimwise.physiology.threshold import find_thresholds

    out = {}
    cases = [("mrg_10um_1mm_0.1ms", "mrg", 10.0, 40.0, 0.1, 10.0, PYFIBERS_MRG_S)]
    if include_c:
        cases.append(("c_1um_1mm_0.5ms", "c", 1.0, 6.0, 0.5, 35.0, PYFIBERS_C_S))
    for name, model, d, length, pw, window, reference in cases:
        start, cpu_start = time.perf_counter(), time.process_time()
        fiber, ve = point_source_problem(model, d, 1.0, length)
        result = find_thresholds([fiber], [ve], Stimulus.pulse("monophasic", pw,
                                                                duration_ms=window))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        out[name] = {"threshold_ma": float(result.threshold_ma[0]), "wall_s": round(wall, 3),
                     "cpu_s": round(cpu, 3), "simulations": int(result.n_simulations[0]),
                     "speedup_vs_pyfibers_x": round(reference / cpu, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-c", action="store_true")
    args = parser.parse_args()
    report = {"machine": {"python": platform.python_version(), "cpu": platform.processor(),
                          "cores": os.cpu_count(),
                          "load_average_1min": os.getloadavg()[0]}}
    if not args.skip_compile:
        report["compile"] = compile_figures()
    report["kernel"] = section_step_cost()
    report["mrg_batch"] = mrg_batch()
    report["single"] = single_thresholds(not args.skip_c)
    report["reference"] = {"pyfibers_mrg_s": PYFIBERS_MRG_S, "pyfibers_c_s": PYFIBERS_C_S,
                           "neuron_ns_per_section_step": NEURON_NS_PER_SECTION_STEP,
                           "source": "shared/reference/fibre-model-validation.md §7"}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
