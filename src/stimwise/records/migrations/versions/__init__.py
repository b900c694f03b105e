"""Revisions of the records schema, oldest first (``0001_initial`` ...)."""
