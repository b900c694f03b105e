"""Fibre populations under a surface electrode: classes, diameters, depths and paths.

A population is a set of straight fibres running parallel to the skin along the channel axis
(x), at y = 0 under the active electrode's centre line (the return electrode lies along +x).
Myelinated fibres run from the active electrode's centre outwards to ``outer_margin_mm`` beyond
its outer edge; C fibres are ``length_mm`` long and centred on that edge (``data/populations.yaml``
says why). Diameters come
from each class's truncated normal distribution, depths from a uniform range below the top of the
class's tissue layer (``data/populations.yaml``, every number cited or marked U).

Depths are rounded to levels (:func:`depth_level_mm`: 0.05 mm steps down to 2 mm, 0.1 mm to
5 mm, 0.25 mm below) so that a population of thousands of fibres shares a few dozen cached
conductor profiles; the potential changes by well under 1 % within one step at those depths.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
import yaml
from pydantic import Field, model_validator

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.layered import MIN_DEPTH_MM, LayeredHalfSpace
from stimwise.protocol.base import StrictModel

DEPTH_STEPS_MM = ((2.0, 0.05), (5.0, 0.1), (np.inf, 0.25))
"""(deeper than the previous bound and down to this depth, step) pairs."""
ClassId = Literal["abeta", "adelta", "c", "aalpha"]
DEFAULT_CLASSES = ("abeta", "adelta", "aalpha")
"""Classes simulated unless asked otherwise. C fibres are opt-in (``classes=(..., "c")``): their
8.3 µm-section cable over 15 ms costs about a hundred MRG thresholds each (≈ 6.5 s CPU per
threshold), and under TENS pads their thresholds (≈ 0.5 A here) lie above the usual amplitudes."""
Role = Literal["sensory", "pain", "motor"]


class DiameterDistribution(StrictModel):
    mean: float = Field(gt=0, le=30)
    sd: float = Field(gt=0, le=10)
    min: float = Field(gt=0, le=30)
    max: float = Field(gt=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> DiameterDistribution:
        if not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class FiberClass(StrictModel):
    """One functional class of fibres and where they lie (``data/populations.yaml``)."""

    id: ClassId
    label: str
    role: Role
    model: Literal["mrg", "c"]
    diameter_um: DiameterDistribution
    diameter_source: str
    layer: Literal["skin", "fat", "muscle"]
    depth_below_layer_top_mm: tuple[float, float]
    depth_source: str
    length_mm: float | None = Field(default=None, gt=0, le=200)
    length_source: str | None = None
    outer_margin_mm: float | None = Field(default=None, gt=0, le=150)

    @model_validator(mode="after")
    def _depth_range_and_one_path(self) -> FiberClass:
        low, high = self.depth_below_layer_top_mm
        if not 0 <= low <= high:
            raise ValueError(f"depth_below_layer_top_mm must be 0 <= low <= high, got {low, high}")
        if (self.length_mm is None) == (self.outer_margin_mm is None):
            raise ValueError("set exactly one of length_mm (edge-centred) and outer_margin_mm")
        return self

    def path_mm(self, electrode_half_extent_mm: float) -> tuple[float, float]:
        """(length, centre x) of this class's fibres under an electrode of that half extent."""
        if self.outer_margin_mm is not None:
            length = electrode_half_extent_mm + self.outer_margin_mm
            return length, -length / 2
        return float(self.length_mm), -electrode_half_extent_mm


@functools.lru_cache(maxsize=1)
def fiber_classes() -> dict[str, FiberClass]:
    """The cited default classes, by id."""
    text = resources.files("stimwise.physiology").joinpath("data/populations.yaml")
    data = yaml.safe_load(text.read_text("utf-8"))
    return {entry["id"]: FiberClass.model_validate(entry) for entry in data["classes"]}


@dataclass(frozen=True)
class FiberPopulation:
    """Structure of arrays, one entry per fibre (all lengths in mm)."""

    class_id: np.ndarray  # (n,) str
    model: np.ndarray  # (n,) "mrg" | "c"
    diameter_um: np.ndarray
    depth_mm: np.ndarray
    length_mm: np.ndarray
    centre_x_mm: np.ndarray

    def __len__(self) -> int:
        return int(self.diameter_um.size)

    def subset(self, mask: np.ndarray) -> FiberPopulation:
        return FiberPopulation(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))

    def class_ids(self) -> list[str]:
        return list(dict.fromkeys(self.class_id.tolist()))


def layer_top_mm(conductor: LayeredHalfSpace, layer_name: str) -> tuple[float, float]:
    """Depth of the top and bottom (inf for the last) of the named layer."""
    top = 0.0
    for layer in conductor.layers:
        bottom = top + layer.thickness_mm if layer.thickness_mm is not None else np.inf
        if layer.name == layer_name:
            return top, bottom
        top = bottom
    raise InputError(
        FieldProblem("layer", layer_name, f"one of {[x.name for x in conductor.layers]}")
    )


def class_depth_range_mm(
    fiber_class: FiberClass, conductor: LayeredHalfSpace, override: tuple[float, float] | None
) -> tuple[float, float]:
    """Absolute depth range of a class in this person's layers (clipped to the layer)."""
    top, bottom = layer_top_mm(conductor, fiber_class.layer)
    low, high = override or fiber_class.depth_below_layer_top_mm
    low_abs = max(top + low, MIN_DEPTH_MM)
    high_abs = min(top + high, bottom)
    if high_abs < low_abs:
        high_abs = low_abs
    return low_abs, high_abs


def sample_population(
    conductor: LayeredHalfSpace,
    n_per_class: int,
    *,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    electrode_half_extent_mm: float,
    depth_overrides_mm: dict[str, tuple[float, float]] | None = None,
    seed: int = 0,
) -> FiberPopulation:
    """Draw ``n_per_class`` fibres of each class (reproducible with ``seed``).

    ``depth_overrides_mm`` replaces a class's depth range below its layer's top (the person's own
    depth of a motor branch, for example).
    """
    if not 1 <= n_per_class <= 100_000:
        raise InputError(FieldProblem("fibers", n_per_class, "an integer from 1 to 100000"))
    known = fiber_classes()
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise InputError(FieldProblem("classes", unknown, f"ids from {sorted(known)}"))
    rng = np.random.default_rng(seed)
    columns: dict[str, list] = {name: [] for name in FiberPopulation.__dataclass_fields__}
    for class_id in classes:
        spec = known[class_id]
        override = (depth_overrides_mm or {}).get(class_id)
        low, high = class_depth_range_mm(spec, conductor, override)
        depths = rng.uniform(low, high, n_per_class)
        depths = np.clip(depth_level_mm(depths), low, high)
        columns["class_id"].append(np.full(n_per_class, class_id))
        columns["model"].append(np.full(n_per_class, spec.model))
        columns["diameter_um"].append(truncated_normal(rng, spec.diameter_um, n_per_class))
        columns["depth_mm"].append(depths)
        length, centre = spec.path_mm(electrode_half_extent_mm)
        columns["length_mm"].append(np.full(n_per_class, length))
        columns["centre_x_mm"].append(np.full(n_per_class, centre))
    return FiberPopulation(**{name: np.concatenate(v) for name, v in columns.items()})


def depth_level_mm(depths_mm: np.ndarray) -> np.ndarray:
    """Depths rounded to the shared levels of :data:`DEPTH_STEPS_MM`."""
    depths = np.asarray(depths_mm, dtype=float)
    out = depths.copy()
    lower = 0.0
    for bound, step in DEPTH_STEPS_MM:
        inside = (depths > lower) & (depths <= bound)
        out[inside] = np.round(depths[inside] / step) * step
        lower = bound
    return out


def truncated_normal(rng: np.random.Generator, dist: DiameterDistribution, n: int) -> np.ndarray:
    """Normal(mean, sd) restricted to [min, max] by redrawing values outside it."""
    out = rng.normal(dist.mean, dist.sd, n)
    bad = (out < dist.min) | (out > dist.max)
    while bad.any():
        out[bad] = rng.normal(dist.mean, dist.sd, int(bad.sum()))
        bad = (out < dist.min) | (out > dist.max)
    return out
