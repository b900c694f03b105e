"""Type stub of :mod:`stimwise.clinical`'s lazy names (see ``__init__.py``)."""

from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.intake import Intake, load_intake
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.screening import Screening, screen

__all__ = [
    "Intake",
    "RecommendationReport",
    "Screening",
    "example_names",
    "example_patient_path",
    "load_intake",
    "screen",
]
