"""The clinicians' inbox: patients' problem reports (adverse events) and flagged self-logged
sessions that no clinician has acknowledged yet.

A patient's report after stimulation ("skin irritation", with their own description) used to
reach no page and no report (issue 17). Every adverse event a patient records now waits here,
counted in every clinician page's header, until a clinician acknowledges it; one that a
clinician records is acknowledged by them as they record it. A session the person did on their
own device outside the prescription's locked ranges (issue 14: a higher rate, a longer session,
a muscle twitch on a sensory programme...) is stored flagged, with the reasons, and waits here
in the same way (HAZ-124); the rules are in :mod:`stimwise.records.self_logged`. Reading the
inbox and each acknowledgement are audited (the entry names the record, never its content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from stimwise.device.profiles import profiles
from stimwise.records import repository as r
from stimwise.records import self_logged
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.database import Database
from stimwise.records.models import Patient, SelfLoggedSession

SETTING_TEXT = {"frequency_hz": ("pulse rate", "Hz"), "phase_width_us": ("pulse width", "µs"),
                "level": ("level", ""), "amplitude_ma": ("current", "mA")}


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


@dataclass(frozen=True)
class FlaggedSessionItem:
    """One unacknowledged self-logged session done outside the prescription."""

    id: int
    pseudonym: str
    started_at: datetime
    reported_at: datetime
    reported_by: str
    device: str
    minutes: float
    settings: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Inbox:
    """What waits for a clinician: problem reports and flagged sessions, each newest first."""

    reports: list[InboxItem]
    flagged_sessions: list[FlaggedSessionItem]

    @property
    def count(self) -> int:
        return len(self.reports) + len(self.flagged_sessions)


def unread_count(db: Database, actor: Actor) -> int:
    """How many reports and flagged sessions wait for a clinician (0 for anyone else): one
    statement, since every clinician page's header shows it."""
    if actor.role != "clinician":
        return 0
    require(actor, "write_clinical")
    statement = select(r.unacknowledged_adverse_events_count().scalar_subquery()
                       + self_logged.unacknowledged_flagged_sessions_count().scalar_subquery())
    with db.reading() as session:
        return session.execute(statement).scalar_one() or 0


def _settings_text(settings: dict) -> str:
    shown = []
    for key, value in settings.items():
        label, unit = SETTING_TEXT.get(key, (key.replace("_", " "), ""))
        shown.append(f"{label} {value:g}{' ' + unit if unit else ''}")
    return ", ".join(shown)


def _flagged(row: SelfLoggedSession, pseudonym: str) -> FlaggedSessionItem:
    profile = profiles().get(row.profile_id)
    return FlaggedSessionItem(
        row.id, pseudonym, row.started_at, row.created_at, row.reported_by,
        profile.name if profile is not None else row.profile_id, row.minutes,
        _settings_text(row.settings), tuple(row.flag_reasons))


def items(db: Database, actor: Actor) -> Inbox:
    """The waiting reports and flagged sessions, newest first (an audited read)."""
    with db.transaction() as session:
        events = r.unacknowledged_adverse_events(session, actor)
        names = dict(session.execute(
            select(Patient.id, Patient.pseudonym)
            .where(Patient.id.in_({e.patient_id for e in events}))
        ).all()) if events else {}
        flagged = self_logged.unacknowledged_flagged_sessions(session, actor)
        log_action(session, actor, "read", "inbox")
        return Inbox(
            [InboxItem(e.id, names[e.patient_id], e.occurred_at, e.created_at, e.kind,
                       e.severity, e.body_site, e.description, e.session_id) for e in events],
            [_flagged(row, pseudonym) for row, pseudonym in flagged],
        )


def acknowledge(db: Database, actor: Actor, event_id: int) -> None:
    """Mark a report as read by this clinician (audited)."""
    with db.transaction() as session:
        r.acknowledge_adverse_event(session, actor, event_id)


def acknowledge_session(db: Database, actor: Actor, session_id: int) -> None:
    """Mark a flagged self-logged session as seen by this clinician (audited)."""
    with db.transaction() as session:
        self_logged.acknowledge_flagged_session(session, actor, session_id)
