"""Base model configuration shared by every stimwise data model."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen, typo-proof model: an unknown field is an error, never a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
