"""Type stub of :mod:`stimwise.cli`'s lazy names (see ``__init__.py``)."""

from stimwise.cli.main import app

__all__ = [
    "app",
]
