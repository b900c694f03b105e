"""The intake: what a clinician records about a person before stimulation is considered.

Safety-relevant answers are required fields with no default, and yes/no questions take a third
answer, ``unknown``. A list question (implants, thromboses, skin findings...) is answered with
its entries, ``[]`` for none, or the word ``unknown`` (``implants: unknown``). A file that leaves a
safety question out is rejected; a question answered ``unknown`` is screened as if the answer
could be yes (missing is never "no").

Format versions: ``schema_version: 2`` is the current format and requires every safety question,
including those added in version 2 (:data:`FORMAT_2_QUESTIONS`: arterial disease, anticoagulant
therapy, worn devices, radiotherapy, cognition, carer, Parkinson's disease). Files of version 1
(the default, for files written before version 2) stay valid: the questions version 1 did not
ask are ``None`` ("not asked") and the screening asks for them in its required actions
(:attr:`Intake.not_asked`).

Every field carries a ``title`` (the words a page shows); choices are worded in
:mod:`stimwise.clinical.labels`.

Places are written as site selectors from :mod:`stimwise.protocol.body_sites`: a site
(``left_calf``), a limb segment (``left_foot``), a whole limb (``left_lower_limb``) or a body
region (``thorax``). Electrode placements use the same site names, so a finding and a placement
always talk about the same place.

The record is pseudonymous: ``patient_id`` is a study or clinic code. Names, dates of birth and
contact details belong in the separable identity store of the records layer, never here.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stimwise.arguments import check_type
from stimwise.clinical.instruments import InstrumentResponse, answer_problems
from stimwise.protocol.base import Int, PastDate, StrictChoice, StrictModel, field_contradictions
from stimwise.protocol.body_sites import SELECTOR_NAMES, expand_sites
from stimwise.protocol.io import load_model_file, register_union_tags

__all__ = [
    "FORMAT_2_QUESTIONS",
    "LIST_QUESTIONS",
    "UNKNOWN",
    "AllodyniaAnswer",
    "AllodyniaFinding",
    "ArrhythmiaKind",
    "ArterialAnswer",
    "ArterialDisease",
    "CardiacHistory",
    "Carer",
    "Clearance",
    "Cognition",
    "CrpsDiagnosis",
    "DiagnosesAnswer",
    "Diagnosis",
    "Goal",
    "HomeUse",
    "Implant",
    "ImplantKind",
    "ImplantsAnswer",
    "Intake",
    "MalignanciesAnswer",
    "Malignancy",
    "MalignancyTreatment",
    "NeuropathyDiagnosis",
    "OtherDiagnosis",
    "Radiotherapy",
    "RadiotherapyAnswer",
    "SensationAnswer",
    "SensationFinding",
    "SiteSelector",
    "SkinAnswer",
    "SkinFinding",
    "SkinFindingKind",
    "SurgeriesAnswer",
    "SurgeryOrFracture",
    "ThrombosesAnswer",
    "Thrombosis",
    "WornDevice",
    "WornDeviceKind",
    "WornDevicesAnswer",
    "YesNoUnknown",
    "check_intake",
    "load_intake",
    "unknown_or",
]

YesNoUnknown = Literal["yes", "no", "unknown"]
UNKNOWN = "unknown"
"""The answer to any question, list questions included, whose answer is not known."""


def _known_selector(name: str) -> str:
    if name not in SELECTOR_NAMES:
        raise ValueError(
            f"unknown body site {name!r}; use a site, limb segment or region listed by "
            "`stimwise schema site-selectors` (e.g. 'left_calf', 'left_foot', "
            "'left_lower_limb', 'thorax')"
        )
    return name


SiteSelector = Annotated[str, AfterValidator(_known_selector)]


def _only_unknown(value: object) -> object:
    if value != UNKNOWN:
        raise ValueError("a list of entries ([] for none) or the word 'unknown'")
    return value


def _listed_or_unknown(value: object) -> str:
    return "answered_unknown" if isinstance(value, str) else "listed"


def unknown_or(list_type: Any) -> Any:
    """The type of a list question's answer: the list (``[]`` for none) or ``"unknown"``.

    A callable discriminator validates only the branch the input asks for, so a bad entry is
    reported at its own path (``implants.0.kind``), and a word other than ``unknown`` gets one
    plain message instead of one per union member.
    """
    return Annotated[
        Annotated[list_type, Tag("listed")]
        | Annotated[Literal["unknown"], BeforeValidator(_only_unknown), Tag("answered_unknown")],
        Discriminator(_listed_or_unknown),
    ]


register_union_tags("listed", "answered_unknown")


# --------------------------------------------------------------------------- diagnoses


_AFFECTED = "Affected places"


class CrpsDiagnosis(StrictModel):
    """Complex regional pain syndrome; type II has a confirmed nerve lesion."""

    model_config = ConfigDict(title="Complex regional pain syndrome (CRPS)")

    kind: Literal["crps"] = Field(default="crps", title="Kind of diagnosis")
    crps_type: Literal["I", "II"] = Field(title="CRPS type")
    affected_sites: tuple[SiteSelector, ...] = Field(min_length=1, title=_AFFECTED)


class NeuropathyDiagnosis(StrictModel):
    """Peripheral neuropathy and its cause."""

    model_config = ConfigDict(title="Peripheral neuropathy")

    kind: Literal["neuropathy"] = Field(default="neuropathy", title="Kind of diagnosis")
    cause: Literal["diabetic", "chemotherapy_induced", "other", "unknown"] = Field(
        title="Cause of the neuropathy")
    affected_sites: tuple[SiteSelector, ...] = Field(min_length=1, title=_AFFECTED)
    painful: YesNoUnknown = Field(default="unknown", title="Painful neuropathy")


class OtherDiagnosis(StrictModel):
    """Any other diagnosis that explains pain at some sites (e.g. chronic low back pain)."""

    model_config = ConfigDict(title="Other diagnosis")

    kind: Literal["other"] = Field(default="other", title="Kind of diagnosis")
    description: str = Field(min_length=3, max_length=200, title="Diagnosis")
    affected_sites: tuple[SiteSelector, ...] = Field(default=(), title=_AFFECTED)


Diagnosis = Annotated[
    CrpsDiagnosis | NeuropathyDiagnosis | OtherDiagnosis, Field(discriminator="kind")
]
register_union_tags(*(m.model_fields["kind"].default for m in get_args(get_args(Diagnosis)[0])))

# --------------------------------------------------------------------------- history

ImplantKind = Literal[
    "demand_pacemaker",
    "icd",
    "wearable_defibrillator",
    "spinal_cord_stimulator",
    "drg_stimulator",
    "deep_brain_stimulator",
    "vagus_nerve_stimulator",
    "other_neurostimulator",
    "drug_pump",
    "cochlear_implant",
    "metal_implant",
]


class Implant(StrictModel):
    """An implanted device. A device in two parts (a generator and its leads or electrode, as
    deep brain, vagus-nerve and spinal cord stimulators are) records both places: electrodes are
    kept away from each."""

    model_config = ConfigDict(title="Implant")

    kind: ImplantKind = Field(title="Kind of implant")
    site: SiteSelector = Field(
        title="Where it sits",
        description="Where it sits (or its region, e.g. 'thorax' for a wearable defibrillator): "
        "screening keeps electrodes away from it, so it is required. For a device in two parts, "
        "where the generator (battery) sits.",
    )
    lead_sites: tuple[SiteSelector, ...] = Field(
        default=(),
        title="Where its leads or electrodes run",
        description="For a device in two parts: where its leads, extension wires or stimulating "
        "electrode lie (e.g. head and neck for a deep brain stimulator, front of the neck for a "
        "vagus-nerve stimulator, the thoracic midline for a spinal cord stimulator).",
    )
    note: str | None = Field(default=None, max_length=200, title="Note")


ArrhythmiaKind = Literal[
    "atrial_fibrillation",
    "other_supraventricular",
    "ventricular",
    "bradycardia_or_heart_block",
    "other",
    "unknown",
]


class CardiacHistory(StrictModel):
    model_config = ConfigDict(title="Heart")

    arrhythmia: YesNoUnknown = Field(title="Arrhythmia (irregular heart rhythm)")
    arrhythmia_kind: ArrhythmiaKind | None = Field(
        default=None, title="Kind of arrhythmia",
        description="Recorded with an arrhythmia; shown in the screening's reasons.")
    heart_failure: YesNoUnknown = Field(title="Heart failure")
    recent_myocardial_infarction: YesNoUnknown = Field(
        title="Recent heart attack (myocardial infarction)")
    myocardial_infarction_on: date | None = Field(
        default=None, title="Date of the last heart attack",
        description="When known: a heart attack within the interval the rule CI-RECENT-MI names "
        "counts as recent whatever the yes/no answer says.")


class Thrombosis(StrictModel):
    model_config = ConfigDict(title="Thrombosis")

    kind: Literal["dvt", "thrombophlebitis"] = Field(title="Kind of thrombosis")
    status: Literal["active", "past"] = Field(title="Active or past")
    site: SiteSelector = Field(title="Where")
    occurred_on: date | None = Field(
        default=None, title="When it occurred",
        description="Recorded for the history; a past DVT restricts its area however long ago.")


MalignancyTreatment = Literal[
    "surgery", "chemotherapy", "radiotherapy", "immunotherapy", "hormonal", "other"
]


class Malignancy(StrictModel):
    model_config = ConfigDict(title="Cancer")

    site: SiteSelector = Field(title="Where")
    status: Literal["active", "suspected", "in_remission"] = Field(title="Status")
    treatments: tuple[MalignancyTreatment, ...] = Field(default=(), title="Treatments")
    radiotherapy_ended_on: date | None = Field(
        default=None, title="Radiotherapy ended on",
        description="Last radiotherapy fraction; the irradiated rule uses it.")
    irradiated_sites: tuple[SiteSelector, ...] = Field(
        default=(), title="Irradiated places",
        description="Radiotherapy field; defaults to the tumour site.")
    palliative_care: bool = Field(default=False, title="Palliative care")


class Radiotherapy(StrictModel):
    """A course of radiotherapy recorded on its own, e.g. for a benign condition or a cancer
    not recorded under malignancies."""

    model_config = ConfigDict(title="Radiotherapy course")

    sites: tuple[SiteSelector, ...] = Field(min_length=1, title="Irradiated places")
    ended_on: date | None = Field(
        default=None, title="Last treatment on",
        description="An end date not recorded counts as recent.")
    reason: str | None = Field(default=None, max_length=200, title="Reason")


SkinFindingKind = Literal[
    "open_wound",
    "infection",
    "irritation",
    "dermatitis",
    "eczema",
    "swelling",
    "lymphoedema",
    "scar",
    "trophic_changes",
]


class SkinFinding(StrictModel):
    model_config = ConfigDict(title="Skin or tissue finding")

    site: SiteSelector = Field(title="Where")
    finding: SkinFindingKind = Field(title="Finding")


class SensationFinding(StrictModel):
    """Sensation at a site, e.g. 10 g monofilament, pinprick or the MNSI examination."""

    model_config = ConfigDict(title="Sensation test")

    site: SiteSelector = Field(title="Where")
    status: Literal["normal", "reduced", "absent"] = Field(title="Sensation")
    method: Literal[
        "monofilament", "pinprick", "vibration", "light_touch", "mnsi_examination", "clinical"
    ] = Field(default="clinical", title="How it was tested")


class AllodyniaFinding(StrictModel):
    model_config = ConfigDict(title="Allodynia")

    site: SiteSelector = Field(title="Where")
    stimulus: Literal["light_touch", "pressure", "cold", "movement", "unspecified"] = Field(
        default="unspecified", title="What provokes the pain")


class SurgeryOrFracture(StrictModel):
    model_config = ConfigDict(title="Surgery or fracture")

    site: SiteSelector = Field(title="Where")
    kind: Literal["surgery", "fracture"] = Field(title="Surgery or fracture")
    occurred_on: date | None = Field(default=None, title="When")
    healing: Literal["healing", "healed", "unknown"] = Field(title="Healing")


class ArterialDisease(StrictModel):
    """Impaired arterial circulation (e.g. peripheral arterial disease) in an area."""

    model_config = ConfigDict(title="Impaired arterial circulation")

    site: SiteSelector = Field(title="Where")
    severity: Literal["not_severe", "severe", "unknown"] = Field(
        title="Severity",
        description="Severe: rest pain, ulcers or gangrene, critical ischaemia, or a "
        "specialist's grading as serious.")


WornDeviceKind = Literal["insulin_pump", "infusion_set", "glucose_sensor", "other_electronic"]


class WornDevice(StrictModel):
    """An external device worn on or through the skin."""

    model_config = ConfigDict(title="Worn device")

    kind: WornDeviceKind = Field(title="Kind of device")
    site: SiteSelector = Field(title="Where it is worn")
    note: str | None = Field(default=None, max_length=200, title="Note")


class HomeUse(StrictModel):
    """How the person would use a home stimulator; sleep and driving are never allowed."""

    model_config = ConfigDict(title="Home use")

    planned: bool = Field(title="Home use planned")
    during_sleep: YesNoUnknown = Field(default="unknown", title="Would use it while asleep")
    while_driving_or_operating_machinery: YesNoUnknown = Field(
        default="unknown", title="Would use it while driving or operating machinery")


class Clearance(StrictModel):
    """A specialist's recorded opinion that lifts one clearance-type screening rule."""

    model_config = ConfigDict(title="Clearance")

    rule_id: str = Field(min_length=3, title="Rule cleared")
    cleared_by: str = Field(min_length=2, max_length=120, title="Cleared by",
                            description="Who gave the clearance.")
    role: str = Field(min_length=2, max_length=80, title="Role", description="e.g. cardiologist.")
    cleared_on: date = Field(title="Cleared on")
    note: str | None = Field(default=None, max_length=500, title="Note")


Goal = Literal["pain_relief", "function", "sleep", "muscle_strength", "circulation"]
Cognition = Literal["intact", "impaired", "dementia", "unknown"]
Carer = Literal["none", "present", "supervises", "unknown"]

ImplantsAnswer = unknown_or(tuple[Implant, ...])
ThrombosesAnswer = unknown_or(tuple[Thrombosis, ...])
MalignanciesAnswer = unknown_or(tuple[Malignancy, ...])
RadiotherapyAnswer = unknown_or(tuple[Radiotherapy, ...])
SkinAnswer = unknown_or(tuple[SkinFinding, ...])
SensationAnswer = unknown_or(tuple[SensationFinding, ...])
AllodyniaAnswer = unknown_or(tuple[AllodyniaFinding, ...])
SurgeriesAnswer = unknown_or(tuple[SurgeryOrFracture, ...])
ArterialAnswer = unknown_or(tuple[ArterialDisease, ...])
WornDevicesAnswer = unknown_or(tuple[WornDevice, ...])
DiagnosesAnswer = unknown_or(tuple[Diagnosis, ...])

LIST_QUESTIONS: tuple[str, ...] = (
    "diagnoses",
    "implants",
    "thromboses",
    "malignancies",
    "radiotherapy",
    "skin",
    "sensation",
    "allodynia",
    "surgeries_and_fractures",
    "arterial_disease",
    "external_devices",
)
"""Intake fields answered with a list, ``[]`` for none, or ``unknown``."""

FORMAT_2_QUESTIONS: tuple[str, ...] = (
    "arterial_disease",
    "anticoagulant_therapy",
    "external_devices",
    "radiotherapy",
    "cognition",
    "carer",
    "parkinsons_disease",
)
"""Safety questions that format version 2 requires and version 1 did not ask."""

# --------------------------------------------------------------------------- intake


class Intake(StrictModel):
    """Everything the screening and the recommendation need about one person.

    Read one from a file with :func:`load_intake`; ``stimwise schema patient`` prints the
    format, and ``examples/patients`` holds filled-in files.

    Examples
    --------
    >>> import stimwise as sw
    >>> intake = sw.load_intake(sw.example_patient_path("crps-allodynia"))
    >>> intake.patient_id, intake.age_years, intake.pregnancy
    ('DEMO-CRPS-01', 46, 'not_pregnant')
    """

    model_config = ConfigDict(
        title="Intake",
        json_schema_extra={
            "if": {"properties": {"schema_version": {"const": 2}},
                   "required": ["schema_version"]},
            "then": {"required": list(FORMAT_2_QUESTIONS)},
        },
    )

    schema_version: Annotated[Literal[1, 2], StrictChoice] = Field(
        default=1, title="Format version",
        description="2 is the current format; 1 (the default) is kept for older files.")
    patient_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$",
        title="Pseudonym",
        description="Pseudonymous code; never a name.",
    )
    assessed_on: PastDate = Field(
        title="Assessed on",
        description="Day of the assessment: not in the future, and every dated event of the "
        "intake lies on or before it.",
    )
    age_years: Int = Field(ge=0, le=120, title="Age (years)")
    sex: Literal["female", "male", "intersex", "unknown"] = Field(title="Sex")
    sex_note: str | None = Field(
        default=None, max_length=300, title="Note on sex",
        description="Explains answers that look contradictory.")
    pregnancy: Literal["pregnant", "possible", "not_pregnant", "not_applicable", "unknown"] = (
        Field(title="Pregnancy"))
    gestational_age_weeks: Int | None = Field(
        default=None, ge=0, le=45, title="Weeks of pregnancy",
        description="Gestational age in completed weeks, when pregnant.")
    diagnoses: DiagnosesAnswer = Field(title="Diagnoses")
    pain_sites: tuple[SiteSelector, ...] = Field(
        default=(), title="Other painful places",
        description="Where the person has pain (beyond the diagnoses' sites).")
    parkinsons_disease: YesNoUnknown | None = Field(
        default=None, title="Parkinson's disease", validate_default=True)
    implants: ImplantsAnswer = Field(title="Implants")
    external_devices: WornDevicesAnswer | None = Field(
        default=None, title="Worn devices (insulin pump, infusion set, glucose sensor)",
        validate_default=True)
    cardiac: CardiacHistory = Field(title="Heart")
    epilepsy: YesNoUnknown = Field(title="Epilepsy")
    seizure_control: Literal["controlled", "uncontrolled", "unknown"] | None = Field(
        default=None, title="Seizure control", description="Recorded with epilepsy.")
    thromboses: ThrombosesAnswer = Field(title="Thromboses (DVT, thrombophlebitis)")
    arterial_disease: ArterialAnswer | None = Field(
        default=None, title="Impaired arterial circulation (e.g. peripheral arterial disease)",
        validate_default=True)
    malignancies: MalignanciesAnswer = Field(title="Cancer")
    radiotherapy: RadiotherapyAnswer | None = Field(
        default=None, title="Radiotherapy not recorded under cancer", validate_default=True)
    skin: SkinAnswer = Field(title="Skin and tissue findings")
    sensation: SensationAnswer = Field(title="Sensation tests")
    allodynia: AllodyniaAnswer = Field(title="Allodynia (pain from touch)")
    can_report_sensations: YesNoUnknown = Field(
        title="Can report what they feel",
        description="Cognition and communication allow the person to report what they feel."
    )
    cognition: Cognition | None = Field(
        default=None, title="Memory and thinking (cognition)", validate_default=True,
        description="Impaired cognition or dementia, beyond whether the person can report "
        "sensations.")
    carer: Carer | None = Field(
        default=None, title="Carer", validate_default=True,
        description="Whether a carer is present, and whether they supervise every session.")
    bleeding_tendency: Literal["no", "controlled", "untreated", "unknown"] = Field(
        title="Bleeding tendency")
    anticoagulant_therapy: YesNoUnknown | None = Field(
        default=None, title="Takes anticoagulants (blood thinners)", validate_default=True)
    surgeries_and_fractures: SurgeriesAnswer = Field(title="Surgery and fractures")
    home_use: HomeUse = Field(title="Home use")
    goals: tuple[Goal, ...] = Field(default=("pain_relief",), min_length=1, title="Goals")
    instruments: tuple[InstrumentResponse, ...] = Field(default=(), title="Questionnaires")
    clearances: tuple[Clearance, ...] = Field(default=(), title="Specialist clearances")

    @field_validator(*FORMAT_2_QUESTIONS)
    @classmethod
    def _asked_in_format_2(cls, value: object, info: ValidationInfo) -> object:
        """Format 2 requires its questions; only a format 1 file may leave them out."""
        if value is None and info.data.get("schema_version") == 2:
            raise ValueError("a value (this field is required in format 2; 'unknown' when not "
                             "known)")
        return value

    @field_validator("instruments")
    @classmethod
    def _answers_valid(
        cls, responses: tuple[InstrumentResponse, ...]
    ) -> tuple[InstrumentResponse, ...]:
        """Every missing, unknown or invalid instrument answer, at its own path (checked here,
        not after the whole model, so they are reported together with other field errors)."""
        problems = []
        for index, response in enumerate(responses):
            for problem in answer_problems(response):
                parts = [int(p) if p.isdigit() else p for p in problem.path.split(".")]
                problems.append(((index, *parts), problem.value, problem.expected))
        if problems:
            raise field_contradictions("Intake", problems)
        return responses

    @model_validator(mode="after")
    def _consistent(self) -> Intake:
        problems = [
            *self._pregnancy_contradictions(),
            *self._detail_without_its_answer(),
            *self._sensation_contradictions(),
            *self._dates_after_assessment(),
            *self._duplicate_clearances(),
        ]
        if problems:
            raise field_contradictions("Intake", problems)
        return self

    def _pregnancy_contradictions(self) -> list:
        if self.pregnancy in ("pregnant", "possible") and self.sex == "male" and not self.sex_note:
            return [
                (
                    ("pregnancy",),
                    self.pregnancy,
                    "an explanation in sex_note when a person coded male may be pregnant "
                    "(or correct sex or pregnancy)",
                )
            ]
        return []

    def _detail_without_its_answer(self) -> list:
        """A detail that only makes sense with a "yes" (the weeks of a pregnancy, the kind of an
        arrhythmia, the control of seizures) contradicts an answer of "no"."""
        details = (
            (("gestational_age_weeks",), self.gestational_age_weeks, self.pregnancy,
             ("pregnant", "possible"), "pregnancy 'pregnant' or 'possible'"),
            (("cardiac", "arrhythmia_kind"), self.cardiac.arrhythmia_kind,
             self.cardiac.arrhythmia, ("yes", "unknown"), "cardiac.arrhythmia 'yes'"),
            (("seizure_control",), self.seizure_control, self.epilepsy, ("yes", "unknown"),
             "epilepsy 'yes'"),
        )
        return [
            (loc, value, f"no value, or {needs} (the answer there is {answer!r})")
            for loc, value, answer, allowed, needs in details
            if value is not None and answer not in allowed
        ]

    def _dates_after_assessment(self) -> list:
        """Events recorded as happening after the assessment are typos, not plans."""
        dated = [
            (("cardiac", "myocardial_infarction_on"), self.cardiac.myocardial_infarction_on),
            *((("malignancies", i, "radiotherapy_ended_on"), m.radiotherapy_ended_on)
              for i, m in enumerate(self.entries("malignancies"))),
            *((("radiotherapy", i, "ended_on"), r.ended_on)
              for i, r in enumerate(self.entries("radiotherapy"))),
            *((("thromboses", i, "occurred_on"), t.occurred_on)
              for i, t in enumerate(self.entries("thromboses"))),
            *((("surgeries_and_fractures", i, "occurred_on"), s.occurred_on)
              for i, s in enumerate(self.entries("surgeries_and_fractures"))),
            *((("clearances", i, "cleared_on"), c.cleared_on)
              for i, c in enumerate(self.clearances)),
        ]
        return [
            (loc, day.isoformat(), f"a date on or before assessed_on ({self.assessed_on})")
            for loc, day in dated
            if day is not None and day > self.assessed_on
        ]

    def _duplicate_clearances(self) -> list:
        seen: dict[str, int] = {}
        problems = []
        for index, clearance in enumerate(self.clearances):
            if clearance.rule_id in seen:
                problems.append(
                    (("clearances", index, "rule_id"), clearance.rule_id,
                     f"one clearance per rule (clearances.{seen[clearance.rule_id]} already "
                     "clears it)")
                )
            seen.setdefault(clearance.rule_id, index)
        return problems

    def _sensation_contradictions(self) -> list:
        seen: dict[str, dict[str, int]] = defaultdict(dict)
        problems = []
        for index, finding in enumerate(self.entries("sensation")):
            for site in expand_sites(finding.site):
                earlier = seen[site]
                clash = {"normal": "absent", "absent": "normal"}.get(finding.status)
                if clash in earlier:
                    problems.append(
                        (
                            ("sensation", index, "status"),
                            finding.status,
                            f"one sensation status per site: sensation.{earlier[clash]} "
                            f"says {clash!r} at {site}",
                        )
                    )
                    break
                earlier.setdefault(finding.status, index)
        return problems

    # ----------------------------------------------------------------- derived views

    def entries(self, question: str) -> tuple:
        """The entries of a list question: ``()`` when it was answered ``unknown`` or not asked
        (check :meth:`answered_unknown` and :attr:`not_asked` before reading ``()`` as none)."""
        value = getattr(self, question)
        return () if value is None or value == UNKNOWN else value

    def answered_unknown(self, question: str) -> bool:
        """Whether a question (a list question included) was answered ``unknown``."""
        return getattr(self, question) == UNKNOWN

    @property
    def not_asked(self) -> tuple[str, ...]:
        """Format 2 questions this intake does not answer (only possible in format 1)."""
        return tuple(q for q in FORMAT_2_QUESTIONS if getattr(self, q) is None)

    @property
    def diagnosed_sites(self) -> frozenset[str]:
        selectors = (s for d in self.entries("diagnoses") for s in d.affected_sites)
        return frozenset().union(*(expand_sites(s) for s in selectors))

    @property
    def allodynic_sites(self) -> frozenset[str]:
        return frozenset().union(*(expand_sites(a.site) for a in self.entries("allodynia")))

    def sensation_at(self, site: str) -> str | None:
        """``normal``, ``reduced``, ``absent`` or ``None`` when not tested (worst finding wins)."""
        order = {"normal": 0, "reduced": 1, "absent": 2}
        found = [f.status for f in self.entries("sensation") if site in expand_sites(f.site)]
        return max(found, key=order.__getitem__) if found else None


def load_intake(path: str | os.PathLike[str]) -> Intake:
    """Read and validate an intake file (YAML or JSON).

    Parameters
    ----------
    path
        The file; ``stimwise schema patient`` prints its format.

    Returns
    -------
    Intake
        Validated: every safety question answered (``unknown`` is an answer).

    Raises
    ------
    InputError
        A missing, unreadable or malformed file, or invalid answers; the message names every
        field that is wrong, its value and what was expected.

    Examples
    --------
    >>> import stimwise as sw
    >>> intake = sw.load_intake(sw.example_patient_path("diabetic-neuropathy-insensate-feet"))
    >>> intake.patient_id
    'DEMO-DPN-02'
    >>> sw.load_intake("no-such-file.yaml")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input in no-such-file.yaml (1 problem): file: got
    'no-such-file.yaml'; expected an existing YAML or JSON file
    """
    check_type(path, (str, os.PathLike), function="load_intake", name="path")
    return load_model_file(Intake, Path(path))


def check_intake(value: object, function: str) -> None:
    """Refuse anything but a loaded :class:`Intake`, saying how to load one.

    Examples
    --------
    >>> from stimwise.clinical.intake import check_intake
    >>> check_intake("crps.yaml", "screen")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: screen() expects intake to be an Intake, got str
    'crps.yaml'; load it first with stimwise.load_intake('crps.yaml')
    """
    hint = None
    if isinstance(value, str | os.PathLike):
        hint = f"load it first with stimwise.load_intake({str(value)!r})"
    elif isinstance(value, dict):
        hint = "validate it first with stimwise.Intake.model_validate(data)"
    check_type(value, Intake, function=function, name="intake", hint=hint)
