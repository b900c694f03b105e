"""The application factory.

``create_app`` opens the records database, installs the security middleware and error handlers,
serves the packaged static files (and plotly.js from the installed ``plotly`` package: no CDN),
and includes every module of :mod:`stimwise.web.routes` that defines a module-level
``router`` (sorted by module name), so a new area is a new file, never an edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from stimwise.records.database import Database
from stimwise.records.schema import open_database
from stimwise.web import openapi_doc, routes
from stimwise.web.deps import STATIC_DIR
from stimwise.web.errors import UnexpectedErrorMiddleware, install_error_handlers
from stimwise.web.security.headers import SecurityHeadersMiddleware
from stimwise.web.security.limits import RequestLimitsMiddleware
from stimwise.web.security.passwords import Passwords, make_hasher
from stimwise.web.security.sessions import CookieSigner
from stimwise.web.security.throttle import LoginThrottle
from stimwise.web.settings import WebSettings, load_or_create_secret
from stimwise.web.static_files import StaticAssets

__all__ = [
    "PLOTLY_FILE",
    "app_from_environment",
    "create_app",
    "discover_routers",
    "plotly_js_path",
]

PLOTLY_FILE = "vendor/plotly.min.js"


def discover_routers() -> list[tuple[str, APIRouter]]:
    """(module name, router) of every routes module that defines ``router``, by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append((info.name, router))
    return found


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed plotly package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def app_from_environment() -> FastAPI:
    """The application of one worker of ``stimwise serve --workers N``: the settings that the
    serve command put in ``$STIMWISE_WEB_SETTINGS`` (uvicorn imports this factory in each
    worker process)."""
    import os

    from stimwise.web.settings import ENV_WEB_SETTINGS

    return create_app(WebSettings.model_validate_json(os.environ[ENV_WEB_SETTINGS]))


def create_app(settings: WebSettings | None = None, database: Database | None = None) -> FastAPI:
    """The web application on ``settings`` (embedded defaults when ``None``); ``database``
    overrides ``settings.db_url`` with an already opened one.

    Examples
    --------
    ``stimwise serve`` runs it with uvicorn; any ASGI server or test client can:

    >>> import tempfile, pathlib
    >>> from stimwise.records import open_database
    >>> from stimwise.web import create_app
    >>> from stimwise.web.settings import WebSettings
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     app = create_app(WebSettings(secret_key="0" * 32), database=database)
    ...     "/api/v1/patients" in app.openapi()["paths"]
    True
    """
    settings = settings or WebSettings()
    db = database or open_database(settings.db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # A server shut down mid-session stops the stimulator at once (HAZ-073) rather than
        # leaving it to the device's own link watchdog; then the records close.
        registry = getattr(_app.state, "live_registry", None)
        if registry is not None:
            registry.stop_all()
        db.close()

    from stimwise import __version__

    app = FastAPI(
        title="stimwise",
        version=__version__,
        description="Clinic and home web application and REST API of stimwise (clinical-"
        "decision support and research software, not a certified medical device).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.passwords = Passwords(make_hasher(settings.password_hashing))
    app.state.signer = CookieSigner(load_or_create_secret(settings), settings.session_lifetime_s)
    app.state.throttle = LoginThrottle(db, settings.login_max_failures, settings.login_window_s)
    install_error_handlers(app)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(RequestLimitsMiddleware)  # outermost: before anything reads a request

    for _name, router in discover_routers():
        app.include_router(router)
    openapi_doc.install(app)
    assets = StaticAssets.from_folder(STATIC_DIR, {PLOTLY_FILE: plotly_js_path()})
    app.state.static_assets = assets
    app.mount("/static", assets, name="static")
    return app
