"""``stimwise emulate rehastim2|p24``: run a device emulator on a pty until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, cast

from stimwise.device.pty_emulator import EmulatorEvent, PtyEmulator
from stimwise.device.sciencemode2.emulator import (
    EmulatorConfig,
    Policy,
    RehaStim2Emulator,
    WatchdogPolicy,
)
from stimwise.device.sciencemode4.emulator import P24Emulator, P24EmulatorConfig

Factory = Callable[[Path | None, Callable[[EmulatorEvent], None]], PtyEmulator]
"""Builds the emulator from the link path and the event printer."""


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
    config = EmulatorConfig(
        policy=cast(Policy, policy),  # EmulatorConfig checks both strings
        watchdog_timeout_ms=watchdog_ms,
        watchdog_policy=cast(WatchdogPolicy, watchdog_policy),
        ack_latency_ms=ack_latency_ms,
        pulse_log_path=pulse_log,
    )
    _run(
        "RehaStim 2",
        lambda path, show: RehaStim2Emulator(config, link_path=path, on_event=show),
        f"policy {config.policy}, watchdog {config.watchdog_timeout_ms:g} ms "
        f"({config.watchdog_policy}), ack latency {config.ack_latency_ms:g} ms",
        link,
        out,
        stop,
    )


def run_p24_emulator_cli(
    *,
    keepalive_ms: float = 2000.0,
    ack_latency_ms: float = 2.0,
    pulse_log: Path | None = None,
    link: Path | None = None,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Start an emulated RehaMove P24, print its port, then print its events until interrupted.

    ``keepalive_ms``, ``ack_latency_ms`` and ``pulse_log`` are
    :class:`~stimwise.device.sciencemode4.emulator.P24EmulatorConfig`'s; the rest as for
    :func:`run_emulator_cli`.
    """
    config = P24EmulatorConfig(
        keepalive_timeout_ms=keepalive_ms, ack_latency_ms=ack_latency_ms, pulse_log_path=pulse_log
    )
    _run(
        "RehaMove P24",
        lambda path, show: P24Emulator(config, link_path=path, on_event=show),
        f"keep-alive {config.keepalive_timeout_ms:g} ms, ack latency {config.ack_latency_ms:g} ms",
        link,
        out,
        stop,
    )


def _run(
    device: str,
    factory: Factory,
    settings: str,
    link: Path | None,
    out: TextIO | None,
    stop: threading.Event | None,
) -> None:
    stream = out or sys.stdout

    def show(event: EmulatorEvent) -> None:
        if event.kind not in ("rx", "tx"):
            print(f"[{event.kind}] {event.message}", file=stream, flush=True)

    stop = stop or threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main_thread else None
    try:
        with factory(link, show).start() as emulator:
            where = f" (link {link})" if link is not None else ""
            print(f"{device} emulator on {emulator.port}{where}", file=stream, flush=True)
            print(f"{settings}; Ctrl-C to stop", file=stream, flush=True)
            try:
                stop.wait()  # interruptible by Ctrl-C on POSIX
            except KeyboardInterrupt:
                print("stopping", file=stream, flush=True)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
