"""REST API: a person's record as a FHIR R4 Bundle or as CSV files, and the import of a Bundle.

* ``GET /api/v1/patients/{pseudonym}/fhir`` — the Bundle (``application/fhir+json``); the person
  themself and clinicians; identifying data only with ``include_identity=true``, clinicians only;
* ``GET /api/v1/patients/{pseudonym}/export.csv.zip`` — the CSV zip; the person and clinicians;
* ``POST /api/v1/fhir/import`` — a stimwise Bundle into the records; clinicians only; all or
  nothing, idempotent.

The functions of :mod:`stimwise.interop` are the service layer here: they take the actor, check
access through the records layer and audit every export.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel

from stimwise.web.deps import CSRF, ClinicianActor, SignedInActor, get_db
from stimwise.web.routes.api_patients import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["interop"])

FHIR_JSON = "application/fhir+json"


class ImportSummaryOut(BaseModel):
    """What an import wrote and what it found already stored, by FHIR resource type."""

    patient: str
    created: dict[str, int]
    skipped: dict[str, int]


@router.get(
    "/patients/{pseudonym}/fhir",
    response_class=Response,
    responses={
        200: {"description": "A FHIR R4 Bundle (type collection)",
              "content": {FHIR_JSON: {"schema": {"type": "object"}}}},
        **PROBLEM_RESPONSES,
    },
)
def fhir_bundle(
    request: Request, pseudonym: str, actor: SignedInActor, include_identity: bool = False
) -> Response:
    """The person's record as a FHIR R4 Bundle; pseudonymous unless a clinician asks for
    identity."""
    from stimwise.interop.fhir_export import export_bundle

    bundle = export_bundle(get_db(request), actor, pseudonym, include_identity=include_identity)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type=FHIR_JSON,
                    headers={"Cache-Control": "no-store"})


@router.get(
    "/patients/{pseudonym}/export.csv.zip",
    response_class=Response,
    responses={
        200: {"description": "CSV files of the record in a zip",
              "content": {"application/zip": {"schema": {"type": "string",
                                                         "format": "binary"}}}},
        **PROBLEM_RESPONSES,
    },
)
def csv_zip(request: Request, pseudonym: str, actor: SignedInActor) -> Response:
    """The person's record as CSV files in a zip (their own copy of their data)."""
    from stimwise.interop.csv_export import export_csv_zip

    data = export_csv_zip(get_db(request), actor, pseudonym)
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="stimwise-{pseudonym}.zip"',
        "Cache-Control": "no-store",
    })


@router.post(
    "/fhir/import",
    response_model=ImportSummaryOut,
    dependencies=CSRF,
    responses=PROBLEM_RESPONSES,
)
def fhir_import(
    request: Request,
    actor: ClinicianActor,
    bundle: Annotated[
        dict[str, Any], Body(description="A Bundle written by a stimwise export.")
    ],
) -> ImportSummaryOut:
    """Import a stimwise FHIR Bundle: one transaction; records already stored are skipped."""
    from stimwise.interop.fhir_import import import_bundle

    summary = import_bundle(get_db(request), actor, bundle)
    return ImportSummaryOut(**summary.as_dict())
