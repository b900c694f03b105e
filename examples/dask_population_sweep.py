"""Example: an in-silico sweep of virtual people × electrode sizes × pulse widths on Dask.

Every combination is one job of the full cable model (no estimator): a small A-beta and A-alpha
population under a bipolar pair, with the person's own skin and fat thickness. The jobs' fibres
are cut into batches that run as tasks on a local cluster (default) or on any Dask scheduler.

Run (from the repository root, about two minutes on two cores)::

    python examples/dask_population_sweep.py                      # LocalCluster, 2 workers
    python examples/dask_population_sweep.py --workers 8 --people 10 --fibres 50
    python examples/dask_population_sweep.py --scheduler tcp://10.0.0.5:8786

For a scheduler elsewhere, start one (``dask scheduler``) and workers (``dask worker ADDRESS``)
in environments where stimwise is installed. The output is one JSON document: per job, the
amplitude that recruits half of each class. Model predictions, not doses.
"""

from __future__ import annotations

import argparse
import json
import time

from stimwise.physiology.population import sample_population
from stimwise.physiology.recruitment import Placement, StimulusRecipe, recruitment_curves
from stimwise.physiology.sweep import SweepJob, dask_client, run_sweep, virtual_people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", default="local", help="'local' or tcp://host:port")
    parser.add_argument("--workers", type=int, default=2, help="workers of a local cluster")
    parser.add_argument("--people", type=int, default=2)
    parser.add_argument("--fibres", type=int, default=4, help="fibres per class per job")
    parser.add_argument("--areas-cm2", default="9,25", help="electrode areas to compare")
    parser.add_argument("--pulse-widths-ms", default="0.1,0.3")
    args = parser.parse_args()

    jobs = []
    for p, conductor in enumerate(virtual_people(args.people, seed=7)):
        for area in (float(a) for a in args.areas_cm2.split(",")):
            placement = Placement(conductor, area, area)
            population = sample_population(
                conductor,
                args.fibres,
                classes=("abeta", "aalpha"),
                electrode_half_extent_mm=placement.half_extent_mm,
                seed=p,
            )
            for width in (float(w) for w in args.pulse_widths_ms.split(",")):
                recipe = StimulusRecipe("biphasic", width)
                label = f"person{p}/{area:g}cm2/{width:g}ms"
                jobs.append(SweepJob(label, population, placement, recipe))

    started = time.perf_counter()
    with dask_client(args.scheduler, n_workers=args.workers) as client:
        results = run_sweep(jobs, client, batch_size=4)
    elapsed = time.perf_counter() - started

    rows = []
    for job, thresholds in zip(jobs, results, strict=True):
        curves = recruitment_curves(job.population, thresholds)
        layers = {layer.name: layer.thickness_mm for layer in job.placement.conductor.layers}
        rows.append(
            {
                "job": job.label,
                "skin_mm": layers["skin"],
                "fat_mm": layers["fat"],
                "half_recruited_ma": curves.amplitude_for_fraction(0.5),
            }
        )
    fibres = sum(len(job.population) for job in jobs)
    print(json.dumps({"jobs": rows, "fibres": fibres, "wall_s": round(elapsed, 1)}, indent=2))


if __name__ == "__main__":
    main()
