"""Current paths a channel's electrodes would create through the body.

Current flows between the electrodes of a channel, so where they sit decides which organs lie on
its path. A path across the thorax can reach the heart and a path across the head the brain;
both are forbidden for everyone (FDA Powered Muscle Stimulator guidance 1999, Attachment I
warnings: not transthoracic, not transcerebral [C]; IEC 60601-2-10 instructions for use: no
stimulation across the head, no electrodes on chest and upper back or crossing the heart [C];
see shared/reference/clinical-facts.md §2.1). The geometric reading below (left/right of the
upper body and neck, front/back of the thorax, arm or chest to lower body, thorax diagonally to
the lower trunk, head to elsewhere) is stimwise's
synthesis of those texts [U] and errs on the side of forbidding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from stimwise.protocol.body_sites import (
    THORAX_ANTERIOR,
    region_group,
    side_of,
)

PathKind = Literal["transthoracic", "transcranial"]

_UPPER_BODY_AND_NECK = frozenset({"thorax", "upper_limb", "neck"})
_LOWER_BODY = frozenset({"abdomen", "lumbar", "pelvis", "lower_limb"})
_HEAD_AND_NECK = frozenset({"head", "neck"})


@dataclass(frozen=True)
class PathHazard:
    """One forbidden current path in one channel."""

    kind: PathKind
    sites: tuple[str, str]
    explanation: str


def _region(site: str) -> str:
    """The thorax split into front and back; other sites keep their region group."""
    if region_group(site) != "thorax":
        return region_group(site)
    bare = site if side_of(site) == "midline" else site.partition("_")[2]
    return "thorax_anterior" if bare in THORAX_ANTERIOR else "thorax_posterior"


def _pair_hazard(a: str, b: str) -> PathHazard | None:
    group_a, group_b = region_group(a), region_group(b)
    groups = {group_a, group_b}
    opposite = {side_of(a), side_of(b)} == {"left", "right"}
    if group_a == group_b == "head" and opposite:
        return PathHazard("transcranial", (a, b), "electrodes on opposite sides of the head")
    if groups == {"head", "neck"} and opposite:
        return PathHazard(
            "transcranial", (a, b), "from the head to the opposite side of the neck"
        )
    if ("head" in groups) and not groups <= _HEAD_AND_NECK:
        return PathHazard(
            "transcranial", (a, b), "current would run from the head to the body below the neck"
        )
    if opposite and groups <= _UPPER_BODY_AND_NECK and groups != {"neck"}:
        return PathHazard(
            "transthoracic",
            (a, b),
            "electrodes on opposite sides of the upper body (thorax, arms or neck): the path "
            "crosses the chest",
        )
    if {_region(a), _region(b)} == {"thorax_anterior", "thorax_posterior"}:
        return PathHazard(
            "transthoracic", (a, b), "electrodes on the front and back of the thorax"
        )
    if "upper_limb" in groups and groups & _LOWER_BODY:
        return PathHazard(
            "transthoracic", (a, b), "current would run from an arm through the trunk"
        )
    if "thorax" in groups and groups & _LOWER_BODY:
        thorax_site, other = (a, b) if group_a == "thorax" else (b, a)
        if opposite or _region(thorax_site) == "thorax_anterior" or (
            region_group(other) == "lower_limb"
        ):
            return PathHazard(
                "transthoracic",
                (a, b),
                "current would run from the thorax diagonally, down the front of the trunk or "
                "into a leg",
            )
    return None


def path_hazards(sites: Iterable[str]) -> list[PathHazard]:
    """Every forbidden path between any two electrode sites of one channel."""
    ordered = list(dict.fromkeys(sites))
    hazards = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            hazard = _pair_hazard(a, b)
            if hazard is not None:
                hazards.append(hazard)
    return hazards
