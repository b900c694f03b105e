"""Backups and restores of the records.

* SQLite: the ``sqlite3`` online backup API copies the database page by page under SQLite's own
  locks, so the copy is consistent even while others write; restore copies back the same way,
  so connections open elsewhere see the restored database, never a half-copied file.
* PostgreSQL (and any other backend): a portable JSON dump of every table, read in one
  REPEATABLE READ transaction (a consistent snapshot). ``pg_dump`` is not used: it must match the
  server's major version and is often not installed next to the client. A JSON dump restores
  into either backend, so it also moves records between SQLite and PostgreSQL.

A restore replaces everything: it refuses a target that holds records unless ``force`` is given,
and then first writes a backup of the target next to it (or where ``keep`` says). A JSON restore
recreates the schema at the dump's revision, loads the rows and upgrades to head, in one
transaction on PostgreSQL. A backup from a newer stimwise (unknown revision) is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, MetaData, create_engine, func, select, text

from stimwise.errors import FieldProblem, InputError, StimwiseError
from stimwise.records.database import Database, resolve_url, sqlite_path
from stimwise.records.models import Base
from stimwise.records.schema import check_known, current_revision, is_empty, upgrade

DUMP_FORMAT = "stimwise-records-dump"
SQLITE_MAGIC = b"SQLite format 3\x00"


class RestoreRefusedError(StimwiseError):
    """The restore would overwrite records without ``--force`` (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str  # "sqlite" or "json"
    revision: str | None
    rows: int


# --------------------------------------------------------------------------- backup


def _count_rows(connection: Connection) -> int:
    tables = MetaData()
    tables.reflect(connection)
    return sum(
        connection.scalar(select(func.count()).select_from(table)) or 0
        for table in tables.sorted_tables
        if table.name != "alembic_version"
    )


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy with the online backup API into a temporary file, then move it into place."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    os.replace(partial, target)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _dump(connection: Connection) -> dict[str, Any]:
    tables = MetaData()
    tables.reflect(connection)
    dump: dict[str, Any] = {
        "format": DUMP_FORMAT,
        "version": 1,
        "revision": current_revision(connection),
        "created_at": datetime.now(UTC).isoformat(),
        "tables": {},
    }
    for table in tables.sorted_tables:
        if table.name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = connection.execute(select(table).order_by(*order)).all()
        dump["tables"][table.name] = {
            "columns": [c.name for c in table.columns],
            "rows": [[_jsonable(v) for v in row] for row in rows],
        }
    return dump


def backup(url: str | None, target: str | Path) -> BackupInfo:
    """Back the database up to ``target`` (SQLite file for SQLite, JSON dump otherwise)."""
    url = resolve_url(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite_path(url)
    if source is not None:
        if not source.exists():
            raise InputError(FieldProblem("--db", url, "an existing SQLite database"))
        _sqlite_copy(source, target)
        engine = create_engine(f"sqlite:///{target}")
        with engine.connect() as connection:
            info = BackupInfo(target, "sqlite", current_revision(connection),
                              _count_rows(connection))
        engine.dispose()
        return info
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                dump = _dump(connection)
    finally:
        database.close()
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(dump, separators=(",", ":")))
    os.replace(partial, target)
    rows = sum(len(t["rows"]) for t in dump["tables"].values())
    return BackupInfo(target, "json", dump["revision"], rows)


# --------------------------------------------------------------------------- restore


def _read_json_dump(path: Path) -> dict[str, Any]:
    try:
        dump = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            FieldProblem("backup", str(path), f"an SQLite backup or a JSON dump ({error})")
        ) from None
    if not isinstance(dump, dict) or dump.get("format") != DUMP_FORMAT:
        raise InputError(FieldProblem("backup", str(path), f"a {DUMP_FORMAT!r} document"))
    return dump


def _sqlite_as_dump(path: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return json.loads(json.dumps(_dump(connection)))
    finally:
        engine.dispose()


def _clear(connection: Connection) -> None:
    """Drop every records table (the audit log's triggers go with it)."""
    Base.metadata.drop_all(connection)
    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE"))


def _column_value(value: Any, column_type: Any, sqlite: bool) -> Any:
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        instant = datetime.fromisoformat(value).astimezone(UTC)
        return instant.replace(tzinfo=None) if sqlite else instant
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    return value


def _load(connection: Connection, dump: dict[str, Any]) -> int:
    check_known(dump["revision"], "the backup")
    _clear(connection)
    if dump["revision"] is not None:
        upgrade(connection, dump["revision"])
    tables = MetaData()
    tables.reflect(connection)
    sqlite = connection.dialect.name == "sqlite"
    loaded = 0
    for table in tables.sorted_tables:
        content = dump["tables"].get(table.name)
        if not content or not content["rows"]:
            continue
        types = [table.columns[name].type for name in content["columns"]]
        rows = [
            {
                name: _column_value(value, kind, sqlite)
                for name, value, kind in zip(content["columns"], row, types, strict=True)
            }
            for row in content["rows"]
        ]
        connection.execute(table.insert(), rows)
        loaded += len(rows)
        if not sqlite and "id" in table.columns:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
            )
    upgrade(connection)
    return loaded


def _holds_records(url: str) -> bool:
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return False
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return not is_empty(connection) and _count_rows(connection) > 0
    finally:
        database.close()


def default_keep_path(url: str) -> Path:
    """Where a restore keeps the database it replaces."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = sqlite_path(url)
    if path is not None:
        return path.with_name(f"{path.stem}.before-restore-{stamp}{path.suffix}")
    from stimwise.settings import data_dir

    return data_dir() / "backups" / f"before-restore-{stamp}.json"


def restore(
    url: str | None, source: str | Path, *, force: bool = False, keep: str | Path | None = None
) -> tuple[int, BackupInfo | None]:
    """Replace the database's contents with a backup; returns (rows restored, the backup of
    the replaced database or ``None`` when it was empty)."""
    url = resolve_url(url)
    source = Path(source)
    with source.open("rb") as handle:
        is_sqlite = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    dump = None if is_sqlite else _read_json_dump(source)
    kept = None
    if _holds_records(url):
        if not force:
            raise RestoreRefusedError(
                "the target database holds records; restoring replaces all of them. Pass "
                "--force to go ahead (the current database is backed up first)."
            )
        kept = backup(url, keep or default_keep_path(url))
    target = sqlite_path(url)
    if is_sqlite and target is not None:
        engine = create_engine(f"sqlite:///{source}")
        with engine.connect() as connection:
            check_known(current_revision(connection), f"the backup {source}")
        engine.dispose()
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        database = Database(url)
        try:
            with database.engine.begin() as connection:
                upgrade(connection)
                return _count_rows(connection), kept
        finally:
            database.close()
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            return _load(connection, dump or _sqlite_as_dump(source)), kept
    finally:
        database.close()
