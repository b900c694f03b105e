"""Assessment instruments: hand-computed scores at every cut-off, answer checking with field paths,
answer-file loading, and a few properties. Cut-offs from shared/reference/clinical-facts.md §4."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stimwise.clinical.instruments import (
    INSTRUMENTS,
    InstrumentId,
    InstrumentResponse,
    answer_problems,
    load_responses,
    load_responses_file,
    score,
    score_all,
)
from stimwise.errors import InputError

PROPERTY = settings(max_examples=60, deadline=None)

DN4_INTERVIEW = (
    "burning",
    "painful_cold",
    "electric_shocks",
    "tingling",
    "pins_and_needles",
    "numbness",
    "itching",
)
DN4_EXAMINATION = ("touch_hypoaesthesia", "pinprick_hypoaesthesia", "brushing_pain")
EXAM_FINDINGS = ("appearance", "ulceration", "ankle_reflex", "vibration")
NORMAL_FINDING = {
    "appearance": "normal",
    "ulceration": "absent",
    "ankle_reflex": "present",
    "vibration": "present",
}


def respond(instrument: str, answers: dict, **fields) -> InstrumentResponse:
    return InstrumentResponse(instrument=instrument, answers=answers, **fields)


def problems_of(response: InstrumentResponse, prefix: str = "") -> dict[str, tuple]:
    """Path → (value, expected) of the InputError that scoring ``response`` raises."""
    with pytest.raises(InputError) as caught:
        score(response, prefix=prefix)
    return {p.path: (p.value, p.expected) for p in caught.value.problems}


def budapest(symptoms: set[str] = frozenset(), signs: set[str] = frozenset(), **gate) -> dict:
    """All Budapest items answered: the named findings yes/present, everything else no/absent."""
    answers = {"disproportionate_pain": True, "no_better_diagnosis": True, **gate}
    for item_id in INSTRUMENTS["budapest"].item_ids:
        if item_id.startswith("symptom_"):
            answers[item_id] = item_id in symptoms
        elif item_id.startswith("sign_"):
            answers[item_id] = item_id in signs
    return answers


def dn4(yes: set[str], items: tuple[str, ...] = DN4_INTERVIEW + DN4_EXAMINATION) -> dict:
    return {item: "yes" if item in yes else "no" for item in items}


def mnsi_questions(yes: set[int]) -> dict:
    return {f"item_{n}": n in yes for n in range(1, 16)}


def mnsi_exam(**findings: str) -> dict:
    """Both feet normal except the given ``left_vibration="reduced"``-style findings."""
    answers = {
        f"{foot}_{finding}": NORMAL_FINDING[finding]
        for foot in ("left", "right")
        for finding in EXAM_FINDINGS
    }
    return answers | findings


# --------------------------------------------------------------------------- registry


def test_registry_holds_exactly_the_instrument_ids():
    assert set(INSTRUMENTS) == set(typing.get_args(InstrumentId))


def test_every_cut_off_and_licence_carries_a_source_and_confidence_mark():
    for spec in INSTRUMENTS.values():
        assert spec.licence.citation.confidence in {"C", "C-s", "U"}
        cut_offs = [c for v in spec.versions for c in v.cut_offs] + list(spec.change_benchmarks)
        for cut_off in cut_offs:
            assert cut_off.citation.source
            assert cut_off.citation.confidence in {"C", "C-s", "U"}


def test_licence_status_follows_the_fact_sheet():
    assert INSTRUMENTS["mnsi_questionnaire"].licence.status == "free"
    assert INSTRUMENTS["mnsi_questionnaire"].licence.citation.confidence == "C"
    for instrument in ("css", "dn4"):
        assert INSTRUMENTS[instrument].licence.status == "unknown"
        assert INSTRUMENTS[instrument].licence.citation.confidence == "U"


# --------------------------------------------------------------------------- Budapest criteria


def test_budapest_clinical_met_but_not_research():
    symptoms = {
        "symptom_sensory_allodynia",
        "symptom_vasomotor_skin_colour_change",
        "symptom_sudomotor_oedema",
    }
    signs = {"sign_sensory_pinprick_hyperalgesia", "sign_motor_tremor"}
    result = score(respond("budapest", budapest(symptoms, signs)))
    assert result.subscores == {"symptom_categories": 3, "sign_categories": 2}
    assert result.details["clinical_met"] is True
    assert result.details["research_met"] is False
    assert result.details["symptom_categories"] == ("sensory", "vasomotor", "sudomotor_oedema")
    assert result.details["sign_categories"] == ("sensory", "motor_trophic")
    assert result.positive is True
    assert result.total is None
    applied = {a.cut_off.id: a.met for a in result.cut_offs}
    assert applied == {
        "clinical_symptoms": True,
        "clinical_signs": True,
        "research_symptoms": False,
        "research_signs": True,
    }


def test_budapest_research_needs_a_symptom_in_all_four_categories():
    symptoms = {
        "symptom_sensory_hyperaesthesia",
        "symptom_vasomotor_temperature_asymmetry",
        "symptom_sudomotor_sweating_change",
        "symptom_motor_nail_change",
    }
    signs = {"sign_vasomotor_temperature_asymmetry", "sign_sudomotor_oedema"}
    result = score(respond("budapest", budapest(symptoms, signs)))
    assert result.details["clinical_met"] is True
    assert result.details["research_met"] is True


def test_budapest_one_sign_category_is_not_enough():
    symptoms = {
        "symptom_sensory_allodynia",
        "symptom_vasomotor_skin_colour_change",
        "symptom_sudomotor_oedema",
        "symptom_motor_tremor",
    }
    signs = {"sign_motor_tremor", "sign_motor_dystonia", "sign_motor_hair_change"}
    result = score(respond("budapest", budapest(symptoms, signs)))
    assert result.subscores["sign_categories"] == 1  # three signs, one category
    assert result.positive is False
    assert result.details["research_met"] is False


def test_budapest_without_disproportionate_pain_or_with_a_better_diagnosis_is_not_met():
    all_symptoms = {i for i in INSTRUMENTS["budapest"].item_ids if i.startswith("symptom_")}
    all_signs = {i for i in INSTRUMENTS["budapest"].item_ids if i.startswith("sign_")}
    for gate in ({"disproportionate_pain": False}, {"no_better_diagnosis": "no"}):
        result = score(respond("budapest", budapest(all_symptoms, all_signs, **gate)))
        assert result.subscores == {"symptom_categories": 4, "sign_categories": 4}
        assert result.details["clinical_met"] is False
        assert result.details["research_met"] is False
    assert (
        "no continuing disproportionate pain"
        in score(
            respond("budapest", budapest(all_symptoms, all_signs, disproportionate_pain="no"))
        ).interpretation
    )


def test_budapest_signs_accept_present_and_absent_words():
    answers = budapest() | {"sign_sensory_light_touch_allodynia": "present"}
    answers["sign_motor_weakness"] = "absent"
    assert score(respond("budapest", answers)).subscores["sign_categories"] == 1


# --------------------------------------------------------------------------- CSS


def test_css_counts_items_present():
    answers = {f"item_{n}": "present" if n <= 9 else "absent" for n in range(1, 18)}
    result = score(respond("css", answers))
    assert (result.total, result.max_total, result.positive) == (9, 17, None)
    assert "4.9" in result.interpretation


def test_css_keeps_the_smallest_real_difference_as_a_change_benchmark():
    (srd,) = INSTRUMENTS["css"].change_benchmarks
    assert (srd.at_least, srd.citation.confidence) == (4.9, "C")
    assert any("[U]" in note and "9" in note for note in INSTRUMENTS["css"].notes)


# --------------------------------------------------------------------------- pain and sleep NRS


def test_pain_nrs_reports_three_ratings_without_a_total():
    result = score(respond("pain_nrs", {"current": 3, "average": 4, "worst": 7}))
    assert result.subscores == {"current": 3, "average": 4, "worst": 7}
    assert (result.total, result.positive) == (None, None)


def test_pain_nrs_accepts_both_ends_of_the_scale():
    result = score(respond("pain_nrs", {"current": 0, "average": 10, "worst": 10}))
    assert result.subscores == {"current": 0, "average": 10, "worst": 10}


@pytest.mark.parametrize("bad", [11, -1, 7.5, "7", True, None, [3]])
def test_pain_nrs_refuses_anything_but_an_integer_0_to_10(bad):
    problems = problems_of(respond("pain_nrs", {"current": bad, "average": 4, "worst": 7}))
    value, expected = problems["answers.current"]
    assert value == bad
    assert "an integer 0-10" in expected


def test_sleep_interference_is_its_own_total():
    result = score(respond("sleep_interference", {"sleep_interference": 6}))
    assert (result.total, result.max_total, result.positive) == (6, 10, None)
    assert INSTRUMENTS["sleep_interference"].citation.confidence == "U"


# --------------------------------------------------------------------------- DN4


def test_dn4_full_3_is_negative_and_4_is_positive():
    three = score(respond("dn4", dn4({"burning", "tingling", "numbness"})))
    four = score(respond("dn4", dn4({"burning", "tingling", "numbness", "brushing_pain"})))
    assert (three.total, three.max_total, three.positive) == (3, 10, False)
    assert (four.total, four.positive) == (4, True)
    assert four.subscores == {"interview": 3, "examination": 1}
    assert four.version == "full"
    (applied,) = four.cut_offs
    assert (applied.cut_off.at_least, applied.cut_off.citation.confidence) == (4, "C")


def test_dn4_interview_only_2_is_negative_and_3_is_positive():
    two = respond("dn4", dn4({"burning", "itching"}, DN4_INTERVIEW), version="interview")
    three = respond(
        "dn4", dn4({"burning", "itching", "numbness"}, DN4_INTERVIEW), version="interview"
    )
    assert (score(two).total, score(two).max_total, score(two).positive) == (2, 7, False)
    assert (score(three).total, score(three).positive) == (3, True)
    (applied,) = score(three).cut_offs
    assert (applied.cut_off.at_least, applied.cut_off.citation.confidence) == (3, "C-s")


def test_dn4_interview_answers_without_a_version_report_the_missing_examination():
    problems = problems_of(respond("dn4", dn4(set(), DN4_INTERVIEW)))
    assert set(problems) == {f"answers.{item}" for item in DN4_EXAMINATION}
    assert "versions without it: interview" in problems["answers.brushing_pain"][1]


def test_dn4_examination_item_in_the_interview_version_is_unknown():
    answers = dn4(set(), DN4_INTERVIEW) | {"brushing_pain": "yes"}
    problems = problems_of(respond("dn4", answers, version="interview"))
    value, expected = problems["answers.brushing_pain"]
    assert value == "yes"
    assert "no such item in the interview version of dn4" in expected


# --------------------------------------------------------------------------- MNSI questionnaire


def test_mnsi_questionnaire_all_no_scores_the_two_reverse_items():
    result = score(respond("mnsi_questionnaire", mnsi_questions(set())))
    assert (result.total, result.max_total) == (2, 13)  # "no" to items 7 and 13


def test_mnsi_questionnaire_all_yes_scores_eleven():
    result = score(respond("mnsi_questionnaire", mnsi_questions(set(range(1, 16)))))
    assert result.total == 11  # 13 scored items minus the reverse-scored 7 and 13


def test_mnsi_questionnaire_items_4_and_10_are_not_scored():
    base = mnsi_questions({1, 2})
    flipped = base | {"item_4": True, "item_10": True}
    assert score(respond("mnsi_questionnaire", base)).total == 4  # 1, 2, no to 7 and 13
    assert score(respond("mnsi_questionnaire", flipped)).total == 4


@pytest.mark.parametrize(
    ("yes", "total", "original", "herman"),
    [
        ({1, 2, 3, 5, 6}, 7, True, True),  # 5 yes + "no" to 7 and 13
        ({1, 2, 3, 5}, 6, False, True),
        ({1, 2, 3, 7}, 4, False, True),  # "yes" to 7 earns nothing; "no" to 13 earns 1
        ({1, 2, 7}, 3, False, False),
    ],
)
def test_mnsi_questionnaire_cut_offs_7_original_and_4_herman(yes, total, original, herman):
    result = score(respond("mnsi_questionnaire", mnsi_questions(yes)))
    assert result.total == total
    assert result.positive is original
    applied = {a.cut_off.id: a.met for a in result.cut_offs}
    assert applied == {"mnsi_q_abnormal_original": original, "mnsi_q_abnormal_herman": herman}


def test_mnsi_questionnaire_interpretation_names_the_lower_cut_off():
    result = score(respond("mnsi_questionnaire", mnsi_questions({1, 2, 3, 5})))
    assert "Herman 2012 (≥4)" in result.interpretation


# --------------------------------------------------------------------------- MNSI examination


def test_mnsi_examination_2_is_normal_and_2_5_is_abnormal_across_feet():
    findings = {
        "left_appearance": "abnormal",  # 1
        "right_vibration": "reduced",  # 0.5
        "right_ankle_reflex": "present_with_reinforcement",  # 0.5
    }
    two = score(respond("mnsi_examination", mnsi_exam(**findings)))
    assert (two.total, two.max_total, two.positive) == (2, 8, False)
    assert two.subscores == {"left_foot": 1, "right_foot": 1}
    more = score(respond("mnsi_examination", mnsi_exam(**findings, left_vibration="reduced")))
    assert more.subscores == {"left_foot": 1.5, "right_foot": 1}
    assert (more.total, more.positive) == (2.5, True)


def test_mnsi_examination_one_foot_alone_can_reach_2_5():
    result = score(
        respond(
            "mnsi_examination",
            mnsi_exam(
                left_appearance="abnormal",
                left_ulceration="present",
                left_ankle_reflex="present with reinforcement",
            ),
        )
    )
    assert result.subscores == {"left_foot": 2.5, "right_foot": 0}
    assert result.positive is True


def test_mnsi_examination_worst_case_is_8_and_monofilament_is_not_scored():
    worst = {
        f"{foot}_{finding}": value
        for foot in ("left", "right")
        for finding, value in (
            ("appearance", "abnormal"),
            ("ulceration", "present"),
            ("ankle_reflex", "absent"),
            ("vibration", "absent"),
        )
    }
    result = score(respond("mnsi_examination", worst | {"left_monofilament": "absent"}))
    assert (result.total, result.max_total) == (8, 8)
    assert result.details == {"left_monofilament_unscored": "absent"}


# --------------------------------------------------------------------------- PGIC


@pytest.mark.parametrize(
    ("level", "improvement", "category"),
    [
        ("very_much_improved", 3, "pgic_substantial"),
        ("much_improved", 2, "pgic_moderately_important"),
        ("minimally_improved", 1, "pgic_minimally_important"),
        ("no_change", 0, None),
        ("very_much_worse", -3, None),
    ],
)
def test_pgic_levels_map_to_the_immpact_categories(level, improvement, category):
    result = score(respond("pgic", {"impression": level}))
    assert result.subscores == {"improvement_level": improvement}
    assert result.details == {"level": level, "immpact_category": category}
    assert (result.total, result.positive) == (None, None)


def test_pgic_accepts_the_level_written_as_words():
    result = score(respond("pgic", {"impression": "Much improved"}))
    assert result.details["level"] == "much_improved"
    assert "moderately important" in result.interpretation


# --------------------------------------------------------------------------- answer checking


def test_missing_item_names_its_path_and_expectation():
    answers = mnsi_questions(set())
    del answers["item_7"]
    problems = problems_of(respond("mnsi_questionnaire", answers))
    assert problems == {"answers.item_7": (None, "an answer: yes or no (required item)")}


def test_null_answer_counts_as_missing():
    answers = mnsi_questions(set()) | {"item_7": None}
    value, expected = problems_of(respond("mnsi_questionnaire", answers))["answers.item_7"]
    assert value is None
    assert "required item" in expected


def test_unknown_item_is_refused_with_a_suggestion():
    answers = mnsi_questions(set()) | {"item_16": True, "burnign": "yes"}
    problems = problems_of(respond("mnsi_questionnaire", answers))
    assert problems["answers.item_16"][0] is True
    assert problems["answers.item_16"][1].startswith("no such item in mnsi_questionnaire")
    dn4_problems = problems_of(respond("dn4", dn4(set()) | {"burnign": "yes"}))
    assert dn4_problems["answers.burnign"] == (
        "yes",
        "no such item in dn4 (did you mean burning?)",
    )


@pytest.mark.parametrize(("bad"), ["maybe", 1, 0, "", 2.0])
def test_yes_no_item_refuses_other_values(bad):
    answers = mnsi_questions(set()) | {"item_7": bad}
    assert problems_of(respond("mnsi_questionnaire", answers))["answers.item_7"] == (
        bad,
        "yes or no",
    )


def test_yes_no_item_accepts_booleans_and_words_in_any_case():
    answers = mnsi_questions(set()) | {"item_1": "Yes", "item_2": " YES ", "item_3": True}
    assert score(respond("mnsi_questionnaire", answers)).total == 5


def test_choice_item_lists_its_options():
    answers = mnsi_exam(left_ankle_reflex="weak")
    problems = problems_of(respond("mnsi_examination", answers))
    assert problems == {
        "answers.left_ankle_reflex": (
            "weak",
            "one of: present, present_with_reinforcement, absent",
        )
    }


def test_all_problems_are_collected_before_raising():
    answers = mnsi_questions(set()) | {"item_3": "maybe", "item_99": True}
    del answers["item_7"]
    problems = problems_of(respond("mnsi_questionnaire", answers))
    assert set(problems) == {"answers.item_3", "answers.item_7", "answers.item_99"}


def test_prefix_locates_the_response_in_the_callers_document():
    response = respond("pain_nrs", {"current": 11, "average": 4, "worst": 7})
    assert set(problems_of(response, prefix="instruments[2]")) == {"instruments[2].answers.current"}
    assert [p.path for p in answer_problems(response, "instruments[2]")] == [
        "instruments[2].answers.current"
    ]


def test_unknown_version_is_one_problem():
    problems = problems_of(respond("pain_nrs", {}, version="full"))
    assert problems == {"version": ("full", "a version of pain_nrs, one of: standard")}


def test_input_error_is_never_a_bare_key_or_value_error():
    with pytest.raises(InputError) as caught:
        score(respond("css", {}))
    assert len(caught.value.problems) == 17
    assert caught.value.to_dict()["problems"][0] == {
        "path": "answers.item_1",
        "value": None,
        "expected": "an answer: present or absent (required item)",
    }


# --------------------------------------------------------------------------- documents


def test_load_responses_reports_answer_problems_of_every_response():
    document = {
        "responses": [
            {"instrument": "pain_nrs", "answers": {"current": 3, "average": 4, "worst": 7}},
            {"instrument": "sleep_interference", "answers": {"sleep_interference": 12}},
            {"instrument": "dn4", "version": "interview", "answers": dn4(set(), DN4_INTERVIEW[1:])},
        ]
    }
    with pytest.raises(InputError) as caught:
        load_responses(document, source="visit.yaml")
    assert [p.path for p in caught.value.problems] == [
        "responses.1.answers.sleep_interference",
        "responses.2.answers.burning",
    ]
    assert caught.value.source == "visit.yaml"


def test_load_responses_reports_structural_problems_with_paths():
    document = {
        "responses": [
            {"instrument": "dn5", "answers": {}},
            {"instrument": "pgic", "answered_on": "2024-02-30", "answers": {}},
            {"instrument": "pgic"},
        ],
        "patient": "x",
    }
    with pytest.raises(InputError) as caught:
        load_responses(document)
    paths = {p.path for p in caught.value.problems}
    assert paths == {
        "responses.0.instrument",
        "responses.1.answered_on",
        "responses.2.answers",
        "patient",
    }


def test_load_responses_file_reads_yaml_booleans_and_dates(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(
        "responses:\n"
        "  - instrument: dn4\n"
        "    version: interview\n"
        "    answered_on: 2024-05-02\n"
        "    answers: {burning: yes, painful_cold: no, electric_shocks: yes, tingling: yes,\n"
        "              pins_and_needles: no, numbness: no, itching: no}\n"
        "  - instrument: pgic\n"
        "    answers: {impression: much_improved}\n",
        encoding="utf-8",
    )
    dn4_score, pgic_score = score_all(load_responses_file(path))
    assert (dn4_score.total, dn4_score.positive) == (3, True)
    assert str(dn4_score.answered_on) == "2024-05-02"
    assert pgic_score.answered_on is None


def test_the_answer_file_example_in_the_docs_loads_and_scores():
    text = (Path(__file__).parents[1] / "docs" / "instruments.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    results = score_all(load_responses(yaml.safe_load(example)))
    assert [(r.instrument, r.total, r.positive) for r in results] == [
        ("dn4", 3, True),
        ("mnsi_examination", 3, True),
        ("pain_nrs", None, None),
        ("pgic", None, None),
    ]


def test_score_all_collects_problems_of_every_response():
    responses = [
        respond("sleep_interference", {"sleep_interference": "bad"}),
        respond("pgic", {"impression": "better"}),
    ]
    with pytest.raises(InputError) as caught:
        score_all(responses)
    assert [(p.path, p.expected) for p in caught.value.problems] == [
        ("responses.0.answers.sleep_interference", "an integer 0-10"),
        (
            "responses.1.answers.impression",
            "one of: very_much_improved, much_improved, minimally_improved, no_change, "
            "minimally_worse, much_worse, very_much_worse",
        ),
    ]


# --------------------------------------------------------------------------- properties

yes_no = st.sampled_from([True, False, "yes", "no", "Yes", "NO"])


@PROPERTY
@given(st.fixed_dictionaries({item: yes_no for item in DN4_INTERVIEW + DN4_EXAMINATION}))
def test_dn4_total_is_the_number_of_yes_answers(answers):
    yes = sum(
        value is True or (isinstance(value, str) and value.lower() == "yes")
        for value in answers.values()
    )
    result = score(respond("dn4", answers))
    assert result.total == yes
    assert result.positive == (yes >= 4)
    assert result.subscores["interview"] + result.subscores["examination"] == yes


EXAM_ITEMS = tuple(f"{foot}_{finding}" for foot in ("left", "right") for finding in EXAM_FINDINGS)
EXAM_OPTIONS = {
    item_id: [option.id for option in INSTRUMENTS["mnsi_examination"].item(item_id).scale.options]
    for item_id in EXAM_ITEMS
}  # options are listed from best (0 points) to worst


@PROPERTY
@given(
    st.fixed_dictionaries({item: st.sampled_from(EXAM_OPTIONS[item]) for item in EXAM_ITEMS}),
    st.sampled_from(EXAM_ITEMS),
)
def test_mnsi_examination_total_stays_in_0_to_8_and_rises_when_a_finding_worsens(answers, item):
    before = score(respond("mnsi_examination", answers))
    assert 0 <= before.total <= 8
    assert before.total == sum(before.subscores.values())
    options = EXAM_OPTIONS[item]
    position = options.index(answers[item])
    if position + 1 < len(options):
        worse = answers | {item: options[position + 1]}
        assert score(respond("mnsi_examination", worse)).total > before.total


@PROPERTY
@given(st.fixed_dictionaries({i: st.booleans() for i in INSTRUMENTS["budapest"].item_ids}))
def test_budapest_research_criteria_imply_clinical_criteria(answers):
    result = score(respond("budapest", answers))
    assert not result.details["research_met"] or result.details["clinical_met"]
    assert result.positive == result.details["clinical_met"]
