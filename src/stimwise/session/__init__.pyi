"""Type stub of :mod:`stimwise.session`'s lazy names (see ``__init__.py``)."""

from stimwise.session.journal import Journal, read_journal
from stimwise.session.limits import SessionSettings
from stimwise.session.prompts import Responder, ScriptedResponder
from stimwise.session.record import SessionRecord
from stimwise.session.runtime import SessionRunner, Snapshot
from stimwise.session.scripted import run_session

__all__ = [
    "Journal",
    "Responder",
    "ScriptedResponder",
    "SessionRecord",
    "SessionRunner",
    "SessionSettings",
    "Snapshot",
    "read_journal",
    "run_session",
]
