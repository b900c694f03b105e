"""Who may read and write which records.

* clinician: everything, including identifying data and finding a person by it;
* patient: their own record only: read it, and add diary entries and adverse events to it;
* researcher: read every pseudonymous record, never identifying data, never write;
* administrator: accounts and the audit log, and no patient record at all (issue 17: any
  clinician could set any clinician's password, the administrator's included). A clinician
  cannot manage accounts, so no clinician can take over another's.

Every repository function takes the :class:`Actor` and checks here first, so the same rules hold
for the CLI, the web pages and scripts.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Literal

from stimwise.errors import StimwiseError

__all__ = [
    "AccessDeniedError",
    "Actor",
    "Permission",
    "local_administrator",
    "local_clinician",
    "require",
]

Permission = Literal[
    "read", "read_identity", "search_identity", "write_identity", "write_clinical", "write_own",
    "administer",
]
_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "clinician": frozenset(
        {"read", "read_identity", "search_identity", "write_identity", "write_clinical",
         "write_own"}
    ),
    "patient": frozenset({"read", "read_identity", "write_own"}),
    "researcher": frozenset({"read"}),
    "administrator": frozenset({"administer"}),
}


class AccessDeniedError(StimwiseError):
    """The actor's role does not allow this (exit 1, like any other refusal)."""

    exit_code = 1


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name (for the audit log), a role and, for a patient, their own
    pseudonym.

    Examples
    --------
    >>> from stimwise.records import Actor
    >>> Actor(username="dr-lee", role="clinician").role
    'clinician'
    >>> Actor(username="p001", role="patient")
    Traceback (most recent call last):
    ...
    stimwise.records.access.AccessDeniedError: a patient actor is tied to exactly one pseudonym
    """

    username: str
    role: Literal["clinician", "patient", "researcher", "administrator"]
    patient: str | None = None

    def __post_init__(self) -> None:
        if self.role not in _ROLE_PERMISSIONS:
            raise AccessDeniedError(f"unknown role {self.role!r}")
        if (self.role == "patient") != (self.patient is not None):
            raise AccessDeniedError("a patient actor is tied to exactly one pseudonym")


def local_clinician() -> Actor:
    """The person at this computer's command line: a clinician (the default local install)."""
    return Actor(username=getpass.getuser(), role="clinician")


def local_administrator() -> Actor:
    """The operator at this computer's command line managing web accounts (``stimwise
    account ...``): whoever may run commands on the server administers its accounts."""
    return Actor(username=getpass.getuser(), role="administrator")


def require(actor: Actor, permission: Permission, pseudonym: str | None = None) -> None:
    """Raise :class:`AccessDeniedError` unless ``actor`` may do ``permission`` on ``pseudonym``'s
    record (``None``: on the records as a whole, e.g. listing patients)."""
    if permission not in _ROLE_PERMISSIONS[actor.role]:
        what = permission.replace("_", " ")
        raise AccessDeniedError(f"{actor.role} {actor.username!r} may not {what}")
    if actor.role == "patient" and pseudonym != actor.patient:
        raise AccessDeniedError(
            f"patient {actor.username!r} may only use their own record, not another's"
        )
