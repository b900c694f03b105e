"""Server-side web sessions behind a signed cookie.

Sign-in creates a new random token (never reusing one the browser brought: no session
fixation), stores its SHA-256 with the user, a per-session CSRF token and an expiry, and sends
the token signed with the application's key in an HttpOnly, SameSite=Lax cookie (Secure when
served over HTTPS). Sign-out deletes the row, so the cookie is dead even if it was copied.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stimwise.records.access import Actor
from stimwise.records.models import Patient, User, WebSession

SESSION_COOKIE = "stimwise_session"
LOGIN_CSRF_COOKIE = "stimwise_login_csrf"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A live session: who (id, name, role, and the own record of a patient) and the
    session's CSRF token."""

    user_id: int
    username: str
    role: str
    patient: str | None
    csrf_token: str

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.patient)  # type: ignore[arg-type]


class CookieSigner:
    """Signs and checks cookie values with the application key (one salt per cookie kind)."""

    def __init__(self, secret_key: str, lifetime_s: int) -> None:
        self._session = TimestampSigner(secret_key, salt="stimwise-session")
        self._login = TimestampSigner(secret_key, salt="stimwise-login-csrf")
        self.lifetime_s = lifetime_s

    def session_cookie(self, token: str) -> str:
        return self._session.sign(token).decode("ascii")

    def session_token(self, cookie: str | None) -> str | None:
        return _unsign(self._session, cookie, self.lifetime_s)

    def login_cookie(self, token: str) -> str:
        return self._login.sign(token).decode("ascii")

    def login_token(self, cookie: str | None) -> str | None:
        return _unsign(self._login, cookie, self.lifetime_s)


def _unsign(signer: TimestampSigner, cookie: str | None, max_age_s: int) -> str | None:
    if not cookie:
        return None
    try:
        return signer.unsign(cookie, max_age=max_age_s).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None


def start_session(
    session: Session, user: User, pseudonym: str | None, lifetime_s: int
) -> tuple[str, SignedIn]:
    """A new session for ``user``; returns the raw token (for the cookie) and its details.
    Expired sessions of every user are removed on the way."""
    now = datetime.now(UTC)
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_sha256=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime_s),
    )
    session.add(row)
    session.flush()
    return token, SignedIn(user.id, user.username, user.role, pseudonym, row.csrf_token)


def find_session(session: Session, token: str) -> SignedIn | None:
    """The live session of ``token``, or ``None`` when unknown, ended or expired."""
    row = session.execute(
        select(
            WebSession.user_id,
            WebSession.csrf_token,
            WebSession.expires_at,
            User.username,
            User.role,
            Patient.pseudonym,
        )
        .join(User, User.id == WebSession.user_id)
        .outerjoin(Patient, Patient.id == User.patient_id)
        .where(WebSession.token_sha256 == _digest(token))
    ).one_or_none()
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    return SignedIn(row.user_id, row.username, row.role, row.pseudonym, row.csrf_token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    """Sign a user out everywhere (after a password change)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return secrets.compare_digest(
        expected.encode("ascii", "replace"), given.encode("ascii", "replace")
    )
