"""The model-generated form: every example intake survives a round trip through the form as a
browser would submit it, and empty rows or untouched lists are never read as answers."""

from __future__ import annotations

import pytest

from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.intake import Intake
from stimwise.protocol.io import load_model_file
from stimwise.web.services.intake_form import FormField, FormSection, build_form, parse_form


def _submitted(section: FormSection) -> dict[str, list[str]]:
    """What a browser sends for the rendered form (unchecked boxes send nothing)."""
    form: dict[str, list[str]] = {}
    for hidden in section.hidden:
        form[hidden.name] = [str(hidden.value)]
    for item in section.items:
        if isinstance(item, FormSection):
            for name, values in _submitted(item).items():
                form.setdefault(name, []).extend(values)
            continue
        form.update(_field_values(item))
    return form


def _field_values(field: FormField) -> dict[str, list[str]]:
    if field.widget == "checkboxes":
        return {field.name: list(field.value or [])}
    if field.widget == "checkbox":
        return {field.name: ["on"]} if field.value else {}
    return {field.name: ["" if field.value is None else str(field.value)]}


@pytest.mark.parametrize("name", example_names())
def test_every_example_intake_round_trips_through_the_form(name):
    intake = load_model_file(Intake, example_patient_path(name))
    form = build_form(Intake, intake.model_dump(mode="json"), blank_rows=2)
    parsed, _, problems = parse_form(Intake, _submitted(form), source=name)
    assert problems == []
    assert parsed == intake


def test_an_empty_form_reports_every_required_question():
    parsed, _, problems = parse_form(Intake, _submitted(build_form(Intake, {})), source="empty")
    assert parsed is None
    paths = {p.path for p in problems}
    for required in ("patient_id", "assessed_on", "sex", "pregnancy", "epilepsy",
                     "cardiac.arrhythmia", "implants", "thromboses", "malignancies",
                     "can_report_sensations", "bleeding_tendency", "home_use.planned"):
        assert required in paths, required


def test_problems_in_a_later_variant_row_land_on_that_row():
    intake = load_model_file(Intake, example_patient_path("crps-allodynia"))
    values = intake.model_dump(mode="json")
    values["diagnoses"].append({"kind": "neuropathy", "cause": "diabetic", "affected_sites": []})
    _, data, problems = parse_form(Intake, _submitted(build_form(Intake, values)), source="x")
    form = build_form(Intake, data, problems)
    by_name = {f.name: f for f in form.walk_fields()}
    # data row 1 (the neuropathy) is rendered after the CRPS row and its blank row
    assert by_name["diagnoses.2.affected_sites"].errors
    assert not by_name["diagnoses.0.affected_sites"].errors
