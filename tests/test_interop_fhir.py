"""FHIR R4 export and import of a person's record (issue 7 item 5; hazards HAZ-070..072)."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from interop_records import (
    CLINICIAN,
    CONTACT,
    ENROLLED,
    FULL_NAME,
    NOW,
    add_person,
    person_database,
)
from stimwise.cli.main import app
from stimwise.errors import InputError
from stimwise.interop import fhir_codes as codes
from stimwise.interop.fhir_export import ExportError, check_bundle, export_bundle, resource_model
from stimwise.interop.fhir_import import import_bundle
from stimwise.records import repository as repo
from stimwise.records.access import AccessDeniedError, Actor
from stimwise.records.models import AuditEntry, Patient
from stimwise.records.schema import open_database

runner = CliRunner()


@pytest.fixture(scope="module")
def source_db():
    with person_database() as database:
        yield database


@pytest.fixture(scope="module")
def bundle(source_db):
    return export_bundle(source_db, CLINICIAN, "P001", now=NOW)


@pytest.fixture
def empty_db():
    database = open_database("sqlite://")
    yield database
    database.close()


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def normalised(bundle):
    """The bundle without what each export generates anew (its id, identifier and time)."""
    return {k: v for k, v in bundle.items() if k not in ("id", "identifier", "timestamp")}


def counts(database, pseudonym="P001"):
    with database.reading() as s:
        return repo.record_counts(s, CLINICIAN, pseudonym)


def test_export_is_a_valid_r4_collection_with_every_kind_of_record(bundle):
    resource_model("Bundle").model_validate(bundle)  # raises unless valid
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "Patient": 1, "Questionnaire": 3, "QuestionnaireResponse": 3,
        "Observation": 3 + 8, "DeviceRequest": 2, "Procedure": 2, "AdverseEvent": 2,
    }
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])


def test_an_invalid_exported_resource_is_a_fault_not_a_silent_export(bundle):
    broken = copy.deepcopy(bundle)
    broken["entry"][1]["resource"]["item"] = "not a list"
    with pytest.raises(ExportError, match="not valid FHIR R4") as caught:
        check_bundle(broken)
    assert caught.value.exit_code == 3


def test_diary_pain_now_carries_loinc_72514_3_and_every_rating_its_value(bundle):
    recalled = codes.extension_url("recalled-baseline")
    diary = [o for o in resources(bundle, "Observation")
             if o["code"]["coding"][0]["code"] == "diary-entry"
             and not any(e["url"] == recalled for e in o.get("extension", []))]
    first = diary[0]["component"]
    pain_now = next(c for c in first if c["code"]["coding"][0].get("system") == codes.LOINC)
    assert pain_now["code"]["coding"][0]["code"] == "72514-3"
    assert pain_now["valueInteger"] == 0
    worst = next(c for c in first if c["code"]["coding"][-1]["code"] == "pain-worst-nrs")
    assert worst["valueInteger"] == 8
    noted = next(o for o in diary if "note" in o)
    assert noted["bodySite"]["coding"][0]["code"] == "left_calf"
    assert noted["note"][0]["text"] == "walked further today"


def test_questionnaires_hold_item_ids_and_no_wording(bundle):
    (dn4,) = [q for q in resources(bundle, "Questionnaire") if q["url"].endswith("/dn4")]
    assert dn4["version"] == "interview"
    assert [i["linkId"] for i in dn4["item"]][:2] == ["burning", "painful_cold"]
    for questionnaire in resources(bundle, "Questionnaire"):
        assert all("text" not in item for item in questionnaire["item"])
    (pgic,) = [r for r in resources(bundle, "QuestionnaireResponse")
               if "/pgic|" in r["questionnaire"]]
    assert pgic["item"][0]["answer"][0]["valueCoding"]["code"] == "much_improved"


def test_prescriptions_and_sessions_carry_parameters_and_dose(bundle):
    home = next(r for r in resources(bundle, "DeviceRequest")
                if r["occurrencePeriod"].get("end") == "2026-03-01")
    parameters = {p["code"]["coding"][0]["code"]: p for p in home["parameter"]}
    assert parameters["amplitude-cap"]["valueQuantity"]["value"] == 25
    assert parameters["amplitude-cap"]["valueQuantity"]["code"] == "mA"
    assert parameters["pulse-frequency"]["valueQuantity"]["value"] == 100
    assert parameters["home-range-amplitude_ma"]["valueRange"]["high"]["value"] == 20
    assert parameters["home-use"]["valueBoolean"] is True
    assert home["status"] == "completed"  # ended 2026-03-01, exported 2026-06-01
    completed, aborted = resources(bundle, "Procedure")
    assert (completed["status"], aborted["status"]) == ("completed", "stopped")
    assert completed["basedOn"] == [{"reference": f"urn:uuid:{home['id']}"}]
    dose = {e["url"].rsplit("/", 1)[1]: e for e in completed["extension"]}
    assert dose["max-amplitude"]["valueQuantity"]["value"] == 18.5
    assert dose["max-charge-per-phase"]["valueQuantity"]["code"] == "uC"
    assert dose["stimulation-duration"]["valueQuantity"]["value"] == 1790.25
    linked = next(a for a in resources(bundle, "AdverseEvent") if "suspectEntity" in a)
    assert linked["suspectEntity"][0]["instance"]["reference"] == f"urn:uuid:{completed['id']}"
    assert linked["severity"]["coding"][0] == {"system": codes.ADVERSE_EVENT_SEVERITY,
                                               "code": "mild"}


def test_export_import_export_round_trips(db_url, bundle):
    database = open_database(db_url)
    try:
        summary = import_bundle(database, CLINICIAN, json.dumps(bundle), now=NOW)
        assert summary.created == {"Patient": 1, "DeviceRequest": 2, "Procedure": 2,
                                   "Observation": 8, "QuestionnaireResponse": 3,
                                   "AdverseEvent": 2}
        again = export_bundle(database, CLINICIAN, "P001", now=NOW)
    finally:
        database.close()
    assert normalised(again) == normalised(bundle)


def test_HAZ070_importing_the_same_bundle_twice_adds_nothing(empty_db, bundle):
    import_bundle(empty_db, CLINICIAN, bundle, now=NOW)
    before = counts(empty_db)
    summary = import_bundle(empty_db, CLINICIAN, bundle, now=NOW)
    assert summary.created == {}
    assert sum(summary.skipped.values()) == len(bundle["entry"]) - 3 - 3  # not Questionnaires
    assert counts(empty_db) == before                                      # nor score Obs.


def test_HAZ070_a_bad_entry_late_in_the_bundle_writes_nothing(empty_db, bundle):
    broken = copy.deepcopy(bundle)
    event = broken["entry"][-1]["resource"]
    assert event["resourceType"] == "AdverseEvent"
    event["date"] = "2025-12-01T10:00:00Z"  # before enrolment: refused by the records
    with pytest.raises(InputError) as caught:
        import_bundle(empty_db, CLINICIAN, broken, now=NOW)
    assert f"entry[{len(bundle['entry']) - 1}]" in str(caught.value)
    assert "enrolment" in str(caught.value)
    with empty_db.reading() as s:
        assert s.scalar(select(Patient.id)) is None


def test_HAZ070_a_diary_entry_in_the_future_is_named_and_nothing_written(empty_db, bundle):
    broken = copy.deepcopy(bundle)
    index = entry_index(bundle, "Observation", 5)  # the third diary entry
    broken["entry"][index]["resource"]["effectiveDateTime"] = "2027-01-01T00:00:00Z"
    (problem,) = problems_of(empty_db, broken)
    assert problem.path == f"entry[{index}].resource (Observation): recorded_at"
    assert "future" in problem.expected
    with empty_db.reading() as s:
        assert s.scalar(select(Patient.id)) is None


def test_HAZ070_a_bundle_merges_into_a_record_that_already_has_part_of_it(empty_db, bundle):
    partial = copy.deepcopy(bundle)
    partial["entry"] = [e for e in partial["entry"]
                        if e["resource"]["resourceType"] not in ("AdverseEvent", "Procedure")]
    import_bundle(empty_db, CLINICIAN, partial, now=NOW)
    summary = import_bundle(empty_db, CLINICIAN, bundle, now=NOW)
    assert summary.created == {"Procedure": 2, "AdverseEvent": 2}
    again = export_bundle(empty_db, CLINICIAN, "P001", now=NOW)
    assert normalised(again) == normalised(bundle)


def test_HAZ071_the_export_is_pseudonymous_unless_a_clinician_asks(source_db, bundle):
    text = json.dumps(bundle)
    for identifying in (FULL_NAME, CONTACT, "1970-03-04", "Alice"):
        assert identifying not in text
    (patient,) = resources(bundle, "Patient")
    assert set(patient) == {"resourceType", "id", "identifier", "extension"}
    assert patient["identifier"] == [{"system": codes.IDENTIFIER_SYSTEMS["pseudonym"],
                                      "value": "P001"}]
    named = export_bundle(source_db, CLINICIAN, "P001", include_identity=True, now=NOW)
    (patient,) = resources(named, "Patient")
    assert patient["name"] == [{"text": FULL_NAME}] and patient["birthDate"] == "1970-03-04"
    with pytest.raises(AccessDeniedError, match="clinicians only"):
        export_bundle(source_db, Actor("alice", "patient", "P001"), "P001",
                      include_identity=True)
    with pytest.raises(AccessDeniedError, match="researcher"):
        export_bundle(source_db, Actor("rs", "researcher"), "P001")
    with pytest.raises(AccessDeniedError, match="another"):
        export_bundle(source_db, Actor("bob", "patient", "P002"), "P001")
    own = export_bundle(source_db, Actor("alice", "patient", "P001"), "P001")
    assert FULL_NAME not in json.dumps(own)


def test_identity_travels_only_when_exported_with_it(empty_db, source_db):
    named = export_bundle(source_db, CLINICIAN, "P001", include_identity=True, now=NOW)
    import_bundle(empty_db, CLINICIAN, named, now=NOW)
    with empty_db.reading() as s:
        identity = repo.get_identity(s, CLINICIAN, "P001")
    assert (identity.full_name, identity.contact) == (FULL_NAME, CONTACT)
    assert identity.date_of_birth == date(1970, 3, 4)


def test_every_export_and_import_is_audited(empty_db, bundle):
    import_bundle(empty_db, CLINICIAN, bundle, now=NOW)
    export_bundle(empty_db, CLINICIAN, "P001", now=NOW)
    with empty_db.reading() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action))]
    assert "export_fhir" in actions and actions.count("create") >= 17


def test_only_clinicians_import(empty_db, bundle):
    for actor in (Actor("alice", "patient", "P001"), Actor("rs", "researcher")):
        with pytest.raises(AccessDeniedError):
            import_bundle(empty_db, actor, bundle)


def problems_of(database, document):
    with pytest.raises(InputError) as caught:
        import_bundle(database, CLINICIAN, document, now=NOW)
    return caught.value.problems


def entry_index(bundle, kind, nth=0):
    return [i for i, e in enumerate(bundle["entry"])
            if e["resource"]["resourceType"] == kind][nth]


def test_HAZ072_a_malformed_value_is_named_by_entry_index_and_field(empty_db, bundle):
    broken = copy.deepcopy(bundle)
    index = entry_index(bundle, "Observation", 4)  # the first diary entry written on its day
    broken["entry"][index]["resource"]["component"][1]["valueInteger"] = "lots"
    (problem,) = problems_of(empty_db, broken)
    assert problem.path == f"entry[{index}].resource.component[1].valueInteger"
    assert problem.value == "lots"


def test_HAZ072_an_r5_shaped_resource_is_refused_as_another_fhir_version(empty_db, bundle):
    broken = copy.deepcopy(bundle)
    index = entry_index(bundle, "Procedure")
    procedure = broken["entry"][index]["resource"]
    procedure["occurrencePeriod"] = procedure.pop("performedPeriod")  # R5's name
    (problem,) = problems_of(empty_db, broken)
    assert problem.path == f"entry[{index}].resource.occurrencePeriod"
    assert "R5" in problem.expected and "FHIR R4" in problem.expected


@pytest.mark.parametrize(("change", "path", "expected"), [
    (lambda b: b.update(resourceType="Patient"), "resourceType", "Bundle"),
    (lambda b: b.update(type="transaction"), "type", "collection"),
    (lambda b: b["meta"]["tag"][0].update(code="r5-1"), "meta.tag", "r4-1"),
    (lambda b: b["entry"][0]["resource"].pop("identifier"), "entry[0].resource.identifier",
     "pseudonym"),
    (lambda b: b["entry"].append({"resource": {"resourceType": "Consent", "status": "active",
                                               "scope": {"text": "x"}, "category": [{}]}}),
     "entry[24].resource", "Consent"),
])
def test_HAZ072_structural_problems_are_named(empty_db, bundle, change, path, expected):
    broken = copy.deepcopy(bundle)
    change(broken)
    problems = problems_of(empty_db, broken)
    assert problems[0].path.startswith(path)
    assert expected in f"{problems[0].expected} {problems[0].value}"


def test_HAZ072_not_json_is_refused():
    (problem,) = problems_of(None, "{not json")
    assert problem.expected == "well-formed JSON"


def test_a_device_request_whose_parameters_disagree_with_its_document_is_refused(
    empty_db, bundle
):
    broken = copy.deepcopy(bundle)
    index = entry_index(bundle, "DeviceRequest")
    for parameter in broken["entry"][index]["resource"]["parameter"]:
        if parameter["code"]["coding"][0]["code"] == "amplitude-cap":
            parameter["valueQuantity"]["value"] = 60  # the document still says 25 mA
    (problem,) = problems_of(empty_db, broken)
    assert problem.path == f"entry[{index}].resource.parameter"
    with empty_db.reading() as s:
        assert s.scalar(select(Patient.id)) is None


def test_an_existing_patient_with_another_enrolment_date_is_refused(empty_db, bundle):
    from stimwise.records.inputs import PatientIn

    with empty_db.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 1)),
                            now=NOW)
    (problem,) = problems_of(empty_db, bundle)
    assert problem.path.startswith("entry[0].resource.extension")
    assert str(ENROLLED) == problem.value


def test_cli_exports_imports_and_reports_bad_bundles(tmp_path, bundle):
    source = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    add_person(open_database(source))
    out = tmp_path / "p001.json"
    result = runner.invoke(app, ["fhir", "export", "P001", "--out", str(out), "--db", source,
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resources"]["Procedure"] == 2
    assert FULL_NAME not in out.read_text()
    target = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    result = runner.invoke(app, ["fhir", "import", str(out), "--db", target, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"]["Procedure"] == 2
    result = runner.invoke(app, ["fhir", "import", str(out), "--db", target])
    assert result.exit_code == 0 and "nothing new" in result.stdout
    broken = json.loads(out.read_text())
    broken["entry"][1]["resource"]["status"] = ["active"]
    out.write_text(json.dumps(broken))
    result = runner.invoke(app, ["fhir", "import", str(out), "--db", target])
    assert result.exit_code == 2
    assert "entry[1].resource.status" in result.output and "Traceback" not in result.output


LEAF_VALUES = (None, "", "x", 0, -1, 1e9, [], {}, "2026", "2026-02", True, "Zm9v", {"a": 1})


def leaf_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaf_paths(value, (*path, index))
    if path:
        yield path


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_HAZ072_any_damaged_field_is_refused_as_input_never_a_crash(bundle, data):
    damaged = copy.deepcopy(bundle)
    path = data.draw(st.sampled_from(sorted(leaf_paths(bundle), key=str)))
    parent = damaged
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(st.sampled_from(LEAF_VALUES))
    database = open_database("sqlite://")
    try:
        import_bundle(database, CLINICIAN, damaged, now=NOW)
    except InputError as error:
        assert error.problems and all(p.path for p in error.problems)
    finally:
        database.close()


def test_HAZ122_a_recalled_baseline_day_travels_marked_and_its_recall_is_checked(empty_db,
                                                                                bundle):
    """The recalled day (14 Jan, before the 15 Jan enrolment, recorded 20 Jan) is exported with
    the time it was recorded and imported as recalled; one claimed to be recalled 30 days later
    is refused, naming the entry."""
    recalled = [o for o in resources(bundle, "Observation") if any(
        e["url"] == codes.extension_url("recalled-baseline") for e in o.get("extension", []))]
    assert len(recalled) == 1 and recalled[0]["effectiveDateTime"].startswith("2026-01-14")
    assert recalled[0]["extension"][0]["valueDateTime"].startswith("2026-01-20")
    late = copy.deepcopy(bundle)
    index = next(i for i, e in enumerate(late["entry"]) if e["resource"] is not None
                 and e["resource"].get("id") == recalled[0]["id"])
    late["entry"][index]["resource"]["extension"][0]["valueDateTime"] = "2026-02-13T10:00:00Z"
    (problem,) = problems_of(empty_db, late)
    assert problem.path.startswith(f"entry[{index}]")
    assert "recalled within 14 days before it was recorded" in problem.expected
    import_bundle(empty_db, CLINICIAN, bundle, now=NOW)
    with empty_db.reading() as s:
        rows = repo.list_diary(s, CLINICIAN, "P001")
    assert [(r.recorded_at.date().isoformat(), r.pain_average_nrs) for r in rows
            if r.retrospective] == [("2026-01-14", 6)]
