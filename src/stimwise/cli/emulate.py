"""``stimwise emulate rehastim2``: run the RehaStim 2 emulator on a pty until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, cast

from stimwise.device.sciencemode2.emulator import (
    EmulatorConfig,
    EmulatorEvent,
    Policy,
    RehaStim2Emulator,
    WatchdogPolicy,
)


def run_emulator_cli(
    *,
    policy: str = "lenient",
    watchdog_ms: float = 1200.0,
    watchdog_policy: str = "enforce",
    ack_latency_ms: float = 5.0,
    pulse_log: Path | None = None,
    link: Path | None = None,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Start an emulated RehaStim 2, print its port, then print its events until interrupted.

    Parameters
    ----------
    policy, watchdog_ms, watchdog_policy, ack_latency_ms, pulse_log
        See :class:`~stimwise.device.sciencemode2.emulator.EmulatorConfig`; an invalid value
        raises :class:`~stimwise.errors.InputError` (exit code 2 through ``report_errors``).
    link
        Also publish the port as this symlink, so scripts can use a fixed path.
    out
        Where to print (standard output by default).
    stop
        Ends the run when set. The run also ends on Ctrl-C and, when called from the main thread,
        on SIGTERM, so that the link is removed and the pulse log flushed either way.
    """
    stream = out or sys.stdout
    config = EmulatorConfig(
        policy=cast(Policy, policy),  # EmulatorConfig checks both strings
        watchdog_timeout_ms=watchdog_ms,
        watchdog_policy=cast(WatchdogPolicy, watchdog_policy),
        ack_latency_ms=ack_latency_ms,
        pulse_log_path=pulse_log,
    )

    def show(event: EmulatorEvent) -> None:
        if event.kind not in ("rx", "tx"):
            print(f"[{event.kind}] {event.message}", file=stream, flush=True)

    stop = stop or threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main_thread else None
    try:
        _serve(config, link, show, stream, stop)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _serve(
    config: EmulatorConfig,
    link: Path | None,
    show: Callable[[EmulatorEvent], None],
    stream: TextIO,
    stop: threading.Event,
) -> None:
    with RehaStim2Emulator(config, link_path=link, on_event=show) as emulator:
        where = f" (link {link})" if link is not None else ""
        print(f"RehaStim 2 emulator on {emulator.port}{where}", file=stream, flush=True)
        print(
            f"policy {config.policy}, watchdog {config.watchdog_timeout_ms:g} ms "
            f"({config.watchdog_policy}), ack latency {config.ack_latency_ms:g} ms; Ctrl-C to stop",
            file=stream,
            flush=True,
        )
        try:
            stop.wait()  # interruptible by Ctrl-C on POSIX
        except KeyboardInterrupt:
            print("stopping", file=stream, flush=True)
