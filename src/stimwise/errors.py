"""The one error hierarchy of stimwise.

Every user-facing failure is a :class:`StimwiseError`. Input errors carry the field path, the
offending value and what was expected, so the CLI and the API can report them in one paragraph
without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ArgumentTypeError",
    "FieldProblem",
    "InputError",
    "PlanBindingError",
    "SafetyBlockError",
    "StimwiseError",
    "UnverifiedPlanError",
]


class StimwiseError(Exception):
    """Root of all errors stimwise raises on purpose.

    Examples
    --------
    Every error stimwise raises on purpose; ``exit_code`` is what the command line exits with:

    >>> import stimwise as sw
    >>> try:
    ...     sw.load_protocol("no-such-protocol")
    ... except sw.StimwiseError as error:
    ...     print(type(error).__name__, error.exit_code)
    InputError 2
    """

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
    """Bad user input: a malformed file, an out-of-range value, an unknown field.

    Examples
    --------
    >>> import stimwise as sw
    >>> try:
    ...     sw.Prescription.from_protocol(sw.load_protocol("burst-tens"), max_amplitude_ma=-1)
    ... except sw.InputError as error:
    ...     problem = error.problems[0]
    ...     print(problem.path, problem.value, "|", problem.expected)
    max_amplitude_ma -1 | Input should be greater than 0
    """

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


class ArgumentTypeError(InputError, TypeError):
    """A public function was given an argument of the wrong type (a file name where a loaded
    intake is expected, a protocol id where a protocol is expected).

    An :class:`InputError` (one problem: the argument's name, the value and what was expected)
    and a :class:`TypeError`, so both ``except`` clauses catch it. Its message names the function
    and, where there is one, the call that makes the right type; see
    :func:`stimwise.arguments.check_type`.

    Examples
    --------
    >>> import stimwise as sw
    >>> try:
    ...     sw.verify("conventional-tens")
    ... except TypeError as error:  # also an InputError
    ...     print(error.function, "|", error.hint)
    verify | load it first with stimwise.load_protocol('conventional-tens')
    """

    def __init__(self, function: str, problem: FieldProblem, hint: str | None = None):
        self.function = function
        self.hint = hint
        super().__init__(problem)

    @property
    def message(self) -> str:
        problem = self.problems[0]
        shown = repr(problem.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        text = (
            f"{self.function}() expects {problem.path} to be {problem.expected}, got "
            f"{type(problem.value).__name__} {shown}"
        )
        return f"{text}; {self.hint}" if self.hint else text


class UnverifiedPlanError(StimwiseError):
    """Something tried to build or use a stimulation plan that did not pass ``safety.verify()``.

    Examples
    --------
    >>> import stimwise as sw
    >>> from stimwise.safety import require_verified
    >>> try:
    ...     require_verified(sw.Prescription.from_protocol(sw.load_protocol("burst-tens")))
    ... except sw.UnverifiedPlanError as error:
    ...     print(error.exit_code)
    1
    """

    exit_code = 1


class PlanBindingError(UnverifiedPlanError):
    """A verified plan used for a person it was not verified for (another person's, or one
    verified without anyone's screening caps while a person is named)."""


class SafetyBlockError(StimwiseError):
    """A requested output was refused because its safety verification blocked it.

    Examples
    --------
    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(sw.load_protocol("conventional-tens"),
    ...                                    max_amplitude_ma=200, electrode_area_cm2=1)
    >>> try:
    ...     sw.verify(rx).require_plan()
    ... except sw.SafetyBlockError as error:
    ...     print(str(error)[:55])
    Safety verification blocked conventional-tens: [FDA.pow
    """

    exit_code = 1


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
