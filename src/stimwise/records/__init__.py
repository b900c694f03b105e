"""The clinical record: patients (pseudonymous, identity kept apart), users and roles, intakes and
screenings, instrument scores, prescriptions, delivered sessions, diaries, adverse events and an
append-only audit log, in SQLite (default) or PostgreSQL.

Start with :func:`stimwise.records.schema.open_database` and the functions of
:mod:`stimwise.records.repository`, :mod:`stimwise.records.sessions` and
:mod:`stimwise.records.cohort`; see ``docs/records.md``.
"""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Actor": ".access",
        "Database": ".database",
        "create_patient": ".repository",
        "open_database": ".schema",
    },
)
