"""Schemathesis against the OpenAPI schema: every operation, a bounded number of generated
requests, signed in as a clinician with the CSRF header; no response may be a server error.

Signing out and changing the password would end the session the run depends on; they are
exercised by the security tests and left out here. Examples per operation are bounded so the
run stays well under a minute.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from test_web_clinical_support import screened_patient
from web_fixtures import app_on, login_as, web_settings

EXAMPLES_PER_OPERATION = 25
"""Bounded generation (each example is a real request to the app) [U]."""
STATUSES: list[int] = []
SESSION_ENDING = ("/api/v1/auth/logout", "/api/v1/auth/password")


_FOLDER = Path(tempfile.mkdtemp(prefix="stimwise-schemathesis-"))
atexit.register(shutil.rmtree, _FOLDER, True)  # also when the tests are deselected
APP = app_on(web_settings(f"sqlite:///{_FOLDER / 'web.sqlite3'}"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path=list(SESSION_ENDING))


@pytest.fixture(scope="module")
def signed_in():
    """A clinician's cookie and CSRF token on the app, with a screened patient on record."""
    client = TestClient(APP, follow_redirects=False)
    session = login_as(client, "clinician")
    screened_patient(client)
    yield dict(client.cookies), session["csrf_token"]
    APP.state.db.close()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, signed_in):
    cookies, token = signed_in
    response = case.call(headers={"X-CSRF-Token": token}, cookies=cookies)
    STATUSES.append(response.status_code)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance])


def test_the_run_was_signed_in():
    """Guard against a vacuous run: generated requests really reached the operations (not
    only refusals of a missing sign-in or CSRF token). Most generated requests are meant to be
    refused (invalid bodies → 422, unknown pseudonyms → 404, other methods → 405)."""
    successes = sum(200 <= code < 300 for code in STATUSES)
    assert successes >= 10, STATUSES
    assert STATUSES.count(401) <= len(STATUSES) // 20  # only sign-in attempts with bad data
