"""Recruitment benchmark: fast estimator vs full model (single process and Dask), prints JSON.

Measures, for one placement (25 cm² disc pair, default skin/fat/muscle) and one waveform
(biphasic, 100 µs per phase):

* the layered conductor: time to evaluate the potentials of 1,000 fibres (cold: radial profiles
  computed; warm: cached);
* the fast estimator: time to build its tables with the full model (once, then cached), and the
  wall time of a 1,000-fibre recruitment curve from them (target < 1 s);
* the estimator's error against the full model on held-out fibres (target ≤ 5 %);
* the full model on ``--full-fibres`` fibres: single process, and on a local Dask cluster of
  ``--workers`` workers.

Usage: ``python benchmarks/bench_recruitment.py [--full-fibres 1000] [--workers 2]
[--held-out 8] [--classes abeta,adelta,aalpha]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from stimwise.physiology.conductors.layered import default_half_space
from stimwise.physiology.estimator import build_tables, validation_errors
from stimwise.physiology.population import sample_population
from stimwise.physiology.recruitment import (
    Placement,
    StimulusRecipe,
    build_fibers,
    fiber_potentials,
    full_thresholds,
    recruitment_curves,
)
from stimwise.physiology.sweep import SweepJob, dask_client, run_sweep


def per_class(n_total: int, classes: tuple[str, ...]) -> int:
    return max(1, n_total // len(classes))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def conductor_figures(classes: tuple[str, ...]) -> dict:
    placement = Placement(default_half_space(fat_mm=3.7), 25.0, 25.0)  # fresh profiles
    population = sample_population(
        placement.conductor,
        per_class(1000, classes),
        classes=classes,
        electrode_half_extent_mm=placement.half_extent_mm,
        seed=11,
    )
    fibers = build_fibers(population)
    points = sum(f.n_sections for f in fibers)
    _, cold = timed(fiber_potentials, population, placement, fibers)
    _, warm = timed(fiber_potentials, population, placement, fibers)
    return {
        "fibres": len(population),
        "points": int(points),
        "distinct_depths": int(np.unique(population.depth_mm).size),
        "cold_s": round(cold, 3),
        "warm_s": round(warm, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full-fibres", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--held-out", type=int, default=8, help="held-out fibres per class")
    parser.add_argument("--classes", default="abeta,adelta,aalpha")
    parser.add_argument("--skip-full", action="store_true", help="estimator figures only")
    args = parser.parse_args()
    classes = tuple(args.classes.split(","))
    os.environ.setdefault("STIMWISE_CACHE_DIR", tempfile.mkdtemp(prefix="stimwise-bench-"))

    placement = Placement(default_half_space(), 25.0, 25.0)
    recipe = StimulusRecipe("biphasic", 0.1)
    figures: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "placement": placement.describe(),
        "waveform": recipe.label(),
        "classes": list(classes),
    }
    figures["layered_conductor"] = conductor_figures(classes)

    tables, build_s = timed(build_tables, placement, recipe, classes=classes)
    _, cached_s = timed(build_tables, placement, recipe, classes=classes)
    population = sample_population(
        placement.conductor,
        per_class(1000, classes),
        classes=classes,
        electrode_half_extent_mm=placement.half_extent_mm,
        seed=1,
    )

    def fast_curve():
        estimated = tables.estimate(population, recipe.pulse_width_ms)
        return recruitment_curves(population, estimated)

    fast_curve()  # warm the interpolants once (the CLI pays this inside its first call)
    _, fast_s = timed(fast_curve)
    figures["fast_estimator"] = {
        "table_build_s": round(build_s, 2),
        "table_thresholds": int(sum(t.thresholds_ma.size for t in tables.tables.values())),
        "table_load_from_cache_s": round(cached_s, 3),
        "curve_fibres": len(population),
        "curve_wall_s": round(fast_s, 4),
        "target_s": 1.0,
    }

    held_out = sample_population(
        placement.conductor,
        args.held_out,
        classes=classes,
        electrode_half_extent_mm=placement.half_extent_mm,
        seed=99,
    )
    full, held_s = timed(full_thresholds, held_out, placement, recipe)
    estimated = tables.estimate(held_out, recipe.pulse_width_ms)
    validation = {"overall": validation_errors(estimated, full), "full_model_s": round(held_s, 2)}
    for cid in classes:
        members = held_out.class_id == cid
        validation[cid] = validation_errors(estimated[members], full[members])
    validation["target_max_rel_error"] = 0.05
    figures["estimator_validation"] = validation

    if not args.skip_full:
        full_population = sample_population(
            placement.conductor,
            per_class(args.full_fibres, classes),
            classes=classes,
            electrode_half_extent_mm=placement.half_extent_mm,
            seed=2,
        )
        _, single_s = timed(full_thresholds, full_population, placement, recipe)
        with dask_client("local", n_workers=args.workers) as client:
            warm_up = full_population.subset(slice(0, args.workers))
            run_sweep([SweepJob("warm-up", warm_up, placement, recipe)], client, batch_size=1)
            job = SweepJob("bench", full_population, placement, recipe)
            _, dask_s = timed(run_sweep, [job], client, batch_size=16)
        figures["full_model"] = {
            "fibres": len(full_population),
            "single_process_s": round(single_s, 1),
            "dask_local_s": round(dask_s, 1),
            "dask_workers": args.workers,
            "speed_up": round(single_s / dask_s, 2),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            "full_s_per_fibre": round(single_s / len(full_population), 3),
            "fast_estimator_speed_up_per_fibre": round(
                (single_s / len(full_population)) / (fast_s / len(population))
            ),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
