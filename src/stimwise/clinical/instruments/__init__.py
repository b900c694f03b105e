"""Assessment instruments for CRPS and peripheral neuropathy: answer checking and scoring.

Instruments: Budapest criteria, CRPS Severity Score, pain NRS, DN4 (full and interview-only), MNSI
questionnaire and examination, sleep interference NRS and PGIC. Each is data
(:data:`INSTRUMENTS`) plus a small scoring function; every cut-off carries its source and the
confidence mark of ``shared/reference/clinical-facts.md`` §4. See ``docs/instruments.md``.

Scores support clinical decisions and research; they do not make a diagnosis.
"""

from stimwise.clinical.instruments.loading import load_responses, load_responses_file
from stimwise.clinical.instruments.models import (
    AppliedCutOff,
    InstrumentResponse,
    InstrumentScore,
    ResponseDocument,
)
from stimwise.clinical.instruments.registry import (
    INSTRUMENTS,
    answer_problems,
    score,
    score_all,
)
from stimwise.clinical.instruments.spec import (
    BinaryScale,
    Choice,
    ChoiceScale,
    CutOff,
    InstrumentId,
    InstrumentSpec,
    InstrumentVersion,
    IntegerScale,
    Item,
    Licence,
)

__all__ = [
    "INSTRUMENTS",
    "AppliedCutOff",
    "BinaryScale",
    "Choice",
    "ChoiceScale",
    "CutOff",
    "InstrumentId",
    "InstrumentResponse",
    "InstrumentScore",
    "InstrumentSpec",
    "InstrumentVersion",
    "IntegerScale",
    "Item",
    "Licence",
    "ResponseDocument",
    "answer_problems",
    "load_responses",
    "load_responses_file",
    "score",
    "score_all",
]
