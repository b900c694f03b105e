"""Weekly adherence against the home schedule, and the response on self-reported sessions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from stimwise.analysis.adherence import Schedule, weekly_adherence
from stimwise.analysis.assessment import assess
from stimwise.analysis.series import DailyPain, PatientSeries, Sessions
from stimwise.cli.main import app

runner = CliRunner()


def _series(days, reported, as_of_day) -> PatientSeries:
    n = len(days)
    nothing = np.full(n, np.nan)
    sessions = Sessions(day=np.asarray(days, dtype=np.int64), amplitude_ma=nothing,
                        phase_width_us=np.full(n, 100.0), frequency_hz=np.full(n, 90.0),
                        minutes=np.full(n, 20.0), nrs_pre=nothing, nrs_post=nothing,
                        self_reported=np.asarray(reported, dtype=bool))
    return PatientSeries("P", __import__("datetime").date(2026, 1, 5),
                         DailyPain(np.zeros(0, np.int64), np.zeros(0)), sessions, as_of_day)


def test_weekly_adherence_counts_days_sessions_minutes_and_skips_the_open_week():
    schedule = Schedule(sessions_per_week=5, sessions_per_day=1, session_minutes=20)
    # week 0: 5 sessions on 4 days (two on day 2); week 1: 2 sessions; day 15 (week 2, open)
    series = _series([0, 2, 2, 4, 6, 8, 9, 15], [1, 1, 1, 0, 1, 1, 1, 1], as_of_day=15)
    result = weekly_adherence(series, schedule)
    first, second, third = result.weeks
    assert (first.sessions, first.days_with_session, first.minutes) == (5, 4, 100.0)
    assert first.self_reported_sessions == 4 and first.days_share == pytest.approx(0.8)
    assert second.sessions_share == pytest.approx(0.4)
    assert not third.complete and result.complete_weeks == 2
    assert result.sessions_share == pytest.approx(7 / 10)
    assert result.minutes_share == pytest.approx(140 / 200)


def test_assessment_names_self_reported_data():
    assessment = assess(_series([0, 1, 2], [1, 1, 0], as_of_day=3))
    assert assessment.provenance.self_reported == 2
    assert assessment.provenance.device_recorded == 1
    assert any("self-reported" in reason for reason in assessment.verdict.reasons)


@pytest.mark.parametrize("weeks, settled", [(4, False), (7, True)])
def test_cohort_of_self_logged_sessions_gives_adherence_and_a_verdict(tmp_path, weeks, settled):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    made = runner.invoke(app, ["cohort", "simulate", "1", "--seed", "3", "--db", url,
                               "--self-logged", "tu-7000", "--weeks", str(weeks),
                               "--end-date", "2026-11-30", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["sessions"] == "self-reported on tu-7000"
    answer = runner.invoke(app, ["response", "SIM3-00000", "--db", url, "--json"])
    document = json.loads(answer.output, parse_constant=_refuse_non_json_number)
    assert document["provenance"]["device_recorded"] == 0
    assert document["provenance"]["self_reported"] > 0
    assert "self-reported" in document["verdict"]["reasons"][-1]
    assert document["weekly_adherence"]["complete_weeks"] == weeks
    assert 0 < document["weekly_adherence"]["sessions_share"] <= 1
    assert (document["verdict"]["category"] != "not_enough_data") is settled


def _refuse_non_json_number(name: str):
    raise AssertionError(f"{name} is not JSON: an unknown number must be written as null")


def test_response_on_self_reported_sessions_says_the_unknown_current_is_not_known(tmp_path):
    """The current of a self-reported session is unknown (the person reports a level): the
    JSON has null where the number is missing, and the table says "not known", never nan."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    made = runner.invoke(app, ["cohort", "simulate", "1", "--seed", "3", "--db", url,
                               "--self-logged", "tu-7000", "--weeks", "7",
                               "--end-date", "2026-11-30"])
    assert made.exit_code == 0, made.output
    answer = runner.invoke(app, ["response", "SIM3-00000", "--db", url, "--json"])
    document = json.loads(answer.output, parse_constant=_refuse_non_json_number)
    current = next(e for e in document["dose_response"]["effects"]
                   if e["parameter"] == "amplitude_ma")
    assert current["low"] is None and current["high"] is None
    table = runner.invoke(app, ["response", "SIM3-00000", "--db", url], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "nan" not in table.output.lower()
    assert "not known" in table.output


def test_fhir_export_carries_self_reported_sessions_and_import_skips_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner.invoke(app, ["patient", "add", "P001", "--enrolled-on", "2026-01-05", "--db", url])
    runner.invoke(app, ["prescription", "add", "P001", "crps-gentle-sensory", "--home-range-ma",
                        "2:8", "--valid-from", "2026-01-05", "--db", url])
    logged = runner.invoke(app, ["session", "log", "P001", "--profile", "tu-7000", "--minutes",
                                 "20", "--setting", "frequency_hz=150", "--at",
                                 "2026-02-02T09:00:00+00:00", "--db", url])
    assert logged.exit_code == 0, logged.output
    out = tmp_path / "b.json"
    assert runner.invoke(app, ["fhir", "export", "P001", "--out", str(out),
                               "--db", url]).exit_code == 0
    resources = [e["resource"] for e in json.loads(out.read_text())["entry"]]
    statement = next(r for r in resources if r["resourceType"] == "DeviceUseStatement")
    values = {x["url"].rsplit("/", 1)[-1]: x for x in statement["extension"]}
    assert values["provenance"]["valueCode"] == "self_reported"
    assert values["flagged"]["valueBoolean"] is True
    assert values["setting-frequency-hz"]["valueQuantity"]["value"] == 150
    assert any(r["resourceType"] == "Device" and r["modelNumber"] == "TU 7000"
               for r in resources)
    assert not any(r["resourceType"] == "Procedure" for r in resources)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    imported = runner.invoke(app, ["fhir", "import", str(out), "--db", other])
    assert imported.exit_code == 0, imported.output
