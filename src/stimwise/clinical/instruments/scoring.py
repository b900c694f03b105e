"""Small helpers shared by the scoring functions of every instrument family."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stimwise.clinical.instruments.models import AppliedCutOff, InstrumentScore
from stimwise.clinical.instruments.spec import Answer, CutOff, InstrumentSpec, InstrumentVersion

Scorer = Callable[[InstrumentSpec, InstrumentVersion, Mapping[str, Answer]], InstrumentScore]
"""Turns checked, canonical answers of one version into a score."""


def item_points(
    spec: InstrumentSpec, values: Mapping[str, Answer], item_ids: tuple[str, ...]
) -> float:
    """Sum of the points of the answered, scored items among ``item_ids``."""
    total = 0.0
    for item_id in item_ids:
        if item_id in values:
            points = spec.item(item_id).scale.points(values[item_id])
            total += points or 0.0
    return total


def max_item_points(spec: InstrumentSpec, item_ids: tuple[str, ...]) -> float:
    """The most points the required items among ``item_ids`` can earn together."""
    return sum(
        spec.item(item_id).scale.max_points() for item_id in item_ids if spec.item(item_id).required
    )


def apply_cut_offs(
    cut_offs: tuple[CutOff, ...], measures: Mapping[str, float]
) -> tuple[AppliedCutOff, ...]:
    """Apply each cut-off to the measure it names (``total`` or a subscore)."""
    return tuple(
        AppliedCutOff(
            cut_off=cut_off,
            value=measures[cut_off.applies_to],
            met=measures[cut_off.applies_to] >= cut_off.at_least,
        )
        for cut_off in cut_offs
    )


def met(applied: tuple[AppliedCutOff, ...], cut_off_id: str) -> bool:
    """Whether the applied cut-off with id ``cut_off_id`` was met."""
    return next(a.met for a in applied if a.cut_off.id == cut_off_id)
