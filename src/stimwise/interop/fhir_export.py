"""A person's record as a FHIR R4 Bundle of type ``collection``.

Why ``collection``: the export is a self-contained snapshot of one person's record for another
system (or stimwise's own importer) to read; it asks nothing of a receiving server. A
``transaction`` Bundle is an instruction to a FHIR server to write each entry (with request
methods and URLs) and would make every reader a writer. stimwise's importer gives the same
all-or-nothing, idempotent behaviour for a collection (:mod:`stimwise.interop.fhir_import`).

What is in it (``docs/interop.md`` has the full mapping):

* ``Patient`` — the pseudonym as identifier and the enrolment date; name, birth date and contact
  only when a clinician asks for them explicitly (``include_identity``; hazard HAZ-071);
* ``Questionnaire`` (item ids and answer types, never an instrument's wording) and
  ``QuestionnaireResponse`` per completed instrument, ``Observation`` per score;
* ``Observation`` per diary entry, with a component per rating (current pain coded LOINC 72514-3);
* ``DeviceRequest`` per prescription, with its parameters and the full prescription document;
* ``Procedure`` per delivered session with the dose as extensions;
* ``AdverseEvent`` per adverse event;
* ``Device`` per home device profile the person logged sessions on, and ``DeviceUseStatement``
  per self-logged session (R4's resource for patient-reported device use): the device, when and
  how long, the reported settings, the provenance ``self_reported``, the settings'
  verification and, when the session lay outside the locked ranges, the flag and its reasons.
  They are not Procedures, so no reader takes them for device-recorded doses.

The records hold no consent table, so no ``Consent`` resource is written.

The Bundle and every resource in it are validated by constructing the ``fhir.resources.R4B``
model; a resource that does not validate is a bug here and raises :class:`ExportError`.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.clinical.instruments.spec import BinaryScale, ChoiceScale
from stimwise.errors import StimwiseError
from stimwise.interop import fhir_codes as codes
from stimwise.interop import record_keys as keys
from stimwise.records.access import AccessDeniedError, Actor, require
from stimwise.records.audit import log_action
from stimwise.records.models import (
    AdverseEvent,
    DiaryEntry,
    InstrumentScoreRecord,
    IntakeRecord,
    Patient,
    PatientIdentity,
    PrescriptionRecord,
    SessionEntry,
)

__all__ = [
    "CALIBRATION_FIELDS",
    "SCALAR_SESSION_FIELDS",
    "ExportError",
    "PersonRecord",
    "Resource",
    "adverse_event_resource",
    "answer_value",
    "attachment",
    "bundle_of",
    "check_bundle",
    "device_request",
    "diary_observation",
    "export_bundle",
    "extension",
    "home_device",
    "identifier",
    "load_record",
    "patient_resource",
    "prescription_parameters",
    "questionnaire",
    "questionnaire_response",
    "reference",
    "require_export",
    "resource_model",
    "score_observation",
    "self_logged_statement",
    "session_procedure",
]

Resource = dict[str, Any]


@dataclass(frozen=True)
class PersonRecord:
    """Everything exported about one person, read in one transaction."""

    patient: Patient
    identity: PatientIdentity | None
    diary: list[DiaryEntry]
    sessions: list[SessionEntry]
    prescriptions: list[PrescriptionRecord]
    scores: list[InstrumentScoreRecord]
    adverse_events: list[AdverseEvent]
    intakes: list[IntakeRecord]
    self_logged: list = dataclass_field(default_factory=list)
    """Self-logged sessions (:class:`~stimwise.records.models.SelfLoggedSession`)."""
    """Intakes with their screening: in the CSV export; not (yet) mapped to FHIR resources."""


def require_export(actor: Actor, pseudonym: str, include_identity: bool = False) -> None:
    """A whole-record export is for the person themself and for clinicians; researchers read
    pseudonymous records in place but do not take copies of a person's record. Identity is
    exported for clinicians only, and only when asked for."""
    if actor.role == "researcher":
        raise AccessDeniedError(f"researcher {actor.username!r} may not export a person's record")
    require(actor, "read", pseudonym)
    if include_identity and actor.role != "clinician":
        raise AccessDeniedError(
            f"{actor.role} {actor.username!r} may not export identifying data (clinicians only)"
        )


def load_record(
    session, actor: Actor, pseudonym: str, action: str, include_identity: bool = False
) -> PersonRecord:
    """Read a person's whole record and audit the export (``action``) in the caller's
    transaction."""
    from stimwise.records import repository as repo
    from stimwise.records.sessions import list_sessions

    require_export(actor, pseudonym, include_identity)
    patient = repo.get_patient(session, actor, pseudonym)
    identity = repo.get_identity(session, actor, pseudonym) if include_identity else None
    record = PersonRecord(
        patient=patient,
        identity=identity,
        diary=repo.list_diary(session, actor, pseudonym),
        sessions=list_sessions(session, actor, pseudonym),
        prescriptions=repo.list_prescriptions(session, actor, pseudonym),
        scores=repo.list_instrument_scores(session, actor, pseudonym),
        adverse_events=repo.list_adverse_events(session, actor, pseudonym),
        intakes=list(session.scalars(
            select(IntakeRecord).where(IntakeRecord.patient_id == patient.id)
            .order_by(IntakeRecord.assessed_on, IntakeRecord.id)
        )),
    )
    from stimwise.records.self_logged import list_self_logged

    record.self_logged.extend(list_self_logged(session, actor, pseudonym))
    log_action(session, actor, action, "patient", patient.id)
    return record


def export_bundle(
    database, actor: Actor, pseudonym: str, *, include_identity: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The person's record as a validated FHIR Bundle (a JSON-ready dict); the export is
    audited.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from datetime import date
    >>> from stimwise.interop import export_bundle
    >>> from stimwise.records import Actor, create_patient, open_database
    >>> from stimwise.records.inputs import PatientIn
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> clinician = Actor(username="dr-lee", role="clinician")
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     with database.transaction() as session:
    ...         _ = create_patient(session, clinician,
    ...                            PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 5)))
    ...     bundle = export_bundle(database, clinician, "P001")
    >>> bundle["resourceType"], bundle["type"], bundle["entry"][0]["resource"]["resourceType"]
    ('Bundle', 'collection', 'Patient')
    """
    with database.transaction() as session:
        record = load_record(session, actor, pseudonym, "export_fhir", include_identity)
        return bundle_of(record, now or datetime.now(UTC))


# --------------------------------------------------------------------------- helpers


def extension(name: str, **value: Any) -> dict[str, Any]:
    return {"url": codes.extension_url(name), **value}


def identifier(kind: str, value: str) -> dict[str, str]:
    return {"system": codes.IDENTIFIER_SYSTEMS[kind], "value": value}


def reference(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def attachment(document: dict[str, Any]) -> dict[str, str]:
    """A JSON document as an Attachment (canonical JSON, base64)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return {"contentType": "application/json", "data": base64.b64encode(text.encode()).decode()}


SCALAR_SESSION_FIELDS = (
    ("protocol_id", "protocol-id", "valueString"),
    ("plan_fingerprint", "plan-fingerprint", "valueString"),
    ("device", "device", "valueString"),
    ("outcome", "session-outcome", "valueString"),
    ("reason", "session-reason", "valueString"),
    ("habituation_increases", "habituation-increases", "valueInteger"),
    ("nrs_pre", "nrs-before", "valueInteger"),
    ("nrs_post", "nrs-after", "valueInteger"),
    ("skin_pre", "skin-before", "valueString"),
    ("skin_post", "skin-after", "valueString"),
    ("events", "journal-events", "valueInteger"),
)
"""Session columns carried as simple extensions: (column, extension name, value type)."""

CALIBRATION_FIELDS = (
    ("sensation_threshold_ma", "valueDecimal"),
    ("motor_threshold_ma", "valueDecimal"),
    ("target_ma", "valueDecimal"),
    ("ceiling_reached", "valueBoolean"),
)


# --------------------------------------------------------------------------- resources


def patient_resource(patient: Patient, identity: PatientIdentity | None) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": keys.resource_uuid("patient", patient.pseudonym),
        "identifier": [identifier("pseudonym", patient.pseudonym)],
        "extension": [extension("enrolled-on", valueDate=patient.enrolled_on.isoformat())],
    }
    if identity is not None:
        resource["name"] = [{"text": identity.full_name}]
        if identity.date_of_birth is not None:
            resource["birthDate"] = identity.date_of_birth.isoformat()
        if identity.contact:  # an empty one (stored before inputs refused it) is left out
            resource["telecom"] = [{"system": "other", "value": identity.contact}]
    return resource


def diary_observation(row: DiaryEntry, subject: dict[str, str]) -> Resource:
    components = []
    for rating in codes.DIARY_RATINGS:
        value = getattr(row, rating.column)
        if value is None:
            continue
        coding = [codes.stimwise_coding(rating.code, rating.display)]
        if rating.loinc is not None:
            coding.insert(0, {"system": codes.LOINC, "code": rating.loinc})
        components.append({"code": {"coding": coding}, "valueInteger": value})
    resource: Resource = {
        "resourceType": "Observation",
        "id": keys.resource_uuid("diary", keys.diary_key(row)),
        "identifier": [identifier("diary_entry", keys.diary_key(row))],
        "status": "final",
        "code": {"coding": [codes.DIARY_ENTRY_CODE]},
        "subject": subject,
        "effectiveDateTime": keys.instant(row.recorded_at),
        "component": components,
    }
    if row.body_site is not None:
        resource["bodySite"] = {"coding": [{"system": codes.BODY_SITES, "code": row.body_site}]}
    if row.note is not None:
        resource["note"] = [{"text": row.note}]
    extensions = [
        extension("medication-change", extension=[
            {"url": "medication", "valueString": change["medication"]},
            {"url": "change", "valueCode": change["change"]},
        ])
        for change in row.medication_changes
    ]
    if row.retrospective:  # a baseline day recalled afterwards, and when it was recorded
        extensions.append(extension("recalled-baseline",
                                    valueDateTime=keys.instant(row.created_at)))
    if extensions:
        resource["extension"] = extensions
    return resource


def questionnaire(instrument: str, version: str) -> Resource:
    """The instrument's items by id with their answer types; no wording (see
    ``docs/instruments.md``: several instruments' wording may be copyrighted)."""
    spec = INSTRUMENTS[instrument]
    found = spec.find_version(version)
    item_ids = found.item_ids if found is not None else tuple(item.id for item in spec.items)
    items = []
    for item_id in item_ids:
        item = spec.item(item_id)
        entry: dict[str, Any] = {"linkId": item.id, "required": item.required}
        if isinstance(item.scale, BinaryScale):
            entry["type"] = "boolean"
        elif isinstance(item.scale, ChoiceScale):
            entry["type"] = "choice"
            entry["answerOption"] = [
                {"valueCoding": {"system": codes.answer_system(instrument), "code": option.id}}
                for option in item.scale.options
            ]
        else:
            entry["type"] = "integer"
        items.append(entry)
    return {
        "resourceType": "Questionnaire",
        "id": keys.resource_uuid("questionnaire", f"{instrument}|{version}"),
        "url": codes.questionnaire_url(instrument),
        "version": version,
        "name": f"stimwise_{instrument}",
        "status": "active",
        "item": items,
    }


def answer_value(instrument: str, value: bool | int | str) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    return {"valueCoding": {"system": codes.answer_system(instrument), "code": value}}


def questionnaire_response(row: InstrumentScoreRecord, subject: dict[str, str]) -> Resource:
    key = keys.instrument_key(row)
    answers = keys.instrument_row_answers(row)
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": keys.resource_uuid("instrument_response", key),
        "identifier": identifier("instrument_response", key),
        "questionnaire": f"{codes.questionnaire_url(row.instrument)}|{row.version}",
        "status": "completed",
        "subject": subject,
        "item": [
            {"linkId": item_id, "answer": [answer_value(row.instrument, value)]}
            for item_id, value in answers.items()
        ],
    }
    if row.answered_on is not None:
        resource["authored"] = row.answered_on.isoformat()
    return resource


def score_observation(
    row: InstrumentScoreRecord, subject: dict[str, str], response: Resource
) -> Resource:
    key = keys.instrument_key(row)
    components: list[dict[str, Any]] = [
        {"code": {"coding": [codes.stimwise_coding(f"{row.instrument}-{name}", name)]},
         "valueQuantity": {"value": value}}
        for name, value in row.score.get("subscores", {}).items()
    ]
    if row.max_total is not None:
        components.append({"code": {"coding": [codes.stimwise_coding("max-total", "max total")]},
                           "valueQuantity": {"value": row.max_total}})
    if row.positive is not None:
        components.append({"code": {"coding": [codes.stimwise_coding("positive", "positive")]},
                           "valueBoolean": row.positive})
    resource: Resource = {
        "resourceType": "Observation",
        "id": keys.resource_uuid("instrument_score", key),
        "identifier": [identifier("instrument_score", key)],
        "status": "final",
        "code": {"coding": [codes.stimwise_coding(
            f"instrument-score-{row.instrument}", f"{INSTRUMENTS[row.instrument].name} score"
        )]},
        "subject": subject,
        "derivedFrom": [reference(response)],
        "interpretation": [{"text": row.score.get("interpretation", "")}],
    }
    if row.answered_on is not None:
        resource["effectiveDateTime"] = row.answered_on.isoformat()
    if row.total is not None:
        resource["valueQuantity"] = {"value": row.total}
    if components:
        resource["component"] = components
    return resource


def prescription_parameters(
    prescription: dict[str, Any], frequency_hz: float | None, phase_width_us: float | None,
    locked_ranges: dict[str, Any] | None, home_use: bool,
) -> list[dict[str, Any]]:
    """The DeviceRequest's ``parameter`` entries (the importer rebuilds and compares them)."""
    values = {
        "frequency_hz": frequency_hz,
        "phase_width_us": phase_width_us,
        "max_amplitude_ma": prescription["max_amplitude_ma"],
        "session_duration_min": prescription["session_duration_min"],
    }
    parameters: list[dict[str, Any]] = [
        {"code": {"coding": [codes.stimwise_coding(p.code, p.column)]},
         "valueQuantity": codes.quantity(values[p.column], p.unit)}
        for p in codes.PRESCRIPTION_PARAMETERS
        if values[p.column] is not None
    ]
    for name, unit in codes.LOCKED_RANGE_UNITS.items():
        span = (locked_ranges or {}).get(name)
        if span is not None:
            parameters.append({
                "code": {"coding": [codes.stimwise_coding(f"home-range-{name}", name)]},
                "valueRange": {"low": codes.quantity(span["min"], unit),
                               "high": codes.quantity(span["max"], unit)},
            })
    parameters.append({"code": {"coding": [codes.stimwise_coding("home-use", "home use")]},
                       "valueBoolean": home_use})
    return parameters


def device_request(row: PrescriptionRecord, subject: dict[str, str], today: date) -> Resource:
    key = keys.prescription_key(row)
    period = {"start": row.valid_from.isoformat()}
    if row.valid_to is not None:
        period["end"] = row.valid_to.isoformat()
    extensions = [
        extension("protocol-id", valueString=row.protocol_id),
        extension("plan-fingerprint", valueString=row.fingerprint),
        extension("prescription-document", valueAttachment=attachment(row.prescription)),
    ]
    if row.caps is not None:
        extensions.append(extension("caps-document", valueAttachment=attachment(row.caps)))
    resource: Resource = {
        "resourceType": "DeviceRequest",
        "id": keys.resource_uuid("prescription", key),
        "identifier": [identifier("prescription", key)],
        "status": "completed" if row.valid_to is not None and row.valid_to < today else "active",
        "intent": "order",
        "codeCodeableConcept": {"coding": [codes.PRESCRIPTION_CODE], "text": row.protocol_id},
        "subject": subject,
        "occurrencePeriod": period,
        "requester": {"display": row.prescribed_by},
        "parameter": prescription_parameters(
            row.prescription, row.frequency_hz, row.phase_width_us, row.locked_ranges,
            row.home_use,
        ),
        "extension": extensions,
    }
    if row.review_on is not None:
        # R4 has no element for a review date of a DeviceRequest (occurrence[x] is when the
        # device is used): an extension carries it for programs, a note for people.
        extensions.append(extension("review-on", valueDate=row.review_on.isoformat()))
        resource["note"] = [{"text": f"Review by the prescribing clinician on "
                                     f"{row.review_on.isoformat()}."}]
    return resource


def session_procedure(
    row: SessionEntry, subject: dict[str, str], prescriptions: dict[int, Resource]
) -> Resource:
    key = keys.session_row_key(row)
    extensions = [
        extension(name, **{kind: getattr(row, column)})
        for column, name, kind in SCALAR_SESSION_FIELDS
        if getattr(row, column) is not None
    ]
    extensions += [
        extension(dose.code, valueQuantity=codes.quantity(getattr(row, dose.column), dose.unit))
        for dose in codes.SESSION_DOSE
        if getattr(row, dose.column) is not None
    ]
    extensions += [
        extension("minutes-at-amplitude", extension=[
            {"url": "band", "valueString": band}, {"url": "minutes", "valueDecimal": minutes},
        ])
        for band, minutes in row.minutes_at_amplitude.items()
    ]
    if row.calibration is not None:
        extensions.append(extension("calibration", extension=[
            {"url": name, kind: row.calibration[name]}
            for name, kind in CALIBRATION_FIELDS
            if row.calibration.get(name) is not None
        ]))
    extensions += [extension("fault", valueString=fault) for fault in row.faults]
    ids = [identifier("session", key)]
    if row.journal_sha256 is not None:
        ids.append(identifier("journal", row.journal_sha256))
    period = {"start": keys.instant(row.started_at)}
    if row.ended_at is not None:
        period["end"] = keys.instant(row.ended_at)
    resource: Resource = {
        "resourceType": "Procedure",
        "id": keys.resource_uuid("session", key),
        "identifier": ids,
        "status": "completed" if row.outcome == "completed" else "stopped",
        "code": {"coding": [codes.SESSION_CODE], "text": row.protocol_id},
        "subject": subject,
        "performedPeriod": period,
        "extension": extensions,
    }
    if row.prescription_id in prescriptions:
        resource["basedOn"] = [reference(prescriptions[row.prescription_id])]
    return resource


def adverse_event_resource(
    row: AdverseEvent, subject: dict[str, str], sessions: dict[int, Resource]
) -> Resource:
    session = sessions.get(row.session_id) if row.session_id is not None else None
    session_key = None if session is None else session["identifier"][0]["value"]
    key = keys.adverse_event_key(row, session_key)
    resource: Resource = {
        "resourceType": "AdverseEvent",
        "id": keys.resource_uuid("adverse_event", key),
        "identifier": identifier("adverse_event", key),
        "actuality": "actual",
        "event": {"coding": [codes.stimwise_coding(
            f"adverse-event-{row.kind}", codes.ADVERSE_EVENT_KIND_DISPLAY[row.kind]
        )]},
        "subject": subject,
        "date": keys.instant(row.occurred_at),
        "severity": {"coding": [{"system": codes.ADVERSE_EVENT_SEVERITY, "code": row.severity}]},
    }
    if session is not None:
        resource["suspectEntity"] = [{"instance": reference(session)}]
    extensions = []
    if row.body_site is not None:
        extensions.append(extension("body-site", valueString=row.body_site))
    if row.description:
        extensions.append(extension("description", valueString=row.description))
    if extensions:
        resource["extension"] = extensions
    return resource


# --------------------------------------------------------------------------- bundle


def home_device(profile_id: str) -> Resource:
    """The person's own device, named by its stimwise profile."""
    from stimwise.device.profiles import get_profile

    profile = get_profile(profile_id)
    return {
        "resourceType": "Device",
        "id": keys.resource_uuid("device-profile", profile.id),
        "identifier": [identifier("device_profile", profile.id)],
        "manufacturer": profile.manufacturer,
        "modelNumber": profile.model,
        "deviceName": [{"name": profile.name, "type": "user-friendly-name"}],
    }


def self_logged_statement(row, subject: dict[str, str], device: Resource,
                          prescriptions: dict[int, Resource]) -> Resource:
    """A self-logged session as a DeviceUseStatement (patient-reported use of a device)."""
    from datetime import timedelta

    units = {"frequency_hz": "Hz", "phase_width_us": "us", "burst_frequency_hz": "Hz",
             "amplitude_ma": "mA", "level": "{level}"}
    extensions = [extension("provenance", valueCode=row.provenance),
                  extension("as-prescribed", valueBoolean=row.as_prescribed),
                  extension("settings-verification", valueString=row.verification["status"]),
                  extension("flagged", valueBoolean=row.flagged)]
    extensions += [extension("flag-reason", valueString=reason) for reason in row.flag_reasons]
    extensions += [extension(f"setting-{key.replace('_', '-')}",
                             valueQuantity=codes.quantity(value, units[key]))
                   for key, value in sorted(row.settings.items()) if key in units]
    if row.programme_id is not None:
        extensions.append(extension("programme", valueString=row.programme_id))
    extensions += [extension(name, valueInteger=value) for name, value in
                   (("nrs-before", row.nrs_pre), ("nrs-after", row.nrs_post)) if value is not None]
    end = row.started_at + timedelta(minutes=row.minutes)
    resource: Resource = {
        "resourceType": "DeviceUseStatement",
        "id": keys.resource_uuid("self-logged-session", row.entry_uuid),
        "identifier": [identifier("self_logged_session", row.entry_uuid)],
        "status": "completed",
        "subject": subject,
        "source": subject if row.reporter_role == "patient" else None,
        "device": reference(device),
        "timingPeriod": {"start": keys.instant(row.started_at), "end": keys.instant(end)},
        "recordedOn": keys.instant(row.created_at),
        "extension": extensions,
    }
    if resource["source"] is None:
        del resource["source"]
    if row.prescription_id in prescriptions:
        resource["basedOn"] = [reference(prescriptions[row.prescription_id])]
    if row.note:
        resource["note"] = [{"text": row.note}]
    return resource


def resource_model(resource_type: str) -> type:
    """The ``fhir.resources`` R4B model class of a resource type."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


class ExportError(StimwiseError):
    """An exported resource failed FHIR validation: a bug in the exporter (exit 3)."""


def bundle_of(record: PersonRecord, now: datetime) -> dict[str, Any]:
    """The Bundle of one person's record; every resource validated."""
    patient = patient_resource(record.patient, record.identity)
    subject = reference(patient)
    resources: list[Resource] = [patient]
    versions = sorted({(row.instrument, row.version) for row in record.scores})
    resources += [questionnaire(instrument, version) for instrument, version in versions]
    for row in record.scores:
        response = questionnaire_response(row, subject)
        resources += [response, score_observation(row, subject, response)]
    resources += [diary_observation(row, subject) for row in record.diary]
    prescriptions = {
        row.id: device_request(row, subject, now.date()) for row in record.prescriptions
    }
    resources += prescriptions.values()
    sessions = {row.id: session_procedure(row, subject, prescriptions) for row in record.sessions}
    resources += sessions.values()
    resources += [adverse_event_resource(row, subject, sessions) for row in record.adverse_events]
    devices = {pid: home_device(pid) for pid in sorted({r.profile_id for r in record.self_logged})}
    resources += devices.values()
    resources += [self_logged_statement(row, subject, devices[row.profile_id], prescriptions)
                  for row in record.self_logged]
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"tag": [codes.EXPORT_FORMAT_TAG]},
        "identifier": identifier("export", f"urn:uuid:{uuid.uuid4()}"),
        "type": "collection",
        "timestamp": keys.instant(now),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }
    check_bundle(bundle)
    return bundle


def check_bundle(bundle: dict[str, Any]) -> None:
    """Validate the whole Bundle, every resource in it, by constructing its R4B model (once:
    validating each resource separately as well would double the cost of an export)."""
    from pydantic import ValidationError

    try:
        resource_model("Bundle").model_validate(bundle)
    except ValidationError as error:
        raise ExportError(f"the exported Bundle is not valid FHIR R4: {error}") from error

