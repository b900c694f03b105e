"""The patient list and finding a person in it.

One row per person with what a clinician scans for: status, last session (delivered by stimwise
or logged on the person's own device), unread reports (their entries in the clinicians' inbox:
problem reports and flagged self-logged sessions not yet acknowledged) and, for clinicians, the
person's name and date of birth.

Anyone who may read the records finds a person by pseudonym. Finding by name or date of birth
reads identifying data, so it is for clinicians only (permission ``search_identity``): a
researcher or a patient asking for it is refused with the reason (HAZ-172). Identifying data
stays in ``patient_identities`` and is read here only for a clinician; every identity search
is audited (``search_identity``) and so is every name shown (``read_identity`` per person), and
no audit entry holds a search term, a name or a date (HAZ-173). An identity search travels in
a request's body, never in its address (the page posts its form; the API has
``POST /api/v1/patients/search``), so no proxy log and no browser history keeps a name.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import AccessDeniedError, Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import (
    PATIENT_STATUSES,
    AdverseEvent,
    Patient,
    PatientIdentity,
    PrescriptionRecord,
    SelfLoggedSession,
    SessionEntry,
)
from stimwise.records.review import active_on

PAGE_SIZE = 50
"""People per page of the list [U: stimwise's choice, one screen of a clinic's caseload]."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
IDENTITY_REFUSAL = (
    "finding a person by name or date of birth reads identifying data, which only clinicians "
    "may do; find them by pseudonym")


@dataclass(frozen=True)
class PatientQuery:
    """What to look for.

    ``text``: part of a pseudonym and, with ``by_identity``, also part of a name or a date of
    birth (``1961-04-12``, ``12.04.1961`` or ``12/04/1961``, day first). ``name`` and ``born``:
    an explicit identity search. Any identity search is for clinicians only. ``status``: keep
    only people in that status.
    """

    text: str = ""
    name: str = ""
    born: date | None = None
    status: str | None = None
    by_identity: bool = False

    @property
    def asks_identity(self) -> bool:
        """Whether the query reads identifying data."""
        return self.by_identity or bool(self.name.strip()) or self.born is not None


@dataclass(frozen=True)
class PatientRow:
    pseudonym: str
    enrolled_on: date
    created_at: datetime
    status: str
    last_session_at: datetime | None
    unread: int | None
    """Entries waiting in the clinicians' inbox (``None``: not shown to this role)."""
    review_due_on: date | None
    full_name: str | None = None
    date_of_birth: date | None = None


@dataclass(frozen=True)
class PatientPage:
    rows: list[PatientRow]
    matched: int
    total: int
    page: int
    pages: int
    with_identity: bool


def birth_date(text: str) -> date | None:
    """``text`` read as a date of birth (ISO, or day first with . / or -), else ``None``."""
    text = text.strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        found = _DAY_FIRST.match(text)
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


def folded(text: str) -> str:
    """Case and accents folded away ("Müller" finds "muller"), whatever the database."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _name_matches(wanted: str, full_name: str) -> bool:
    name = folded(full_name)
    return all(token in name for token in folded(wanted).replace(",", " ").split())


def review_dates(session: Session, patient_ids: list[int], today: date) -> dict[int, date]:
    """Each person's next review date: the earliest of the prescriptions in force today (a
    prescription written before review dates existed has none; ``/reviews`` lists it as "review
    now")."""
    if not patient_ids:
        return {}
    rows = session.execute(
        select(PrescriptionRecord.patient_id, func.min(PrescriptionRecord.review_on))
        .where(PrescriptionRecord.patient_id.in_(patient_ids), active_on(today),
               PrescriptionRecord.review_on.is_not(None))
        .group_by(PrescriptionRecord.patient_id))
    return {patient_id: review_on for patient_id, review_on in rows}


def _last_sessions(session: Session) -> dict[int, datetime]:
    latest: dict[int, datetime] = {}
    for model in (SessionEntry, SelfLoggedSession):
        for patient_id, started in session.execute(
                select(model.patient_id, func.max(model.started_at)).group_by(model.patient_id)):
            if started is not None:
                started = _aware(started)
                latest[patient_id] = max(started, latest.get(patient_id, started))
    return latest


def _aware(value: datetime) -> datetime:
    """``func.max`` bypasses the column type on SQLite: the stored UTC comes back naive."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _unread(session: Session) -> dict[int, int]:
    counts: dict[int, int] = {}
    queries = (
        select(AdverseEvent.patient_id, func.count()).where(AdverseEvent.acknowledged_at.is_(None))
        .group_by(AdverseEvent.patient_id),
        select(SelfLoggedSession.patient_id, func.count())
        .where(SelfLoggedSession.flagged.is_(True), SelfLoggedSession.acknowledged_at.is_(None))
        .group_by(SelfLoggedSession.patient_id),
    )
    for query in queries:
        for patient_id, count in session.execute(query):
            counts[patient_id] = counts.get(patient_id, 0) + count
    return counts


def _identities(session: Session, patient_ids: list[int] | None) -> dict[int, PatientIdentity]:
    """Identifying data by patient id (``None``: everyone's, for a search)."""
    query = select(PatientIdentity)
    if patient_ids is not None:
        query = query.where(PatientIdentity.patient_id.in_(patient_ids))
    return {row.patient_id: row for row in session.scalars(query)}


def find_patients(session: Session, actor: Actor, query: PatientQuery, page: int = 1,
                  page_size: int | None = PAGE_SIZE) -> PatientPage:
    """The people matching ``query``, by pseudonym, one page of ``page_size`` (``None``: all
    on one page). A clinician also gets names and dates of birth (each one shown is audited)
    and unread counts."""
    if query.asks_identity and actor.role != "clinician":
        raise AccessDeniedError(IDENTITY_REFUSAL)
    require(actor, "read", actor.patient)  # a patient: their own record only
    if query.status is not None and query.status not in PATIENT_STATUSES:
        raise InputError(FieldProblem("status", query.status,
                                      f"one of {', '.join(PATIENT_STATUSES)}"))
    clinician = actor.role == "clinician"
    people = list(session.scalars(select(Patient).order_by(Patient.pseudonym)))
    if actor.role == "patient":
        people = [p for p in people if p.pseudonym == actor.patient]
    total = len(people)
    text = query.text.strip()
    searches_identity = query.asks_identity and bool(text or query.name.strip() or query.born)
    identities: dict[int, PatientIdentity] = {}
    if searches_identity:
        require(actor, "search_identity")
        identities = _identities(session, None)
    born = query.born or (birth_date(text) if searches_identity else None)

    def matches(person: Patient) -> bool:
        if query.status is not None and person.status != query.status:
            return False
        identity = identities.get(person.id)
        if query.name.strip() and (identity is None
                                   or not _name_matches(query.name, identity.full_name)):
            return False
        if query.born is not None and (identity is None or identity.date_of_birth != born):
            return False
        if not text:
            return True
        if folded(text) in folded(person.pseudonym):
            return True
        if identity is None or not searches_identity:
            return False
        if born is not None:
            return identity.date_of_birth == born
        return _name_matches(text, identity.full_name)

    found = [person for person in people if matches(person)]
    log_action(session, actor, "search_identity" if searches_identity else "read",
               "patient_list")
    size = page_size or max(1, len(found))
    pages = max(1, math.ceil(len(found) / size))
    page = min(max(1, page), pages)
    shown = found[(page - 1) * size: page * size]
    if clinician and not searches_identity:  # the names of the people shown, and no others
        identities = _identities(session, [person.id for person in shown])
    last = _last_sessions(session)
    unread = _unread(session) if clinician else {}
    reviews = review_dates(session, [p.id for p in shown], datetime.now(UTC).date())
    rows = []
    for person in shown:
        identity = identities.get(person.id)
        if identity is not None:
            log_action(session, actor, "read_identity", "patient", person.id)
        rows.append(PatientRow(
            pseudonym=person.pseudonym, enrolled_on=person.enrolled_on,
            created_at=person.created_at, status=person.status,
            last_session_at=last.get(person.id),
            unread=unread.get(person.id, 0) if clinician else None,
            review_due_on=reviews.get(person.id),
            full_name=None if identity is None else identity.full_name,
            date_of_birth=None if identity is None else identity.date_of_birth))
    return PatientPage(rows, len(found), total, page, pages, clinician)
