"""Sustained amplitude updates on the RehaStim 2 emulator: rate, Ack latency, nothing lost.

Case: two channels at 40 Hz, 250 µs; the emulator acknowledges after 5 ms plus a uniform 0–10 ms
jitter (the spec's typical 5–20 ms; seed 1). The driver sends ``update`` on a fixed schedule of
``--rate-hz`` (default 20, the session's control rate) for ``--seconds`` (default 60), with the
current stepping 0–29 mA so that every update differs. Reported:

* ``ack_latency_ms``: command frame written → matching Ack read (the link's ``round_trip_ms``);
* ``update_call_ms``: the whole ``update`` call (validation, frame, Ack, bookkeeping);
* ``lost_acks``, ``unexpected_acks``, ``resends``: the link's counters — all must be 0;
* ``applied_mismatches``: updates whose currents the emulator did not apply exactly as sent;
* ``late_updates``: schedule slots that started more than one period late;
* ``cpu_s``: CPU time over the run — for the driver, of the whole benchmark process (driver and
  emulator threads together); for pyScienceMode, of its client process alone.

Peer, in the same run (``--psm``, needs pyScienceMode): the same updates sent by pyScienceMode
1.1.5 in a subprocess with a hard timeout (it has none), timing each ``start_stimulation`` call
(which sends and then busy-waits for whatever arrives next; it matches nothing, so lost or
mismatched Acks cannot be counted on its side, only from the emulator's log).

Run: ``.venv/bin/python benchmarks/bench_update_rate.py [--seconds S] [--rate-hz R] [--psm]``
(prints one JSON document).
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

from rehastim2_rig import LABELS, connected, plan, summary
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator

ACK_JITTER_MS = 10.0
PSM_TIMEOUT_S = 30.0
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


def applied_currents(emulator: RehaStim2Emulator, since_s: float) -> list[tuple[int, ...]]:
    """The currents of every channel list the emulator applied since ``since_s``, in order."""
    return [
        tuple(entry[2] for entry in e.detail["channels"].values())  # type: ignore[union-attr]
        for e in emulator.events("applied")
        if e.t_s >= since_s
    ]


def mismatches(applied: list[tuple[int, ...]], sent: list[tuple[int, ...]]) -> int:
    """Updates not applied exactly as sent, in order (missing or extra ones count too)."""
    return sum(a != b for a, b in zip(applied, sent, strict=False)) + abs(len(applied) - len(sent))


def run_driver(seconds: float, rate_hz: float) -> dict[str, object]:
    with connected(ack_jitter_ms=ACK_JITTER_MS) as (emulator, driver):
        driver.configure(plan())
        driver.arm()
        driver.start()
        driver.events.drain()
        began_s = time.monotonic()
        cpu_began_s = _cpu_s(resource.RUSAGE_SELF)
        sent: list[tuple[int, ...]] = []
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
            if e.kind == "ack" and e.detail.get("command") == "START_CHANNEL_LIST_MODE_ACK"
        ]
        applied = applied_currents(emulator, began_s)
    mismatched = mismatches(applied, sent)
    return {
        "client": "stimwise RehaStim2 driver",
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


def run_psm(seconds: float, rate_hz: float) -> dict[str, object]:
    # pSM's keep-alive gaps reach 1.6 s: the emulator only warns (fact sheet §5, §10)
    with RehaStim2Emulator(
        EmulatorConfig(
            watchdog_policy="warn", ack_latency_ms=5.0, ack_jitter_ms=ACK_JITTER_MS, seed=1
        )
    ) as emulator:
        began_s = time.monotonic()
        cpu_began_s = _cpu_s(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-c", PSM_CLIENT, emulator.port, str(seconds), str(rate_hz)],
            capture_output=True,
            text=True,
            timeout=seconds + PSM_TIMEOUT_S,
            check=True,
        )
        applied = applied_currents(emulator, began_s)
        cpu_s = _cpu_s(resource.RUSAGE_CHILDREN) - cpu_began_s
    calls_ms = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    sent = [(0, 0)] + [(i % 30, i % 30) for i in range(len(calls_ms))]
    return {
        "client": "pyScienceMode 1.1.5 (subprocess)",
        "updates": len(calls_ms),
        "update_call_ms": summary(calls_ms),
        "applied_mismatches": mismatches(applied, sent),
        "cpu_s": round(cpu_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate-hz", type=float, default=20.0)
    parser.add_argument("--psm", action="store_true", help="also run pyScienceMode as a peer")
    args = parser.parse_args()
    results = [run_driver(args.seconds, args.rate_hz)]
    if args.psm:
        results.append(run_psm(args.seconds, args.rate_hz))
    print(
        json.dumps(
            {
                "benchmark": "RehaStim 2 on the pty emulator: sustained amplitude updates",
                "case": f"2 channels, 40 Hz, 250 µs; Acks after 5 + U(0, {ACK_JITTER_MS:g}) ms",
                "seconds": args.seconds,
                "rate_hz": args.rate_hz,
                "target": "at least the requested rate, no lost, unexpected or misapplied Ack",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
