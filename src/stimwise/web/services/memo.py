"""Results of pure computations kept for the next page view (issue 17, speed).

Several pages recompute, on every view, results that depend only on stored content that does
not change: the screening of a stored intake (with the packaged rule book), the
recommendations from it, the waveform views of a prescription, the next-dose suggestion from
a person's sessions. :class:`Memo` keeps the latest results by a digest of exactly those inputs
(never by a row id, which another database may reuse), bounded, in this process. A kept result
is shown, never mutated: every use that acts on one (storing a prescription, accepting a dose)
computes it again from the records.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def digest(*parts: object) -> str:
    """SHA-256 of the parts as canonical JSON (dicts with sorted keys; bytes as hex)."""
    def plain(value):
        return value.hex() if isinstance(value, bytes) else str(value)

    text = json.dumps(parts, sort_keys=True, default=plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Memo(Generic[T]):
    """A bounded, thread-safe map from an input digest to a result (least recently used out).
    Two threads may compute the same missing result at once; both get an equal one."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        result = compute()
        with self._lock:
            self._kept[key] = result
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return result
