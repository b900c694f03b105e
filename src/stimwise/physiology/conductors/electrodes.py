"""Surface electrodes on the layered half-space, and a channel's pair of them.

Every object here exposes ``potential_mv_per_ma(points_mm) -> (n,)`` like the other conductors:
the potential at the points (x, y along the skin, z depth, all mm) for +1 mA injected.

* :class:`DiscElectrode`: uniform current density over a disc (the current-controlled case; the
  equipotential case, whose density peaks at the rim, is not modelled).
* :class:`RectangularElectrode`: uniform density over a rectangle, as the superposition of equal-
  area discs on a grid of cells no wider than ``max_cell_mm`` (each cell's own disc is exact; the
  cell-to-disc difference fades as (cell/depth)²).
* :class:`ElectrodePair`: a bipolar channel: +1 mA into the active electrode, −1 mA out of the
  return electrode. A stimulus sample of −1 (cathodic) makes the active electrode the cathode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.layered import MAX_RADIUS_MM, LayeredHalfSpace

ElectrodeShape = Literal["disc", "square"]

_CHUNK_PAIRS = 2_000_000  # point × source pairs evaluated at once (bounded memory)


class SurfaceSource(Protocol):
    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray: ...


def as_points(points_mm: np.ndarray) -> np.ndarray:
    """(n, 3) float array or an InputError naming the expected shape."""
    points = np.asarray(points_mm, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or not np.all(np.isfinite(points)):
        raise InputError(
            FieldProblem("points_mm", f"array of shape {points.shape}", "finite (n, 3) mm points")
        )
    return points


@dataclass(frozen=True)
class _DiscGrid:
    """Equal discs of radius ``radius_mm`` centred at ``centres_mm`` (m, 2), sharing 1 mA."""

    conductor: LayeredHalfSpace
    centres_mm: np.ndarray
    radius_mm: float

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        points = as_points(points_mm)
        self.conductor.check_depths(points[:, 2])
        out = np.zeros(len(points))
        depths, groups = np.unique(np.round(points[:, 2], 9), return_inverse=True)
        n_src = len(self.centres_mm)
        chunk = max(1, _CHUNK_PAIRS // n_src)
        for index, depth in enumerate(depths):
            profile = self.conductor.radial_profile(float(depth), self.radius_mm)
            members = np.flatnonzero(groups == index)
            for start in range(0, members.size, chunk):
                sel = members[start : start + chunk]
                offsets = points[sel, None, :2] - self.centres_mm[None, :, :]
                radii = np.hypot(offsets[..., 0], offsets[..., 1])
                if radii.max() > MAX_RADIUS_MM:
                    raise InputError(
                        FieldProblem(
                            "points_mm",
                            f"{radii.max():.1f} mm from an electrode",
                            f"points within {MAX_RADIUS_MM:g} mm of every electrode",
                        )
                    )
                out[sel] = profile(radii).mean(axis=1)
        return out


@dataclass(frozen=True)
class DiscElectrode:
    """A disc of ``area_cm2`` centred at ``centre_mm`` (x, y) on the skin, uniform density."""

    conductor: LayeredHalfSpace
    area_cm2: float
    centre_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def radius_mm(self) -> float:
        return float(np.sqrt(self.area_cm2 * 100.0 / np.pi))

    @property
    def half_extent_x_mm(self) -> float:
        return self.radius_mm

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        grid = _DiscGrid(self.conductor, np.array([self.centre_mm], dtype=float), self.radius_mm)
        return grid.potential_mv_per_ma(points_mm)


@dataclass(frozen=True)
class RectangularElectrode:
    """A ``length_mm`` (along x) × ``width_mm`` (along y) rectangle, uniform density."""

    conductor: LayeredHalfSpace
    length_mm: float
    width_mm: float
    centre_mm: tuple[float, float] = (0.0, 0.0)
    max_cell_mm: float = 2.0
    _grid: _DiscGrid = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nx = max(1, int(np.ceil(self.length_mm / self.max_cell_mm)))
        ny = max(1, int(np.ceil(self.width_mm / self.max_cell_mm)))
        dx, dy = self.length_mm / nx, self.width_mm / ny
        xs = self.centre_mm[0] - self.length_mm / 2 + dx * (np.arange(nx) + 0.5)
        ys = self.centre_mm[1] - self.width_mm / 2 + dy * (np.arange(ny) + 0.5)
        centres = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1).reshape(-1, 2)
        radius = float(np.sqrt(dx * dy / np.pi))
        object.__setattr__(self, "_grid", _DiscGrid(self.conductor, centres, radius))

    @property
    def area_cm2(self) -> float:
        return self.length_mm * self.width_mm / 100.0

    @property
    def half_extent_x_mm(self) -> float:
        return self.length_mm / 2

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        return self._grid.potential_mv_per_ma(points_mm)


@dataclass(frozen=True)
class ElectrodePair:
    """Bipolar channel: +1 mA into ``active``, −1 mA out of ``ret`` (superposition)."""

    active: SurfaceSource
    ret: SurfaceSource

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        return self.active.potential_mv_per_ma(points_mm) - self.ret.potential_mv_per_ma(points_mm)


def surface_electrode(
    conductor: LayeredHalfSpace,
    area_cm2: float,
    shape: ElectrodeShape = "disc",
    centre_mm: tuple[float, float] = (0.0, 0.0),
) -> DiscElectrode | RectangularElectrode:
    """An electrode of the protocol's conductive area: a disc or a square of that area."""
    if not (0 < area_cm2 <= 1000):
        raise InputError(FieldProblem("electrode_area_cm2", area_cm2, "a number > 0 and ≤ 1000"))
    if shape == "disc":
        return DiscElectrode(conductor, area_cm2, centre_mm)
    if shape == "square":
        side = float(np.sqrt(area_cm2 * 100.0))
        return RectangularElectrode(conductor, side, side, centre_mm)
    raise InputError(FieldProblem("electrode_shape", shape, "'disc' or 'square'"))


def bipolar_pair(
    conductor: LayeredHalfSpace,
    active_area_cm2: float,
    return_area_cm2: float,
    *,
    gap_mm: float = 20.0,
    shape: ElectrodeShape = "disc",
) -> ElectrodePair:
    """Active electrode centred at the origin, return electrode along +x, ``gap_mm`` edge to edge.

    The 20 mm default gap is stimwise's choice (U); pass the real placement's gap.
    """
    if not (0 <= gap_mm <= 150):
        raise InputError(FieldProblem("gap_mm", gap_mm, "an edge-to-edge gap ≥ 0 and ≤ 150 mm"))
    active = surface_electrode(conductor, active_area_cm2, shape)
    ret_half = surface_electrode(conductor, return_area_cm2, shape).half_extent_x_mm
    centre_x = active.half_extent_x_mm + gap_mm + ret_half
    ret = surface_electrode(conductor, return_area_cm2, shape, (centre_x, 0.0))
    return ElectrodePair(active, ret)
