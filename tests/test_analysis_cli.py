"""``stimwise response|population|nof1|cohort`` end to end on a temporary SQLite database."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cohort")
    url = f"sqlite:///{folder / 'cohort.sqlite3'}"
    result = runner.invoke(app, ["cohort", "simulate", "12", "--db", url, "--seed", "3",
                                 "--end-date", "2026-06-30", "--truth",
                                 str(folder / "truth.json"), "--json"])
    assert result.exit_code == 0, result.output
    return url, json.loads((folder / "truth.json").read_text())


def test_cohort_simulate_reports_what_it_wrote(cohort_db):
    url, truth = cohort_db
    assert len(truth) == 12 and truth[0]["pseudonym"] == "SIM3-00000"
    again = runner.invoke(app, ["cohort", "simulate", "12", "--db", url, "--seed", "3"])
    assert again.exit_code == 2 and "SIM3-00000" in again.output  # duplicates refused


def test_response_json_gives_the_verdict_and_a_suggestion_needing_acceptance(cohort_db, tmp_path):
    url, truth = cohort_db
    plot = tmp_path / "response.png"
    result = runner.invoke(app, ["response", truth[0]["pseudonym"], "--db", url, "--json",
                                 "--suggest-dose", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verdict"]["category"] in (
        "substantial", "moderate", "non_responder", "faded", "borderline")
    suggestion = document["dose_suggestion"]
    assert suggestion["status"] == "suggested" and suggestion["requires_acceptance"]
    assert 10 <= suggestion["dose"]["amplitude_ma"] <= 30
    assert plot.stat().st_size > 10_000


def test_response_text_names_the_verdict(cohort_db):
    url, truth = cohort_db
    result = runner.invoke(app, ["response", truth[1]["pseudonym"], "--db", url])
    assert result.exit_code == 0, result.output
    assert "verdict:" in result.output and "habituation:" in result.output


def test_population_json_has_rates_with_intervals(cohort_db):
    url, _ = cohort_db
    result = runner.invoke(app, ["population", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["patients"] == 12
    low, high = summary["responders"]["wilson_95"]
    assert low <= summary["responders"]["rate"] <= high


def test_a_bad_as_of_date_is_an_input_error(cohort_db):
    url, truth = cohort_db
    result = runner.invoke(app, ["response", truth[0]["pseudonym"], "--db", url,
                                 "--as-of", "30/06/2026"])
    assert result.exit_code == 2 and "--as-of" in result.output


def test_HAZ055_cohort_simulate_never_writes_to_the_default_database():
    result = runner.invoke(app, ["cohort", "simulate", "3"])
    assert result.exit_code == 2 and "--db" in result.output


def test_HAZ055_cohort_simulate_refuses_a_database_with_real_patients(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    added = runner.invoke(app, ["patient", "add", "P001", "--db", url,
                                "--enrolled-on", "2026-01-01"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(app, ["cohort", "simulate", "3", "--db", url])
    assert result.exit_code == 1 and "real" in result.output


def test_nof1_plan_then_analyse_from_a_csv_diary(tmp_path):
    plan_path = tmp_path / "plan.json"
    result = runner.invoke(app, ["nof1", "plan", "--a", "conventional-tens", "--b", "low-dose",
                                 "--start", "2026-03-02", "--pairs", "3", "--seed", "4",
                                 "--out", str(plan_path)])
    assert result.exit_code == 0, result.output
    plan = json.loads(plan_path.read_text())
    rng = np.random.default_rng(0)
    lines = ["date,pain_nrs"]
    for period in plan["periods"]:
        level = 3.0 if period["treatment"] == "A" else 6.0
        for offset in range(period["last_day"] - period["first_day"] + 1):
            day = np.datetime64(period["first_date"]) + offset
            lines.append(f"{day},{np.clip(level + rng.normal(0, 0.7), 0, 10):.0f}")
    diary = tmp_path / "diary.csv"
    diary.write_text("\n".join(lines) + "\n")
    analysed = runner.invoke(app, ["nof1", "analyse", str(plan_path), "--diary", str(diary),
                                   "--json"])
    assert analysed.exit_code == 0, analysed.output
    outcome = json.loads(analysed.stdout)
    assert outcome["p_a_better_by_mid"] > 0.95 and outcome["complete_blocks"] == 3


def test_nof1_analyse_names_a_bad_csv_line(tmp_path):
    plan_path = tmp_path / "plan.json"
    runner.invoke(app, ["nof1", "plan", "--a", "x", "--b", "y", "--start", "2026-03-02",
                        "--out", str(plan_path)])
    diary = tmp_path / "diary.csv"
    diary.write_text("date,pain_nrs\n2026-03-02,5\n2026-03-03,lots\n")
    result = runner.invoke(app, ["nof1", "analyse", str(plan_path), "--diary", str(diary)])
    assert result.exit_code == 2 and "line 3" in result.output


def test_nof1_analyse_reads_a_patients_diary_from_the_records(cohort_db, tmp_path):
    url, truth = cohort_db
    plan_path = tmp_path / "plan.json"
    planned = runner.invoke(app, ["nof1", "plan", "--a", "x", "--b", "y", "--start",
                                  "2026-04-01", "--out", str(plan_path)])
    assert planned.exit_code == 0, planned.output
    result = runner.invoke(app, ["nof1", "analyse", str(plan_path), "--patient",
                                 truth[0]["pseudonym"], "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert sum(b["days_a"] + b["days_b"] for b in outcome["blocks"]) >= 21
    # the same person's diary has no A/B effect: no important difference is claimed for A
    assert outcome["p_a_better_by_mid"] is None or outcome["p_a_better_by_mid"] < 0.9
