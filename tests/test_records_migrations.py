"""Schema versions: the revisions build exactly the models' schema, an existing database is
upgraded without loss, and a database from a newer stimwise is refused untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.records.database import Database
from stimwise.records.models import Base
from stimwise.records.schema import (
    SchemaVersionError,
    current_revision,
    head_revision,
    known_revisions,
    migrate,
    open_database,
    upgrade,
)

INITIAL = "0001_initial"

SEED = (
    "INSERT INTO patients (id, pseudonym, enrolled_on, created_at) VALUES "
    "(1, 'P001', '2025-01-01', '2025-01-01 09:00:00+00:00')",
    "INSERT INTO diary_entries (id, entry_uuid, patient_id, recorded_at, pain_current_nrs, "
    "medication_changes, note, created_at) VALUES (1, '00000000-0000-0000-0000-000000000001', 1, "
    "'2025-01-02 08:00:00+00:00', 6, '[]', 'stiff morning', '2025-01-02 08:00:00+00:00')",
    "INSERT INTO adverse_events (id, patient_id, occurred_at, kind, severity, created_at) "
    "VALUES (1, 1, '2025-01-03 10:00:00+00:00', 'soreness', 'mild', '2025-01-03 10:00:00+00:00')",
    "INSERT INTO audit_log (id, at, actor, role, action, record_type, record_id) VALUES "
    "(1, '2025-01-01 09:00:00+00:00', 'dr', 'clinician', 'create', 'patient', '1')",
)


def at_revision(url: str, revision: str) -> Database:
    database = Database(url)
    with database.engine.begin() as connection:
        upgrade(connection, revision)
    return database


def table_rows(database: Database) -> dict[str, list]:
    with database.engine.connect() as connection:
        return {
            table: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in ("patients", "diary_entries", "adverse_events", "audit_log")
        }


def test_the_revisions_create_exactly_the_models_schema(db_url):
    database = open_database(db_url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert current_revision(connection) == head_revision()
    assert known_revisions()[0] == INITIAL and known_revisions()[-1] == head_revision()
    database.close()


def test_an_initial_revision_database_with_data_upgrades_to_head_without_loss(db_url):
    database = at_revision(db_url, INITIAL)
    with database.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement))
    before = table_rows(database)
    database.close()
    with pytest.raises(SchemaVersionError, match="stimwise db migrate"):
        open_database(db_url)
    assert migrate(db_url) == (INITIAL, head_revision())
    upgraded = open_database(db_url)
    after = table_rows(upgraded)
    # Later revisions add columns at the end of a table: the old columns keep their values.
    assert {t: [row[: len(old[0])] for row in after[t]] for t, old in before.items()} == before
    with upgraded.engine.connect() as connection:
        added = connection.execute(text(
            "SELECT d.retrospective, a.acknowledged_at, p.therapy_start_on FROM diary_entries d, "
            "adverse_events a, patients p")).one()
    assert not added[0] and added[1] is None and added[2] is None
    with upgraded.engine.connect() as connection:
        indexes = {i["name"] for i in inspect(connection).get_indexes("diary_entries")}
    assert "ix_diary_patient_recorded" in indexes
    from stimwise.records.access import Actor
    from stimwise.records.repository import list_diary

    with upgraded.reading() as s:
        (entry,) = list_diary(s, Actor("dr", "clinician"), "P001")
    assert entry.note == "stiff morning" and entry.recorded_at.hour == 8
    upgraded.close()


def test_HAZ042_database_at_a_newer_schema_is_refused_untouched(db_url):
    database = open_database(db_url)
    with database.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement))
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    before = table_rows(database)
    database.close()
    for attempt in (open_database, migrate):
        with pytest.raises(SchemaVersionError, match=r"0099_from_the_future.*newer stimwise"):
            attempt(db_url)
    result = CliRunner().invoke(app, ["patient", "list", "--db", db_url])
    assert result.exit_code == 3 and "newer stimwise" in result.output
    result = CliRunner().invoke(app, ["db", "migrate", "--db", db_url])
    assert result.exit_code == 3
    if db_url.startswith("sqlite"):
        assert sorted(p.name for p in Path(db_url.removeprefix("sqlite:///")).parent.iterdir()
                      if "before-migrate" in p.name) == []
    after = Database(db_url)
    assert table_rows(after) == before
    with after.engine.connect() as connection:
        assert current_revision(connection) == "0099_from_the_future"
    after.close()


def test_every_revision_id_fits_alembic_s_version_column():
    """PostgreSQL refuses a revision id longer than alembic_version.version_num (VARCHAR(32));
    SQLite does not check, so the length is checked here for every database."""
    assert all(len(revision) <= 32 for revision in known_revisions()), known_revisions()
