"""The clinical record schema (SQLAlchemy 2 typed ORM).

One table per kind of record, each row tied to a pseudonymous :class:`Patient`. Identifying data
(name, date of birth, contact) lives only in :class:`PatientIdentity`, one row per patient, so it
can be removed or kept on another system without touching the clinical record. Documents that
already have a validated pydantic form (intake, screening, prescription, instrument answers) are
stored whole as JSON next to the columns that queries need.

The Alembic revisions in :mod:`stimwise.records.migrations` create exactly this schema;
``tests/test_records_migrations.py`` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ADVERSE_EVENT_KINDS = ("skin_irritation", "burn", "flare", "soreness", "other")
SEVERITIES = ("mild", "moderate", "severe")
PATIENT_STATUSES = ("active", "paused", "discharged")
"""Where a person stands in their care: ``active`` (everything offered), ``paused`` (their home
programme is not offered until a clinician makes them active again) and ``discharged`` (care
ended: no home programme and no clinic session until made active again)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: records store timezone-aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def _patient_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)


class Patient(Base):
    """A person under care, known to the record only by a pseudonymous code."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    enrolled_on: Mapped[date] = mapped_column(Date)
    therapy_start_on: Mapped[date | None] = mapped_column(Date)
    """The day therapy counts from, when a clinician set it; else the first session's day."""
    therapy_start_reason: Mapped[str | None] = mapped_column(Text)
    """Why the clinician set it (required when it lies after the first delivered session)."""
    therapy_start_set_by: Mapped[str | None] = mapped_column(String(80))
    therapy_start_set_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    """One of :data:`PATIENT_STATUSES`; each change is a :class:`PatientStatusChange` row."""

    identity: Mapped[PatientIdentity | None] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )


class PatientIdentity(Base):
    """Identifying data, kept apart from the clinical record so it can be removed on its own."""

    __tablename__ = "patient_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str | None] = mapped_column(String(300))

    patient: Mapped[Patient] = relationship(back_populates="identity")


class PatientStatusChange(Base):
    """One change of a person's status (:data:`PATIENT_STATUSES`) by a clinician, with their
    reason: the history behind ``patients.status``, and what tells whether a self-logged session
    fell inside the home programme (the status in force when it started)."""

    __tablename__ = "patient_status_changes"
    __table_args__ = (Index("ix_patient_status_changes_patient", "patient_id", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime]


class User(Base):
    """Someone who uses the records: a clinician, a patient (linked to their record) or a
    read-only researcher."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    display_name: Mapped[str | None] = mapped_column(String(120))
    """The name reports are signed with (an administrator sets it); None: the user name."""


class UserCredential(Base):
    """A user's password hash (argon2), in a table of its own so that nothing reading ``users``
    ever carries it."""

    __tablename__ = "user_credentials"
    __table_args__ = (UniqueConstraint("user_id", name="uq_user_credentials_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in web session. The cookie holds a random token; only its SHA-256 is stored,
    so a copy of the database does not hand out live sessions. Deleted at sign-out."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IntakeRecord(Base):
    """An intake and its screening, with the rule-book version that produced the screening."""

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    assessed_on: Mapped[date] = mapped_column(Date)
    intake: Mapped[dict[str, Any]]
    screening: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class IntakeDraft(Base):
    """An intake being filled in: the page's answers as typed, one draft per patient.

    A draft is NOT an intake: it is never screened, never shown as a screening and never
    prescribed from (HAZ-160). Only :mod:`stimwise.records.intake_drafts` reads this table.
    """

    __tablename__ = "intake_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    answers: Mapped[dict[str, Any]]
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime]


class InstrumentScoreRecord(Base):
    """One completed instrument: the answers as given and the score stimwise computed."""

    __tablename__ = "instrument_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    instrument: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    answered_on: Mapped[date | None] = mapped_column(Date)
    total: Mapped[float | None] = mapped_column(Float)
    max_total: Mapped[float | None] = mapped_column(Float)
    positive: Mapped[bool | None] = mapped_column(Boolean)
    response: Mapped[dict[str, Any]]
    score: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class PrescriptionRecord(Base):
    """A prescription (protocol, placements, dose) with the caps it was verified under, the
    ranges a person may adjust at home, and when it applies."""

    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    protocol_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    prescription: Mapped[dict[str, Any]]
    caps: Mapped[dict[str, Any] | None]
    locked_ranges: Mapped[dict[str, Any] | None]
    home_use: Mapped[bool] = mapped_column(Boolean)
    frequency_hz: Mapped[float | None] = mapped_column(Float)
    phase_width_us: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    prescribed_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)
    """The prescription that replaced this one (an accepted next-dose suggestion): it ended
    then, whatever its ``valid_to`` says."""
    superseded_at: Mapped[datetime | None]
    review_on: Mapped[date | None] = mapped_column(Date, index=True)
    """The day the clinician reviews this prescription (:mod:`stimwise.records.review`); None
    only on rows written before review dates existed, read as "review now"."""


class SessionEntry(Base):
    """One delivered session (a :class:`~stimwise.session.record.SessionRecord`) with the
    journal it came from. A journal is imported once: its SHA-256 is unique, and so is the
    pair (plan fingerprint, start time) per patient."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("patient_id", "plan_fingerprint", "started_at", name="uq_session_start"),
        Index("ix_sessions_patient_started", "patient_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    prescription_id: Mapped[int | None] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="SET NULL"), index=True
    )
    protocol_id: Mapped[str] = mapped_column(String(64))
    plan_fingerprint: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    stimulation_s: Mapped[float] = mapped_column(Float)
    max_amplitude_ma: Mapped[float] = mapped_column(Float)
    mean_amplitude_ma: Mapped[float] = mapped_column(Float)
    max_charge_per_phase_uc: Mapped[float] = mapped_column(Float)
    frequency_hz: Mapped[float | None] = mapped_column(Float)
    phase_width_us: Mapped[float | None] = mapped_column(Float)
    minutes_at_amplitude: Mapped[dict[str, Any]]
    calibration: Mapped[dict[str, Any] | None]
    habituation_increases: Mapped[int] = mapped_column(Integer)
    nrs_pre: Mapped[int | None] = mapped_column(Integer)
    nrs_post: Mapped[int | None] = mapped_column(Integer)
    skin_pre: Mapped[str | None] = mapped_column(String(40))
    skin_post: Mapped[str | None] = mapped_column(String(40))
    faults: Mapped[list[Any]]
    events: Mapped[int] = mapped_column(Integer)
    journal_ref: Mapped[str | None] = mapped_column(String(500))
    journal_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(20), default="device_recorded",
                                            server_default="device_recorded")
    """``device_recorded``: the dose comes from a device stimwise drove (journal or FHIR of
    one); self-logged sessions live in :class:`SelfLoggedSession` (``self_reported``)."""
    created_at: Mapped[datetime]


class SelfLoggedSession(Base):
    """A session the person did on their own device and logged themself (provenance
    ``self_reported``): the device profile and settings they report, the verification of those
    settings at the device's worst case, and whether they lay outside the prescription's locked
    ranges (``flagged``, with the reasons). A flagged session waits for a clinician
    (``acknowledged_at`` is ``None``) like a patient's problem report."""

    __tablename__ = "self_logged_sessions"
    __table_args__ = (
        Index("ix_self_logged_patient_started", "patient_id", "started_at"),
        Index("ix_self_logged_flagged", "flagged", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    prescription_id: Mapped[int | None] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="SET NULL"), index=True
    )
    provenance: Mapped[str] = mapped_column(String(20), default="self_reported")
    reported_by: Mapped[str] = mapped_column(String(80))
    reporter_role: Mapped[str] = mapped_column(String(20))
    profile_id: Mapped[str] = mapped_column(String(64))
    programme_id: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    minutes: Mapped[float] = mapped_column(Float)
    as_prescribed: Mapped[bool] = mapped_column(Boolean)
    settings: Mapped[dict[str, Any]]
    frequency_hz: Mapped[float | None] = mapped_column(Float)
    phase_width_us: Mapped[float | None] = mapped_column(Float)
    level: Mapped[float | None] = mapped_column(Float)
    amplitude_ma: Mapped[float | None] = mapped_column(Float)
    """Known only where the device shows mA or its manual documents the level's current."""
    felt: Mapped[str | None] = mapped_column(String(30))
    nrs_pre: Mapped[int | None] = mapped_column(Integer)
    nrs_post: Mapped[int | None] = mapped_column(Integer)
    skin: Mapped[str | None] = mapped_column(String(30))
    problems: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[dict[str, Any]]
    flagged: Mapped[bool] = mapped_column(Boolean)
    flag_reasons: Mapped[list[Any]]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]


class HomeDevice(Base):
    """The person's own stimulator (a device profile id), chosen by them or their clinician:
    the device their instructions, log form and calendar speak of."""

    __tablename__ = "home_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    profile_id: Mapped[str] = mapped_column(String(64))
    chosen_by: Mapped[str] = mapped_column(String(80))
    chosen_at: Mapped[datetime]


class CalendarFeed(Base):
    """A calendar subscription address of one person's home schedule. Only the SHA-256 of its
    random token is kept (the address is shown once); a revoked feed answers nothing."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    at_time: Mapped[str] = mapped_column(String(5))
    """Local time of day of the sessions, ``HH:MM``."""
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))


class DiaryEntry(Base):
    """One diary entry; a person may write several a day, optionally for one body site.
    ``entry_uuid`` is chosen by the writer so that a retried submission is recognised."""

    __tablename__ = "diary_entries"
    __table_args__ = (Index("ix_diary_patient_recorded", "patient_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime]
    body_site: Mapped[str | None] = mapped_column(String(60))
    pain_current_nrs: Mapped[int | None] = mapped_column(Integer)
    pain_average_nrs: Mapped[int | None] = mapped_column(Integer)
    pain_worst_nrs: Mapped[int | None] = mapped_column(Integer)
    sleep_interference_nrs: Mapped[int | None] = mapped_column(Integer)
    function_interference_nrs: Mapped[int | None] = mapped_column(Integer)
    medication_changes: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(Text)
    retrospective: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A baseline entry a clinician recorded afterwards from the person's recall."""
    created_at: Mapped[datetime]


class AdverseEvent(Base):
    """An adverse event, optionally tied to the session during or after which it happened."""

    __tablename__ = "adverse_events"
    __table_args__ = (Index("ix_adverse_patient_occurred", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    body_site: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    """When a clinician acknowledged it (``None``: still in the clinicians' inbox)."""
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))


class LiveSessionLease(Base):
    """One live session per person, whichever web worker runs it: a worker holds the row of a
    patient while its session runs and renews it; another worker's start finds it and is
    refused. A lease whose holder died expires (``expires_at``) and may then be taken over."""

    __tablename__ = "live_session_leases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    holder: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginFailure(Base):
    """One failed sign-in, counted under the SHA-256 of its throttle key (an account or an
    address), so every web worker sees the same counts and no typed name is stored."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "key_sha256", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when, to which record. Append-only (database triggers refuse UPDATE and
    DELETE); it holds record ids and action names, never health data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(80))
