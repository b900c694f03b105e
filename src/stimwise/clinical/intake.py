"""The intake: what a clinician records about a person before stimulation is considered.

Safety-relevant answers are required fields with no default, and yes/no questions take a third
answer, ``unknown``. A file that leaves a safety question out is rejected; a question answered
``unknown`` is screened as if the answer could be yes (missing is never "no").

Places are written as site selectors from :mod:`stimwise.protocol.body_sites`: a site
(``left_calf``), a limb segment (``left_foot``), a whole limb (``left_lower_limb``) or a body
region (``thorax``). Electrode placements use the same site names, so a finding and a placement
always talk about the same place.

The record is pseudonymous: ``patient_id`` is a study or clinic code. Names, dates of birth and
contact details belong in the separable identity store of the records layer, never here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, field_validator, model_validator

from stimwise.clinical.instruments import InstrumentResponse, answer_problems
from stimwise.protocol.base import Int, PastDate, StrictModel, field_contradictions
from stimwise.protocol.body_sites import SELECTOR_NAMES, expand_sites
from stimwise.protocol.io import register_union_tags

YesNoUnknown = Literal["yes", "no", "unknown"]


def _known_selector(name: str) -> str:
    if name not in SELECTOR_NAMES:
        raise ValueError(
            f"unknown body site {name!r}; use a site, limb segment or region listed by "
            "`stimwise schema site-selectors` (e.g. 'left_calf', 'left_foot', "
            "'left_lower_limb', 'thorax')"
        )
    return name


SiteSelector = Annotated[str, AfterValidator(_known_selector)]


# --------------------------------------------------------------------------- diagnoses


class CrpsDiagnosis(StrictModel):
    """Complex regional pain syndrome; type II has a confirmed nerve lesion."""

    kind: Literal["crps"] = "crps"
    crps_type: Literal["I", "II"]
    affected_sites: tuple[SiteSelector, ...] = Field(min_length=1)


class NeuropathyDiagnosis(StrictModel):
    """Peripheral neuropathy and its cause."""

    kind: Literal["neuropathy"] = "neuropathy"
    cause: Literal["diabetic", "chemotherapy_induced", "other", "unknown"]
    affected_sites: tuple[SiteSelector, ...] = Field(min_length=1)
    painful: YesNoUnknown = "unknown"


class OtherDiagnosis(StrictModel):
    """Any other diagnosis that explains pain at some sites (e.g. chronic low back pain)."""

    kind: Literal["other"] = "other"
    description: str = Field(min_length=3, max_length=200)
    affected_sites: tuple[SiteSelector, ...] = ()


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
    "other_neurostimulator",
    "drug_pump",
    "cochlear_implant",
    "metal_implant",
]


class Implant(StrictModel):
    kind: ImplantKind
    site: SiteSelector = Field(
        description="Where it sits (or its region, e.g. 'thorax' for a wearable defibrillator): "
        "screening keeps electrodes away from it, so it is required."
    )
    note: str | None = Field(default=None, max_length=200)


class CardiacHistory(StrictModel):
    arrhythmia: YesNoUnknown
    heart_failure: YesNoUnknown
    recent_myocardial_infarction: YesNoUnknown


class Thrombosis(StrictModel):
    kind: Literal["dvt", "thrombophlebitis"]
    status: Literal["active", "past"]
    site: SiteSelector


class Malignancy(StrictModel):
    site: SiteSelector
    status: Literal["active", "suspected", "in_remission"]
    treatments: tuple[
        Literal["surgery", "chemotherapy", "radiotherapy", "immunotherapy", "hormonal", "other"],
        ...,
    ] = ()
    radiotherapy_ended_on: date | None = Field(
        default=None, description="Last radiotherapy fraction; the irradiated rule uses it."
    )
    irradiated_sites: tuple[SiteSelector, ...] = Field(
        default=(), description="Radiotherapy field; defaults to the tumour site."
    )
    palliative_care: bool = False


SkinFindingKind = Literal[
    "open_wound", "infection", "irritation", "dermatitis", "swelling", "scar", "trophic_changes"
]


class SkinFinding(StrictModel):
    site: SiteSelector
    finding: SkinFindingKind


class SensationFinding(StrictModel):
    """Sensation at a site, e.g. 10 g monofilament, pinprick or the MNSI examination."""

    site: SiteSelector
    status: Literal["normal", "reduced", "absent"]
    method: Literal[
        "monofilament", "pinprick", "vibration", "light_touch", "mnsi_examination", "clinical"
    ] = "clinical"


class AllodyniaFinding(StrictModel):
    site: SiteSelector
    stimulus: Literal["light_touch", "pressure", "cold", "movement", "unspecified"] = "unspecified"


class SurgeryOrFracture(StrictModel):
    site: SiteSelector
    kind: Literal["surgery", "fracture"]
    occurred_on: date | None = None
    healing: Literal["healing", "healed", "unknown"]


class HomeUse(StrictModel):
    """How the person would use a home stimulator; sleep and driving are never allowed."""

    planned: bool
    during_sleep: YesNoUnknown = "unknown"
    while_driving_or_operating_machinery: YesNoUnknown = "unknown"


class Clearance(StrictModel):
    """A specialist's recorded opinion that lifts one clearance-type screening rule."""

    rule_id: str = Field(min_length=3)
    cleared_by: str = Field(min_length=2, max_length=120, description="Who gave the clearance.")
    role: str = Field(min_length=2, max_length=80, description="e.g. cardiologist.")
    cleared_on: date
    note: str | None = Field(default=None, max_length=500)


Goal = Literal["pain_relief", "function", "sleep", "muscle_strength", "circulation"]

# --------------------------------------------------------------------------- intake


class Intake(StrictModel):
    """Everything the screening and the recommendation need about one person."""

    schema_version: Literal[1] = 1
    patient_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$",
        description="Pseudonymous code; never a name.",
    )
    assessed_on: PastDate = Field(
        description="Day of the assessment: not in the future, and every dated event of the "
        "intake lies on or before it."
    )
    age_years: Int = Field(ge=0, le=120)
    sex: Literal["female", "male", "intersex", "unknown"]
    sex_note: str | None = Field(
        default=None, max_length=300, description="Explains answers that look contradictory."
    )
    pregnancy: Literal["pregnant", "possible", "not_pregnant", "not_applicable", "unknown"]
    diagnoses: tuple[Diagnosis, ...]
    pain_sites: tuple[SiteSelector, ...] = Field(
        default=(), description="Where the person has pain (beyond the diagnoses' sites)."
    )
    implants: tuple[Implant, ...]
    cardiac: CardiacHistory
    epilepsy: YesNoUnknown
    thromboses: tuple[Thrombosis, ...]
    malignancies: tuple[Malignancy, ...]
    skin: tuple[SkinFinding, ...]
    sensation: tuple[SensationFinding, ...]
    allodynia: tuple[AllodyniaFinding, ...]
    can_report_sensations: YesNoUnknown = Field(
        description="Cognition and communication allow the person to report what they feel."
    )
    bleeding_tendency: Literal["no", "controlled", "untreated", "unknown"]
    surgeries_and_fractures: tuple[SurgeryOrFracture, ...]
    home_use: HomeUse
    goals: tuple[Goal, ...] = Field(default=("pain_relief",), min_length=1)
    instruments: tuple[InstrumentResponse, ...] = ()
    clearances: tuple[Clearance, ...] = ()

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

    def _dates_after_assessment(self) -> list:
        """Events recorded as happening after the assessment are typos, not plans."""
        dated = [
            *((("malignancies", i, "radiotherapy_ended_on"), m.radiotherapy_ended_on)
              for i, m in enumerate(self.malignancies)),
            *((("surgeries_and_fractures", i, "occurred_on"), s.occurred_on)
              for i, s in enumerate(self.surgeries_and_fractures)),
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
        for index, finding in enumerate(self.sensation):
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

    @property
    def diagnosed_sites(self) -> frozenset[str]:
        selectors = (s for d in self.diagnoses for s in d.affected_sites)
        return frozenset().union(*(expand_sites(s) for s in selectors))

    @property
    def painful_sites(self) -> frozenset[str]:
        """Where treatment is aimed: diagnosed sites and reported pain sites."""
        return self.diagnosed_sites.union(*(expand_sites(s) for s in self.pain_sites))

    @property
    def allodynic_sites(self) -> frozenset[str]:
        return frozenset().union(*(expand_sites(a.site) for a in self.allodynia))

    def sensation_at(self, site: str) -> str | None:
        """``normal``, ``reduced``, ``absent`` or ``None`` when not tested (worst finding wins)."""
        order = {"normal": 0, "reduced": 1, "absent": 2}
        found = [f.status for f in self.sensation if site in expand_sites(f.site)]
        return max(found, key=order.__getitem__) if found else None
