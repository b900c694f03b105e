"""Next-dose suggestions: inside the locked ranges and caps, verified, and only suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimwise.analysis.cohort import draw_patient
from stimwise.analysis.insilico import run_trial, tuning_candidates
from stimwise.analysis.series import Sessions
from stimwise.analysis.tuning import (
    CandidateSet,
    NoSafeDoseError,
    propose_next_dose,
    recommended_dose,
)
from stimwise.errors import InputError, UnverifiedPlanError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records.inputs import LockedRanges, ValueSpan
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan
from stimwise.safety.verify import verify

TINY_PADS = Prescription.from_protocol(get_protocol("conventional-tens"), electrode_area_cm2=0.5)
"""0.5 cm² pads: at 100 mA and 250 µs the FDA power-density limit blocks (a real block)."""
WIDE = LockedRanges(amplitude_ma=ValueSpan(min=30, max=100),
                    phase_width_us=ValueSpan(min=100, max=250))


def _history(rng, count, candidates):
    picks = candidates.grid[rng.integers(0, len(candidates.grid), count)]
    columns = dict(zip(candidates.names, picks.T, strict=True))
    relief = rng.integers(0, 5, count).astype(float)
    return Sessions(
        day=np.arange(count),
        amplitude_ma=columns.get("amplitude_ma", np.full(count, 30.0)),
        phase_width_us=columns.get("phase_width_us", np.full(count, 100.0)),
        frequency_hz=np.full(count, 100.0), minutes=np.full(count, 30.0),
        nrs_pre=np.full(count, 6.0), nrs_post=6.0 - relief,
    )


@pytest.fixture(scope="module")
def tiny_pad_candidates():
    return CandidateSet(TINY_PADS, WIDE)


def test_HAZ050_the_blocked_corner_exists_so_the_next_tests_mean_something(tiny_pad_candidates):
    blocked = TINY_PADS.with_dose(amplitude_ma=100, phase_width_us=250)
    assert verify(blocked).verdict == "block"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), count=st.integers(0, 25),
       cap_ma=st.one_of(st.none(), st.floats(35, 120)))
def test_HAZ050_every_proposal_is_verified_inside_the_ranges_and_caps(seed, count, cap_ma):
    caps = None if cap_ma is None else PatientCaps(max_amplitude_ma=cap_ma)
    candidates = CandidateSet(TINY_PADS, WIDE, caps)
    rng = np.random.default_rng(seed)
    proposal = propose_next_dose(candidates, _history(rng, count, candidates), rng)
    rx = proposal.prescription
    assert 30 <= rx.max_amplitude_ma <= min(100, cap_ma or 100)
    assert 100 <= rx.protocol.waveform.pulse.phase_width_us <= 250
    report = verify(rx, caps=caps)
    assert report.verdict != "block"
    assert proposal.verdict != "block" and len(proposal.plan_fingerprint) == 64


def test_HAZ050_a_blocked_candidate_is_never_proposed_even_when_it_looks_best(
        tiny_pad_candidates):
    """History says the blocked corner gives by far the most relief; the tuner still never
    suggests it."""
    rng = np.random.default_rng(0)
    n = 12
    history = Sessions(
        day=np.arange(n), amplitude_ma=np.full(n, 100.0), phase_width_us=np.full(n, 250.0),
        frequency_hz=np.full(n, 100.0), minutes=np.full(n, 30.0),
        nrs_pre=np.full(n, 8.0), nrs_post=np.full(n, 0.0),
    )
    for _ in range(30):
        proposal = propose_next_dose(tiny_pad_candidates, history, rng)
        assert proposal.dose != {"amplitude_ma": 100.0, "phase_width_us": 250.0}
    assert recommended_dose(tiny_pad_candidates, history).verdict != "block"


def test_HAZ050_when_every_candidate_is_blocked_no_dose_is_suggested():
    caps = PatientCaps(forbidden_sites={"left_knee": "open wound"})
    candidates = CandidateSet(Prescription.from_protocol(get_protocol("conventional-tens")),
                              LockedRanges(amplitude_ma=ValueSpan(min=10, max=30)), caps)
    with pytest.raises(NoSafeDoseError, match="blocked"):
        propose_next_dose(candidates, Sessions.empty(), np.random.default_rng(0))


def test_HAZ050_a_locked_range_above_the_cap_is_refused_with_the_reason():
    with pytest.raises(NoSafeDoseError, match="cap of 20"):
        CandidateSet(TINY_PADS, WIDE, PatientCaps(max_amplitude_ma=20))



def test_HAZ054_a_proposal_is_a_suggestion_until_a_clinician_accepts_it(tiny_pad_candidates):
    proposal = propose_next_dose(tiny_pad_candidates, Sessions.empty(), np.random.default_rng(1))
    document = proposal.to_dict()
    assert document["status"] == "suggested" and document["requires_acceptance"]
    public = [getattr(proposal, n) for n in dir(proposal) if not n.startswith("_")]
    assert not any(isinstance(v, VerifiedPlan) for v in public)
    with pytest.raises(InputError, match="accepted_by"):
        proposal.accept("  ")
    plan = proposal.accept("dr-lee")
    assert isinstance(plan, VerifiedPlan) and proposal.status == "accepted"
    assert proposal.accepted_by == "dr-lee"


def test_HAZ054_a_proposal_cannot_be_built_around_a_blocked_report():
    blocked = verify(TINY_PADS.with_dose(amplitude_ma=100, phase_width_us=250))
    from stimwise.analysis.tuning import DoseProposal

    with pytest.raises(UnverifiedPlanError):
        DoseProposal({}, blocked, 0.0, 1.0, 0, "forged")


def test_the_tuner_finds_a_virtual_persons_best_dose_faster_than_a_fixed_protocol():
    """12 dose-dependent virtual responders, 12 sessions each (the benchmark runs 200)."""
    candidates = tuning_candidates()
    tuned, fixed = [], []
    for i in range(12):
        person = draw_patient(f"T{i}", np.random.default_rng(i), kind="dose_dependent_responder")
        trial = run_trial(person, "thompson", 12, np.random.default_rng(100 + i), candidates)
        tuned.append(trial.recommended_share[-1])
        fixed.append(run_trial(person, "fixed", 12, np.random.default_rng(100 + i),
                               candidates).recommended_share[-1])
    assert np.median(tuned) >= 0.9
    assert np.median(tuned) > np.median(fixed)
