"""The clinical commands: screen, recommend, check --patient, instruments, schemas (exit codes)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.clinical.examples import example_patient_path

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def patient(name: str) -> str:
    return str(example_patient_path(name))


def test_screen_json_gives_decision_sites_caps_and_both_texts():
    result = invoke("screen", patient("crps-allodynia"), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["decision"] == "eligible_with_precautions"
    assert "SR-ALLODYNIA" in document["forbidden_sites"]["left_wrist"]
    assert document["caps"]["forbidden_sites"]["left_wrist"].startswith("forbidden by")
    assert "SR-ALLODYNIA" in document["clinician_text"]
    assert "SR-" not in document["patient_text"]


def test_HAZ014_screen_exits_1_while_a_clearance_is_missing():
    result = invoke("screen", patient("pacemaker"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["decision"] == "needs_specialist_clearance"
    human = invoke("screen", patient("pacemaker"))
    assert human.exit_code == 1
    assert "NEEDS SPECIALIST CLEARANCE" in human.stdout


def test_recommend_prints_ranked_verified_suggestions():
    result = invoke("recommend", patient("diabetic-neuropathy-insensate-feet"))
    assert result.exit_code == 0, result.output
    assert "#1 Conventional" in result.stdout
    assert "not recommended" in result.stdout
    document = json.loads(
        invoke("recommend", patient("diabetic-neuropathy-insensate-feet"), "--json").stdout
    )
    top = document["recommendations"][0]
    assert top["safety_verdict"] in ("pass", "warn")
    assert top["prescription"]["protocol"]["id"] == top["protocol_id"]


def test_recommend_exits_1_when_the_screening_does_not_allow_stimulation():
    result = invoke("recommend", patient("pacemaker"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["recommendations"] == []


def test_HAZ018_check_with_patient_blocks_motor_level_on_reduced_sensation_skin():
    result = invoke(
        "check", "acupuncture-like-tens", "--patient",
        patient("diabetic-neuropathy-insensate-feet"), "--json",
    )
    assert result.exit_code == 1
    rules = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert "patient.site-max-level" in rules


def test_check_refuses_caps_and_patient_together(tmp_path):
    caps = tmp_path / "caps.yaml"
    caps.write_text("max_amplitude_ma: 10\n")
    result = invoke("check", "conventional-tens", "--caps", str(caps), "--patient",
                    patient("crps-allodynia"))
    assert result.exit_code == 2
    assert "either --caps or --patient" in result.output


def test_HAZ022_a_bad_intake_file_exits_2_naming_each_field(tmp_path):
    text = example_patient_path("crps-allodynia").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace("site: left_wrist\n", "site: left_wirst\n", 1)
        .replace("answers: {current: 6, average: 6, worst: 8}", "answers: {current: 11}")
        .replace('epilepsy: "no"\n', "")
    )
    result = invoke("screen", str(bad), "--json")
    assert result.exit_code == 2
    problems = {p["path"]: p for p in json.loads(result.stdout)["problems"]}
    assert problems["implants.0.site"]["value"] == "left_wirst"
    assert "site-selectors" in problems["implants.0.site"]["expected"]
    assert problems["epilepsy"]["expected"] == "a value (this field is required)"
    assert problems["instruments.0.answers.current"]["value"] == 11
    assert "instruments.0.answers.average" in problems
    human = invoke("screen", str(bad))
    assert human.exit_code == 2
    assert "Traceback" not in human.output


def test_instruments_score_and_list(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "responses:\n"
        "  - instrument: dn4\n"
        "    version: interview\n"
        "    answers: {burning: yes, painful_cold: no, electric_shocks: yes, tingling: yes,\n"
        "              pins_and_needles: no, numbness: no, itching: no}\n"
    )
    result = invoke("instruments", "score", str(answers), "--json")
    assert result.exit_code == 0, result.output
    (score,) = json.loads(result.stdout)
    assert score["total"] == 3 and score["positive"] is True
    listing = json.loads(invoke("instruments", "list", "--json").stdout)
    assert {row["id"] for row in listing} >= {"budapest", "css", "dn4", "mnsi_examination", "pgic"}


def test_schemas_for_patient_files_and_site_selectors():
    schema = json.loads(invoke("schema", "patient").stdout)
    assert {"implants", "cardiac", "epilepsy", "sensation"} <= set(schema["required"])
    selectors = json.loads(invoke("schema", "site-selectors").stdout)
    assert selectors["left_foot"] == ["left_foot_dorsal", "left_foot_plantar", "left_toes"]
    assert json.loads(invoke("schema", "instrument-responses").stdout)["title"]
