"""``stimwise session run``: a live session on a stimulator, with keys or a scripted person."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from stimwise.cli.errors import EXIT_BLOCKED, EXIT_FAULT, EXIT_OK
from stimwise.session.prompts import QueuedResponder, Responder, ScriptedResponder
from stimwise.session.record import SessionRecord
from stimwise.session.runtime import SessionRunner, SessionSettings, Snapshot

_SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}

KEYS_HELP = (
    "+/- amplitude · space pause/resume · s stop · e EMERGENCY STOP · answers: digits (pain), "
    "y/n (feel it), m/c/t (more/comfortable/too strong), w/n (twitch), o/x (skin ok/not ok)"
)
_ANSWER_KEYS = {
    "sensation": {"y": "yes", "n": "no"},
    "comfort": {"m": "more", "c": "strong_comfortable", "t": "too_strong"},
    "motor": {"w": "twitch", "n": "no_twitch"},
    "skin_pre": {"o": "ok", "x": "not_ok"},
    "skin_post": {"o": "ok", "x": "not_ok"},
}


def default_journal_path(protocol_id: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("stimwise-sessions") / f"{stamp}-{protocol_id}.jsonl"


def scripted_responder(
    ceiling_ma: float, sensation_ma: float | None, comfortable_ma: float | None,
    motor_ma: float | None,
) -> ScriptedResponder:
    """A simulated person; unset thresholds default to 20 / 40 / 60 % of the ceiling."""
    return ScriptedResponder.typical(
        ceiling_ma, sensation_ma=sensation_ma, comfortable_ma=comfortable_ma, motor_ma=motor_ma
    )


def render(snapshot: Snapshot) -> Table:
    table = Table(title="stimwise session", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("state", f"[bold]{snapshot.state}[/]" + (
        f"  ({snapshot.reason})" if snapshot.reason else ""))
    target = "—" if snapshot.target_ma is None else f"{snapshot.target_ma:.2f}"
    table.add_row(
        "amplitude",
        f"{snapshot.delivered_ma:.2f} mA delivered (target {target}, ceiling "
        f"{snapshot.ceiling_ma:.2f})",
    )
    table.add_row(
        "time", f"{snapshot.running_s:6.1f} s stimulated, {snapshot.remaining_s:6.1f} s left"
    )
    for label, electrode, impedance in snapshot.electrodes:
        shown = "—" if impedance is None else f"{impedance:.0f} Ω"
        table.add_row(f"electrodes {label}", f"{electrode} {shown}")
    if snapshot.prompt is not None:
        table.add_row("[yellow]question[/]", f"[yellow]{snapshot.prompt.question}[/]")
    if snapshot.refusal is not None:
        refused = snapshot.refusal
        table.add_row("[red]refused[/]", f"[red]{refused.command}: {refused.reason}[/]")
    table.add_row("keys", f"[dim]{KEYS_HELP}[/]")
    return table


@contextlib.contextmanager
def _cbreak() -> Iterator[bool]:
    """Single-key input on a terminal; no-op (False) when stdin is not one."""
    if not sys.stdin.isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(runner: SessionRunner, responder: QueuedResponder) -> None:
    """Key presses → commands and answers (runs in a daemon thread)."""
    while not runner.finished:
        key = sys.stdin.read(1)
        if not key:
            return
        if key == "e":
            runner.emergency_stop()
        elif key in "+=":
            runner.command("increase")
        elif key == "-":
            runner.command("decrease")
        elif key == " ":
            runner.command("resume" if runner.state == "paused" else "pause")
        elif key == "s":
            runner.command("stop")
        elif runner.prompt is not None:
            _answer_key(runner, responder, key)


def _answer_key(runner: SessionRunner, responder: QueuedResponder, key: str) -> None:
    prompt = runner.prompt
    if prompt is None:
        return
    if prompt.kind in ("nrs_pre", "nrs_post") and key.isdigit():
        responder.put(key)
    elif key in _ANSWER_KEYS.get(prompt.kind, {}):
        responder.put(_ANSWER_KEYS[prompt.kind][key])


def run_live(
    console: Console, runner: SessionRunner, responder: Responder, *, interactive: bool
):
    """Drive the session with a live display; the display loop is the heartbeat (dead-man)."""

    def on_tick(snapshot: Snapshot) -> None:
        runner.heartbeat()
        live.update(render(snapshot))

    terminal = _cbreak() if interactive else contextlib.nullcontext(False)
    with Live(render(runner.snapshot()), console=console, refresh_per_second=10,
              transient=False) as live, terminal as keys, _interrupts_end(runner):
        if keys and isinstance(responder, QueuedResponder):
            threading.Thread(target=_read_keys, args=(runner, responder), daemon=True).start()
        runner.heartbeat()
        return runner.run(on_tick=on_tick)


@contextlib.contextmanager
def _interrupts_end(runner: SessionRunner) -> Iterator[None]:
    """While the session runs, Ctrl-C and SIGTERM end it like an emergency stop (HAZ-103).

    The handler only starts a thread that calls :meth:`SessionRunner.interrupt`: the output is
    zeroed at once, and the control loop, undisturbed by an exception in the middle of a device
    call or a journal write, closes the journal with its ``session_end`` within a tick."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        reason = f"interrupted by {_SIGNAL_NAMES.get(signum, f'signal {signum}')}"
        threading.Thread(target=runner.interrupt, args=(reason,), daemon=True).start()

    previous = {signum: signal.signal(signum, handle) for signum in _SIGNAL_NAMES}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def closing_paragraph(runner: SessionRunner, record: SessionRecord, journal: Path) -> str:
    """One paragraph that says how the session ended, why, and what was delivered."""
    delivered = (
        f"{record.stimulation_s:.1f} s of stimulation delivered (as the device reported it), "
        f"max {record.max_amplitude_ma:.2f} mA, mean {record.mean_amplitude_ma:.2f} mA"
    )
    closing = f"The journal {journal} is closed with its session end."
    if runner.end_cause == "refused":
        return f"Session not started: {record.reason}. Nothing was delivered. {closing}"
    if record.outcome == "completed":
        return f"Session completed ({record.reason}): {delivered}. {closing}"
    return f"Session aborted: {record.reason}. The output was stopped first; {delivered}. {closing}"


def exit_code(runner: SessionRunner, record: SessionRecord) -> int:
    """ARCHITECTURE.md §4: 0 completed (also stopped by the user), 1 nothing delivered because
    the device refused the plan, 3 aborted (a fault, an interlock, the emergency stop, an
    interruption)."""
    if runner.end_cause == "refused":
        return EXIT_BLOCKED
    return EXIT_OK if record.outcome == "completed" else EXIT_FAULT


def settings_for(calibration_step_s: float, target_ma: float | None) -> SessionSettings:
    return SessionSettings(
        calibration_step_s=calibration_step_s,
        rest_s=min(2.0, 2 * calibration_step_s),
        calibrate=target_ma is None,
        target_ma=target_ma,
    )
