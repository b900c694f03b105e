"""Validated inputs of the records layer (pydantic, frozen, unknown fields refused).

Ranges of the diary ratings:

* pain intensity (now, average and worst over the last 24 h): 11-point numeric rating scale, 0 no
  pain to 10 worst pain imaginable [C: Farrar et al. 2001, Pain 94:149–58; IMMPACT, Dworkin et al.
  2008, J Pain 9:105–21];
* sleep interference: 0 (does not interfere) to 10 (completely interferes), the Daily Sleep
  Interference Scale format [U: shared/reference/clinical-facts.md, "Sleep"];
* interference with daily function: the same 0–10 format, stimwise's own single item modelled on
  the interference items of the Brief Pain Inventory (not the BPI itself, which is licensed) [U].

Whether a date is in the future or before enrolment depends on the record and the clock, so the
repository checks it (:mod:`stimwise.records.repository`), not these models.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from stimwise.clinical.intake import SiteSelector
from stimwise.protocol.base import Float, Int, StrictModel, TextInt, field_contradictions
from stimwise.protocol.prescription import Prescription
from stimwise.safety.caps import PatientCaps
from stimwise.session.record import SessionRecord

Nrs = Annotated[TextInt, Field(ge=0, le=10)]
Pseudonym = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$", description="Pseudonymous code."),
]
Role = Literal["clinician", "patient", "researcher", "administrator"]
AdverseEventKind = Literal["skin_irritation", "burn", "flare", "soreness", "other"]
Severity = Literal["mild", "moderate", "severe"]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
MAX_ROW_ID = 2**31 - 1
"""The largest id a record column holds on every backend (PostgreSQL ``integer``)."""


def _blank_to_none(value: object) -> object:
    """An empty or blank optional text is no text (issue 17: an empty contact or description
    broke the FHIR export for good)."""
    return None if isinstance(value, str) and not value.strip() else value


def _date_not_number(value: object) -> object:
    """A date is written as a date: a number is refused, not read as seconds since 1970
    (issue 17: ``date_of_birth: 0`` was stored as 1970-01-01)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date written YYYY-MM-DD, not a number")
    return value


OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
DisplayName = Annotated[
    Annotated[str, Field(min_length=2, max_length=120)] | None,
    BeforeValidator(_blank_to_none),
    Field(description="The name reports are signed with, e.g. 'Dr A. Example' (blank: the "
          "user name)."),
]
CalendarDate = Annotated[date, BeforeValidator(_date_not_number)]


class IdentityIn(StrictModel):
    """Identifying data, stored apart from the pseudonymous record."""

    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: CalendarDate | None = None
    contact: OptionalText = Field(default=None, max_length=300)


class PatientIn(StrictModel):
    pseudonym: Pseudonym
    enrolled_on: CalendarDate
    identity: IdentityIn | None = None


class MedicationChange(StrictModel):
    medication: str = Field(min_length=1, max_length=120)
    change: Literal["started", "stopped", "dose_increased", "dose_decreased"]


class DiaryEntryIn(StrictModel):
    """One diary entry. ``entry_uuid`` identifies it across retries (a resubmitted entry is
    recognised, not stored twice); the writer may choose it, otherwise a new one is drawn."""

    recorded_at: AwareDatetime
    entry_uuid: uuid.UUID = Field(default_factory=uuid.uuid4)
    body_site: SiteSelector | None = None
    pain_current_nrs: Nrs | None = None
    pain_average_nrs: Nrs | None = None
    pain_worst_nrs: Nrs | None = None
    sleep_interference_nrs: Nrs | None = None
    function_interference_nrs: Nrs | None = None
    medication_changes: tuple[MedicationChange, ...] = ()
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> DiaryEntryIn:
        ratings = (
            "pain_current_nrs", "pain_average_nrs", "pain_worst_nrs",
            "sleep_interference_nrs", "function_interference_nrs",
        )
        if all(getattr(self, name) is None for name in ratings):
            raise field_contradictions(
                "DiaryEntryIn",
                [(("pain_current_nrs",), None, "a diary entry needs at least one rating")],
            )
        worst = self.pain_worst_nrs
        problems = [
            ((name,), getattr(self, name), f"at most pain_worst_nrs ({worst}) of the same day")
            for name in ("pain_current_nrs", "pain_average_nrs")
            if worst is not None and getattr(self, name) is not None and getattr(self, name) > worst
        ]
        if problems:
            raise field_contradictions("DiaryEntryIn", problems)
        return self


class AdverseEventIn(StrictModel):
    occurred_at: AwareDatetime
    kind: AdverseEventKind
    severity: Severity
    body_site: SiteSelector | None = None
    description: OptionalText = Field(default=None, max_length=2000)
    session_id: TextInt | None = Field(default=None, ge=1, le=MAX_ROW_ID)


class ValueSpan(StrictModel):
    min: Float = Field(ge=0)
    max: Float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ValueSpan:
        if self.min > self.max:
            raise field_contradictions("ValueSpan", [(("min",), self.min, "min ≤ max")])
        return self


HOME_AMPLITUDE_RULE = (
    "the top of the home amplitude range at most the prescribed amplitude (and the screening"
    " cap): the person may turn it down, never above"
)
"""The one home-use amplitude rule, in the words that the editor's hint, its live check and
every refusal use (issue 17: the hint and the refusal said different things). The prescribed
amplitude is a ceiling, so the range need not reach it."""


def home_amplitude_ceiling_ma(prescription: Prescription, caps: PatientCaps | None) -> float:
    """The highest top the home amplitude range may have: the prescribed amplitude, lowered to
    the person's cap where one is set."""
    ceiling = prescription.max_amplitude_ma
    if caps is not None and caps.max_amplitude_ma is not None:
        ceiling = min(ceiling, caps.max_amplitude_ma)
    return ceiling


def home_amplitude_rule_text(ceiling_ma: float) -> str:
    """The rule with this prescription's ceiling: the editor's hint, its live check and every
    refusal say exactly this."""
    return f"{HOME_AMPLITUDE_RULE} ({ceiling_ma:g} mA)"


def home_amplitude_problem(top_ma: float, ceiling_ma: float) -> str | None:
    """What is expected of a home amplitude range's top ``top_ma`` (None: it keeps the rule)."""
    if top_ma <= ceiling_ma:
        return None
    return home_amplitude_rule_text(ceiling_ma)


class LockedRanges(StrictModel):
    """What a person may adjust at home; everything else is locked to the prescription."""

    amplitude_ma: ValueSpan
    frequency_hz: ValueSpan | None = None
    phase_width_us: ValueSpan | None = None
    session_duration_min: ValueSpan | None = None


class PrescriptionIn(StrictModel):
    prescription: Prescription
    caps: PatientCaps | None = None
    locked_ranges: LockedRanges | None = None
    home_use: bool = False
    valid_from: date
    valid_to: date | None = None
    review_on: CalendarDate | None = Field(
        default=None, description="When the clinician reviews it (None: 4 weeks on, see "
        "stimwise.records.review; a date given must not be in the past).")
    prescribed_by: str = Field(min_length=2, max_length=80)

    @model_validator(mode="after")
    def _consistent(self) -> PrescriptionIn:
        problems: list = []
        if self.valid_to is not None and self.valid_to < self.valid_from:
            problems.append((("valid_to",), self.valid_to.isoformat(), "on or after valid_from"))
        if self.review_on is not None and self.review_on <= self.valid_from:
            problems.append((("review_on",), self.review_on.isoformat(),
                             f"a review date after the first day ({self.valid_from})"))
        ceiling = home_amplitude_ceiling_ma(self.prescription, self.caps)
        top = None if self.locked_ranges is None else self.locked_ranges.amplitude_ma.max
        if top is not None and (expected := home_amplitude_problem(top, ceiling)):
            problems.append((("locked_ranges", "amplitude_ma", "max"), top, expected))
        if self.home_use and self.locked_ranges is None:
            problems.append((("locked_ranges",), None, "locked ranges for a home-use prescription"))
        if problems:
            raise field_contradictions("PrescriptionIn", problems)
        return self


class SessionIn(StrictModel):
    """A delivered session for the record: its :class:`SessionRecord` and where it came from."""

    record: SessionRecord
    frequency_hz: Float | None = Field(default=None, gt=0)
    phase_width_us: Float | None = Field(default=None, gt=0)
    prescription_id: Int | None = Field(default=None, ge=1)
    journal_ref: str | None = Field(default=None, max_length=500)
    journal_sha256: Sha256 | None = None


class UserIn(StrictModel):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,79}$")
    role: Role
    patient: Pseudonym | None = Field(
        default=None, description="The patient's own record (role 'patient' only)."
    )
    display_name: DisplayName = None

    @model_validator(mode="after")
    def _patient_for_patient_role(self) -> UserIn:
        if (self.role == "patient") != (self.patient is not None):
            raise field_contradictions(
                "UserIn",
                [(("patient",), self.patient, "a pseudonym exactly when role is 'patient'")],
            )
        return self
