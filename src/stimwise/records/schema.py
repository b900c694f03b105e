"""Schema versions: create, upgrade and check a records database with the packaged Alembic
revisions.

A database is usable only at the head revision this code knows. An empty database is created at
head on first use. One at an older revision must be upgraded explicitly (``stimwise db migrate``,
which backs an SQLite file up first). One at a revision this code does not know was written by a
newer stimwise: it is refused, never downgraded and never written to (exit 3).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from stimwise.errors import StimwiseError
from stimwise.records.database import Database, resolve_url, shown_url

__all__ = [
    "MIGRATIONS_DIR",
    "SchemaVersionError",
    "check_known",
    "current_revision",
    "head_revision",
    "is_empty",
    "known_revisions",
    "migrate",
    "open_database",
    "revision_of",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaVersionError(StimwiseError):
    """The database's schema version does not match this stimwise (exit 3)."""

    exit_code = 3


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def known_revisions() -> tuple[str, ...]:
    """Every revision this code knows, oldest first."""
    return tuple(reversed([s.revision for s in _scripts().walk_revisions()]))


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def is_empty(connection: Connection) -> bool:
    """No tables at all: a new database."""
    return not inspect(connection).get_table_names()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Apply the revisions up to ``revision`` inside the caller's transaction."""
    from alembic import command

    command.upgrade(_config(connection), revision)


def check_known(revision: str | None, where: str) -> None:
    """Refuse a database (or backup: ``where`` names it) written by a newer stimwise."""
    if revision is not None and revision not in known_revisions():
        raise SchemaVersionError(
            f"{where} is at schema revision {revision!r}, which this "
            f"version of stimwise does not know (newest known: {head_revision()!r}); it was "
            "written by a newer stimwise. Upgrade stimwise; the database is left untouched "
            "(never downgraded)."
        )


def open_database(url: str | None = None) -> Database:
    """Open the records at ``url`` (see :func:`~stimwise.records.database.resolve_url`),
    creating the schema in an empty database and refusing one at another revision.

    Examples
    --------
    A new SQLite file gets the current schema; ``None`` opens the default (``$STIMWISE_DB_URL`` or
    the user data folder):

    >>> import tempfile, pathlib
    >>> from stimwise.records import open_database
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     database.url.startswith("sqlite:///")
    True
    """
    database = Database(resolve_url(url))
    try:
        with database.engine.begin() as connection:
            if is_empty(connection):
                upgrade(connection)
                return database
            revision = current_revision(connection)
        check_known(revision, f"the database {shown_url(database.url)}")
        if revision != head_revision():
            raise SchemaVersionError(
                f"the database {shown_url(database.url)} is at schema revision {revision!r}; "
                f"this stimwise needs {head_revision()!r}. Run `stimwise db migrate` (it backs "
                "an SQLite database up first)."
            )
    except BaseException:
        database.close()
        raise
    return database


def revision_of(url: str | None = None) -> str | None:
    """The database's schema revision (``None`` when it is empty), refusing an unknown one."""
    database = Database(resolve_url(url))
    try:
        with database.engine.connect() as connection:
            revision = None if is_empty(connection) else current_revision(connection)
    finally:
        database.close()
    check_known(revision, f"the database {shown_url(database.url)}")
    return revision


def migrate(url: str | None = None) -> tuple[str | None, str]:
    """Upgrade the database to head; returns (revision before, revision after)."""
    database = Database(resolve_url(url))
    try:
        with database.engine.begin() as connection:
            before = None if is_empty(connection) else current_revision(connection)
            check_known(before, f"the database {shown_url(database.url)}")
            upgrade(connection)
        return before, head_revision()
    finally:
        database.close()
