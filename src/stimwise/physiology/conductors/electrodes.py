"""Surface electrodes on the layered half-space, and a channel's pair of them.

Every object here exposes ``potential_mv_per_ma(points_mm) -> (n,)`` like the other conductors:
the potential at the points (x, y along the skin, z depth, all mm) for +1 mA injected.

* :class:`DiscElectrode`: uniform current density over a disc (the current-controlled case; the
  equipotential case, whose density peaks at the rim, is not modelled).
* :class:`RectangularElectrode`: uniform density over a rectangle, integrating the layered
  point-source profile over the rectangle exactly (corner decomposition, 1-D quadrature).
* :class:`ElectrodePair`: a bipolar channel: +1 mA into the active electrode, −1 mA out of the
  return electrode. A stimulus sample of −1 (cathodic) makes the active electrode the cathode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.layered import MAX_RADIUS_MM, LayeredHalfSpace

ElectrodeShape = Literal["disc", "square"]


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


def _by_depth(
    conductor: LayeredHalfSpace, points: np.ndarray
) -> Iterator[tuple[float, np.ndarray]]:
    """(depth, indices of the points at that depth): profiles are cached per depth."""
    conductor.check_depths(points[:, 2])
    depths, groups = np.unique(np.round(points[:, 2], 9), return_inverse=True)
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(depths.size + 1))
    for index, depth in enumerate(depths):
        yield float(depth), order[bounds[index] : bounds[index + 1]]


def _check_reach(radii: np.ndarray) -> None:
    if radii.size and radii.max() > MAX_RADIUS_MM:
        raise InputError(
            FieldProblem(
                "points_mm",
                f"{radii.max():.1f} mm from an electrode",
                f"points within {MAX_RADIUS_MM:g} mm of every electrode",
            )
        )


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
        points = as_points(points_mm)
        out = np.empty(len(points))
        radii = np.hypot(points[:, 0] - self.centre_mm[0], points[:, 1] - self.centre_mm[1])
        _check_reach(radii)
        for depth, members in _by_depth(self.conductor, points):
            out[members] = self.conductor.radial_profile(depth, self.radius_mm)(radii[members])
        return out


_THETA_NODES, _THETA_WEIGHTS = np.polynomial.legendre.leggauss(24)


@dataclass(frozen=True)
class RectangularElectrode:
    """A ``length_mm`` (along x) × ``width_mm`` (along y) rectangle, uniform density.

    Exact up to quadrature, at any depth: with G(r) the layered point-source profile at the
    point's depth and H(R) = ∫₀ᴿ G(r) r dr (a spline antiderivative), the integral of G over
    a corner rectangle [0, X] × [0, Y] seen from its corner is, in polar coordinates,
    Q = ∫₀^θc H(X / cos θ) dθ + ∫_θc^{π/2} H(Y / sin θ) dθ with θc = atan(Y / X): a smooth 1-D
    integral (24-point Gauss–Legendre on each part). Any rectangle is the signed sum of the four
    corner rectangles at the field point's projection.
    """

    conductor: LayeredHalfSpace
    length_mm: float
    width_mm: float
    centre_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def area_cm2(self) -> float:
        return self.length_mm * self.width_mm / 100.0

    @property
    def half_extent_x_mm(self) -> float:
        return self.length_mm / 2

    def potential_mv_per_ma(self, points_mm: np.ndarray) -> np.ndarray:
        points = as_points(points_mm)
        cx, cy = self.centre_mm
        dx = np.stack(
            [cx - self.length_mm / 2 - points[:, 0], cx + self.length_mm / 2 - points[:, 0]]
        )
        dy = np.stack(
            [cy - self.width_mm / 2 - points[:, 1], cy + self.width_mm / 2 - points[:, 1]]
        )
        _check_reach(np.hypot(np.abs(dx).max(axis=0), np.abs(dy).max(axis=0)))
        out = np.zeros(len(points))
        for depth, members in _by_depth(self.conductor, points):
            cumulative = self.conductor.point_source_moment(depth)
            for i, j, sign in ((1, 1, 1.0), (0, 0, 1.0), (0, 1, -1.0), (1, 0, -1.0)):
                x, y = dx[i, members], dy[j, members]
                out[members] += (
                    sign
                    * np.sign(x)
                    * np.sign(y)
                    * _corner_integral(cumulative, np.abs(x), np.abs(y))
                )
        return out / (self.length_mm * self.width_mm)


def _corner_integral(cumulative, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∫∫ over [0, x] × [0, y] of the radial profile G (``cumulative`` = ∫ G r dr, x, y ≥ 0)."""
    theta_c = np.arctan2(y, x)
    out = np.zeros_like(x)
    safe = (x > 0) & (y > 0)
    xs, ys, tc = x[safe], y[safe], theta_c[safe]
    base = cumulative(0.0)
    # θ in [0, θc]: R = x / cos θ ; θ in [θc, π/2]: R = y / sin θ.
    t1 = 0.5 * tc[:, None] * (_THETA_NODES[None, :] + 1.0)
    t2 = tc[:, None] + 0.5 * (np.pi / 2 - tc[:, None]) * (_THETA_NODES[None, :] + 1.0)
    part1 = (cumulative(xs[:, None] / np.cos(t1)) - base) @ _THETA_WEIGHTS * 0.5 * tc
    part2 = (cumulative(ys[:, None] / np.sin(t2)) - base) @ _THETA_WEIGHTS * 0.5 * (np.pi / 2 - tc)
    out[safe] = part1 + part2
    return out


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
