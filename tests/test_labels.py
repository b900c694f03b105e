"""Human words from one place: every field of the intake (and of its nested models) has a title,
every choice a label, every body site and instrument item words; error paths become the words the
page shows; no label carries ``snake_case``."""

from __future__ import annotations

import re
import types
from typing import Annotated, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from intake_builders import base_intake, implant, intake_from, make_intake
from stimwise.clinical.instruments import INSTRUMENTS, questionnaire
from stimwise.clinical.intake import Intake, SiteSelector
from stimwise.clinical.labels import (
    CHOICE_LABELS,
    FIELD_CHOICE_LABELS,
    SCREENING_LABELS,
    accepts_unknown,
    choice_label,
    choices,
    field_label,
    is_site_field,
    label_path,
    problem_in_words,
    problems_in_words,
    screening_label,
)
from stimwise.clinical.screening import screen
from stimwise.clinical.texts import patient_text
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.body_sites import SELECTOR_NAMES
from stimwise.protocol.site_names import site_label

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _members(annotation):
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for a in get_args(annotation) for m in _members(a)]
    return [annotation]


def _walk(model: type[BaseModel], prefix: str = ""):
    """Every field path of ``model`` (rows as ``.0``), with its annotation and the data that
    selects its variant of a tagged union."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info
        for member in _members(info.annotation):
            if get_origin(member) in (tuple, list):
                member = get_args(member)[0]
                for inner in _members(member):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        yield from _walk(inner, f"{path}.0.")
            elif isinstance(member, type) and issubclass(member, BaseModel):
                yield from _walk(member, f"{path}.")


FIELDS = list(_walk(Intake))
DIAGNOSIS_KINDS = ("crps", "neuropathy", "other")


def _literal_values(info) -> list:
    """The choice values of a field (the word ``unknown`` of a list question is no choice)."""
    values = []
    members = _members(info.annotation)
    if any(get_origin(m) in (tuple, list) for m in members):
        members = [m for m in members if get_origin(m) is not Literal]
    for member in members:
        if get_origin(member) in (tuple, list):
            member = get_args(member)[0]
        for inner in _members(member):
            if get_origin(inner) is Literal:
                values += [v for v in get_args(inner)]
    return values


def test_the_walk_reaches_every_nested_model():
    paths = {p for p, _ in FIELDS}
    for expected in ("cardiac.recent_myocardial_infarction", "implants.0.lead_sites",
                     "diagnoses.0.crps_type", "diagnoses.0.cause", "instruments.0.answers",
                     "external_devices.0.kind", "radiotherapy.0.ended_on", "home_use.planned"):
        assert expected in paths
    assert len(paths) >= 80


@pytest.mark.parametrize("path, info", FIELDS, ids=[p for p, _ in FIELDS])
def test_every_field_has_a_title_in_words(path, info):
    assert info.title, f"{path} has no title"
    assert not SNAKE.search(info.title), info.title
    data = None
    if path.startswith("diagnoses.0."):
        kind = next(k for k in DIAGNOSIS_KINDS if path.split(".")[-1] in _diagnosis_fields(k))
        data = {"diagnoses": [{"kind": kind}]}
    words = label_path(path, data)
    assert not SNAKE.search(words) and "_" not in words, words
    assert words.endswith(info.title)


def _diagnosis_fields(kind: str) -> set[str]:
    from stimwise.clinical.intake import CrpsDiagnosis, NeuropathyDiagnosis, OtherDiagnosis

    model = {"crps": CrpsDiagnosis, "neuropathy": NeuropathyDiagnosis, "other": OtherDiagnosis}
    return set(model[kind].model_fields)


CHOICE_FIELDS = [(p, v) for p, info in FIELDS for v in _literal_values(info)]


@pytest.mark.parametrize("path, value", CHOICE_FIELDS, ids=[f"{p}={v}" for p, v in CHOICE_FIELDS])
def test_every_choice_has_a_label_of_its_own(path, value):
    text = str(value)
    key = ".".join(p for p in path.split(".") if not p.isdigit())
    explicit = (text in FIELD_CHOICE_LABELS.get(key, {})
                or text in FIELD_CHOICE_LABELS.get(key.split(".")[0], {})
                or text in CHOICE_LABELS or key == "instruments.instrument")
    assert explicit, f"no label for {path} = {value!r}"
    words = choice_label(path, value)
    assert "_" not in words and (words[:1].isupper() or words[:1].isdigit()), words


@pytest.mark.parametrize("path", sorted({p for p, _ in CHOICE_FIELDS}))
def test_choices_list_every_value_with_its_words(path):
    data = None
    if path.startswith("diagnoses.0."):
        kind = next(k for k in DIAGNOSIS_KINDS if path.split(".")[-1] in _diagnosis_fields(k))
        data = {"diagnoses": [{"kind": kind}]}
    options = choices(path, data)
    assert options, path
    assert all("_" not in o.label for o in options)
    assert len({o.value for o in options}) == len(options)


def test_the_words_the_issue_found_missing():
    assert field_label("diagnoses.0.crps_type") == "CRPS type"
    assert label_path("diagnoses.0.crps_type") == "Diagnoses > Diagnosis 1 > CRPS type"
    assert choice_label("implants.0.kind", "demand_pacemaker") == "Demand pacemaker"
    assert choice_label("pregnancy", "not_pregnant") == "Not pregnant"
    assert label_path("cardiac.recent_myocardial_infarction") == (
        "Heart > Recent heart attack (myocardial infarction)")


def test_every_site_selector_has_words():
    names = {site_label(s) for s in SELECTOR_NAMES}
    assert len(names) == len(SELECTOR_NAMES)  # no two places share words
    assert not any("_" in n for n in names)
    assert choice_label("implants.0.site", "left_hand_dorsal") == "Left hand, back"
    assert is_site_field("implants.0.site") and is_site_field("pain_sites")
    assert is_site_field("implants.0.lead_sites") and not is_site_field("implants.0.kind")


def test_site_fields_are_exactly_the_selector_fields():
    for path, info in FIELDS:
        selector = any(getattr(m, "func", None) is get_args(SiteSelector)[1].func
                       for m in info.metadata) or SiteSelector in [
            get_args(m)[0] for m in _members(info.annotation) if get_origin(m) is tuple]
        assert is_site_field(path) is selector, path


def test_unknown_is_offered_exactly_for_the_list_questions():
    from stimwise.clinical.intake import LIST_QUESTIONS

    offered = {p for p, _ in FIELDS if "." not in p and accepts_unknown(p)}
    assert offered == set(LIST_QUESTIONS)


def test_instrument_answers_are_named_by_their_item():
    data = {"instruments": [{"instrument": "dn4", "answers": {}}]}
    assert label_path("instruments.0.answers.burning", data) == (
        "Questionnaires > Questionnaire 1 > Answers > Burning pain")
    assert choice_label("instruments.0.instrument", "pgic") == "Patient Global Impression of Change"


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_every_instrument_item_is_asked_in_words(instrument):
    spec = INSTRUMENTS[instrument]
    for version in spec.versions:
        asked = questionnaire(instrument, version.id)
        for question in asked.questions:
            assert question.text and "_" not in question.text
            assert question.section is None or "_" not in question.section
            assert question.choices and all("_" not in c.label for c in question.choices)
            for choice in question.choices:  # each stored value is an answer the scale accepts
                assert spec.item(question.item_id).scale.parse(choice.value) is not None


def test_screening_values_have_words():
    from stimwise.clinical.rules import Tier
    from stimwise.clinical.screening import DECISION_ORDER, RuleFinding
    from stimwise.safety.caps import LEVEL_ORDER

    statuses = get_args(RuleFinding.model_fields["status"].annotation)
    values = {*DECISION_ORDER, *get_args(Tier), *statuses, *LEVEL_ORDER}
    assert values <= set(SCREENING_LABELS)
    assert all("_" not in screening_label(v) for v in values)


# --------------------------------------------------------------------------- errors in words


def test_errors_are_in_the_words_the_page_shows():
    document = base_intake(
        cardiac={"recent_myocardial_infarction": "maybe"},
        implants=[implant("demand_pacemaker", "left hnad")],
        pregnancy="pregnent",
    )
    del document["epilepsy"]
    with pytest.raises(InputError) as caught:
        intake_from(document)
    words = {p.path: p for p in problems_in_words(caught.value, document)}
    assert words["cardiac.recent_myocardial_infarction"].where == (
        "Heart > Recent heart attack (myocardial infarction)")
    assert words["cardiac.recent_myocardial_infarction"].expected == "one of: Yes, No, Unknown"
    assert words["epilepsy"].expected.startswith("an answer (this question is required")
    assert "Not pregnant" in words["pregnancy"].expected
    site = words["implants.0.site"]
    assert site.where == "Implants > Implant 1 > Where it sits"
    assert "Left hand (whole)" in site.expected  # the matcher's suggestion
    for problem in words.values():
        assert not SNAKE.search(problem.message), problem.message


def test_a_contradiction_names_the_other_field_in_words():
    problem = FieldProblem("cardiac.arrhythmia_kind", "ventricular",
                           "no value, or cardiac.arrhythmia 'yes' (the answer there is 'no')")
    words = problem_in_words(problem)
    assert "'Heart > Arrhythmia (irregular heart rhythm)'" in words.expected
    assert words.value == "Ventricular arrhythmia"
    assert not SNAKE.search(words.message)


@pytest.mark.parametrize("overrides", [
    {"implants": [implant("vagus_nerve_stimulator", "left_chest", lead_sites=["neck_anterior"])]},
    {"implants": "unknown", "skin": "unknown"},
    {"external_devices": [{"kind": "insulin_pump", "site": "left_abdomen"}],
     "cognition": "dementia", "carer": "present", "anticoagulant_therapy": "unknown"},
    {"arterial_disease": [{"site": "left_foot", "severity": "severe"}],
     "thromboses": [{"kind": "dvt", "status": "past", "site": "left_calf"}]},
])
def test_screening_details_and_patient_texts_carry_no_snake_case(overrides):
    screening = screen(make_intake(**overrides))
    for finding in screening.findings:
        for detail in finding.details:
            assert not SNAKE.search(detail), detail
    assert not SNAKE.search(patient_text(screening))
    for action in screening.required_actions:
        assert not SNAKE.search(action.text), action.text


def test_number_date_and_length_problems_are_in_words():
    document = base_intake(age_years="x", assessed_on="2026-13-01")
    document["clearances"] = [{"rule_id": "CI-CARDIAC-DEVICE", "cleared_by": "A",
                               "role": "cardiologist", "cleared_on": "2026-11-01"}]
    document["diagnoses"] = [{"kind": "crps", "crps_type": "I", "affected_sites": []}]
    with pytest.raises(InputError) as caught:
        intake_from(document)
    words = {p.path: p.expected for p in problems_in_words(caught.value, document)}
    assert words["age_years"] == "a whole number"
    assert words["assessed_on"] == "a date (day, month and year)"
    assert words["clearances.0.cleared_by"] == "at least 2 characters"
    assert words["diagnoses.0.affected_sites"] == "at least one entry"


def test_field_info_is_the_model_field_at_a_path():
    from stimwise.clinical.labels import field_info

    assert field_info("implants.0.kind").is_required()
    assert field_info("cardiac.arrhythmia_kind").is_required() is False
    assert field_info("implants.0") is None  # a row, not a field


def test_a_row_of_a_tagged_union_has_no_choices_and_its_problem_has_words():
    """A diagnosis row without its kind: the problem is at the row itself (``diagnoses.0``),
    which is a union of models, not a choice."""
    assert choices("diagnoses.0") == ()
    words = problem_in_words(FieldProblem("diagnoses.0", None, "a value (this field is "
                                          "required)"), {"diagnoses": [{}]})
    assert words.where == "Diagnoses > Diagnosis 1"
    assert words.expected == "an answer (this question is required)"


def test_a_row_without_its_kind_asks_for_the_kind_in_words():
    words = problem_in_words(FieldProblem(
        "diagnoses.0", "{...}", "Unable to extract tag using discriminator 'kind'"),
        {"diagnoses": [{"affected_sites": ["left_hand"]}]})
    assert words.expected == "an answer to 'Diagnoses > Diagnosis 1 > Kind of diagnosis'"
    assert words.value == ""
