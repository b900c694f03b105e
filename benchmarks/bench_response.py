"""Response verdict and population summary timings on SQLite; truth recovery over seeds.

Targets (issue 6): the verdict for one patient with 2 years of daily diary and 500 sessions in
under 200 ms; the population summary of 10,000 patients × 100 sessions in under 10 s on SQLite.
Done-when: responder classification accuracy ≥ 95 % when data suffice, reported here over
several seeded cohorts, together with how many people the rules leave undecided.

The verdict time is what ``stimwise response`` spends after start-up: open the database, load
the person's series (SQL), assess it. The population database is generated once into a temporary
folder (or ``--population-db FILE``, reused when it exists); its generation time is reported but
is not the target.

Run: ``.venv/bin/python benchmarks/bench_response.py [--patients 10000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from stimwise.analysis.assessment import assess
from stimwise.analysis.cohort import (
    CohortSettings,
    draw_patient,
    simulate_cohort,
    simulate_patient,
)
from stimwise.analysis.from_records import load_series, population_from_database, write_cohort
from stimwise.analysis.responder import is_responder
from stimwise.records.access import Actor
from stimwise.records.schema import open_database

ACTOR = Actor("benchmark", "clinician")
LAST_DAY = date(2026, 6, 30)
UNDECIDED = ("not_enough_data", "borderline")


def _timed(function, repeats: int, cpu: list[float] | None = None) -> list[float]:
    """Wall times; with ``cpu``, also this process's CPU times (SQLite runs in-process), which
    other programs on a shared machine do not inflate."""
    times = []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return times


def verdict_latency(folder: Path, repeats: int) -> dict:
    """One person, 2 years of daily diary (730 days) and about 500 sessions."""
    settings = CohortSettings(therapy_days=730 - 14, missing_day_probability=(0.0, 0.0),
                              sparse_diarist_share=0.0)
    rng = np.random.default_rng(7)
    truth = replace(draw_patient("SIM-LONG-00001", rng, settings, kind="habituating_responder"),
                    adherence=0.70, missing_day_probability=0.0)
    person = simulate_patient(truth, rng, settings)
    url = f"sqlite:///{folder / 'one-patient.sqlite3'}"
    with open_database(url) as database, database.transaction() as session:
        write_cohort(session, ACTOR, [person], LAST_DAY)

    def verdict() -> None:
        with open_database(url) as database, database.reading() as session:
            series = load_series(session, ACTOR, truth.patient_id)
        assess(series)

    times = _timed(verdict, repeats)
    in_memory = _timed(lambda: assess(person.series), repeats)
    return {
        "diary_days": int(person.series.pain.day.size),
        "sessions": len(person.series.sessions),
        "median_ms": round(1000 * statistics.median(times), 1),
        "max_ms": round(1000 * max(times), 1),
        "assessment_only_median_ms": round(1000 * statistics.median(in_memory), 1),
        "target_ms": 200,
        "target_met": statistics.median(times) < 0.2,
    }


def population(path: Path, patients: int, repeats: int) -> dict:
    """``patients`` people with exactly 100 sessions each (one a day) and their diaries."""
    url = f"sqlite:///{path}"
    generated_s = None
    if not path.exists():
        settings = CohortSettings(therapy_days=100, adherence=(1.0, 1.0))
        start = time.perf_counter()
        batch = 500
        for first in range(0, patients, batch):
            size = min(batch, patients - first)
            cohort = simulate_cohort(size, seed=first, settings=settings)
            with open_database(url) as database, database.transaction() as session:
                write_cohort(session, ACTOR, cohort, LAST_DAY)
        generated_s = round(time.perf_counter() - start, 1)

    def summary():
        with open_database(url) as database, database.reading() as session:
            return population_from_database(session, Actor("analyst", "researcher"))

    cpu: list[float] = []
    times = _timed(summary, repeats, cpu)
    result = summary()
    return {
        "patients": result.patients,
        "sessions": result.sessions,
        "generation_s": generated_s,
        "median_s": round(statistics.median(times), 2),
        "max_s": round(max(times), 2),
        "median_cpu_s": round(statistics.median(cpu), 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "responder_rate": result.responders.rate,
        "target_s": 10,
        "target_met": statistics.median(times) < 10,
    }


def truth_recovery(seeds: int, size: int) -> dict:
    """Responder classification against the known truth on seeded cohorts."""
    rows = []
    for seed in range(seeds):
        decided = correct = undecided = 0
        for person in simulate_cohort(size, seed=seed):
            category = assess(person.series).verdict.category
            if category in UNDECIDED:
                undecided += 1
                continue
            decided += 1
            correct += is_responder(category) == is_responder(person.true_verdict())
        rows.append({"seed": seed, "decided": decided, "undecided": undecided,
                     "accuracy": round(correct / decided, 4)})
    accuracies = [r["accuracy"] for r in rows]
    return {
        "cohort_size": size, "per_seed": rows,
        "mean_accuracy": round(statistics.mean(accuracies), 4),
        "min_accuracy": min(accuracies),
        "mean_undecided_share": round(statistics.mean(r["undecided"] / size for r in rows), 3),
        "target": "accuracy >= 0.95 on decided verdicts",
        "target_met": min(accuracies) >= 0.95,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--population-db", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        document = {
            "benchmark": "response verdicts and population summaries (SQLite)",
            "verdict_one_patient": verdict_latency(folder, args.repeats),
            "population_summary": population(
                args.population_db or folder / "population.sqlite3", args.patients,
                max(1, args.repeats // 2)),
            "truth_recovery": truth_recovery(args.seeds, 200),
        }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
