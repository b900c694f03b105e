"""Population sweeps on Dask: fibres × placements × waveforms × virtual people in batches.

Each job is one (population, placement, waveform) combination, typically one virtual person with
one electrode layout and one waveform. Its fibres are cut into batches of ``batch_size``; every
batch is one task running the full threshold search (:func:`full_thresholds`) on a worker, so a
sweep scales from a laptop's ``LocalCluster`` (the default) to any ``distributed`` scheduler given
by address (``tcp://host:8786``). Results come back in the jobs' order, whatever the order in
which the tasks finish.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.layered import LayeredHalfSpace, default_half_space
from stimwise.physiology.population import FiberPopulation
from stimwise.physiology.recruitment import (
    Placement,
    Progress,
    StimulusRecipe,
    full_thresholds,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepJob:
    """One combination of the sweep; ``label`` names it in results (no personal data)."""

    label: str
    population: FiberPopulation
    placement: Placement
    recipe: StimulusRecipe


def batch_thresholds(
    population: FiberPopulation, placement: Placement, recipe: StimulusRecipe
) -> np.ndarray:
    """One task: the full-model thresholds of a batch of fibres (runs on a worker)."""
    return full_thresholds(population, placement, recipe, batch_size=max(len(population), 1))


@contextlib.contextmanager
def dask_client(
    scheduler: str = "local", *, n_workers: int = 2, processes: bool = True
) -> Iterator[object]:
    """A ``distributed.Client``: a new ``LocalCluster`` for ``"local"`` (closed afterwards) or a
    connection to the scheduler at ``scheduler`` (an address such as ``tcp://host:8786``)."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        if not 1 <= n_workers <= 512:
            raise InputError(FieldProblem("n_workers", n_workers, "1 to 512 workers"))
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    if "://" not in scheduler:
        raise InputError(
            FieldProblem("dask", scheduler, "'local' or a scheduler address like tcp://host:8786")
        )
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as error:
        raise InputError(
            FieldProblem("dask", scheduler, f"a reachable Dask scheduler ({error})")
        ) from error
    with client:
        yield client


def run_sweep(
    jobs: list[SweepJob],
    client: object,
    *,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """Thresholds (mA) of every fibre of every job, computed as batches on ``client``.

    ``progress(done_fibres, total_fibres)`` is called as batches finish.
    """
    from distributed import as_completed

    if not 1 <= batch_size <= 10_000:
        raise InputError(FieldProblem("batch_size", batch_size, "1 to 10000 fibres per task"))
    results = [np.full(len(job.population), np.nan) for job in jobs]
    where = {}
    futures = []
    for j, job in enumerate(jobs):
        for start in range(0, len(job.population), batch_size):
            stop = min(start + batch_size, len(job.population))
            part = job.population.subset(slice(start, stop))
            future = client.submit(batch_thresholds, part, job.placement, job.recipe, pure=False)
            where[future.key] = (j, start, stop)
            futures.append(future)
    total = sum(len(job.population) for job in jobs)
    done = 0
    log.info("sweep: %d jobs, %d fibres, %d tasks", len(jobs), total, len(futures))
    for future in as_completed(futures):
        j, start, stop = where[future.key]
        results[j][start:stop] = future.result()
        done += stop - start
        if progress is not None:
            progress(done, total)
    return results


def virtual_people(
    n_people: int,
    *,
    seed: int = 0,
    skin_mm: tuple[float, float] = (0.8, 1.4),
    fat_mm: tuple[float, float] = (2.0, 10.0),
) -> list[LayeredHalfSpace]:
    """Tissue stacks of ``n_people`` virtual people, thicknesses uniform in the ranges.

    Default ranges (U, stimwise's choice): skin ≈ dermis 1.0 ± 0.2 mm plus epidermis
    (J Electr Bioimp 2019, doi 10.2478/joeb-2019-0003, C) widened to 0.8–1.4 mm; subcutaneous
    fat 2–10 mm. Conductivities are the cited defaults of ``data/tissues.yaml``.
    """
    if not 1 <= n_people <= 10_000:
        raise InputError(FieldProblem("n_people", n_people, "1 to 10000 virtual people"))
    rng = np.random.default_rng(seed)
    skins = np.round(rng.uniform(*skin_mm, n_people), 2)
    fats = np.round(rng.uniform(*fat_mm, n_people), 1)
    return [
        default_half_space(skin_mm=float(s), fat_mm=float(f))
        for s, f in zip(skins, fats, strict=True)
    ]
