"""The pure parts of ``benchmarks/validate_neuron.py``: they run without NEURON or PyFibers."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from benchmark_modules import load_benchmark

validate = load_benchmark("validate_neuron")
ref = sys.modules["neuron_reference"]


def _row(fiber: str, neuron: float | None, stimwise: float | None, **extra) -> dict:
    point = {
        "fiber": fiber,
        "diameter_um": 10.0,
        "distance_mm": 1.0,
        "waveform": "monophasic",
        "pulse_width_ms": 0.1,
    }
    neuron_result = None if neuron is None else {"threshold_ma": neuron, "seconds": 40.0}
    stimwise_result = {"threshold_ma": stimwise, "s_per_threshold": 0.1}
    row = validate.make_row(point, neuron_result, stimwise_result)
    row.update(extra)
    return row


def test_quick_grid_spans_diameters_waveforms_and_the_c_fibre():
    grid = validate.build_grid("quick")
    assert grid[0]["fiber"] == "c"
    mrg = [p for p in grid if p["fiber"] == "mrg"]
    assert len(mrg) == 3 * 1 * 3 * 2
    assert {p["diameter_um"] for p in mrg} == {5.7, 10.0, 14.0}
    assert {p["waveform"] for p in mrg} == {"monophasic", "biphasic"}
    assert {p["pulse_width_ms"] for p in mrg} == {0.05, 0.2, 1.0}
    assert len({validate.point_key(p) for p in grid}) == len(grid)


def test_full_grid_is_the_whole_product_plus_the_c_fibre():
    grid = validate.build_grid("full")
    mrg = [p for p in grid if p["fiber"] == "mrg"]
    assert len(mrg) == 5 * 2 * 5 * 2
    assert {p["distance_mm"] for p in mrg} == {1.0, 2.0}
    assert min(p["diameter_um"] for p in mrg) == 5.7
    assert max(p["diameter_um"] for p in mrg) == 14.0
    assert sum(p["fiber"] == "c" for p in grid) == 1
    assert len({validate.point_key(p) for p in grid}) == len(grid)


def test_unknown_grid_name_is_refused():
    with pytest.raises(ValueError, match="quick"):
        validate.build_grid("medium")


@pytest.mark.parametrize("width_ms", [0.05, 0.1, 0.2, 0.5, 1.0])
def test_monophasic_pulse_covers_exactly_round_pw_over_dt_steps_from_step_100(width_ms):
    samples = ref.sampled_waveform("monophasic", width_ms, 2.0)
    on = np.flatnonzero(samples)
    n = round(width_ms / ref.DT_MS)
    assert len(on) == n
    assert on[0] == 100
    assert on[-1] == 100 + n - 1
    assert np.all(samples[on] == 1.0)


def test_biphasic_pulse_is_equal_opposite_phases_without_gap():
    samples = ref.sampled_waveform("biphasic", 0.2, 2.0)
    assert np.all(samples[100:300] == 1.0)
    assert np.all(samples[300:500] == -1.0)
    assert np.count_nonzero(samples) == 400
    assert samples.sum() == 0.0


def test_unknown_waveform_is_refused():
    with pytest.raises(ValueError, match="monophasic"):
        ref.unit_waveform("triphasic", 0.1)


def test_stimulus_check_accepts_the_reference_and_rejects_a_one_step_shift():
    reference = -ref.sampled_waveform("biphasic", 0.1, 1.0)
    assert validate.stimulus_matches_reference(reference, "biphasic", 0.1)
    assert not validate.stimulus_matches_reference(np.roll(reference, 1), "biphasic", 0.1)
    assert not validate.stimulus_matches_reference(-reference, "biphasic", 0.1)


def test_relative_error_and_missing_values():
    assert validate.relative_error(1.02, 1.0) == pytest.approx(0.02)
    assert validate.relative_error(0.97, 1.0) == pytest.approx(-0.03)
    assert validate.relative_error(None, 1.0) is None
    assert validate.relative_error(1.0, None) is None
    assert validate.relative_error(float("nan"), 1.0) is None
    assert validate.relative_error(1.0, 0.0) is None


def test_error_statistics_are_per_fibre_family():
    rows = [
        _row("mrg", 1.0, 1.008),
        _row("mrg", 2.0, 1.96),
        _row("mrg", 1.0, 1.005),
        _row("c", 4.0, 4.2),
    ]
    mrg = validate.error_stats(rows, "mrg")
    assert mrg["n_compared"] == 3
    assert mrg["median_abs_error"] == pytest.approx(0.008)
    assert mrg["max_abs_error"] == pytest.approx(0.02)
    assert mrg["meets_target"] is True
    c = validate.error_stats(rows, "c")
    assert c["median_abs_error"] == pytest.approx(0.05)
    assert c["meets_target"] is False


def test_a_threshold_stimwise_misses_fails_the_family():
    rows = [_row("mrg", 1.0, 1.0), _row("mrg", 1.0, None)]
    stats = validate.error_stats(rows, "mrg")
    assert stats["n_stimwise_missing"] == 1
    assert stats["meets_target"] is False


def test_speed_summary_reports_ratio_and_distance_to_500x():
    batch = {"s_per_threshold": 0.2, "n_thresholds": 100}
    speed = validate.speed_summary([40.0, 30.0, 50.0], batch)
    assert speed["pyfibers_median_s_per_threshold"] == 40.0
    assert speed["speed_ratio"] == pytest.approx(200.0)
    assert speed["meets_50x"] is True
    assert speed["fraction_of_500x"] == pytest.approx(0.4)
    assert speed["factor_missing_to_500x"] == pytest.approx(2.5)
    slow = validate.speed_summary([40.0], {"s_per_threshold": 2.0, "n_thresholds": 100})
    assert slow["meets_50x"] is False
    assert "speed_ratio_cpu" not in slow


def test_cpu_time_ratio_is_reported_next_to_the_wall_time_ratio():
    batch = {"s_per_threshold": 0.4, "cpu_s_per_threshold": 0.5, "n_thresholds": 100}
    speed = validate.speed_summary([60.0, 40.0], batch, [45.0, 35.0])
    assert speed["speed_ratio"] == pytest.approx(125.0)
    assert speed["speed_ratio_cpu"] == pytest.approx(80.0)


def test_summary_combines_accuracy_speed_and_section_step_costs():
    rows = [
        _row("mrg", 1.0, 1.01, neuron_section_steps=20_000_000, neuron_cpu_s_per_threshold=30.0),
        _row("c", 4.0, 4.0, neuron_s_per_threshold=400.0, neuron_central_initiation=False),
    ]
    batch = {"s_per_threshold": 0.4, "n_thresholds": 100, "us_per_section_step": 0.05}
    summary = validate.summarize(rows, batch, {"us_per_section_step": 0.8})
    assert summary["speed_mrg"]["speed_ratio"] == pytest.approx(100.0)
    assert summary["pyfibers_c_s_per_threshold"] == 400.0
    steps = summary["per_section_step_us"]
    assert steps["neuron_alone"] == 0.8
    assert steps["pyfibers_loop"] == pytest.approx(40.0 / 20_000_000 * 1e6)
    assert steps["pyfibers_loop_cpu"] == pytest.approx(30.0 / 20_000_000 * 1e6)
    assert steps["stimwise"] == 0.05
    assert summary["non_central_initiation"] == [("c", 10.0, 1.0, "monophasic", 0.1)]


def test_neuron_rows_of_an_earlier_run_are_reused(tmp_path):
    point = validate.build_grid("quick")[1]
    neuron = {
        "threshold_ma": 0.12, "lower_ma": 0.1199, "upper_ma": 0.12, "seconds": 41.0,
        "cpu_seconds": 40.0,
        "simulations": 15, "ap_time_ms": 1.0, "central_initiation": True,
        "initiation_offsets_nodes": [0], "top_bound_ma": 0.3, "section_steps": 1e7,
    }
    path = tmp_path / "ref.json"
    path.write_text(json.dumps({"rows": [validate.make_row(point, neuron, None)]}))
    loaded = validate.load_neuron_rows(path)
    assert loaded == {validate.point_key(point): neuron}


def test_workers_must_be_positive(capsys):
    with pytest.raises(SystemExit) as stop:
        validate.parse_args(["--workers", "0"])
    assert stop.value.code == 2
    assert "--workers" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["neuron", "pyfibers"])
def test_missing_package_is_named(monkeypatch, missing):
    """Whatever this environment has installed, the one package that is absent is named."""
    present = SimpleNamespace(submodule_search_locations=["."])
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else present
    )
    assert repr(missing) in ref.missing_extra_reason()


def test_uncompiled_mechanisms_are_detected(monkeypatch, tmp_path):
    (tmp_path / "MOD" / "x86_64").mkdir(parents=True)
    fake = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: fake)
    assert "compiled" in ref.missing_extra_reason()
    (tmp_path / "MOD" / "x86_64" / "libnrnmech.so").write_bytes(b"")
    assert ref.missing_extra_reason() is None


def test_missing_extra_gives_one_clear_sentence_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(ref, "missing_extra_reason", lambda: "package 'neuron' is not installed")
    assert validate.main(["--grid", "quick"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert 'pip install -e ".[validation]"' in captured.err
    assert "pyfibers_compile" in captured.err
    assert "'neuron' is not installed" in captured.err


def test_stimwise_side_uses_the_reference_stimulus_and_finds_a_threshold():
    point = {
        "fiber": "mrg",
        "diameter_um": 14.0,
        "distance_mm": 2.0,
        "waveform": "biphasic",
        "pulse_width_ms": 0.2,
    }
    results, timing = validate.stimwise_thresholds([point])
    row = results[validate.point_key(point)]
    assert row["stimulus_matches_reference"] is True
    assert 0.01 < row["threshold_ma"] < 5.0
    assert row["lower_ma"] < row["threshold_ma"] == row["upper_ma"]
    assert (row["upper_ma"] - row["lower_ma"]) / row["upper_ma"] <= validate.REL_TOL
    assert abs(row["initiation_offset_nodes"]) <= 1
    assert timing["jit_warmup_s"] > 0


def test_brackets_overlap_when_they_share_a_point():
    assert validate.brackets_overlap([0.1199, 0.1200], [0.11995, 0.12005]) is True
    assert validate.brackets_overlap([0.1199, 0.1200], [0.1200, 0.1201]) is True
    assert validate.brackets_overlap([0.1199, 0.1200], [0.1201, 0.1202]) is False
    assert validate.brackets_overlap([None, 0.12], [0.1199, 0.12]) is None


def test_overlapping_brackets_are_counted_per_family():
    point = validate.build_grid("quick")[1]
    neuron = {"threshold_ma": 0.12, "lower_ma": 0.1199, "upper_ma": 0.12}
    near = {"threshold_ma": 0.12005, "lower_ma": 0.11993, "upper_ma": 0.12005}
    far = {"threshold_ma": 0.125, "lower_ma": 0.1249, "upper_ma": 0.125}
    rows = [validate.make_row(point, neuron, near), validate.make_row(point, neuron, far)]
    assert [r["brackets_overlap"] for r in rows] == [True, False]
    assert validate.error_stats(rows, "mrg")["n_brackets_overlap"] == 1


def test_bisection_never_tests_the_estimate_itself():
    # PyFibers bisects arithmetically between the bounds; if the a-priori (stimwise) estimate sat
    # on that lattice NEURON could return it exactly and hide a disagreement below the bracket.
    estimate = 0.0685
    lower, upper = ref.search_bounds_ma(estimate)
    assert upper == pytest.approx(2.5 * estimate)
    assert lower == ref.BOTTOM_BOUND_MA
    for _ in range(20):
        mid = (lower + upper) / 2
        assert abs(mid / estimate - 1) > 1e-9
        lower, upper = (lower, mid) if mid > estimate else (mid, upper)
