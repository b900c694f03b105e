"""Result models of the recommendation (typed, frozen, JSON-ready)."""

from __future__ import annotations

from typing import Literal

from stimwise.clinical.instruments import InstrumentScore
from stimwise.clinical.intake import Goal
from stimwise.clinical.knowledge import Condition, Evidence
from stimwise.protocol.base import StrictModel
from stimwise.protocol.models import Channel, Citation, IntensityLevel
from stimwise.protocol.prescription import Prescription

__all__ = [
    "IntensityGuidance",
    "NotRecommended",
    "PlacementChoice",
    "Recommendation",
    "RecommendationReport",
    "ScheduleGuidance",
]


class PlacementChoice(StrictModel):
    """Where the electrodes go, which templates that came from, and what was refused."""

    template_ids: tuple[str, ...]
    sides: tuple[str, ...]
    channels: tuple[Channel, ...]
    sources: tuple[Citation, ...]
    rejected_alternatives: tuple[str, ...]


class IntensityGuidance(StrictModel):
    level: IntensityLevel
    max_amplitude_ma: float
    titration: str
    supervised_first_session: bool
    sources: tuple[Citation, ...]


class ScheduleGuidance(StrictModel):
    session_duration_min: float
    sessions_per_day: int
    sessions_per_week: int
    review: str


class Recommendation(StrictModel):
    rank: int
    protocol_id: str
    protocol_name: str
    modality: str
    condition: Condition | None
    score: float
    rationale: tuple[str, ...]
    evidence: Evidence
    rank_note: str | None
    placement: PlacementChoice
    intensity: IntensityGuidance
    schedule: ScheduleGuidance
    monitoring: tuple[str, ...]
    home_use_allowed: bool
    safety_verdict: Literal["pass", "warn"]
    safety_notes: tuple[str, ...]
    prescription: Prescription


class NotRecommended(StrictModel):
    protocol_id: str
    condition: Condition | None
    reasons: tuple[str, ...]


class RecommendationReport(StrictModel):
    """What :func:`stimwise.recommend` found for one person: the recommendations best first
    (each with a prescription verified with the screening's caps), every protocol not
    recommended with its reasons, and notes.

    Examples
    --------
    >>> import stimwise as sw
    >>> report = sw.recommend(sw.load_intake(sw.example_patient_path("crps-allodynia")))
    >>> best = report.recommendations[0]
    >>> best.rank, best.protocol_id, best.safety_verdict
    (1, 'crps-gentle-sensory', 'pass')
    >>> best.prescription.protocol.id == best.protocol_id  # verified with the screening's caps
    True
    """

    patient_id: str
    screening_decision: str
    goals: tuple[Goal, ...]
    conditions: tuple[Condition, ...]
    scores: tuple[InstrumentScore, ...]
    recommendations: tuple[Recommendation, ...]
    not_recommended: tuple[NotRecommended, ...]
    notes: tuple[str, ...]
