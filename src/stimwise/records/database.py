"""Where the records live and how to open them.

The default is an SQLite file in the data folder (:func:`stimwise.settings.data_dir`), so one
clinician or researcher needs no set-up; ``--db URL`` or the ``db_url`` setting
(``STIMWISE_DB_URL``, see :mod:`stimwise.settings`) choose another, e.g.
``postgresql+psycopg://user@host/db`` for a clinic with many users.

SQLite is opened in WAL mode (readers never block the writer), with a busy timeout (concurrent
writers wait instead of failing) and foreign keys on. Write transactions start with
``BEGIN IMMEDIATE``: they take the write lock at once, so two writers never deadlock on a lock
upgrade (which SQLite answers with an immediate "database is locked", without waiting).

Durability: SQLite runs with ``synchronous = NORMAL``, the setting SQLite recommends for WAL: a
committed transaction survives a crash of any program; after a power cut or operating-system
crash the transactions since the last checkpoint may be rolled back, but the database is never
corrupted and never half-written [C-s: SQLite's PRAGMA synchronous documentation, as quoted in
Android's SQLiteDatabase.SYNC_MODE_NORMAL reference]. It saves an fsync per commit, which is what
lets eight writers sustain 200 diary entries per second (``benchmarks/bench_diary_writes.py``).
Diary entries and session imports are idempotent (entry UUID, journal SHA-256), so a device can
safely resubmit after a power cut. ``STIMWISE_SQLITE_SYNCHRONOUS=full`` makes every commit
durable at once instead (the ``sqlite_synchronous`` setting).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from stimwise.errors import StimwiseError

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "WRITE_LOCK_TIMEOUT_S",
    "Database",
    "DatabaseBusyError",
    "default_url",
    "make_engine",
    "resolve_url",
    "shown_url",
    "sqlite_path",
    "sqlite_synchronous",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_TIMEOUT_S = SQLITE_BUSY_TIMEOUT_MS / 1000
_READ_ONLY = "stimwise_read_only"


def default_url() -> str:
    """The embedded SQLite database in the data folder."""
    from stimwise.settings import default_db_url

    return default_db_url()


def resolve_url(url: str | None = None) -> str:
    """``url``, else the ``db_url`` setting (``$STIMWISE_DB_URL``), else :func:`default_url`."""
    if url:
        return url
    from stimwise.settings import get_settings

    return get_settings().db_url or default_url()


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other backends and in-memory databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def sqlite_synchronous() -> str:
    """``NORMAL`` (default) or ``FULL`` from the ``sqlite_synchronous`` setting; see the module
    documentation for what each keeps after a power cut."""
    from stimwise.settings import get_settings

    return get_settings().sqlite_synchronous.upper()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {sqlite_synchronous()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a new SQLite file."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if make_url(url).get_backend_name() == "sqlite":  # in-memory: one shared connection
        from sqlalchemy.pool import StaticPool

        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


class _NoLock:
    @contextmanager
    def held(self) -> Iterator[None]:
        yield


class DatabaseBusyError(StimwiseError):
    """Another writer held the database longer than the busy timeout (exit 3)."""

    exit_code = 3


class _WriteLock:
    """Queues the write transactions of every process on one SQLite file.

    SQLite's busy handler polls with growing sleeps (up to 100 ms), so under contention a writer
    may sleep long after the lock was released, and a writer that keeps losing the race can wait
    for seconds. Writers here first take a blocking ``flock`` on a lock file named after the
    database's path in the temporary folder (never beside the database, and never the database
    file itself: closing a second descriptor of it would drop SQLite's own POSIX locks): the
    kernel wakes a waiting writer as soon as the lock is free. SQLite's own locking stays
    underneath, so programs that ignore this file are still safe.

    ``flock`` cannot time out, so it waits in a helper thread on its own file descriptor; after
    the busy timeout the write fails (:class:`DatabaseBusyError`) instead of waiting for ever
    (e.g. a nested write transaction in one thread), and the helper releases the lock as soon as
    it gets it. POSIX only; elsewhere writers rely on SQLite's busy timeout alone.
    """

    def __init__(self, database_path: Path) -> None:
        import hashlib
        import tempfile

        key = hashlib.sha256(str(database_path.resolve()).encode()).hexdigest()[:20]
        self._path = Path(tempfile.gettempdir()) / f"stimwise-{key}.write-lock"
        self._thread_lock = threading.Lock()  # one writer per process at a time

    def _busy(self) -> DatabaseBusyError:
        return DatabaseBusyError(
            f"the records database is busy: no write lock within {WRITE_LOCK_TIMEOUT_S:g} s "
            f"({self._path})"
        )

    def _open(self) -> int | None:
        """A descriptor of the lock file (read-only suffices for ``flock``; the file may belong
        to another user of a shared database); ``None`` when it cannot be opened."""
        try:
            return os.open(self._path, os.O_RDONLY | os.O_CREAT, 0o644)
        except PermissionError:
            try:
                return os.open(self._path, os.O_RDONLY)
            except OSError:
                return None

    def _locked_fd(self, fcntl) -> int | None:
        """A new descriptor holding the lock (``None``: no lock file, rely on SQLite's busy
        timeout), or :class:`DatabaseBusyError` after the timeout."""
        fd = self._open()
        if fd is None:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        handover = threading.Lock()
        acquired = threading.Event()
        abandoned = False

        def wait_for_lock() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with handover:
                if abandoned:
                    os.close(fd)  # releases the lock nobody waits for any more
                else:
                    acquired.set()

        threading.Thread(target=wait_for_lock, daemon=True).start()
        if acquired.wait(WRITE_LOCK_TIMEOUT_S):
            return fd
        with handover:
            if acquired.is_set():
                return fd
            abandoned = True
        raise self._busy()

    @contextmanager
    def held(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # not POSIX
            yield
            return
        if not self._thread_lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
            raise self._busy()
        try:
            fd = self._locked_fd(fcntl)
            try:
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # closing the descriptor releases the lock
        finally:
            self._thread_lock.release()


class Database:
    """An opened records database: an engine and its transactions.

    Use :meth:`transaction` for anything that writes (commits at the end of the block, rolls
    everything back on an exception, so nothing is half-written) and :meth:`reading` for reads.
    Objects loaded in a transaction stay readable after it ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sqlalchemy import select
    >>> from stimwise.records import open_database
    >>> from stimwise.records.models import Patient
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     with database.reading() as session:
    ...         session.scalars(select(Patient)).all()
    []
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        path = sqlite_path(url)
        self._write_lock = _WriteLock(path) if path is not None else _NoLock()
        self._reader = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._write_lock.held(), self._writer.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
