"""Writing verified stimulation samples to files (only a VerifiedPlan can be exported).

NPZ, CSV and WAV, each with a JSON sidecar of provenance; see :mod:`stimwise.export.files`.
"""

from stimwise.export.files import EXPORT_FORMATS, export_samples

__all__ = ["EXPORT_FORMATS", "export_samples"]
