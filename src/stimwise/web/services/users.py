"""User accounts and signing in.

Administrators create accounts (a clinician, a researcher, another administrator, or a patient
linked to their pseudonymous record) with a first password that the user can change; they are
the only ones who set another account's password or revoke it. Everyone changes their own
password with their current one. Every account change is audited and ends that account's
sessions (issue 17). The password hash lives in
``user_credentials`` and never leaves this module: functions return :class:`UserSummary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import Field, SecretStr
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel
from stimwise.records import repository as r
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.database import Database
from stimwise.records.inputs import DisplayName, UserIn
from stimwise.records.models import Patient, User, UserCredential
from stimwise.web.security.passwords import KEEP_SPACES, Passwords, password_problems
from stimwise.web.security.sessions import (
    SignedIn,
    end_all_sessions,
    end_session,
    start_session,
)

SETUP_ACTOR = Actor(username="stimwise-setup", role="administrator")
"""Who creates the first administrator (the audit log shows the account was made at set-up)."""


class NewUser(UserIn):
    """A new account and its first password (never shown again, never logged)."""

    model_config = KEEP_SPACES

    password: SecretStr = Field(description="At least 12 characters.")


@dataclass(frozen=True)
class UserSummary:
    username: str
    role: str
    patient: str | None
    created_at: datetime
    can_sign_in: bool
    display_name: str | None = None
    """The name reports are signed with (None: the user name is printed)."""


def _summary(user: User, pseudonym: str | None, can_sign_in: bool = True) -> UserSummary:
    return UserSummary(user.username, user.role, pseudonym, user.created_at, can_sign_in,
                       user.display_name)


def _store_password(session: Session, user: User, password_hash: str) -> None:
    credential = session.scalar(select(UserCredential).where(UserCredential.user_id == user.id))
    if credential is None:
        session.add(UserCredential(user_id=user.id, password_hash=password_hash, changed_at=_now()))
    else:
        credential.password_hash = password_hash
        credential.changed_at = _now()


def _now() -> datetime:
    return datetime.now(UTC)


def create_user(db: Database, actor: Actor, data: NewUser, passwords: Passwords) -> UserSummary:
    """Create an account with its password (administrators only; audited by the
    repository)."""
    require(actor, "administer")
    secret = data.password.get_secret_value()
    if problems := password_problems(secret, data.username):
        raise InputError(problems)
    password_hash = passwords.hash(secret)
    with db.transaction() as session:
        user = r.add_user(session, actor, UserIn(**data.model_dump(exclude={"password"})))
        _store_password(session, user, password_hash)
    return _summary(user, data.patient)


def list_users(db: Database, actor: Actor) -> list[UserSummary]:
    require(actor, "administer")
    with db.transaction() as session:
        rows = session.execute(
            select(User, Patient.pseudonym, UserCredential.id)
            .outerjoin(Patient, Patient.id == User.patient_id)
            .outerjoin(UserCredential, UserCredential.user_id == User.id)
            .order_by(User.username)
        ).all()
        log_action(session, actor, "read", "user_list")
    return [_summary(user, pseudonym, key is not None) for user, pseudonym, key in rows]


class DisplayNameIn(StrictModel):
    """The name an account signs reports with; blank clears it (the user name is printed)."""

    display_name: DisplayName = None


def set_display_name(db: Database, actor: Actor, username: str, data: DisplayNameIn) -> None:
    """Set the name a clinician's reports carry (administrators only; audited)."""
    with db.transaction() as session:
        r.set_display_name(session, actor, username, data.display_name)


def change_password(
    db: Database, actor: Actor, current: str, new: str, passwords: Passwords
) -> None:
    """Change one's own password; every session of the user ends (sign in again)."""
    user, stored = _account(db, actor.username)
    if user is None or not passwords.verify(stored, current):
        raise InputError(FieldProblem("current_password", "<hidden>", "your current password"))
    if problems := password_problems(new, actor.username, "new_password"):
        raise InputError(problems)
    _replace_password(db, actor, user, passwords.hash(new), "change_password")


def reset_password(
    db: Database, actor: Actor, username: str, new: str, passwords: Passwords
) -> None:
    """Set another user's password (administrators only, e.g. a forgotten one); their
    sessions end. One's own password is changed with the current one
    (:func:`change_password`), never set here."""
    require(actor, "administer")
    if username == actor.username:
        raise InputError(FieldProblem(
            "username", username, "another user's account (change your own password under "
            "Password, with your current one)"))
    if problems := password_problems(new, username):
        raise InputError(problems)
    user, _stored = _account(db, username)
    if user is None:
        raise InputError(FieldProblem("username", username, "a registered user name"))
    _replace_password(db, actor, user, passwords.hash(new), "reset_password")


def revoke_sign_in(db: Database, actor: Actor, username: str) -> None:
    """Stop an account signing in (e.g. at the end of care or when staff leave): its password
    is deleted and its sessions end; the account and its audit trail stay. Setting a new
    password (:func:`reset_password`) opens it again. Nobody revokes their own account (the
    last administrator could lock everyone out)."""
    require(actor, "administer")
    if username == actor.username:
        raise InputError(FieldProblem("username", username, "another user's account"))
    with db.transaction() as session:
        user, _stored = _user_and_hash(session, username)
        if user is None:
            raise InputError(FieldProblem("username", username, "a registered user name"))
        session.execute(delete(UserCredential).where(UserCredential.user_id == user.id))
        end_all_sessions(session, user.id)
        log_action(session, actor, "revoke_sign_in", "user", user.id)


def _replace_password(
    db: Database, actor: Actor, user: User, password_hash: str, action: str
) -> None:
    with db.transaction() as session:
        _store_password(session, user, password_hash)
        end_all_sessions(session, user.id)
        log_action(session, actor, action, "user", user.id)


def _account(db: Database, username: str) -> tuple[User | None, str | None]:
    """The user row and password hash, read in a transaction of their own: hashing (tens of
    milliseconds by design) then happens outside any write transaction, so it never holds the
    SQLite write lock while diary entries wait."""
    with db.reading() as session:
        return _user_and_hash(session, username)


def _user_and_hash(session: Session, username: str) -> tuple[User | None, str | None]:
    row = session.execute(
        select(User, UserCredential.password_hash)
        .outerjoin(UserCredential, UserCredential.user_id == User.id)
        .where(User.username == username)
    ).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


def sign_in(
    db: Database, passwords: Passwords, username: str, password: str, lifetime_s: int
) -> tuple[str, SignedIn] | None:
    """Check the password and open a new session (token for the cookie, session details);
    ``None`` when the user or the password is wrong (the same answer for both)."""
    user, stored = _account(db, username)
    if not passwords.verify(stored, password) or user is None or stored is None:
        return None
    new_hash = passwords.hash(password) if passwords.needs_rehash(stored) else None
    with db.transaction() as session:
        if new_hash is not None:
            _store_password(session, user, new_hash)
        pseudonym = session.scalar(select(Patient.pseudonym).where(Patient.id == user.patient_id))
        token, signed_in = start_session(session, user, pseudonym, lifetime_s)
        log_action(session, signed_in.actor(), "sign_in", "user", user.id)
    return token, signed_in


def sign_out(db: Database, token: str, signed_in: SignedIn | None) -> None:
    """End the session of ``token`` (logged for its user when still live)."""
    with db.transaction() as session:
        end_session(session, token)
        if signed_in is not None:
            log_action(session, signed_in.actor(), "sign_out", "user", signed_in.user_id)


def has_administrator(db: Database) -> bool:
    """Whether an administrator account with a password exists (else the first run sets one
    up)."""
    with db.reading() as session:
        found = session.scalar(
            select(User.id)
            .join(UserCredential, UserCredential.user_id == User.id)
            .where(User.role == "administrator")
            .limit(1)
        )
    return found is not None


def create_administrator(
    db: Database, username: str, password: str, passwords: Passwords
) -> UserSummary:
    """The first administrator account, from the operator's password (there is no
    default)."""
    data = NewUser(username=username, role="administrator", password=SecretStr(password))
    return create_user(db, SETUP_ACTOR, data, passwords)
