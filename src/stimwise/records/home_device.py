"""The person's own device and the calendar subscription of their home schedule.

* **Home device.** The device profile the person uses at home, chosen by them or a clinician
  (``write_own``); until one is chosen, the device of their last self-logged session stands
  in, so the log form and the instructions remember it.
* **Calendar feeds.** A subscription address ``/calendar/<token>.ics`` that a phone's calendar
  polls without signing in. The token is 32 random bytes (256 bits, :func:`secrets.token_urlsafe`);
  only its SHA-256 is stored, so the address is shown once and a copy of the database does not
  reveal it. One address per person is live at a time: making a new one or stopping it revokes
  the old, which then answers nothing. The feed names no person (see
  :mod:`stimwise.interop.calendar`); each read is audited under the pseudonymous record.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.device.profiles import get_profile
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import CalendarFeed, HomeDevice, Patient, SelfLoggedSession
from stimwise.records.repository import find_patient, get_patient, now_utc

TOKEN_BYTES = 32
"""Random bytes of a feed token: 256 bits, as many as a sign-in session token has (the address
is a bearer secret like it) [U: stimwise's choice]."""
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
FEED_READER = "calendar-feed"
"""The audit log's actor name for a calendar application reading a feed."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def last_self_logged(session: Session, actor: Actor, pseudonym: str
                     ) -> SelfLoggedSession | None:
    """The person's most recent self-logged session (what the log form remembers)."""
    patient = get_patient(session, actor, pseudonym)
    return session.scalars(
        select(SelfLoggedSession).where(SelfLoggedSession.patient_id == patient.id)
        .order_by(SelfLoggedSession.started_at.desc(), SelfLoggedSession.id.desc()).limit(1)
    ).first()


def chosen_device(session: Session, actor: Actor, pseudonym: str) -> str | None:
    """The person's home device profile id: the one chosen, else the last logged one."""
    patient = get_patient(session, actor, pseudonym)
    chosen = session.scalar(select(HomeDevice.profile_id)
                            .where(HomeDevice.patient_id == patient.id))
    if chosen is not None:
        return chosen
    last = last_self_logged(session, actor, pseudonym)
    return None if last is None else last.profile_id


def choose_device(session: Session, actor: Actor, pseudonym: str, profile_id: str,
                  *, now: datetime | None = None) -> HomeDevice:
    """Set the person's home device (an unknown profile id is refused naming the known ones)."""
    require(actor, "write_own", pseudonym)
    get_profile(profile_id)
    patient = find_patient(session, pseudonym)
    row = session.scalar(select(HomeDevice).where(HomeDevice.patient_id == patient.id))
    if row is None:
        row = HomeDevice(patient_id=patient.id, profile_id=profile_id,
                         chosen_by=actor.username, chosen_at=now or now_utc())
        session.add(row)
    else:
        row.profile_id, row.chosen_by, row.chosen_at = (
            profile_id, actor.username, now or now_utc())
    session.flush()
    log_action(session, actor, "set_home_device", "patient", patient.id)
    return row


# --------------------------------------------------------------------------- calendar feeds


def active_calendar_feed(session: Session, actor: Actor, pseudonym: str
                         ) -> CalendarFeed | None:
    """The person's live subscription address (its token is not kept, only its hash)."""
    patient = get_patient(session, actor, pseudonym)
    return session.scalars(
        select(CalendarFeed).where(CalendarFeed.patient_id == patient.id,
                                   CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc()).limit(1)).first()


def revoke_calendar_feeds(session: Session, actor: Actor, pseudonym: str,
                          *, now: datetime | None = None) -> int:
    """Stop every live address of the person (audited); returns how many were live."""
    require(actor, "write_own", pseudonym)
    patient = find_patient(session, pseudonym)
    live = list(session.scalars(select(CalendarFeed).where(
        CalendarFeed.patient_id == patient.id, CalendarFeed.revoked_at.is_(None))))
    for feed in live:
        feed.revoked_at, feed.revoked_by = now or now_utc(), actor.username
        log_action(session, actor, "revoke", "calendar_feed", feed.id)
    return len(live)


def create_calendar_feed(session: Session, actor: Actor, pseudonym: str, at: time,
                         *, now: datetime | None = None) -> str:
    """A new subscription address token (the old one stops); shown to the caller once."""
    revoke_calendar_feeds(session, actor, pseudonym, now=now)
    patient = find_patient(session, pseudonym)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(patient_id=patient.id, token_sha256=_token_hash(token),
                        at_time=at.strftime("%H:%M"), created_by=actor.username,
                        created_at=now or now_utc())
    session.add(feed)
    session.flush()
    log_action(session, actor, "create", "calendar_feed", feed.id)
    return token


@dataclass(frozen=True)
class FeedRead:
    """Whose schedule a live token opens, as a reader confined to that record."""

    reader: Actor
    pseudonym: str
    at: time
    feed_id: int


def read_calendar_feed(session: Session, token: str) -> FeedRead | None:
    """The record a live token opens (``None`` for a malformed, unknown or revoked token);
    the read is audited under the patient's record id."""
    if not _TOKEN_PATTERN.fullmatch(token):
        return None
    found = session.execute(
        select(CalendarFeed, Patient.pseudonym)
        .join(Patient, Patient.id == CalendarFeed.patient_id)
        .where(CalendarFeed.token_sha256 == _token_hash(token),
               CalendarFeed.revoked_at.is_(None))).first()
    if found is None:
        return None
    feed, pseudonym = found
    reader = Actor(FEED_READER, "patient", patient=pseudonym)
    log_action(session, reader, "read_calendar_feed", "patient", feed.patient_id)
    return FeedRead(reader, pseudonym, time.fromisoformat(feed.at_time), feed.id)
