"""Base model configuration and value types shared by every stimwise data model."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    Strict,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from stimwise.numbers import parse_number

Float = Annotated[float, Strict()]
"""A number where a unit is meant: an int or a float, never ``true`` or a text such as ``"2_0"``
(lax pydantic turns ``true`` into 1 mA and ``"2_0"`` into 20 mA). Non-finite values are refused
by :class:`StrictModel`'s ``allow_inf_nan=False``."""

Int = Annotated[int, Strict()]
"""A whole number: never ``true``, ``2.0`` or a text."""


def _whole_number_only(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a whole number, not {type(value).__name__} {value!r}")
    return value


StrictChoice = BeforeValidator(_whole_number_only)
"""For a ``Literal`` of numbers such as a file's ``schema_version``: lax pydantic takes ``true``
and ``1.0`` for ``1`` (``Strict()`` cannot be applied to a ``Literal``)."""

def _from_text(integer: bool):
    def read(value: object) -> object:
        if isinstance(value, str):
            return parse_number(value, integer=integer)  # ValueError names what is expected
        return value

    return read


TextFloat = Annotated[float, Strict(), BeforeValidator(_from_text(integer=False))]
"""A number that may arrive as text (a web form field): the text is read as plain decimal
notation (:func:`~stimwise.numbers.parse_number`: never ``nan``, ``inf`` or ``2_0``, which lax
pydantic reads as 20); a number is taken as :data:`Float` takes it."""

TextInt = Annotated[int, Strict(), BeforeValidator(_from_text(integer=True))]
"""A whole number that may arrive as text, read as :data:`TextFloat` reads it."""

LATEST_UTC_OFFSET = timedelta(hours=14)
"""The most advanced time zone (UTC+14, Line Islands): a date is in the past or today somewhere
on Earth as long as it is not after today there."""


def latest_today() -> date:
    """Today's date in the most advanced time zone: no recorded event can be later."""
    return (datetime.now(UTC) + LATEST_UTC_OFFSET).date()


def _not_in_the_future(day: date) -> date:
    latest = latest_today()
    if day > latest:
        raise ValueError(
            f"a date on or before {latest.isoformat()} (this field records something that has "
            "happened)"
        )
    return day


PastDate = Annotated[date, AfterValidator(_not_in_the_future)]
"""A date that records something that happened (an assessment, an operation, a clearance)."""


class StrictModel(BaseModel):
    """Frozen, typo-proof model: an unknown field is an error, never a silent default, and NaN or
    infinity is never a number.

    Pydantic offers two ways around validation, and both are closed here, so that no value a
    model could not be constructed with can enter one: :meth:`model_copy` with ``update``
    validates the result like the constructor, and :meth:`model_construct` validates too.
    Because the models are frozen, a copy without changes is the model itself.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        """This model with ``update`` applied, validated as a new model.

        Raises
        ------
        pydantic.ValidationError
            When a changed value is invalid (NaN, out of range, unknown field...), exactly as
            the constructor would.
        """
        if not update:
            return self
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(update)
        return type(self).model_validate(data)

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        """Validates like the constructor (pydantic's version skips validation)."""
        return cls.model_validate(values)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The JSON Schema with the docstring's prose as the description, without its numpydoc
        sections (Attributes, Examples...), which are for Python readers, not file writers."""
        json_schema = handler.resolve_ref_schema(handler(core_schema))
        description = json_schema.get("description")
        if isinstance(description, str):
            json_schema["description"] = _NUMPYDOC_SECTION.split(description, maxsplit=1)[0]
        return json_schema


_NUMPYDOC_SECTION = re.compile(
    r"\n+(?:Attributes|Examples|Notes|Parameters|See Also)\n-{3,}\n.*", re.DOTALL
)


def field_contradictions(
    model_name: str, problems: list[tuple[tuple[str | int, ...], object, str]]
) -> ValidationError:
    """A ValidationError that points at the fields a cross-field check found wrong.

    Raised from a model validator, pydantic prefixes each location with the path to the model, so
    the user sees ``sensation[3].status`` instead of an error about the whole document.
    """
    return ValidationError.from_exception_data(
        model_name,
        [
            InitErrorDetails(
                type=PydanticCustomError("contradiction", "{message}", {"message": message}),
                loc=loc,
                input=value,
            )
            for loc, value, message in problems
        ],
    )
