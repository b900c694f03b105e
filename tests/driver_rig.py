"""Helpers shared by the tests of the real-device drivers against their emulators."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stimwise.device.interface import DeviceEvent, Stimulator


def wait_event(driver: Stimulator, kind: str, timeout_s: float = 1.0) -> DeviceEvent:
    """The next event of ``kind`` (earlier events of other kinds are consumed)."""
    deadline_s = time.monotonic() + timeout_s
    while (event := driver.events.get(max(0.0, deadline_s - time.monotonic()))) is not None:
        if event.kind == kind:
            return event
    raise AssertionError(f"no {kind} event within {timeout_s} s")


def counts(driver: Any, *names: str) -> tuple[int, ...]:
    """The link's counters ``names`` (frames unexpected, answers missing, resends ...)."""
    stats = driver.link_stats
    assert stats is not None
    return tuple(getattr(stats, name) for name in names)


@contextmanager
def opened(factory: Callable[..., Any], close: str = "close") -> Iterator[Callable[..., Any]]:
    """``build(*args, **kwargs)`` makes objects with ``factory``; each is closed afterwards."""
    made: list[Any] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        made.append(factory(*args, **kwargs))
        return made[-1]

    try:
        yield build
    finally:
        for item in reversed(made):
            getattr(item, close)()
