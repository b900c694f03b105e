"""Emergency stop → last pulse on the RehaStim 2 and RehaMove P24 emulators, through the real
drivers and a pty.

Case: two channels of 250 µs symmetric biphasic pulses at 40 Hz (a 25 ms period) at 20 mA;
the emulator answers after 5 ms. Each trial arms (which reloads the channel list, or enters the
mid level), starts, sets 20 mA, waits a random 5–100 ms and calls ``emergency_stop``. Measured
from just before the call, on the shared monotonic clock:

* ``call_to_last_pulse_ms``: to the onset of the last pulse in the emulator's pulse log (0 when
  that pulse came before the call);
* ``call_to_device_stop_ms``: to the instant the emulated device processed the Stop;
* ``call_return_ms``: until the call returned (it never waits for the device).

Target (brief): the last pulse no later than one stimulation period + 20 ms after the call.
Peer, in the same run: the same trials with ``stop()``, which waits for the device's Ack.

Run: ``.venv/bin/python benchmarks/bench_estop_emulator.py [--trials N] [--seed S]
[--device rehastim2|p24|all]`` (prints one JSON document).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from device_rig import LABELS, PERIOD_MS, Device, chosen, connected, device_argument, plan, summary

AMPLITUDE_MA = 20.0
TARGET_MS = PERIOD_MS + 20.0


def trial(
    device: Device, emulator: Any, driver: Any, stop: Callable[[], None], wait_s: float
) -> dict[str, float]:
    driver.arm()
    driver.start()
    driver.update(dict.fromkeys(LABELS, AMPLITUDE_MA))
    threading.Event().wait(wait_s)
    called_s = time.monotonic()
    stop()
    returned_s = time.monotonic()
    threading.Event().wait((PERIOD_MS + 60) / 1000)  # anything still to come has come
    pulses = emulator.pulse_log(since_s=called_s - PERIOD_MS / 1000)
    last_s = pulses[-1].t_s if pulses else called_s
    stopped_s = next(
        e.t_s
        for e in emulator.events("state")
        if e.t_s >= called_s and e.message.startswith(device.stopped_message)
    )
    return {
        "call_to_last_pulse_ms": max(0.0, last_s - called_s) * 1e3,
        "call_to_device_stop_ms": (stopped_s - called_s) * 1e3,
        "call_return_ms": (returned_s - called_s) * 1e3,
    }


def run(device: Device, stop_name: str, trials: int, rng: random.Random) -> dict[str, object]:
    with connected(device) as (emulator, driver):
        driver.configure(plan())
        stop = driver.emergency_stop if stop_name == "emergency_stop" else driver.stop
        results = [
            trial(device, emulator, driver, stop, rng.uniform(0.005, 0.1)) for _ in range(trials)
        ]
    figures = {key: summary([r[key] for r in results]) for key in results[0]}
    return {
        "device": device.name,
        "call": stop_name,
        **figures,
        "meets_target": figures["call_to_last_pulse_ms"]["max"] <= TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    device_argument(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        json.dumps(
            {
                "benchmark": "real-device drivers on their pty emulators: stop call -> last pulse",
                "clock": "time.monotonic (shared by the driver and the emulator)",
                "case": f"2 channels, {1000 / PERIOD_MS:g} Hz, 250 µs, {AMPLITUDE_MA:g} mA, "
                "answers after 5 ms",
                "trials": args.trials,
                "target_ms": TARGET_MS,
                "results": [
                    run(device, name, args.trials, rng)
                    for device in chosen(args.device)
                    for name in ("emergency_stop", "stop")
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
