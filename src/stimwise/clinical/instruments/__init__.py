"""Assessment instruments for CRPS and peripheral neuropathy: answer checking and scoring.

Instruments: Budapest criteria, CRPS Severity Score, pain NRS, DN4 (full and interview-only), MNSI
questionnaire and examination, sleep interference NRS and PGIC. Each is data
(:data:`INSTRUMENTS`) plus a small scoring function; every cut-off carries its source and the
confidence mark of ``shared/reference/clinical-facts.md`` §4. See ``docs/instruments.md``.

Every instrument can also be asked item by item (:func:`questionnaire`: questions in words with
their answer choices) and scored while it is being answered (:func:`partial_score`).

Scores support clinical decisions and research; they do not make a diagnosis.
"""

from stimwise.clinical.instruments.loading import load_responses, load_responses_file
from stimwise.clinical.instruments.models import (
    AppliedCutOff,
    InstrumentResponse,
    InstrumentScore,
    ResponseDocument,
)
from stimwise.clinical.instruments.questionnaire import (
    AnswerChoice,
    PartialScore,
    Question,
    Questionnaire,
    answer_choices,
    partial_score,
    questionnaire,
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
    "AnswerChoice",
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
    "PartialScore",
    "Question",
    "Questionnaire",
    "ResponseDocument",
    "answer_choices",
    "answer_problems",
    "load_responses",
    "load_responses_file",
    "partial_score",
    "questionnaire",
    "score",
    "score_all",
]
