"""The one error hierarchy of stimwise.

Every user-facing failure is a :class:`StimwiseError`. Input errors carry the field path, the
offending value and what was expected, so the CLI and the API can report them in one paragraph
without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class StimwiseError(Exception):
    """Root of all errors stimwise raises on purpose."""

    exit_code = 3


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where it is, what it held and what was expected."""

    path: str
    value: object
    expected: str

    def describe(self) -> str:
        shown = repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.path}: got {shown}; expected {self.expected}"


class InputError(StimwiseError, ValueError):
    """Bad user input: a malformed file, an out-of-range value, an unknown field."""

    exit_code = 2

    def __init__(self, problems: list[FieldProblem] | FieldProblem, source: str | None = None):
        self.problems = [problems] if isinstance(problems, FieldProblem) else list(problems)
        self.source = source
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f" in {self.source}" if self.source else ""
        lines = "; ".join(p.describe() for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        return f"Invalid input{where} ({count} {noun}): {lines}"

    def to_dict(self) -> dict:
        return {
            "error": "invalid_input",
            "source": self.source,
            "problems": [
                {"path": p.path, "value": _jsonable(p.value), "expected": p.expected}
                for p in self.problems
            ],
        }


class UnverifiedPlanError(StimwiseError):
    """Something tried to build or use a stimulation plan that did not pass ``safety.verify()``."""

    exit_code = 1


class PlanBindingError(UnverifiedPlanError):
    """A verified plan used for a person it was not verified for (another person's, or one
    verified without anyone's screening caps while a person is named)."""


class SafetyBlockError(StimwiseError):
    """A requested output was refused because its safety verification blocked it."""

    exit_code = 1


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
