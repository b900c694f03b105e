"""Instruments as item-by-item questionnaires, and a score that grows as they are answered.

:func:`questionnaire` gives a page everything it needs to ask an instrument one item at a time:
each question in words, its section, and its answer choices with the value to store.
:func:`partial_score` scores whatever has been answered so far: the points so far, the lowest
and highest final result still possible (the unanswered items at their lowest and highest
answers, scored by the instrument's own scoring function) and, once every required item is
answered, the full score. A page can thus show "DN4 3 so far (7 of 10 answered): not decided
yet" and say as soon as a cut-off is reached or can no longer be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stimwise.clinical.instruments.answers import check_answers
from stimwise.clinical.instruments.models import InstrumentResponse, InstrumentScore
from stimwise.clinical.instruments.registry import INSTRUMENTS, scorer_of
from stimwise.clinical.instruments.scoring import item_points
from stimwise.clinical.instruments.spec import (
    Answer,
    BinaryScale,
    ChoiceScale,
    InstrumentId,
    InstrumentSpec,
    IntegerScale,
    Item,
    Scale,
)
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel

SECTION_LABELS: dict[str, str] = {
    "interview": "Asked of the patient",
    "examination": "Examination",
    "left_foot": "Left foot",
    "right_foot": "Right foot",
    "symptom:sensory": "Symptoms the patient reports: sensory",
    "symptom:vasomotor": "Symptoms the patient reports: skin temperature and colour",
    "symptom:sudomotor_oedema": "Symptoms the patient reports: swelling and sweating",
    "symptom:motor_trophic": "Symptoms the patient reports: movement, hair, nails and skin",
    "sign:sensory": "Signs seen at this examination: sensory",
    "sign:vasomotor": "Signs seen at this examination: skin temperature and colour",
    "sign:sudomotor_oedema": "Signs seen at this examination: swelling and sweating",
    "sign:motor_trophic": "Signs seen at this examination: movement, hair, nails and skin",
}
"""Section headings of the instruments' item groups, in words."""


@dataclass(frozen=True)
class AnswerChoice:
    """One answer a question offers: ``value`` goes into the response's ``answers`` as is."""

    value: Answer
    label: str
    points: float | None


@dataclass(frozen=True)
class Question:
    """One item, as a page asks it."""

    item_id: str
    text: str
    section: str | None
    choices: tuple[AnswerChoice, ...]
    required: bool
    scored: bool


@dataclass(frozen=True)
class Questionnaire:
    """An instrument version as a list of questions, in the instrument's order."""

    instrument: InstrumentId
    name: str
    version: str
    version_label: str
    measures: str
    questions: tuple[Question, ...]


def _word(word: str) -> str:
    spaced = word.replace("_", " ")
    return spaced[:1].upper() + spaced[1:]


def answer_choices(scale: Scale) -> tuple[AnswerChoice, ...]:
    """The answers a scale offers, each with the value to store and its points."""
    if isinstance(scale, BinaryScale):
        return tuple(
            AnswerChoice(word, _word(word), scale.points(answer))
            for word, answer in ((scale.true_word, True), (scale.false_word, False))
        )
    if isinstance(scale, IntegerScale):
        return tuple(
            AnswerChoice(n, f"{n} ({scale.anchors[n]})" if n in scale.anchors else str(n),
                         float(n))
            for n in range(scale.min, scale.max + 1)
        )
    return tuple(AnswerChoice(o.id, _word(o.label), o.points) for o in scale.options)


def _question(item: Item) -> Question:
    return Question(
        item_id=item.id,
        text=item.question or _word(item.label),
        section=SECTION_LABELS.get(item.group) if item.group else None,
        choices=answer_choices(item.scale),
        required=item.required,
        scored=item.scale.max_points() > 0,
    )


def questionnaire(instrument: str, version: str | None = None) -> Questionnaire:
    """The questions of one instrument version.

    Raises
    ------
    InputError
        For an instrument or version stimwise does not have.
    """
    spec = _spec(instrument)
    chosen = spec.find_version(version)
    if chosen is None:
        raise InputError(FieldProblem("version", version, "one of: " + ", ".join(
            v.id for v in spec.versions)))
    return Questionnaire(
        instrument=spec.id,
        name=spec.name,
        version=chosen.id,
        version_label=chosen.label,
        measures=spec.measures,
        questions=tuple(_question(spec.item(i)) for i in chosen.item_ids),
    )


def _spec(instrument: str) -> InstrumentSpec:
    if instrument not in INSTRUMENTS:
        raise InputError(FieldProblem("instrument", instrument,
                                      "one of: " + ", ".join(INSTRUMENTS)))
    return INSTRUMENTS[instrument]


# --------------------------------------------------------------------------- partial scores


class PartialScore(StrictModel):
    """The score of a response that may be incomplete.

    ``points_so_far`` sums the points of the answers given (``None`` for instruments without a
    total); ``lowest`` and ``highest`` are the instrument's own scores with every unanswered
    required item at its lowest or highest answer, so the final result lies between them (and a
    cut-off met by ``lowest`` is already met; one ``highest`` misses can no longer be met);
    ``score`` is the full score once every required item is answered and no answer is invalid.
    Invalid answers are listed in ``problems`` (as ``FieldProblem`` descriptions) and count as
    unanswered.
    """

    instrument: InstrumentId
    version: str
    answered: int
    required: int
    complete: bool
    points_so_far: float | None
    lowest: InstrumentScore
    highest: InstrumentScore
    score: InstrumentScore | None
    problems: tuple[str, ...] = ()
    summary: str


def _extreme(scale: Scale, highest: bool) -> Answer:
    """The answer that earns the fewest (or most) points."""
    if isinstance(scale, BinaryScale):
        scoring = True if scale.scores_when is None else scale.scores_when
        return scoring if highest else not scoring
    if isinstance(scale, IntegerScale):
        return scale.max if highest else scale.min
    assert isinstance(scale, ChoiceScale)
    ranked = sorted(scale.options, key=lambda o: o.points if o.points is not None else 0.0)
    return (ranked[-1] if highest else ranked[0]).id


def partial_score(response: InstrumentResponse | Mapping) -> PartialScore:
    """Score what has been answered of ``response`` so far.

    Parameters
    ----------
    response
        An :class:`InstrumentResponse` or its mapping (``{"instrument": "dn4", "answers": {...}}``);
        answers may be missing.

    Raises
    ------
    InputError
        For an unknown instrument or version (nothing can be scored then).
    """
    if not isinstance(response, InstrumentResponse):
        from stimwise.protocol.io import validate_model

        response = validate_model(InstrumentResponse, dict(response), source="answers")
    spec = _spec(response.instrument)
    checked = check_answers(spec, response)
    version = checked.version
    if version is None:
        raise InputError(list(checked.problems))
    values = checked.values
    invalid = tuple(p.describe() for p in checked.problems if p.value is not None)
    required = [i for i in version.item_ids if spec.item(i).required]
    missing = [i for i in version.item_ids if i not in values]
    scorer = scorer_of(spec.id)

    def filled(highest: bool) -> dict[str, Answer]:
        extra = {i: _extreme(spec.item(i).scale, highest) for i in missing
                 if spec.item(i).required}
        return {**values, **extra}

    lowest = scorer(spec, version, filled(False))
    highest = scorer(spec, version, filled(True))
    complete = not invalid and all(i in values for i in required)
    score = scorer(spec, version, values) if complete else None
    if score is not None:
        score = score.model_copy(update={"answered_on": response.answered_on})
    answered = sum(1 for i in required if i in values)
    has_total = lowest.total is not None
    points = item_points(spec, values, version.item_ids) if has_total else None
    return PartialScore(
        instrument=spec.id,
        version=version.id,
        answered=answered,
        required=len(required),
        complete=complete,
        points_so_far=points,
        lowest=lowest,
        highest=highest,
        score=score,
        problems=invalid,
        summary=_summary(spec, answered, len(required), points, lowest, highest, score),
    )


def _summary(spec, answered, required, points, lowest, highest, score) -> str:
    if score is not None:
        return score.interpretation
    text = f"{spec.name}: {answered} of {required} answered"
    if points is not None:
        text += f"; {points:g} so far, final between {lowest.total:g} and {highest.total:g}"
    if lowest.positive is not None:
        if lowest.positive:
            text += "; already positive"
        elif not highest.positive:
            text += "; can no longer be positive"
        else:
            text += "; not decided yet"
    return text
