"""Michigan Neuropathy Screening Instrument (MNSI): patient questionnaire and foot examination.

Facts and marks from ``shared/reference/clinical-facts.md`` §4.
"""

from __future__ import annotations

from collections.abc import Mapping

from stimwise.clinical.instruments.models import InstrumentScore
from stimwise.clinical.instruments.scoring import (
    apply_cut_offs,
    item_points,
    max_item_points,
    met,
)
from stimwise.clinical.instruments.spec import (
    LICENSING_SUMMARY,
    Answer,
    BinaryScale,
    Choice,
    ChoiceScale,
    CutOff,
    InstrumentSpec,
    InstrumentVersion,
    Item,
    Licence,
    standard_version,
)
from stimwise.protocol.models import Citation

FELDMAN_1994 = Citation(
    source="Feldman et al. 1994, Diabetes Care 17:1281",
    confidence="C",
    note="content confirmed [C]; citation details unverified [U]",
)

# --------------------------------------------------------------------------- questionnaire

_UNSCORED = {4: "circulation item", 10: "asthenia item"}
"""Items 4 (circulation) and 10 (asthenia) are asked but not scored [C]."""
_SCORED_FOR_NO = frozenset({7, 13})
"""Items 7 and 13 score a point for "no" [C]; all other scored items for "yes"."""

_QUESTION_LABELS = {
    1: "numbness in legs or feet",
    2: "burning pain in legs or feet",
    3: "feet too sensitive to touch",
    4: "circulation item (not scored)",
    5: "prickling in legs or feet",
    6: "pain when bed covers touch the skin",
    7: "able to tell hot from cold water (a point for no)",
    8: "open sore on a foot",
    9: "told by a doctor of diabetic neuropathy",
    10: "asthenia item (not scored)",
    11: "symptoms worse at night",
    12: "legs hurt when walking",
    13: "able to sense the feet when walking (a point for no)",
    14: "skin of the feet so dry it cracks",
    15: "amputation",
}
"""Short stimwise paraphrases for orientation only [U]; items 4 and 10 as named in the fact sheet
[C]. Check against the published form."""


def _question_scale(number: int) -> BinaryScale:
    scores_when = None if number in _UNSCORED else number not in _SCORED_FOR_NO
    return BinaryScale(true_word="yes", false_word="no", scores_when=scores_when)


_QUESTION_ITEMS = tuple(
    Item(id=f"item_{number}", label=label, scale=_question_scale(number),
         question=f"{number}. {label.split(' (')[0][:1].upper()}{label.split(' (')[0][1:]}?")
    for number, label in _QUESTION_LABELS.items()
)

MNSI_QUESTIONNAIRE = InstrumentSpec(
    id="mnsi_questionnaire",
    name="MNSI questionnaire",
    measures="neuropathy symptoms reported by the patient: 15 yes/no items, 13 scored",
    citation=FELDMAN_1994,
    licence=Licence(
        status="free",
        summary="freely available, no permission needed (PhenX)",
        citation=Citation(source=LICENSING_SUMMARY, confidence="C"),
    ),
    items=_QUESTION_ITEMS,
    versions=standard_version(
        _QUESTION_ITEMS,
        CutOff(
            id="mnsi_q_abnormal_original",
            applies_to="total",
            at_least=7,
            meaning="abnormal (original cut-off)",
            citation=FELDMAN_1994,
        ),
        CutOff(
            id="mnsi_q_abnormal_herman",
            applies_to="total",
            at_least=4,
            meaning="abnormal (lower cut-off proposed from DCCT/EDIC, n = 1,184)",
            citation=Citation(source="Herman et al. 2012, Diabet Med 29:937-44", confidence="C"),
        ),
    ),
    notes=(
        "Scored: yes to items 1-3, 5-6, 8-9, 11-12, 14-15 and no to items 7 and 13; items 4 "
        "and 10 not scored; maximum 13 [C].",
        "Item labels other than 4 (circulation) and 10 (asthenia) are stimwise paraphrases "
        "written from memory [U]; match items by number against the published form.",
    ),
)


def score_mnsi_questionnaire(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Sum the scored items (0-13); abnormal at 7 (original), with Herman 2012's 4 also reported.

    ``positive`` follows the original cut-off because it is the one the instrument was published
    with; the lower cut-off is in ``cut_offs`` for studies that prefer sensitivity.
    """
    total = item_points(spec, values, version.item_ids)
    max_total = max_item_points(spec, version.item_ids)
    applied = apply_cut_offs(version.cut_offs, {"total": total})
    original = met(applied, "mnsi_q_abnormal_original")
    herman = met(applied, "mnsi_q_abnormal_herman")
    if original:
        verdict = "abnormal by the original cut-off (≥7)"
    elif herman:
        verdict = "not abnormal by the original cut-off (≥7), abnormal by Herman 2012 (≥4)"
    else:
        verdict = "not abnormal (below 4 and 7)"
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=total,
        max_total=max_total,
        interpretation=f"MNSI questionnaire {total:g}/{max_total:g}: {verdict}",
        positive=original,
        cut_offs=applied,
    )


# --------------------------------------------------------------------------- examination

FEET = ("left", "right")

_EXAM_SCALES = {
    "appearance": (
        "appearance",
        ChoiceScale(
            options=(
                Choice(id="normal", label="normal", points=0),
                Choice(id="abnormal", label="abnormal", points=1),
            )
        ),
    ),
    "ulceration": (
        "ulceration",
        ChoiceScale(
            options=(
                Choice(id="absent", label="absent", points=0),
                Choice(id="present", label="present", points=1),
            )
        ),
    ),
    "ankle_reflex": (
        "ankle reflex",
        ChoiceScale(
            options=(
                Choice(id="present", label="present", points=0),
                Choice(
                    id="present_with_reinforcement", label="present with reinforcement", points=0.5
                ),
                Choice(id="absent", label="absent", points=1),
            )
        ),
    ),
    "vibration": (
        "vibration at the great toe (128 Hz tuning fork)",
        ChoiceScale(
            options=(
                Choice(id="present", label="present", points=0),
                Choice(
                    id="reduced",
                    label="reduced (examiner feels it at least 10 s longer)",
                    points=0.5,
                ),
                Choice(id="absent", label="absent", points=1),
            )
        ),
    ),
}
"""Per-foot findings and their points, 4 per foot, maximum 8 for both feet [C: Feldman 1994]."""

_MONOFILAMENT = ChoiceScale(
    options=(
        Choice(id="normal", label="normal"),
        Choice(id="reduced", label="reduced"),
        Choice(id="absent", label="absent"),
    )
)
_MONOFILAMENT_SOURCE = Citation(
    source="MNSI later versions (maximum 10 with monofilament)",
    confidence="U",
    note="recorded but not scored: stimwise scores the confirmed 8-point examination",
)

_EXAM_ITEMS = tuple(
    item
    for foot in FEET
    for item in (
        *(
            Item(
                id=f"{foot}_{finding}",
                label=f"{foot} foot: {label}",
                question=f"{label[:1].upper()}{label[1:]}",
                scale=scale,
                group=f"{foot}_foot",
            )
            for finding, (label, scale) in _EXAM_SCALES.items()
        ),
        Item(
            id=f"{foot}_monofilament",
            label=f"{foot} foot: monofilament (optional, not scored)",
            question="Monofilament (optional, not scored)",
            scale=_MONOFILAMENT,
            group=f"{foot}_foot",
            required=False,
            citation=_MONOFILAMENT_SOURCE,
        ),
    )
)

MNSI_EXAMINATION = InstrumentSpec(
    id="mnsi_examination",
    name="MNSI examination",
    measures="neuropathy signs at a foot examination: 4 findings per foot, 0-8",
    citation=FELDMAN_1994,
    licence=Licence(
        status="unknown",
        summary="not stated separately in the fact sheet; the MNSI questionnaire is free (PhenX)",
        citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
    ),
    items=_EXAM_ITEMS,
    versions=standard_version(
        _EXAM_ITEMS,
        CutOff(
            id="mnsi_exam_abnormal",
            applies_to="total",
            at_least=2.5,
            meaning="abnormal examination (both feet together)",
            citation=FELDMAN_1994,
        ),
    ),
    notes=(
        "Feet should be warm (> 30 °C) for the examination [C].",
        "The monofilament item of later versions (maximum 10) is unverified [U]: it may be "
        "recorded but is not part of the score.",
    ),
)


def score_mnsi_examination(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Sum the 4 scored findings of each foot (0-4 each, 0-8 total); abnormal at 2.5 or more.

    The cut-off applies to the total of both feet [C]; the per-foot sums are subscores so that
    asymmetry stays visible. A recorded monofilament result is echoed in ``details`` only.
    """
    subscores = {
        f"{foot}_foot": item_points(
            spec, values, tuple(f"{foot}_{finding}" for finding in _EXAM_SCALES)
        )
        for foot in FEET
    }
    total = sum(subscores.values())
    max_total = max_item_points(spec, version.item_ids)
    applied = apply_cut_offs(version.cut_offs, {"total": total})
    abnormal = met(applied, "mnsi_exam_abnormal")
    verdict = "abnormal (≥2.5)" if abnormal else "not abnormal (below 2.5)"
    details = {
        f"{foot}_monofilament_unscored": values[f"{foot}_monofilament"]
        for foot in FEET
        if f"{foot}_monofilament" in values
    }
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=total,
        max_total=max_total,
        interpretation=(
            f"MNSI examination {total:g}/{max_total:g} (left {subscores['left_foot']:g}, "
            f"right {subscores['right_foot']:g}): {verdict}"
        ),
        positive=abnormal,
        subscores=subscores,
        cut_offs=applied,
        details=details,
    )
