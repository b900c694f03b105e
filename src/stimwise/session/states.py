"""Session states and the only transitions allowed between them."""

from __future__ import annotations

from typing import Literal

SessionState = Literal[
    "idle",
    "armed",
    "calibrating",
    "ramping",
    "running",
    "paused",
    "ramping_down",
    "completed",
    "aborted",
]

TRANSITIONS: dict[str, frozenset[str]] = {
    "idle": frozenset({"armed", "aborted", "completed"}),
    "armed": frozenset({"calibrating", "ramping", "completed", "aborted"}),
    "calibrating": frozenset({"ramping", "completed", "aborted"}),
    "ramping": frozenset({"running", "paused", "ramping_down", "aborted"}),
    "running": frozenset({"paused", "ramping_down", "aborted"}),
    "paused": frozenset({"ramping", "ramping_down", "aborted"}),
    "ramping_down": frozenset({"completed", "aborted"}),
    "completed": frozenset(),
    "aborted": frozenset(),
}
"""``aborted`` is reachable from every non-terminal state; terminal states lead nowhere."""

TERMINAL: frozenset[str] = frozenset({"completed", "aborted"})
OUTPUT_STATES: frozenset[str] = frozenset({"calibrating", "ramping", "running", "ramping_down"})
"""States in which the device may deliver a non-zero amplitude."""
