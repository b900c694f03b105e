"""Fibre populations, recruitment curves, neuropathy, the fast estimator and Dask sweeps."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import stimwise.physiology.estimator as estimator_module
from stimwise.errors import InputError
from stimwise.physiology.conductors.layered import default_half_space
from stimwise.physiology.estimator import (
    EstimatorRangeError,
    build_tables,
    validation_errors,
)
from stimwise.physiology.population import (
    FiberPopulation,
    class_depth_range_mm,
    depth_level_mm,
    fiber_classes,
    sample_population,
)
from stimwise.physiology.recruitment import (
    Neuropathy,
    Placement,
    StimulusRecipe,
    fraction_recruited,
    full_thresholds,
    recruitment_curves,
)

PLACEMENT = Placement(default_half_space(), 9.0, 9.0, gap_mm=10.0)
PULSE = StimulusRecipe("biphasic", 0.1)


def make_population(class_id: str, diameters, depths) -> FiberPopulation:
    spec = fiber_classes()[class_id]
    length, centre = spec.path_mm(PLACEMENT.half_extent_mm)
    n = len(diameters)
    return FiberPopulation(
        class_id=np.full(n, class_id),
        model=np.full(n, spec.model),
        diameter_um=np.asarray(diameters, dtype=float),
        depth_mm=np.asarray(depths, dtype=float),
        length_mm=np.full(n, length),
        centre_x_mm=np.full(n, centre),
    )


# --------------------------------------------------------------------------- populations


def test_every_class_cites_its_diameters_and_depths_with_a_confidence_mark():
    for spec in fiber_classes().values():
        assert any(mark in spec.diameter_source for mark in ("(C", "C-s", "(U"))
        assert any(mark in spec.depth_source for mark in ("C", "U:"))


def test_sampled_fibres_lie_within_their_class_ranges_and_layers():
    conductor = default_half_space(skin_mm=1.2, fat_mm=5.0)
    population = sample_population(
        conductor, 200, classes=tuple(fiber_classes()), electrode_half_extent_mm=17.0, seed=4
    )
    assert len(population) == 800
    for cid, spec in fiber_classes().items():
        members = population.class_id == cid
        d = population.diameter_um[members]
        assert spec.diameter_um.min <= d.min() and d.max() <= spec.diameter_um.max
        low, high = class_depth_range_mm(spec, conductor, None)
        z = population.depth_mm[members]
        assert low - 1e-9 <= z.min() and z.max() <= high + 1e-9
        on_grid = np.isclose(depth_level_mm(z), z) | np.isclose(z, low) | np.isclose(z, high)
        assert on_grid.all()
    motor = population.depth_mm[population.class_id == "aalpha"]
    assert motor.min() >= 1.2 + 5.0  # under skin and fat
    cutaneous = population.depth_mm[population.class_id == "abeta"]
    assert cutaneous.max() <= 1.2


def test_population_is_reproducible_and_depth_override_moves_motor_axons():
    conductor = default_half_space()
    a = sample_population(conductor, 20, electrode_half_extent_mm=10.0, seed=1)
    b = sample_population(conductor, 20, electrode_half_extent_mm=10.0, seed=1)
    np.testing.assert_array_equal(a.diameter_um, b.diameter_um)
    deep = sample_population(
        conductor,
        20,
        classes=("aalpha",),
        electrode_half_extent_mm=10.0,
        depth_overrides_mm={"aalpha": (10.0, 12.0)},
    )
    muscle_top = 1.06 + 3.0
    assert deep.depth_mm.min() >= muscle_top + 10.0 - 1e-9


def test_bad_population_requests_are_input_errors():
    with pytest.raises(InputError, match="fibers"):
        sample_population(default_half_space(), 0, electrode_half_extent_mm=10.0)
    with pytest.raises(InputError, match="classes"):
        sample_population(
            default_half_space(), 5, classes=("gamma",), electrode_half_extent_mm=10.0
        )


# --------------------------------------------------------------------------- curves


def test_fraction_recruited_counts_thresholds_at_or_below_each_amplitude():
    thresholds = np.array([1.0, 2.0, 2.0, np.nan, np.inf])
    np.testing.assert_allclose(
        fraction_recruited(thresholds, np.array([0.5, 1.0, 2.0, 1e9])), [0, 0.2, 0.6, 0.6]
    )


def test_curves_per_class_and_amplitude_for_fraction():
    population = make_population("abeta", [8, 9, 10, 11], [0.5] * 4)
    curves = recruitment_curves(population, np.array([4.0, 3.0, 2.0, 1.0]), np.array([2.5]))
    assert curves.fractions["abeta"].tolist() == [0.5]
    assert curves.amplitude_for_fraction(0.5)["abeta"] == 2.0
    assert curves.amplitude_for_fraction(1.0)["abeta"] == 4.0
    assert curves.fraction_at(3.0) == {"abeta": 0.75}


def test_neuropathy_raises_thresholds_and_removes_large_fibres():
    population = FiberPopulation(
        class_id=np.array(["abeta"] * 10 + ["adelta"] * 10),
        model=np.full(20, "mrg"),
        diameter_um=np.full(20, 5.0),
        depth_mm=np.full(20, 0.5),
        length_mm=np.full(20, 40.0),
        centre_x_mm=np.zeros(20),
    )
    thresholds = np.arange(1.0, 21.0)
    affected = Neuropathy(threshold_factor=2.0, large_fiber_loss_fraction=0.3).apply(
        population, thresholds
    )
    large = affected[:10]
    assert np.isinf(large).sum() == 3
    np.testing.assert_allclose(large[np.isfinite(large)], 2 * thresholds[:10][np.isfinite(large)])
    np.testing.assert_allclose(affected[10:], 2 * thresholds[10:])  # small fibres are not lost
    with pytest.raises(InputError, match="neuropathy_threshold_factor"):
        Neuropathy(threshold_factor=0.5)


# --------------------------------------------------------------------------- full model


def test_full_model_orders_thresholds_by_diameter_and_depth():
    population = make_population("abeta", [6.0, 12.0], [0.6, 0.6])
    thresholds = full_thresholds(population, PLACEMENT, PULSE)
    assert thresholds[1] < thresholds[0]  # large fibres first
    motor = make_population("aalpha", [14.0], [1.06 + 3.0 + 4.0])
    motor_threshold = full_thresholds(motor, PLACEMENT, PULSE)[0]
    assert motor_threshold > thresholds[1]  # deep motor axons after large cutaneous ones


@pytest.mark.slow
def test_opt_in_c_fibres_are_recruited_after_a_delta_at_the_same_depth():
    a_delta = make_population("adelta", [3.0], [0.6])
    c_fibre = make_population("c", [1.0], [0.6])
    a_delta_threshold = full_thresholds(a_delta, PLACEMENT, PULSE)[0]
    c_threshold = full_thresholds(c_fibre, PLACEMENT, PULSE)[0]
    assert np.isfinite(c_threshold) and c_threshold > a_delta_threshold


def test_protocol_train_recipe_refuses_carriers():
    from stimwise.protocol.library import get_protocol

    with pytest.raises(InputError, match="carrier"):
        StimulusRecipe.from_train(get_protocol("hf-ems-neuropathy").waveform)
    recipe = StimulusRecipe.from_train(get_protocol("conventional-tens").waveform)
    assert recipe.pulse_width_ms == pytest.approx(0.1)
    assert recipe.stimulus("mrg").samples.min() == -1.0  # cathodic leading phase


# --------------------------------------------------------------------------- estimator


@pytest.fixture
def tables(tmp_path, monkeypatch):
    monkeypatch.setenv("STIMWISE_CACHE_DIR", str(tmp_path))
    return build_tables(PLACEMENT, PULSE, classes=("abeta",), n_diameters=3, n_depths=1)


def test_estimator_reproduces_its_grid_and_interpolates_held_out_fibres(tables):
    table = tables.tables["abeta"]
    np.testing.assert_allclose(
        table.predict(table.diameters_um, np.full(3, table.depths_mm[0]), 0.1),
        table.thresholds_ma[0, :, 0],
        rtol=1e-9,
    )
    held_out = make_population("abeta", [7.5], [table.depths_mm[0]])
    estimated = tables.estimate(held_out, 0.1)
    full = full_thresholds(held_out, PLACEMENT, PULSE)
    errors = validation_errors(estimated, full)
    assert errors["n_fibres"] == 1
    assert errors["max_rel_error"] < 0.08


def test_HAZ035_estimator_refuses_fibres_and_pulse_widths_outside_its_table(tables):
    depth = tables.tables["abeta"].depths_mm[0]
    with pytest.raises(EstimatorRangeError, match="diameter_um"):
        tables.estimate(make_population("abeta", [13.0], [depth]), 0.1)
    with pytest.raises(EstimatorRangeError, match="pulse_width_ms"):
        tables.estimate(make_population("abeta", [9.0], [depth]), 0.2)
    with pytest.raises(EstimatorRangeError, match="class"):
        tables.estimate(make_population("adelta", [3.0], [depth]), 0.1)


def test_tables_are_cached_by_their_inputs(tables, monkeypatch, tmp_path):
    def no_recompute(*args, **kwargs):
        raise AssertionError("the cached table should have been used")

    monkeypatch.setattr(estimator_module, "full_thresholds", no_recompute)
    again = build_tables(PLACEMENT, PULSE, classes=("abeta",), n_diameters=3, n_depths=1)
    np.testing.assert_array_equal(
        again.tables["abeta"].thresholds_ma, tables.tables["abeta"].thresholds_ma
    )
    assert list(tmp_path.joinpath("threshold-tables").glob("*.npz"))
    other_person = Placement(default_half_space(fat_mm=6.0), 9.0, 9.0, gap_mm=10.0)
    with pytest.raises(AssertionError, match="cached"):
        build_tables(other_person, PULSE, classes=("abeta",), n_diameters=3, n_depths=1)


# --------------------------------------------------------------------------- dask


def test_sweep_on_a_tiny_local_cluster_matches_the_single_process_result():
    from stimwise.physiology.sweep import SweepJob, dask_client, run_sweep

    population = make_population("abeta", [7.0, 11.0], [0.6, 0.8])
    seen = []
    with dask_client("local", n_workers=1, processes=False) as client:
        results = run_sweep(
            [SweepJob("p0", population, PLACEMENT, PULSE)],
            client,
            batch_size=1,
            progress=lambda done, total: seen.append((done, total)),
        )
    # Tasks of one fibre search with other candidate amplitudes than one batch of two: the
    # thresholds agree within the search's 0.1 % bracket (both ends), not bit for bit.
    np.testing.assert_allclose(results[0], full_thresholds(population, PLACEMENT, PULSE), rtol=2e-3)
    assert seen[-1] == (2, 2)


def test_tables_built_on_dask_equal_tables_built_in_process(tmp_path, monkeypatch):
    from stimwise.physiology.sweep import dask_client

    monkeypatch.setenv("STIMWISE_CACHE_DIR", str(tmp_path))
    grid = {"classes": ("abeta",), "n_diameters": 2, "n_depths": 1, "use_cache": False}
    local = build_tables(PLACEMENT, PULSE, **grid)
    with dask_client("local", n_workers=1, processes=False) as client:
        distributed = build_tables(PLACEMENT, PULSE, client=client, **grid)
    np.testing.assert_allclose(
        distributed.tables["abeta"].thresholds_ma, local.tables["abeta"].thresholds_ma, rtol=2e-3
    )


def test_sweep_refuses_a_malformed_scheduler_address():
    from stimwise.physiology.sweep import dask_client

    with pytest.raises(InputError, match="dask"), dask_client("not-an-address"):
        pass


def test_tissue_data_cites_every_conductivity():
    from importlib import resources

    text = resources.files("stimwise.physiology").joinpath("data/tissues.yaml").read_text()
    for layer in yaml.safe_load(text)["layers"]:
        assert layer["conductivity_source"] and layer["conductivity_confidence"] in ("C", "C-s")
