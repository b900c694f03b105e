"""Fast threshold estimator: tables built once with the full model, interpolated in log space.

For one placement (tissue stack and electrodes) and one waveform shape, each fibre class gets a
table of full-model thresholds over diameter × depth × leading-phase width. Thresholds follow
near power laws in all three, so the estimator interpolates log(threshold) over
(log diameter, log depth) with cubic splines (linear when an axis has fewer than 4 points) and
log-linearly between pulse widths. A thousand fibres then cost milliseconds instead of minutes.

Tables are cached on disk (``$STIMWISE_CACHE_DIR`` or the user cache directory from
platformdirs) under a hash of everything that changes them: the placement, the waveform shape, the
grids, the class definitions and the engine's own source and parameter files.

Outside a table's range the estimator never extrapolates: :func:`estimate_thresholds` raises
:class:`EstimatorRangeError` (the caller may then run the full model instead).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.population import (
    DEFAULT_CLASSES,
    FiberClass,
    FiberPopulation,
    class_depth_range_mm,
    fiber_classes,
)
from stimwise.physiology.recruitment import (
    Placement,
    Progress,
    StimulusRecipe,
    full_thresholds,
    stable_hash,
)
from stimwise.physiology.sweep import SweepJob, run_sweep
from stimwise.physiology.threshold import MAX_AMPLITUDE_MA

log = logging.getLogger(__name__)

TABLE_FORMAT = 1
_ENGINE_FILES = (
    "fibers.py",
    "channels.py",
    "solver.py",
    "threshold.py",
    "stimulus.py",
    "population.py",
    "recruitment.py",
    "conductors/layered.py",
    "conductors/electrodes.py",
    "data/mrg.yaml",
    "data/sundt.yaml",
    "data/tissues.yaml",
    "data/populations.yaml",
)


class EstimatorRangeError(InputError):
    """A fibre or pulse width outside the table: the estimator refuses rather than extrapolate."""


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """Hash of the engine's sources and data: a changed model invalidates cached tables."""
    root = resources.files("stimwise.physiology")
    digest = hashlib.sha256()
    for name in _ENGINE_FILES:
        digest.update(name.encode())
        digest.update(root.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where the tables are kept: ``threshold-tables`` in the cache folder (the ``cache_dir``
    setting, ``$STIMWISE_CACHE_DIR``)."""
    from stimwise import settings

    return settings.cache_dir() / "threshold-tables"


@dataclass(frozen=True)
class ThresholdTable:
    """Full-model thresholds of one class: ``thresholds_ma[pulse width, diameter, depth]``."""

    class_id: str
    pulse_widths_ms: np.ndarray
    diameters_um: np.ndarray
    depths_mm: np.ndarray
    thresholds_ma: np.ndarray

    @functools.cached_property
    def _interpolants(self) -> list:
        axes = [np.log(a) for a in (self.diameters_um, self.depths_mm) if a.size > 1]
        method = "cubic" if axes and min(a.size for a in axes) >= 4 else "linear"
        ceiling = np.log(MAX_AMPLITUDE_MA)
        out = []
        for grid in self.thresholds_ma:
            values = np.log(np.where(np.isfinite(grid), grid, MAX_AMPLITUDE_MA))
            values = np.minimum(values, ceiling).reshape(
                [a.size for a in (self.diameters_um, self.depths_mm) if a.size > 1] or [1]
            )
            out.append(RegularGridInterpolator(axes, values, method=method) if axes else values)
        return out

    def check_range(
        self, diameter_um: np.ndarray, depth_mm: np.ndarray, pulse_width_ms: float
    ) -> None:
        """Refuse anything outside the table (HAZ-035: never extrapolate silently)."""
        problems = []
        for name, values, axis in (
            ("diameter_um", diameter_um, self.diameters_um),
            ("depth_mm", depth_mm, self.depths_mm),
            ("pulse_width_ms", np.array([pulse_width_ms]), self.pulse_widths_ms),
        ):
            low, high = axis.min() * (1 - 1e-9), axis.max() * (1 + 1e-9)
            outside = values[(values < low) | (values > high)]
            if outside.size:
                problems.append(
                    FieldProblem(
                        f"{self.class_id}.{name}",
                        float(outside[0]),
                        f"a value within the estimator table [{axis.min():g}, {axis.max():g}] "
                        "(use the full model outside it)",
                    )
                )
        if problems:
            raise EstimatorRangeError(problems)

    def predict(
        self, diameter_um: np.ndarray, depth_mm: np.ndarray, pulse_width_ms: float
    ) -> np.ndarray:
        """Interpolated thresholds (mA); NaN where the table reaches the search ceiling."""
        d = np.asarray(diameter_um, dtype=float)
        z = np.asarray(depth_mm, dtype=float)
        self.check_range(d, z, pulse_width_ms)
        query = np.stack(
            [np.log(v) for v, a in ((d, self.diameters_um), (z, self.depths_mm)) if a.size > 1],
            axis=-1,
        )
        pws = self.pulse_widths_ms
        upper = int(np.clip(np.searchsorted(pws, pulse_width_ms), 1, max(pws.size - 1, 1)))
        lower = upper - 1 if pws.size > 1 else 0
        upper = upper if pws.size > 1 else 0
        weight = 0.0
        if upper != lower:
            weight = np.log(pulse_width_ms / pws[lower]) / np.log(pws[upper] / pws[lower])
        values = [self._evaluate(i, query, d.size) for i in (lower, upper)]
        log_threshold = (1 - weight) * values[0] + weight * values[1]
        out = np.exp(log_threshold)
        return np.where(out >= MAX_AMPLITUDE_MA / 1.5, np.nan, out)

    def _evaluate(self, index: int, query: np.ndarray, n: int) -> np.ndarray:
        interpolant = self._interpolants[index]
        if query.shape[-1] == 0:
            return np.full(n, float(np.ravel(interpolant)[0]))
        return interpolant(query)


@dataclass(frozen=True)
class EstimatorTables:
    """Tables of every class for one placement and waveform shape."""

    key: str
    recipe: StimulusRecipe
    tables: dict[str, ThresholdTable]

    def estimate(self, population: FiberPopulation, pulse_width_ms: float) -> np.ndarray:
        """Thresholds (mA) of every fibre from the tables; refuses out-of-range fibres."""
        out = np.full(len(population), np.nan)
        for class_id in population.class_ids():
            if class_id not in self.tables:
                raise EstimatorRangeError(
                    FieldProblem("class", class_id, f"a class with a table: {sorted(self.tables)}")
                )
            members = population.class_id == class_id
            out[members] = self.tables[class_id].predict(
                population.diameter_um[members], population.depth_mm[members], pulse_width_ms
            )
        return out


def grid_for_class(
    spec: FiberClass,
    placement: Placement,
    n_diameters: int,
    n_depths: int,
    depth_override_mm: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced diameters over the class range and depths over its range in this person."""
    d = spec.diameter_um
    diameters = np.geomspace(d.min, d.max, n_diameters)
    low, high = class_depth_range_mm(spec, placement.conductor, depth_override_mm)
    depths = np.array([low]) if high - low < 1e-9 else np.geomspace(low, high, n_depths)
    return diameters, depths


def grid_population(
    spec: FiberClass, placement: Placement, diameters: np.ndarray, depths: np.ndarray
) -> FiberPopulation:
    dd, zz = np.meshgrid(diameters, depths, indexing="ij")
    n = dd.size
    length, centre = spec.path_mm(placement.half_extent_mm)
    return FiberPopulation(
        class_id=np.full(n, spec.id),
        model=np.full(n, spec.model),
        diameter_um=dd.ravel(),
        depth_mm=zz.ravel(),
        length_mm=np.full(n, length),
        centre_x_mm=np.full(n, centre),
    )


def build_tables(
    placement: Placement,
    recipe: StimulusRecipe,
    *,
    pulse_widths_ms: tuple[float, ...] | None = None,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    n_diameters: int = 6,
    n_depths: int = 5,
    depth_overrides_mm: dict[str, tuple[float, float]] | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    client: object | None = None,
) -> EstimatorTables:
    """Tables for ``classes`` (loaded from the cache when the same inputs were built before).

    ``pulse_widths_ms`` defaults to the recipe's own leading-phase width only;
    ``depth_overrides_mm`` as in :func:`~stimwise.physiology.population.sample_population`;
    with a Dask ``client`` the full-model thresholds are computed as tasks on its cluster.
    """
    overrides = depth_overrides_mm or {}
    widths = tuple(sorted(pulse_widths_ms or (recipe.pulse_width_ms,)))
    if not (1 <= n_diameters <= 32 and 1 <= n_depths <= 32):
        raise InputError(FieldProblem("grid", (n_diameters, n_depths), "1 to 32 points per axis"))
    specs = {cid: fiber_classes()[cid] for cid in classes}
    key = stable_hash(
        {
            "format": TABLE_FORMAT,
            "engine": engine_fingerprint(),
            "placement": placement.describe(),
            "shape": recipe.shape_key(),
            "pulse_widths_ms": widths,
            "classes": {cid: spec.model_dump(mode="json") for cid, spec in specs.items()},
            "grid": [n_diameters, n_depths],
            "depth_overrides_mm": {c: list(v) for c, v in sorted(overrides.items())},
        }
    )
    path = cache_dir() / f"{key}.npz"
    if use_cache and path.exists():
        log.info("estimator tables loaded from cache %s", path.name)
        return _load(path, key, recipe)
    grids = {
        cid: grid_for_class(spec, placement, n_diameters, n_depths, overrides.get(cid))
        for cid, spec in specs.items()
    }
    jobs = [
        SweepJob(
            f"{cid}@{width:g}ms",
            grid_population(specs[cid], placement, *grids[cid]),
            placement,
            recipe.with_pulse_width(width),
        )
        for cid in specs
        for width in widths
    ]
    if client is not None:
        results = run_sweep(jobs, client, batch_size=4, progress=progress)
    else:
        results = _run_in_process(jobs, progress)
    tables = {}
    for cid, (diameters, depths) in grids.items():
        values = [
            thresholds.reshape(diameters.size, depths.size)
            for job, thresholds in zip(jobs, results, strict=True)
            if job.population.class_id[0] == cid
        ]
        tables[cid] = ThresholdTable(cid, np.array(widths), diameters, depths, np.array(values))
    result = EstimatorTables(key, recipe, tables)
    if use_cache:
        _save(path, result)
    return result


def _run_in_process(jobs: list[SweepJob], progress: Progress | None) -> list[np.ndarray]:
    total = sum(len(job.population) for job in jobs)
    done = 0
    results = []
    for job in jobs:
        offset = done

        def report(k: int, _n: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + k, total)

        results.append(
            full_thresholds(
                job.population, placement=job.placement, recipe=job.recipe, progress=report
            )
        )
        done += len(job.population)
    return results


def _save(path: Path, tables: EstimatorTables) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for cid, table in tables.tables.items():
        for name in ("pulse_widths_ms", "diameters_um", "depths_mm", "thresholds_ma"):
            arrays[f"{cid}__{name}"] = getattr(table, name)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, **arrays)
    os.replace(temporary, path)


def _load(path: Path, key: str, recipe: StimulusRecipe) -> EstimatorTables:
    with np.load(path) as data:
        class_ids = sorted({name.split("__")[0] for name in data.files})
        tables = {
            cid: ThresholdTable(
                cid,
                data[f"{cid}__pulse_widths_ms"],
                data[f"{cid}__diameters_um"],
                data[f"{cid}__depths_mm"],
                data[f"{cid}__thresholds_ma"],
            )
            for cid in class_ids
        }
    return EstimatorTables(key, recipe, tables)


def validation_errors(estimated_ma: np.ndarray, full_ma: np.ndarray) -> dict:
    """Relative threshold errors of the estimator against the full model on held-out fibres."""
    both = np.isfinite(estimated_ma) & np.isfinite(full_ma)
    errors = np.abs(estimated_ma[both] / full_ma[both] - 1.0)
    return {
        "n_fibres": int(both.sum()),
        "n_excluded_not_excited": int((~both).sum()),
        "median_rel_error": float(np.median(errors)) if errors.size else None,
        "max_rel_error": float(errors.max()) if errors.size else None,
    }
