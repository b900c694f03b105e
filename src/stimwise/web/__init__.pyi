"""Type stub of :mod:`stimwise.web`'s lazy names (see ``__init__.py``)."""

from stimwise.web.app import create_app

__all__ = [
    "create_app",
]
