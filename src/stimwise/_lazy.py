"""Lazy package namespaces: a name is imported from its module the first time it is used.

``import stimwise`` and the ``stimwise`` command must start fast, so a package ``__init__`` does
not import its modules (with numpy, scipy, numba, SQLAlchemy or FastAPI behind them); it calls
:func:`attach`, which answers ``stimwise.verify`` or ``from stimwise.session import run_session``
by importing the defining module on first use (PEP 562 module ``__getattr__``, the pattern of
MNE-Python and scikit-image). Each lazy package ships an ``__init__.pyi`` stub with the same names
for IDEs and type checkers; ``tests/test_public_api.py`` checks that stub and table agree.

A public name must not be the name of one of the package's own modules: importing that module
would set the package attribute to the module, and the lazy name would never be looked up again.
The same test checks that too.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds at start-up; type checkers read True
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def attach(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for the package called ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    names
        Public name -> ``"module"`` or ``"module:attribute"``, the module absolute
        (``stimwise.safety.verify``) or relative to the package (``.record``); without
        ``:attribute`` the attribute has the public name.

    Returns
    -------
    tuple
        The module-level ``__getattr__`` and ``__dir__`` and the sorted ``__all__``.

    Examples
    --------
    >>> from stimwise._lazy import attach
    >>> getattr_, dir_, all_ = attach("demo", {"sqrt": "math", "tau": "math:tau"})
    >>> all_
    ['sqrt', 'tau']
    >>> getattr_("sqrt")(16.0)
    4.0
    """
    table = dict(names)

    def __getattr__(name: str) -> object:  # noqa: N807  (PEP 562 module hook)
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name, package)
        value = getattr(module, attribute or name)
        if package in sys.modules:  # later look-ups find it directly
            setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        loaded = vars(sys.modules[package]) if package in sys.modules else {}
        return sorted(set(table) | set(loaded))

    return __getattr__, __dir__, sorted(table)
