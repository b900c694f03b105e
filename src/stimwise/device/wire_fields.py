"""Checks shared by the protocol payload classes: lengths of received data, integer fields in
range, and member lookups of command enums. Each failure is a
:class:`~stimwise.errors.FieldProblem` naming the field, so a bad frame is reported like any
other bad input."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TypeVar

from stimwise.errors import FieldProblem, InputError

E = TypeVar("E", bound=IntEnum)


def expect_length(name: str, data: bytes, expected: int | str, ok: bool) -> None:
    """``InputError`` naming ``name.data`` unless ``ok`` (``expected`` says how many bytes)."""
    if not ok:
        raise InputError(FieldProblem(f"{name}.data", data.hex(" "), f"{expected} bytes"))


def in_range(path: str, value: int, low: int, high: int) -> FieldProblem | None:
    """The problem with an integer field outside ``low``–``high``, or ``None``."""
    if low <= value <= high:
        return None
    return FieldProblem(path, value, f"an integer from {low} to {high}")


def raise_problems(problems: Iterable[FieldProblem | None]) -> None:
    """``InputError`` listing every problem found (``None`` entries are fine fields)."""
    found = [p for p in problems if p is not None]
    if found:
        raise InputError(found)


def member(enum: type[E], value: int) -> E | None:
    """The member of ``enum`` with ``value``, or ``None`` for a value it lacks."""
    try:
        return enum(value)
    except ValueError:
        return None


def member_name(enum: type[IntEnum], value: int, noun: str = "command") -> str:
    """A readable name for a received number, for logs (``INIT_ACK``, ``command 95``)."""
    known = member(enum, value)
    return known.name if known is not None else f"{noun} {value}"
