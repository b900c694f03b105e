"""Alembic environment and revisions of the records schema, shipped in the package and run by
:mod:`stimwise.records.schema` (no ``alembic.ini`` needed)."""
