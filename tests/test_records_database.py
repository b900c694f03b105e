"""Opening records databases: SQLite settings, the default location, concurrent writers and the
write lock's timeout."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from stimwise.errors import InputError
from stimwise.records import database as database_module
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.database import DatabaseBusyError, default_url, resolve_url
from stimwise.records.inputs import DiaryEntryIn, PatientIn
from stimwise.records.models import DiaryEntry
from stimwise.records.schema import open_database

CLINICIAN = Actor("dr-ward", "clinician")


def pragma(database, name: str):
    with database.engine.connect() as connection:
        return connection.execute(text(f"PRAGMA {name}")).scalar()


def test_sqlite_runs_in_wal_with_foreign_keys_busy_timeout_and_chosen_sync(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with open_database(url) as database:
        assert pragma(database, "journal_mode") == "wal"
        assert pragma(database, "foreign_keys") == 1
        assert pragma(database, "busy_timeout") == 30_000
        assert pragma(database, "synchronous") == 1  # NORMAL
    monkeypatch.setenv("STIMWISE_SQLITE_SYNCHRONOUS", "full")
    with open_database(url) as database:
        assert pragma(database, "synchronous") == 2
    monkeypatch.setenv("STIMWISE_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(InputError, match="STIMWISE_SQLITE_SYNCHRONOUS"):
        open_database(url).engine.connect()


def test_url_comes_from_the_option_then_the_environment_then_the_data_dir(monkeypatch):
    monkeypatch.delenv("STIMWISE_DB_URL", raising=False)
    assert resolve_url(None) == default_url() and default_url().endswith("records.sqlite3")
    monkeypatch.setenv("STIMWISE_DB_URL", "sqlite:////tmp/env.sqlite3")
    assert resolve_url(None) == "sqlite:////tmp/env.sqlite3"
    assert resolve_url("sqlite:////tmp/option.sqlite3") == "sqlite:////tmp/option.sqlite3"


def test_concurrent_writers_lose_and_duplicate_nothing(db_url):
    with open_database(db_url) as database, database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001",
                                                    enrolled_on=date.today() - timedelta(1)))
    acknowledged: list[str] = []
    lock = threading.Lock()

    def write(count: int) -> None:
        with open_database(db_url) as database:  # one database object (connection pool) each
            for _ in range(count):
                entry = DiaryEntryIn(recorded_at=datetime.now(UTC), pain_current_nrs=4)
                with database.transaction() as s:
                    repo.add_diary_entries(s, CLINICIAN, "P001", [entry])
                with lock:
                    acknowledged.append(str(entry.entry_uuid))

    writers = [threading.Thread(target=write, args=(15,)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    with open_database(db_url) as database, database.reading() as s:
        stored = list(s.scalars(select(DiaryEntry.entry_uuid)))
        assert s.scalar(select(func.count()).select_from(DiaryEntry)) == 60
    assert sorted(stored) == sorted(acknowledged) and len(set(stored)) == 60


def test_a_write_waiting_for_ever_fails_after_the_busy_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(database_module, "WRITE_LOCK_TIMEOUT_S", 0.3)
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with open_database(url) as first, open_database(url) as second:
        with (
            first.transaction(),
            pytest.raises(DatabaseBusyError, match="busy"),
            second.transaction(),
        ):
            pass
        with second.transaction() as s:  # free again afterwards
            repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P001",
                                                        enrolled_on=date.today()))
