"""Intake validation: every safety answer is required, places are known site selectors and
contradictory answers are rejected at the field that contradicts (HAZ-019, HAZ-022)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intake_builders import (
    REQUIRED_SAFETY_FIELDS,
    base_intake,
    crps,
    implant,
    intake_from,
    make_intake,
    malignancy,
    sensation,
    surgery,
)
from stimwise.clinical.intake import Intake, SurgeryOrFracture
from stimwise.errors import InputError
from stimwise.protocol.io import load_model_file

EXAMPLE = Path(__file__).parents[1] / "examples" / "patients" / "crps-allodynia.yaml"
REQUIRED = "a value (this field is required)"


def problems(document: dict) -> list[tuple[str, object, str]]:
    with pytest.raises(InputError) as caught:
        intake_from(document)
    return [(p.path, p.value, p.expected) for p in caught.value.problems]


def paths(document: dict) -> list[str]:
    return [path for path, _, _ in problems(document)]


def test_base_intake_is_valid_and_complete():
    intake = make_intake()
    assert intake.epilepsy == "no" and intake.implants == ()
    assert set(REQUIRED_SAFETY_FIELDS) <= set(Intake.model_fields)


# --------------------------------------------------------------------------- HAZ-019 required


@pytest.mark.parametrize("field", REQUIRED_SAFETY_FIELDS)
def test_HAZ019_missing_safety_answer_is_an_error_not_a_no(field):
    document = base_intake()
    del document[field]
    assert problems(document) == [(field, None, REQUIRED)]
    assert Intake.model_fields[field].is_required()


@pytest.mark.parametrize(
    "parent, field",
    [
        ("cardiac", "arrhythmia"),
        ("cardiac", "heart_failure"),
        ("cardiac", "recent_myocardial_infarction"),
        ("home_use", "planned"),
    ],
)
def test_HAZ019_missing_nested_safety_answer_is_an_error(parent, field):
    document = base_intake()
    del document[parent][field]
    assert problems(document) == [(f"{parent}.{field}", None, REQUIRED)]


@pytest.mark.parametrize(
    "field, item",
    [
        ("thromboses", {"kind": "dvt", "site": "left_calf"}),
        ("malignancies", {"site": "left_chest"}),
        ("skin", {"site": "left_calf"}),
        ("sensation", {"site": "left_foot"}),
        ("surgeries_and_fractures", {"site": "left_wrist", "kind": "fracture"}),
    ],
)
def test_HAZ019_a_finding_without_its_status_is_an_error(field, item):
    missing = {
        "thromboses": "status",
        "malignancies": "status",
        "skin": "finding",
        "sensation": "status",
        "surgeries_and_fractures": "healing",
    }[field]
    assert problems(base_intake(**{field: [item]})) == [(f"{field}.0.{missing}", None, REQUIRED)]


@pytest.mark.parametrize("value", [None, False, True, "", "No", "n", "maybe"])
def test_HAZ019_epilepsy_accepts_only_yes_no_unknown(value):
    ((path, got, expected),) = problems(base_intake(epilepsy=value))
    assert path == "epilepsy" and got == value
    assert "'yes', 'no' or 'unknown'" in expected


def test_HAZ019_unquoted_yaml_no_is_rejected_not_read_as_no(tmp_path):
    text = yaml.safe_dump(base_intake(), sort_keys=False).replace("epilepsy: 'no'", "epilepsy: no")
    assert "epilepsy: no\n" in text
    path = tmp_path / "intake.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_model_file(Intake, path)
    (problem,) = caught.value.problems
    assert problem.path == "epilepsy" and problem.value is False


def test_HAZ019_home_use_sleep_and_driving_default_to_unknown_not_no():
    document = base_intake()
    document["home_use"] = {"planned": True}
    intake = intake_from(document)
    assert intake.home_use.during_sleep == "unknown"
    assert intake.home_use.while_driving_or_operating_machinery == "unknown"


# --------------------------------------------------------------------------- body sites

BAD_SITES = [
    ("pain_sites", {"pain_sites": ["left_foott"]}, "pain_sites.0"),
    ("implant", {"implants": [implant("metal_implant", "left_kne")]}, "implants.0.site"),
    (
        "thrombosis",
        {"thromboses": [{"kind": "dvt", "status": "past", "site": "leg"}]},
        "thromboses.0.site",
    ),
    (
        "malignancy",
        {"malignancies": [malignancy("left_chest", irradiated_sites=["breast"])]},
        "malignancies.0.irradiated_sites.0",
    ),
    ("skin", {"skin": [{"site": "Left_calf", "finding": "scar"}]}, "skin.0.site"),
    ("sensation", {"sensation": [sensation("left_sole", "absent")]}, "sensation.0.site"),
    ("allodynia", {"allodynia": [{"site": "left hand"}]}, "allodynia.0.site"),
    (
        "surgery",
        {"surgeries_and_fractures": [surgery("right_radius")]},
        "surgeries_and_fractures.0.site",
    ),
]


@pytest.mark.parametrize(
    "overrides, path", [p[1:] for p in BAD_SITES], ids=[p[0] for p in BAD_SITES]
)
def test_unknown_body_site_names_the_field_and_the_site_list(overrides, path):
    ((got_path, value, expected),) = problems(base_intake(**overrides))
    assert got_path == path
    assert "unknown body site" in expected and repr(value) in expected
    assert "`stimwise schema site-selectors`" in expected
    assert "left_lower_limb" in expected  # an example of a selector


def test_unknown_body_site_in_a_diagnosis_names_the_diagnosis_field():
    ((path, value, expected),) = problems(base_intake(diagnoses=[crps("left_hnd")]))
    assert path == "diagnoses.0.affected_sites.0"
    assert value == "left_hnd" and "stimwise schema" in expected


@pytest.mark.parametrize(
    "selector",
    [
        "left_foot",
        "left_lower_limb",
        "thorax",
        "trunk",
        "whole_body",
        "right_forearm",
        "cervical_midline",
    ],
)
def test_site_selectors_are_accepted_wherever_a_place_is_asked(selector):
    intake = make_intake(pain_sites=[selector], skin=[{"site": selector, "finding": "scar"}])
    assert intake.pain_sites == (selector,)


def test_crps_needs_at_least_one_affected_site():
    ((path, _, expected),) = problems(base_intake(diagnoses=[crps()]))
    assert path == "diagnoses.0.affected_sites"
    assert "at least 1" in expected


# --------------------------------------------------------------------------- HAZ-022 contradictions


@pytest.mark.parametrize("pregnancy", ["pregnant", "possible"])
def test_HAZ022_pregnant_male_without_sex_note_is_rejected(pregnancy):
    ((path, value, expected),) = problems(base_intake(sex="male", pregnancy=pregnancy))
    assert path == "pregnancy" and value == pregnancy
    assert "sex_note" in expected


def test_HAZ022_pregnant_male_with_sex_note_is_accepted():
    intake = make_intake(sex="male", pregnancy="pregnant", sex_note="trans man, 12 weeks")
    assert intake.pregnancy == "pregnant"


@pytest.mark.parametrize("pregnancy", ["not_pregnant", "not_applicable", "unknown"])
def test_HAZ022_male_not_pregnant_or_unknown_needs_no_note(pregnancy):
    assert make_intake(sex="male", pregnancy=pregnancy).pregnancy == pregnancy


@pytest.mark.parametrize(
    "first, second",
    [
        (("left_calf", "absent"), ("left_calf", "normal")),
        (("left_calf", "normal"), ("left_calf", "absent")),
        (("left_foot", "absent"), ("left_toes", "normal")),
        (("left_toes", "absent"), ("left_foot", "normal")),
        (("left_lower_limb", "normal"), ("left_foot_plantar", "absent")),
        (("trunk", "normal"), ("sacral_midline", "absent")),
    ],
    ids=lambda pair: f"{pair[0]}-{pair[1]}",
)
def test_HAZ022_absent_and_normal_sensation_at_one_site_is_rejected(first, second):
    document = base_intake(sensation=[sensation(*first), sensation(*second)])
    ((path, value, expected),) = problems(document)
    assert path == "sensation.1.status"
    assert value == second[1]
    assert "one sensation status per site" in expected
    assert f"sensation.0 says {first[1]!r}" in expected


def test_HAZ022_every_contradicting_sensation_entry_is_reported():
    document = base_intake(
        sensation=[
            sensation("left_foot", "absent"),
            sensation("right_foot", "normal"),
            sensation("left_toes", "normal"),
            sensation("left_foot_dorsal", "normal"),
        ]
    )
    assert paths(document) == ["sensation.2.status", "sensation.3.status"]


@pytest.mark.parametrize(
    "statuses",
    [("reduced", "normal"), ("reduced", "absent"), ("normal", "normal"), ("absent", "absent")],
)
def test_HAZ022_compatible_sensation_findings_are_accepted(statuses):
    intake = make_intake(
        sensation=[sensation("left_foot", statuses[0]), sensation("left_toes", statuses[1])]
    )
    worst = max(statuses, key=["normal", "reduced", "absent"].index)
    assert intake.sensation_at("left_toes") == worst
    assert intake.sensation_at("left_foot_dorsal") == statuses[0]
    assert intake.sensation_at("right_toes") is None


def test_HAZ022_absent_on_one_side_and_normal_on_the_other_is_fine():
    intake = make_intake(
        sensation=[sensation("left_foot", "absent"), sensation("right_foot", "normal")]
    )
    assert intake.sensation_at("left_toes") == "absent"
    assert intake.sensation_at("right_toes") == "normal"


def test_HAZ022_contradictions_and_field_errors_are_reported_together():
    document = base_intake(
        sex="male",
        pregnancy="pregnant",
        sensation=[sensation("left_calf", "absent"), sensation("left_calf", "normal")],
    )
    assert sorted(paths(document)) == ["pregnancy", "sensation.1.status"]


# --------------------------------------------------------------------------- other fields


@pytest.mark.parametrize("kind", ["metal_implant", "demand_pacemaker", "spinal_cord_stimulator"])
def test_HAZ019_every_implant_needs_its_site(kind):
    ((path, _, expected),) = problems(base_intake(implants=[implant(kind)]))
    assert path == "implants.0.site"
    assert expected == "a value (this field is required)"


@pytest.mark.parametrize(
    "field, value",
    [("malignancies", "radiotherapy_ended_on"), ("surgeries_and_fractures", "occurred_on")],
)
def test_HAZ022_event_dates_after_the_assessment_are_rejected(field, value):
    item = (
        {"site": "left_calf", "status": "in_remission", "treatments": ["radiotherapy"],
         "radiotherapy_ended_on": "2027-01-01"}
        if field == "malignancies"
        else {"site": "left_calf", "kind": "fracture", "occurred_on": "2027-01-01",
              "healing": "healing"}
    )
    ((path, got, expected),) = problems(base_intake(**{field: [item]}))
    assert path == f"{field}.0.{value}"
    assert got == "2027-01-01"
    assert "on or before assessed_on" in expected


@pytest.mark.parametrize(
    "overrides, path",
    [
        ({"patient_id": "John Smith"}, "patient_id"),
        ({"patient_id": "ab"}, "patient_id"),
        ({"age_years": -1}, "age_years"),
        ({"age_years": 121}, "age_years"),
        ({"sex": "m"}, "sex"),
        ({"assessed_on": "2026-02-30"}, "assessed_on"),
        ({"goals": []}, "goals"),
        ({"epilepsie": "no"}, "epilepsie"),
        ({"schema_version": 3}, "schema_version"),
        ({"implants": [{"kind": "pacemaker", "site": "left_chest"}]}, "implants.0.kind"),
        (
            {
                "clearances": [
                    {
                        "rule_id": "CI-CARDIAC-DEVICE",
                        "cleared_by": "Dr X",
                        "role": "c",
                        "cleared_on": "2026-10-01",
                    }
                ]
            },
            "clearances.0.role",
        ),
        (
            {
                "clearances": [
                    {
                        "rule_id": "CI-CARDIAC-DEVICE",
                        "role": "cardiologist",
                        "cleared_on": "2026-10-01",
                    }
                ]
            },
            "clearances.0.cleared_by",
        ),
    ],
)
def test_invalid_fields_are_named(overrides, path):
    assert paths(base_intake(**overrides)) == [path]


def test_unknown_field_is_rejected_with_a_spelling_hint():
    ((path, _, expected),) = problems(base_intake(epilepsie="no"))
    assert path == "epilepsie" and "no such field" in expected


def test_yaml_on_pitfall_is_avoided_by_occurred_on(tmp_path):
    # YAML 1.1 reads a bare `on:` key as True; the field is called occurred_on instead.
    assert "occurred_on" in SurgeryOrFracture.model_fields
    assert "on" not in SurgeryOrFracture.model_fields
    document = base_intake(surgeries_and_fractures=[surgery("left_wrist", "healed")])
    text = yaml.safe_dump(document, sort_keys=False)
    good = tmp_path / "good.yaml"
    good.write_text(text.replace("healing: healed", "healing: healed\n  occurred_on: 2026-05-10"))
    intake = load_model_file(Intake, good)
    assert intake.surgeries_and_fractures[0].occurred_on.isoformat() == "2026-05-10"
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("healing: healed", "healing: healed\n  on: 2026-05-10"))
    with pytest.raises(InputError) as caught:
        load_model_file(Intake, bad)
    assert caught.value.problems[0].path.startswith("surgeries_and_fractures.0")


@pytest.mark.parametrize(
    "text, path_start",
    [
        ("patient_id: X-001\nepilepsy: [no\n", "(line"),
        ("patient_id: 'unterminated\n", "(line"),
        ("- just\n- a list\n", "(document)"),
        ("assessed_on: 2026-02-30\n", "(document)"),
        ('{"patient_id": "X-001",}', "(line"),
    ],
    ids=["unclosed-flow", "unterminated-quote", "not-a-mapping", "impossible-date", "bad-json"],
)
def test_malformed_intake_file_is_an_input_error_not_a_traceback(tmp_path, text, path_start):
    path = tmp_path / "intake.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_model_file(Intake, path)
    assert caught.value.problems[0].path.startswith(path_start)
    assert str(path) in caught.value.message


def test_missing_intake_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as caught:
        load_model_file(Intake, tmp_path / "nope.yaml")
    assert caught.value.problems[0].path == "file"


def test_example_intake_loads():
    intake = load_model_file(Intake, EXAMPLE)
    assert intake.patient_id == "DEMO-CRPS-01"
    assert intake.allodynic_sites >= {"left_hand_dorsal", "left_wrist"}
    assert "left_forearm_volar" in intake.diagnosed_sites
