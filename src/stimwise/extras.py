"""The optional dependencies ("extras") of stimwise, and the one error that names a missing one.

``pip install stimwise`` installs the core: protocols, exact metrics, the safety gate, screening,
recommendation, sessions on the simulated stimulator and the command line. The rest comes with
extras (``pip install 'stimwise[web]'``); ``[all]`` installs every one:

========== ================================================================================
extra      what it adds
========== ================================================================================
physiology the nerve-fibre engine (Numba solver, SciPy, Dask for large studies)
records    the clinical records (SQLAlchemy, Alembic, PostgreSQL driver), their analysis
           (SciPy) and calendar files
plots      figures (Matplotlib)
devices    real stimulators on serial ports (pyserial)
fhir       FHIR R4 export and import (fhir.resources); includes ``records``
web        the clinic and home web application (FastAPI, uvicorn, Jinja2, argon2, PDF
           reports); includes ``records``, ``fhir`` and ``plots``
========== ================================================================================

Nothing in the safety gate, screening, the session runtime or the simulated stimulator imports
an optional package (a test hides them all and checks the results are unchanged): a missing
extra can stop a command, never weaken a check.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from types import TracebackType

from stimwise.errors import StimwiseError

_OWN_MODULES: dict[str, tuple[str, ...]] = {
    "physiology": ("numba", "scipy", "dask", "distributed"),
    "records": ("sqlalchemy", "alembic", "psycopg", "scipy", "icalendar"),
    "plots": ("matplotlib",),
    "devices": ("serial",),
    "fhir": ("fhir.resources",),
    "web": ("fastapi", "starlette", "anyio", "uvicorn", "jinja2", "argon2", "multipart",
            "itsdangerous", "fpdf"),
}
_INCLUDES: dict[str, tuple[str, ...]] = {"fhir": ("records",), "web": ("records", "fhir", "plots")}


def _modules(extra: str) -> tuple[str, ...]:
    found = list(_OWN_MODULES[extra])
    for included in _INCLUDES.get(extra, ()):
        found += [m for m in _modules(included) if m not in found]
    return tuple(found)


EXTRAS: dict[str, tuple[str, ...]] = {extra: _modules(extra) for extra in _OWN_MODULES}
"""Each extra -> the top-level modules it makes importable (with those of the extras it
includes)."""

_IMPORTER_EXTRA = (
    ("stimwise.physiology.plots", "plots"),
    ("stimwise.physiology", "physiology"),
    ("stimwise.interop.fhir", "fhir"),
    ("stimwise.interop.pdf", "web"),
    ("stimwise.interop.home_sheet", "web"),
    ("stimwise.interop.report_document", "web"),
    ("stimwise.web", "web"),
    ("stimwise.interop", "records"),
    ("stimwise.analysis.plot", "plots"),
    ("stimwise.analysis", "records"),
    ("stimwise.records", "records"),
    ("stimwise.cli.serve", "web"),
    ("stimwise.cli.model", "physiology"),
)
"""Which extra a stimwise module's missing import belongs to (by the start of the importing
module's name): the extra of the feature that
imports it (SciPy comes with ``physiology`` and with ``records``; SQLAlchemy with ``records``,
``fhir`` and ``web``)."""


class MissingExtraError(StimwiseError, ImportError):
    """A feature needs optional dependencies that are not installed (exit 2: install them)."""

    exit_code = 2

    def __init__(self, extra: str, module: str, feature: str | None = None) -> None:
        self.extra = extra
        self.module = module
        what = feature or "this"
        super().__init__(
            f"{what} needs the optional '{extra}' dependencies (the module {module} is "
            f"missing): pip install 'stimwise[{extra}]'"
        )


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    found = []
    for module in EXTRAS[extra]:
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:  # a parent package is missing
            spec = None
        if spec is None:
            found.append(module)
    return found


def require_extra(extra: str, feature: str | None = None) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported.

    Parameters
    ----------
    extra
        One of :data:`EXTRAS`.
    feature
        What needs it, for the message (e.g. ``"stimwise serve"``).
    """
    if missing := missing_modules(extra):
        raise MissingExtraError(extra, missing[0], feature)


def _provides(modules: Iterable[str], module: str) -> bool:
    return any(module == m or module.startswith(m + ".") or m.startswith(module + ".")
               for m in modules)


def extra_for(module: str, importers: Iterable[str] = ()) -> str | None:
    """The extra that provides the missing ``module`` (``None``: no extra does).

    ``importers`` are the stimwise modules that were importing it, outermost first (the feature
    asked for, then what it uses); the extra of the first one whose extra provides the module
    wins: SciPy missing under ``stimwise.physiology`` is the ``physiology`` extra's, under
    ``stimwise.analysis`` the ``records`` extra's, and the records modules missing under the
    FHIR export the ``fhir`` extra's (which brings them too).
    """
    for importer in importers:
        for prefix, extra in _IMPORTER_EXTRA:
            if importer.startswith(prefix) and _provides(EXTRAS[extra], module):
                return extra
    return next((extra for extra, own in _OWN_MODULES.items() if _provides(own, module)), None)


def as_missing_extra(error: ModuleNotFoundError, feature: str | None = None
                     ) -> MissingExtraError | None:
    """The :class:`MissingExtraError` an import failure stands for (``None``: not an extra's
    module, e.g. a bug, which must surface as it is)."""
    module = error.name or ""
    extra = extra_for(module, _importers(error.__traceback__))
    return None if extra is None else MissingExtraError(extra, module, feature)


def _importers(trace: TracebackType | None) -> list[str]:
    """The stimwise modules in a traceback, outermost first."""
    names = []
    while trace is not None:
        name = trace.tb_frame.f_globals.get("__name__", "")
        if name.startswith("stimwise."):
            names.append(name)
        trace = trace.tb_next
    return names
