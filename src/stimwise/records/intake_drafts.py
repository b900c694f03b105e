"""Intake drafts: the intake page's answers saved before they are complete, and resumed later.

A draft holds the page's inputs exactly as typed (names and texts, see
:mod:`stimwise.web.services.intake_answers`), valid or not, one draft per patient: saving again
replaces it. It is **not** an intake: it lives in its own table, which the screening, the
recommendations and the prescription editor never read, so a draft can never be screened or
prescribed from (HAZ-160). Recording the intake discards the draft.

Only clinicians (``write_clinical``) save, read or discard drafts; each is audited by action
name and patient record id, never by content.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.errors import FieldProblem, InputError
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import IntakeDraft
from stimwise.records.repository import find_patient, now_utc

MAX_INPUTS = 4000
"""Inputs a draft may hold [U: stimwise's choice]: the page has about 900 with every list
filled; a larger mapping is not a page's answers."""
MAX_VALUES = 200
"""Values one input may send (the places of a place field) [U]."""
MAX_TEXT = 2000
"""Characters of one value [U]: the longest intake text (a note) is 500."""


def _checked(answers: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The answers as plain names and texts, or an :class:`InputError` when they are not."""
    if len(answers) > MAX_INPUTS:
        raise InputError(FieldProblem("draft", len(answers), f"at most {MAX_INPUTS} inputs"))
    out: dict[str, list[str]] = {}
    for name, values in answers.items():
        if (not isinstance(name, str) or len(name) > 200 or not isinstance(values, list)
                or len(values) > MAX_VALUES
                or not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in values)):
            raise InputError(FieldProblem("draft", str(name)[:60], "inputs of text"))
        out[name] = list(values)
    return out


def save_draft(session: Session, actor: Actor, pseudonym: str,
               answers: Mapping[str, list[str]], *, now: datetime | None = None) -> IntakeDraft:
    """Store (or replace) the patient's draft."""
    require(actor, "write_clinical", pseudonym)
    patient = find_patient(session, pseudonym)
    row = session.scalar(select(IntakeDraft).where(IntakeDraft.patient_id == patient.id))
    answers = _checked(answers)
    if row is None:
        row = IntakeDraft(patient_id=patient.id, answers=answers, saved_by=actor.username,
                          saved_at=now or now_utc())
        session.add(row)
    else:
        row.answers, row.saved_by, row.saved_at = answers, actor.username, now or now_utc()
    session.flush()
    log_action(session, actor, "save_intake_draft", "patient", patient.id)
    return row


def find_draft(session: Session, actor: Actor, pseudonym: str) -> IntakeDraft | None:
    """The patient's draft, if any (the read is audited when there is one)."""
    require(actor, "write_clinical", pseudonym)
    patient = find_patient(session, pseudonym)
    row = session.scalar(select(IntakeDraft).where(IntakeDraft.patient_id == patient.id))
    if row is not None:
        log_action(session, actor, "read_intake_draft", "patient", patient.id)
    return row


def discard_draft(session: Session, actor: Actor, pseudonym: str) -> bool:
    """Delete the patient's draft; ``False`` when there was none."""
    require(actor, "write_clinical", pseudonym)
    patient = find_patient(session, pseudonym)
    row = session.scalar(select(IntakeDraft).where(IntakeDraft.patient_id == patient.id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    log_action(session, actor, "discard_intake_draft", "patient", patient.id)
    return True
