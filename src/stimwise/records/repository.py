"""Repository functions: every read and write of the clinical record, with access checks,
validation against the record (dates, ownership, duplicates) and an audit entry per change.

Each function works inside the caller's transaction (``with database.transaction() as s:``), so
several calls commit together or not at all: nothing is half-written. Functions take validated
inputs from :mod:`stimwise.records.inputs` and return ORM rows from
:mod:`stimwise.records.models`, which stay readable after the transaction ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stimwise.clinical.instruments import InstrumentResponse, score_all
from stimwise.clinical.intake import Intake
from stimwise.clinical.screening import Screening
from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.inputs import (
    AdverseEventIn,
    DiaryEntryIn,
    IdentityIn,
    PatientIn,
    PrescriptionIn,
    UserIn,
)
from stimwise.records.models import (
    AdverseEvent,
    DiaryEntry,
    InstrumentScoreRecord,
    IntakeRecord,
    Patient,
    PatientIdentity,
    PrescriptionRecord,
    SelfLoggedSession,
    SessionEntry,
    User,
)
from stimwise.records.review import active_on, check_review_on, default_review_on

__all__ = [
    "CLOCK_SKEW",
    "RowT",
    "acknowledge_adverse_event",
    "actor_for",
    "add_adverse_event",
    "add_diary_entries",
    "add_instrument_scores",
    "add_intake",
    "add_prescription",
    "add_user",
    "adverse_event_row",
    "create_patient",
    "date_problems",
    "diary_problems",
    "diary_row",
    "display_names",
    "find_patient",
    "get_identity",
    "get_patient",
    "latest_diary",
    "list_adverse_events",
    "list_diary",
    "list_instrument_scores",
    "list_patients",
    "list_prescriptions",
    "now_utc",
    "patient_row",
    "race_guard",
    "raise_if",
    "record_counts",
    "remove_identity",
    "set_display_name",
    "set_identity",
    "store",
    "supersede_prescriptions",
    "unacknowledged_adverse_events",
    "unacknowledged_adverse_events_count",
]

RowT = TypeVar("RowT")

CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for a writer's clock running ahead of the server's [U: stimwise's choice]."""


def now_utc() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- checks


def find_patient(session: Session, pseudonym: str) -> Patient:
    """The patient row, or an :class:`InputError` naming the unknown pseudonym.

    Found once per database session: a page's reads ask for the same person several times
    (the progress report seven times), and the row object is the session's own, so changes
    made in the session are seen."""
    known = session.info.setdefault("patients_by_pseudonym", {})
    patient = known.get(pseudonym)
    if patient is None:
        patient = session.scalar(select(Patient).where(Patient.pseudonym == pseudonym))
        if patient is None:
            raise InputError(
                FieldProblem("patient", pseudonym, "the pseudonym of a known patient"))
        known[pseudonym] = patient
    return patient


def date_problems(
    path: str, when: datetime | date, patient: Patient, now: datetime
) -> list[FieldProblem]:
    """A record's time must not lie in the future nor before the patient's enrolment (a diary
    entry, session or event dated before enrolment is out of order: it cannot belong to this
    episode of care)."""
    day = when.date() if isinstance(when, datetime) else when
    shown = when.isoformat()
    if isinstance(when, datetime) and when > now + CLOCK_SKEW:
        return [FieldProblem(path, shown, f"a time not in the future (now {now:%Y-%m-%dT%H:%MZ})")]
    if not isinstance(when, datetime) and when > now.date():
        return [FieldProblem(path, shown, f"a date not in the future (today {now.date()})")]
    if day < patient.enrolled_on:
        expected = f"on or after the patient's enrolment ({patient.enrolled_on})"
        return [FieldProblem(path, shown, expected)]
    return []


def raise_if(problems: list[FieldProblem], source: str | None = None) -> None:
    if problems:
        raise InputError(problems, source=source)


def race_guard(session: Session) -> AbstractContextManager:
    """A savepoint around inserts that concurrent writers may race on unique keys (PostgreSQL:
    the loser's insert fails and is rolled back to it). SQLite write transactions are
    serialised (``BEGIN IMMEDIATE``), so the look-up before an insert cannot be overtaken and
    the savepoint's cost (about a fifth of a diary write) is skipped there."""
    if session.get_bind().dialect.name == "sqlite":
        return nullcontext()
    return session.begin_nested()


def store(session: Session, actor: Actor, row: RowT, record_type: str) -> RowT:
    """Add a new row and its audit entry (the row's id is known after the flush)."""
    session.add(row)
    session.flush()
    log_action(session, actor, "create", record_type, row.id)  # type: ignore[attr-defined]
    return row


# --------------------------------------------------------------------------- patients and users


def patient_row(data: PatientIn, now: datetime) -> Patient:
    """A new patient row from validated input (its enrolment date may not be in the future)."""
    if data.enrolled_on > now.date():
        raise InputError(
            FieldProblem("enrolled_on", data.enrolled_on.isoformat(), "a date not in the future")
        )
    patient = Patient(pseudonym=data.pseudonym, enrolled_on=data.enrolled_on, created_at=now)
    if data.identity is not None:
        patient.identity = PatientIdentity(**data.identity.model_dump())
    return patient


def create_patient(
    session: Session, actor: Actor, data: PatientIn, *, now: datetime | None = None
) -> Patient:
    """Add a patient (and their identity, when given); a pseudonym already in use is an error.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from datetime import date
    >>> from stimwise.records import Actor, create_patient, open_database
    >>> from stimwise.records.inputs import PatientIn
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> clinician = Actor(username="dr-lee", role="clinician")
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     with database.transaction() as session:
    ...         patient = create_patient(
    ...             session, clinician, PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 5)))
    ...     patient.pseudonym
    'P001'
    """
    require(actor, "write_clinical")
    if session.scalar(select(Patient.id).where(Patient.pseudonym == data.pseudonym)) is not None:
        raise InputError(FieldProblem("pseudonym", data.pseudonym, "a pseudonym not yet in use"))
    patient = patient_row(data, now or now_utc())
    return store(session, actor, patient, "patient")


def get_patient(session: Session, actor: Actor, pseudonym: str) -> Patient:
    require(actor, "read", pseudonym)
    return find_patient(session, pseudonym)


def list_patients(session: Session, actor: Actor) -> list[Patient]:
    """Every patient, by pseudonym (a patient actor sees only their own)."""
    if actor.role == "patient":
        return [get_patient(session, actor, actor.patient or "")]
    require(actor, "read")
    return list(session.scalars(select(Patient).order_by(Patient.pseudonym)))


def get_identity(session: Session, actor: Actor, pseudonym: str) -> PatientIdentity | None:
    """Identifying data (clinicians, and a patient for themself); every read is audited."""
    require(actor, "read_identity", pseudonym)
    patient = find_patient(session, pseudonym)
    log_action(session, actor, "read_identity", "patient", patient.id)
    return patient.identity


def set_identity(session: Session, actor: Actor, pseudonym: str, data: IdentityIn) -> None:
    require(actor, "write_identity", pseudonym)
    patient = find_patient(session, pseudonym)
    if patient.identity is None:
        patient.identity = PatientIdentity(**data.model_dump())
    else:
        for name, value in data.model_dump().items():
            setattr(patient.identity, name, value)
    session.flush()
    log_action(session, actor, "set_identity", "patient", patient.id)


def remove_identity(session: Session, actor: Actor, pseudonym: str) -> bool:
    """Delete the identifying data, keeping the pseudonymous record; ``False`` if none."""
    require(actor, "write_identity", pseudonym)
    patient = find_patient(session, pseudonym)
    if patient.identity is None:
        return False
    patient.identity = None
    session.flush()
    log_action(session, actor, "remove_identity", "patient", patient.id)
    return True


def add_user(session: Session, actor: Actor, data: UserIn, *, now: datetime | None = None) -> User:
    require(actor, "administer")
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise InputError(FieldProblem("username", data.username, "a user name not yet in use"))
    patient = None if data.patient is None else find_patient(session, data.patient)
    user = User(
        username=data.username,
        role=data.role,
        patient_id=None if patient is None else patient.id,
        created_at=now or now_utc(),
        display_name=data.display_name,
    )
    return store(session, actor, user, "user")


def set_display_name(session: Session, actor: Actor, username: str,
                     display_name: str | None) -> User:
    """Set (or, with None, clear) the name an account signs reports with (administrators
    only; audited as ``set_display_name``, the name itself is not logged)."""
    require(actor, "administer")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(FieldProblem("username", username, "a registered user name"))
    user.display_name = display_name
    log_action(session, actor, "set_display_name", "user", user.id)
    return user


def display_names(session: Session, usernames) -> dict[str, str]:
    """The names to print for these user names: the display name where one is set, else the
    user name itself (e.g. a prescriber from an imported record)."""
    wanted = set(usernames)
    found = dict(session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    ) if wanted else {}
    return {name: found.get(name) or name for name in wanted}


def actor_for(session: Session, username: str) -> Actor:
    """The :class:`Actor` of a registered user (their role, and their record for a patient)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(FieldProblem("user", username, "a registered user name"))
    pseudonym = None
    if user.patient_id is not None:
        pseudonym = session.scalar(select(Patient.pseudonym).where(Patient.id == user.patient_id))
    return Actor(username=user.username, role=user.role, patient=pseudonym)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- diary and events


def diary_row(patient: Patient, entry: DiaryEntryIn, now: datetime) -> dict:
    """The column values of one diary entry, for ORM or bulk insertion."""
    return {
        "entry_uuid": str(entry.entry_uuid),
        "patient_id": patient.id,
        "recorded_at": entry.recorded_at,
        "body_site": entry.body_site,
        "pain_current_nrs": entry.pain_current_nrs,
        "pain_average_nrs": entry.pain_average_nrs,
        "pain_worst_nrs": entry.pain_worst_nrs,
        "sleep_interference_nrs": entry.sleep_interference_nrs,
        "function_interference_nrs": entry.function_interference_nrs,
        "medication_changes": [c.model_dump() for c in entry.medication_changes],
        "note": entry.note,
        "created_at": now,
    }


def diary_problems(
    patient: Patient, entries: Sequence[DiaryEntryIn], now: datetime
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        problems += date_problems(f"entries[{index}].recorded_at", entry.recorded_at, patient, now)
        key = str(entry.entry_uuid)
        if key in seen:
            problems.append(FieldProblem(f"entries[{index}].entry_uuid", key, "unique in a batch"))
        seen.add(key)
    return problems


def add_diary_entries(
    session: Session,
    actor: Actor,
    pseudonym: str,
    entries: Sequence[DiaryEntryIn],
    *,
    now: datetime | None = None,
) -> list[DiaryEntry]:
    """Add diary entries, all or none. An entry whose ``entry_uuid`` is already stored for this
    patient is a retried submission: the stored row is returned and nothing is added (also when
    the retry races the first submission: the loser's insert is rolled back to a savepoint and
    the entries are looked up again)."""
    require(actor, "write_own", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    raise_if(diary_problems(patient, entries, now))
    try:  # a concurrent submission of the same entry commits first: its unique id wins
        with race_guard(session):
            return _store_new_diary_entries(session, actor, patient, entries, now)
    except IntegrityError:
        return _store_new_diary_entries(session, actor, patient, entries, now)


def _store_new_diary_entries(
    session: Session,
    actor: Actor,
    patient: Patient,
    entries: Sequence[DiaryEntryIn],
    now: datetime,
) -> list[DiaryEntry]:
    keys = [str(e.entry_uuid) for e in entries]
    stored = {
        row.entry_uuid: row
        for row in session.scalars(select(DiaryEntry).where(DiaryEntry.entry_uuid.in_(keys)))
    }
    foreign = [k for k, row in stored.items() if row.patient_id != patient.id]
    if foreign:
        raise InputError(
            [FieldProblem("entry_uuid", k, "an id not used by another patient") for k in foreign]
        )
    rows = []
    for entry in entries:
        row = stored.get(str(entry.entry_uuid))
        if row is None:
            row = DiaryEntry(**diary_row(patient, entry, now))
            store(session, actor, row, "diary_entry")
        rows.append(row)
    return rows


def list_diary(
    session: Session,
    actor: Actor,
    pseudonym: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[DiaryEntry]:
    """A patient's diary in time order, optionally within [since, until)."""
    patient = get_patient(session, actor, pseudonym)
    query = select(DiaryEntry).where(DiaryEntry.patient_id == patient.id)
    if since is not None:
        query = query.where(DiaryEntry.recorded_at >= since)
    if until is not None:
        query = query.where(DiaryEntry.recorded_at < until)
    return list(session.scalars(query.order_by(DiaryEntry.recorded_at, DiaryEntry.id)))


def latest_diary(
    session: Session, actor: Actor, pseudonym: str, limit: int, before: datetime | None = None
) -> list[DiaryEntry]:
    """A patient's latest ``limit`` diary entries (before ``before`` when given), newest first:
    one page of a diary that grows without end."""
    patient = get_patient(session, actor, pseudonym)
    query = select(DiaryEntry).where(DiaryEntry.patient_id == patient.id)
    if before is not None:
        query = query.where(DiaryEntry.recorded_at < before)
    return list(session.scalars(
        query.order_by(DiaryEntry.recorded_at.desc(), DiaryEntry.id.desc()).limit(limit)))


def adverse_event_row(patient: Patient, event: AdverseEventIn, now: datetime) -> dict:
    return {
        "patient_id": patient.id,
        "session_id": event.session_id,
        "occurred_at": event.occurred_at,
        "kind": event.kind,
        "severity": event.severity,
        "body_site": event.body_site,
        "description": event.description,
        "created_at": now,
    }


def add_adverse_event(
    session: Session,
    actor: Actor,
    pseudonym: str,
    event: AdverseEventIn,
    *,
    now: datetime | None = None,
) -> AdverseEvent:
    require(actor, "write_own", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    problems = date_problems("occurred_at", event.occurred_at, patient, now)
    if event.session_id is not None:
        owner = session.scalar(
            select(SessionEntry.patient_id).where(SessionEntry.id == event.session_id)
        )
        if owner != patient.id:
            problems.append(
                FieldProblem("session_id", event.session_id, "a session of this patient")
            )
    raise_if(problems)
    row = AdverseEvent(**adverse_event_row(patient, event, now))
    if actor.role == "clinician":  # a clinician's own record needs no one's attention
        row.acknowledged_at, row.acknowledged_by = now, actor.username
    return store(session, actor, row, "adverse_event")


def unacknowledged_adverse_events(session: Session, actor: Actor) -> list[AdverseEvent]:
    """Adverse events (a patient's problem reports) that no clinician has acknowledged yet,
    newest first: the clinicians' inbox."""
    require(actor, "write_clinical")
    return list(session.scalars(
        select(AdverseEvent).where(AdverseEvent.acknowledged_at.is_(None))
        .order_by(AdverseEvent.created_at.desc(), AdverseEvent.id.desc())
    ))


def unacknowledged_adverse_events_count():
    """The statement counting the inbox's adverse events (for a combined count)."""
    return (select(func.count()).select_from(AdverseEvent)
            .where(AdverseEvent.acknowledged_at.is_(None)))


def acknowledge_adverse_event(
    session: Session, actor: Actor, event_id: int, *, now: datetime | None = None
) -> AdverseEvent:
    """A clinician has read the report (audited; acknowledging twice keeps the first)."""
    require(actor, "write_clinical")
    row = session.get(AdverseEvent, event_id)
    if row is None:
        raise InputError(FieldProblem("event_id", event_id, "an adverse event on record"))
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now or now_utc(), actor.username
        log_action(session, actor, "acknowledge", "adverse_event", row.id)
    return row


def list_adverse_events(session: Session, actor: Actor, pseudonym: str) -> list[AdverseEvent]:
    patient = get_patient(session, actor, pseudonym)
    query = select(AdverseEvent).where(AdverseEvent.patient_id == patient.id)
    return list(session.scalars(query.order_by(AdverseEvent.occurred_at, AdverseEvent.id)))


# --------------------------------------------------------------------------- clinical documents


def add_intake(
    session: Session,
    actor: Actor,
    intake: Intake,
    screening: Screening | None = None,
    *,
    now: datetime | None = None,
) -> IntakeRecord:
    """Store an intake with its screening (screened now with the packaged rules when not
    given); the intake's ``patient_id`` is the pseudonym of a known patient."""
    require(actor, "write_clinical")
    now = now or now_utc()
    patient = find_patient(session, intake.patient_id)
    if screening is None:
        from stimwise.clinical.screening import screen

        screening = screen(intake)
    raise_if(date_problems("assessed_on", intake.assessed_on, patient, now))
    row = IntakeRecord(
        patient_id=patient.id,
        assessed_on=intake.assessed_on,
        intake=intake.model_dump(mode="json"),
        screening=screening.model_dump(mode="json"),
        rules_version=screening.rules_version,
        decision=screening.decision,
        created_at=now,
    )
    stored = store(session, actor, row, "intake")
    _store_intake_instruments(session, actor, intake, now)
    return stored


def _store_intake_instruments(
    session: Session, actor: Actor, intake: Intake, now: datetime
) -> None:
    """Score the instruments answered at the intake (the pain NRS among them) into the
    instrument record, dated the intake's day when they carry no date of their own (issue 17:
    they were kept only inside the intake document, so overview and reports said "none").
    A form saved again with the same answers adds nothing."""
    responses = [
        response if response.answered_on else response.model_copy(
            update={"answered_on": intake.assessed_on})
        for response in intake.instruments
    ]
    patient = find_patient(session, intake.patient_id)
    known = {
        (row.instrument, row.answered_on, repr(sorted(row.response.get("answers", {}).items())))
        for row in session.scalars(
            select(InstrumentScoreRecord).where(InstrumentScoreRecord.patient_id == patient.id))
    }
    new = [
        response for response in responses
        if (response.instrument, response.answered_on,
            repr(sorted(response.model_dump(mode="json")["answers"].items()))) not in known
    ]
    if new:
        add_instrument_scores(session, actor, intake.patient_id, new, now=now)


def add_instrument_scores(
    session: Session,
    actor: Actor,
    pseudonym: str,
    responses: Sequence[InstrumentResponse],
    *,
    now: datetime | None = None,
) -> list[InstrumentScoreRecord]:
    """Score completed instruments and store answers and scores (all or none)."""
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    raise_if([
        problem
        for index, r in enumerate(responses)
        if r.answered_on is not None
        for problem in date_problems(f"responses[{index}].answered_on", r.answered_on, patient, now)
    ])
    rows = []
    for response, scored in zip(responses, score_all(tuple(responses)), strict=True):
        row = InstrumentScoreRecord(
            patient_id=patient.id,
            instrument=scored.instrument,
            version=scored.version,
            answered_on=scored.answered_on,
            total=scored.total,
            max_total=scored.max_total,
            positive=scored.positive,
            response=response.model_dump(mode="json"),
            score=scored.model_dump(mode="json"),
            created_at=now,
        )
        store(session, actor, row, "instrument_score")
        rows.append(row)
    return rows


def list_instrument_scores(
    session: Session, actor: Actor, pseudonym: str
) -> list[InstrumentScoreRecord]:
    patient = get_patient(session, actor, pseudonym)
    query = select(InstrumentScoreRecord).where(InstrumentScoreRecord.patient_id == patient.id)
    return list(session.scalars(query.order_by(InstrumentScoreRecord.id)))


def _nominal_pulse(data: PrescriptionIn) -> tuple[float | None, float | None]:
    """(frequency_hz, phase_width_us) of a pulse-train prescription, for dose-response queries;
    ``None`` for carrier waveforms, which have no single pulse width."""
    waveform = data.prescription.waveform
    if getattr(waveform, "kind", None) != "pulse_train":
        return None, None
    return waveform.frequency_hz, waveform.pulse.phase_width_us


def add_prescription(
    session: Session,
    actor: Actor,
    pseudonym: str,
    data: PrescriptionIn,
    *,
    now: datetime | None = None,
    historical: bool = False,
) -> PrescriptionRecord:
    """Store a prescription with the fingerprint ``safety.verify`` gives its plan, so that a
    session journal can be matched to it.

    It gets its review date (:mod:`stimwise.records.review`): the one given, which must keep the
    review rule (not in the past...), or the default 4 weeks on. ``historical`` (an import of
    records written elsewhere) keeps a given review date even when it has passed."""
    from stimwise.safety.plan import prescription_fingerprint

    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    patient = find_patient(session, pseudonym)
    if data.valid_from < patient.enrolled_on:
        expected = f"on or after the patient's enrolment ({patient.enrolled_on})"
        raise InputError(FieldProblem("valid_from", data.valid_from.isoformat(), expected))
    if data.review_on is None:
        review_on = default_review_on(data.valid_from, data.valid_to, now.date())
    elif historical:
        review_on = data.review_on
    else:
        review_on = check_review_on(data.review_on, data.valid_from, data.valid_to, now.date())
    frequency_hz, phase_width_us = _nominal_pulse(data)
    row = PrescriptionRecord(
        patient_id=patient.id,
        protocol_id=data.prescription.protocol.id,
        fingerprint=prescription_fingerprint(data.prescription),
        prescription=data.prescription.model_dump(mode="json"),
        caps=None if data.caps is None else data.caps.model_dump(mode="json"),
        locked_ranges=(
            None if data.locked_ranges is None else data.locked_ranges.model_dump(mode="json")
        ),
        home_use=data.home_use,
        frequency_hz=frequency_hz,
        phase_width_us=phase_width_us,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        review_on=review_on,
        prescribed_by=data.prescribed_by,
        created_at=now,
    )
    return store(session, actor, row, "prescription")


def list_prescriptions(
    session: Session, actor: Actor, pseudonym: str, valid_on: date | None = None
) -> list[PrescriptionRecord]:
    """A patient's prescriptions, oldest first; only those valid on ``valid_on`` when given."""
    patient = get_patient(session, actor, pseudonym)
    query = select(PrescriptionRecord).where(PrescriptionRecord.patient_id == patient.id)
    if valid_on is not None:
        query = query.where(active_on(valid_on))
    return list(session.scalars(query.order_by(PrescriptionRecord.valid_from)))


def supersede_prescriptions(
    session: Session,
    actor: Actor,
    replaced: Sequence[PrescriptionRecord],
    by: PrescriptionRecord,
    *,
    now: datetime | None = None,
) -> None:
    """End ``replaced`` now: ``by`` takes their place (each change audited)."""
    if not replaced:
        return
    pseudonym = session.get(Patient, by.patient_id).pseudonym
    require(actor, "write_clinical", pseudonym)
    now = now or now_utc()
    for row in replaced:
        if row.patient_id != by.patient_id:
            raise InputError(FieldProblem("replaced", row.id, f"a prescription of {pseudonym}"))
        row.superseded_by_id = by.id
        row.superseded_at = now
        log_action(session, actor, "supersede", "prescription", row.id)


def record_counts(session: Session, actor: Actor, pseudonym: str) -> dict[str, int]:
    """How many records of each kind a patient has (for ``patient show``)."""
    patient = get_patient(session, actor, pseudonym)
    tables = {
        "intakes": IntakeRecord,
        "instrument_scores": InstrumentScoreRecord,
        "prescriptions": PrescriptionRecord,
        "sessions": SessionEntry,
        "diary_entries": DiaryEntry,
        "adverse_events": AdverseEvent,
        "self_logged_sessions": SelfLoggedSession,
    }
    # One statement with a counting subquery per table: one round trip instead of seven.
    counts = session.execute(select(*(
        select(func.count()).select_from(model).where(model.patient_id == patient.id)
        .scalar_subquery().label(name)
        for name, model in tables.items()
    ))).one()
    return {name: int(counts._mapping[name] or 0) for name in tables}
