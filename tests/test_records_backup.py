"""Backups and restores: consistent copies while others write, round trips on both backends,
moving records between backends, and restores that never silently overwrite records."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from stimwise.errors import InputError
from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.backup import RestoreRefusedError, backup, restore
from stimwise.records.inputs import DiaryEntryIn, IdentityIn, PatientIn
from stimwise.records.models import AuditEntry, DiaryEntry
from stimwise.records.schema import SchemaVersionError, open_database

CLINICIAN = Actor("dr-ward", "clinician")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def seed(url: str, pseudonym: str = "P001", entries: int = 3) -> None:
    with open_database(url) as database, database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(
            pseudonym=pseudonym, enrolled_on=date(2026, 1, 1),
            identity=IdentityIn(full_name="Bo Example", date_of_birth=date(1970, 5, 4))), now=NOW)
        repo.add_diary_entries(s, CLINICIAN, pseudonym, [
            DiaryEntryIn(recorded_at=NOW - timedelta(days=d, hours=3), pain_current_nrs=d % 11)
            for d in range(entries)
        ], now=NOW)


def snapshot(url: str) -> dict:
    with open_database(url) as database, database.transaction() as s:
        patients = repo.list_patients(s, CLINICIAN)
        return {
            p.pseudonym: (
                p.enrolled_on,
                [(e.recorded_at, e.pain_current_nrs, e.entry_uuid)
                 for e in repo.list_diary(s, CLINICIAN, p.pseudonym)],
                None if p.identity is None else (p.identity.full_name, p.identity.date_of_birth),
            )
            for p in patients
        }


def test_backup_and_restore_round_trip(db_url, tmp_path):
    seed(db_url)
    before = snapshot(db_url)
    info = backup(db_url, tmp_path / "backup.dat")
    assert info.kind == ("sqlite" if db_url.startswith("sqlite") else "json")
    assert info.rows >= 5
    seed(db_url, "P002")
    _, kept = restore(db_url, info.path, force=True, keep=tmp_path / "kept.dat")
    assert snapshot(db_url) == before
    assert set(snapshot(db_url)) == {"P001"}
    assert kept is not None and kept.rows > info.rows
    with open_database(db_url) as database, database.transaction() as s:
        repo.add_diary_entries(s, CLINICIAN, "P001", [DiaryEntryIn(recorded_at=NOW,
                                                                  pain_current_nrs=2)], now=NOW)


def test_HAZ046_restore_over_records_needs_force_and_keeps_a_backup(db_url, tmp_path):
    seed(db_url, "OLD1")
    source = tmp_path / "source.sqlite3"
    seed(f"sqlite:///{source}", "NEW1")
    with pytest.raises(RestoreRefusedError, match="--force"):
        restore(db_url, source)
    assert set(snapshot(db_url)) == {"OLD1"}
    _, kept = restore(db_url, source, force=True, keep=tmp_path / "kept")
    assert set(snapshot(db_url)) == {"NEW1"}
    replaced = tmp_path / "replaced.sqlite3"
    restore(f"sqlite:///{replaced}", kept.path)
    assert set(snapshot(f"sqlite:///{replaced}")) == {"OLD1"}


def test_json_dump_moves_records_between_backends(db_url, tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'origin.sqlite3'}"
    seed(sqlite_url, "P010", entries=5)
    from stimwise.records import backup as backup_module

    dump = tmp_path / "dump.json"
    with open_database(sqlite_url) as database, database.engine.connect() as connection:
        dump.write_text(json.dumps(backup_module._dump(connection)))
    restore(db_url, dump)
    assert snapshot(db_url) == snapshot(sqlite_url)
    with open_database(db_url) as database, database.transaction() as s:
        repo.create_patient(s, CLINICIAN, PatientIn(pseudonym="P011", enrolled_on=date(2026, 1, 1)))
        assert s.scalar(select(func.count()).select_from(AuditEntry)) > 0


def test_restore_refuses_files_that_are_not_backups_and_backups_from_newer_versions(
    db_url, tmp_path
):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(InputError, match="JSON dump"):
        restore(db_url, junk)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"format": "stimwise-records-dump", "version": 1,
                                  "revision": "0099_future", "tables": {}}))
    with pytest.raises(SchemaVersionError, match="0099_future"):
        restore(db_url, future)


def test_sqlite_backup_is_consistent_while_another_connection_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    seed(url, entries=1)  # one entry with pain 0
    stop, started = threading.Event(), threading.Event()

    def write() -> None:
        with open_database(url) as database:
            day = 0
            while not stop.is_set():
                day += 1
                with database.transaction() as s:  # two rows per transaction
                    repo.add_diary_entries(s, CLINICIAN, "P001", [
                        DiaryEntryIn(recorded_at=NOW - timedelta(minutes=day), pain_current_nrs=1),
                        DiaryEntryIn(recorded_at=NOW - timedelta(minutes=day), pain_current_nrs=2),
                    ], now=NOW)
                started.set()

    writer = threading.Thread(target=write)
    writer.start()
    started.wait(30)
    try:
        copies = [backup(url, tmp_path / f"copy{i}.sqlite3") for i in range(5)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        with open_database(f"sqlite:///{copy.path}") as database, database.reading() as s:
            ones = s.scalar(select(func.count()).where(DiaryEntry.pain_current_nrs == 1))
            twos = s.scalar(select(func.count()).where(DiaryEntry.pain_current_nrs == 2))
        assert ones == twos  # never half a transaction
    assert twos > 0
