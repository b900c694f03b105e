"""Base model configuration shared by every stimwise data model."""

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


class StrictModel(BaseModel):
    """Frozen, typo-proof model: an unknown field is an error, never a silent default, and NaN or
    infinity is never a number."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
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
