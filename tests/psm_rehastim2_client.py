"""A pyScienceMode session against a RehaStim 2 port, run by the emulator tests in a subprocess.

pyScienceMode has no timeouts and busy-waits, so the tests run this script with a hard timeout
and judge the session from the emulator's side. The last stdout line is ``RESULT <json>`` with
monotonic timestamps (CLOCK_MONOTONIC is shared between processes on Linux).

Usage: ``python psm_rehastim2_client.py PORT {session,error} [--show-log] [--updates N]``.
In ``error`` mode the script prints ``STARTED`` once stimulation runs and waits for a line on
stdin (the test injects a fault meanwhile), then keeps updating until pyScienceMode raises.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from pysciencemode import Channel, Device, Rehastim2

T1_MS = 40
WATCHDOG_GAP_S = 1.7


def channels(ch1_ma: int, ch3_ma: int) -> list[Channel]:
    """Channel 1 singles at 300 µs and channel 3 doublets at 256 µs (the fact sheet's trace)."""
    layout = ((1, "Single", ch1_ma, 300), (3, "Doublet", ch3_ma, 256))
    return [
        Channel(
            mode=mode,
            no_channel=number,
            amplitude=current_ma,
            pulse_width=width_us,
            device_type=Device.Rehastim2,
        )
        for number, mode, current_ma, width_us in layout
    ]


def session(stimulator: Rehastim2, updates: int, result: dict) -> None:
    stimulator.init_channel(stimulation_interval=T1_MS, list_channels=channels(20, 10))
    stimulator.start_stimulation(upd_list_channels=channels(20, 10))
    result["t_started"] = time.monotonic()
    time.sleep(0.3)
    for index in range(updates):
        stimulator.start_stimulation(upd_list_channels=channels(10 + index % 20, 10))
    result["last_ch1_ma"] = 10 + (updates - 1) % 20
    result["t_last_update"] = time.monotonic()
    time.sleep(WATCHDOG_GAP_S)
    stimulator.start_stimulation(upd_list_channels=channels(0, 0))
    result["t_paused"] = time.monotonic()
    time.sleep(0.2)
    stimulator.end_stimulation()
    result["t_stopped"] = time.monotonic()


def error_run(stimulator: Rehastim2, result: dict) -> None:
    stimulator.init_channel(stimulation_interval=T1_MS, list_channels=channels(20, 10))
    stimulator.start_stimulation(upd_list_channels=channels(20, 10))
    print("STARTED", flush=True)
    sys.stdin.readline()
    for attempt in range(10):
        result["attempts"] = attempt + 1
        stimulator.start_stimulation(upd_list_channels=channels(22, 10))
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port")
    parser.add_argument("scenario", choices=("session", "error"))
    parser.add_argument("--show-log", action="store_true")
    parser.add_argument("--updates", type=int, default=14)
    args = parser.parse_args()
    result: dict = {"raised": None}
    stimulator = Rehastim2(port=args.port, show_log=args.show_log)
    result["t_connected"] = time.monotonic()
    try:
        if args.scenario == "session":
            session(stimulator, args.updates, result)
        else:
            error_run(stimulator, result)
        stimulator.disconnect()
        stimulator.close_port()
        result["t_closed"] = time.monotonic()
    except Exception as error:
        result["raised"] = type(error).__name__
        result["message"] = str(error)
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)  # pSM's watchdog thread is not a daemon and may outlive a failed session


if __name__ == "__main__":
    main()
