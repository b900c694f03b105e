"""Screening and recommendation time per example patient, in process and as a CLI command.

No target is set by the clinical-layer issue; the figures show that ``recommend`` (which verifies
every candidate placement) stays interactive. The in-process times are medians over repeats after
one warm-up call; the CLI time is a fresh ``stimwise recommend --json`` process, compared with
``stimwise --help`` (interpreter and import start-up) measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_clinical.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.intake import Intake
from stimwise.clinical.recommend import recommend
from stimwise.clinical.screening import screen
from stimwise.protocol.io import load_model_file


def median_ms(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def cli_median_s(arguments: list[str], repeats: int) -> float:
    executable = shutil.which("stimwise") or str(Path(sys.executable).with_name("stimwise"))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([executable, *arguments], check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    patients = {}
    for name in example_names():
        intake = load_model_file(Intake, example_patient_path(name))
        screening = screen(intake)
        report = recommend(intake, screening)
        patients[name] = {
            "screen_ms": round(median_ms(lambda i=intake: screen(i), args.repeats), 3),
            "recommend_ms": round(
                median_ms(lambda i=intake, s=screening: recommend(i, s), args.repeats), 3
            ),
            "recommendations": len(report.recommendations),
            "refused": len(report.not_recommended),
        }
    heaviest = max(patients, key=lambda n: patients[n]["recommend_ms"])
    cli_repeats = max(3, args.repeats // 4)
    figures = {
        "patients": patients,
        "cli_recommend_median_s": round(
            cli_median_s(
                ["recommend", str(example_patient_path(heaviest)), "--json"], cli_repeats
            ),
            3,
        ),
        "cli_help_median_s": round(cli_median_s(["--help"], cli_repeats), 3),
        "cli_patient": heaviest,
        "repeats": args.repeats,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
