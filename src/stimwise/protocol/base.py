"""Base model configuration shared by every stimwise data model."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen, typo-proof model: an unknown field is an error, never a silent default, and NaN or
    infinity is never a number."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )
