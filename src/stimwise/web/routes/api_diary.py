"""REST API: diary entries and adverse events of one patient
(``/api/v1/patients/{pseudonym}/diary`` and ``.../adverse-events``).

A patient account reads and writes only its own; a researcher only reads; each read is
audited. Posting an entry again with the same ``entry_uuid`` returns the stored one (safe
retry from a phone with a poor connection)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter

from stimwise.records.inputs import AdverseEventIn, DiaryEntryIn
from stimwise.web.deps import CSRF, SignedInActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES
from stimwise.web.services import diary

router = APIRouter(prefix="/api/v1/patients/{pseudonym}", tags=["diary"])


class DiaryEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_uuid: uuid.UUID
    recorded_at: datetime
    body_site: str | None
    pain_current_nrs: int | None
    pain_average_nrs: int | None
    pain_worst_nrs: int | None
    sleep_interference_nrs: int | None
    function_interference_nrs: int | None
    medication_changes: list[dict]
    note: str | None
    retrospective: bool
    """A baseline day a clinician recorded afterwards from the person's recall."""
    created_at: datetime


class AdverseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    kind: str
    severity: str
    body_site: str | None
    description: str | None
    session_id: int | None
    created_at: datetime


DIARY_LIST = TypeAdapter(list[DiaryEntryOut])


@router.get("/diary", response_model=list[DiaryEntryOut], responses=PROBLEM_RESPONSES)
def list_diary(
    request: Request,
    pseudonym: str,
    actor: SignedInActor,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Response:
    """The diary in time order, optionally within [since, until)."""
    rows = diary.list_entries(get_db(request), actor, pseudonym, since=since, until=until)
    # Validated and written by pydantic's core in one pass (a diary has hundreds of entries;
    # validating each row in Python and then the response model again cost most of the time).
    entries = DIARY_LIST.validate_python(rows, from_attributes=True)
    return Response(DIARY_LIST.dump_json(entries), media_type="application/json")


@router.post(
    "/diary",
    status_code=201,
    response_model=DiaryEntryOut,
    dependencies=CSRF,
    responses=PROBLEM_RESPONSES,
)
def add_diary_entry(
    request: Request, pseudonym: str, actor: SignedInActor, body: DiaryEntryIn
) -> DiaryEntryOut:
    return DiaryEntryOut.model_validate(diary.add_entry(get_db(request), actor, pseudonym, body))


@router.get(
    "/adverse-events", response_model=list[AdverseEventOut], responses=PROBLEM_RESPONSES
)
def list_adverse_events(
    request: Request, pseudonym: str, actor: SignedInActor
) -> list[AdverseEventOut]:
    rows = diary.list_adverse_events(get_db(request), actor, pseudonym)
    return [AdverseEventOut.model_validate(row) for row in rows]


@router.post(
    "/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
    dependencies=CSRF,
    responses=PROBLEM_RESPONSES,
)
def add_adverse_event(
    request: Request, pseudonym: str, actor: SignedInActor, body: AdverseEventIn
) -> AdverseEventOut:
    row = diary.add_adverse_event(get_db(request), actor, pseudonym, body)
    return AdverseEventOut.model_validate(row)
