"""``stimwise model recruitment`` and ``stimwise model activation``: JSON, flags, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import stimwise.physiology.activation_report as activation_module
from stimwise.cli.main import app

runner = CliRunner()

# Stand-in thresholds per class for the activation tests: the report's logic (order, fractions,
# flags) is under test there, not the cable model (tested in test_physiology_population.py).
CLASS_THRESHOLDS_MA = {"abeta": (10.0, 20.0), "aalpha": (35.0, 45.0), "adelta": (60.0, 90.0)}


@pytest.fixture
def stand_in_thresholds(monkeypatch):
    def thresholds(population, placement, recipe, *, method, **_options):
        out = np.empty(len(population))
        for cid, (low, high) in CLASS_THRESHOLDS_MA.items():
            members = np.flatnonzero(population.class_id == cid)
            out[members] = np.linspace(low, high, members.size)
        return out

    monkeypatch.setattr(activation_module, "population_thresholds", thresholds)


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_recruitment_full_model_json_for_one_pulse():
    result = invoke(
        "model", "recruitment", "--pulse-width-ms", "0.1", "--classes", "abeta",
        "--fibers", "2", "--estimator", "full", "--electrode-area-cm2", "9", "--gap-mm", "10",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "model_prediction"
    assert "not a dose" in document["disclaimer"]
    assert document["placement"]["active_area_cm2"] == 9.0
    (row,) = document["classes"]
    assert row["class_id"] == "abeta" and 0 < row["onset_ma"] <= row["most_ma"]
    fractions = document["recruitment_curves"]["fraction_recruited"]["abeta"]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("conventional-tens", "--pulse-width-ms", "0.1"), "PROTOCOL"),
        (("--pulse-width-ms", "0.1", "--dask", "not-an-address"), "dask"),
        (("--pulse-width-ms", "0.1", "--classes", "gamma"), "--classes"),
        (("--pulse-width-ms", "0.1", "--waveform", "sine"), "--waveform"),
        (("--pulse-width-ms", "0.1", "--electrode-shape", "star"), "electrode_shape"),
        (("--pulse-width-ms", "0.1", "--fat-mm", "-1"), "fat_mm"),
        (("hf-ems-neuropathy",), "waveform.kind"),
    ],
)
def test_recruitment_user_mistakes_exit_2_naming_the_field(args, field):
    result = invoke("model", "recruitment", *args, "--json")
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "Traceback" not in result.output


def test_HAZ034_activation_is_labelled_a_model_prediction_with_its_amplitude(stand_in_thresholds):
    result = invoke(
        "model", "activation", "conventional-tens", "--classes", "abeta,adelta,aalpha",
        "--fibers", "20", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "model_prediction"
    assert "not a diagnosis" in document["disclaimer"] and "not a dose" in document["disclaimer"]
    assert document["assumed_amplitude_ma"] == 30.0
    assert document["activation_order"] == ["abeta", "aalpha", "adelta"]
    gate = document["gate_control"]
    assert gate["abeta_fraction"] == 1.0
    assert gate["pain_fraction_adelta_c"] == 0.0 and gate["motor_fraction"] == 0.0
    assert document["flags"] == [] and document["safety_verdict"] in ("pass", "warn")
    assert "model prediction" in document["statement"]


def test_HAZ036_activation_flags_an_amplitude_above_the_ceiling_or_blocked(
    stand_in_thresholds, tmp_path
):
    result = invoke(
        "model", "activation", "conventional-tens", "--amplitude-ma", "40",
        "--classes", "abeta,aalpha", "--fibers", "20", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["assumed_amplitude_ma"] == 40.0
    assert any("exceeds the protocol's prescribed ceiling 30 mA" in f for f in document["flags"])
    assert document["gate_control"]["motor_fraction"] > 0

    caps = tmp_path / "caps.yaml"
    caps.write_text("max_amplitude_ma: 20\n")
    blocked = invoke(
        "model", "activation", "conventional-tens", "--caps", str(caps),
        "--classes", "abeta", "--fibers", "5", "--json",
    )  # fmt: skip
    assert blocked.exit_code == 0, blocked.output
    document = json.loads(blocked.stdout)
    assert document["safety_verdict"] == "block"
    assert any("BLOCKS" in f and "must not be delivered" in f for f in document["flags"])


def test_activation_neuropathy_lowers_recruitment_and_is_cited(stand_in_thresholds):
    args = ("model", "activation", "conventional-tens", "--classes", "abeta", "--fibers", "20")
    healthy = json.loads(invoke(*args, "--json").stdout)
    affected = invoke(
        *args, "--neuropathy-threshold-factor", "1.5", "--large-fiber-loss", "0.25", "--json"
    )
    assert affected.exit_code == 0, affected.output
    document = json.loads(affected.stdout)
    assert document["gate_control"]["abeta_fraction"] < healthy["gate_control"]["abeta_fraction"]
    assert "1984;47:184-9" in document["neuropathy"]["source"]
    bad = invoke(*args, "--neuropathy-threshold-factor", "0.5")
    assert bad.exit_code == 2 and "neuropathy_threshold_factor" in bad.output


def test_activation_text_and_plot(stand_in_thresholds, tmp_path):
    out = tmp_path / "activation.png"
    result = invoke(
        "model", "activation", "conventional-tens", "--classes", "abeta,aalpha", "--fibers",
        "10", "--plot", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "activation order" in result.output and "model prediction" in result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
