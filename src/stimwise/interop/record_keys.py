"""Stable identifiers of records, the same in every database.

Database ids differ between the exporting and the importing system, so a FHIR resource is named
by what identifies its record anywhere: the diary entry's own UUID; a session's plan fingerprint
and start instant (the records' unique key); and, for records that carry no natural key
(prescriptions, adverse events, instrument responses), a SHA-256 of their content. The importer
computes the same key for the rows already stored and skips a resource whose key is present, so a
bundle imported twice adds nothing the second time (hazard HAZ-070).

Resource ids are UUIDs derived from these keys (:func:`resource_uuid`), so exporting the same
record twice gives the same bundle entries.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from stimwise.clinical.instruments import INSTRUMENTS, InstrumentResponse
from stimwise.clinical.instruments.answers import check_answers
from stimwise.records.models import (
    AdverseEvent,
    DiaryEntry,
    InstrumentScoreRecord,
    PrescriptionRecord,
    SessionEntry,
)

_NAMESPACE = uuid.UUID("6f1c2d4e-8a3b-5c7d-9e0f-1a2b3c4d5e6f")
"""Namespace of stimwise's name-based resource UUIDs [U: an arbitrary fixed value]."""


def resource_uuid(kind: str, key: str) -> str:
    """A UUID (version 5) naming the resource of record ``kind`` with ``key``."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}/{key}"))


def instant(value: datetime) -> str:
    """An instant as ISO 8601 in UTC with a ``Z`` (the form FHIR serialises to)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def content_key(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of canonical JSON: the identifier of a record without a natural key."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def diary_key(row: DiaryEntry) -> str:
    return row.entry_uuid


def session_key(fingerprint: str, started_at: datetime) -> str:
    return f"{fingerprint}@{instant(started_at)}"


def session_row_key(row: SessionEntry) -> str:
    return session_key(row.plan_fingerprint, row.started_at)


def prescription_content(
    fingerprint: str,
    caps: dict | None,
    locked_ranges: dict | None,
    home_use: bool,
    valid_from: date,
    valid_to: date | None,
    prescribed_by: str,
) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint, "caps": caps, "locked_ranges": locked_ranges,
        "home_use": home_use, "valid_from": valid_from.isoformat(),
        "valid_to": None if valid_to is None else valid_to.isoformat(),
        "prescribed_by": prescribed_by,
    }


def prescription_key(row: PrescriptionRecord) -> str:
    return content_key(prescription_content(
        row.fingerprint, row.caps, row.locked_ranges, row.home_use, row.valid_from,
        row.valid_to, row.prescribed_by,
    ))


def adverse_event_content(
    occurred_at: datetime, kind: str, severity: str, body_site: str | None,
    description: str | None, session: str | None,
) -> dict[str, Any]:
    """``session`` is the session's key (not its database id)."""
    return {
        "occurred_at": instant(occurred_at), "kind": kind, "severity": severity,
        "body_site": body_site, "description": description, "session": session,
    }


def adverse_event_key(row: AdverseEvent, session: str | None) -> str:
    return content_key(adverse_event_content(
        row.occurred_at, row.kind, row.severity, row.body_site, row.description, session
    ))


def canonical_answers(instrument: str, version: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers in canonical form (booleans, integers, option ids) as scoring reads them."""
    response = InstrumentResponse(instrument=instrument, version=version, answers=answers)
    return dict(check_answers(INSTRUMENTS[instrument], response).values)


def instrument_content(
    instrument: str, version: str, answered_on: date | None, answers: dict[str, Any]
) -> dict[str, Any]:
    return {
        "instrument": instrument, "version": version,
        "answered_on": None if answered_on is None else answered_on.isoformat(),
        "answers": answers,
    }


def instrument_row_answers(row: InstrumentScoreRecord) -> dict[str, Any]:
    return canonical_answers(row.instrument, row.version, row.response.get("answers", {}))


def instrument_key(row: InstrumentScoreRecord) -> str:
    return content_key(instrument_content(
        row.instrument, row.version, row.answered_on, instrument_row_answers(row)
    ))
