"""Clinical layer: intake, screening, instruments and protocol recommendation."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "example_names": ".examples",
        "example_patient_path": ".examples",
        "Intake": ".intake",
        "load_intake": ".intake",
        "RecommendationReport": ".models",
        "Screening": ".screening",
        "screen": ".screening",
    },
)
