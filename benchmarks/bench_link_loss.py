"""Link loss on the RehaStim 2 emulator: how fast the driver reports it, and how fast the device
stops on its own when the host goes silent.

Case: two channels at 40 Hz, 250 µs, 10 mA; Acks after 5 ms; the device's watchdog enforces
1.2 s. Each trial uses a fresh emulator and driver. Driver side (time to the ``fault`` event):

* ``hung_reply_due``: the device hangs (``set_hung``), then an update is sent. Target 200 ms
  from the request (100 ms reply timeout + 90 ms mode query, spec §4).
* ``hung_status_polled``: the device hangs while the host calls ``status()`` every 0.5 s, as
  the session does; bound 500 + 190 ms.
* ``hung_idle``: the device hangs while the host only keeps the link alive; the keep-alive turns
  into a mode query after 1 s without a received frame; bound 1000 + 400 + 190 ms.
* ``unplugged``: the pty closes (``close_pty``, end of file on the port). Target 200 ms.

Device side (its watchdog, from the last frame it accepted to its reset, which cuts the output):

* ``revived_after_loss``: after ``hung_reply_due`` the driver has declared the link lost and
  sends nothing more; the device is un-hung (its watchdog restarts) and must stop by itself.
* ``host_killed``: the driver runs in a child process that is killed with SIGKILL mid-train.

Target for both: the watchdog time, 1200 ms (plus the emulator's timer slop, 10 ms).

Run: ``.venv/bin/python benchmarks/bench_link_loss.py [--trials N] [--kills K] [--seed S]``
(prints one JSON document).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rehastim2_rig import EMULATOR_DEFAULTS, LABELS, connected, plan, summary
from stimwise.device.interface import DeviceError
from stimwise.device.sciencemode2.driver import RehaStim2
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator

WATCHDOG_MS = 1200.0
SLOP_MS = 10.0
TARGETS_MS = {
    "hung_reply_due": 200.0,
    "hung_status_polled": 500.0 + 190.0,
    "hung_idle": 1000.0 + 400.0 + 190.0,
    "unplugged": 200.0,
    "revived_after_loss": WATCHDOG_MS + SLOP_MS,
    "host_killed": WATCHDOG_MS + SLOP_MS,
}
CHILD = """
import sys, time
sys.path.insert(0, sys.argv[2])
from rehastim2_rig import LABELS, plan
from stimwise.device.sciencemode2.driver import RehaStim2
driver = RehaStim2(sys.argv[1])
driver.connect()
driver.configure(plan())
driver.arm()
driver.start()
driver.update(dict.fromkeys(LABELS, 10))
print("READY", flush=True)
time.sleep(60)
"""


def stimulating(driver: RehaStim2) -> None:
    driver.configure(plan())
    driver.arm()
    driver.start()
    driver.update(dict.fromkeys(LABELS, 10))
    driver.events.drain()


def fault_after_ms(driver: RehaStim2, since_s: float, timeout_s: float = 3.0) -> float:
    """Milliseconds from ``since_s`` to the driver's next ``fault`` event."""
    deadline_s = time.monotonic() + timeout_s
    while (event := driver.events.get(max(0.0, deadline_s - time.monotonic()))) is not None:
        if event.kind == "fault":
            return (event.t_s - since_s) * 1e3
    raise RuntimeError(f"no fault within {timeout_s} s")


def watchdog_reset_ms(emulator: RehaStim2Emulator, since_s: float) -> float:
    """Milliseconds from ``since_s`` to the emulator's watchdog reset (waits for it)."""
    threading.Event().wait(WATCHDOG_MS / 1000 + 0.3)
    reset = next(e for e in emulator.events("state") if e.message.startswith("watchdog reset"))
    assert not emulator.pulse_log(since_s=reset.t_s)  # the reset cut the output
    return (reset.t_s - since_s) * 1e3


def hung_reply_due() -> dict[str, float]:
    with connected() as (emulator, driver):
        stimulating(driver)
        emulator.set_hung(True)
        called_s = time.monotonic()
        with contextlib.suppress(DeviceError):
            driver.update(dict.fromkeys(LABELS, 12))
        detected_ms = fault_after_ms(driver, called_s)
        threading.Event().wait(0.1)  # the frames written meanwhile reach a hung device
        emulator.set_hung(False)
        return {
            "hung_reply_due": detected_ms,
            "revived_after_loss": watchdog_reset_ms(emulator, time.monotonic()),
        }


def hung_status_polled(rng: random.Random) -> dict[str, float]:
    """The device hangs at a random phase of a 0.5 s ``status()`` poll, as a session's."""
    with connected() as (emulator, driver):
        stimulating(driver)
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.5):
                with contextlib.suppress(DeviceError):
                    driver.status()

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            done.wait(rng.uniform(0.5, 1.0))
            emulator.set_hung(True)
            return {"hung_status_polled": fault_after_ms(driver, time.monotonic())}
        finally:
            done.set()
            poller.join()


def hung_idle() -> dict[str, float]:
    with connected() as (emulator, driver):
        stimulating(driver)
        emulator.set_hung(True)
        return {"hung_idle": fault_after_ms(driver, time.monotonic())}


def unplugged() -> dict[str, float]:
    with connected() as (emulator, driver):
        stimulating(driver)
        closed_s = time.monotonic()
        emulator.close_pty()
        return {"unplugged": fault_after_ms(driver, closed_s)}


def host_killed() -> dict[str, float]:
    config = EmulatorConfig(**EMULATOR_DEFAULTS)  # type: ignore[arg-type]
    with RehaStim2Emulator(config) as emulator:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, emulator.port, str(Path(__file__).parent)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "READY"
            threading.Event().wait(0.5)
        finally:
            child.kill()
            child.wait(timeout=10)
        last_rx_s = emulator.events("rx")[-1].t_s
        return {"host_killed": watchdog_reset_ms(emulator, last_rx_s)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    samples: dict[str, list[float]] = {name: [] for name in TARGETS_MS}
    scenarios: list[Callable[[], dict[str, float]]] = [
        hung_reply_due,
        lambda: hung_status_polled(rng),
        hung_idle,
        unplugged,
    ]
    runs = [scenario for scenario in scenarios for _ in range(args.trials)]
    runs += [host_killed] * args.kills
    for scenario in runs:
        for name, value in scenario().items():
            samples[name].append(value)
    results = {
        name: {**summary(values), "target_ms": TARGETS_MS[name]}
        | {"meets_target": max(values) <= TARGETS_MS[name]}
        for name, values in samples.items()
        if values
    }
    print(
        json.dumps(
            {
                "benchmark": "RehaStim 2 on the pty emulator: link loss -> fault, and the "
                "device's own watchdog stop",
                "unit": "ms",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
