"""Wall time of ``stimwise check <library id> --json`` as a user runs it (a fresh process).

Target (issue: stimulation core): median under 0.5 s on the 2-core reference machine. Prints one
JSON document; compares against the bare interpreter start-up measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_check.py [--repeats N]``
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

PROTOCOLS = ("conventional-tens", "nmes-strengthening", "hf-ems-neuropathy")


def wall_times_s(command: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    executable = shutil.which("stimwise") or str(Path(sys.executable).with_name("stimwise"))
    baseline = wall_times_s([sys.executable, "-c", "pass"], args.repeats)
    results = {}
    for protocol in PROTOCOLS:
        times = wall_times_s([executable, "check", protocol, "--json"], args.repeats)
        results[protocol] = {
            "median_s": round(statistics.median(times), 4),
            "max_s": round(max(times), 4),
        }
    medians = [r["median_s"] for r in results.values()]
    print(
        json.dumps(
            {
                "benchmark": "stimwise check <id> --json (fresh process)",
                "repeats": args.repeats,
                "python_startup_median_s": round(statistics.median(baseline), 4),
                "protocols": results,
                "worst_median_s": max(medians),
                "target_median_s": 0.5,
                "meets_target": max(medians) < 0.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
