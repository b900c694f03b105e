"""Series validation, dose–response and habituation, relief, and population intervals."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from stimwise.analysis.cohort import draw_patient, simulate_patient
from stimwise.analysis.dose_response import dose_response, habituation
from stimwise.analysis.population import (
    clopper_pearson_interval,
    poisson_rate_interval,
    summarise,
    wilson_interval,
)
from stimwise.analysis.relief import relief_summary
from stimwise.analysis.series import DailyPain, PatientSeries, Sessions
from stimwise.errors import InputError


def _sessions(n, relief, amplitude=20.0):
    return Sessions(
        day=np.arange(n), amplitude_ma=np.broadcast_to(amplitude, n).astype(float),
        phase_width_us=np.full(n, 100.0), frequency_hz=np.full(n, 100.0),
        minutes=np.full(n, 30.0), nrs_pre=np.full(n, 7.0),
        nrs_post=7.0 - np.asarray(relief, dtype=float),
    )


@pytest.mark.parametrize(("build", "field"), [
    (lambda: DailyPain(np.array([0, 1]), np.array([3.0, 11.0])), "pain.nrs"),
    (lambda: DailyPain(np.array([2, 1]), np.array([3.0, 4.0])), "pain.day"),
    (lambda: DailyPain(np.array([0.5]), np.array([3.0])), "pain.day"),
    (lambda: _sessions(3, [1, 2, -4]), "sessions.nrs_post"),
    (lambda: PatientSeries("P", date(2026, 1, 1), DailyPain(np.array([0, 9]), np.array([3., 4.])),
                           Sessions.empty(), as_of_day=5), "pain.day"),
])
def test_bad_series_values_are_input_errors_naming_the_field(build, field):
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        build()


def test_several_entries_a_day_are_averaged():
    pain = DailyPain.from_entries([0, 0, 1, 3, 3, 3], [2, 4, 5, 1, 2, 3])
    assert pain.day.tolist() == [0, 1, 3]
    assert pain.nrs.tolist() == [3.0, 5.0, 2.0]


def test_HAZ053_fading_relief_at_a_constant_dose_is_detected_and_steady_relief_is_not():
    rng = np.random.default_rng(0)
    n = 40
    fading = np.clip(np.rint(4 * np.exp(-np.arange(n) / 15) + rng.normal(0, 0.7, n)), -3, 7)
    steady = np.clip(np.rint(3 + rng.normal(0, 0.7, n)), -3, 7)
    assert habituation(_sessions(n, fading)).detected
    assert not habituation(_sessions(n, steady)).detected
    assert "10 needed" in habituation(_sessions(6, fading[:6])).explanation


def test_relief_rising_with_amplitude_shows_a_positive_slope_only_for_amplitude():
    amplitude = np.linspace(10, 30, 30)
    relief = np.rint(0.15 * amplitude + np.random.default_rng(1).normal(0, 0.5, 30))
    person = PatientSeries("P", date(2026, 1, 1), DailyPain(np.arange(-14, 30), np.full(44, 6.)),
                           _sessions(30, relief, amplitude), as_of_day=29, sessions_per_week=7)
    effects = {e.parameter: e for e in dose_response(person).effects}
    assert effects["amplitude_ma"].fit.slope == pytest.approx(0.15, abs=0.05)
    assert effects["amplitude_ma"].fit.p_two_sided < 0.01
    assert effects["frequency_hz"].fit is None  # it never varied: no claim


def test_relief_and_its_persistence_match_the_virtual_persons_truth():
    truth = draw_patient("R1", np.random.default_rng(4), kind="responder")
    person = simulate_patient(truth, np.random.default_rng(5))
    summary = relief_summary(person.series)
    assert summary.mean_relief_nrs == pytest.approx(truth.max_relief_nrs, abs=0.5)
    assert summary.persistence_fraction == pytest.approx(truth.persistence, abs=0.25)
    adherence = dose_response(person.series).adherence
    assert adherence.share_of_prescribed == pytest.approx(truth.adherence, abs=0.12)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (17, 40), (1, 1000)])
def test_binomial_intervals_match_scipys_independent_implementation(k, n):
    reference = stats.binomtest(k, n)
    assert wilson_interval(k, n) == pytest.approx(
        tuple(reference.proportion_ci(method="wilson")), abs=1e-9)
    assert clopper_pearson_interval(k, n) == pytest.approx(
        tuple(reference.proportion_ci(method="exact")), abs=1e-9)


def test_poisson_interval_of_zero_events_has_the_textbook_upper_bound():
    low, high = poisson_rate_interval(0, 100)
    assert low == 0 and high == pytest.approx(3.689 / 100, abs=1e-4)


def test_population_summary_counts_only_assessable_people_in_the_rates():
    summary = summarise(["moderate", "substantial", "non_responder", "not_enough_data", "faded"],
                        [1.0, 0.5, 0.8, np.nan, 0.9], sessions=400, adverse_events=2)
    assert summary.assessable == 4
    assert summary.responders.count == 2 and summary.responders.rate == 0.5
    assert summary.adverse_events_per_100_sessions == 0.5
    assert summary.adherence_median == pytest.approx(0.85)
