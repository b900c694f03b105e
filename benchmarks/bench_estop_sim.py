"""Emergency stop → last pulse on the simulated stimulator, on the real monotonic clock.

Case: the library's conventional TENS (100 Hz asymmetric biphasic, 100/400 µs phases, two
channels) at 20 mA on the default simulated device (3 ms command latency). Each trial arms,
sets the amplitude, starts, waits a random 5–50 ms and calls ``emergency_stop``. Measured from
just before the call:

* ``stop_to_output_off_ms``: to the instant the pulse log's segments ended;
* ``stop_to_last_pulse_end_ms``: to the end of the last delivered pulse (0 when that pulse had
  ended before the call; a pulse in progress is cut where the output stopped);
* ``call_return_ms``: until the call returned.

Target (delivery issue): worst case at most 10 ms. Prints one JSON document.

Run: ``.venv/bin/python benchmarks/bench_estop_sim.py [--trials N] [--seed S]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time

from stimwise.device.simulated import SimulatedStimulator
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify

TARGET_MS = 10.0
AMPLITUDE_MA = 20.0


def trial(device: SimulatedStimulator, wait_s: float) -> dict[str, float]:
    labels = [c.label for c in device.status().channels]
    device.arm()
    device.update(dict.fromkeys(labels, AMPLITUDE_MA))
    device.start()
    threading.Event().wait(wait_s)
    called_s = time.monotonic()
    device.emergency_stop()
    returned_s = time.monotonic()
    off_s = device.log.segments()[-1].t_end_s  # every channel's segment ends at the same instant
    last_pulse_s = device.last_pulse_time_s() or called_s
    return {
        "stop_to_output_off_ms": (off_s - called_s) * 1e3,
        "stop_to_last_pulse_end_ms": max(0.0, last_pulse_s - called_s) * 1e3,
        "call_return_ms": (returned_s - called_s) * 1e3,
    }


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 4), "max": round(max(values), 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    plan = verify(Prescription.from_protocol(get_protocol("conventional-tens"))).require_plan()
    device = SimulatedStimulator()
    device.connect()
    device.configure(plan)
    results = [trial(device, rng.uniform(0.005, 0.05)) for _ in range(args.trials)]
    device.close()
    figures = {key: summary([r[key] for r in results]) for key in results[0]}
    in_progress = sum(r["stop_to_last_pulse_end_ms"] > 0 for r in results)
    worst = max(f["max"] for f in figures.values())
    print(
        json.dumps(
            {
                "benchmark": "simulated stimulator: emergency_stop -> last delivered pulse",
                "clock": "time.monotonic",
                "trials": args.trials,
                "target_ms": TARGET_MS,
                **figures,
                "trials_with_a_pulse_in_progress_at_the_call": in_progress,
                "meets_target": worst <= TARGET_MS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
