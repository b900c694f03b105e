"""Type checks of the arguments of public entry points, with errors that say what to do.

``stimwise.verify("conventional-tens")`` should not fail deep inside with ``AttributeError: 'str'
object has no attribute 'channels'``: each public entry point checks the types of its main
arguments first and raises :class:`~stimwise.errors.ArgumentTypeError`, which names the function,
the argument, what it got and which call makes the right type (scikit-learn validates its
parameters the same way). The rule across stimwise: text is read only by the ``load_*``
functions; everything else takes loaded objects. One exception, because it is unambiguous: where
a :class:`~stimwise.protocol.prescription.Prescription` is expected, a
:class:`~stimwise.protocol.models.Protocol` is accepted as its default prescription
(:func:`stimwise.protocol.prescription.as_prescription`).
"""

from __future__ import annotations

from stimwise.errors import ArgumentTypeError, FieldProblem

__all__ = ["check_type"]


def check_type(
    value: object,
    expected: type | tuple[type, ...],
    *,
    function: str,
    name: str,
    hint: str | None = None,
    allow_none: bool = False,
) -> None:
    """Raise :class:`~stimwise.errors.ArgumentTypeError` unless ``value`` is an ``expected``.

    Parameters
    ----------
    value
        The argument as given.
    expected
        The accepted type or types (``isinstance``; ``bool`` never counts as a number here
        because no public argument takes a number through this check).
    function
        The public function's name as a user calls it (``"verify"``).
    name
        The argument's name (``"prescription"``).
    hint
        What to do instead, when there is an obvious call (``"load it first with
        stimwise.load_intake(path)"``).
    allow_none
        ``None`` is accepted too (an optional argument).

    Raises
    ------
    ArgumentTypeError
        An :class:`~stimwise.errors.InputError` and a :class:`TypeError`.

    Examples
    --------
    >>> from stimwise.arguments import check_type
    >>> check_type(3.0, float, function="demo", name="x")
    >>> check_type("3", float, function="demo", name="x", hint="pass a number")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: demo() expects x to be a float, got str '3'; pass a number
    """
    if value is None and allow_none:
        return
    if isinstance(value, expected):
        return
    types = expected if isinstance(expected, tuple) else (expected,)
    wanted = " or ".join(f"{_article(t.__name__)} {t.__name__}" for t in types)
    if allow_none:
        wanted += " or None"
    raise ArgumentTypeError(function, FieldProblem(name, value, wanted), hint)


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
