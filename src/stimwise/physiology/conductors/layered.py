"""Layered half-space volume conductor (skin, fat, muscle) under surface electrodes.

The tissue fills ``z >= 0`` (z is depth below the skin, in mm); the skin surface is insulating
except under the electrodes. Each layer is homogeneous and transversely isotropic about the skin
normal (in-plane conductivity ``conductivity_s_per_m``, normal conductivity
``normal_conductivity_s_per_m``); the last layer is semi-infinite. The field is quasi-static
(Laplace's equation, no capacitive or propagation effects).

Method (semi-analytic, Hankel transform)
----------------------------------------
For a surface current density ``J(r)`` with Hankel transform ``Ĵ(k) = ∫ J(r) J0(kr) r dr``, the
potential in layer i is ``φ(r, z) = ∫ φ̂_i(k, z) J0(k r) k dk`` with
``φ̂_i = C_i [exp(-kλ_i(z - z_{i-1})) + Γ_i exp(-kλ_i h_i) exp(-kλ_i(z_i - z))]``,
``λ_i = sqrt(σ_h/σ_n)``. Γ_i is the reflection coefficient of everything below layer i, built
bottom-up; C_i follow top-down from the surface flux condition and potential continuity. Every
exponent is ≤ 0, so the recursion never overflows. For a uniform disc of radius a carrying I,
``Ĵ = I J1(ka)/(π a k)``; a point source is the limit ``I/(2π)``.

The k-integral is done with a fixed composite Gauss–Legendre rule over panels one half-period
of one period of the fastest oscillation (2π / max(r_max, a)), up to where the depth decay
``exp(-k Σ λ_i Δz_i)`` falls below 1e-11. This was preferred over ``scipy.integrate.quad`` with
``weight='cos'``-type weights (one adaptive call per point: far too slow for thousands of
points) and over Ogata's method (designed for z = 0 where there is no exponential decay; here the
decay makes a truncated fixed rule converge exponentially, and one rule serves a whole vector of
radii as one matrix product). The resulting radial profile at one depth is tabulated on a grid
fine compared with the depth and interpolated with a cubic spline; profiles are cached per
(geometry, depth, source radius).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources

import numpy as np
import yaml
from pydantic import Field, model_validator
from scipy.interpolate import CubicSpline
from scipy.special import j0, j1

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel

log = logging.getLogger(__name__)

MV_PER_MA_FACTOR = 1000.0 / (2.0 * np.pi)
"""1 mA into σ (S/m) seen at R (mm): φ = I/(2π σ R) V = 1000/(2π σ R_mm) mV per mA."""

MIN_DEPTH_MM = 0.05
"""Points shallower than this lie in the epidermis under the gel, outside the model."""

MAX_RADIUS_MM = 250.0
"""Largest horizontal distance from a source the profiles cover."""

_DECAY_EXPONENT = 25.0  # exp(-25) ≈ 1.4e-11: truncation of the k-integral
_NODES_PER_PANEL = 8


class TissueLayer(StrictModel):
    """One tissue layer: in-plane and normal conductivity, thickness (None: semi-infinite)."""

    name: str = Field(min_length=1, max_length=40)
    conductivity_s_per_m: float = Field(gt=0, le=10, description="In-plane conductivity.")
    normal_conductivity_s_per_m: float | None = Field(
        default=None, gt=0, le=10, description="Conductivity along the skin normal (default: same)."
    )
    thickness_mm: float | None = Field(default=None, gt=0, le=200)

    @property
    def sigma_normal(self) -> float:
        return self.normal_conductivity_s_per_m or self.conductivity_s_per_m

    @property
    def anisotropy_ratio(self) -> float:
        """λ = sqrt(σ_in-plane / σ_normal): depth is stretched by λ inside the layer."""
        return float(np.sqrt(self.conductivity_s_per_m / self.sigma_normal))

    @property
    def effective_conductivity(self) -> float:
        """sqrt(σ_in-plane σ_normal): the flux a unit decay carries across a horizontal plane."""
        return float(np.sqrt(self.conductivity_s_per_m * self.sigma_normal))


class LayeredHalfSpace(StrictModel):
    """Stack of layers from the skin surface down; the last one is semi-infinite."""

    layers: tuple[TissueLayer, ...] = Field(min_length=1, max_length=8)

    @model_validator(mode="after")
    def _last_layer_is_semi_infinite(self) -> LayeredHalfSpace:
        *upper, last = self.layers
        missing = [layer.name for layer in upper if layer.thickness_mm is None]
        if missing:
            raise ValueError(f"layers {missing} need thickness_mm (only the last is unbounded)")
        if last.thickness_mm is not None:
            raise ValueError(f"the last layer ({last.name!r}) is semi-infinite: omit thickness_mm")
        return self

    @property
    def interfaces_mm(self) -> np.ndarray:
        """Depths of the layer boundaries (top of layer i+1), shape (n_layers - 1,)."""
        return np.cumsum([layer.thickness_mm for layer in self.layers[:-1]])

    def layer_index(self, depth_mm: float) -> int:
        return int(np.searchsorted(self.interfaces_mm, depth_mm, side="right"))

    def decay_depth_mm(self, depth_mm: float) -> float:
        """Σ λ_i × (part of the depth in layer i): the exponential decay length of the kernel."""
        tops = np.concatenate([[0.0], self.interfaces_mm])
        bottoms = np.concatenate([self.interfaces_mm, [np.inf]])
        inside = np.clip(np.minimum(bottoms, depth_mm) - tops, 0.0, None)
        return float(
            sum(layer.anisotropy_ratio * d for layer, d in zip(self.layers, inside, strict=True))
        )

    # ------------------------------------------------------------------ spectral kernel

    def transfer(self, k: np.ndarray, depth_mm: float) -> np.ndarray:
        """k·φ̂(k, z) for a surface flux of transform 1 (units: 1/(S/m)), shape like k.

        Multiplying by Ĵ(k)·J0(kr) and integrating over k gives the potential.
        """
        layers = self.layers
        n = len(layers)
        lam = np.array([layer.anisotropy_ratio for layer in layers])
        sig = np.array([layer.effective_conductivity for layer in layers])
        h = np.array([layer.thickness_mm or 0.0 for layer in layers])
        k = np.asarray(k, dtype=float)
        # Γ_i bottom-up; g_i = Γ_i exp(-2 k λ_i h_i) is the reflection seen at the top of layer i.
        gamma = [np.zeros_like(k) for _ in range(n)]
        g = [np.zeros_like(k) for _ in range(n)]
        for i in range(n - 2, -1, -1):
            q = sig[i + 1] * (1 - g[i + 1]) / ((1 + g[i + 1]) * sig[i])
            gamma[i] = (1 - q) / (1 + q)
            g[i] = gamma[i] * np.exp(-2 * k * lam[i] * h[i])
        # C_i top-down (stored as k·C_i, finite at k -> 0).
        kc = 1.0 / (sig[0] * (1 - g[0]))
        target = self.layer_index(depth_mm)
        top = 0.0
        for i in range(target):
            decay = np.exp(-k * lam[i] * h[i])
            kc = kc * decay * (1 + gamma[i]) / (1 + g[i + 1])
            top += h[i]
        i = target
        below_top = depth_mm - top
        down = np.exp(-k * lam[i] * below_top)
        if i == n - 1:
            return kc * down
        up = gamma[i] * np.exp(-k * lam[i] * (2 * h[i] - below_top))
        return kc * (down + up)

    # ------------------------------------------------------------------ radial profiles

    def disc_potential_mv_per_ma(
        self, radii_mm: np.ndarray, depth_mm: float, source_radius_mm: float
    ) -> np.ndarray:
        """Potential (mV per mA) at depth ``depth_mm`` and horizontal distances ``radii_mm`` from
        the centre of a uniform-current-density disc of radius ``source_radius_mm`` (0: point).

        Direct quadrature (no table): the reference the cached profiles are built from.
        """
        radii = np.asarray(radii_mm, dtype=float)
        flat = radii.ravel()
        order = np.argsort(flat)
        out = np.empty(flat.size)
        # Radii in ascending blocks: each block's rule only resolves its own largest radius, so
        # the many near radii do not pay for the few far ones.
        for start in range(0, flat.size, 64):
            chosen = order[start : start + 64]
            block = flat[chosen]
            k, weights = self._k_rule(depth_mm, max(float(block.max()), source_radius_mm))
            spectrum = weights * self.transfer(k, depth_mm) * _disc_factor(k, source_radius_mm)
            out[chosen] = j0(np.outer(block, k)) @ spectrum
        return MV_PER_MA_FACTOR * out.reshape(radii.shape)

    def _k_rule(self, depth_mm: float, extent_mm: float) -> tuple[np.ndarray, np.ndarray]:
        decay = self.decay_depth_mm(depth_mm)
        k_max = _DECAY_EXPONENT / decay
        panel = 2.0 * np.pi / max(extent_mm, 1.0)
        n_panels = max(int(np.ceil(k_max / panel)), 8)
        x, w = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
        edges = np.linspace(0.0, k_max, n_panels + 1)
        half = 0.5 * np.diff(edges)
        mid = 0.5 * (edges[:-1] + edges[1:])
        k = (mid[:, None] + half[:, None] * x[None, :]).ravel()
        weights = (half[:, None] * w[None, :]).ravel()
        return k, weights

    def radial_profile(self, depth_mm: float, source_radius_mm: float) -> CubicSpline:
        """Cached spline of :meth:`disc_potential_mv_per_ma` over 0 … MAX_RADIUS_MM."""
        return _profile(self, round(float(depth_mm), 9), round(float(source_radius_mm), 9))

    def point_source_moment(self, depth_mm: float):
        """Cached H(R) = ∫₀ᴿ G(r) r dr of the point-source profile G at ``depth_mm`` (a spline
        antiderivative): the radial integral that surface patches are built from."""
        return _moment(self, round(float(depth_mm), 9))

    def check_depths(self, depths_mm: np.ndarray) -> None:
        """Refuse points above the skin or in the epidermis film (outside the model)."""
        depths = np.asarray(depths_mm, dtype=float)
        bad = depths[~(depths >= MIN_DEPTH_MM)]
        if bad.size:
            raise InputError(
                FieldProblem(
                    "points_mm[:, 2] (depth)",
                    float(bad[0]),
                    f"a depth ≥ {MIN_DEPTH_MM} mm below the skin (z is positive downwards)",
                )
            )

    def __hash__(self) -> int:  # frozen pydantic models of tuples: hash by value for the cache
        return hash(self.model_dump_json())


def _disc_factor(k: np.ndarray, radius_mm: float) -> np.ndarray:
    """2π Ĵ(k) for a 1 mA uniform disc: 2 J1(ka)/(ka), → 1 for a point (a = 0)."""
    if radius_mm <= 0:
        return np.ones_like(k)
    ka = k * radius_mm
    return np.where(ka > 1e-8, 2.0 * j1(ka) / np.where(ka > 1e-8, ka, 1.0), 1.0)


def profile_radii_mm(depth_mm: float, source_radius_mm: float) -> np.ndarray:
    """Radii at which a profile is tabulated.

    The profile of a disc at depth z changes on the scale z only within a few depths of the
    disc's rim (and of the axis for a point source); elsewhere on the scale of the layers
    (≥ 1 mm). So: spacing z/4 within six depths of the rim, 0.25 mm out to the rim plus ten
    depths, then geometric growth of 4 % to the end.
    """
    fine = min(max(depth_mm / 4.0, 0.01), 0.5)
    coarse = max(fine, 0.25)
    near_end = min(source_radius_mm + 10 * depth_mm + 5.0, MAX_RADIUS_MM)
    rim = np.arange(
        max(source_radius_mm - 6 * depth_mm, 0.0), source_radius_mm + 6 * depth_mm + fine, fine
    )
    near = np.arange(0.0, near_end, coarse)
    far = near_end * 1.04 ** np.arange(0, int(np.log(MAX_RADIUS_MM / near_end) / np.log(1.04)) + 2)
    return np.unique(np.concatenate([rim, near, far]))


@functools.lru_cache(maxsize=512)
def _profile(conductor: LayeredHalfSpace, depth_mm: float, source_radius_mm: float) -> CubicSpline:
    radii = profile_radii_mm(depth_mm, source_radius_mm)
    values = conductor.disc_potential_mv_per_ma(radii, depth_mm, source_radius_mm)
    log.debug(
        "layered profile: depth %.3f mm, radius %.3f mm, %d radii",
        depth_mm,
        source_radius_mm,
        radii.size,
    )
    return CubicSpline(radii, values, bc_type=((1, 0.0), (2, 0.0)))


@functools.lru_cache(maxsize=512)
def _moment(conductor: LayeredHalfSpace, depth_mm: float):
    profile = conductor.radial_profile(depth_mm, 0.0)
    radii = profile.x
    return CubicSpline(radii, radii * profile(radii)).antiderivative()


@functools.lru_cache(maxsize=1)
def default_tissue_data() -> dict:
    """The cited default layers (``physiology/data/tissues.yaml``)."""
    text = resources.files("stimwise.physiology").joinpath("data/tissues.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def default_half_space(
    *, skin_mm: float | None = None, fat_mm: float | None = None, isotropic_muscle: bool = False
) -> LayeredHalfSpace:
    """Skin, fat and semi-infinite muscle with cited conductivities and the person's thicknesses.

    ``skin_mm`` / ``fat_mm`` replace the default thicknesses (the person's own, e.g. from
    ultrasound); ``isotropic_muscle`` uses the in-plane muscle value in every direction.
    """
    problems = [
        FieldProblem(name, value, "a thickness > 0 and ≤ 200 mm")
        for name, value in (("skin_mm", skin_mm), ("fat_mm", fat_mm))
        if value is not None and not (0 < value <= 200)
    ]
    if problems:
        raise InputError(problems)
    overrides = {"skin": skin_mm, "fat": fat_mm}
    layers = []
    for entry in default_tissue_data()["layers"]:
        thickness = overrides.get(entry["name"]) or entry.get("thickness_mm")
        normal = None if isotropic_muscle else entry.get("normal_conductivity_s_per_m")
        layers.append(
            TissueLayer(
                name=entry["name"],
                conductivity_s_per_m=entry["conductivity_s_per_m"],
                normal_conductivity_s_per_m=normal,
                thickness_mm=thickness,
            )
        )
    return LayeredHalfSpace(layers=tuple(layers))
