"""Intake format 2: each fact the screening sources ask about can be written in an intake file and
changes the screening where a source says it should (and not where it rightly does not); list
questions may be answered ``unknown``; format 1 files stay valid and screen as they did.

Hazard ids: HAZ-150 (unknown or unasked answers) ... HAZ-159 (places in words), see
docs/safety/hazards.md."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import channel_dict, make_prescription
from intake_builders import (
    ASSESSED_ON,
    FORMAT_2_ANSWERS,
    base_intake,
    clearance,
    format_1_intake,
    implant,
    intake_from,
    make_intake,
    screen_of,
)
from stimwise.cli.main import app
from stimwise.clinical.clearances import clearance_choices
from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.intake import FORMAT_2_QUESTIONS, LIST_QUESTIONS, Intake
from stimwise.clinical.labels import choice_label
from stimwise.clinical.screening import not_asked_action, screen
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.errors import InputError
from stimwise.protocol.body_sites import expand_sites
from stimwise.protocol.io import load_model_file
from stimwise.safety import verify
from stimwise.safety.limits import limits

BASELINE = json.loads((Path(__file__).parent / "example_screenings_2026_11.json").read_text())
"""The example screenings under rule book 2026.11-1, before format 2 (recorded then)."""

# --------------------------------------------------------------------------- helpers

_CARDIAC_NO = 'cardiac: {arrhythmia: "no", heart_failure: "no", recent_myocardial_infarction: "no"}'
_HEAD = f"""\
schema_version: 2
patient_id: FILE-0001
assessed_on: {ASSESSED_ON}
age_years: 61
sex: female
pregnancy: not_applicable
diagnoses:
  - kind: neuropathy
    cause: diabetic
    affected_sites: [left_foot, right_foot]
sensation:
  - {{site: left_lower_limb, status: normal, method: pinprick}}
  - {{site: right_lower_limb, status: normal, method: pinprick}}
{_CARDIAC_NO}
epilepsy: "no"
allodynia: []
can_report_sensations: "yes"
bleeding_tendency: "no"
surgeries_and_fractures: []
home_use: {{planned: true, during_sleep: "no", while_driving_or_operating_machinery: "no"}}
"""
_DEFAULTS = {
    "implants": "[]",
    "thromboses": "[]",
    "malignancies": "[]",
    "skin": "[]",
    "arterial_disease": "[]",
    "anticoagulant_therapy": '"no"',
    "external_devices": "[]",
    "radiotherapy": "[]",
    "cognition": "intact",
    "carer": "none",
    "parkinsons_disease": '"no"',
}


def from_file(tmp_path: Path, extra: str = "", **answers: str) -> Intake:
    """An intake written as a YAML file (format 2) and read back: ``answers`` replace the
    all-"no" answers of the questions named, ``extra`` adds lines."""
    lines = [_HEAD]
    for key, value in {**_DEFAULTS, **answers}.items():
        lines.append(f"{key}: {value}\n")
    path = tmp_path / "intake.yaml"
    path.write_text("".join(lines) + textwrap.dedent(extra), encoding="utf-8")
    return load_model_file(Intake, path)


def fired(screening) -> set[str]:
    return {f.rule_id for f in screening.findings}


def _rx(sites, level: str = "sensory"):
    return make_prescription(
        channels=[channel_dict("A", sites=list(sites))],
        intensity={"level": level, "max_amplitude_ma": 30.0},
    )


def _blocking(report) -> set[str]:
    return {f.rule_id for f in report.findings if f.severity == "block"}


def test_the_all_no_file_screens_with_only_the_neuropathy_precautions(tmp_path):
    screening = screen(from_file(tmp_path))
    assert fired(screening) == {"PR-NEUROPATHY"}
    assert screening.not_asked == ()


# --------------------------------------------------------------------------- HAZ-150 unknown


@pytest.mark.parametrize("question", LIST_QUESTIONS)
def test_HAZ150_a_list_answered_unknown_is_screened_not_refused(question):
    intake = make_intake(**{question: "unknown"})
    assert intake.answered_unknown(question) and intake.entries(question) == ()
    screening = screen(intake)
    assert screening.decision != "eligible"
    assert question in screening.unknown_answers
    possible = [f for f in screening.findings if question in f.unknown_answers]
    assert possible and all(f.status == "possible" for f in possible)
    actions = [a.text for a in screening.required_actions]
    assert any(a.startswith("Find out before stimulating:") for a in actions)


def test_HAZ150_implants_unknown_needs_finding_out_before_stimulating(tmp_path):
    screening = screen(from_file(tmp_path, implants="unknown"))
    assert screening.decision == "needs_specialist_clearance"
    assert screening.finding("CI-CARDIAC-DEVICE").status == "possible"
    assert screening.finding("CI-NEUROSTIMULATOR").status == "possible"
    # Region rules apply; where an unknown implant sits cannot be known.
    assert expand_sites("trunk") <= set(screening.forbidden_sites)
    assert screening.finding("SR-IMPLANT-SITE").sites == ()
    text = clinician_text(screening)
    assert "Find out before stimulating: Implants (not known)." in text
    assert "[not known: applied as if yes; find out before stimulating]" in text
    for_patient = patient_text(screening)
    assert "not known yet (Implants)" in for_patient and "find out" in for_patient
    assert "You have a heart device" not in for_patient  # not asserted as a fact


def test_HAZ150_implants_unknown_exits_1_not_2_on_the_command_line(tmp_path):
    document = base_intake(implants="unknown")
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["screen", str(path), "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["unknown_answers"] == ["implants"]


def test_HAZ150_a_word_other_than_unknown_for_a_list_is_refused_in_one_plain_problem():
    with pytest.raises(InputError) as caught:
        make_intake(implants="none")
    (problem,) = caught.value.problems
    assert problem.path == "implants"
    assert "[] for none" in problem.expected and "'unknown'" in problem.expected


def test_HAZ150_a_bad_entry_of_a_list_question_is_reported_at_its_own_path():
    with pytest.raises(InputError) as caught:
        make_intake(implants=[implant("pacemaker", "left_chest")])
    assert [p.path for p in caught.value.problems] == ["implants.0.kind"]


@pytest.mark.parametrize("question", FORMAT_2_QUESTIONS)
def test_HAZ150_format_2_requires_each_new_question(question):
    document = base_intake()
    del document[question]
    with pytest.raises(InputError) as caught:
        intake_from(document)
    (problem,) = caught.value.problems
    assert problem.path == question
    assert "required in format 2" in problem.expected


def test_HAZ150_format_1_leaves_them_unasked_and_the_screening_asks_for_them():
    old = intake_from(format_1_intake())
    assert old.not_asked == FORMAT_2_QUESTIONS
    screening = screen(old)
    assert screening.not_asked == FORMAT_2_QUESTIONS
    action = not_asked_action(FORMAT_2_QUESTIONS)
    assert action in [a.text for a in screening.required_actions]
    assert "Takes anticoagulants (blood thinners)" in action and "_" not in action
    assert "Not asked (intake format 1)" in clinician_text(screening)
    assert "Your clinician will also ask you about" in patient_text(screening)


@pytest.mark.parametrize("overrides", [
    {},
    {"implants": [implant("demand_pacemaker", "left_chest")]},
    {"pregnancy": "pregnant", "gestational_age_weeks": 20, "epilepsy": "unknown"},
])
def test_HAZ150_an_unasked_question_changes_nothing_but_the_action_to_ask(overrides):
    old = screen(intake_from(format_1_intake(**overrides)))
    new = screen(intake_from(base_intake(**overrides)))
    assert old.findings == new.findings
    assert old.caps.model_dump(exclude={"source"}) == new.caps.model_dump(exclude={"source"})
    assert (old.decision, old.forbidden_sites, old.home_use_allowed) == (
        new.decision, new.forbidden_sites, new.home_use_allowed)
    extra = [a.text for a in old.required_actions if a not in new.required_actions]
    assert extra == [not_asked_action(FORMAT_2_QUESTIONS)]


# --------------------------------------------------------------------------- old files


@pytest.mark.parametrize("name", example_names())
def test_HAZ150_every_example_file_loads_and_screens_as_under_the_previous_rule_book(name):
    """Recorded under rules 2026.11-1: the examples are format 1 and screen the same, except
    that the pregnant example gains the possible first-trimester precaution (its weeks of
    pregnancy are not recorded), rightly: a missing answer is not a no."""
    intake = load_model_file(Intake, example_patient_path(name))
    assert intake.schema_version == 1
    screening = screen(intake)
    before = BASELINE[name]
    findings = {f.rule_id: {"status": f.status, "sites": list(f.sites)}
                for f in screening.findings}
    if name == "pregnant-low-back-pain":
        assert findings.pop("PR-PREGNANCY-EARLY")["status"] == "possible"
        assert set(screening.unknown_answers) == {*before["unknown_answers"],
                                                  "gestational_age_weeks"}
    else:
        assert list(screening.unknown_answers) == before["unknown_answers"]
    assert findings == before["findings"]
    assert screening.decision == before["decision"]
    assert {k: list(v) for k, v in screening.forbidden_sites.items()} == before["forbidden_sites"]
    assert screening.site_max_level == before["site_max_level"]
    assert screening.caps.max_level == before["max_level"]
    assert screening.caps.max_amplitude_ma == before["max_amplitude_ma"]
    assert screening.supervised_titration_required == before["supervised_titration_required"]
    assert screening.home_use_allowed == before["home_use_allowed"]
    assert list(screening.home_use_forbidden_sites) == before["home_use_forbidden_sites"]


# --------------------------------------------------------------------------- HAZ-151 arteries


def test_HAZ151_arterial_disease_in_the_file_keeps_electrodes_off_that_area(tmp_path):
    intake = from_file(tmp_path, arterial_disease="[{site: left_foot, severity: not_severe}]")
    screening = screen(intake)
    assert fired(screening) == {"PR-NEUROPATHY", "SR-ARTERIAL-DISEASE"}
    assert expand_sites("left_foot") <= set(screening.forbidden_sites)
    assert "left_calf" not in screening.forbidden_sites  # a milder disease leaves the leg
    assert "patient.forbidden-site" in _blocking(
        verify(_rx(("left_foot_dorsal", "left_ankle")), caps=screening.caps))


def test_HAZ151_severe_arterial_disease_closes_the_whole_limb(tmp_path):
    severe = "[{site: left_calf, severity: severe}]"
    screening = screen(from_file(tmp_path, arterial_disease=severe))
    assert expand_sites("left_lower_limb") <= set(screening.forbidden_sites)
    assert "right_calf" in screening.allowed_sites
    assert screening.supervised_titration_required


# --------------------------------------------------------------------------- HAZ-152 anticoagulants


def test_HAZ152_anticoagulant_therapy_caps_the_level_at_sensory(tmp_path):
    screening = screen(from_file(tmp_path, anticoagulant_therapy='"yes"'))
    assert screening.finding("PR-ANTICOAGULANT").status == "applies"
    assert screening.caps.max_level == "sensory"
    report = verify(_rx(("left_calf", "left_leg_anterior"), level="motor"), caps=screening.caps)
    assert "patient.max-level" in _blocking(report)
    assert verify(_rx(("left_calf", "left_leg_anterior")), caps=screening.caps).verdict != "block"


def test_HAZ152_a_bleeding_tendency_of_no_does_not_hide_anticoagulants():
    screening = screen_of(bleeding_tendency="no", anticoagulant_therapy="yes")
    assert screening.caps.max_level == "sensory"


def test_HAZ152_the_treating_physician_may_clear_motor_level_stimulation():
    screening = screen_of(anticoagulant_therapy="yes", clearances=[
        clearance("PR-ANTICOAGULANT", role="haematologist")])
    assert screening.caps.max_level is None
    assert screening.finding("PR-ANTICOAGULANT").status == "cleared"


# --------------------------------------------------------------------------- HAZ-153 dated facts


def test_HAZ153_an_infarction_dated_within_six_months_needs_cardiology(tmp_path):
    cardiac = ('cardiac: {arrhythmia: "no", heart_failure: "no", '
               'recent_myocardial_infarction: "no", myocardial_infarction_on: 2026-07-01}\n')
    path = tmp_path / "mi.yaml"
    path.write_text(_HEAD.replace(_CARDIAC_NO + "\n", cardiac)
                    + "".join(f"{k}: {v}\n" for k, v in _DEFAULTS.items()))
    screening = screen(load_model_file(Intake, path))
    assert screening.decision == "needs_specialist_clearance"
    finding = screening.finding("CI-RECENT-MI")
    assert finding.status == "applies" and "2026-07-01" in finding.details[0]
    assert expand_sites("thorax") <= set(screening.forbidden_sites)


def test_HAZ153_an_infarction_years_ago_rightly_does_not_restrict_a_limb():
    screening = screen_of(cardiac={"myocardial_infarction_on": "2020-01-10"})
    assert screening.decision == "eligible" and not screening.findings


def test_HAZ153_a_recent_infarction_answered_yes_is_not_undone_by_an_old_date():
    screening = screen_of(cardiac={"recent_myocardial_infarction": "yes",
                                   "myocardial_infarction_on": "2019-01-10"})
    assert screening.finding("CI-RECENT-MI").status == "applies"


def test_HAZ153_an_infarction_date_after_the_assessment_is_refused():
    with pytest.raises(InputError) as caught:
        make_intake(cardiac={"myocardial_infarction_on": "2026-12-01"})
    assert [p.path for p in caught.value.problems] == ["cardiac.myocardial_infarction_on"]


@pytest.mark.parametrize("weeks, early", [(6, True), (12, True), (13, False), (30, False)])
def test_HAZ153_weeks_of_pregnancy_decide_the_first_trimester_precaution(tmp_path, weeks, early):
    intake = from_file(tmp_path, pregnancy="pregnant", gestational_age_weeks=str(weeks))
    screening = screen(intake)
    assert ("PR-PREGNANCY-EARLY" in fired(screening)) is early
    assert "SR-PREGNANCY" in fired(screening)  # the abdomen stays closed at any week
    assert "gestational_age_weeks" not in screening.unknown_answers


def test_HAZ153_weeks_of_pregnancy_without_a_pregnancy_are_refused():
    with pytest.raises(InputError) as caught:
        make_intake(pregnancy="not_pregnant", gestational_age_weeks=10)
    assert [p.path for p in caught.value.problems] == ["gestational_age_weeks"]


# --------------------------------------------------------------------------- recorded only


def test_the_kind_of_arrhythmia_is_shown_but_rightly_changes_nothing(tmp_path):
    plain = screen_of(cardiac={"arrhythmia": "yes"})
    kinds = [screen_of(cardiac={"arrhythmia": "yes", "arrhythmia_kind": kind})
             for kind in ("atrial_fibrillation", "ventricular", "unknown")]
    for screening in kinds:
        assert fired(screening) == fired(plain) == {"SR-HEART-DISEASE"}
        assert screening.forbidden_sites == plain.forbidden_sites
        assert screening.unknown_answers == ()
    assert kinds[0].finding("SR-HEART-DISEASE").details == (
        "Arrhythmia (irregular heart rhythm): atrial fibrillation",)
    with pytest.raises(InputError):
        make_intake(cardiac={"arrhythmia": "no", "arrhythmia_kind": "ventricular"})


def test_controlled_seizures_rightly_keep_the_head_and_neck_closed(tmp_path):
    for control in ("controlled", "uncontrolled", "unknown"):
        screening = screen(from_file(tmp_path, epilepsy='"yes"', seizure_control=control))
        assert expand_sites("head") | expand_sites("neck") <= set(screening.forbidden_sites)
        words = choice_label("seizure_control", control).lower()
        assert f"(seizures: {words})" in screening.finding("SR-EPILEPSY").details[0]


def test_a_past_dvt_years_ago_rightly_still_closes_its_area(tmp_path):
    old_dvt = "[{kind: dvt, status: past, site: left_calf, occurred_on: 2012-05-01}]"
    intake = from_file(tmp_path, thromboses=old_dvt)
    screening = screen(intake)
    assert "left_calf" in screening.forbidden_sites
    assert "2012-05-01" in screening.finding("SR-PAST-THROMBOSIS").details[0]


def test_parkinsons_disease_prompts_the_question_of_a_brain_stimulator(tmp_path):
    screening = screen(from_file(tmp_path, parkinsons_disease='"yes"'))
    actions = " ".join(a.text for a in screening.required_actions)
    assert "deep brain stimulator" in actions
    assert screening.forbidden_sites == screen(from_file(tmp_path)).forbidden_sites


# --------------------------------------------------------------------------- HAZ-154 worn devices


def test_HAZ154_a_worn_insulin_pump_closes_its_area_and_asks_for_glucose_checks(tmp_path):
    devices = ("[{kind: insulin_pump, site: left_abdomen}, "
               "{kind: glucose_sensor, site: left_upper_arm_posterior}]")
    intake = from_file(tmp_path, external_devices=devices)
    screening = screen(intake)
    assert {"SR-WORN-DEVICE", "PR-INSULIN"} <= fired(screening)
    assert {"left_abdomen", "right_abdomen", "left_elbow"} <= set(screening.forbidden_sites)
    assert "patient.forbidden-site" in _blocking(
        verify(_rx(("left_upper_arm_posterior", "left_elbow")), caps=screening.caps))
    assert any("blood glucose" in a.text for a in screening.required_actions)


def test_HAZ154_an_infusion_set_alone_asks_for_no_glucose_check():
    screening = screen_of(external_devices=[{"kind": "infusion_set", "site": "right_thigh"}])
    assert fired(screening) == {"SR-WORN-DEVICE"}


# --------------------------------------------------------------------------- HAZ-155 cognition


@pytest.mark.parametrize("carer, home", [("supervises", True), ("present", False),
                                         ("none", False), ("unknown", False)])
def test_HAZ155_dementia_allows_home_use_only_with_a_supervising_carer(tmp_path, carer, home):
    screening = screen(from_file(tmp_path, cognition="dementia", carer=carer))
    assert screening.home_use_allowed is home
    assert screening.supervised_titration_required
    assert "PR-COGNITION" in fired(screening)


def test_HAZ155_a_carer_changes_nothing_when_cognition_is_intact():
    for carer in ("none", "present", "supervises", "unknown"):
        screening = screen_of(carer=carer)
        assert screening.decision == "eligible" and screening.home_use_allowed


def test_HAZ155_dementia_is_apart_from_being_unable_to_report():
    screening = screen_of(cognition="dementia", carer="supervises")
    assert screening.decision == "eligible_with_precautions"
    assert "CI-CANNOT-REPORT" not in fired(screening)
    assert screen_of(cognition="dementia", can_report_sensations="no").decision == "not_eligible"


# --------------------------------------------------------------------------- HAZ-156 implants


def test_HAZ156_a_two_part_implant_keeps_electrodes_off_its_leads_too(tmp_path):
    intake = from_file(tmp_path, implants="[{kind: spinal_cord_stimulator, site: left_buttock, "
                                          "lead_sites: [thoracic_midline]}]")
    screening = screen(intake)
    forbidden = set(screening.forbidden_sites)
    assert {"left_buttock", "thoracic_midline", "left_upper_back"} <= forbidden
    without_leads = screen_of(implants=[implant("spinal_cord_stimulator", "left_buttock")])
    assert "left_upper_back" not in without_leads.forbidden_sites
    assert "patient.forbidden-site" in _blocking(
        verify(_rx(("left_upper_back", "left_shoulder")), caps=screening.caps))


def test_HAZ156_a_vagus_nerve_stimulator_needs_its_specialists_clearance(tmp_path):
    intake = from_file(tmp_path, implants="[{kind: vagus_nerve_stimulator, site: left_chest, "
                                          "lead_sites: [neck_anterior]}]")
    screening = screen(intake)
    assert screening.decision == "needs_specialist_clearance"
    assert screening.finding("CI-NEUROSTIMULATOR").status == "applies"
    assert {"left_neck_posterior", "right_neck_posterior", "left_chest"} <= set(
        screening.forbidden_sites)


# --------------------------------------------------------------------------- HAZ-157 radiotherapy


def test_HAZ157_radiotherapy_without_a_cancer_entry_closes_the_irradiated_skin(tmp_path):
    intake = from_file(tmp_path, radiotherapy="[{sites: [left_knee], ended_on: 2026-08-01, "
                                              "reason: heterotopic ossification}]")
    screening = screen(intake)
    assert screening.finding("SR-IRRADIATED").status == "applies"
    assert "left_knee" in screening.forbidden_sites


def test_HAZ157_radiotherapy_without_an_end_date_counts_as_recent():
    screening = screen_of(radiotherapy=[{"sites": ["left_knee"]}])
    assert screening.finding("SR-IRRADIATED").status == "possible"
    assert "left_knee" in screening.forbidden_sites


def test_HAZ157_radiotherapy_long_ago_rightly_leaves_the_skin_open():
    screening = screen_of(radiotherapy=[{"sites": ["left_knee"], "ended_on": "2018-01-01"}])
    assert "left_knee" in screening.allowed_sites


# --------------------------------------------------------------------------- HAZ-158 skin


def test_HAZ158_eczema_closes_its_skin(tmp_path):
    screening = screen(from_file(tmp_path, skin="[{site: right_forearm_volar, finding: eczema}]"))
    assert screening.finding("SR-SKIN-DAMAGED").status == "applies"
    assert "right_forearm_volar" in screening.forbidden_sites


def test_HAZ158_lymphoedema_is_recorded_apart_from_a_swelling(tmp_path):
    screening = screen(from_file(tmp_path, skin="[{site: left_upper_limb, finding: lymphoedema}]"))
    assert fired(screening) == {"PR-NEUROPATHY", "SR-LYMPHOEDEMA"}
    assert expand_sites("left_upper_limb") <= set(screening.forbidden_sites)
    assert any("swelling increases" in a.text for a in screening.required_actions)


# --------------------------------------------------------------------------- HAZ-159 places


def test_HAZ159_the_front_of_neck_selector_is_exactly_the_universal_ban(tmp_path):
    banned = set(limits()["placement.forbidden-site"].sites or ())
    front = expand_sites("neck_anterior")
    assert front == {s for s in banned if "neck" in s}
    screening = screen(from_file(tmp_path, malignancies="[{site: neck_anterior, status: active}]"))
    assert set(screening.finding("SR-MALIGNANCY").sites) == front
    assert {"left_neck_posterior", "right_neck_posterior"} <= set(screening.forbidden_sites)


# --------------------------------------------------------------------------- clearance choices


def test_clearance_choices_offer_only_the_rules_that_apply_to_this_person():
    assert clearance_choices(make_intake()) == ()
    choices = clearance_choices(make_intake(
        implants=[implant("demand_pacemaker", "left_chest")], anticoagulant_therapy="yes"))
    assert [c.rule_id for c in choices] == ["CI-CARDIAC-DEVICE", "PR-ANTICOAGULANT"]
    pacemaker = choices[0]
    assert pacemaker.role == "cardiologist" and pacemaker.status == "applies"
    assert "_" not in pacemaker.label and "CI-" not in pacemaker.label
    # every choice is a rule the screening accepts a clearance for
    intake = make_intake(
        implants=[implant("demand_pacemaker", "left_chest")], anticoagulant_therapy="yes",
        clearances=[clearance(c.rule_id) for c in choices])
    assert screen(intake).decision == "eligible_with_precautions"


def test_clearance_choices_mark_a_rule_that_rests_on_an_unknown_answer():
    choices = {c.rule_id: c for c in clearance_choices(make_intake(implants="unknown"))}
    assert choices["CI-CARDIAC-DEVICE"].status == "possible"
    assert "SR-IMPLANT-SITE" not in choices  # no clearance can lift it


def test_clearance_choices_show_the_clearance_already_recorded():
    intake = make_intake(implants=[implant("icd", "left_chest")],
                         clearances=[clearance("CI-CARDIAC-DEVICE")])
    (choice,) = clearance_choices(intake)
    assert choice.recorded is not None and choice.recorded.role == "cardiologist"


def test_format_2_answers_of_the_builders_are_all_no():
    assert set(FORMAT_2_ANSWERS) == set(FORMAT_2_QUESTIONS)


def test_HAZ150_the_patient_schema_states_format_2_and_unknown_lists():
    result = CliRunner().invoke(app, ["schema", "patient"])
    schema = json.loads(result.stdout)
    assert schema["if"]["properties"]["schema_version"] == {"const": 2}
    assert schema["then"]["required"] == list(FORMAT_2_QUESTIONS)
    for question in LIST_QUESTIONS:
        branches = schema["properties"][question].get("oneOf") or next(
            b["oneOf"] for b in schema["properties"][question]["anyOf"] if "oneOf" in b)
        assert {"const": "unknown", "type": "string"} in branches, question
    assert schema["properties"]["cardiac"]["$ref"]
    assert schema["$defs"]["CardiacHistory"]["properties"]["recent_myocardial_infarction"][
        "title"] == "Recent heart attack (myocardial infarction)"
