"""How a session ends and why a command is refused: codes for programs, words for people.

A user interface shows :attr:`CommandRefusal.reason` as it is (it is written for the person at
the console), and branches on :data:`EndCause` (the CLI's exit code, the web console's closing
message); the journal carries both (``command_refused`` lines, and ``cause`` on the
``emergency_stop`` and ``session_end`` lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndCause = Literal[
    "completed",
    "stopped",
    "skin_check",
    "refused",
    "emergency_stop",
    "interrupted",
    "device_fault",
    "device_stop",
    "interlock",
    "journal_failure",
]
"""Why a session ended.

``completed``: the planned time ran out and the output ramped down. ``stopped``: the user
stopped it (ramped down, or before stimulation). ``skin_check``: the skin check before the
session failed; nothing was delivered. ``refused``: the device cannot deliver the plan (or
nothing within the ceiling on its current step); nothing was delivered. ``emergency_stop``: the
emergency stop (key, button, or a console that was lost). ``interrupted``: the controlling
program was stopped (Ctrl-C, SIGTERM) or failed. ``device_fault``: the device reported a fault
or a device command failed. ``device_stop``: the device stopped its output by itself.
``interlock``: the session's own checks (dead-man heartbeat, lead-off or impedance in a status
reading, the session time limit). ``journal_failure``: the journal could not be written (no
``session_end`` can follow)."""

_STATE_WORDS = {
    "idle": "not started yet",
    "armed": "starting",
    "calibrating": "finding the level (calibration)",
    "ramping": "ramping up to the level",
    "running": "running",
    "paused": "paused",
    "ramping_down": "ramping down to end",
    "completed": "over",
    "aborted": "stopped",
}


@dataclass(frozen=True)
class CommandRefusal:
    """A command the runtime did not carry out, and why.

    Attributes
    ----------
    seq
        Counts the session's refusals from 1, so an interface can tell a new refusal (show it)
        from the one it already shows.
    command
        The command refused (``increase``, ``decrease``, ``pause``, ``resume``, ``stop`` or what
        was sent).
    reason
        Why, in words for the person at the console (no field names, no codes).
    """

    seq: int
    command: str
    reason: str


def state_in_words(state: str) -> str:
    """A session state as the person at the console reads it."""
    return _STATE_WORDS.get(state, state.replace("_", " "))


def increase_refusal(state: str) -> str:
    """Why the amplitude cannot be raised in ``state`` (it can only while running)."""
    if state == "ramping":
        return (
            "the amplitude can be raised once the ramp has reached the level; it is still "
            "ramping up"
        )
    if state == "calibrating":
        return "the level is being found by calibration: answer its question instead"
    if state == "paused":
        return "the session is paused: resume it first"
    return (
        "the amplitude can be raised only while stimulation runs; the session is "
        + state_in_words(state)
    )
