"""Sustained amplitude updates on the RehaStim 2 and RehaMove P24 emulators: rate, answer
latency, nothing lost.

Case: two channels at 40 Hz, 250 µs; the emulator answers after 5 ms plus a uniform 0–10 ms
jitter (the RehaStim 2 spec's typical 5–20 ms; seed 1). The driver sends ``update`` on a fixed
schedule of ``--rate-hz`` (default 20, the session's control rate) for ``--seconds`` (default
60), with the current stepping 0–29 mA so that every update differs. Reported:

* ``ack_latency_ms``: update frame written → matching answer read (the link's
  ``round_trip_ms``);
* ``update_call_ms``: the whole ``update`` call (validation, frames, answers, bookkeeping; the
  P24 driver asks Ml_get_current_data before each Ml_update, so two round trips);
* ``lost_acks``, ``unexpected_acks``, ``resends``: the link's counters — all must be 0;
* ``applied_mismatches``: updates whose currents the emulator did not apply exactly as sent;
* ``late_updates``: schedule slots that started more than one period late;
* ``cpu_s``: CPU time over the run — for the driver, of the whole benchmark process (driver and
  emulator threads together); for pyScienceMode, of its client process alone.

Peers, in the same run (``--peers``): the same updates sent by the independent clients in a
subprocess with a hard timeout, timing each call: pyScienceMode 1.1.5 on the RehaStim 2 (its
``start_stimulation`` sends and then busy-waits for whatever arrives next; it matches nothing,
so lost or mismatched Acks show only in the emulator's log) and science-mode-4 0.0.23 on the
P24 (``update`` then a ``get_current_data`` every 10 updates as its keep-alive; it polls for the
answer every 10 ms).

Run: ``.venv/bin/python benchmarks/bench_update_rate.py [--seconds S] [--rate-hz R] [--peers]
[--device rehastim2|p24|all]`` (prints one JSON document).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

from device_rig import (
    DEVICES,
    LABELS,
    Device,
    chosen,
    connected,
    device_argument,
    plan,
    start_emulator,
    summary,
)

ACK_JITTER_MS = 10.0
PSM_TIMEOUT_S = 30.0
SM4_CLIENT = textwrap.dedent(
    """
    import asyncio, json, logging, sys, time
    from science_mode_4 import (ChannelPoint, DeviceP24, MidLevelChannelConfiguration,
                                SerialPortConnection, logger)

    port, seconds, rate_hz = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])

    def channels(current_ma):
        points = [ChannelPoint(250, current_ma), ChannelPoint(250, -current_ma)]
        return [MidLevelChannelConfiguration(True, 0, 25, points) for _ in (1, 2)]

    async def main():
        connection = SerialPortConnection(port)
        connection.open()
        device = DeviceP24(connection)
        await device.initialize()
        mid = device.get_layer_mid_level()
        await mid.init(do_stop_on_all_errors=True)
        await mid.update(channels(0))
        calls_ms, start_s, index = [], time.monotonic(), 0
        while index < seconds * rate_hz:
            due_s = start_s + index / rate_hz
            await asyncio.sleep(max(0.0, due_s - time.monotonic()))
            called_s = time.monotonic()
            await mid.update(channels(index % 30))
            calls_ms.append((time.monotonic() - called_s) * 1e3)
            if index % 10 == 0:
                await mid.get_current_data()
            index += 1
        await mid.stop()
        connection.close()
        print("RESULT " + json.dumps(calls_ms), flush=True)

    logger().setLevel(logging.WARNING)
    asyncio.run(main())
    """
)
PSM_CLIENT = textwrap.dedent(
    """
    import json, sys, time
    from pysciencemode import Channel, Device, Rehastim2

    port, seconds, rate_hz = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])

    def channels(current_ma):
        return [Channel(mode="Single", no_channel=n, amplitude=current_ma, pulse_width=250,
                        device_type=Device.Rehastim2) for n in (1, 2)]

    stimulator = Rehastim2(port)
    stimulator.init_channel(stimulation_interval=25, list_channels=channels(0))
    stimulator.start_stimulation(upd_list_channels=channels(0))
    calls_ms, start_s, index = [], time.monotonic(), 0
    while index < seconds * rate_hz:
        due_s = start_s + index / rate_hz
        time.sleep(max(0.0, due_s - time.monotonic()))
        called_s = time.monotonic()
        stimulator.start_stimulation(upd_list_channels=channels(index % 30))
        calls_ms.append((time.monotonic() - called_s) * 1e3)
        index += 1
    stimulator.end_stimulation()
    print("RESULT " + json.dumps(calls_ms), flush=True)
    stimulator.disconnect()
    stimulator.close_port()
    """
)


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def applied_currents(device: Device, emulator: Any, since_s: float) -> list[tuple[float, ...]]:
    """The currents of every setting the emulator applied since ``since_s``, in order."""
    return [device.applied(e) for e in emulator.events("applied") if e.t_s >= since_s]


def mismatches(applied: list[tuple[float, ...]], sent: list[tuple[float, ...]]) -> int:
    """Updates not applied exactly as sent, in order (missing or extra ones count too)."""
    return sum(a != b for a, b in zip(applied, sent, strict=False)) + abs(len(applied) - len(sent))


def run_driver(device: Device, seconds: float, rate_hz: float) -> dict[str, object]:
    with connected(device, ack_jitter_ms=ACK_JITTER_MS) as (emulator, driver):
        driver.configure(plan())
        driver.arm()
        driver.start()
        driver.events.drain()
        began_s = time.monotonic()
        cpu_began_s = _cpu_s(resource.RUSAGE_SELF)
        sent: list[tuple[float, ...]] = []
        called: list[float] = []
        calls_ms, late = [], 0
        for index in range(round(seconds * rate_hz)):
            due_s = began_s + index / rate_hz
            threading.Event().wait(max(0.0, due_s - time.monotonic()))
            late += time.monotonic() - due_s > 1 / rate_hz
            current_ma = index % 30
            called.append(time.monotonic())
            driver.update(dict.fromkeys(LABELS, current_ma))
            calls_ms.append((time.monotonic() - called[-1]) * 1e3)
            sent.append((current_ma, current_ma))
        achieved_hz = (len(called) - 1) / (called[-1] - called[0])
        cpu_s = _cpu_s(resource.RUSAGE_SELF) - cpu_began_s
        stats = driver.link_stats
        assert stats is not None  # connected
        acks_ms = [
            e.detail["round_trip_ms"]
            for e in driver.events.drain()
            if e.kind == "ack" and e.detail.get("command") == device.update_ack
        ]
        applied = applied_currents(device, emulator, began_s)
    mismatched = mismatches(applied, sent)
    return {
        "device": device.name,
        "client": f"stimwise {type(driver).__name__} driver",
        "updates": len(sent),
        "achieved_rate_hz": round(achieved_hz, 3),
        "ack_latency_ms": summary(acks_ms),  # type: ignore[arg-type]
        "update_call_ms": summary(calls_ms),
        "lost_acks": stats.missing_answers,
        "unexpected_acks": stats.unexpected,
        "resends": stats.resends,
        "applied_mismatches": mismatched,
        "late_updates": late,
        "cpu_s": round(cpu_s, 2),
        "meets_target": achieved_hz >= rate_hz * 0.999
        and stats.missing_answers == stats.unexpected == mismatched == 0,
    }


def run_peer(device: Device, seconds: float, rate_hz: float) -> dict[str, object]:
    """The device's independent client sends the same updates (see the module docstring)."""
    p24 = device is DEVICES["p24"]
    # pSM's keep-alive gaps reach 1.6 s: the RehaStim 2 emulator only warns (fact sheet §5, §10)
    config: dict[str, Any] = {"ack_jitter_ms": ACK_JITTER_MS}
    if not p24:
        config["watchdog_policy"] = "warn"
    client = SM4_CLIENT if p24 else PSM_CLIENT
    name = "science-mode-4 0.0.23" if p24 else "pyScienceMode 1.1.5"
    with start_emulator(device, **config) as emulator:
        began_s = time.monotonic()
        cpu_began_s = _cpu_s(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-c", client, emulator.port, str(seconds), str(rate_hz)],
            capture_output=True,
            text=True,
            timeout=seconds + PSM_TIMEOUT_S,
            check=True,
        )
        applied = applied_currents(device, emulator, began_s)
        cpu_s = _cpu_s(resource.RUSAGE_CHILDREN) - cpu_began_s
    calls_ms = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    sent = [(0.0, 0.0)] + [(i % 30, i % 30) for i in range(len(calls_ms))]
    return {
        "device": device.name,
        "client": f"{name} (subprocess)",
        "updates": len(calls_ms),
        "update_call_ms": summary(calls_ms),
        "applied_mismatches": mismatches(applied, sent),
        "cpu_s": round(cpu_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate-hz", type=float, default=20.0)
    parser.add_argument("--peers", action="store_true", help="also run the independent clients")
    device_argument(parser)
    args = parser.parse_args()
    results = []
    for device in chosen(args.device):
        results.append(run_driver(device, args.seconds, args.rate_hz))
        if args.peers:
            results.append(run_peer(device, args.seconds, args.rate_hz))
    print(
        json.dumps(
            {
                "benchmark": "real-device drivers on their pty emulators: sustained amplitude "
                "updates",
                "case": f"2 channels, 40 Hz, 250 µs; answers after 5 + U(0, {ACK_JITTER_MS:g}) ms",
                "seconds": args.seconds,
                "rate_hz": args.rate_hz,
                "target": "at least the requested rate, no lost, unexpected or misapplied answer",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
