"""How the web application is put together (issue 13): routers listed explicitly, none left out."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

from stimwise.web import routes
from stimwise.web.app import ROUTERS


def test_every_routes_module_is_listed_once_in_the_app():
    """The app lists its routers (no discovery by walking the package); a new module that
    defines a router but is not listed is caught here, not by a missing page."""
    defined = []
    for info in pkgutil.iter_modules(routes.__path__):
        router = getattr(importlib.import_module(f"{routes.__name__}.{info.name}"), "router", None)
        if isinstance(router, APIRouter):
            defined.append(router)
    assert len(defined) >= 26
    assert len(set(map(id, ROUTERS))) == len(ROUTERS)
    assert {id(r) for r in defined} == {id(r) for r in ROUTERS}
