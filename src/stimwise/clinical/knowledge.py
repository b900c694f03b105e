"""What the recommendation knows, as data: placement templates and per-protocol evidence.

``clinical/data/placements.yaml`` holds electrode placement templates written relative to the
affected side; ``clinical/data/recommendation.yaml`` says, for each library protocol, which goals
it serves, how strong its evidence is per condition and which templates it may use. Both carry
sources with confidence marks, and both are checked against each other and against the protocol
library when loaded, so a typo is an error at start-up rather than a silently missing option.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, field_validator, model_validator

from stimwise.clinical.intake import Goal
from stimwise.protocol.base import StrictModel
from stimwise.protocol.body_sites import SELECTOR_NAMES, SIDES
from stimwise.protocol.io import parse_document, validate_model
from stimwise.protocol.library import library_ids
from stimwise.protocol.models import Citation

PlacementKind = Literal["local", "proximal_nerve_trunk", "segmental", "contralateral", "muscle"]
Condition = Literal[
    "crps", "diabetic_neuropathy", "cipn", "other_neuropathy", "low_back_pain", "other_pain"
]
Grade = Literal[
    "guideline",
    "rct",
    "recognised_use",
    "mixed",
    "uncontrolled",
    "mechanism",
    "against",
    "not_established",
]
GRADE_WEIGHT: dict[str, float] = {
    "guideline": 4.0,
    "rct": 3.0,
    "recognised_use": 2.0,
    "mixed": 2.0,
    "uncontrolled": 1.5,
    "mechanism": 0.5,
}
"""Ranking weight per evidence grade; ``against`` and ``not_established`` are never ranked."""


def fill_side(pattern: str, side: str) -> str:
    """Turn ``{side}_calf`` into ``left_calf`` (``{other}`` is the opposite side)."""
    other = SIDES[1 - SIDES.index(side)]
    return pattern.replace("{side}", side).replace("{other}", other)


def _check_pattern(pattern: str) -> str:
    for side in SIDES:
        if fill_side(pattern, side) not in SELECTOR_NAMES:
            raise ValueError(f"{pattern!r} does not name a site or selector for side {side!r}")
    return pattern


class TemplateChannel(StrictModel):
    label: str = Field(min_length=1, max_length=40)
    electrodes: tuple[str, ...] = Field(min_length=2, max_length=8)
    area_cm2: float = Field(gt=0, le=1000)

    @field_validator("electrodes")
    @classmethod
    def _known_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_pattern(p) for p in patterns)


class PlacementTemplate(StrictModel):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{2,40}$")
    name: str
    kind: PlacementKind
    region: Literal["upper_limb", "lower_limb", "lumbar"]
    serves: tuple[str, ...] = Field(min_length=1)
    channels: tuple[TemplateChannel, ...] = Field(min_length=1, max_length=4)
    rationale: str
    sources: tuple[Citation, ...] = Field(min_length=1)

    @field_validator("serves")
    @classmethod
    def _known_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_pattern(p) for p in patterns)

    @property
    def sided(self) -> bool:
        """Whether the template is written relative to an affected side."""
        return any("{side}" in p or "{other}" in p for p in self.serves)


class Evidence(StrictModel):
    grade: Grade
    summary: str = Field(min_length=10)
    sources: tuple[Citation, ...] = Field(min_length=1)


class ProtocolKnowledge(StrictModel):
    goals: tuple[Goal, ...]
    placements: tuple[str, ...]
    evidence: dict[Condition | Literal["any"], Evidence] = Field(default_factory=dict)
    goal_evidence: Evidence | None = Field(
        default=None, description="Evidence for the goal itself, whatever the diagnosis."
    )
    rank_adjustment: float = Field(default=0.0, ge=-2, le=2)
    rank_adjustment_reason: str | None = None

    @model_validator(mode="after")
    def _some_evidence(self) -> ProtocolKnowledge:
        if not self.evidence and self.goal_evidence is None:
            raise ValueError("a protocol needs evidence per condition or for its goal")
        if (self.rank_adjustment != 0) != (self.rank_adjustment_reason is not None):
            raise ValueError("rank_adjustment and rank_adjustment_reason go together")
        return self


class PlacementBook(StrictModel):
    schema_version: Literal[1]
    templates: tuple[PlacementTemplate, ...] = Field(min_length=1)


class RecommendationBook(StrictModel):
    schema_version: Literal[1]
    protocols: dict[str, ProtocolKnowledge]


class Knowledge(StrictModel):
    templates: dict[str, PlacementTemplate]
    protocols: dict[str, ProtocolKnowledge]

    @model_validator(mode="after")
    def _cross_references(self) -> Knowledge:
        unknown_protocols = sorted(set(self.protocols) - set(library_ids()))
        if unknown_protocols:
            raise ValueError(f"recommendation.yaml names unknown protocols {unknown_protocols}")
        for protocol_id, known in self.protocols.items():
            missing = sorted(set(known.placements) - set(self.templates))
            if missing:
                raise ValueError(f"{protocol_id}: unknown placement templates {missing}")
        return self


def _read(name: str) -> object:
    text = resources.files("stimwise.clinical.data").joinpath(name).read_text("utf-8")
    return parse_document(text, name)


@cache
def knowledge() -> Knowledge:
    """The packaged placement templates and protocol evidence, validated once per process."""
    placements = validate_model(PlacementBook, _read("placements.yaml"), "placements.yaml")
    book = validate_model(RecommendationBook, _read("recommendation.yaml"), "recommendation.yaml")
    return validate_model(
        Knowledge,
        {"templates": {t.id: t for t in placements.templates}, "protocols": book.protocols},
        "clinical knowledge",
    )
