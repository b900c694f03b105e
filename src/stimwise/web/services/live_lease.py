"""One live session per person across every web worker: a lease row in the records database.

The registry of running sessions lives in one process, so behind several workers two consoles
could start two sessions for one person (issue 17). Before a worker starts a session it takes
the person's lease (table ``live_session_leases``, one row per patient by a unique constraint);
another worker's start then finds the row and is refused, whichever worker it reaches (HAZ-117).
The holder renews the lease while its session runs and deletes it when the session is stored;
a lease whose worker died expires after :data:`LEASE_TTL_S` and may then be taken over. The
unique constraint makes two simultaneous first takes safe on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from stimwise.records.database import Database
from stimwise.records.models import LiveSessionLease, Patient

LEASE_TTL_S = 30.0
"""How long a lease outlives its last renewal [U]: a worker that died frees the person after
this; a running session renews it every third of it."""


def holder_id(console_id: str) -> str:
    """Who holds a lease: this host, this process and the console (at most 80 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{console_id}"[:80]


def _patient_id(session, pseudonym: str) -> int:
    return session.scalar(select(Patient.id).where(Patient.pseudonym == pseudonym))


def take(db: Database, pseudonym: str, holder: str, *, now: datetime | None = None) -> bool:
    """Take the person's lease for ``holder``; ``False`` while another holder's is live."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=LEASE_TTL_S)
    try:
        with db.transaction() as session:
            patient_id = _patient_id(session, pseudonym)
            taken = session.execute(
                update(LiveSessionLease)
                .where(LiveSessionLease.patient_id == patient_id,
                       LiveSessionLease.expires_at < now)
                .values(holder=holder, started_at=now, expires_at=expires)
            ).rowcount
            if taken:
                return True
            if session.scalar(select(LiveSessionLease.id)
                              .where(LiveSessionLease.patient_id == patient_id)) is not None:
                return False
            session.add(LiveSessionLease(patient_id=patient_id, holder=holder, started_at=now,
                                         expires_at=expires))
    except IntegrityError:  # another worker inserted the row first
        return False
    return True


def renew(db: Database, pseudonym: str, holder: str) -> bool:
    """Extend the holder's lease; ``False`` when it is no longer theirs."""
    expires = datetime.now(UTC) + timedelta(seconds=LEASE_TTL_S)
    with db.transaction() as session:
        patient_id = _patient_id(session, pseudonym)
        return bool(session.execute(
            update(LiveSessionLease)
            .where(LiveSessionLease.patient_id == patient_id, LiveSessionLease.holder == holder)
            .values(expires_at=expires)
        ).rowcount)


def release(db: Database, pseudonym: str, holder: str) -> None:
    """Give the lease up (only the holder's own)."""
    with db.transaction() as session:
        patient_id = _patient_id(session, pseudonym)
        session.execute(delete(LiveSessionLease).where(
            LiveSessionLease.patient_id == patient_id, LiveSessionLease.holder == holder))
