"""The application factory.

``create_app`` opens the records database, installs the security middleware and error handlers,
serves the packaged static files (nothing from a CDN; the charts are drawn by the package's own
``plots.js``), and includes the routers listed in :data:`ROUTERS` (a new area is a new module of
:mod:`stimwise.web.routes` and one line there; a test checks that none is left out).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse

from stimwise.records.database import Database
from stimwise.records.schema import open_database
from stimwise.settings import Settings, get_settings
from stimwise.web import openapi_doc
from stimwise.web.deps import STATIC_DIR
from stimwise.web.errors import UnexpectedErrorMiddleware, install_error_handlers
from stimwise.web.routes import (
    api_audit,
    api_auth,
    api_baseline,
    api_clinical,
    api_diary,
    api_inbox,
    api_interop,
    api_patients,
    api_prescribing,
    api_reports,
    api_response,
    api_users,
    pages_audit,
    pages_auth,
    pages_baseline,
    pages_clinical,
    pages_diary,
    pages_home,
    pages_inbox,
    pages_live,
    pages_patients,
    pages_prescribing,
    pages_reports,
    pages_response,
    pages_users,
    ws_live,
)
from stimwise.web.security.headers import SecurityHeadersMiddleware
from stimwise.web.security.limits import RequestLimitsMiddleware
from stimwise.web.security.passwords import Passwords, make_hasher
from stimwise.web.security.sessions import CookieSigner
from stimwise.web.security.throttle import LoginThrottle
from stimwise.web.settings import load_or_create_secret
from stimwise.web.static_files import StaticAssets

__all__ = ["ROUTERS", "app_from_environment", "create_app"]

ROUTERS: tuple[APIRouter, ...] = (
    api_audit.router,
    api_auth.router,
    api_baseline.router,
    api_clinical.router,
    api_diary.router,
    api_inbox.router,
    api_interop.router,
    api_patients.router,
    api_prescribing.router,
    api_reports.router,
    api_response.router,
    api_users.router,
    pages_audit.router,
    pages_auth.router,
    pages_baseline.router,
    pages_clinical.router,
    pages_diary.router,
    pages_home.router,
    pages_inbox.router,
    pages_live.router,
    pages_patients.router,
    pages_prescribing.router,
    pages_reports.router,
    pages_response.router,
    pages_users.router,
    ws_live.router,
)
"""Every page, API and WebSocket router, in this order (module names sorted)."""


def app_from_environment() -> FastAPI:
    """The application of one worker of ``stimwise serve --workers N``: the settings of the
    environment, where the serve command put the values of its options (uvicorn imports this
    factory in each worker process)."""
    return create_app(get_settings())


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    password_hashing: Literal["standard", "fast-for-tests"] = "standard",
) -> FastAPI:
    """The web application on ``settings`` (:func:`~stimwise.settings.get_settings` when
    ``None``); ``database`` overrides ``settings.db_url`` with an already opened one.
    ``password_hashing`` is argon2id's cost: RFC 9106's low-memory profile, or the cheapest for
    tests (a code argument only: no setting can weaken it).

    Examples
    --------
    ``stimwise serve`` runs it with uvicorn; any ASGI server or test client can:

    >>> import tempfile, pathlib
    >>> from stimwise.records import open_database
    >>> from stimwise.settings import Settings
    >>> from stimwise.web import create_app
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with open_database(f"sqlite:///{folder}/records.sqlite3") as database:
    ...     app = create_app(Settings(secret_key="0" * 32), database=database)
    ...     "/api/v1/patients" in app.openapi()["paths"]
    True
    """
    settings = settings or get_settings()
    db = database or open_database(settings.db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Page and API handlers run in the thread pool; a small one takes them in turn instead
        # of switching the interpreter among 40 at once (settings.web_threads). The live
        # consoles' emergency stop runs in the event loop and never waits for a thread.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
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
    app.state.passwords = Passwords(make_hasher(password_hashing))
    app.state.signer = CookieSigner(load_or_create_secret(settings), settings.session_lifetime_s)
    app.state.throttle = LoginThrottle(db, settings.login_max_failures, settings.login_window_s)
    install_error_handlers(app)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(RequestLimitsMiddleware)  # outermost: before anything reads a request

    for router in ROUTERS:
        app.include_router(router)
    openapi_doc.install(app)
    assets = StaticAssets.from_folder(STATIC_DIR)
    app.state.static_assets = assets
    app.mount("/static", assets, name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for it on pages that name no icon (the printable sheet): no 404."""
        return RedirectResponse(assets.url("favicon.svg"), status_code=301)

    return app
