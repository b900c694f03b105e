"""The interop REST API: FHIR Bundle and CSV zip downloads, Bundle import; who may use them."""

from __future__ import annotations

import io
import zipfile

from interop_records import CLINICIAN, FULL_NAME, add_person
from stimwise.interop.fhir_export import export_bundle
from stimwise.records.schema import open_database
from web_fixtures import login_as

pytest_plugins = ("web_fixtures",)  # the app_client fixture


def test_a_clinician_downloads_the_bundle_and_imports_it_elsewhere(app_client, tmp_path):
    add_person(app_client.app.state.db)
    login_as(app_client, "clinician")
    response = app_client.get("/api/v1/patients/P001/fhir")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["cache-control"] == "no-store"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and FULL_NAME not in response.text
    named = app_client.get("/api/v1/patients/P001/fhir", params={"include_identity": "true"})
    assert FULL_NAME in named.text
    again = app_client.post("/api/v1/fhir/import", json=bundle)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == {} and again.json()["skipped"]["Procedure"] == 2
    broken = dict(bundle, type="transaction")
    refused = app_client.post("/api/v1/fhir/import", json=broken)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["path"] == "type"


def test_a_patient_downloads_their_own_data_only_and_cannot_import(app_client):
    add_person(app_client.app.state.db)
    login_as(app_client, "patient", "P001")
    response = app_client.get("/api/v1/patients/P001/export.csv.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "P001/diary.csv" in archive.namelist()
    assert app_client.get("/api/v1/patients/P001/fhir").status_code == 200
    assert app_client.get("/api/v1/patients/P001/fhir",
                          params={"include_identity": "true"}).status_code == 403
    login_as(app_client, "patient", "P002")
    assert app_client.get("/api/v1/patients/P001/export.csv.zip").status_code == 403
    assert app_client.get("/api/v1/patients/P001/fhir").status_code == 403
    refused = app_client.post("/api/v1/fhir/import", json={"resourceType": "Bundle"})
    assert refused.status_code == 403


def test_researchers_do_not_take_copies_of_a_record(app_client):
    add_person(app_client.app.state.db)
    login_as(app_client, "researcher")
    assert app_client.get("/api/v1/patients/P001/export.csv.zip").status_code == 403
    assert app_client.get("/api/v1/patients/P001/fhir").status_code == 403


def test_import_needs_a_csrf_token_and_a_signed_in_clinician(app_client, tmp_path):
    assert app_client.post("/api/v1/fhir/import", json={}).status_code in (401, 403)
    login_as(app_client, "clinician")
    token = app_client.headers.pop("X-CSRF-Token")
    assert app_client.post("/api/v1/fhir/import", json={}).status_code == 403
    app_client.headers["X-CSRF-Token"] = token
    source = open_database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    add_person(source, "Q001")
    bundle = export_bundle(source, CLINICIAN, "Q001")
    source.close()
    created = app_client.post("/api/v1/fhir/import", json=bundle)
    assert created.status_code == 200, created.text
    assert created.json()["patient"] == "Q001" and created.json()["created"]["Patient"] == 1
