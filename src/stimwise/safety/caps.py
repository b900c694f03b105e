"""Patient-specific caps that the clinical screening passes into the safety verification."""

from __future__ import annotations

from pydantic import Field, field_validator

from stimwise.protocol.base import Float, StrictModel
from stimwise.protocol.body_sites import SITE_NAMES
from stimwise.protocol.models import IntensityLevel

__all__ = ["LEVEL_ORDER", "PatientCaps"]

LEVEL_ORDER: dict[str, int] = {"subsensory": 0, "sensory": 1, "motor": 2}


class PatientCaps(StrictModel):
    """Upper bounds for one person; each blocks the verification when exceeded.

    Examples
    --------
    Usually a screening's (``screening.caps``); written by hand here:

    >>> import stimwise as sw
    >>> caps = sw.PatientCaps(max_amplitude_ma=20, forbidden_sites={"left_knee": "recent surgery"})
    >>> report = sw.verify(sw.load_protocol("conventional-tens"), caps=caps)
    >>> report.verdict
    'block'
    """

    max_amplitude_ma: Float | None = Field(default=None, gt=0, le=200)
    max_level: IntensityLevel | None = None
    max_session_duration_min: Float | None = Field(default=None, gt=0, le=480)
    forbidden_sites: dict[str, str] = Field(
        default_factory=dict, description="Body site -> reason it is forbidden for this person."
    )
    site_max_level: dict[str, IntensityLevel] = Field(
        default_factory=dict,
        description="Body site -> highest intensity level allowed there (e.g. 'sensory' on skin "
        "with reduced sensation).",
    )
    source: str = Field(default="caller-supplied caps", min_length=1)
    patient_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$",
        description="The person these caps are for (pseudonym): verify() binds its plan to "
        "them. None: caps for no one in particular, and the plan is not patient-specific.",
    )

    @field_validator("forbidden_sites", "site_max_level")
    @classmethod
    def _known_sites(cls, sites: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(sites) - SITE_NAMES)
        if unknown:
            raise ValueError(f"unknown body sites {unknown}")
        return sites
