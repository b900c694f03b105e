"""Login throttling against password guessing.

Failed sign-ins are counted per (client address, user name) and per client address within a
sliding window. Once a count reaches its limit, further attempts are refused (HTTP 429 with
``Retry-After``) *before* the password is checked, so a guesser learns nothing while blocked.
A user name alone is never locked: that would let anyone lock a clinician out from anywhere.

Counts live in memory, per process: enough for the embedded single-process server; several
workers each keep their own counts (documented in docs/web.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

ADDRESS_FACTOR = 4
"""One address may fail this many times the per-user limit over all user names [U]."""


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, address: str, username: str) -> list[tuple[tuple[str, ...], int]]:
        return [
            ((address, username.casefold()), self.max_failures),
            ((address,), self.max_failures * ADDRESS_FACTOR),
        ]

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after_s(self, address: str, username: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(address, username):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + self.window_s - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, address: str, username: str) -> None:
        now = self._clock()
        with self._lock:
            for key, _limit in self._keys(address, username):
                self._recent(key, now).append(now)

    def succeeded(self, address: str, username: str) -> None:
        """A correct password clears that user's count from that address."""
        with self._lock:
            self._failures.pop((address, username.casefold()), None)
