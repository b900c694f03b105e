"""Every code system, code and unit the FHIR export uses, with its source.

A standard code is used only where its meaning was confirmed in a source named next to it (marks
as elsewhere in stimwise: [C] confirmed, [C-s] confirmed from a secondary source, [U]
unverified). Where no code could be confirmed, the concept gets a code in stimwise's own code
system (:data:`STIMWISE_CODES`) and the docs say so: an unverified LOINC or SNOMED code in a
health record is worse than an honest local one, because a receiving system would trust it.
"""

from __future__ import annotations

from dataclasses import dataclass

STIMWISE_BASE = "https://stimwise.org/fhir"
"""Base of stimwise's own URIs (code systems, identifier systems, extensions, questionnaires).
A namespace owned by the project, not a server that answers [U: stimwise's choice]."""

STIMWISE_CODES = f"{STIMWISE_BASE}/CodeSystem/stimwise"
"""stimwise's own code system for concepts with no confirmed standard code."""

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

LOINC_PAIN_SEVERITY_NRS = "72514-3"
"""LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported": 0 no pain, 10
worst pain imaginable [C-s: LOINC entry as quoted by HL7 Belgium's Patient Monitoring IG,
ValueSet pain-scale, https://build.fhir.org/ig/hl7-be/patient-monitoring/ValueSet-pain-scale.html
("See https://loinc.org/72514-3"), and https://www.healthassure.in/codes/loinc-72514-3-pain-
severity-0-10-verbal-numeric-rating-score-reported (status active, method "Reported")]. Used for
the diary's *current* pain only: whether LOINC has codes for "average" and "worst pain in the last
24 h" on this scale was not confirmed, so those carry stimwise codes."""

ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
"""FHIR's AdverseEventSeverity code system, codes ``mild``, ``moderate``, ``severe`` (the same
three words stimwise records) [C: https://hl7.org/fhir/R4B/valueset-adverse-event-severity.html;
the R4 page versions list the same system (hl7.org/fhir/2018Dec/codesystem-adverse-event-
severity.html)]."""

IDENTIFIER_SYSTEMS = {
    "pseudonym": f"{STIMWISE_BASE}/sid/pseudonym",
    "diary_entry": f"{STIMWISE_BASE}/sid/diary-entry",
    "session": f"{STIMWISE_BASE}/sid/session",
    "journal": f"{STIMWISE_BASE}/sid/journal-sha256",
    "prescription": f"{STIMWISE_BASE}/sid/prescription",
    "adverse_event": f"{STIMWISE_BASE}/sid/adverse-event",
    "instrument_response": f"{STIMWISE_BASE}/sid/instrument-response",
    "instrument_score": f"{STIMWISE_BASE}/sid/instrument-score",
    "export": f"{STIMWISE_BASE}/sid/export",
    "device_profile": f"{STIMWISE_BASE}/sid/device-profile",
    "self_logged_session": f"{STIMWISE_BASE}/sid/self-logged-session",
}
"""Identifier systems of stimwise's records: an identifier (system, value) names one record in
any database, so that importing a bundle twice adds nothing the second time."""

EXPORT_FORMAT_TAG = {"system": f"{STIMWISE_BASE}/CodeSystem/export-format", "code": "r4-1"}
"""``Bundle.meta.tag`` naming the layout of this export (FHIR R4, layout version 1), so that a
later importer can recognise and refuse a layout it does not read."""


BODY_SITES = f"{STIMWISE_BASE}/CodeSystem/body-site"
"""stimwise's body-site and site-selector names (``stimwise schema body-sites``); SNOMED CT body
structure codes were not mapped [U]."""


def answer_system(instrument: str) -> str:
    """Code system of an instrument's answer option ids (e.g. ``much_improved`` of the PGIC)."""
    return f"{STIMWISE_BASE}/CodeSystem/{instrument}-answers"


def extension_url(name: str) -> str:
    """The URL of one of stimwise's extensions (defined in ``docs/interop.md``)."""
    return f"{STIMWISE_BASE}/StructureDefinition/{name}"


def questionnaire_url(instrument: str) -> str:
    """Canonical URL of the Questionnaire of one instrument (item ids only, no wording)."""
    return f"{STIMWISE_BASE}/Questionnaire/{instrument}"


def stimwise_coding(code: str, display: str) -> dict[str, str]:
    return {"system": STIMWISE_CODES, "code": code, "display": display}


@dataclass(frozen=True)
class Rating:
    """A 0-10 diary rating: the record's column and the codes of its Observation component."""

    column: str
    code: str
    display: str
    loinc: str | None = None


DIARY_RATINGS = (
    Rating("pain_current_nrs", "pain-current-nrs", "Pain now, 0-10 NRS", LOINC_PAIN_SEVERITY_NRS),
    Rating("pain_average_nrs", "pain-average-nrs", "Average pain in the last 24 h, 0-10 NRS"),
    Rating("pain_worst_nrs", "pain-worst-nrs", "Worst pain in the last 24 h, 0-10 NRS"),
    Rating("sleep_interference_nrs", "sleep-interference-nrs", "Sleep interference, 0-10"),
    Rating("function_interference_nrs", "function-interference-nrs",
           "Interference with daily function, 0-10"),
)
"""The diary's ratings (their scales: ``stimwise.records.inputs``)."""

DIARY_ENTRY_CODE = stimwise_coding("diary-entry", "stimwise symptom diary entry")
SESSION_CODE = stimwise_coding(
    "electrical-stimulation-session", "Transcutaneous electrical stimulation session"
)
PRESCRIPTION_CODE = stimwise_coding(
    "electrical-stimulator", "Transcutaneous electrical stimulator, prescribed settings"
)
ADVERSE_EVENT_KIND_DISPLAY = {
    "skin_irritation": "Skin irritation under an electrode",
    "burn": "Burn under an electrode",
    "flare": "Pain flare",
    "soreness": "Muscle soreness",
    "other": "Other adverse event",
}
"""stimwise codes for the adverse-event kinds the record knows (no standard code confirmed)."""


@dataclass(frozen=True)
class Dose:
    """One numeric dose figure: the record's column, its extension or parameter code and its
    UCUM unit (UCUM codes: s second, mA milliampere, uC microcoulomb, Hz hertz, us microsecond,
    min minute [C-s: UCUM, https://ucum.org/ucum, prefix "u" = micro])."""

    column: str
    code: str
    unit: str


SESSION_DOSE = (
    Dose("stimulation_s", "stimulation-duration", "s"),
    Dose("max_amplitude_ma", "max-amplitude", "mA"),
    Dose("mean_amplitude_ma", "mean-amplitude", "mA"),
    Dose("max_charge_per_phase_uc", "max-charge-per-phase", "uC"),
    Dose("frequency_hz", "pulse-frequency", "Hz"),
    Dose("phase_width_us", "phase-width", "us"),
)
"""What a delivered session's Procedure carries as dose extensions (valueQuantity)."""

PRESCRIPTION_PARAMETERS = (
    Dose("frequency_hz", "pulse-frequency", "Hz"),
    Dose("phase_width_us", "phase-width", "us"),
    Dose("max_amplitude_ma", "amplitude-cap", "mA"),
    Dose("session_duration_min", "session-duration", "min"),
)
"""What a prescription's DeviceRequest carries as ``parameter`` entries (valueQuantity)."""

LOCKED_RANGE_UNITS = {
    "amplitude_ma": "mA",
    "frequency_hz": "Hz",
    "phase_width_us": "us",
    "session_duration_min": "min",
}
"""Home-adjustable ranges (``LockedRanges``), each a ``parameter`` with a valueRange."""


def quantity(value: float, unit: str) -> dict[str, object]:
    """A UCUM Quantity."""
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


UCUM_FACTORS: dict[str, dict[str, float]] = {
    "mA": {"A": 1e3, "mA": 1.0, "uA": 1e-3, "nA": 1e-6},
    "uC": {"C": 1e6, "mC": 1e3, "uC": 1.0, "nC": 1e-3},
    "s": {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6},
    "min": {"h": 60.0, "min": 1.0, "s": 1 / 60},
    "us": {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3},
    "Hz": {"kHz": 1e3, "Hz": 1.0},
}
"""For each unit stimwise stores (:data:`SESSION_DOSE`), the UCUM codes an imported quantity
may carry and the factor that turns a value in that code into the stored unit. UCUM prefixes
k = 10³, m = 10⁻³, u = 10⁻⁶ (printed µ), n = 10⁻⁹; ``min`` = 60 s, ``h`` = 60 min
[C-s: UCUM, https://ucum.org/ucum, prefixes table and "time" units]. Any other code is refused."""
