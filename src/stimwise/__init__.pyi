"""Type stub of the lazy namespace of ``__init__.py``: the same names, for IDEs and type
checkers (``tests/test_public_api.py`` keeps the two equal)."""

from stimwise.clinical.examples import example_patient_path
from stimwise.clinical.intake import Intake, load_intake
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.recommend import recommend
from stimwise.clinical.screening import Screening, screen
from stimwise.device.registry import open_device
from stimwise.errors import (
    ArgumentTypeError,
    InputError,
    SafetyBlockError,
    StimwiseError,
    UnverifiedPlanError,
)
from stimwise.export.files import export_samples
from stimwise.physiology.single_fiber import FiberThreshold, fiber_threshold
from stimwise.plotting import save_figure
from stimwise.protocol.library import get_protocol as load_protocol
from stimwise.protocol.library import library
from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan
from stimwise.safety.report import SafetyReport
from stimwise.safety.verify import verify
from stimwise.session.limits import SessionSettings
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.record import SessionRecord
from stimwise.session.scripted import run_session
from stimwise.waveform.metrics import compute_metrics
from stimwise.waveform.plot import plot_prescription
from stimwise.waveform.sampler import sample_window

__version__: str

__all__ = [
    "ArgumentTypeError",
    "FiberThreshold",
    "InputError",
    "Intake",
    "PatientCaps",
    "Prescription",
    "Protocol",
    "RecommendationReport",
    "SafetyBlockError",
    "SafetyReport",
    "Screening",
    "ScriptedResponder",
    "SessionRecord",
    "SessionSettings",
    "StimwiseError",
    "UnverifiedPlanError",
    "VerifiedPlan",
    "compute_metrics",
    "example_patient_path",
    "export_samples",
    "fiber_threshold",
    "library",
    "load_intake",
    "load_protocol",
    "open_device",
    "plot_prescription",
    "recommend",
    "run_session",
    "sample_window",
    "save_figure",
    "screen",
    "verify",
]
