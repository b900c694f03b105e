"""DN4 neuropathic-pain screening questionnaire, full (10 items) and interview-only (7 items).

Facts and marks from ``shared/reference/clinical-facts.md`` §4. The DN4's licence holder is not
confirmed [U], so items carry stimwise's own short labels, not the questionnaire's wording.
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
)
from stimwise.protocol.models import Citation

BOUHASSIRA_2005 = Citation(
    source="Bouhassira et al. 2005, Pain 114:29-36",
    confidence="C",
    note="content confirmed [C]; citation details unverified [U]",
)

_INTERVIEW = (
    ("burning", "burning pain"),
    ("painful_cold", "painful cold"),
    ("electric_shocks", "electric-shock-like pain"),
    ("tingling", "tingling"),
    ("pins_and_needles", "pins and needles"),
    ("numbness", "numbness"),
    ("itching", "itching"),
)
_EXAMINATION = (
    ("touch_hypoaesthesia", "reduced sensation to touch"),
    ("pinprick_hypoaesthesia", "reduced sensation to pinprick"),
    ("brushing_pain", "pain evoked by brushing"),
)

_YES_NO = BinaryScale(true_word="yes", false_word="no")
_ITEMS = tuple(
    Item(id=item_id, label=label, scale=_YES_NO, group=group,
         question=f"{label[:1].upper()}{label[1:]}?")
    for group, findings in (("interview", _INTERVIEW), ("examination", _EXAMINATION))
    for item_id, label in findings
)
INTERVIEW_ITEM_IDS = tuple(item_id for item_id, _ in _INTERVIEW)
EXAMINATION_ITEM_IDS = tuple(item_id for item_id, _ in _EXAMINATION)

DN4 = InstrumentSpec(
    id="dn4",
    name="DN4 (Douleur Neuropathique en 4 questions)",
    measures="screening for neuropathic pain: 7 interview and 3 examination items, 1 point each",
    citation=BOUHASSIRA_2005,
    licence=Licence(
        status="unknown",
        summary="licence and copyright holder not confirmed",
        citation=Citation(source=LICENSING_SUMMARY, confidence="U"),
    ),
    items=_ITEMS,
    versions=(
        InstrumentVersion(
            id="full",
            label="full DN4: 7 interview + 3 examination items, 0-10",
            item_ids=INTERVIEW_ITEM_IDS + EXAMINATION_ITEM_IDS,
            cut_offs=(
                CutOff(
                    id="dn4_positive",
                    applies_to="total",
                    at_least=4,
                    meaning="screening positive for neuropathic pain (at least 4 of 10)",
                    citation=BOUHASSIRA_2005,
                ),
            ),
        ),
        InstrumentVersion(
            id="interview",
            label="interview-only DN4: 7 interview items, 0-7",
            item_ids=INTERVIEW_ITEM_IDS,
            cut_offs=(
                CutOff(
                    id="dn4_interview_positive",
                    applies_to="total",
                    at_least=3,
                    meaning="screening positive for neuropathic pain (at least 3 of 7)",
                    citation=Citation(
                        source="DN4 interview-only cut-off, secondary source",
                        confidence="C-s",
                        note="in painful DPN (Spallone 2012) interview cut-off 3: "
                        "sensitivity 84 %, specificity 84 % [C]",
                    ),
                ),
            ),
        ),
    ),
    notes=(
        "Development sample: 160 patients (89 neurological lesion, 71 somatic) [C]; original "
        "sensitivity 82.9 %, specificity 89.9 % [U].",
        "Painful diabetic neuropathy (Spallone 2012, Diabet Med 29:578-85, n = 158): cut-off 4 "
        "gives sensitivity 80 %, specificity 92 %, AUC 0.94 [C].",
        "Dutch consecutive-clinic validation: sensitivity 75 %, specificity 76 % [C].",
    ),
)


def score_dn4(
    spec: InstrumentSpec, version: InstrumentVersion, values: Mapping[str, Answer]
) -> InstrumentScore:
    """One point per ``yes``; positive at the version's cut-off (4/10 full [C], 3/7 interview
    [C-s]).

    The version is explicit in the response rather than guessed from the items given, so that a
    forgotten examination item is reported as missing instead of silently switching the
    cut-off.
    """
    total = item_points(spec, values, version.item_ids)
    subscores = {"interview": item_points(spec, values, INTERVIEW_ITEM_IDS)}
    if version.id == "full":
        subscores["examination"] = item_points(spec, values, EXAMINATION_ITEM_IDS)
    applied = apply_cut_offs(version.cut_offs, {"total": total})
    cut_off = version.cut_offs[0]
    positive = met(applied, cut_off.id)
    max_total = len(version.item_ids)
    verdict = "screening positive" if positive else "screening negative"
    return InstrumentScore(
        instrument=spec.id,
        version=version.id,
        total=total,
        max_total=float(max_total),
        interpretation=(
            f"DN4 ({version.id}) {total:g}/{max_total}: {verdict} for neuropathic pain "
            f"(cut-off {cut_off.at_least:g}/{max_total})"
        ),
        positive=positive,
        subscores=subscores,
        cut_offs=applied,
    )
