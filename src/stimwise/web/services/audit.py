"""Audited reads and the audit log itself.

The repository audits every write; reads are audited here: the read runs in a read snapshot,
then the audit entry is written in its own short write transaction, and nothing is shown unless
it was written. (Reading inside the write transaction held the database's one write lock for the
whole read, so on SQLite every page view queued behind every other page view and diary write:
issue 17, speed.) Entries name the actor, the action and the patient's record id, never values,
notes or names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.audit import audit_entries, log_action
from stimwise.records.database import Database
from stimwise.records.models import AuditEntry

T = TypeVar("T")

MAX_AUDIT_ROWS = 5000


def audited_read(
    db: Database, actor: Actor, pseudonym: str, what: str, read: Callable[[Session], T]
) -> T:
    """Run ``read`` on ``pseudonym``'s record after the access check, then log
    ``read_<what>`` for the patient; the result is returned only once the entry is written."""
    with db.reading() as session:
        patient_id = r.get_patient(session, actor, pseudonym).id
        result = read(session)
    with db.transaction() as session:
        log_action(session, actor, f"read_{what}", "patient", patient_id)
    return result


def recent_entries(db: Database, actor: Actor, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries (clinicians only); looking at the log is itself logged."""
    limit = max(1, min(limit, MAX_AUDIT_ROWS))
    with db.transaction() as session:
        entries = audit_entries(session, actor, limit)
        log_action(session, actor, "read", "audit_log")
    return entries
