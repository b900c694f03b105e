"""The clinicians' inbox: patients' problem reports (adverse events) that no clinician has
acknowledged yet.

A patient's report after stimulation ("skin irritation", with their own description) used to
reach no page and no report (issue 17). Every adverse event a patient records now waits here,
counted in every clinician page's header, until a clinician acknowledges it; one that a
clinician records is acknowledged by them as they record it. Reading the inbox and each
acknowledgement are audited (the entry names the event, never its description).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.audit import log_action
from stimwise.records.database import Database
from stimwise.records.models import Patient


@dataclass(frozen=True)
class InboxItem:
    """One unacknowledged report, with the patient it belongs to."""

    id: int
    pseudonym: str
    occurred_at: datetime
    reported_at: datetime
    kind: str
    severity: str
    body_site: str | None
    description: str | None
    session_id: int | None

    @property
    def kind_text(self) -> str:
        return self.kind.replace("_", " ")

    @property
    def site_text(self) -> str | None:
        return None if self.body_site is None else self.body_site.replace("_", " ")


def unread_count(db: Database, actor: Actor) -> int:
    """How many reports wait for a clinician (0 for anyone else)."""
    if actor.role != "clinician":
        return 0
    with db.reading() as session:
        return r.count_unacknowledged_adverse_events(session, actor)


def items(db: Database, actor: Actor) -> list[InboxItem]:
    """The waiting reports, newest first (an audited read)."""
    with db.transaction() as session:
        events = r.unacknowledged_adverse_events(session, actor)
        names = dict(session.execute(
            select(Patient.id, Patient.pseudonym)
            .where(Patient.id.in_({e.patient_id for e in events}))
        ).all()) if events else {}
        log_action(session, actor, "read", "inbox")
        return [
            InboxItem(e.id, names[e.patient_id], e.occurred_at, e.created_at, e.kind,
                      e.severity, e.body_site, e.description, e.session_id)
            for e in events
        ]


def acknowledge(db: Database, actor: Actor, event_id: int) -> None:
    """Mark a report as read by this clinician (audited)."""
    with db.transaction() as session:
        r.acknowledge_adverse_event(session, actor, event_id)
