"""Type stub of :mod:`stimwise.records`'s lazy names (see ``__init__.py``)."""

from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.repository import create_patient
from stimwise.records.schema import open_database

__all__ = [
    "Actor",
    "Database",
    "create_patient",
    "open_database",
]
