"""n-of-1 plans and their closed-form Bayesian analysis, including calibration (HAZ-052)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import numpy as np
import pytest
from scipy import stats

from stimwise.analysis.nof1 import (
    Nof1Prior,
    analyse_nof1,
    plan_nof1,
    posterior,
)
from stimwise.analysis.series import DailyPain
from stimwise.errors import InputError

START = date(2026, 3, 2)


def test_a_plan_balances_every_pair_and_is_reproducible_from_its_seed():
    plan = plan_nof1("conventional-tens", "low-dose", pairs=4, period_days=7, washout_days=3,
                     seed=5, start=START)
    again = plan_nof1("conventional-tens", "low-dose", pairs=4, period_days=7, washout_days=3,
                      seed=5, start=START)
    assert plan == again
    assert [sorted(p.treatment for p in plan.periods if p.pair == k) for k in range(1, 5)] == [
        ["A", "B"]] * 4
    periods = plan.periods
    gaps = [b.first_day - a.last_day - 1 for a, b in pairwise(periods)]
    assert gaps == [3] * 7
    orders = {
        tuple(p.treatment for p in plan_nof1("a", "b", pairs=6, seed=s, start=START).periods)
        for s in range(20)
    }
    assert len(orders) > 5  # the order really is randomised


def test_a_bad_plan_request_is_an_input_error_naming_the_field():
    with pytest.raises(InputError, match="period_days"):
        plan_nof1("a", "b", pairs=2, period_days=1, start=START)


def _diary(plan, effect_a, seed=0, sd=0.8):
    rng = np.random.default_rng(seed)
    days = np.arange(plan.total_days)
    pain = np.full(days.size, 6.0)
    for period in plan.periods:
        if period.treatment == "A":
            pain[period.first_day:period.last_day + 1] -= effect_a
    return DailyPain(days, np.clip(pain + rng.normal(0, sd, days.size), 0, 10))


def test_a_clearly_better_treatment_wins_with_high_probability():
    plan = plan_nof1("A-protocol", "B-protocol", pairs=4, period_days=7, seed=1, start=START)
    result = analyse_nof1(plan, _diary(plan, effect_a=2.5))
    assert result.enough_data
    assert result.p_a_better_by_mid > 0.95
    assert "A-protocol beats B-protocol" in result.verdict
    assert result.posterior_mean_nrs == pytest.approx(2.5, abs=0.6)


def test_no_difference_is_not_called_a_win():
    plan = plan_nof1("A", "B", pairs=4, period_days=7, seed=2, start=START)
    result = analyse_nof1(plan, _diary(plan, effect_a=0.0, seed=4))
    assert result.p_a_better_by_mid < 0.5
    assert "beats" not in result.verdict


def test_HAZ052_one_complete_pair_is_not_enough_data():
    plan = plan_nof1("A", "B", pairs=3, period_days=7, seed=3, start=START)
    diary = _diary(plan, effect_a=3.0)
    first_pair_end = max(p.last_day for p in plan.periods if p.pair == 1)
    kept = diary.day <= first_pair_end
    result = analyse_nof1(plan, DailyPain(diary.day[kept], diary.nrs[kept]))
    assert not result.enough_data
    assert result.p_a_better_by_mid is None
    assert result.verdict.startswith("not enough data yet")


def test_the_posterior_matches_the_conjugate_formulas_by_hand():
    prior = Nof1Prior(mean_nrs=0, mean_weight_blocks=1, variance_shape=2, variance_scale=1)
    post = posterior(np.array([1.0, 2.0, 3.0]), prior)
    # kn = 4, mun = 6/4, an = 3.5, bn = 1 + 0.5*2 + 1*3*(2-0)^2/(2*4) = 3.5
    assert post.mean_nrs == pytest.approx(1.5)
    assert post.degrees_of_freedom == pytest.approx(7.0)
    assert post.scale_nrs == pytest.approx(np.sqrt(3.5 / (3.5 * 4)))


def _simulate_from_prior(prior, rng, pairs):
    variance = stats.invgamma.rvs(prior.variance_shape, scale=prior.variance_scale,
                                  random_state=rng)
    delta = rng.normal(prior.mean_nrs, np.sqrt(variance / prior.mean_weight_blocks))
    return delta, rng.normal(delta, np.sqrt(variance), pairs)


def test_HAZ052_posterior_probabilities_are_calibrated_when_the_truth_comes_from_the_prior():
    """4,000 trials of 3 pairs: in every decile bin of P(δ ≥ MID) holding ≥ 100 trials, the
    share where δ ≥ MID really held is within 3 binomial standard errors + 0.02 of the bin's mean
    probability; and the 90 % credible interval covers δ in 90 % ± 1.5 % of trials."""
    prior = Nof1Prior()
    rng = np.random.default_rng(2026)
    mid = 1.0
    probabilities, outcomes, covered = [], [], []
    for _ in range(4000):
        delta, differences = _simulate_from_prior(prior, rng, pairs=3)
        post = posterior(differences, prior)
        probabilities.append(post.probability_above(mid))
        outcomes.append(delta >= mid)
        low, high = post.interval(0.90)
        covered.append(low <= delta <= high)
    probabilities, outcomes = np.asarray(probabilities), np.asarray(outcomes)
    bins = np.minimum((probabilities * 10).astype(int), 9)
    checked = 0
    for b in range(10):
        members = bins == b
        if members.sum() < 100:
            continue
        expected = probabilities[members].mean()
        observed = outcomes[members].mean()
        se = np.sqrt(expected * (1 - expected) / members.sum())
        assert abs(observed - expected) <= 3 * se + 0.02, (b, observed, expected)
        checked += 1
    assert checked >= 3
    assert abs(np.mean(covered) - 0.90) <= 0.015


def test_HAZ052_a_model_that_ignored_the_variance_would_fail_the_same_check():
    """The calibration check has teeth: plug-in normal probabilities (σ known = sample s.d.)
    are over-confident with 3 pairs and miss the nominal 90 % coverage."""
    prior = Nof1Prior()
    rng = np.random.default_rng(7)
    covered = []
    for _ in range(2000):
        delta, d = _simulate_from_prior(prior, rng, pairs=3)
        half = 1.645 * d.std(ddof=1) / np.sqrt(d.size)
        covered.append(d.mean() - half <= delta <= d.mean() + half)
    assert np.mean(covered) < 0.85
