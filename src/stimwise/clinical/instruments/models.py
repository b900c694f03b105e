"""What a user gives (an :class:`InstrumentResponse`) and what stimwise gives back (an
:class:`InstrumentScore`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field

from stimwise.clinical.instruments.spec import CutOff, InstrumentId
from stimwise.protocol.base import PastDate, StrictModel

DetailValue = bool | int | float | str | tuple[str, ...] | None


class InstrumentResponse(StrictModel):
    """One completed instrument: which one, when, and the answer to each item by item id.

    ``answers`` is deliberately loose here: its items are checked against the instrument when the
    response is scored (:func:`~stimwise.clinical.instruments.score`), so that every missing,
    unknown or invalid item is reported at once with its own path, rather than as one
    pydantic message about the whole mapping.
    """

    model_config = ConfigDict(title="Questionnaire")

    instrument: InstrumentId = Field(title="Questionnaire")
    version: str | None = Field(default=None, title="Version")
    """Instrument variant (``full`` or ``interview`` for the DN4); ``None`` for the default."""
    answered_on: PastDate | None = Field(default=None, title="Answered on")
    answers: dict[str, Any] = Field(title="Answers")


class ResponseDocument(StrictModel):
    """An answer file: one or more completed instruments."""

    responses: tuple[InstrumentResponse, ...] = Field(min_length=1)


class AppliedCutOff(StrictModel):
    """A cut-off together with the value it was applied to and whether that value met it."""

    cut_off: CutOff
    value: float
    met: bool


class InstrumentScore(StrictModel):
    """The scored result of one :class:`InstrumentResponse`.

    ``total`` is ``None`` for instruments without a single sum (Budapest criteria, the three pain
    ratings, the PGIC); ``positive`` is ``None`` where the instrument defines no positive or
    abnormal result (CSS, ratings). ``cut_offs`` lists every cut-off that was applied, with its
    source and confidence mark.
    """

    instrument: InstrumentId
    version: str
    answered_on: date | None = None
    total: float | None
    max_total: float | None
    interpretation: str
    positive: bool | None
    subscores: dict[str, float] = Field(default_factory=dict)
    cut_offs: tuple[AppliedCutOff, ...] = ()
    details: dict[str, DetailValue] = Field(default_factory=dict)
