"""Single-question ratings: pain intensity NRS, sleep interference NRS and the Patient Global
Impression of Change (PGIC).

Facts and marks from ``shared/reference/clinical-facts.md`` §4. These ratings have no diagnostic
cut-off; what matters is change between visits, so the IMMPACT change benchmarks are kept as data
(``change_benchmarks``) next to the instrument.
"""

from __future__ import annotations

from collections.abc import Mapping

from stimwise.clinical.instruments.models import InstrumentScore
from stimwise.clinical.instruments.scoring import apply_cut_offs
from stimwise.clinical.instruments.spec import (
    LICENSING_SUMMARY,
    Answer,
    Choice,
    ChoiceScale,
    CutOff,
    InstrumentSpec,
    InstrumentVersion,
    IntegerScale,
    Item,
    Licence,
    standard_version,
)
from stimwise.protocol.models import Citation

FARRAR_2001 = Citation(
    source="Farrar et al. 2001, Pain 94:149-58, doi 10.1016/S0304-3959(01)00349-9",
    confidence="C",
)
IMMPACT_2008 = Citation(
    source="Dworkin et al. 2008 (IMMPACT), J Pain 9:105-21, doi 10.1016/j.jpain.2007.09.005",
    confidence="C",
)

_PAIN_0_10 = IntegerScale(min=0, max=10, anchors={0: "no pain", 10: "worst pain possible"})
_SLEEP_0_10 = IntegerScale(min=0, max=10, anchors={0: "not at all", 10: "completely"})
_NRS_LICENCE = Licence(
    status="no_licence_known",
    summary="numeric rating scale, no licence",
    citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
)

# --------------------------------------------------------------------------- pain intensity NRS

_PAIN_ITEMS = (
    Item(id="current", label="pain now (0 none, 10 worst possible)", scale=_PAIN_0_10,
         question="How strong is your pain now?"),
    Item(id="average", label="average pain (0 none, 10 worst possible)", scale=_PAIN_0_10,
         question="How strong has your pain been on average?"),
    Item(id="worst", label="worst pain (0 none, 10 worst possible)", scale=_PAIN_0_10,
         question="How strong has your pain been at its worst?"),
)

PAIN_NRS = InstrumentSpec(
    id="pain_nrs",
    name="Pain intensity numeric rating scale",
    measures="pain intensity now, on average and at worst, each on an 11-point 0-10 scale",
    citation=FARRAR_2001,
    licence=_NRS_LICENCE,
    items=_PAIN_ITEMS,
    versions=standard_version(_PAIN_ITEMS),
    change_benchmarks=(
        CutOff(
            id="immpact_minimal",
            applies_to="decrease_percent",
            at_least=10,
            meaning="minimally important decrease (10-20 %)",
            citation=IMMPACT_2008,
        ),
        CutOff(
            id="immpact_moderate",
            applies_to="decrease_percent",
            at_least=30,
            meaning="moderately important decrease",
            citation=IMMPACT_2008,
        ),
        CutOff(
            id="immpact_substantial",
            applies_to="decrease_percent",
            at_least=50,
            meaning="substantial decrease",
            citation=IMMPACT_2008,
        ),
        CutOff(
            id="farrar_much_improved",
            applies_to="decrease_points",
            at_least=2,
            meaning="about 2 points (or about 30 %) corresponds to 'much improved'",
            citation=FARRAR_2001,
        ),
        CutOff(
            id="farrar_substantial",
            applies_to="decrease_points",
            at_least=4,
            meaning="about 4 points (or 50 %) is a substantial improvement",
            citation=Citation(source="Farrar et al. 2001, as quoted", confidence="C-s"),
        ),
    ),
    notes=(
        "Percent change is more stable across baselines than raw change [C: Farrar 2001].",
        "The recall period for average and worst pain is set by the study protocol, not here.",
    ),
)


def score_pain_nrs(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Report the three ratings as subscores; there is no total, because adding current, average
    and worst pain has no published meaning."""
    subscores = {item_id: float(values[item_id]) for item_id in version.item_ids}
    shown = ", ".join(f"{item_id} {value:g}/10" for item_id, value in subscores.items())
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=None,
        max_total=None,
        interpretation=f"pain {shown} (0 = no pain, 10 = worst possible)",
        positive=None,
        subscores=subscores,
    )


# --------------------------------------------------------------------------- sleep interference

_SLEEP_ITEMS = (
    Item(
        id="sleep_interference",
        label="how much pain interfered with sleep over the past 24 h (0 not at all, 10 fully)",
        scale=_SLEEP_0_10,
        question="Over the past 24 hours, how much did pain get in the way of your sleep?",
    ),
)

SLEEP_INTERFERENCE = InstrumentSpec(
    id="sleep_interference",
    name="Sleep interference numeric rating scale",
    measures="pain interference with sleep over the past 24 h, 0-10",
    citation=Citation(
        source="Daily Sleep Interference Scale, as used in painful-DPN drug trials",
        confidence="U",
        note="the DSIS definition (0-10, past 24 h) is unverified",
    ),
    licence=_NRS_LICENCE,
    items=_SLEEP_ITEMS,
    versions=standard_version(_SLEEP_ITEMS),
    notes=(
        "Validated multi-item alternatives: MOS-Sleep, 12 items, validated in painful DPN "
        "(n = 396) [C], licensed [U]; PSQI > 5 = poor sleep [C-s].",
    ),
)


def score_sleep_interference(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """The single rating is the total (0-10); no cut-off is published for it."""
    total = float(values["sleep_interference"])
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=total,
        max_total=10.0,
        interpretation=f"pain interfered with sleep {total:g}/10 over the past 24 h",
        positive=None,
    )


# --------------------------------------------------------------------------- PGIC

PGIC_LEVELS = (
    ("very_much_improved", "very much improved", 3),
    ("much_improved", "much improved", 2),
    ("minimally_improved", "minimally improved", 1),
    ("no_change", "no change", 0),
    ("minimally_worse", "minimally worse", -1),
    ("much_worse", "much worse", -2),
    ("very_much_worse", "very much worse", -3),
)
"""The 7 PGIC levels with stimwise's signed ``improvement_level`` coding (+3 very much improved
… −3 very much worse). The coding is a stimwise convention, not part of the instrument; it only
orders the levels so that the IMMPACT categories can be applied as cut-offs."""

_PGIC_ITEMS = (
    Item(
        id="impression",
        label="patient's impression of change since the start of treatment",
        question="Since treatment started, how would you describe any change in your condition?",
        scale=ChoiceScale(
            options=tuple(
                Choice(id=level, label=label, points=points) for level, label, points in PGIC_LEVELS
            )
        ),
    ),
)

_PGIC_TIERS = (
    ("pgic_minimally_important", 1, "minimally improved or better", "minimally important"),
    ("pgic_moderately_important", 2, "much improved or better", "moderately important"),
    ("pgic_substantial", 3, "very much improved", "substantial"),
)
"""IMMPACT categories: cut-off id, ``improvement_level`` at least, levels, importance."""
_IMPORTANCE = {cut_off_id: importance for cut_off_id, _, _, importance in _PGIC_TIERS}

PGIC = InstrumentSpec(
    id="pgic",
    name="Patient Global Impression of Change",
    measures="the patient's overall impression of change, on 7 levels",
    citation=IMMPACT_2008,
    licence=Licence(
        status="unknown",
        summary="licence not covered by the fact sheet",
        citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
    ),
    items=_PGIC_ITEMS,
    versions=standard_version(
        _PGIC_ITEMS,
        *(
            CutOff(
                id=cut_off_id,
                applies_to="improvement_level",
                at_least=level,
                meaning=f"{levels}: {importance} improvement",
                citation=Citation(
                    source=IMMPACT_2008.source,
                    confidence="C",
                    note="IMMPACT PGIC categories minimally / much / very much improved [C], "
                    "paired in order with its minimal / moderate / substantial benchmarks",
                ),
            )
            for cut_off_id, level, levels, importance in _PGIC_TIERS
        ),
    ),
    notes=(
        "'Much improved' corresponds to about 2 points or 30 % on the pain NRS [C: Farrar 2001].",
    ),
)


def score_pgic(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Place the chosen level in the IMMPACT categories; the PGIC has no total or positive flag.

    The highest IMMPACT category met is named in ``details["immpact_category"]`` (``None`` for no
    change or worse) so that responder analyses need not re-derive it.
    """
    level = str(values["impression"])
    improvement = next(points for level_id, _, points in PGIC_LEVELS if level_id == level)
    applied = apply_cut_offs(version.cut_offs, {"improvement_level": float(improvement)})
    reached = [a.cut_off for a in applied if a.met]
    category = reached[-1].id if reached else None
    label = level.replace("_", " ")
    meaning = f" (IMMPACT: {_IMPORTANCE[category]} improvement)" if category else ""
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=None,
        max_total=None,
        interpretation=f"{label}{meaning}",
        positive=None,
        subscores={"improvement_level": float(improvement)},
        cut_offs=applied,
        details={"level": level, "immpact_category": category},
    )
