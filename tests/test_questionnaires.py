"""Instruments item by item: every question's choices are answers its scale accepts, and the score
shown while answering brackets the final score (the lowest and highest still possible), equals it
once complete, and never declares a cut-off met (or missed) that the remaining answers could
change."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimwise.clinical.instruments import (
    INSTRUMENTS,
    InstrumentResponse,
    partial_score,
    questionnaire,
    score,
)
from stimwise.errors import InputError

VERSIONS = [(i, v.id) for i, spec in INSTRUMENTS.items() for v in spec.versions]


@st.composite
def answered(draw, instrument: str, version: str):
    """A complete set of answers and the subset given so far."""
    asked = questionnaire(instrument, version)
    complete = {
        q.item_id: draw(st.sampled_from([c.value for c in q.choices]))
        for q in asked.questions
        if q.required or draw(st.booleans())
    }
    given_so_far = {k: v for k, v in complete.items() if draw(st.booleans())}
    return complete, given_so_far


def _response(instrument, version, answers) -> InstrumentResponse:
    return InstrumentResponse(instrument=instrument, version=version, answers=answers)


@pytest.mark.parametrize("instrument, version", VERSIONS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_running_score_brackets_the_final_score(instrument, version, data):
    complete, so_far = data.draw(answered(instrument, version))
    final = score(_response(instrument, version, complete))
    partial = partial_score(_response(instrument, version, so_far))
    if final.total is not None:
        assert partial.lowest.total <= final.total <= partial.highest.total
        assert partial.points_so_far <= final.total
    for name, value in final.subscores.items():
        low, high = partial.lowest.subscores[name], partial.highest.subscores[name]
        assert min(low, high) <= value <= max(low, high)
    if final.positive is not None:
        if partial.lowest.positive:
            assert final.positive  # "already positive" is never taken back
        if not partial.highest.positive:
            assert not final.positive  # "can no longer be positive" holds
    asked = questionnaire(instrument, version).questions
    assert partial.answered == sum(1 for q in asked if q.required and q.item_id in so_far)


@pytest.mark.parametrize("instrument, version", VERSIONS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_complete_response_scores_exactly_as_the_scorer(instrument, version, data):
    complete, _ = data.draw(answered(instrument, version))
    partial = partial_score(_response(instrument, version, complete))
    assert partial.complete and partial.score == score(_response(instrument, version, complete))
    assert partial.summary == partial.score.interpretation


def test_dn4_says_as_soon_as_the_cut_off_is_reached_or_out_of_reach():
    four_yes = {"burning": "yes", "tingling": "yes", "numbness": "yes", "itching": "yes"}
    reached = partial_score({"instrument": "dn4", "answers": four_yes})
    assert reached.lowest.positive and not reached.complete
    assert "already positive" in reached.summary and "4 so far" in reached.summary
    five_no = {k: "no" for k in ("burning", "painful_cold", "electric_shocks", "tingling",
                                 "pins_and_needles")}
    out = partial_score({"instrument": "dn4", "version": "interview", "answers": five_no})
    assert "can no longer be positive" in out.summary


def test_an_invalid_answer_is_listed_and_counts_as_unanswered():
    partial = partial_score({"instrument": "pain_nrs", "answers": {"current": 5, "worst": "x"}})
    assert partial.problems and "answers.worst" in partial.problems[0]
    assert not partial.complete and partial.answered == 1


def test_an_unknown_instrument_or_version_is_an_input_error():
    with pytest.raises(InputError):
        questionnaire("bpi")
    with pytest.raises(InputError):
        questionnaire("dn4", "short")
    with pytest.raises(InputError):
        partial_score({"instrument": "dn4", "version": "short", "answers": {}})


def test_questions_carry_sections_and_anchored_scales():
    dn4 = questionnaire("dn4")
    assert [q.section for q in dn4.questions].count("Examination") == 3
    pain = questionnaire("pain_nrs").questions[0]
    assert pain.text == "How strong is your pain now?"
    assert pain.choices[0].label == "0 (no pain)" and pain.choices[-1].value == 10
    mnsi = questionnaire("mnsi_examination")
    assert not next(q for q in mnsi.questions if q.item_id == "left_monofilament").required
