"""Link loss on the RehaStim 2 and RehaMove P24 emulators: how fast the driver reports it, and
how fast the device stops on its own when the host goes silent.

Case: two channels at 40 Hz, 250 µs, 10 mA; answers after 5 ms. Each trial uses a fresh
emulator and driver. Driver side (time to the ``fault`` event):

* ``hung_reply_due``: the device hangs (``set_hung``), then an update is sent. Target 200 ms
  from the request (100 ms reply timeout + 90 ms state query).
* ``hung_status_polled``: the device hangs while the host calls ``status()`` every 0.5 s, as
  the session does; bound 500 + 190 ms.
* ``hung_idle``: the device hangs while the host only keeps the link alive. RehaStim 2: the
  keep-alive turns into a mode query after 1 s without a received frame; bound 1000 + 400 +
  190 ms. P24: the keep-alive checks the state after 100 ms without a transmission; bound
  100 + 190 ms.
* ``unplugged``: the pty closes (``close_pty``, end of file on the port). Target 200 ms.

Device side (its own timer, from the last frame it accepted to the stop of its output): the
RehaStim 2's watchdog (1.2 s), the P24's keep-alive rule (2 s without Ml_update or
Ml_get_current_data):

* ``revived_after_loss``: after ``hung_reply_due`` the driver has declared the link lost and
  sends nothing more; the device is un-hung (its timer restarts) and must stop by itself.
* ``host_killed``: the driver runs in a child process that is killed with SIGKILL mid-train.

Target for both: the device's timer (plus the emulator's timer slop, 10 ms).

Run: ``.venv/bin/python benchmarks/bench_link_loss.py [--trials N] [--kills K] [--seed S]
[--device rehastim2|p24|all]`` (prints one JSON document).
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
from typing import Any

from device_rig import DEVICES, LABELS, Device, chosen, connected, device_argument, plan, summary
from device_rig import start_emulator as emulator_of
from stimwise.device.interface import DeviceError

SLOP_MS = 10.0
HUNG_IDLE_MS = {"rehastim2": 1000.0 + 400.0 + 190.0, "p24": 100.0 + 190.0}
"""The keep-alive's own bound per driver (see the module docstring)."""
CHILD = """
import sys, time
sys.path.insert(0, sys.argv[3])
from device_rig import DEVICES, LABELS, plan
driver = DEVICES[sys.argv[2]].driver(sys.argv[1])
driver.connect()
driver.configure(plan())
driver.arm()
driver.start()
driver.update(dict.fromkeys(LABELS, 10))
print("READY", flush=True)
time.sleep(60)
"""


def targets_ms(device: Device) -> dict[str, float]:
    key = next(name for name, known in DEVICES.items() if known is device)
    return {
        "hung_reply_due": 200.0,
        "hung_status_polled": 500.0 + 190.0,
        "hung_idle": HUNG_IDLE_MS[key],
        "unplugged": 200.0,
        "revived_after_loss": device.timer_ms + SLOP_MS,
        "host_killed": device.timer_ms + SLOP_MS,
    }


def stimulating(driver: Any) -> None:
    driver.configure(plan())
    driver.arm()
    driver.start()
    driver.update(dict.fromkeys(LABELS, 10))
    driver.events.drain()


def fault_after_ms(driver: Any, since_s: float, timeout_s: float = 3.0) -> float:
    """Milliseconds from ``since_s`` to the driver's next ``fault`` event."""
    deadline_s = time.monotonic() + timeout_s
    while (event := driver.events.get(max(0.0, deadline_s - time.monotonic()))) is not None:
        if event.kind == "fault":
            return (event.t_s - since_s) * 1e3
    raise RuntimeError(f"no fault within {timeout_s} s")


def device_stop_ms(device: Device, emulator: Any, since_s: float) -> float:
    """Milliseconds from ``since_s`` to the device stopping its output by its own timer."""
    threading.Event().wait(device.timer_ms / 1000 + 0.3)
    stop = next(e for e in emulator.events("state") if e.message.startswith(device.timer_message))
    assert not emulator.pulse_log(since_s=stop.t_s)  # the timer cut the output
    return (stop.t_s - since_s) * 1e3


def hung_reply_due(device: Device) -> dict[str, float]:
    with connected(device) as (emulator, driver):
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
            "revived_after_loss": device_stop_ms(device, emulator, time.monotonic()),
        }


def hung_status_polled(device: Device, rng: random.Random) -> dict[str, float]:
    """The device hangs at a random phase of a 0.5 s ``status()`` poll, as a session's."""
    with connected(device) as (emulator, driver):
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


def hung_idle(device: Device) -> dict[str, float]:
    with connected(device) as (emulator, driver):
        stimulating(driver)
        emulator.set_hung(True)
        return {"hung_idle": fault_after_ms(driver, time.monotonic())}


def unplugged(device: Device) -> dict[str, float]:
    with connected(device) as (emulator, driver):
        stimulating(driver)
        closed_s = time.monotonic()
        emulator.close_pty()
        return {"unplugged": fault_after_ms(driver, closed_s)}


def host_killed(device: Device) -> dict[str, float]:
    key = next(name for name, known in DEVICES.items() if known is device)
    with emulator_of(device) as emulator:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, emulator.port, key, str(Path(__file__).parent)],
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
        return {"host_killed": device_stop_ms(device, emulator, last_rx_s)}


def measure(device: Device, trials: int, kills: int, rng: random.Random) -> dict[str, object]:
    targets = targets_ms(device)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    scenarios: list[Callable[[], dict[str, float]]] = [
        lambda: hung_reply_due(device),
        lambda: hung_status_polled(device, rng),
        lambda: hung_idle(device),
        lambda: unplugged(device),
    ]
    runs = [scenario for scenario in scenarios for _ in range(trials)]
    runs += [lambda: host_killed(device)] * kills
    for scenario in runs:
        for name, value in scenario().items():
            samples[name].append(value)
    return {
        "device": device.name,
        **{
            name: {**summary(values), "target_ms": targets[name]}
            | {"meets_target": max(values) <= targets[name]}
            for name, values in samples.items()
            if values
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    device_argument(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = [measure(device, args.trials, args.kills, rng) for device in chosen(args.device)]
    print(
        json.dumps(
            {
                "benchmark": "real-device drivers on their pty emulators: link loss -> fault, "
                "and the device's own timer stop",
                "unit": "ms",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
