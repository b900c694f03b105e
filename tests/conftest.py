"""Shared test set-up: makes ``tests/builders.py`` importable and offers its defaults as fixtures.

Builders are plain functions in ``tests/builders.py`` (``from builders import make_protocol``);
the fixtures below are only the two most common defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import builders  # noqa: E402


@pytest.fixture
def tens_protocol():
    """Conventional TENS: 30 mA, 200 µs/phase symmetric biphasic, 100 Hz, 2 × 25 cm² electrodes."""
    return builders.make_protocol()


@pytest.fixture
def tens_prescription(tens_protocol):
    """The protocol defaults of :func:`tens_protocol` as a prescription."""
    return builders.make_prescription(tens_protocol)


# --------------------------------------------------------------------------- records databases

POSTGRES_URL_ENV = "STIMWISE_TEST_POSTGRES_URL"


def _postgres_schema_url(base_url: str):
    """A URL whose connections use a new, empty schema (dropped afterwards): per-test isolation
    on one server without CREATE DATABASE."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_url(base_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        ).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty records database on each backend. PostgreSQL runs when
    ``STIMWISE_TEST_POSTGRES_URL`` is set (``.ci/run`` starts a server and sets it); under CI
    without it the test fails instead of skipping, so a CI that lost its server is noticed."""
    import os

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {POSTGRES_URL_ENV} is not: PostgreSQL tests cannot run")
        pytest.skip(f"set {POSTGRES_URL_ENV} to run the records tests against PostgreSQL")
    yield from _postgres_schema_url(base_url)
