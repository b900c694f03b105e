"""The command-line contract (ARCHITECTURE §4): JSON documents and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.protocol.library import library
from stimwise.protocol.models import Protocol

runner = CliRunner()

METRIC_KEYS = {
    "charge_per_phase_uc",
    "net_charge_per_pulse_uc",
    "dc_current_ua",
    "rms_current_ma",
    "rms_current_cycle_ma",
    "current_density_ma_per_cm2",
    "charge_density_uc_per_cm2",
    "shannon_k",
    "energy_per_pulse_mj",
    "average_power_w",
    "power_density_w_per_cm2",
    "pulses_per_second",
    "verdict",
    "findings",
}

BAD_PROTOCOL = """\
id: bad-tens
name: Bad TENS
modality: TENS
goal: pain_modulation
mechanism: gate control
waveform:
  kind: pulse_train
  pulse: {kind: biphasic_symmetric, phase_width_us: -200}
  frequency_hz: 100
intensity: {level: sensory, max_amplitude_ma: 30}
channels:
  - label: A
    electrodes:
      - {site: left_forearm_dorsal, area_cm2: 25}
      - {site: left_upper_arm_posterior, area_cm2: 25}
session: {duration_min: 30}
"""


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_protocols_list_json_names_every_library_protocol():
    result = invoke("protocols", "list", "--json")
    assert result.exit_code == 0
    assert sorted(p["id"] for p in json.loads(result.stdout)) == sorted(library())


def test_protocols_show_json_round_trips_into_the_model():
    result = invoke("protocols", "show", "burst-tens", "--json")
    assert result.exit_code == 0
    assert Protocol.model_validate_json(result.stdout) == library()["burst-tens"]


def test_check_json_has_the_contracted_keys_and_hand_computed_values(tmp_path):
    path = tmp_path / "tens.yaml"
    path.write_text(BAD_PROTOCOL.replace("-200", "200"))
    result = invoke("check", str(path), "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document.keys() >= METRIC_KEYS
    assert document["verdict"] == "pass"
    assert document["charge_per_phase_uc"] == pytest.approx(6.0)
    assert document["rms_current_ma"] == pytest.approx(6.0)
    assert document["current_density_ma_per_cm2"] == pytest.approx(0.24)


def test_check_blocked_protocol_exits_1_with_verdict_block():
    result = invoke(
        "check", "nmes-strengthening", "--electrode-area-cm2", "1", "--amplitude-ma", "200",
        "--json",
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["verdict"] == "block"
    assert document["fingerprint"] is None
    assert "FDA.power-density" in {f["rule_id"] for f in document["findings"]}


def test_check_with_fda_loads_reports_three_loads():
    result = invoke("check", "conventional-tens", "--fda-loads", "--json")
    document = json.loads(result.stdout)
    assert document["load_ohm"] == 500
    assert [m["load_ohm"] for m in document["extra_loads"]] == [2000, 10000]


def test_HAZ009_check_with_caps_file_forbidding_a_site_exits_1(tmp_path):
    caps = tmp_path / "caps.yaml"
    site = library()["conventional-tens"].channels[0].electrodes[0].site
    caps.write_text(f"forbidden_sites: {{{site}: open wound}}\nsource: screening test\n")
    result = invoke("check", "conventional-tens", "--caps", str(caps), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["verdict"] == "block"


@pytest.mark.parametrize(
    ("args", "path_fragment"),
    [
        (("check", "no-such-protocol"), "protocol"),
        (("check", "conventional-tens", "--electrode-area-cm2", "0"), "--electrode-area-cm2"),
        (("check", "conventional-tens", "--amplitude-ma", "-3"), "--amplitude-ma"),
        (("check", "missing-file.yaml"), "file"),
        (("schema", "nonsense"), "NAME"),
    ],
)
def test_HAZ007_invalid_input_exits_2_naming_the_field(args, path_fragment):
    result = invoke(*args)
    assert result.exit_code == 2
    assert path_fragment in result.output
    assert "Traceback" not in result.output


def test_HAZ007_malformed_protocol_json_error_names_path_and_value(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PROTOCOL)
    result = invoke("check", str(path), "--json")
    assert result.exit_code == 2
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["path"] == "waveform.pulse.phase_width_us"
    assert problem["value"] == -200
    assert "greater than 0" in problem["expected"]


def test_HAZ007_real_process_prints_one_paragraph_and_no_traceback(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    completed = subprocess.run(
        [sys.executable, "-m", "stimwise", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "well-formed YAML" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["protocol", "prescription", "patient-caps", "limits"])
def test_schema_prints_a_json_schema(name):
    result = invoke("schema", name)
    assert result.exit_code == 0
    assert "properties" in json.loads(result.stdout)


def test_schema_body_sites_lists_the_vocabulary():
    sites = json.loads(invoke("schema", "body-sites").stdout)
    assert "left_forearm_dorsal" in sites and "lumbar_midline" in sites


def test_HAZ004_cli_export_of_a_blocked_protocol_exits_1_and_writes_nothing(tmp_path):
    out = tmp_path / "x.npz"
    result = invoke(
        "waveform", "export", "nmes-strengthening", "--out", str(out),
        "--electrode-area-cm2", "1", "--amplitude-ma", "200",
    )
    assert result.exit_code == 1
    assert "FDA.power-density" in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_export_and_plot_write_their_files(tmp_path):
    assert invoke("waveform", "export", "burst-tens", "--out", str(tmp_path / "b.csv"),
                  "--seconds", "0.5").exit_code == 0
    assert (tmp_path / "b.csv.json").exists()
    assert invoke("waveform", "plot", "burst-tens", "--out", str(tmp_path / "b.svg")).exit_code == 0
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")


def test_demo_runs_end_to_end_and_shows_the_gate(tmp_path):
    result = invoke("demo", "--out-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "export refused" in result.output
    # clinical layer: the sample patient is screened and gets verified suggestions
    assert "ELIGIBLE WITH PRECAUTIONS" in result.output
    assert "crps-gentle-sensory" in result.output
    assert "forbidden by SR-ALLODYNIA" in result.output
    # delivery: a short session on the simulated stimulator completes
    assert "outcome: completed" in result.output
    names = {p.name for p in tmp_path.iterdir()}
    journals = {n for n in names if n.endswith("-conventional-tens.jsonl")}
    assert len(journals) == 1
    # records: the journal is the simulated person's session, their verdict, a FHIR export
    assert "stored from its journal (completed" in result.output
    assert "Is it working for SIM11-00000?" in result.output and "verdict:" in result.output
    assert names - journals == {
        "conventional-tens.png", "conventional-tens.npz", "conventional-tens.npz.json",
        "demo.sqlite3", "SIM11-00000-fhir-bundle.json",
    }
    bundle = json.loads((tmp_path / "SIM11-00000-fhir-bundle.json").read_text())
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert bundle["resourceType"] == "Bundle" and {"Patient", "Procedure"} <= kinds
