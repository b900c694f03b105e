"""CRPS instruments: the Budapest diagnostic criteria and the CRPS Severity Score (CSS).

Facts and marks from ``shared/reference/clinical-facts.md`` §4.
"""

from __future__ import annotations

from collections.abc import Mapping

from stimwise.clinical.instruments.models import InstrumentScore
from stimwise.clinical.instruments.scoring import apply_cut_offs, item_points, met
from stimwise.clinical.instruments.spec import (
    LICENSING_SUMMARY,
    Answer,
    BinaryScale,
    CutOff,
    InstrumentSpec,
    InstrumentVersion,
    Item,
    Licence,
    standard_version,
)
from stimwise.protocol.models import Citation

HARDEN_2010 = Citation(
    source="Harden et al. 2010, Pain 150:268-74, doi 10.1016/j.pain.2010.04.030",
    confidence="C",
)

# --------------------------------------------------------------------------- Budapest criteria

BUDAPEST_CATEGORIES = ("sensory", "vasomotor", "sudomotor_oedema", "motor_trophic")
"""The four categories of CRPS symptoms and signs [C: Harden 2010]."""

_ID_STEM = {
    "sensory": "sensory",
    "vasomotor": "vasomotor",
    "sudomotor_oedema": "sudomotor",
    "motor_trophic": "motor",
}

_VASOMOTOR = (
    ("temperature_asymmetry", "temperature asymmetry"),
    ("skin_colour_change", "skin colour change"),
    ("skin_colour_asymmetry", "skin colour asymmetry"),
)
_SUDOMOTOR = (
    ("oedema", "oedema"),
    ("sweating_change", "sweating change"),
    ("sweating_asymmetry", "sweating asymmetry"),
)
_MOTOR_TROPHIC = (
    ("reduced_range_of_motion", "reduced range of motion"),
    ("weakness", "motor dysfunction: weakness"),
    ("tremor", "motor dysfunction: tremor"),
    ("dystonia", "motor dysfunction: dystonia"),
    ("hair_change", "trophic change: hair"),
    ("nail_change", "trophic change: nail"),
    ("skin_change", "trophic change: skin"),
)
_FINDINGS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "symptom": {
        "sensory": (("hyperaesthesia", "hyperaesthesia"), ("allodynia", "allodynia")),
        "vasomotor": _VASOMOTOR,
        "sudomotor_oedema": _SUDOMOTOR,
        "motor_trophic": _MOTOR_TROPHIC,
    },
    "sign": {
        "sensory": (
            ("pinprick_hyperalgesia", "hyperalgesia to pinprick"),
            ("light_touch_allodynia", "allodynia to light touch"),
            ("deep_pressure_allodynia", "allodynia to deep pressure"),
            ("joint_movement_allodynia", "allodynia to joint movement"),
        ),
        "vasomotor": _VASOMOTOR,
        "sudomotor_oedema": _SUDOMOTOR,
        "motor_trophic": _MOTOR_TROPHIC,
    },
}
"""Symptoms (reported by the patient) and signs (observed at the evaluation) per category, as
listed in the fact sheet [C: Harden 2010]. Item id: ``{symptom|sign}_{stem}_{finding}``."""

_HOW_FOUND = {"symptom": "reported", "sign": "observed at evaluation"}
_YES_NO = BinaryScale(true_word="yes", false_word="no")
_PRESENT_ABSENT = BinaryScale(true_word="present", false_word="absent")

_CATEGORY_OF: dict[str, tuple[str, str]] = {
    f"{kind}_{_ID_STEM[category]}_{finding}": (kind, category)
    for kind, categories in _FINDINGS.items()
    for category, findings in categories.items()
    for finding, _ in findings
}
"""Item id → (``symptom`` or ``sign``, category)."""

_BUDAPEST_ITEMS = (
    Item(
        id="disproportionate_pain",
        label="continuing pain disproportionate to any inciting event",
        question="Continuing pain out of proportion to any inciting event?",
        scale=_YES_NO,
    ),
    *(
        Item(
            id=f"{kind}_{_ID_STEM[category]}_{finding}",
            label=f"{kind} ({_HOW_FOUND[kind]}): {label}",
            question=f"{label[:1].upper()}{label[1:]}?",
            scale=_YES_NO if kind == "symptom" else _PRESENT_ABSENT,
            group=f"{kind}:{category}",
        )
        for kind, categories in _FINDINGS.items()
        for category, findings in categories.items()
        for finding, label in findings
    ),
    Item(
        id="no_better_diagnosis",
        label="no other diagnosis better explains the signs and symptoms",
        question="Is there no other diagnosis that better explains the signs and symptoms?",
        scale=_YES_NO,
    ),
)

BUDAPEST = InstrumentSpec(
    id="budapest",
    name="Budapest criteria for CRPS",
    measures="whether CRPS diagnostic criteria are met (clinical and research versions)",
    citation=HARDEN_2010,
    licence=Licence(
        status="no_licence_known",
        summary="published diagnostic criteria, no licence known",
        citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
    ),
    items=_BUDAPEST_ITEMS,
    versions=standard_version(
        _BUDAPEST_ITEMS,
        CutOff(
            id="clinical_symptoms",
            applies_to="symptom_categories",
            at_least=3,
            meaning="clinical criteria: at least one symptom in at least 3 of 4 categories",
            citation=HARDEN_2010,
        ),
        CutOff(
            id="clinical_signs",
            applies_to="sign_categories",
            at_least=2,
            meaning="clinical criteria: at least one sign in at least 2 of 4 categories",
            citation=HARDEN_2010,
        ),
        CutOff(
            id="research_symptoms",
            applies_to="symptom_categories",
            at_least=4,
            meaning="research criteria: at least one symptom in all 4 categories",
            citation=HARDEN_2010,
        ),
        CutOff(
            id="research_signs",
            applies_to="sign_categories",
            at_least=2,
            meaning="research criteria: at least one sign in at least 2 of 4 categories",
            citation=HARDEN_2010,
        ),
    ),
    notes=(
        "Both versions also require continuing disproportionate pain and no better diagnosis "
        "[C: Harden 2010].",
        "A sign counts only if observed at the evaluation [C: Harden 2010].",
        "Validation (113 CRPS-I vs 47 non-CRPS neuropathic pain): clinical sensitivity 0.99, "
        "specificity 0.68; research specificity 0.79 [C]; research sensitivity about 0.78 [U].",
        "Temperature asymmetry is often operationalised as > 1 °C [C-s].",
    ),
)


def score_budapest(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Count the categories with a symptom and with a sign, and apply both criteria sets.

    A category counts once however many of its findings are present, which is why the criteria
    are stated in categories, not findings. Both the clinical and the research criteria also
    need continuing disproportionate pain and no better diagnosis; without those two the
    criteria are not met whatever the counts.
    """
    with_finding: dict[str, set[str]] = {"symptom": set(), "sign": set()}
    for item_id, (kind, category) in _CATEGORY_OF.items():
        if values[item_id]:
            with_finding[kind].add(category)
    symptom_categories = tuple(c for c in BUDAPEST_CATEGORIES if c in with_finding["symptom"])
    sign_categories = tuple(c for c in BUDAPEST_CATEGORIES if c in with_finding["sign"])
    measures = {
        "symptom_categories": float(len(symptom_categories)),
        "sign_categories": float(len(sign_categories)),
    }
    applied = apply_cut_offs(version.cut_offs, measures)
    gate = bool(values["disproportionate_pain"]) and bool(values["no_better_diagnosis"])
    clinical = gate and met(applied, "clinical_symptoms") and met(applied, "clinical_signs")
    research = gate and met(applied, "research_symptoms") and met(applied, "research_signs")

    verdict = {True: "met", False: "not met"}
    interpretation = (
        f"clinical criteria {verdict[clinical]}, research criteria {verdict[research]} "
        f"(symptoms in {len(symptom_categories)}/4 categories, signs in "
        f"{len(sign_categories)}/4"
    )
    missing = [
        reason
        for reason, present in (
            ("no continuing disproportionate pain", values["disproportionate_pain"]),
            ("a better diagnosis exists", values["no_better_diagnosis"]),
        )
        if not present
    ]
    interpretation += f"; {', '.join(missing)})" if missing else ")"
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=None,
        max_total=None,
        interpretation=interpretation,
        positive=clinical,
        subscores=measures,
        cut_offs=applied,
        details={
            "clinical_met": clinical,
            "research_met": research,
            "symptom_categories": symptom_categories,
            "sign_categories": sign_categories,
            "disproportionate_pain": bool(values["disproportionate_pain"]),
            "no_better_diagnosis": bool(values["no_better_diagnosis"]),
        },
    )


# --------------------------------------------------------------------------- CRPS Severity Score

CSS_ITEM_COUNT = 17
"""17 signs and symptoms scored present/absent, total 0-17 [C: Harden 2010]."""

_CSS_ITEMS = tuple(
    Item(
        id=f"item_{number}",
        label=f"CSS item {number} (numbered as on the published score sheet)",
        question=f"Item {number} of the CRPS Severity Score sheet: present?",
        scale=_PRESENT_ABSENT,
    )
    for number in range(1, CSS_ITEM_COUNT + 1)
)

CSS = InstrumentSpec(
    id="css",
    name="CRPS Severity Score",
    measures="CRPS severity: how many of 17 CRPS signs and symptoms are present",
    citation=Citation(
        source="Harden et al. 2010, Pain (CSS development; 114 CRPS vs 41 non-CRPS patients)",
        confidence="C",
        note="journal pages Pain 151:870-6 unverified [U]",
    ),
    licence=Licence(
        status="unknown",
        summary="published in the article; licence status unknown",
        citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
    ),
    items=_CSS_ITEMS,
    versions=standard_version(_CSS_ITEMS),
    change_benchmarks=(
        CutOff(
            id="css_smallest_real_difference",
            applies_to="change_in_total",
            at_least=4.9,
            meaning="smallest real difference between two scores (95 % confidence)",
            citation=Citation(source="CSS multisite validation (n = 156)", confidence="C"),
        ),
    ),
    notes=(
        "Items are stored by number only: the split into 8 self-reported symptoms and 9 "
        "examiner signs is unverified [U], so stimwise assumes no item content and scores the "
        "count of items present.",
        "Association with diagnosis: Eta 0.69 with IASP, 0.77-0.88 with Budapest [C].",
    ),
)


def score_css(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """Count the items present (0-17; higher is more severe).

    The CSS has no diagnostic cut-off; its one published threshold is the smallest real
    difference between visits (4.9 points [C]), kept in ``change_benchmarks`` and quoted in the
    interpretation so a single score is not over-read.
    """
    total = item_points(spec, values, version.item_ids)
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=total,
        max_total=float(CSS_ITEM_COUNT),
        interpretation=(
            f"CSS {total:g}/{CSS_ITEM_COUNT} (higher = more severe); a change between visits "
            "needs at least 4.9 points to exceed the smallest real difference"
        ),
        positive=None,
    )
