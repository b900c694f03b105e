"""Layered half-space conductor against closed forms, boundary conditions and convergence."""

from __future__ import annotations

import numpy as np
import pytest

from stimwise.errors import InputError
from stimwise.physiology.conductors.electrodes import (
    DiscElectrode,
    RectangularElectrode,
    bipolar_pair,
    surface_electrode,
)
from stimwise.physiology.conductors.layered import (
    MV_PER_MA_FACTOR,
    LayeredHalfSpace,
    TissueLayer,
    default_half_space,
)


def stack(*layers: tuple[float, float | None]) -> LayeredHalfSpace:
    return LayeredHalfSpace(
        layers=tuple(
            TissueLayer(name=f"l{i}", conductivity_s_per_m=s, thickness_mm=h)
            for i, (s, h) in enumerate(layers)
        )
    )


HOMOGENEOUS = stack((0.2, 1.0), (0.2, 3.0), (0.2, None))


def test_equal_layers_match_the_on_axis_disc_closed_form():
    radius, sigma = 12.0, 0.2
    depths = [0.3, 1.0, 2.5, 10.0]
    for z in depths:
        got = HOMOGENEOUS.disc_potential_mv_per_ma(np.array([0.0]), z, radius)[0]
        exact = 1000.0 * (np.hypot(radius, z) - z) / (np.pi * radius**2 * sigma)
        assert got == pytest.approx(exact, rel=1e-6)


def test_equal_layers_point_source_is_twice_the_full_space_potential():
    r = np.array([0.5, 5.0, 40.0, 200.0])
    z = 2.0
    got = HOMOGENEOUS.disc_potential_mv_per_ma(r, z, 0.0)
    full_space = 1000.0 / (4 * np.pi * 0.2 * np.hypot(r, z))
    np.testing.assert_allclose(got, 2 * full_space, rtol=1e-6)


def test_disc_far_field_tends_to_the_image_point_source():
    electrode = DiscElectrode(HOMOGENEOUS, area_cm2=4.0)
    points = np.array([[150.0, 0.0, 5.0], [0.0, 120.0, 20.0]])
    got = electrode.potential_mv_per_ma(points)
    point = 2 * 1000.0 / (4 * np.pi * 0.2 * np.linalg.norm(points, axis=1))
    np.testing.assert_allclose(got, point, rtol=2e-3)


def test_two_layers_match_the_image_series():
    s1, s2, h, z = 0.43, 0.025, 1.0, 0.6
    conductor = stack((s1, h), (s2, None))
    r = np.array([0.2, 3.0, 30.0])
    k = (s1 - s2) / (s1 + s2)
    series = sum(k**n / np.hypot(r, 2 * n * h + z) for n in range(3000))
    series += sum(k**m / np.hypot(r, 2 * m * h - z) for m in range(1, 3000))
    np.testing.assert_allclose(
        conductor.disc_potential_mv_per_ma(r, z, 0.0), MV_PER_MA_FACTOR / s1 * series, rtol=1e-6
    )


def test_anisotropic_half_space_matches_the_stretched_point_source():
    sh, sn, z = 0.56, 0.13, 4.0
    conductor = LayeredHalfSpace(
        layers=(TissueLayer(name="m", conductivity_s_per_m=sh, normal_conductivity_s_per_m=sn),)
    )
    r = np.array([0.0, 2.0, 25.0])
    lam = np.sqrt(sh / sn)
    exact = MV_PER_MA_FACTOR / (np.sqrt(sh * sn) * np.hypot(r, lam * z))
    np.testing.assert_allclose(conductor.disc_potential_mv_per_ma(r, z, 0.0), exact, rtol=1e-6)


@pytest.mark.parametrize("interface_index", [0, 1])
def test_potential_and_normal_current_are_continuous_across_layers(interface_index):
    conductor = default_half_space()
    boundary = float(conductor.interfaces_mm[interface_index])
    upper, lower = conductor.layers[interface_index], conductor.layers[interface_index + 1]
    r = np.array([0.0, 4.0, 15.0])
    eps = 1e-4

    def phi(z: float) -> np.ndarray:
        return conductor.disc_potential_mv_per_ma(r, z, 10.0)

    above, below = phi(boundary - eps), phi(boundary + eps)
    np.testing.assert_allclose(above, below, rtol=1e-3)
    flux_above = upper.sigma_normal * (phi(boundary - eps) - phi(boundary - 3 * eps)) / (2 * eps)
    flux_below = lower.sigma_normal * (phi(boundary + 3 * eps) - phi(boundary + eps)) / (2 * eps)
    np.testing.assert_allclose(flux_above, flux_below, rtol=2e-2)
    # The potential's slope itself jumps (conductivities differ), so the check is not vacuous.
    slope_above = flux_above / upper.sigma_normal
    slope_below = flux_below / lower.sigma_normal
    assert not np.allclose(slope_above, slope_below, rtol=0.1)


def test_integral_has_converged():
    conductor = default_half_space()
    r = np.array([0.0, 10.0, 14.0, 60.0])
    coarse = conductor.disc_potential_mv_per_ma(r, 0.8, 14.0)
    import stimwise.physiology.conductors.layered as layered

    original = layered._NODES_PER_PANEL
    try:
        layered._NODES_PER_PANEL = 16
        fine = conductor.disc_potential_mv_per_ma(r, 0.8, 14.0)
    finally:
        layered._NODES_PER_PANEL = original
    np.testing.assert_allclose(coarse, fine, rtol=1e-7)


def test_cached_profile_agrees_with_direct_quadrature():
    conductor = default_half_space(skin_mm=1.2, fat_mm=4.0)
    radii = np.array([0.0, 7.3, 13.9, 14.4, 22.0, 95.0])
    direct = conductor.disc_potential_mv_per_ma(radii, 0.9, 14.1)
    np.testing.assert_allclose(conductor.radial_profile(0.9, 14.1)(radii), direct, rtol=1e-4)


def test_rectangle_matches_the_homogeneous_closed_form_and_the_disc_far_away():
    length, width, sigma = 40.0, 20.0, 0.2

    def exact(x0: float, y0: float, z: float) -> float:
        def f(x: float, y: float) -> float:
            r = np.sqrt(x * x + y * y + z * z)
            return x * np.log(y + r) + y * np.log(x + r) - z * np.arctan(x * y / (z * r))

        xs = (-length / 2 - x0, length / 2 - x0)
        ys = (-width / 2 - y0, width / 2 - y0)
        total = f(xs[1], ys[1]) - f(xs[0], ys[1]) - f(xs[1], ys[0]) + f(xs[0], ys[0])
        return 1000.0 / (2 * np.pi * sigma) * total / (length * width)

    points = np.array(
        [[0, 0, 0.3], [19.5, 0, 0.3], [20.5, 3, 0.5], [35, 12, 2.0], [-10, -9.8, 0.4]]
    )
    got = RectangularElectrode(HOMOGENEOUS, length, width).potential_mv_per_ma(points)
    np.testing.assert_allclose(got, [exact(*p) for p in points], rtol=1e-4)
    conductor = default_half_space()
    far = np.array([[200.0, 0.0, 8.0]])
    square = RectangularElectrode(conductor, 50.0, 50.0)
    disc = DiscElectrode(conductor, 25.0)
    np.testing.assert_allclose(
        square.potential_mv_per_ma(far), disc.potential_mv_per_ma(far), rtol=1e-2
    )


def test_bipolar_pair_is_antisymmetric_between_equal_electrodes():
    pair = bipolar_pair(default_half_space(), 9.0, 9.0, gap_mm=10.0)
    centre_x = pair.ret.centre_mm[0]
    x = np.linspace(-20, centre_x + 20, 9)
    points = np.stack([x, np.zeros_like(x), np.full_like(x, 2.0)], axis=1)
    mirrored = points.copy()
    mirrored[:, 0] = centre_x - x
    v = pair.potential_mv_per_ma(points)
    np.testing.assert_allclose(v, -pair.potential_mv_per_ma(mirrored), rtol=1e-9, atol=1e-9)
    assert v[0] > 0 > v[-1]


def test_electrode_area_sets_the_disc_radius_in_mm():
    electrode = surface_electrode(default_half_space(), 25.0)
    assert electrode.radius_mm == pytest.approx(np.sqrt(2500 / np.pi))
    square = surface_electrode(default_half_space(), 25.0, "square")
    assert square.length_mm == pytest.approx(50.0)


def test_HAZ037_bad_depth_area_or_shape_is_an_input_error():
    conductor = default_half_space()
    with pytest.raises(InputError, match="depth"):
        DiscElectrode(conductor, 4.0).potential_mv_per_ma(np.array([[0.0, 0.0, -1.0]]))
    with pytest.raises(InputError, match="electrode_area_cm2"):
        surface_electrode(conductor, 0.0)
    with pytest.raises(InputError, match="electrode_shape"):
        surface_electrode(conductor, 4.0, "hexagon")
    with pytest.raises(InputError, match="fat_mm"):
        default_half_space(fat_mm=-2.0)


def test_last_layer_must_be_unbounded():
    with pytest.raises(ValueError, match="semi-infinite"):
        stack((0.2, 1.0), (0.3, 2.0))
