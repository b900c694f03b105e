"""FHIR import checks what the journal import checks (hazard HAZ-094): units converted or
refused, ranges, the prescription's ceiling, allowed codes, JSON types and bytes; every refusal
names the entry, and nothing is stored."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from interop_records import CLINICIAN, NOW, person_database
from stimwise.cli.main import app
from stimwise.errors import InputError
from stimwise.interop.fhir_export import export_bundle
from stimwise.interop.fhir_import import import_bundle
from stimwise.records.models import Patient, SessionEntry
from stimwise.records.schema import open_database

cli = CliRunner()


@pytest.fixture(scope="module")
def bundle():
    with person_database() as database:
        return export_bundle(database, CLINICIAN, "P001", now=NOW)


@pytest.fixture
def empty_db():
    database = open_database("sqlite://")
    yield database
    database.close()


def procedure_index(bundle, nth: int = 0) -> int:
    """The entry of the ``nth`` session (0: 18.5 mA under the home prescription, whose range
    ends at 20 mA; 1: 12.25 mA, no prescription link)."""
    found = [i for i, e in enumerate(bundle["entry"])
             if e["resource"]["resourceType"] == "Procedure"]
    by_amplitude = sorted(found, key=lambda i: -_quantity(bundle, i, "max-amplitude")["value"])
    return by_amplitude[nth]


def _extension(bundle, index: int, name: str) -> dict:
    return next(x for x in bundle["entry"][index]["resource"]["extension"]
                if x["url"].endswith(f"/{name}"))


def _quantity(bundle, index: int, name: str) -> dict:
    return _extension(bundle, index, name)["valueQuantity"]


def refused(database, document) -> str:
    with pytest.raises(InputError) as caught:
        import_bundle(database, CLINICIAN, document, now=NOW)
    with database.reading() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0
    return str(caught.value)


def stored_sessions(database) -> dict[float, SessionEntry]:
    with database.reading() as s:
        return {round(r.stimulation_s, 6): r for r in s.scalars(select(SessionEntry))}


# --------------------------------------------------------------------------- ceiling, ranges


@pytest.mark.parametrize("amplitude_ma", [99, 199, 20.5])
def test_HAZ094_a_procedure_above_its_prescription_is_refused(empty_db, bundle, amplitude_ma):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    _quantity(damaged, index, "max-amplitude")["value"] = amplitude_ma
    message = refused(empty_db, damaged)
    assert f"entry[{index}].resource (Procedure): record.max_amplitude_ma" in message
    assert "at most the prescribed amplitude (20 mA)" in message


def test_HAZ094_leaving_out_the_prescription_link_does_not_lift_its_ceiling(empty_db, bundle):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    damaged["entry"][index]["resource"].pop("basedOn")
    _quantity(damaged, index, "max-amplitude")["value"] = 99
    assert "at most the prescribed amplitude (20 mA)" in refused(empty_db, damaged)


def test_HAZ094_an_unlinked_procedure_is_held_to_the_prescription_whose_plan_it_ran(
    empty_db, bundle
):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle, 1)  # no basedOn, but the home prescription's plan
    _quantity(damaged, index, "max-amplitude")["value"] = 25
    assert "at most the prescribed amplitude (20 mA)" in refused(empty_db, damaged)


def test_HAZ094_a_procedure_of_no_prescription_is_held_to_what_any_may_hold(empty_db, bundle):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle, 1)
    _extension(damaged, index, "plan-fingerprint")["valueString"] = "0" * 64
    _quantity(damaged, index, "max-amplitude")["value"] = 250
    assert "the largest prescribable amplitude (200 mA)" in refused(empty_db, damaged)


@pytest.mark.parametrize(
    ("name", "kind", "value", "expected"),
    [
        ("max-amplitude", "valueQuantity", -5, "greater than or equal to 0"),
        ("stimulation-duration", "valueQuantity", -1800, "greater than or equal to 0"),
        ("stimulation-duration", "valueQuantity", 10**9, "the planned time"),
        ("nrs-before", "valueInteger", 42, "less than or equal to 10"),
        ("nrs-after", "valueInteger", -1, "greater than or equal to 0"),
        ("session-outcome", "valueString", "cured", "'completed' or 'aborted'"),
        ("skin-after", "valueString", "fine", "'ok' or 'not_ok'"),
    ],
)
def test_HAZ094_out_of_range_values_and_unknown_codes_are_refused(
    empty_db, bundle, name, kind, value, expected
):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    extension = _extension(damaged, index, name)
    if kind == "valueQuantity":
        extension[kind]["value"] = value
    else:
        extension[kind] = value
    message = refused(empty_db, damaged)
    assert f"entry[{index}]" in message and expected in message


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("name", "code", "unit", "factor"),
    [
        ("max-amplitude", "uA", "uA", 1000.0),
        ("max-amplitude", "A", "A", 0.001),
        ("max-amplitude", None, "µA", 1000.0),
        ("stimulation-duration", "min", "min", 1 / 60),
        ("stimulation-duration", "ms", "ms", 1000.0),
        ("max-charge-per-phase", "nC", "nC", 1000.0),
    ],
)
def test_HAZ094_ucum_units_are_converted_to_the_stored_unit(
    empty_db, bundle, name, code, unit, factor
):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    quantity = _quantity(damaged, index, name)
    original = quantity["value"]
    quantity.update(value=original * factor, unit=unit)
    if code is None:
        quantity.pop("code")
    else:
        quantity["code"] = code
    import_bundle(empty_db, CLINICIAN, damaged, now=NOW)
    column = {"max-amplitude": "max_amplitude_ma", "stimulation-duration": "stimulation_s",
              "max-charge-per-phase": "max_charge_per_phase_uc"}[name]
    with empty_db.reading() as s:
        values = sorted(getattr(r, column) for r in s.scalars(select(SessionEntry)))
    assert original in [pytest.approx(v, rel=1e-9) for v in values]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"code": "kA", "unit": "kA"}, "code", "a UCUM unit convertible to mA"),
        ({"code": "mV", "unit": "mV"}, "code", "a UCUM unit convertible to mA"),
        ({"code": "uA", "unit": "mA"}, "unit", "the unit its code 'uA' names"),
        ({"system": "http://example.org/units"}, "system", "UCUM"),
        ({"value": "18.5"}, "value", "a JSON number"),
    ],
)
def test_HAZ094_a_unit_that_cannot_be_converted_is_refused_with_the_entry_named(
    empty_db, bundle, change, field, expected
):
    """The old import stored 21005.6 "uA" as 21005.6 mA; a unit it cannot convert or that
    contradicts its code is now refused."""
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    _quantity(damaged, index, "max-amplitude").update(change)
    message = refused(empty_db, damaged)
    assert f"entry[{index}].resource" in message and field in message and expected in message


# --------------------------------------------------------------------------- codes, types, bytes


def test_HAZ094_unknown_codes_and_contradictions_are_refused(empty_db, bundle):
    index = procedure_index(bundle)
    cases = []
    damaged = copy.deepcopy(bundle)
    damaged["entry"][index]["resource"]["code"]["coding"][0]["code"] = "massage"
    cases.append((damaged, f"entry[{index}].resource.code"))
    damaged = copy.deepcopy(bundle)
    damaged["entry"][index]["resource"]["status"] = "stopped"  # its outcome is "completed"
    cases.append((damaged, f"entry[{index}].resource.status"))
    diary = next(i for i, e in enumerate(bundle["entry"])
                 if e["resource"].get("component") and e["resource"]["resourceType"]
                 == "Observation" and "diary" in json.dumps(e["resource"]["code"]))
    damaged = copy.deepcopy(bundle)
    damaged["entry"][diary]["resource"]["code"]["coding"][0]["code"] = "mood-score"
    cases.append((damaged, f"entry[{diary}].resource.code"))
    damaged = copy.deepcopy(bundle)
    damaged["entry"][diary]["resource"]["component"][0]["code"]["coding"][-1]["code"] = "joy"
    cases.append((damaged, f"entry[{diary}].resource.component.code"))
    for document, path in cases:
        assert path in refused(empty_db, document)


@pytest.mark.parametrize(
    ("where", "value"),
    [("performedPeriod.start", 20260101), ("performedPeriod.start", 1.5),
     ("nrs-before", True), ("nrs-before", "5")],
)
def test_HAZ094_wrong_json_types_are_named_not_a_crash(empty_db, bundle, where, value):
    damaged = copy.deepcopy(bundle)
    index = procedure_index(bundle)
    resource = damaged["entry"][index]["resource"]
    if where == "performedPeriod.start":
        resource["performedPeriod"]["start"] = value
        path = f"entry[{index}].resource.performedPeriod.start"
    else:
        extension = _extension(damaged, index, where)
        extension["valueInteger"] = value
        position = resource["extension"].index(extension)
        path = f"entry[{index}].resource.extension[{position}].valueInteger"
    message = refused(empty_db, damaged)
    assert path in message and "a JSON" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (lambda text: text.replace('"value": 18.5', '"value": NaN', 1), "NaN is not a number"),
        (lambda text: text.replace('"value": 18.5', '"value": 1e400', 1), "out of the range"),
        (lambda text: text.encode("utf-16"), "not UTF-8"),
        (lambda text: text.encode()[:200] + b"\xff\xfe" + text.encode()[200:], "not UTF-8"),
    ],
)
def test_HAZ094_malformed_bytes_are_exit_2_and_nothing_is_stored(tmp_path, bundle, data,
                                                                 expected):
    text = json.dumps(bundle, indent=1)
    raw = data(text)
    path = tmp_path / "bundle.json"
    path.write_bytes(raw.encode() if isinstance(raw, str) else raw)
    url = f"sqlite:///{tmp_path / 'records.db'}"
    result = cli.invoke(app, ["fhir", "import", str(path), "--db", url])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert expected in result.output
    with open_database(url) as database, database.reading() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_missing_bundle_file_is_exit_2(tmp_path):
    result = cli.invoke(app, ["fhir", "import", str(tmp_path / "none.json"), "--db",
                              f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 2 and "an existing FHIR Bundle" in result.output
