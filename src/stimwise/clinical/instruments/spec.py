"""The data that defines an assessment instrument: items, answer scales, versions, cut-offs and
licence status.

An instrument is described here as plain, frozen data so that one generic validator can check any
answer sheet, and so that every number a score relies on sits next to its source and confidence
mark (the marks of ``shared/reference/clinical-facts.md``: C confirmed, C-s confirmed only in a
secondary source, U unverified). Item labels are short neutral descriptions written for stimwise,
never an instrument's own wording, because the wording of some instruments may be copyrighted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from stimwise.protocol.base import StrictModel
from stimwise.protocol.models import Citation

InstrumentId = Literal[
    "budapest",
    "css",
    "pain_nrs",
    "dn4",
    "mnsi_questionnaire",
    "mnsi_examination",
    "sleep_interference",
    "pgic",
]
"""Stable ids of the instruments stimwise can score; answer files name one of these."""

Answer = bool | int | str
"""A checked answer in canonical form: a boolean, an integer or a choice id."""

LICENSING_SUMMARY = "stimwise fact sheet (shared/reference/clinical-facts.md) §4, licensing summary"


def _canonical_word(raw: str) -> str:
    """Lower-case, trimmed, with spaces and hyphens as underscores, so that "Much improved" and
    "present-with-reinforcement" name the same option as their ids."""
    return raw.strip().lower().replace(" ", "_").replace("-", "_")


class BinaryScale(StrictModel):
    """A two-way answer such as yes/no or present/absent.

    Booleans are accepted as well as the two words because YAML reads an unquoted ``yes`` or
    ``no`` as ``true``/``false``; ``1``/``0`` are refused because a number on a yes/no item is
    more likely a slip than an answer.
    """

    kind: Literal["binary"] = "binary"
    true_word: str
    false_word: str
    scores_when: bool | None = True
    """The answer that earns one point; ``None`` for an item that is recorded but not scored."""

    def expected(self) -> str:
        """What a valid answer looks like, for error messages."""
        return f"{self.true_word} or {self.false_word}"

    def parse(self, raw: object) -> bool | None:
        """The answer as a boolean, or ``None`` when ``raw`` is not a valid answer."""
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            word = _canonical_word(raw)
            if word in (self.true_word, self.false_word):
                return word == self.true_word
        return None

    def points(self, value: Answer) -> float | None:
        """One point when ``value`` is the scoring answer; ``None`` for an unscored item."""
        if self.scores_when is None:
            return None
        return 1.0 if value == self.scores_when else 0.0

    def max_points(self) -> float:
        """The most points one answer can earn."""
        return 0.0 if self.scores_when is None else 1.0


class IntegerScale(StrictModel):
    """A whole-number rating such as a 0-10 numeric rating scale; the answer is its own score.

    Fractions (``3.5``) and numeric strings (``"3"``) are refused: an 11-point scale has no
    half-points, and a quoted number usually means the file was written by hand in error.
    """

    kind: Literal["integer"] = "integer"
    min: int
    max: int
    anchors: dict[int, str] = Field(default_factory=dict)
    """Words for some points of the scale (``{0: "no pain", 10: "worst pain possible"}``)."""

    def expected(self) -> str:
        """What a valid answer looks like, for error messages."""
        return f"an integer {self.min}-{self.max}"

    def parse(self, raw: object) -> int | None:
        """The answer as an integer, or ``None`` when ``raw`` is not a whole number in range."""
        if isinstance(raw, int) and not isinstance(raw, bool) and self.min <= raw <= self.max:
            return raw
        return None

    def points(self, value: Answer) -> float | None:
        """The rating itself."""
        return float(value)

    def max_points(self) -> float:
        """The top of the scale."""
        return float(self.max)


class Choice(StrictModel):
    """One option of a :class:`ChoiceScale`."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    points: float | None = None
    """Points this option earns; ``None`` where the option is recorded but not scored."""


class ChoiceScale(StrictModel):
    """An answer picked from named options (for example absent / reduced / present)."""

    kind: Literal["choice"] = "choice"
    options: tuple[Choice, ...] = Field(min_length=2)

    def expected(self) -> str:
        """What a valid answer looks like, for error messages."""
        return "one of: " + ", ".join(option.id for option in self.options)

    def parse(self, raw: object) -> str | None:
        """The option id, or ``None`` when ``raw`` names no option."""
        if isinstance(raw, str):
            word = _canonical_word(raw)
            if any(option.id == word for option in self.options):
                return word
        return None

    def points(self, value: Answer) -> float | None:
        """Points of the chosen option."""
        return next(option.points for option in self.options if option.id == value)

    def max_points(self) -> float:
        """Points of the highest-scoring option (0 when no option is scored)."""
        return max((o.points for o in self.options if o.points is not None), default=0.0)


Scale = Annotated[BinaryScale | IntegerScale | ChoiceScale, Field(discriminator="kind")]


class Item(StrictModel):
    """One question or examination finding, identified by a stable id used in answer files."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    scale: Scale
    question: str | None = None
    """The item as a page asks it, in stimwise's own words; ``None``: the label is asked."""
    group: str | None = None
    """Section of the instrument (``interview``, ``left_foot``, ``symptom:sensory``...)."""
    required: bool = True
    citation: Citation | None = None
    """Provenance of an item whose presence or scoring is itself uncertain."""


class CutOff(StrictModel):
    """A threshold on one measure: met when the measure is at least ``at_least``."""

    id: str
    applies_to: str
    """``total``, a subscore name, or for change benchmarks the change measured
    (``decrease_percent``, ``decrease_points``, ``change_in_total``)."""
    at_least: float
    meaning: str
    citation: Citation


class InstrumentVersion(StrictModel):
    """A variant of an instrument with its own item set and cut-offs (DN4 full vs interview)."""

    id: str
    label: str
    item_ids: tuple[str, ...] = Field(min_length=1)
    cut_offs: tuple[CutOff, ...] = ()


class Licence(StrictModel):
    """Whether the instrument may be used freely, as far as the fact sheet knows."""

    status: Literal["free", "no_licence_known", "unknown", "permission_required"]
    summary: str
    citation: Citation


class InstrumentSpec(StrictModel):
    """Everything stimwise knows about one instrument except its scoring function."""

    id: InstrumentId
    name: str
    measures: str
    citation: Citation
    licence: Licence
    items: tuple[Item, ...] = Field(min_length=1)
    versions: tuple[InstrumentVersion, ...] = Field(min_length=1)
    """The first version is used when a response names none."""
    change_benchmarks: tuple[CutOff, ...] = ()
    """Thresholds for a change between two visits; not applied to a single response."""
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent_ids(self) -> InstrumentSpec:
        item_ids = [item.id for item in self.items]
        if len(set(item_ids)) != len(item_ids):
            raise ValueError(f"{self.id}: item ids must be unique")
        version_ids = [version.id for version in self.versions]
        if len(set(version_ids)) != len(version_ids):
            raise ValueError(f"{self.id}: version ids must be unique")
        for version in self.versions:
            unknown = set(version.item_ids) - set(item_ids)
            if unknown or len(set(version.item_ids)) != len(version.item_ids):
                raise ValueError(f"{self.id}: version {version.id} lists unknown or repeated items")
        return self

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Ids of all items, in instrument order."""
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        """The item with id ``item_id`` (the id must exist)."""
        return next(item for item in self.items if item.id == item_id)

    def find_version(self, version_id: str | None) -> InstrumentVersion | None:
        """The named version, the default one for ``None``, or ``None`` when no such version."""
        if version_id is None:
            return self.versions[0]
        return next((v for v in self.versions if v.id == version_id), None)


def standard_version(items: tuple[Item, ...], *cut_offs: CutOff) -> tuple[InstrumentVersion]:
    """The single version of an instrument that has no variants: all items, given cut-offs."""
    return (
        InstrumentVersion(
            id="standard",
            label="standard",
            item_ids=tuple(item.id for item in items),
            cut_offs=cut_offs,
        ),
    )
