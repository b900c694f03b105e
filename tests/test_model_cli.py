"""``stimwise model threshold`` and ``strength-duration``: JSON contract and error paths."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["model", *args])


def test_threshold_json_has_the_contracted_keys():
    result = invoke("threshold", "--fiber", "mrg", "--diameter-um", "12", "--distance-mm", "1",
                    "--pulse-width-ms", "0.1", "--waveform", "biphasic", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # progress bars go to stderr: stdout is one document
    assert doc["threshold_ma"] == doc["upper_ma"] > doc["lower_ma"] > 0
    assert doc["relative_bracket"] < 1e-3
    assert doc["initiation_node"] == doc["centre_node"]
    assert doc["latency_ms"] > 0 and doc["wall_s"] > 0
    assert "MRG" in doc["model"] and doc["warnings"] == []
    assert doc["inputs"]["waveform"] == "biphasic"


def test_HAZ030_every_prediction_says_it_is_not_a_diagnosis_or_a_dose():
    result = invoke("threshold", "--diameter-um", "14", "--rel-tol", "0.05", "--json")
    assert "not a diagnosis" in json.loads(result.stdout)["note"]
    text = invoke("threshold", "--diameter-um", "14", "--rel-tol", "0.05")
    assert text.exit_code == 0 and "not a diagnosis" in text.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--diameter-um", "-3"], "--diameter-um"),
        (["--diameter-um", "25"], "--diameter-um"),
        (["--fiber", "c", "--diameter-um", "8"], "--diameter-um"),
        (["--fiber", "abeta"], "--fiber"),
        (["--pulse-width-ms", "0"], "--pulse-width-ms"),
        (["--pulse-width-ms", "5", "--duration-ms", "3"], "--pulse-width-ms"),
        (["--distance-mm", "0"], "--distance-mm"),
        (["--conductivity-s-per-m", "200"], "--conductivity-s-per-m"),
        (["--temperature-c", "80"], "--temperature-c"),
        (["--waveform", "triangle"], "--waveform"),
    ],
)
def test_HAZ033_invalid_inputs_exit_2_naming_the_option(args, option):
    result = invoke("threshold", *args, "--json")
    assert result.exit_code == 2, result.output
    problems = json.loads(result.stdout)["problems"]
    assert problems[0]["path"] == option


def test_strength_duration_json_and_plot(tmp_path):
    plot = tmp_path / "sd.png"
    result = invoke("strength-duration", "--diameter-um", "14", "--pulse-widths-ms",
                    "0.05,0.1,0.2,0.5", "--rel-tol", "0.01", "--plot", str(plot), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    thresholds = doc["thresholds_ma"]
    assert thresholds == sorted(thresholds, reverse=True)
    assert 0 < doc["rheobase_ma"] < thresholds[-1]
    assert 0.01 < doc["chronaxie_ms"] < 1.0
    assert doc["lapicque"]["law"] == "lapicque"
    assert plot.stat().st_size > 5_000


def test_strength_duration_rejects_a_malformed_list():
    result = invoke("strength-duration", "--pulse-widths-ms", "0.1,abc", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["problems"][0]["path"] == "--pulse-widths-ms"


def test_no_excitation_below_one_ampere_is_null_with_a_warning_not_a_number():
    args = ["--diameter-um", "2", "--distance-mm", "60", "--pulse-width-ms", "0.01",
            "--duration-ms", "1", "--length-mm", "10"]
    result = invoke("threshold", *args, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["threshold_ma"] is None and doc["latency_ms"] is None
    assert any("no excitation up to 1000 mA" in w for w in doc["warnings"])
    text = invoke("threshold", *args)
    assert "no excitation" in text.stdout


def test_threshold_plot_draws_the_run_at_threshold(tmp_path):
    plot = tmp_path / "run.png"
    result = invoke("threshold", "--diameter-um", "14", "--rel-tol", "0.05", "--duration-ms", "3",
                    "--plot", str(plot), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(plot)
    assert plot.stat().st_size > 10_000
    bad = invoke("threshold", "--diameter-um", "14", "--plot", str(tmp_path / "run.txt"), "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["problems"][0]["path"] == "--plot"
