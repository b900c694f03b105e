"""The registry of instruments and the entry points that check and score responses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from stimwise.clinical.instruments.answers import check_answers, join_path
from stimwise.clinical.instruments.crps import BUDAPEST, CSS, score_budapest, score_css
from stimwise.clinical.instruments.dn4 import DN4, score_dn4
from stimwise.clinical.instruments.mnsi import (
    MNSI_EXAMINATION,
    MNSI_QUESTIONNAIRE,
    score_mnsi_examination,
    score_mnsi_questionnaire,
)
from stimwise.clinical.instruments.models import InstrumentResponse, InstrumentScore
from stimwise.clinical.instruments.ratings import (
    PAIN_NRS,
    PGIC,
    SLEEP_INTERFERENCE,
    score_pain_nrs,
    score_pgic,
    score_sleep_interference,
)
from stimwise.clinical.instruments.scoring import Scorer
from stimwise.clinical.instruments.spec import InstrumentSpec
from stimwise.errors import FieldProblem, InputError

_SCORED: tuple[tuple[InstrumentSpec, Scorer], ...] = (
    (BUDAPEST, score_budapest),
    (CSS, score_css),
    (PAIN_NRS, score_pain_nrs),
    (DN4, score_dn4),
    (MNSI_QUESTIONNAIRE, score_mnsi_questionnaire),
    (MNSI_EXAMINATION, score_mnsi_examination),
    (SLEEP_INTERFERENCE, score_sleep_interference),
    (PGIC, score_pgic),
)

INSTRUMENTS: Mapping[str, InstrumentSpec] = MappingProxyType({spec.id: spec for spec, _ in _SCORED})
"""Every instrument stimwise can score, by id: items, answer scales, versions, cut-offs,
citation and licence status (read-only)."""

_SCORERS: Mapping[str, Scorer] = MappingProxyType({spec.id: scorer for spec, scorer in _SCORED})


def scorer_of(instrument_id: str) -> Scorer:
    """The scoring function of one instrument (it scores checked, canonical answers)."""
    return _SCORERS[instrument_id]


def answer_problems(response: InstrumentResponse, prefix: str = "") -> list[FieldProblem]:
    """Every problem with the answers of ``response``, without raising.

    Parameters
    ----------
    response
        The response to check.
    prefix
        Where the response sits in the caller's document (``instruments[2]``); problem paths
        become ``instruments[2].answers.item_7``. Empty for a response on its own.

    Returns
    -------
    list of FieldProblem
        Empty when the response can be scored.
    """
    return list(check_answers(INSTRUMENTS[response.instrument], response, prefix).problems)


def score(response: InstrumentResponse, prefix: str = "") -> InstrumentScore:
    """Check and score one response.

    Parameters
    ----------
    response
        The completed instrument.
    prefix
        Path prefix for error messages, as in :func:`answer_problems`.

    Returns
    -------
    InstrumentScore
        Total, subscores, applied cut-offs (with source and confidence) and interpretation.

    Raises
    ------
    InputError
        With one problem per missing, unknown or invalid item, all collected before raising.
    """
    spec = INSTRUMENTS[response.instrument]
    checked = check_answers(spec, response, prefix)
    if checked.problems or checked.version is None:
        raise InputError(list(checked.problems))
    result = _SCORERS[spec.id](spec, checked.version, checked.values)
    return result.model_copy(update={"answered_on": response.answered_on})


def score_all(
    responses: Iterable[InstrumentResponse], prefix: str = "responses"
) -> tuple[InstrumentScore, ...]:
    """Check every response first, then score them all.

    Checking all before scoring any means one :class:`InputError` lists the problems of every
    response (paths ``responses.0.answers.item_7``, ``responses.3.version``...), so an answer
    file is fixed in one round.

    Parameters
    ----------
    responses
        The completed instruments, in document order.
    prefix
        Name of the list in the caller's document; each problem path starts ``{prefix}.{index}``.

    Raises
    ------
    InputError
        If any response has a problem.
    """
    responses = tuple(responses)
    problems = [
        problem
        for index, response in enumerate(responses)
        for problem in answer_problems(response, join_path(prefix, str(index)))
    ]
    if problems:
        raise InputError(problems)
    return tuple(score(response) for response in responses)
