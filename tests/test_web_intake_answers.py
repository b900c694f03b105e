"""The intake page's answers read into an intake (format 2): every example survives the trip
through the page, "unknown" lists, places by name, questionnaires item by item, clearances, and
what the page hides is not read (HAZ-161..164)."""

from __future__ import annotations

from datetime import date

import pytest

from intake_builders import FORMAT_2_ANSWERS
from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.instruments.questionnaire import partial_score
from stimwise.clinical.intake import LIST_QUESTIONS, Intake
from stimwise.clinical.labels import problem_in_words
from stimwise.clinical.screening import screen
from stimwise.protocol.io import load_model_file, validate_model
from stimwise.web.services.intake_answers import (
    blank_form,
    check_answers,
    form_from_intake,
    liftable_rule_ids,
    page_inputs,
    provisional_intake,
    read_answers,
)
from stimwise.web.services.intake_view import intake_page, score_so_far

TODAY = date(2026, 11, 10)
PSEUDONYM = "P-INTAKE-1"
SNAKE = r"\b[a-z]+_[a-z_]+\b"


def complete_form(**answers: list[str] | str) -> dict[str, list[str]]:
    """A page whose every required question is answered "no" or its plain choice, changed by
    ``answers`` (a name with a text or a list of texts)."""
    form = blank_form(TODAY)
    form.update({
        "age_years": ["60"], "sex": ["female"], "pregnancy": ["not_pregnant"],
        "can_report_sensations": ["yes"], "cognition": ["intact"], "carer": ["none"],
        "cardiac.arrhythmia": ["no"], "cardiac.heart_failure": ["no"],
        "cardiac.recent_myocardial_infarction": ["no"], "epilepsy": ["no"],
        "parkinsons_disease": ["no"], "bleeding_tendency": ["no"],
        "anticoagulant_therapy": ["no"], "home_use.planned": ["false"],
    })
    for question in LIST_QUESTIONS:
        form[f"{question}.__answer"] = ["no"]
    form.update({k: [v] if isinstance(v, str) else v for k, v in answers.items()})
    return form


def read(form) -> tuple[Intake | None, list]:
    return check_answers(read_answers(form, PSEUDONYM), source="test")


def words(problems, form) -> dict[str, str]:
    data = read_answers(form, PSEUDONYM).data
    return {p.anchor: p.words or problem_in_words(p.problem, data).expected for p in problems}


def _format_2(name: str) -> Intake:
    intake = load_model_file(Intake, example_patient_path(name))
    data = {**intake.model_dump(mode="json"), "schema_version": 2, **FORMAT_2_ANSWERS}
    return validate_model(Intake, data, source=name)


@pytest.mark.parametrize("name", example_names())
def test_every_example_intake_survives_the_trip_through_the_page(name):
    intake = _format_2(name)
    form = form_from_intake(intake.model_dump(mode="json"))
    parsed, problems = check_answers(read_answers(form, intake.patient_id), source=name)
    assert problems == []
    by_kind = sorted(intake.instruments, key=lambda r: r.instrument)
    assert parsed.model_copy(update={"instruments": ()}) == intake.model_copy(
        update={"instruments": ()})
    assert sorted(parsed.instruments, key=lambda r: r.instrument) == by_kind


def test_the_page_submits_format_2_with_its_new_questions():
    intake, problems = read(complete_form())
    assert problems == []
    assert intake.schema_version == 2
    assert intake.not_asked == ()
    assert intake.arterial_disease == () and intake.anticoagulant_therapy == "no"


def test_a_format_1_intake_written_back_asks_the_questions_it_did_not_have():
    intake = load_model_file(Intake, example_patient_path("crps-allodynia"))
    form = form_from_intake(intake.model_dump(mode="json"))
    parsed, problems = read(form)
    assert parsed is None
    assert {p.anchor for p in problems} == {
        "arterial_disease", "anticoagulant_therapy", "external_devices", "radiotherapy",
        "cognition", "carer", "parkinsons_disease"}


# --------------------------------------------------------------------------- unknown is not no


def test_HAZ161_an_untouched_page_is_refused_question_by_question_never_read_as_no():
    intake, problems = read(blank_form(TODAY))
    assert intake is None
    anchors = {p.anchor for p in problems}
    for question in (*LIST_QUESTIONS, "cardiac.arrhythmia", "epilepsy", "pregnancy", "sex",
                     "bleeding_tendency", "anticoagulant_therapy", "cognition", "carer",
                     "home_use.planned", "can_report_sensations", "parkinsons_disease"):
        assert question in anchors, question
    said = words(problems, blank_form(TODAY))
    assert said["implants"] == "an answer (this question is required; 'Unknown' when not known)"
    assert said["age_years"] == "an answer (this question is required)"


@pytest.mark.parametrize("question", LIST_QUESTIONS)
def test_HAZ161_a_list_answered_unknown_is_screened_as_find_out_before_stimulating(question):
    form = complete_form(**{f"{question}.__answer": "unknown"})
    if question == "diagnoses":  # a person with no diagnosis: "pain without a diagnosis"
        form["pain_sites"] = ["left_calf"]
    intake, problems = read(form)
    assert problems == []
    assert intake.answered_unknown(question)
    actions = [a.text for a in screen(intake).required_actions]
    assert any(a.startswith("Find out before stimulating") for a in actions), actions


def test_HAZ161_a_list_answered_yes_without_an_entry_is_refused_not_read_as_none():
    form = complete_form(**{"implants.__answer": "yes", "implants.__rows": "1"})
    intake, problems = read(form)
    assert intake is None
    assert words(problems, form) == {"implants": "at least one entry (or answer 'No')"}


# --------------------------------------------------------------------------- places


def test_places_are_read_from_the_picker_and_from_typed_names():
    form = complete_form(**{
        "diagnoses.__answer": "yes", "diagnoses.__rows": "1", "diagnoses.0.kind": "crps",
        "diagnoses.0.crps_type": "I", "diagnoses.0.affected_sites": ["right_wrist"],
        "diagnoses.0.affected_sites.__typed": "right hand, R wrist; both feet",
        "pain_sites.__typed": "Left hand, back",  # a whole label with a comma is one place
    })
    intake, problems = read(form)
    assert problems == []
    assert intake.entries("diagnoses")[0].affected_sites == (
        "right_wrist", "right_hand", "left_foot", "right_foot")
    assert intake.pain_sites == ("left_hand_dorsal",)


def test_HAZ162_an_ambiguous_typed_place_is_refused_with_suggestions_in_words():
    form = complete_form(**{"pain_sites.__typed": "right calf, hand"})
    intake, problems = read(form)
    assert intake is None
    [problem] = problems
    assert problem.anchor == "pain_sites.__typed"
    assert problem.suggestions == ("left_hand", "right_hand")
    assert problem.words == ("'hand' does not say which side (left, right or both) — did you "
                             "mean Left hand (whole) or Right hand (whole)?")
    page = intake_page(form, PSEUDONYM, TODAY, problems)
    [line] = page.problems
    assert line.html_id == "field-pain_sites" and "Other painful places" in line.where
    field = next(f for s in page.sections for f in s.items
                 if getattr(f, "name", "") == "pain_sites")
    assert field.typed == "right calf, hand"  # nothing typed is lost
    assert [c.label for c in field.suggestions] == ["Left hand (whole)", "Right hand (whole)"]


def test_HAZ162_a_place_that_is_no_body_site_is_refused_not_dropped():
    form = complete_form(**{"pain_sites": ["left_calf", "left_tail"]})
    intake, problems = read(form)
    assert intake is None and problems[0].anchor == "pain_sites"


def test_a_one_place_question_refuses_two_places():
    form = complete_form(**{
        "implants.__answer": "yes", "implants.__rows": "1", "implants.0.kind": "icd",
        "implants.0.site.__typed": "left chest, right chest"})
    intake, problems = read(form)
    assert intake is None
    assert words(problems, form) == {"implants.0.site": "one place (choose the one where it sits)"}


def test_a_finding_at_several_places_is_one_entry_per_place_and_problems_find_their_row():
    form = complete_form(**{
        "sensation.__answer": "yes", "sensation.__rows": "2",
        "sensation.0.site.__typed": "both feet", "sensation.0.status": "absent",
        "sensation.0.method": "monofilament",
        "sensation.1.site.__typed": "left knee, right knee", "sensation.1.status": "normal",
        "sensation.1.method": "rubbing",  # not a method
    })
    answers = read_answers(form, PSEUDONYM)
    assert [s["site"] for s in answers.data["sensation"]] == [
        "left_foot", "right_foot", "left_knee", "right_knee"]
    intake, problems = check_answers(answers, source="test")
    assert [(p.anchor, p.problem.path) for p in problems] == [
        ("sensation.1.method", "sensation.2.method"), ("sensation.1.method", "sensation.3.method")]
    assert "Clinical examination" in words(problems, form)["sensation.1.method"]
    form["sensation.1.method"] = ["pinprick"]
    intake, problems = read(form)
    assert intake.sensation_at("left_foot_plantar") == "absent"
    assert form_from_intake(intake.model_dump(mode="json"))["sensation.__rows"] == ["2"]


# --------------------------------------------------------------------------- questionnaires


DN4_INTERVIEW = {"burning": "yes", "painful_cold": "no", "electric_shocks": "yes",
                 "tingling": "yes", "pins_and_needles": "yes", "numbness": "yes", "itching": "no"}


def _dn4_form(answers: dict[str, str], version: str = "interview") -> dict[str, list[str]]:
    form = complete_form()
    slot = form_from_intake({"instruments": []})  # the page's empty questionnaires
    index = next(k.split(".")[1] for k, v in slot.items() if v == ["dn4"])
    form.update({f"instruments.{index}.version": [version],
                 **{f"instruments.{index}.answers.{k}": [v] for k, v in answers.items()}})
    return form


def test_a_questionnaire_answered_item_by_item_is_recorded_and_scored_as_on_the_page():
    form = _dn4_form(DN4_INTERVIEW)
    intake, problems = read(form)
    assert problems == []
    [dn4] = intake.instruments
    assert (dn4.instrument, dn4.version, dn4.answers) == ("dn4", "interview", DN4_INTERVIEW)
    shown = next(q for q in intake_page(form, PSEUDONYM, TODAY).questionnaires
                 if q.instrument == "dn4")
    assert shown.score == partial_score(dn4).summary
    assert shown.score.startswith("DN4 (interview) 5/7")


def test_a_questionnaire_left_unanswered_is_not_recorded():
    intake, problems = read(complete_form())
    assert problems == [] and intake.instruments == ()


def test_a_half_answered_questionnaire_names_each_missing_item_and_shows_its_score_so_far():
    form = _dn4_form({"burning": "yes", "tingling": "yes"})
    intake, problems = read(form)
    assert intake is None
    said = words(problems, form)
    assert len(said) == 5 and all(v.startswith("an answer: yes or no") for v in said.values())
    assert score_so_far("dn4", "interview", {"burning": "yes", "tingling": "yes"}) == (
        "DN4 (Douleur Neuropathique en 4 questions): 2 of 7 answered; 2 so far, final between "
        "2 and 7; not decided yet")


def test_HAZ164_items_of_another_version_are_not_read():
    """The examination items stay on the page (hidden) when the interview version is chosen."""
    form = _dn4_form({**DN4_INTERVIEW, "brushing_pain": "yes"})
    intake, problems = read(form)
    assert problems == [] and "brushing_pain" not in intake.instruments[0].answers


def test_a_recorded_answer_written_as_true_shows_as_its_choice():
    form = form_from_intake({"instruments": [
        {"instrument": "dn4", "version": "interview", "answers": {"burning": True}}]})
    assert "yes" in [v[0] for k, v in form.items() if k.endswith("answers.burning")]


# --------------------------------------------------------------------------- clearances


PACEMAKER = {"implants.__answer": "yes", "implants.__rows": "1",
             "implants.0.kind": "demand_pacemaker", "implants.0.site": ["left_chest"]}
SLOT = f"clearances.{liftable_rule_ids().index('CI-CARDIAC-DEVICE')}."


def test_clearances_offered_are_the_rules_that_apply_to_this_person():
    page = intake_page(complete_form(**PACEMAKER), PSEUDONYM, TODAY)
    applies = [c.rule_id for c in page.clearances if c.status == "applies"]
    assert applies == ["CI-CARDIAC-DEVICE"]
    assert not [c for c in intake_page(complete_form(), PSEUDONYM, TODAY).clearances
                if c.status == "applies"]
    # unfinished answers still list them: an unanswered question is not taken as "yes"
    unfinished = blank_form(TODAY) | {k: [v] if isinstance(v, str) else v
                                      for k, v in PACEMAKER.items()}
    assert [c.rule_id for c in intake_page(unfinished, PSEUDONYM, TODAY).clearances
            if c.status == "applies"] == ["CI-CARDIAC-DEVICE"]


def test_HAZ163_a_ticked_clearance_is_recorded_with_its_rule_who_and_when():
    form = complete_form(**PACEMAKER, **{
        f"{SLOT}__chosen": "on", f"{SLOT}cleared_by": "Dr A. Heart",
        f"{SLOT}role": "cardiologist", f"{SLOT}cleared_on": "2026-11-01"})
    intake, problems = read(form)
    assert problems == []
    [clearance] = intake.clearances
    assert (clearance.rule_id, clearance.cleared_by, clearance.cleared_on) == (
        "CI-CARDIAC-DEVICE", "Dr A. Heart", date(2026, 11, 1))
    assert screen(intake).finding("CI-CARDIAC-DEVICE").status == "cleared"


def test_HAZ163_a_ticked_clearance_without_who_or_when_is_refused_not_dropped():
    form = complete_form(**PACEMAKER, **{f"{SLOT}__chosen": "on", f"{SLOT}role": "cardiologist"})
    intake, problems = read(form)
    assert intake is None
    assert {p.anchor for p in problems} == {f"{SLOT}cleared_by", f"{SLOT}cleared_on"}


def test_HAZ163_an_unticked_clearance_is_not_recorded_whatever_its_details():
    form = complete_form(**PACEMAKER, **{
        f"{SLOT}cleared_by": "Dr A. Heart", f"{SLOT}role": "cardiologist",
        f"{SLOT}cleared_on": "2026-11-01"})
    intake, problems = read(form)
    assert problems == [] and intake.clearances == ()
    assert screen(intake).decision == "needs_specialist_clearance"


def test_the_provisional_intake_is_never_the_answers_it_stands_in_for():
    """It only lists clearances: unanswered questions are left as they are in the answers."""
    answers = read_answers(blank_form(TODAY), PSEUDONYM)
    assert "implants" not in answers.data
    assert provisional_intake(answers.data, TODAY) is not None
    assert "implants" not in answers.data


# --------------------------------------------------------------------------- hidden is not read


def test_HAZ164_rows_of_a_list_answered_no_or_unknown_are_not_read():
    for answer, expected in (("no", ()), ("unknown", "unknown")):
        form = complete_form(**{**PACEMAKER, "implants.__answer": answer})
        intake, problems = read(form)
        assert problems == [] and intake.implants == expected


def test_HAZ164_a_detail_is_read_only_after_the_answer_that_asks_it():
    form = complete_form(**{"cardiac.arrhythmia_kind": "ventricular",
                            "gestational_age_weeks": "20", "seizure_control": "uncontrolled"})
    intake, problems = read(form)
    assert problems == []
    assert intake.cardiac.arrhythmia_kind is None and intake.gestational_age_weeks is None
    assert intake.seizure_control is None
    form.update({"cardiac.arrhythmia": ["yes"], "epilepsy": ["unknown"]})
    intake, _ = read(form)
    assert intake.cardiac.arrhythmia_kind == "ventricular"
    assert intake.seizure_control == "uncontrolled"


def test_HAZ164_fields_of_another_kind_of_diagnosis_are_not_read():
    form = complete_form(**{
        "diagnoses.__answer": "yes", "diagnoses.__rows": "1", "diagnoses.0.kind": "neuropathy",
        "diagnoses.0.crps_type": "II", "diagnoses.0.cause": "diabetic",
        "diagnoses.0.affected_sites": ["left_foot"]})
    intake, problems = read(form)
    assert problems == []
    assert intake.entries("diagnoses")[0].kind == "neuropathy"


def test_a_row_without_its_kind_is_asked_for_its_kind():
    form = complete_form(**{"diagnoses.__answer": "yes", "diagnoses.__rows": "1",
                            "diagnoses.0.affected_sites": ["left_foot"]})
    _intake, problems = read(form)
    assert [p.anchor for p in problems] == ["diagnoses.0.kind"]
    assert words(problems, form)["diagnoses.0.kind"] == (
        "an answer to 'Diagnoses > Diagnosis 1 > Kind of diagnosis'")


def test_numbers_are_read_strictly():
    form = complete_form(age_years="2_0")
    _intake, problems = read(form)
    assert words(problems, form) == {"age_years": "a whole number"}


def test_a_draft_keeps_only_the_pages_inputs():
    form = complete_form(csrf_token="x", action="draft", somewhere="y")
    kept = page_inputs(form)
    assert "csrf_token" not in kept and "action" not in kept and "somewhere" not in kept
    assert kept["cardiac.arrhythmia"] == ["no"] and kept["implants.__answer"] == ["no"]


def test_every_problem_of_a_refused_page_is_in_words():
    import re

    form = complete_form(**{"age_years": "two", "pain_sites.__typed": "bak",
                            "implants.__answer": "yes", "implants.__rows": "1",
                            "implants.0.kind": "icd"})
    _intake, problems = read(form)
    page = intake_page(form, PSEUDONYM, TODAY, problems)
    assert len(page.problems) == 3
    for line in page.problems:
        assert not re.search(SNAKE, f"{line.where} {line.message}"), line


def test_typed_places_that_match_are_settled_as_chosen_and_the_rest_stays_typed():
    from stimwise.web.services.intake_answers import settle_typed_places

    form = {"pain_sites": ["left_calf"], "pain_sites.__typed": ["right hand, hand, left calf"]}
    settled = settle_typed_places(form)
    assert settled["pain_sites"] == ["left_calf", "right_hand"]
    assert settled["pain_sites.__typed"] == ["hand"]
    assert form["pain_sites"] == ["left_calf"]  # the submitted answers are left as they were
