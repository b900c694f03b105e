"""Type stub of :mod:`stimwise.analysis`'s lazy names (see ``__init__.py``)."""

from stimwise.analysis.assessment import ResponseAssessment, assess
from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.plot import plot_response

__all__ = [
    "ResponseAssessment",
    "assess",
    "plot_response",
    "simulate_cohort",
]
