"""Login throttling against password guessing, shared by every web worker.

Failed sign-ins are counted in the records database (table ``login_failures``), so several
workers behind one address see the same counts (issue 17: counts per process let each worker
take its own five guesses). Three counts within a sliding window, each under the SHA-256 of its
key (no typed user name is stored):

* per (client address, user name): ``max_failures``;
* per client address over all names: ``ADDRESS_FACTOR`` × that;
* per user name, from anywhere: ``ACCOUNT_FACTOR`` × that. This one does not depend on the
  address, so a guesser who changes address (or forges ``X-Forwarded-For``) on every try is
  still stopped (HAZ-114). It throttles, never locks: the account opens again when the window
  has passed, so nobody can shut a clinician out for longer than that.

Once a count reaches its limit, further attempts are refused (HTTP 429 with ``Retry-After``)
*before* the password is checked, so a guesser learns nothing while blocked.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from stimwise.records.database import Database
from stimwise.records.models import LoginFailure

ADDRESS_FACTOR = 4
"""One address may fail this many times the per-user limit over all user names [U]."""
ACCOUNT_FACTOR = 4
"""One account may fail this many times the per-user limit from all addresses together [U]:
high enough that one person's typos from several devices do not lock them out, low enough that
a guesser gets 20 tries per 15 minutes, not thousands."""


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class LoginThrottle:
    def __init__(
        self,
        db: Database,
        max_failures: int,
        window_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock

    def _keys(self, address: str, username: str) -> list[tuple[str, int]]:
        name = username.casefold()
        return [
            (_key("address+user", address, name), self.max_failures),
            (_key("address", address), self.max_failures * ADDRESS_FACTOR),
            (_key("user", name), self.max_failures * ACCOUNT_FACTOR),
        ]

    def retry_after_s(self, address: str, username: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self._clock()
        since = now - timedelta(seconds=self.window_s)
        wait = 0.0
        with self.db.reading() as session:
            for key, limit in self._keys(address, username):
                times = list(session.scalars(
                    select(LoginFailure.failed_at)
                    .where(LoginFailure.key_sha256 == key, LoginFailure.failed_at > since)
                    .order_by(LoginFailure.failed_at.desc())
                    .limit(limit)
                ))
                if len(times) >= limit:
                    opens = times[-1] + timedelta(seconds=self.window_s)
                    wait = max(wait, (opens - now).total_seconds())
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, address: str, username: str) -> None:
        now = self._clock()
        keys = [key for key, _limit in self._keys(address, username)]
        with self.db.transaction() as session:
            session.execute(delete(LoginFailure).where(
                LoginFailure.key_sha256.in_(keys),
                LoginFailure.failed_at <= now - timedelta(seconds=self.window_s),
            ))
            session.add_all(LoginFailure(key_sha256=key, failed_at=now) for key in keys)

    def succeeded(self, address: str, username: str) -> None:
        """A correct password clears that user's count from that address."""
        key = self._keys(address, username)[0][0]
        with self.db.transaction() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.key_sha256 == key))
