"""The append-only audit log: who did what, when, to which record.

Entries hold the actor, the action and the record's type and id, never health data (no values,
no notes, no names), so the log can be shown to an auditor without disclosing the record. The
database refuses UPDATE and DELETE on the table (triggers of revision ``0001_initial``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.records.access import Actor, require
from stimwise.records.models import AuditEntry


def log_action(
    session: Session, actor: Actor, action: str, record_type: str, record_id: object = None
) -> None:
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor.username,
            role=actor.role,
            action=action,
            record_type=record_type,
            record_id=None if record_id is None else str(record_id),
        )
    )


def audit_entries(session: Session, actor: Actor, limit: int = 1000) -> list[AuditEntry]:
    """The newest entries first; administrators only."""
    require(actor, "administer")
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
