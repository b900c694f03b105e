"""Shared fixtures of the web tests: an application on a temporary SQLite database and a
``login_as`` helper that creates users (and a patient's record) as needed.

Use in a test module::

    from web_fixtures import login_as

    pytest_plugins = ["web_fixtures"]   # registers the fixtures app_client and web_app

    def test_something(app_client):
        login_as(app_client, "clinician")
        assert app_client.get("/api/v1/patients").status_code == 200

``login_as`` signs in through ``POST /api/v1/auth/login`` and sets the ``X-CSRF-Token`` header
on the client, so later API writes pass the CSRF check; page-form tests that want to see the
form field at work remove the header (``client.headers.pop("X-CSRF-Token")``).
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.inputs import PatientIn
from stimwise.records.models import Patient, User
from stimwise.settings import Settings
from stimwise.web.app import create_app
from stimwise.web.services.users import NewUser, create_user

PASSWORD = "correct horse battery staple"
ENROLLED_ON = date(2025, 1, 1)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_FIXTURE_CLINICIAN = Actor("fixture-setup", "clinician")
_FIXTURE_ADMINISTRATOR = Actor("fixture-setup", "administrator")


def web_settings(db_url: str, **overrides) -> Settings:
    """Settings for tests: a fixed signing key (apps made with :func:`app_on` also hash
    passwords cheaply)."""
    return Settings(**{"db_url": db_url, "secret_key": TEST_SECRET, **overrides})


def app_on(settings: Settings, database=None) -> FastAPI:
    """The application on ``settings`` with the cheapest password hashing."""
    return create_app(settings, database, password_hashing="fast-for-tests")


@pytest.fixture
def web_app(tmp_path) -> FastAPI:
    app = app_on(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    yield app
    app.state.db.close()


@pytest.fixture
def app_client(web_app) -> TestClient:
    with TestClient(web_app, follow_redirects=False) as client:
        yield client


def ensure_patient(app: FastAPI, pseudonym: str) -> None:
    """Create the patient's record when it does not exist yet."""
    with app.state.db.transaction() as session:
        if session.scalar(select(Patient.id).where(Patient.pseudonym == pseudonym)) is None:
            r.create_patient(
                session, _FIXTURE_CLINICIAN, PatientIn(pseudonym=pseudonym, enrolled_on=ENROLLED_ON)
            )


def ensure_user(
    app: FastAPI, username: str, role: str, patient: str | None = None, password: str = PASSWORD
) -> None:
    """Create the account (and, for a patient, the record) when it does not exist yet."""
    if patient is not None:
        ensure_patient(app, patient)
    with app.state.db.reading() as session:
        exists = session.scalar(select(User.id).where(User.username == username)) is not None
    if not exists:
        data = NewUser(username=username, role=role, patient=patient, password=SecretStr(password))
        create_user(app.state.db, _FIXTURE_ADMINISTRATOR, data, app.state.passwords)


def login_as(
    client: TestClient,
    role: str,
    patient: str | None = None,
    username: str | None = None,
    password: str = PASSWORD,
) -> dict:
    """Sign ``client`` in as a user of ``role`` (created when missing; a patient user is tied
    to ``patient``, default ``P001``). Returns the session JSON (username, role, patient,
    csrf_token) and sets the client's ``X-CSRF-Token`` header."""
    if role == "patient":
        patient = patient or "P001"
    username = username or (f"pt-{patient}" if role == "patient" else f"{role}-1")
    ensure_user(client.app, username, role, patient, password)
    client.headers.pop("X-CSRF-Token", None)
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    session = response.json()
    client.headers["X-CSRF-Token"] = session["csrf_token"]
    return session
