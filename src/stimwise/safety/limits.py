"""Safety limits as data (``safety/data/limits.yaml``), each with its source and confidence mark."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field

from stimwise.protocol.base import Float, StrictModel
from stimwise.protocol.io import parse_document, validate_model
from stimwise.protocol.models import Confidence

Severity = Literal["info", "warn", "block"]


class FrequencyBand(StrictModel):
    max_frequency_hz: Float | None
    limit: Float


class Limit(StrictModel):
    id: str
    title: str
    severity: Severity
    unit: str
    limit: Float | None = None
    bands: tuple[FrequencyBand, ...] | None = None
    max_pulse_duration_s: Float | None = None
    sites: tuple[str, ...] | None = None
    source: str
    confidence: Confidence
    note: str | None = None

    def band_limit(self, frequency_hz: float) -> float:
        """The limit of the frequency band containing ``frequency_hz``."""
        for band in self.bands or ():
            if band.max_frequency_hz is None or frequency_hz <= band.max_frequency_hz:
                return band.limit
        raise ValueError(f"limit {self.id} has no band for {frequency_hz} Hz")


class LimitTable(StrictModel):
    schema_version: Literal[1]
    limits: tuple[Limit, ...] = Field(min_length=1)


@cache
def limits() -> dict[str, Limit]:
    """All limits by id (validated once per process)."""
    text = resources.files("stimwise.safety.data").joinpath("limits.yaml").read_text("utf-8")
    table = validate_model(LimitTable, parse_document(text, "limits.yaml"), "limits.yaml")
    return {limit.id: limit for limit in table.limits}
