"""Import a Bundle written by :mod:`stimwise.interop.fhir_export` into the records.

Safety of the import (hazards HAZ-070 and HAZ-072):

* **All or nothing.** The whole bundle is written in one database transaction through the records
  repository functions (with their access checks, date checks and audit entries); any problem
  rolls everything back.
* **Idempotent.** Every record is recognised by its identifier (``record_keys``): a resource
  whose record is already stored is skipped, so importing the same bundle twice adds nothing.
* **Clear refusals.** The bundle is first validated as FHIR R4 (``fhir.resources.R4B``); every
  problem names the entry index and the field (``entry[7].resource.valueInteger``). A field that
  R4 does not define (typically a bundle of another FHIR version, e.g. R5's
  ``Procedure.occurrencePeriod``) is reported as such. A prescription whose stated parameters
  disagree with its document, or whose fingerprint does not match, is refused.

Derived resources are not imported: score Observations are recomputed from the
QuestionnaireResponses with the current scoring rules, and Questionnaires are definitions.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from stimwise import strict_json
from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.errors import FieldProblem, InputError
from stimwise.interop import fhir_codes as codes
from stimwise.interop import record_keys as keys
from stimwise.interop.fhir_export import (
    CALIBRATION_FIELDS,
    SCALAR_SESSION_FIELDS,
    prescription_parameters,
    resource_model,
)
from stimwise.records.access import Actor

__all__ = [
    "JSON_BOOLEAN",
    "JSON_DECIMAL",
    "JSON_INTEGER",
    "MAX_REPORTED",
    "QUANTITY_KEYS",
    "RATING_CODES",
    "SCORE_CODES",
    "SUPPORTED",
    "Entry",
    "ImportSummary",
    "Resource",
    "import_bundle",
    "json_type_problems",
    "parse_bundle",
]

Resource = dict[str, Any]
MAX_REPORTED = 20
"""Problems listed in one error at most (a wholly wrong file would otherwise list thousands)."""
SUPPORTED = (
    "Patient", "Questionnaire", "QuestionnaireResponse", "Observation", "DeviceRequest",
    "Procedure", "AdverseEvent", "Device", "DeviceUseStatement",
)
"""``Device`` and ``DeviceUseStatement`` (self-reported home sessions on the person's own
device) are read but not imported: a self-reported session enters the record only through
its own validation (:mod:`stimwise.records.self_logged`), never as a device-recorded one."""


SCORE_CODES = frozenset(f"instrument-score-{name}" for name in INSTRUMENTS)
RATING_CODES = frozenset(rating.code for rating in codes.DIARY_RATINGS)


@dataclass
class ImportSummary:
    """What an import wrote (``created``) and recognised as already stored (``skipped``)."""

    pseudonym: str
    created: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"patient": self.pseudonym, "created": dict(self.created),
                "skipped": dict(self.skipped)}


@dataclass(frozen=True)
class Entry:
    index: int
    resource: Resource

    @property
    def path(self) -> str:
        return f"entry[{self.index}].resource"

    def problem(self, name: str, value: object, expected: str) -> InputError:
        return InputError(FieldProblem(f"{self.path}.{name}", value, expected))


# --------------------------------------------------------------------------- parsing


def _bracketed(path: str) -> str:
    """``entry.3.resource.x`` → ``entry[3].resource.x``."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def parse_bundle(document: Any, source: str | None = None) -> Resource:
    """Validate a JSON document as a FHIR R4 Bundle of this export's layout and return it (the
    document itself: serialising the validated model again would double the cost of an import).
    :class:`InputError` names the entry index and field of each problem."""
    from stimwise.protocol.io import problems_from_validation

    if isinstance(document, str | bytes):
        try:
            document = strict_json.loads(document)
        except ValueError as error:
            raise InputError(FieldProblem("(document)", str(error), "well-formed JSON"),
                             source=source) from None
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        shown = document.get("resourceType") if isinstance(document, dict) else type(document)
        raise InputError(FieldProblem("resourceType", shown, "a FHIR Bundle"), source=source)
    problems = (_layout_problems(document) + _entry_type_problems(document)
                + json_type_problems(document))
    if problems:
        raise InputError(problems[:MAX_REPORTED], source=source)
    try:
        resource_model("Bundle").model_validate(document)
    except ValidationError as error:
        problems = [
            FieldProblem(
                _bracketed(p.path), p.value,
                "an element defined in FHIR R4 (no such field; is this bundle another FHIR "
                "version, e.g. R5?)" if p.expected.startswith("no such field") else p.expected,
            )
            for p in problems_from_validation(error)
        ]
        raise InputError(problems[:MAX_REPORTED], source=source) from None
    if document.get("type") != "collection":
        raise InputError(FieldProblem("type", document.get("type"), "'collection'"),
                         source=source)
    return document


def _layout_problems(document: dict[str, Any]) -> list[FieldProblem]:
    """Another stimwise export layout (``meta.tag``) is refused before anything is read."""
    meta = document.get("meta")
    tags = meta.get("tag") if isinstance(meta, dict) else None
    return [
        FieldProblem("meta.tag", tag.get("code"),
                     f"stimwise export layout {codes.EXPORT_FORMAT_TAG['code']!r} (FHIR R4)")
        for tag in (tags if isinstance(tags, list) else [])
        if isinstance(tag, dict) and tag.get("system") == codes.EXPORT_FORMAT_TAG["system"]
        and tag.get("code") != codes.EXPORT_FORMAT_TAG["code"]
    ]


def _entry_type_problems(document: dict[str, Any]) -> list[FieldProblem]:
    """Resource types this importer does not read, named before the FHIR models see them (the
    models cannot even look up an unknown or non-text ``resourceType``)."""
    entries = document.get("entry")
    problems = []
    for index, raw in enumerate(entries if isinstance(entries, list) else []):
        resource = raw.get("resource") if isinstance(raw, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if isinstance(resource, dict) and kind not in SUPPORTED:
            problems.append(FieldProblem(f"entry[{index}].resource.resourceType", kind,
                                         f"one of {', '.join(SUPPORTED)}"))
    return problems


JSON_BOOLEAN = frozenset({"valueBoolean", "required"})
JSON_INTEGER = frozenset({"valueInteger", "valueUnsignedInt", "valuePositiveInt", "total"})
JSON_DECIMAL = frozenset({"valueDecimal"})
QUANTITY_KEYS = frozenset({"valueQuantity", "low", "high"})
"""FHIR's JSON format writes boolean elements as JSON booleans, integer and decimal elements as
JSON numbers, and every other primitive as a JSON string [C: FHIR R4 §2.6.2 JSON, "Primitive
Types", https://hl7.org/fhir/R4/json.html#primitive]. These are the boolean and number elements
of the layout stimwise exports (a Quantity's ``value`` is a decimal). The R4 models accept
``true`` or ``"5"`` for an integer and ``20260101`` for a dateTime; these checks do not."""


def _expected_json_type(key: str, parent: str | None) -> tuple[tuple[type, ...], str]:
    if key in JSON_BOOLEAN:
        return (bool,), "a JSON boolean"
    if key in JSON_INTEGER:
        return (int,), "a JSON integer"
    if key in JSON_DECIMAL or (key == "value" and parent in QUANTITY_KEYS):
        return (int, float), "a JSON number"
    return (str,), "a JSON string (this FHIR element is text, a code, a date or a time)"


def json_type_problems(node: Any, path: str = "", key: str = "",
                       parent: str | None = None) -> list[FieldProblem]:
    """Primitive values of the wrong JSON type, each with its path (``entry[3].resource...``)."""
    if isinstance(node, dict):
        return [problem for name, value in node.items()
                for problem in json_type_problems(value, f"{path}.{name}" if path else name,
                                                  name, key)]
    if isinstance(node, list):
        return [problem for index, value in enumerate(node)
                for problem in json_type_problems(value, f"{path}[{index}]", key, parent)]
    if node is None:
        return []
    allowed, expected = _expected_json_type(key, parent)
    if type(node) not in allowed:
        return [FieldProblem(path, node, expected)]
    return []


def _entries(bundle: Resource) -> list[Entry]:
    entries = []
    for index, raw in enumerate(bundle.get("entry") or []):
        resource = raw.get("resource")
        if resource is None:
            raise InputError(FieldProblem(f"entry[{index}].resource", None, "a resource"))
        entries.append(Entry(index, resource))
    return entries


def _references(bundle: Resource) -> dict[str, int]:
    """fullUrl (and ``Type/id``) → entry index."""
    found: dict[str, int] = {}
    for index, raw in enumerate(bundle.get("entry") or []):
        resource = raw["resource"]
        if raw.get("fullUrl"):
            found[raw["fullUrl"]] = index
        if resource.get("id"):
            found[f"{resource['resourceType']}/{resource['id']}"] = index
    return found


# --------------------------------------------------------------------------- field readers


def _extensions(resource: Resource, name: str) -> list[dict[str, Any]]:
    url = codes.extension_url(name)
    return [e for e in resource.get("extension") or [] if e.get("url") == url]


def _extension_value(resource: Resource, name: str, kind: str) -> Any:
    found = _extensions(resource, name)
    return found[0].get(kind) if found else None


def _find_identifier(entry: Entry, kind: str) -> str | None:
    raw = entry.resource.get("identifier")
    listed = raw if isinstance(raw, list) else [raw] if raw else []
    system = codes.IDENTIFIER_SYSTEMS[kind]
    return next((i["value"] for i in listed if i.get("system") == system and i.get("value")),
                None)


def _identifier(entry: Entry, kind: str) -> str:
    found = _find_identifier(entry, kind)
    if found is None:
        system = codes.IDENTIFIER_SYSTEMS[kind]
        raise entry.problem("identifier", None, f"an identifier with system {system}")
    return found


def _coded(concept: dict[str, Any] | None, system: str) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == system:
            return coding.get("code")
    return None


def _instant(entry: Entry, name: str, text: Any) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        value = None  # a FHIR dateTime such as "2026" or "2026-02" names no instant
    if value is None or value.tzinfo is None:
        raise entry.problem(name, text, "a date and time with a time zone")
    return value


def _ucum_code(text: str) -> str:
    """A unit as UCUM writes it: the micro sign and the Greek mu are ``u``."""
    return text.replace("\u00b5", "u").replace("\u03bc", "u")


def _in_unit(entry: Entry, where: str, quantity: Any, unit: str) -> float:
    """The value of a Quantity converted to ``unit``; an unknown or contradictory unit, another
    unit system or a missing value is an :class:`InputError` naming the entry and field."""
    if not isinstance(quantity, dict):
        raise entry.problem(where, quantity, "a Quantity")
    value, system = quantity.get("value"), quantity.get("system")
    code, shown = quantity.get("code"), quantity.get("unit")
    factors = codes.UCUM_FACTORS[unit]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise entry.problem(f"{where}.value", value, f"a number (in {unit} or a UCUM unit of "
                            "the same kind)")
    if system not in (None, codes.UCUM):
        raise entry.problem(f"{where}.system", system, f"UCUM ({codes.UCUM})")
    named = code if code is not None else shown
    if not isinstance(named, str) or _ucum_code(named) not in factors:
        raise entry.problem(f"{where}.code", named,
                            f"a UCUM unit convertible to {unit}: {', '.join(factors)}")
    factor = factors[_ucum_code(named)]
    if isinstance(shown, str) and factors.get(_ucum_code(shown), factor) != factor:
        raise entry.problem(f"{where}.unit", shown, f"the unit its code {code!r} names")
    return float(f"{value * factor:.12g}")


def _validated(entry: Entry, model: type, data: dict[str, Any]):
    """``model`` from ``data``; problems are named within the entry."""
    from stimwise.protocol.io import validate_model

    try:
        return validate_model(model, data)
    except InputError as error:
        raise _within(entry, error) from None


def _within(entry: Entry, error: InputError) -> InputError:
    return InputError(
        [FieldProblem(f"{entry.path} ({entry.resource['resourceType']}): {p.path}", p.value,
                      p.expected) for p in error.problems],
        source=error.source,
    )


def _batch_error(entries: list[Entry], error: InputError) -> InputError:
    """A batch's problems (``entries[k].field``) named by the bundle entry of item ``k``."""
    problems = []
    for problem in error.problems:
        found = re.match(r"entries\[(\d+)\]\.(.*)", problem.path)
        if found is None:
            problems.append(problem)
            continue
        entry = entries[int(found.group(1))]
        problems.append(FieldProblem(
            f"{entry.path} ({entry.resource['resourceType']}): {found.group(2)}", problem.value,
            problem.expected))
    return InputError(problems, source=error.source)


def _document(entry: Entry, name: str) -> dict[str, Any] | None:
    found = _extension_value(entry.resource, name, "valueAttachment")
    if found is None:
        return None
    try:
        return strict_json.loads(base64.b64decode(found["data"], validate=True))
    except (KeyError, TypeError, ValueError):
        raise entry.problem(f"extension[{name}].valueAttachment.data", "(undecodable)",
                            "base64 of a JSON document") from None


# --------------------------------------------------------------------------- the import


class _Importer:
    def __init__(self, session, actor: Actor, bundle: Resource, now: datetime | None) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.entries = _entries(bundle)
        self.references = _references(bundle)
        self.prescriptions: dict[int, int] = {}  # entry index → prescription id
        self.sessions: dict[int, tuple[int, str]] = {}  # entry index → (session id, key)

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.resource["resourceType"] == resource_type]

    def target(self, entry: Entry, name: str, ref: dict[str, Any] | None, kind: str) -> int:
        """The entry index a reference points at, which must be a resource of ``kind``."""
        index = self.references.get((ref or {}).get("reference", ""))
        if index is None or self.entries[index].resource["resourceType"] != kind:
            raise entry.problem(name, (ref or {}).get("reference"), f"a reference to a {kind} "
                                "entry of this bundle")
        return index

    def check_subject(self, entry: Entry, name: str = "subject") -> None:
        self.target(entry, name, entry.resource.get(name), "Patient")

    # ---------------------------------------------------------------- patient

    def patient(self) -> ImportSummary:
        from stimwise.records import repository as repo
        from stimwise.records.inputs import IdentityIn, PatientIn
        from stimwise.records.models import Patient

        found = self.of_type("Patient")
        if len(found) != 1:
            raise InputError(FieldProblem("entry", f"{len(found)} Patient resources",
                                          "exactly one Patient"))
        entry = found[0]
        resource = entry.resource
        pseudonym = _identifier(entry, "pseudonym")
        enrolled = _extension_value(resource, "enrolled-on", "valueDate")
        identity = None
        if resource.get("name"):
            telecom = (resource.get("telecom") or [{}])[0]
            identity = {"full_name": resource["name"][0].get("text"),
                        "date_of_birth": resource.get("birthDate"),
                        "contact": telecom.get("value")}
        data = _validated(entry, PatientIn, {
            "pseudonym": pseudonym, "enrolled_on": enrolled,
            "identity": None if identity is None else _validated(entry, IdentityIn, identity),
        })
        summary = ImportSummary(pseudonym)
        stored = self.session.scalar(select(Patient).where(Patient.pseudonym == pseudonym))
        if stored is None:
            repo.create_patient(self.session, self.actor, data, now=self.now)
            summary.created["Patient"] += 1
        elif stored.enrolled_on != data.enrolled_on:
            raise entry.problem(f"extension[{codes.extension_url('enrolled-on')}]",
                                data.enrolled_on.isoformat(),
                                f"the stored enrolment date of {pseudonym} "
                                f"({stored.enrolled_on})")
        else:
            repo.get_patient(self.session, self.actor, pseudonym)
            summary.skipped["Patient"] += 1
        return summary

    # ---------------------------------------------------------------- prescriptions

    def prescriptions_in(self, summary: ImportSummary) -> None:
        from stimwise.records import repository as repo

        stored = {keys.prescription_key(row): row.id for row in repo.list_prescriptions(
            self.session, self.actor, summary.pseudonym)}
        for entry in self.of_type("DeviceRequest"):
            self.check_subject(entry)
            key = _identifier(entry, "prescription")
            if key in stored:
                self.prescriptions[entry.index] = stored[key]
                summary.skipped["DeviceRequest"] += 1
                continue
            row = self.add_prescription(entry, summary.pseudonym)
            if keys.prescription_key(row) != key:
                raise entry.problem("identifier", key, "the identifier of the prescription the "
                                    "resource describes (its content was changed)")
            stored[key] = self.prescriptions[entry.index] = row.id
            summary.created["DeviceRequest"] += 1

    def add_prescription(self, entry: Entry, pseudonym: str):
        from stimwise.records import repository as repo
        from stimwise.records.inputs import PrescriptionIn

        resource = entry.resource
        parameters = {_coded(p.get("code"), codes.STIMWISE_CODES): p
                      for p in resource.get("parameter") or []}
        ranges = {}
        for name in codes.LOCKED_RANGE_UNITS:
            found = parameters.get(f"home-range-{name}")
            if found is not None:
                span = found.get("valueRange") or {}
                ranges[name] = {"min": (span.get("low") or {}).get("value"),
                                "max": (span.get("high") or {}).get("value")}
        period = resource.get("occurrencePeriod") or {}
        data = _validated(entry, PrescriptionIn, {
            "prescription": _document(entry, "prescription-document"),
            "caps": _document(entry, "caps-document"),
            "locked_ranges": ranges or None,
            "home_use": (parameters.get("home-use") or {}).get("valueBoolean", False),
            "valid_from": period.get("start"),
            "valid_to": period.get("end"),
            "review_on": _extension_value(resource, "review-on", "valueDate"),
            "prescribed_by": (resource.get("requester") or {}).get("display"),
        })
        try:
            # An imported review date is history: it is kept even when it has passed.
            row = repo.add_prescription(self.session, self.actor, pseudonym, data, now=self.now,
                                        historical=True)
        except InputError as error:
            raise _within(entry, error) from None
        stated = _extension_value(resource, "plan-fingerprint", "valueString")
        if stated != row.fingerprint:
            raise entry.problem("extension[plan-fingerprint]", stated,
                                f"the fingerprint of its prescription document "
                                f"({row.fingerprint[:12]}…)")
        expected = prescription_parameters(row.prescription, row.frequency_hz,
                                           row.phase_width_us, row.locked_ranges, row.home_use)
        if expected != resource.get("parameter"):
            raise entry.problem("parameter", "(differs from the prescription document)",
                                "the parameters of the prescription document it carries")
        return row

    # ---------------------------------------------------------------- sessions

    def sessions_in(self, summary: ImportSummary) -> None:
        from stimwise.records.inputs import SessionIn
        from stimwise.records.sessions import add_session

        for entry in self.of_type("Procedure"):
            self.check_subject(entry)
            resource = entry.resource
            key = _identifier(entry, "session")
            if _coded(resource.get("code"), codes.STIMWISE_CODES) != codes.SESSION_CODE["code"]:
                raise entry.problem("code", _coded(resource.get("code"), codes.STIMWISE_CODES),
                                    f"the session code {codes.SESSION_CODE['code']!r} of "
                                    f"{codes.STIMWISE_CODES}")
            prescription_id = None
            if resource.get("basedOn"):
                index = self.target(entry, "basedOn[0]", resource["basedOn"][0], "DeviceRequest")
                prescription_id = self.prescriptions[index]
            data = _validated(entry, SessionIn, {
                "record": self.session_record(entry, summary.pseudonym),
                "frequency_hz": self.dose(entry, "frequency_hz"),
                "phase_width_us": self.dose(entry, "phase_width_us"),
                "prescription_id": prescription_id,
                "journal_sha256": _find_identifier(entry, "journal"),
            })
            try:
                result = add_session(self.session, self.actor, summary.pseudonym, data,
                                     now=self.now)
            except InputError as error:
                raise _within(entry, error) from None
            status = "completed" if result.session.outcome == "completed" else "stopped"
            if resource.get("status") != status:
                raise entry.problem("status", resource.get("status"),
                                    f"{status!r} (the session's outcome is "
                                    f"{result.session.outcome!r})")
            row_key = keys.session_row_key(result.session)
            if row_key != key:
                raise entry.problem("identifier", key, f"the session's own key {row_key}")
            self.sessions[entry.index] = (result.session.id, key)
            (summary.created if result.created else summary.skipped)["Procedure"] += 1

    @staticmethod
    def dose(entry: Entry, column: str) -> float | None:
        """A dose figure in the unit stimwise stores it in (UCUM units converted)."""
        dose = next(d for d in codes.SESSION_DOSE if d.column == column)
        found = _extension_value(entry.resource, dose.code, "valueQuantity")
        if found is None:
            return None
        return _in_unit(entry, f"extension[{dose.code}].valueQuantity", found, dose.unit)

    def session_record(self, entry: Entry, pseudonym: str) -> dict[str, Any]:
        resource = entry.resource
        period = resource.get("performedPeriod") or {}
        record: dict[str, Any] = {
            column: _extension_value(resource, name, kind)
            for column, name, kind in SCALAR_SESSION_FIELDS
        }
        record.update({
            dose.column: self.dose(entry, dose.column)
            for dose in codes.SESSION_DOSE
            if dose.column not in ("frequency_hz", "phase_width_us")
        })
        bands = {}
        for found in _extensions(resource, "minutes-at-amplitude"):
            parts = {part["url"]: part for part in found.get("extension") or []}
            bands[(parts.get("band") or {}).get("valueString")] = (
                parts.get("minutes") or {}).get("valueDecimal")
        calibration = None
        found = _extensions(resource, "calibration")
        if found:
            parts = {part["url"]: part for part in found[0].get("extension") or []}
            calibration = {name: (parts.get(name) or {}).get(kind)
                           for name, kind in CALIBRATION_FIELDS}
        record.update({
            "patient_id": pseudonym,
            "started_at": _instant(entry, "performedPeriod.start", period.get("start")).isoformat(),
            "ended_at": None if period.get("end") is None else _instant(
                entry, "performedPeriod.end", period["end"]).isoformat(),
            "minutes_at_amplitude": bands,
            "calibration": calibration,
            "faults": [f.get("valueString") for f in _extensions(resource, "fault")],
        })
        return record

    # ---------------------------------------------------------------- diary

    def diary_in(self, summary: ImportSummary) -> None:
        from stimwise.records import repository as repo
        from stimwise.records.inputs import DiaryEntryIn

        stored = {row.entry_uuid for row in repo.list_diary(self.session, self.actor,
                                                              summary.pseudonym)}
        pending: list[tuple[Entry, Any]] = []
        recalled: list[tuple[Entry, Any, datetime]] = []
        for entry in self.of_type("Observation"):
            resource = entry.resource
            code = _coded(resource.get("code"), codes.STIMWISE_CODES)
            if code in SCORE_CODES:
                continue  # an instrument score: derived, recomputed from its response
            if code != codes.DIARY_ENTRY_CODE["code"]:
                raise entry.problem("code", code, "a diary entry or an instrument score of "
                                    f"{codes.STIMWISE_CODES}")
            self.check_subject(entry)
            uuid_text = _identifier(entry, "diary_entry")
            ratings = {
                _coded(c.get("code"), codes.STIMWISE_CODES): c.get("valueInteger")
                for c in resource.get("component") or []
            }
            unknown = sorted(str(c) for c in set(ratings) - RATING_CODES)
            if unknown:
                raise entry.problem("component.code", unknown[0], "one of the diary's ratings "
                                    f"({', '.join(sorted(RATING_CODES))})")
            data = _validated(entry, DiaryEntryIn, {
                "recorded_at": resource.get("effectiveDateTime"),
                "entry_uuid": uuid_text,
                "body_site": _coded(resource.get("bodySite"), codes.BODY_SITES),
                **{r.column: ratings.get(r.code) for r in codes.DIARY_RATINGS},
                "medication_changes": [
                    {part["url"]: part.get("valueString", part.get("valueCode"))
                     for part in change.get("extension") or []}
                    for change in _extensions(resource, "medication-change")
                ],
                "note": ((resource.get("note") or [{}])[0]).get("text"),
            })
            if uuid_text in stored:
                summary.skipped["Observation"] += 1
                continue
            stored.add(uuid_text)
            recalled_on = _extension_value(resource, "recalled-baseline", "valueDateTime")
            if recalled_on is not None:
                recalled.append((entry, data, _instant(
                    entry, "extension[recalled-baseline].valueDateTime", recalled_on)))
            else:
                pending.append((entry, data))
        if recalled:
            self._recalled_in(summary, recalled)
        if not pending:
            return
        try:  # one call: the repository checks and writes a batch far faster than one by one
            repo.add_diary_entries(self.session, self.actor, summary.pseudonym,
                                   [data for _, data in pending], now=self.now)
        except InputError as error:
            raise _batch_error([entry for entry, _ in pending], error) from None
        summary.created["Observation"] += len(pending)

    def _recalled_in(self, summary: ImportSummary,
                     recalled: list[tuple[Entry, Any, datetime]]) -> None:
        """Baseline days recalled afterwards: stored marked so, checked against the recall
        rules as of when they were recorded (records.baseline.import_recalled_entries)."""
        from stimwise.records.baseline import import_recalled_entries

        try:
            import_recalled_entries(self.session, self.actor, summary.pseudonym,
                                    [(data, on) for _, data, on in recalled], now=self.now)
        except InputError as error:
            raise _batch_error([entry for entry, _, _ in recalled], error) from None
        summary.created["Observation"] += len(recalled)

    # ---------------------------------------------------------------- instruments

    def instruments_in(self, summary: ImportSummary) -> None:
        from stimwise.clinical.instruments import INSTRUMENTS, InstrumentResponse
        from stimwise.records import repository as repo

        stored = {keys.instrument_key(row) for row in repo.list_instrument_scores(
            self.session, self.actor, summary.pseudonym)}
        for entry in self.of_type("QuestionnaireResponse"):
            self.check_subject(entry)
            resource = entry.resource
            key = _identifier(entry, "instrument_response")
            url, _, version = (resource.get("questionnaire") or "").partition("|")
            instrument = url.removeprefix(codes.questionnaire_url(""))
            if instrument not in INSTRUMENTS or url != codes.questionnaire_url(instrument):
                raise entry.problem("questionnaire", resource.get("questionnaire"),
                                    "the canonical URL|version of a stimwise instrument, e.g. "
                                    f"{codes.questionnaire_url('dn4')}|full")
            answers = {}
            for item in resource.get("item") or []:
                answer = (item.get("answer") or [{}])[0]
                coding = answer.get("valueCoding") or {}
                answers[item.get("linkId")] = next(
                    (answer[k] for k in ("valueBoolean", "valueInteger") if k in answer),
                    coding.get("code"),
                )
            authored = resource.get("authored")
            response = _validated(entry, InstrumentResponse, {
                "instrument": instrument, "version": version or None,
                "answered_on": None if authored is None else authored[:10],
                "answers": answers,
            })
            if key in stored:
                summary.skipped["QuestionnaireResponse"] += 1
                continue
            try:
                (row,) = repo.add_instrument_scores(self.session, self.actor, summary.pseudonym,
                                                    [response], now=self.now)
            except InputError as error:
                raise _within(entry, error) from None
            if keys.instrument_key(row) != key:
                raise entry.problem("identifier", key, "the identifier of the answers the "
                                    "response holds (its content was changed)")
            stored.add(key)
            summary.created["QuestionnaireResponse"] += 1

    # ---------------------------------------------------------------- adverse events

    def adverse_events_in(self, summary: ImportSummary) -> None:
        from stimwise.records import repository as repo
        from stimwise.records.inputs import AdverseEventIn
        from stimwise.records.sessions import list_sessions

        session_keys = {
            row.id: keys.session_row_key(row)
            for row in list_sessions(self.session, self.actor, summary.pseudonym)
        }
        stored = set()
        for row in repo.list_adverse_events(self.session, self.actor, summary.pseudonym):
            stored.add(keys.adverse_event_key(row, session_keys.get(row.session_id)))
        for entry in self.of_type("AdverseEvent"):
            self.check_subject(entry)
            resource = entry.resource
            key = _identifier(entry, "adverse_event")
            session_id, session_key = None, None
            if resource.get("suspectEntity"):
                index = self.target(entry, "suspectEntity[0].instance",
                                    resource["suspectEntity"][0].get("instance"), "Procedure")
                session_id, session_key = self.sessions[index]
            kind = (_coded(resource.get("event"), codes.STIMWISE_CODES) or "").removeprefix(
                "adverse-event-")
            data = _validated(entry, AdverseEventIn, {
                "occurred_at": resource.get("date"),
                "kind": kind,
                "severity": _coded(resource.get("severity"), codes.ADVERSE_EVENT_SEVERITY),
                "body_site": _extension_value(resource, "body-site", "valueString"),
                "description": _extension_value(resource, "description", "valueString"),
                "session_id": session_id,
            })
            if key in stored:
                summary.skipped["AdverseEvent"] += 1
                continue
            try:
                row = repo.add_adverse_event(self.session, self.actor, summary.pseudonym, data,
                                             now=self.now)
            except InputError as error:
                raise _within(entry, error) from None
            if keys.adverse_event_key(row, session_key) != key:
                raise entry.problem("identifier", key, "the identifier of the event the "
                                    "resource describes (its content was changed)")
            stored.add(key)
            summary.created["AdverseEvent"] += 1


def import_bundle(
    database, actor: Actor, document: Any, *, source: str | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Import a stimwise FHIR Bundle (a JSON text or parsed document) in one transaction.

    Returns what was created and what was already stored. Raises :class:`InputError` (nothing
    written) for a malformed bundle, naming the entry index and field, and
    :class:`~stimwise.records.access.AccessDeniedError` unless the actor may write clinical
    records.

    Examples
    --------
    A record moved from one database to another through FHIR:

    >>> import tempfile, pathlib
    >>> from datetime import date
    >>> from stimwise.interop import export_bundle, import_bundle
    >>> from stimwise.records import Actor, create_patient, open_database
    >>> from stimwise.records.inputs import PatientIn
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> clinician = Actor(username="dr-lee", role="clinician")
    >>> with open_database(f"sqlite:///{folder}/clinic-a.sqlite3") as database:
    ...     with database.transaction() as session:
    ...         _ = create_patient(session, clinician,
    ...                            PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 5)))
    ...     bundle = export_bundle(database, clinician, "P001")
    >>> with open_database(f"sqlite:///{folder}/clinic-b.sqlite3") as database:
    ...     summary = import_bundle(database, clinician, bundle)
    >>> summary.pseudonym, dict(summary.created)
    ('P001', {'Patient': 1})
    """
    from stimwise.records.access import require

    require(actor, "write_clinical")
    bundle = parse_bundle(document, source)
    try:
        with database.transaction() as session:
            importer = _Importer(session, actor, bundle, now)
            summary = importer.patient()
            importer.prescriptions_in(summary)
            importer.sessions_in(summary)
            importer.diary_in(summary)
            importer.instruments_in(summary)
            importer.adverse_events_in(summary)
    except InputError as error:
        raise InputError(error.problems, source=source) from None
    return summary

