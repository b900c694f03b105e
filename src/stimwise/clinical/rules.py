"""Screening rules as data (``clinical/data/screening_rules.yaml``), each with its sources.

A rule has a trigger (what in the intake sets it off), a tier (how hard it stops stimulation)
and consequences (sites it forbids, caps it sets, actions it requires). The engine in
:mod:`stimwise.clinical.screening` evaluates triggers and combines consequences; nothing about
any single condition is written in Python, so a clinician can read and review every rule here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import Field, model_validator

from stimwise.clinical.intake import ImplantKind, SkinFindingKind, WornDeviceKind
from stimwise.protocol.base import StrictModel
from stimwise.protocol.body_sites import SELECTOR_NAMES
from stimwise.protocol.io import parse_document, validate_model
from stimwise.protocol.models import Citation, IntensityLevel

Tier = Literal["absolute", "clearance", "site_restricted", "precaution"]

# --------------------------------------------------------------------------- triggers


class ImplantTrigger(StrictModel):
    when: Literal["implant"]
    kinds: tuple[ImplantKind, ...] = Field(min_length=1)


class CardiacTrigger(StrictModel):
    when: Literal["cardiac"]
    conditions: tuple[
        Literal["arrhythmia", "heart_failure", "recent_myocardial_infarction"], ...
    ] = Field(min_length=1)
    infarction_within_days: int | None = Field(
        default=None, gt=0, le=3650,
        description="A recorded infarction date this recent counts as a recent infarction, "
        "whatever the yes/no answer says.",
    )


class EpilepsyTrigger(StrictModel):
    when: Literal["epilepsy"]


class PregnancyTrigger(StrictModel):
    when: Literal["pregnancy"]
    before_week: int | None = Field(
        default=None, gt=0, le=45,
        description="Fire only before this week of pregnancy (a gestational age not recorded "
        "fires as possible).",
    )


class ThrombosisTrigger(StrictModel):
    when: Literal["thrombosis"]
    statuses: tuple[Literal["active", "past"], ...] = Field(min_length=1)


class MalignancyTrigger(StrictModel):
    when: Literal["malignancy"]
    statuses: tuple[Literal["active", "suspected", "in_remission"], ...] = Field(min_length=1)


class IrradiatedTrigger(StrictModel):
    when: Literal["irradiated"]
    within_days: int = Field(gt=0, le=3650)


class SkinTrigger(StrictModel):
    when: Literal["skin"]
    findings: tuple[SkinFindingKind, ...] = Field(min_length=1)


class SensationTrigger(StrictModel):
    when: Literal["sensation"]
    statuses: tuple[Literal["reduced", "absent"], ...] = Field(min_length=1)
    untested_neuropathy_sites: bool = Field(
        default=False,
        description="Also fire (as unknown) for a neuropathy's sites that were not tested.",
    )


class AllodyniaTrigger(StrictModel):
    when: Literal["allodynia"]


class CannotReportTrigger(StrictModel):
    when: Literal["cannot_report_sensations"]


class BleedingTrigger(StrictModel):
    when: Literal["bleeding"]
    levels: tuple[Literal["controlled", "untreated"], ...] = Field(min_length=1)


class SurgeryFractureTrigger(StrictModel):
    when: Literal["surgery_or_fracture"]


class HomeActivityTrigger(StrictModel):
    when: Literal["home_use_activity"]


class UndiagnosedPainTrigger(StrictModel):
    when: Literal["undiagnosed_pain"]


class DiagnosisTrigger(StrictModel):
    when: Literal["diagnosis"]
    kind: Literal["crps", "neuropathy"]


class AgeTrigger(StrictModel):
    when: Literal["age_under"]
    years: int = Field(gt=0, le=30)


class AnswerTrigger(StrictModel):
    """A yes/no/unknown question of the person's history answered yes (or unknown)."""

    when: Literal["answer"]
    question: Literal["anticoagulant_therapy", "parkinsons_disease"]


class ArterialTrigger(StrictModel):
    when: Literal["arterial_disease"]
    severities: tuple[Literal["not_severe", "severe", "unknown"], ...] = Field(min_length=1)


class WornDeviceTrigger(StrictModel):
    when: Literal["worn_device"]
    kinds: tuple[WornDeviceKind, ...] = Field(min_length=1)


class CognitionTrigger(StrictModel):
    when: Literal["cognition"]
    levels: tuple[Literal["impaired", "dementia"], ...] = Field(min_length=1)
    without_supervising_carer: bool = Field(
        default=False,
        description="Fire only when no carer supervises every session (carer unknown fires as "
        "possible).",
    )


Trigger = Annotated[
    ImplantTrigger
    | CardiacTrigger
    | EpilepsyTrigger
    | PregnancyTrigger
    | ThrombosisTrigger
    | MalignancyTrigger
    | IrradiatedTrigger
    | SkinTrigger
    | SensationTrigger
    | AllodyniaTrigger
    | CannotReportTrigger
    | BleedingTrigger
    | SurgeryFractureTrigger
    | HomeActivityTrigger
    | UndiagnosedPainTrigger
    | DiagnosisTrigger
    | AgeTrigger
    | AnswerTrigger
    | ArterialTrigger
    | WornDeviceTrigger
    | CognitionTrigger,
    Field(discriminator="when"),
]

# --------------------------------------------------------------------------- consequences

Scope = Literal["matched", "near_matched", "limb_of_matched", "regions"]


class SiteScope(StrictModel):
    """Which sites a consequence covers: the matched sites, their neighbourhood, the whole
    limb or region they lie in, or fixed regions."""

    scope: Scope
    regions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _regions_known(self) -> SiteScope:
        if self.scope == "regions":
            unknown = [r for r in self.regions if r not in SELECTOR_NAMES]
            if not self.regions or unknown:
                raise ValueError(f"scope 'regions' needs known site selectors; got {unknown}")
        elif self.regions:
            raise ValueError("regions are only used with scope 'regions'")
        return self


class SiteLevelCap(SiteScope):
    max_level: IntensityLevel


class Consequences(StrictModel):
    forbid_sites: SiteScope | None = None
    site_max_level: SiteLevelCap | None = None
    max_level: IntensityLevel | None = None
    max_amplitude_ma: float | None = Field(default=None, gt=0, le=200)
    supervised_titration: bool = False
    home_use: Literal["allowed", "not_allowed", "not_at_sites"] = "allowed"
    home_use_sites: SiteScope | None = None
    actions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _home_sites(self) -> Consequences:
        if (self.home_use == "not_at_sites") != (self.home_use_sites is not None):
            raise ValueError("home_use 'not_at_sites' and home_use_sites go together")
        return self


class ScreeningRule(StrictModel):
    id: str = Field(pattern=r"^(CI|SR|PR)-[A-Z0-9-]{2,40}$")
    title: str = Field(min_length=5)
    tier: Tier
    trigger: Trigger
    consequences: Consequences = Consequences()
    liftable_by_clearance: bool = False
    clearance_role: str | None = Field(
        default=None, description="Who may lift the rule, e.g. 'cardiologist'."
    )
    clinician_text: str = Field(min_length=10)
    patient_text: str = Field(min_length=10)
    sources: tuple[Citation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _clearance_fields(self) -> ScreeningRule:
        if self.liftable_by_clearance != (self.clearance_role is not None):
            raise ValueError("liftable_by_clearance and clearance_role go together")
        if self.tier == "clearance" and not self.liftable_by_clearance:
            raise ValueError("a clearance-tier rule must be liftable by clearance")
        if self.tier == "absolute" and self.liftable_by_clearance:
            raise ValueError("an absolute contraindication cannot be lifted")
        return self


class RuleBook(StrictModel):
    schema_version: Literal[1]
    version: str = Field(min_length=1)
    rules: tuple[ScreeningRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleBook:
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids {duplicates}")
        return self


@dataclass(frozen=True)
class LoadedRules:
    """The rule book with a fingerprint of its exact text, recorded with every screening."""

    book: RuleBook
    sha256: str

    @property
    def by_id(self) -> dict[str, ScreeningRule]:
        return {rule.id: rule for rule in self.book.rules}

    @property
    def version_label(self) -> str:
        return f"{self.book.version} (sha256 {self.sha256[:12]})"


@cache
def screening_rules() -> LoadedRules:
    """The packaged rule book, validated once per process."""
    raw = resources.files("stimwise.clinical.data").joinpath("screening_rules.yaml").read_bytes()
    text = raw.decode("utf-8")
    book = validate_model(
        RuleBook, parse_document(text, "screening_rules.yaml"), "screening_rules.yaml"
    )
    return LoadedRules(book=book, sha256=hashlib.sha256(raw).hexdigest())
