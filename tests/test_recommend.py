"""Recommendation: verified, placement-aware suggestions for the example patients (HAZ-021)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stimwise.clinical.examples import example_names, example_patient_path
from stimwise.clinical.intake import Intake
from stimwise.clinical.knowledge import knowledge
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.recommend import recommend
from stimwise.clinical.ruledoc import rules_markdown
from stimwise.clinical.rules import screening_rules
from stimwise.clinical.screening import screen
from stimwise.protocol.io import load_model_file, validate_model
from stimwise.safety.caps import LEVEL_ORDER
from stimwise.safety.verify import verify


@cache
def example(name: str) -> Intake:
    return load_model_file(Intake, example_patient_path(name))


@cache
def report_of(name: str) -> RecommendationReport:
    return recommend(example(name))


def electrode_sites(recommendation) -> set[str]:
    return {e.site for ch in recommendation.prescription.channels for e in ch.electrodes}


@pytest.mark.parametrize("name", example_names())
def test_HAZ021_every_recommendation_passes_the_gate_with_the_screening_caps(name):
    intake = example(name)
    screening = screen(intake)
    for r in report_of(name).recommendations:
        report = verify(r.prescription, caps=screening.caps)
        assert report.verdict in ("pass", "warn"), (r.protocol_id, report.findings)
        assert report.verdict == r.safety_verdict
        sites = electrode_sites(r)
        assert not sites & set(screening.forbidden_sites)
        assert not sites & intake.allodynic_sites
        level = r.prescription.protocol.intensity.level
        for site in sites & set(screening.site_max_level):
            assert LEVEL_ORDER[level] <= LEVEL_ORDER[screening.site_max_level[site]]


@pytest.mark.parametrize("name", example_names())
def test_recommendations_are_ranked_by_score(name):
    recommendations = report_of(name).recommendations
    assert [r.rank for r in recommendations] == list(range(1, len(recommendations) + 1))
    assert [r.score for r in recommendations] == sorted(
        (r.score for r in recommendations), reverse=True
    )


def test_crps_with_allodynia_gets_gentle_sensory_tens_on_the_proximal_nerve_trunk():
    report = report_of("crps-allodynia")
    top = report.recommendations[0]
    assert top.protocol_id == "crps-gentle-sensory"
    assert top.placement.template_ids == ("UL-PROXIMAL-TRUNK",)
    assert electrode_sites(top) == {"left_upper_arm_anterior", "left_elbow"}
    assert any("allodynic skin" in line for line in top.rationale)
    assert any("UL-LOCAL-FOREARM" in refused and "SR-ALLODYNIA" in refused
               for refused in top.placement.rejected_alternatives)
    assert any("Flare signs" in item for item in top.monitoring)
    assert {r.protocol_id for r in report.recommendations} <= {
        "crps-gentle-sensory", "conventional-tens"
    }


def test_HAZ018_neuropathy_with_insensate_feet_is_treated_from_sites_with_normal_sensation():
    intake = example("diabetic-neuropathy-insensate-feet")
    report = report_of("diabetic-neuropathy-insensate-feet")
    assert report.recommendations, report.not_recommended
    top = report.recommendations[0]
    assert top.protocol_id == "conventional-tens"
    assert top.evidence.grade == "guideline"
    for r in report.recommendations:
        assert all(intake.sensation_at(site) == "normal" for site in electrode_sites(r))
        assert r.intensity.supervised_first_session
    refused = {n.protocol_id: n.reasons for n in report.not_recommended}
    assert "patient.site-max-level" not in str(refused)  # reasons are the gate's messages
    assert "cap 'sensory'" in " ".join(refused["hf-ems-neuropathy"])


def test_pacemaker_without_clearance_gets_no_recommendation_and_a_reason():
    report = report_of("pacemaker")
    assert report.screening_decision == "needs_specialist_clearance"
    assert report.recommendations == ()
    assert "CI-CARDIAC-DEVICE" in report.notes[0]


def test_pregnant_low_back_pain_gets_nothing_and_says_why():
    report = report_of("pregnant-low-back-pain")
    assert report.recommendations == ()
    reasons = {n.protocol_id: " ".join(n.reasons) for n in report.not_recommended}
    assert "against" in reasons["conventional-tens"]
    assert "Level A" in reasons["conventional-tens"]
    assert report.notes and "Consider other treatments" in report.notes[0]


def test_cipn_treats_arms_and_legs_and_names_the_limb_it_cannot_reach():
    report = report_of("cipn-hands-feet")
    by_id = {r.protocol_id: r for r in report.recommendations}
    assert by_id["hf-ems-neuropathy"].rank == 1  # RCT in CIPN (Sassmann 2024)
    hf = by_id["hf-ems-neuropathy"]
    assert any("Not reached: the left lower limb" in line for line in hf.rationale)
    assert not any(site.startswith("left_") for site in electrode_sites(hf))
    tens = by_id["conventional-tens"]
    regions = {ch.label for ch in tens.prescription.channels}
    assert {"left proximal nerve trunk", "right proximal nerve trunk"} <= regions
    assert not electrode_sites(tens) & {"left_calf", "left_knee", "left_leg_anterior"}


def test_contralateral_placement_is_never_used_when_both_sides_are_affected():
    for name in example_names():
        for r in report_of(name).recommendations:
            assert not any(t.endswith("CONTRALATERAL") for t in r.placement.template_ids) or (
                len(set(r.placement.sides)) == 1
            )


def test_recommendation_texts_promise_no_relief():
    for name in example_names():
        for r in report_of(name).recommendations:
            text = " ".join(r.rationale).lower()
            assert "will relieve" not in text and "cure" not in text


# --------------------------------------------------------------------------- property


def _with_open_wounds(intake: Intake, sites: list[str]) -> Intake:
    data = intake.model_dump(mode="json")
    data["skin"] = [*data["skin"], *({"site": s, "finding": "open_wound"} for s in sites)]
    return validate_model(Intake, data)


@pytest.mark.parametrize("name", ["crps-allodynia", "diabetic-neuropathy-insensate-feet"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_HAZ021_removing_an_allowed_site_never_adds_a_recommendation_there(name, data):
    before = report_of(name)
    used = sorted({s for r in before.recommendations for s in electrode_sites(r)})
    allowed = screen(example(name)).allowed_sites
    removed = data.draw(
        st.lists(st.sampled_from(sorted({*used, *allowed[:20]})), min_size=1, max_size=3,
                 unique=True)
    )
    after = recommend(_with_open_wounds(example(name), removed))
    assert {r.protocol_id for r in after.recommendations} <= {
        r.protocol_id for r in before.recommendations
    }
    for r in after.recommendations:
        assert not electrode_sites(r) & set(removed)


def test_clinical_rules_doc_matches_the_rule_book():
    generated = rules_markdown(screening_rules(), knowledge())
    on_disk = (Path(__file__).parents[1] / "docs" / "clinical-rules.md").read_text("utf-8")
    regenerate = "python -m stimwise.clinical.ruledoc > docs/clinical-rules.md"
    assert on_disk == generated, f"regenerate with: {regenerate}"


def test_a_placement_names_each_site_once_with_its_number_of_electrodes():
    """Issue 17, defect 9: the HF-EMS thigh channel (two pads on the anterior thigh, one on the
    posterior) read "right thigh anterior + right thigh anterior + right thigh posterior"."""
    hf = next(r for r in report_of("cipn-hands-feet").recommendations
              if r.protocol_id == "hf-ems-neuropathy")
    texts = [ch.sites_text for ch in hf.placement.channels]
    assert "right thigh anterior (2 electrodes) + right thigh posterior" in texts
    for name in example_names():
        for r in report_of(name).recommendations:
            for channel in (*r.placement.channels, *r.prescription.channels):
                named = channel.sites_text.split(" + ")
                assert len(named) == len(set(named)) == len({e.site for e in channel.electrodes})
