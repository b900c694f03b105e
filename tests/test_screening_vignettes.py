"""Contraindication screening, case by case: small clinical vignettes with the decision, the rules
that must fire and the sites they must forbid or cap. Every rule of the rule book has at least one
vignette; test names carry the hazard ids of docs/safety/hazards.md (HAZ-014 ... HAZ-022)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from builders import channel_dict, make_prescription
from intake_builders import (
    ASSESSED_ON,
    allodynia,
    arterial,
    clearance,
    crps,
    fired,
    implant,
    make_intake,
    malignancy,
    neuropathy,
    screen_of,
    sensation,
    skin,
    surgery,
    thrombosis,
    worn,
)
from stimwise.clinical.intake import Intake
from stimwise.clinical.labels import label_path
from stimwise.clinical.rules import screening_rules
from stimwise.clinical.screening import DECISION_ORDER, screen, unknown_action
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.errors import InputError
from stimwise.protocol.body_sites import SITE_NAMES, expand_sites
from stimwise.protocol.io import load_model_file
from stimwise.safety import verify

EXAMPLE = Path(__file__).parents[1] / "examples" / "patients" / "crps-allodynia.yaml"
RULES = screening_rules().by_id
UNIVERSAL_BANS = {"left_eye", "right_eye", "left_neck_anterior", "right_neck_anterior"}
_UNSET = object()

TRUNK_AND_NECK = expand_sites("trunk") | expand_sites("neck")
HEAD_AND_NECK = expand_sites("head") | expand_sites("neck")


@dataclass(frozen=True)
class Vignette:
    """One person: what differs from the healthy base intake, and what screening must say."""

    overrides: dict
    decision: str
    rules: frozenset[str]
    forbidden: dict[str, str] = field(default_factory=dict)  # site -> rule id that forbids it
    allowed: tuple[str, ...] = ()
    levels: dict[str, str] = field(default_factory=dict)  # site -> site_max_level
    max_level: object = _UNSET
    supervised: bool | None = None
    home_use: bool | None = None
    unknown: tuple[str, ...] = ()
    cleared: tuple[str, ...] = ()


def case(case_id: str, decision: str, rules: set[str] | tuple[str, ...], **fields):
    overrides = fields.pop("intake", {})
    return pytest.param(
        Vignette(overrides=overrides, decision=decision, rules=frozenset(rules), **fields),
        id=case_id,
    )


OK, PREC, CLEAR, NO = (
    "eligible",
    "eligible_with_precautions",
    "needs_specialist_clearance",
    "not_eligible",
)
PACEMAKER = implant("demand_pacemaker", "left_chest")
CARDIAC_DEVICE = {"CI-CARDIAC-DEVICE", "SR-CARDIAC-DEVICE-TRUNK", "SR-IMPLANT-SITE"}

VIGNETTES = [
    # ------------------------------------------------------------------ nothing applies
    case(
        "NONE-healthy-adult-low-back-pain",
        OK,
        set(),
        allowed=("left_lower_back", "left_chest", "left_calf", "left_face"),
        supervised=False,
        home_use=True,
        max_level=None,
    ),
    case(
        "PR-HOME-SLEEP-DRIVING-home-use-not-planned-does-not-fire",
        OK,
        set(),
        intake={
            "home_use": {
                "planned": False,
                "during_sleep": "unknown",
                "while_driving_or_operating_machinery": "unknown",
            }
        },
    ),
    case(
        "SR-SURGERY-FRACTURE-healed-does-not-fire",
        OK,
        set(),
        intake={"surgeries_and_fractures": [surgery("left_wrist", "healed")]},
    ),
    case(
        "SR-MALIGNANCY-in-remission-does-not-fire",
        OK,
        set(),
        intake={"malignancies": [malignancy("left_chest", "in_remission", treatments=["surgery"])]},
        allowed=("left_chest",),
    ),
    case(
        "CI-UNDIAGNOSED-PAIN-pain-next-to-diagnosis-does-not-fire",
        OK,
        set(),
        intake={"pain_sites": ["lumbar_midline", "left_buttock"]},
    ),
    case(
        "SR-CHILD-EPIPHYSES-age-18-does-not-fire",
        OK,
        set(),
        intake={"age_years": 18},
        allowed=("left_knee",),
    ),
    # ------------------------------------------------------------------ implanted devices
    case(
        "CI-CARDIAC-DEVICE-pacemaker-no-clearance",
        CLEAR,
        CARDIAC_DEVICE,
        intake={"implants": [PACEMAKER]},
        forbidden={
            "left_chest": "SR-IMPLANT-SITE",
            "left_abdomen": "SR-CARDIAC-DEVICE-TRUNK",
            "lumbar_midline": "SR-CARDIAC-DEVICE-TRUNK",
            "cervical_midline": "SR-CARDIAC-DEVICE-TRUNK",
            "left_shoulder": "SR-IMPLANT-SITE",
        },
        allowed=("left_forearm_volar", "left_calf", "right_shoulder"),
        supervised=True,
        home_use=False,
    ),
    case(
        "CI-CARDIAC-DEVICE-icd-cleared-by-cardiologist",
        PREC,
        CARDIAC_DEVICE,
        intake={
            "implants": [implant("icd", "left_chest")],
            "clearances": [clearance("CI-CARDIAC-DEVICE")],
        },
        forbidden={
            "right_chest": "SR-CARDIAC-DEVICE-TRUNK",
            "sacral_midline": "SR-CARDIAC-DEVICE-TRUNK",
            "left_upper_back": "SR-CARDIAC-DEVICE-TRUNK",
        },
        allowed=("left_forearm_volar", "right_calf"),
        cleared=("CI-CARDIAC-DEVICE",),
        supervised=True,
        home_use=True,
    ),
    case(
        "CI-CARDIAC-DEVICE-wearable-defibrillator",
        CLEAR,
        {"CI-CARDIAC-DEVICE", "SR-CARDIAC-DEVICE-TRUNK"},
        intake={"implants": [implant("wearable_defibrillator", "thorax")]},
        forbidden={
            "left_chest": "SR-CARDIAC-DEVICE-TRUNK",
            "left_neck_posterior": "SR-CARDIAC-DEVICE-TRUNK",
        },
        allowed=("left_shoulder", "right_thigh_anterior"),
    ),
    case(
        "CI-NEUROSTIMULATOR-spinal-cord-stimulator",
        CLEAR,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-SITE"},
        intake={"implants": [implant("spinal_cord_stimulator", "thoracic_midline")]},
        forbidden={
            "thoracic_midline": "SR-IMPLANT-SITE",
            "lumbar_midline": "SR-IMPLANT-SITE",
            "cervical_midline": "SR-IMPLANT-SITE",
            "left_upper_back": "SR-IMPLANT-SITE",
        },
        allowed=("left_lower_back", "left_chest", "left_calf"),
        supervised=True,
    ),
    case(
        "CI-NEUROSTIMULATOR-drug-pump-cleared",
        PREC,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-SITE"},
        intake={
            "implants": [implant("drug_pump", "left_abdomen")],
            "clearances": [clearance("CI-NEUROSTIMULATOR", role="implanting specialist")],
        },
        forbidden={"left_abdomen": "SR-IMPLANT-SITE", "right_abdomen": "SR-IMPLANT-SITE"},
        allowed=("right_calf", "left_forearm_dorsal"),
        cleared=("CI-NEUROSTIMULATOR",),
        supervised=True,
    ),
    case(
        "SR-IMPLANT-HEAD-cochlear-implant",
        CLEAR,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-HEAD", "SR-IMPLANT-SITE"},
        intake={"implants": [implant("cochlear_implant", "right_head")]},
        forbidden={
            "left_face": "SR-IMPLANT-HEAD",
            "left_neck_posterior": "SR-IMPLANT-HEAD",
            "cervical_midline": "SR-IMPLANT-HEAD",
            "right_head": "SR-IMPLANT-SITE",
        },
        allowed=("left_shoulder", "thoracic_midline"),
    ),
    case(
        "SR-IMPLANT-HEAD-deep-brain-stimulator-cleared",
        PREC,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-HEAD", "SR-IMPLANT-SITE"},
        intake={
            "implants": [implant("deep_brain_stimulator", "head")],
            "clearances": [clearance("CI-NEUROSTIMULATOR", role="neurosurgeon")],
        },
        forbidden={"right_face": "SR-IMPLANT-HEAD", "right_neck_posterior": "SR-IMPLANT-HEAD"},
        allowed=("left_lower_back",),
        cleared=("CI-NEUROSTIMULATOR",),
    ),
    case(
        "SR-IMPLANT-SITE-other-neurostimulator-at-the-knee",
        CLEAR,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-SITE"},
        intake={"implants": [implant("other_neurostimulator", "left_knee")]},
        forbidden={
            "left_knee": "SR-IMPLANT-SITE",
            "left_thigh_anterior": "SR-IMPLANT-SITE",
            "left_calf": "SR-IMPLANT-SITE",
        },
        allowed=("left_ankle", "right_knee"),
    ),
    case(
        "PR-METAL-IMPLANT-knee-replacement",
        PREC,
        {"PR-METAL-IMPLANT"},
        intake={"implants": [implant("metal_implant", "left_knee")]},
        allowed=("left_knee",),
        supervised=False,
        home_use=True,
    ),
    # ------------------------------------------------------------------ heart, brain, pregnancy
    case(
        "CI-RECENT-MI-no-clearance",
        CLEAR,
        {"CI-RECENT-MI", "SR-HEART-DISEASE"},
        intake={"cardiac": {"recent_myocardial_infarction": "yes"}},
        forbidden={"left_chest": "CI-RECENT-MI", "thoracic_midline": "SR-HEART-DISEASE"},
        allowed=("left_lower_back", "left_neck_posterior"),
        home_use=False,
    ),
    case(
        "CI-RECENT-MI-cleared-thorax-stays-forbidden",
        PREC,
        {"CI-RECENT-MI", "SR-HEART-DISEASE"},
        intake={
            "cardiac": {"recent_myocardial_infarction": "yes"},
            "clearances": [clearance("CI-RECENT-MI")],
        },
        forbidden={"left_chest": "SR-HEART-DISEASE", "right_upper_back": "SR-HEART-DISEASE"},
        allowed=("left_calf",),
        cleared=("CI-RECENT-MI",),
    ),
    case(
        "CI-RECENT-MI-unknown",
        CLEAR,
        {"CI-RECENT-MI", "SR-HEART-DISEASE"},
        intake={"cardiac": {"recent_myocardial_infarction": "unknown"}},
        forbidden={"right_chest": "CI-RECENT-MI"},
        unknown=("cardiac.recent_myocardial_infarction",),
    ),
    case(
        "SR-HEART-DISEASE-arrhythmia",
        PREC,
        {"SR-HEART-DISEASE"},
        intake={"cardiac": {"arrhythmia": "yes"}},
        forbidden={"left_chest": "SR-HEART-DISEASE", "thoracic_midline": "SR-HEART-DISEASE"},
        allowed=("left_abdomen", "left_lower_back", "left_shoulder"),
    ),
    case(
        "SR-HEART-DISEASE-heart-failure-unknown",
        PREC,
        {"SR-HEART-DISEASE"},
        intake={"cardiac": {"heart_failure": "unknown"}},
        forbidden={"right_chest": "SR-HEART-DISEASE"},
        unknown=("cardiac.heart_failure",),
    ),
    case(
        "SR-EPILEPSY-yes",
        PREC,
        {"SR-EPILEPSY"},
        intake={"epilepsy": "yes"},
        forbidden={
            "left_head": "SR-EPILEPSY",
            "right_face": "SR-EPILEPSY",
            "cervical_midline": "SR-EPILEPSY",
            "left_neck_posterior": "SR-EPILEPSY",
        },
        allowed=("left_shoulder", "left_upper_back"),
    ),
    case(
        "SR-EPILEPSY-unknown",
        PREC,
        {"SR-EPILEPSY"},
        intake={"epilepsy": "unknown"},
        forbidden={"left_head": "SR-EPILEPSY"},
        unknown=("epilepsy",),
    ),
    case(
        "SR-PREGNANCY-pregnant",
        PREC,
        {"SR-PREGNANCY"},
        intake={"pregnancy": "pregnant", "gestational_age_weeks": 20},
        forbidden={
            "left_abdomen": "SR-PREGNANCY",
            "lower_abdomen_midline": "SR-PREGNANCY",
            "left_lower_back": "SR-PREGNANCY",
            "sacral_midline": "SR-PREGNANCY",
            "right_hip": "SR-PREGNANCY",
            "right_buttock": "SR-PREGNANCY",
        },
        allowed=("left_chest", "left_upper_back", "left_thigh_anterior", "left_calf"),
    ),
    case(
        "SR-PREGNANCY-possible",
        PREC,
        {"SR-PREGNANCY"},
        intake={"pregnancy": "possible", "gestational_age_weeks": 14},
        forbidden={"lumbar_midline": "SR-PREGNANCY"},
        unknown=("pregnancy",),
    ),
    case(
        "SR-PREGNANCY-PR-PREGNANCY-EARLY-unknown",
        PREC,
        {"SR-PREGNANCY", "PR-PREGNANCY-EARLY"},
        intake={"pregnancy": "unknown"},
        forbidden={"right_abdomen": "SR-PREGNANCY"},
        unknown=("gestational_age_weeks", "pregnancy"),
    ),
    case(
        "SR-PREGNANCY-male-with-sex-note",
        PREC,
        {"SR-PREGNANCY"},
        intake={"sex": "male", "pregnancy": "pregnant", "sex_note": "trans man, 20 weeks pregnant",
                "gestational_age_weeks": 20},
        forbidden={"left_abdomen": "SR-PREGNANCY"},
    ),
    # ------------------------------------------------------------------ vessels, tumours
    case(
        "CI-ACTIVE-THROMBOSIS-dvt-left-calf",
        CLEAR,
        {"CI-ACTIVE-THROMBOSIS", "SR-ACTIVE-THROMBOSIS-LIMB"},
        intake={"thromboses": [thrombosis("left_calf")]},
        forbidden={
            "left_foot_dorsal": "SR-ACTIVE-THROMBOSIS-LIMB",
            "left_thigh_posterior": "SR-ACTIVE-THROMBOSIS-LIMB",
            "left_calf": "SR-ACTIVE-THROMBOSIS-LIMB",
        },
        allowed=("right_calf", "left_forearm_volar"),
    ),
    case(
        "CI-ACTIVE-THROMBOSIS-thrombophlebitis-arm-cleared",
        PREC,
        {"CI-ACTIVE-THROMBOSIS", "SR-ACTIVE-THROMBOSIS-LIMB"},
        intake={
            "thromboses": [thrombosis("left_forearm", kind="thrombophlebitis")],
            "clearances": [clearance("CI-ACTIVE-THROMBOSIS", role="haematologist")],
        },
        forbidden={
            "left_fingers": "SR-ACTIVE-THROMBOSIS-LIMB",
            "left_shoulder": "SR-ACTIVE-THROMBOSIS-LIMB",
        },
        allowed=("right_forearm_volar", "left_calf"),
        cleared=("CI-ACTIVE-THROMBOSIS",),
    ),
    case(
        "SR-ACTIVE-THROMBOSIS-LIMB-whole-leg-selector",
        CLEAR,
        {"CI-ACTIVE-THROMBOSIS", "SR-ACTIVE-THROMBOSIS-LIMB"},
        intake={"thromboses": [thrombosis("right_lower_limb")]},
        forbidden={
            "right_toes": "SR-ACTIVE-THROMBOSIS-LIMB",
            "right_thigh_anterior": "SR-ACTIVE-THROMBOSIS-LIMB",
        },
        allowed=("left_toes",),
    ),
    case(
        "SR-PAST-THROMBOSIS-old-dvt",
        PREC,
        {"SR-PAST-THROMBOSIS"},
        intake={"thromboses": [thrombosis("right_calf", "past")]},
        forbidden={
            "right_calf": "SR-PAST-THROMBOSIS",
            "right_knee": "SR-PAST-THROMBOSIS",
            "right_ankle": "SR-PAST-THROMBOSIS",
            "right_leg_anterior": "SR-PAST-THROMBOSIS",
        },
        allowed=("right_thigh_anterior", "right_foot_dorsal", "left_calf"),
    ),
    case(
        "SR-MALIGNANCY-active-thigh",
        PREC,
        {"SR-MALIGNANCY"},
        intake={"malignancies": [malignancy("left_thigh_anterior")]},
        forbidden={
            "left_thigh_anterior": "SR-MALIGNANCY",
            "left_knee": "SR-MALIGNANCY",
            "left_hip": "SR-MALIGNANCY",
        },
        allowed=("left_calf", "right_thigh_anterior"),
    ),
    case(
        "SR-MALIGNANCY-suspected-arm",
        PREC,
        {"SR-MALIGNANCY"},
        intake={"malignancies": [malignancy("right_upper_arm_anterior", "suspected")]},
        forbidden={
            "right_upper_arm_anterior": "SR-MALIGNANCY",
            "right_elbow": "SR-MALIGNANCY",
            "right_shoulder": "SR-MALIGNANCY",
        },
        allowed=("right_forearm_volar", "left_upper_arm_anterior"),
    ),
    case(
        "SR-MALIGNANCY-palliative-clearance",
        PREC,
        {"SR-MALIGNANCY"},
        intake={
            "malignancies": [malignancy("left_lower_back", palliative_care=True)],
            "clearances": [
                clearance(
                    "SR-MALIGNANCY",
                    role="palliative-care physician",
                    note="palliative TENS for bone pain agreed",
                )
            ],
        },
        allowed=("left_lower_back", "lumbar_midline"),
        cleared=("SR-MALIGNANCY",),
    ),
    case(
        "SR-IRRADIATED-radiotherapy-3-months-ago",
        PREC,
        {"SR-IRRADIATED"},
        intake={
            "malignancies": [
                malignancy(
                    "left_chest",
                    "in_remission",
                    treatments=["surgery", "radiotherapy"],
                    radiotherapy_ended_on="2026-08-01",
                )
            ]
        },
        forbidden={"left_chest": "SR-IRRADIATED"},
        allowed=("left_upper_back", "right_chest", "left_shoulder"),
    ),
    case(
        "SR-IRRADIATED-end-date-missing",
        PREC,
        {"SR-IRRADIATED"},
        intake={
            "malignancies": [
                malignancy(
                    "right_thigh_anterior",
                    "in_remission",
                    treatments=["radiotherapy"],
                    irradiated_sites=["right_thigh"],
                )
            ]
        },
        forbidden={
            "right_thigh_anterior": "SR-IRRADIATED",
            "right_thigh_posterior": "SR-IRRADIATED",
        },
        allowed=("right_knee",),
        unknown=("malignancies.0.radiotherapy_ended_on",),
    ),
    case(
        "SR-IRRADIATED-active-tumour-and-recent-field",
        PREC,
        {"SR-MALIGNANCY", "SR-IRRADIATED"},
        intake={
            "malignancies": [
                malignancy(
                    "right_chest",
                    treatments=["radiotherapy"],
                    radiotherapy_ended_on="2026-10-01",
                    irradiated_sites=["right_chest", "right_upper_back"],
                )
            ]
        },
        forbidden={"right_chest": "SR-MALIGNANCY", "right_upper_back": "SR-IRRADIATED"},
    ),
    case(
        "SR-IRRADIATED-radiotherapy-over-6-months-ago-does-not-fire",
        OK,
        set(),
        intake={
            "malignancies": [
                malignancy(
                    "left_chest",
                    "in_remission",
                    treatments=["radiotherapy"],
                    radiotherapy_ended_on="2026-04-01",
                )
            ]
        },
        allowed=("left_chest",),
    ),
    # ------------------------------------------------------------------ skin and sensation
    case(
        "SR-SKIN-DAMAGED-open-wound-calf",
        PREC,
        {"SR-SKIN-DAMAGED"},
        intake={"skin": [skin("left_calf", "open_wound")]},
        forbidden={"left_calf": "SR-SKIN-DAMAGED"},
        allowed=("left_ankle", "left_knee"),
    ),
    case(
        "SR-SKIN-DAMAGED-swollen-foot-selector",
        PREC,
        {"SR-SKIN-DAMAGED"},
        intake={"skin": [skin("right_foot", "swelling"), skin("right_knee", "dermatitis")]},
        forbidden={
            "right_toes": "SR-SKIN-DAMAGED",
            "right_foot_plantar": "SR-SKIN-DAMAGED",
            "right_knee": "SR-SKIN-DAMAGED",
        },
        allowed=("right_ankle",),
    ),
    case(
        "PR-SCAR-surgical-scar-knee",
        PREC,
        {"PR-SCAR"},
        intake={"skin": [skin("right_knee", "scar")]},
        allowed=("right_knee",),
    ),
    case(
        "SR-ALLODYNIA-crps-hand",
        PREC,
        {"PR-CRPS-FLARE", "SR-ALLODYNIA"},
        intake={
            "diagnoses": [crps("left_hand", "left_wrist")],
            "allodynia": [allodynia("left_hand")],
        },
        forbidden={"left_hand_dorsal": "SR-ALLODYNIA", "left_fingers": "SR-ALLODYNIA"},
        allowed=("left_wrist", "left_forearm_volar", "right_hand_dorsal"),
        supervised=False,
    ),
    case(
        "SR-SENSATION-ABSENT-insensate-foot",
        PREC,
        {"SR-SENSATION-ABSENT"},
        intake={"sensation": [sensation("left_foot", "absent")]},
        levels={"left_foot_plantar": "subsensory", "left_toes": "subsensory"},
        allowed=("left_foot_plantar",),
        supervised=True,
        home_use=True,
    ),
    case(
        "PR-SENSATION-REDUCED-tested-foot",
        PREC,
        {"PR-SENSATION-REDUCED"},
        intake={"sensation": [sensation("right_foot", "reduced")]},
        levels={"right_foot_dorsal": "sensory", "right_toes": "sensory"},
        supervised=True,
    ),
    case(
        "PR-SENSATION-REDUCED-untested-neuropathy-sites",
        PREC,
        {"PR-NEUROPATHY", "PR-SENSATION-REDUCED"},
        intake={"diagnoses": [neuropathy("left_foot", "right_foot")]},
        levels={"left_toes": "sensory", "right_foot_plantar": "sensory"},
        supervised=True,
        unknown=("diagnoses.0.affected_sites",),
    ),
    case(
        "PR-NEUROPATHY-sensation-tested-normal",
        PREC,
        {"PR-NEUROPATHY"},
        intake={
            "diagnoses": [neuropathy("left_foot", cause="chemotherapy_induced")],
            "sensation": [sensation("left_foot", "normal")],
        },
        supervised=True,
    ),
    case(
        "PR-SENSATION-REDUCED-and-absent-worst-wins",
        PREC,
        {"PR-NEUROPATHY", "PR-SENSATION-REDUCED", "SR-SENSATION-ABSENT"},
        intake={
            "diagnoses": [neuropathy("left_foot")],
            "sensation": [sensation("left_foot", "reduced"), sensation("left_toes", "absent")],
        },
        levels={"left_toes": "subsensory", "left_foot_dorsal": "sensory"},
    ),
    # ------------------------------------------------------------------ the person
    case(
        "CI-CANNOT-REPORT-no",
        NO,
        {"CI-CANNOT-REPORT"},
        intake={"can_report_sensations": "no"},
        home_use=False,
    ),
    case(
        "CI-CANNOT-REPORT-unknown",
        NO,
        {"CI-CANNOT-REPORT"},
        intake={"can_report_sensations": "unknown"},
        home_use=False,
        unknown=("can_report_sensations",),
    ),
    case(
        "CI-UNTREATED-BLEEDING",
        NO,
        {"CI-UNTREATED-BLEEDING"},
        intake={"bleeding_tendency": "untreated"},
        home_use=False,
        max_level="sensory",
    ),
    case(
        "PR-BLEEDING-TENDENCY-controlled",
        PREC,
        {"PR-BLEEDING-TENDENCY"},
        intake={"bleeding_tendency": "controlled"},
        max_level="sensory",
    ),
    case(
        "PR-BLEEDING-TENDENCY-unknown",
        PREC,
        {"PR-BLEEDING-TENDENCY"},
        intake={"bleeding_tendency": "unknown"},
        max_level="sensory",
        unknown=("bleeding_tendency",),
    ),
    case(
        "PR-BLEEDING-TENDENCY-cleared-for-motor",
        PREC,
        {"PR-BLEEDING-TENDENCY"},
        intake={
            "bleeding_tendency": "controlled",
            "clearances": [clearance("PR-BLEEDING-TENDENCY", role="treating physician")],
        },
        max_level=None,
        cleared=("PR-BLEEDING-TENDENCY",),
    ),
    case(
        "SR-SURGERY-FRACTURE-healing-wrist",
        PREC,
        {"SR-SURGERY-FRACTURE"},
        intake={"surgeries_and_fractures": [surgery("right_wrist", occurred_on="2026-09-20")]},
        levels={
            "right_wrist": "sensory",
            "right_forearm_volar": "sensory",
            "right_hand_dorsal": "sensory",
        },
        allowed=("right_wrist",),
    ),
    case(
        "SR-SURGERY-FRACTURE-healing-unknown",
        PREC,
        {"SR-SURGERY-FRACTURE"},
        intake={"surgeries_and_fractures": [surgery("left_knee", "unknown", kind="surgery")]},
        levels={"left_knee": "sensory", "left_thigh_anterior": "sensory"},
        unknown=("surgeries_and_fractures.0.healing",),
    ),
    case(
        "CI-UNDIAGNOSED-PAIN-knee",
        CLEAR,
        {"CI-UNDIAGNOSED-PAIN"},
        intake={"pain_sites": ["right_knee"]},
        home_use=False,
    ),
    case(
        "CI-UNDIAGNOSED-PAIN-cleared",
        PREC,
        {"CI-UNDIAGNOSED-PAIN"},
        intake={
            "pain_sites": ["right_knee"],
            "clearances": [clearance("CI-UNDIAGNOSED-PAIN", role="general practitioner")],
        },
        cleared=("CI-UNDIAGNOSED-PAIN",),
    ),
    case(
        "SR-CHILD-EPIPHYSES-age-12",
        PREC,
        {"SR-CHILD-EPIPHYSES"},
        intake={"age_years": 12, "pregnancy": "not_applicable"},
        forbidden={
            "left_knee": "SR-CHILD-EPIPHYSES",
            "right_wrist": "SR-CHILD-EPIPHYSES",
            "left_shoulder": "SR-CHILD-EPIPHYSES",
            "right_hip": "SR-CHILD-EPIPHYSES",
        },
        allowed=("left_calf", "left_forearm_dorsal"),
        supervised=True,
    ),
    case(
        "PR-HOME-SLEEP-DRIVING-sleep-yes",
        PREC,
        {"PR-HOME-SLEEP-DRIVING"},
        intake={"home_use": {"during_sleep": "yes"}},
    ),
    case(
        "PR-HOME-SLEEP-DRIVING-driving-unknown",
        PREC,
        {"PR-HOME-SLEEP-DRIVING"},
        intake={"home_use": {"while_driving_or_operating_machinery": "unknown"}},
        unknown=("home_use.while_driving_or_operating_machinery",),
    ),
    case(
        "PR-CRPS-FLARE-crps-type-II",
        PREC,
        {"PR-CRPS-FLARE"},
        intake={"diagnoses": [crps("right_foot", "right_ankle", crps_type="II")]},
        allowed=("right_foot_dorsal",),
        supervised=False,
        home_use=True,
    ),
    # ------------------------------------------------------------------ interactions
    case(
        "PR-NEUROPATHY-SR-PREGNANCY-CI-ACTIVE-THROMBOSIS-interaction",
        CLEAR,
        {
            "PR-NEUROPATHY",
            "PR-SENSATION-REDUCED",
            "SR-PREGNANCY",
            "CI-ACTIVE-THROMBOSIS",
            "SR-ACTIVE-THROMBOSIS-LIMB",
        },
        intake={
            "diagnoses": [neuropathy("left_foot", "right_foot")],
            "sensation": [sensation("left_foot", "reduced"), sensation("right_foot", "reduced")],
            "pregnancy": "pregnant",
            "gestational_age_weeks": 30,
            "thromboses": [thrombosis("left_calf")],
        },
        forbidden={
            "left_foot_dorsal": "SR-ACTIVE-THROMBOSIS-LIMB",
            "left_abdomen": "SR-PREGNANCY",
            "sacral_midline": "SR-PREGNANCY",
        },
        levels={"right_toes": "sensory"},
        allowed=("right_calf", "right_foot_dorsal"),
        supervised=True,
        home_use=False,
    ),
    case(
        "CI-CARDIAC-DEVICE-SR-EPILEPSY-pacemaker-and-epilepsy-cleared",
        PREC,
        CARDIAC_DEVICE | {"SR-EPILEPSY"},
        intake={
            "implants": [PACEMAKER],
            "epilepsy": "yes",
            "clearances": [clearance("CI-CARDIAC-DEVICE")],
        },
        forbidden={
            "left_head": "SR-EPILEPSY",
            "cervical_midline": "SR-EPILEPSY",
            "lumbar_midline": "SR-CARDIAC-DEVICE-TRUNK",
        },
        allowed=("left_forearm_volar", "right_calf", "right_shoulder"),
        cleared=("CI-CARDIAC-DEVICE",),
        supervised=True,
    ),
    case(
        "SR-ALLODYNIA-SR-SURGERY-FRACTURE-crps-after-fracture",
        PREC,
        {"PR-CRPS-FLARE", "SR-ALLODYNIA", "SR-SURGERY-FRACTURE"},
        intake={
            "diagnoses": [crps("left_hand", "left_wrist", "left_forearm")],
            "allodynia": [allodynia("left_hand"), allodynia("left_forearm_dorsal")],
            "surgeries_and_fractures": [surgery("left_wrist", occurred_on="2026-08-15")],
        },
        forbidden={"left_hand_palmar": "SR-ALLODYNIA", "left_forearm_dorsal": "SR-ALLODYNIA"},
        levels={"left_wrist": "sensory", "left_forearm_volar": "sensory"},
        allowed=("left_forearm_volar", "left_upper_arm_anterior", "right_hand_dorsal"),
    ),
    case(
        "SR-MALIGNANCY-SR-IRRADIATED-palliative-clearance-keeps-irradiated-ban",
        PREC,
        {"SR-MALIGNANCY", "SR-IRRADIATED"},
        intake={
            "malignancies": [
                malignancy(
                    "right_thigh_anterior",
                    palliative_care=True,
                    treatments=["radiotherapy"],
                    radiotherapy_ended_on="2026-09-01",
                )
            ],
            "clearances": [clearance("SR-MALIGNANCY", role="palliative-care physician")],
        },
        forbidden={"right_thigh_anterior": "SR-IRRADIATED"},
        allowed=("right_knee", "right_thigh_posterior"),
        cleared=("SR-MALIGNANCY",),
    ),
    # ------------------------------------------------------------------ format 2 facts (HAZ-150..)
    case(
        "SR-ARTERIAL-DISEASE-not-severe-left-foot",
        PREC,
        {"SR-ARTERIAL-DISEASE"},
        intake={"arterial_disease": [arterial("left_foot", "not_severe")]},
        forbidden={"left_foot_dorsal": "SR-ARTERIAL-DISEASE", "left_toes": "SR-ARTERIAL-DISEASE"},
        allowed=("left_calf", "left_ankle", "right_foot_dorsal"),
        supervised=False,
    ),
    case(
        "SR-ARTERIAL-SEVERE-left-calf-closes-the-limb",
        PREC,
        {"SR-ARTERIAL-DISEASE", "SR-ARTERIAL-SEVERE"},
        intake={"arterial_disease": [arterial("left_calf", "severe")]},
        forbidden={"left_calf": "SR-ARTERIAL-DISEASE", "left_thigh_anterior": "SR-ARTERIAL-SEVERE",
                   "left_foot_plantar": "SR-ARTERIAL-SEVERE"},
        allowed=("right_calf", "left_forearm_volar"),
        supervised=True,
    ),
    case(
        "SR-ARTERIAL-SEVERE-severity-unknown",
        PREC,
        {"SR-ARTERIAL-DISEASE", "SR-ARTERIAL-SEVERE"},
        intake={"arterial_disease": [arterial("right_foot", "unknown")]},
        forbidden={"right_knee": "SR-ARTERIAL-SEVERE"},
        unknown=("arterial_disease.0",),
    ),
    case(
        "PR-ANTICOAGULANT-takes-anticoagulants",
        PREC,
        {"PR-ANTICOAGULANT"},
        intake={"anticoagulant_therapy": "yes"},
        max_level="sensory",
        supervised=False,
    ),
    case(
        "PR-ANTICOAGULANT-unknown",
        PREC,
        {"PR-ANTICOAGULANT"},
        intake={"anticoagulant_therapy": "unknown"},
        max_level="sensory",
        unknown=("anticoagulant_therapy",),
    ),
    case(
        "PR-ANTICOAGULANT-cleared-by-treating-physician",
        PREC,
        {"PR-ANTICOAGULANT"},
        intake={"anticoagulant_therapy": "yes",
                "clearances": [clearance("PR-ANTICOAGULANT", role="treating physician")]},
        max_level=None,
        cleared=("PR-ANTICOAGULANT",),
    ),
    case(
        "CI-RECENT-MI-dated-within-six-months-although-answered-no",
        CLEAR,
        {"CI-RECENT-MI", "SR-HEART-DISEASE"},
        intake={"cardiac": {"myocardial_infarction_on": "2026-08-20"}},
        forbidden={"left_chest": "CI-RECENT-MI"},
    ),
    case(
        "CI-RECENT-MI-dated-five-years-ago-does-not-fire",
        OK,
        set(),
        intake={"cardiac": {"myocardial_infarction_on": "2021-06-01"}},
        allowed=("left_knee", "left_chest"),
    ),
    case(
        "SR-HEART-DISEASE-atrial-fibrillation",
        PREC,
        {"SR-HEART-DISEASE"},
        intake={"cardiac": {"arrhythmia": "yes", "arrhythmia_kind": "atrial_fibrillation"}},
        forbidden={"left_chest": "SR-HEART-DISEASE"},
        allowed=("left_calf",),
    ),
    case(
        "SR-EPILEPSY-controlled-seizures-still-restrict-head-and-neck",
        PREC,
        {"SR-EPILEPSY"},
        intake={"epilepsy": "yes", "seizure_control": "controlled"},
        forbidden={"left_head": "SR-EPILEPSY", "cervical_midline": "SR-EPILEPSY"},
    ),
    case(
        "SR-PAST-THROMBOSIS-dvt-twelve-years-ago-still-restricts",
        PREC,
        {"SR-PAST-THROMBOSIS"},
        intake={"thromboses": [thrombosis("left_calf", "past", occurred_on="2014-03-01")]},
        forbidden={"left_calf": "SR-PAST-THROMBOSIS"},
    ),
    case(
        "PR-PREGNANCY-EARLY-eight-weeks",
        PREC,
        {"SR-PREGNANCY", "PR-PREGNANCY-EARLY"},
        intake={"pregnancy": "pregnant", "gestational_age_weeks": 8},
        forbidden={"left_abdomen": "SR-PREGNANCY"},
    ),
    case(
        "SR-LYMPHOEDEMA-left-arm",
        PREC,
        {"SR-LYMPHOEDEMA"},
        intake={"skin": [skin("left_upper_limb", "lymphoedema")]},
        forbidden={"left_hand_dorsal": "SR-LYMPHOEDEMA", "left_shoulder": "SR-LYMPHOEDEMA"},
        allowed=("right_forearm_volar", "left_chest"),
    ),
    case(
        "SR-SKIN-DAMAGED-eczema",
        PREC,
        {"SR-SKIN-DAMAGED"},
        intake={"skin": [skin("right_forearm_volar", "eczema")]},
        forbidden={"right_forearm_volar": "SR-SKIN-DAMAGED"},
        allowed=("right_forearm_dorsal",),
    ),
    case(
        "SR-WORN-DEVICE-PR-INSULIN-insulin-pump-and-sensor",
        PREC,
        {"SR-WORN-DEVICE", "PR-INSULIN"},
        intake={"external_devices": [worn("insulin_pump", "left_abdomen"),
                                     worn("glucose_sensor", "right_upper_arm_posterior")]},
        forbidden={"left_abdomen": "SR-WORN-DEVICE", "right_abdomen": "SR-WORN-DEVICE",
                   "right_elbow": "SR-WORN-DEVICE"},
        allowed=("left_forearm_volar", "left_calf"),
    ),
    case(
        "SR-WORN-DEVICE-infusion-set",
        PREC,
        {"SR-WORN-DEVICE"},
        intake={"external_devices": [worn("infusion_set", "left_thigh_anterior")]},
        forbidden={"left_knee": "SR-WORN-DEVICE"},
    ),
    case(
        "PR-COGNITION-PR-COGNITION-HOME-dementia-without-carer",
        PREC,
        {"PR-COGNITION", "PR-COGNITION-HOME"},
        intake={"cognition": "dementia", "carer": "present"},
        supervised=True,
        home_use=False,
    ),
    case(
        "PR-COGNITION-dementia-with-a-supervising-carer",
        PREC,
        {"PR-COGNITION"},
        intake={"cognition": "dementia", "carer": "supervises"},
        supervised=True,
        home_use=True,
    ),
    case(
        "PR-COGNITION-HOME-carer-unknown",
        PREC,
        {"PR-COGNITION", "PR-COGNITION-HOME"},
        intake={"cognition": "impaired", "carer": "unknown"},
        home_use=False,
        unknown=("carer",),
    ),
    case(
        "PR-COGNITION-HOME-cognition-unknown",
        PREC,
        {"PR-COGNITION", "PR-COGNITION-HOME"},
        intake={"cognition": "unknown", "carer": "none"},
        home_use=False,
        unknown=("cognition",),
    ),
    case(
        "PR-PARKINSONS-parkinsons-disease",
        PREC,
        {"PR-PARKINSONS"},
        intake={"parkinsons_disease": "yes"},
        supervised=False,
    ),
    case(
        "CI-NEUROSTIMULATOR-vagus-nerve-stimulator-and-its-lead",
        CLEAR,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-SITE"},
        intake={"implants": [implant("vagus_nerve_stimulator", "left_chest",
                                     lead_sites=["left_neck_anterior"])]},
        forbidden={"left_chest": "SR-IMPLANT-SITE", "left_neck_posterior": "SR-IMPLANT-SITE",
                   "left_face": "SR-IMPLANT-SITE"},
        allowed=("right_neck_posterior", "left_calf"),
    ),
    case(
        "SR-IMPLANT-SITE-deep-brain-stimulator-generator-and-leads",
        CLEAR,
        {"CI-NEUROSTIMULATOR", "SR-IMPLANT-HEAD", "SR-IMPLANT-SITE"},
        intake={"implants": [implant("deep_brain_stimulator", "right_chest",
                                     lead_sites=["head", "right_neck_posterior"])]},
        forbidden={"right_shoulder": "SR-IMPLANT-SITE", "right_upper_back": "SR-IMPLANT-SITE",
                   "left_head": "SR-IMPLANT-HEAD"},
        allowed=("left_shoulder", "right_forearm_volar"),
    ),
    case(
        "SR-IRRADIATED-radiotherapy-without-a-cancer-entry",
        PREC,
        {"SR-IRRADIATED"},
        intake={"radiotherapy": [{"sites": ["right_chest"], "ended_on": "2026-09-01",
                                  "reason": "keloid"}]},
        forbidden={"right_chest": "SR-IRRADIATED"},
        allowed=("right_shoulder",),
    ),
    case(
        "SR-IRRADIATED-radiotherapy-years-ago-does-not-fire",
        OK,
        set(),
        intake={"radiotherapy": [{"sites": ["right_chest"], "ended_on": "2019-02-01"}]},
        allowed=("right_chest",),
    ),
    # unknown lists: screened as a possible yes, on no particular site, with an action
    case(
        "CI-CARDIAC-DEVICE-CI-NEUROSTIMULATOR-implants-unknown",
        CLEAR,
        {"CI-CARDIAC-DEVICE", "SR-CARDIAC-DEVICE-TRUNK", "CI-NEUROSTIMULATOR", "SR-IMPLANT-HEAD",
         "SR-IMPLANT-SITE", "PR-METAL-IMPLANT"},
        intake={"implants": "unknown"},
        forbidden={"left_chest": "SR-CARDIAC-DEVICE-TRUNK", "left_head": "SR-IMPLANT-HEAD"},
        allowed=("left_calf", "right_forearm_volar"),
        supervised=True,
        home_use=False,
        unknown=("implants",),
    ),
    case(
        "CI-ACTIVE-THROMBOSIS-thromboses-unknown",
        CLEAR,
        {"CI-ACTIVE-THROMBOSIS", "SR-ACTIVE-THROMBOSIS-LIMB", "SR-PAST-THROMBOSIS"},
        intake={"thromboses": "unknown"},
        unknown=("thromboses",),
    ),
    case(
        "SR-MALIGNANCY-SR-IRRADIATED-malignancies-unknown",
        PREC,
        {"SR-MALIGNANCY", "SR-IRRADIATED"},
        intake={"malignancies": "unknown"},
        unknown=("malignancies",),
    ),
    case(
        "SR-IRRADIATED-radiotherapy-unknown",
        PREC,
        {"SR-IRRADIATED"},
        intake={"radiotherapy": "unknown"},
        unknown=("radiotherapy",),
    ),
    case(
        "SR-SKIN-DAMAGED-PR-SCAR-SR-LYMPHOEDEMA-skin-unknown",
        PREC,
        {"SR-SKIN-DAMAGED", "PR-SCAR", "SR-LYMPHOEDEMA"},
        intake={"skin": "unknown"},
        unknown=("skin",),
    ),
    case(
        "SR-SENSATION-ABSENT-PR-SENSATION-REDUCED-sensation-unknown",
        PREC,
        {"SR-SENSATION-ABSENT", "PR-SENSATION-REDUCED"},
        intake={"sensation": "unknown"},
        supervised=True,
        unknown=("sensation",),
    ),
    case(
        "SR-ALLODYNIA-allodynia-unknown",
        PREC,
        {"SR-ALLODYNIA"},
        intake={"allodynia": "unknown"},
        unknown=("allodynia",),
    ),
    case(
        "SR-SURGERY-FRACTURE-surgeries-unknown",
        PREC,
        {"SR-SURGERY-FRACTURE"},
        intake={"surgeries_and_fractures": "unknown"},
        unknown=("surgeries_and_fractures",),
    ),
    case(
        "SR-ARTERIAL-DISEASE-SR-ARTERIAL-SEVERE-arterial-disease-unknown",
        PREC,
        {"SR-ARTERIAL-DISEASE", "SR-ARTERIAL-SEVERE"},
        intake={"arterial_disease": "unknown"},
        supervised=True,
        unknown=("arterial_disease",),
    ),
    case(
        "SR-WORN-DEVICE-PR-INSULIN-worn-devices-unknown",
        PREC,
        {"SR-WORN-DEVICE", "PR-INSULIN"},
        intake={"external_devices": "unknown"},
        unknown=("external_devices",),
    ),
    case(
        "CI-UNDIAGNOSED-PAIN-diagnoses-unknown",
        CLEAR,
        {"CI-UNDIAGNOSED-PAIN", "PR-CRPS-FLARE", "PR-NEUROPATHY"},
        intake={"diagnoses": "unknown", "pain_sites": ["left_knee"]},
        unknown=("diagnoses",),
    ),
    case(
        "CI-CANNOT-REPORT-CI-CARDIAC-DEVICE-absolute-beats-clearance",
        NO,
        CARDIAC_DEVICE | {"CI-CANNOT-REPORT"},
        intake={"implants": [PACEMAKER], "can_report_sensations": "no"},
        home_use=False,
    ),
]


def screened(vignette: Vignette):
    return screen_of(**vignette.overrides)


def _ids(params) -> list[str]:
    return [p.id for p in params]


# --------------------------------------------------------------------------- coverage


def test_every_rule_in_the_rule_book_has_a_vignette():
    exercised = frozenset().union(*(p.values[0].rules for p in VIGNETTES))
    assert exercised == set(RULES), (
        f"rules without a vignette: {sorted(set(RULES) - exercised)}; "
        f"vignettes naming unknown rules: {sorted(exercised - set(RULES))}"
    )


def test_every_vignette_names_a_rule_it_exercises_and_ids_are_unique():
    ids = _ids(VIGNETTES)
    assert len(ids) == len(set(ids))
    assert len(ids) >= 45
    for param in VIGNETTES:
        vignette = param.values[0]
        cited = {rule for rule in RULES if re.search(rf"(^|-){re.escape(rule)}(-|$)", param.id)}
        if vignette.rules:
            assert cited & vignette.rules, f"{param.id} cites none of {sorted(vignette.rules)}"
        else:  # a vignette where nothing fires is the baseline or names the rule it spares
            assert param.id.startswith("NONE-") or (
                cited and param.id.endswith("-does-not-fire")
            ), param.id


def test_every_tier_and_decision_is_reached():
    decisions = {p.values[0].decision for p in VIGNETTES}
    assert decisions == set(DECISION_ORDER)
    tiers = {RULES[r].tier for p in VIGNETTES for r in p.values[0].rules}
    assert tiers == {"absolute", "clearance", "site_restricted", "precaution"}


# --------------------------------------------------------------------------- HAZ-014, HAZ-015


@pytest.mark.parametrize("vignette", VIGNETTES)
def test_HAZ014_vignette_decision_and_rules(vignette: Vignette):
    screening = screened(vignette)
    assert fired(screening) == vignette.rules
    assert screening.decision == vignette.decision, screening.decision_reasons
    cleared = tuple(sorted(f.rule_id for f in screening.findings if f.status == "cleared"))
    assert cleared == tuple(sorted(vignette.cleared))
    assert screening.unknown_answers == tuple(sorted(vignette.unknown))
    assert screening.unused_clearances == ()
    if vignette.home_use is not None:
        assert screening.home_use_allowed is vignette.home_use
    if vignette.supervised is not None:
        assert screening.supervised_titration_required is vignette.supervised
    if vignette.max_level is not _UNSET:
        assert screening.caps.max_level == vignette.max_level


@pytest.mark.parametrize("vignette", VIGNETTES)
def test_HAZ015_vignette_forbidden_allowed_sites_and_levels(vignette: Vignette):
    screening = screened(vignette)
    for site, rule_id in vignette.forbidden.items():
        assert rule_id in screening.forbidden_sites.get(site, ()), (site, rule_id)
        assert site in screening.caps.forbidden_sites
        assert site not in screening.allowed_sites
        assert site in screening.home_use_forbidden_sites
    for site in vignette.allowed:
        assert site in screening.allowed_sites, (site, screening.forbidden_sites.get(site))
        assert site not in screening.caps.forbidden_sites
    for site, level in vignette.levels.items():
        assert screening.site_max_level.get(site) == level, site
        assert screening.caps.site_max_level.get(site) == level
    for site in UNIVERSAL_BANS:
        assert screening.forbidden_sites[site] == ("placement.forbidden-site",) or (
            "placement.forbidden-site" in screening.forbidden_sites[site]
        )
    assert set(screening.allowed_sites) | set(screening.forbidden_sites) == SITE_NAMES
    assert not set(screening.allowed_sites) & set(screening.forbidden_sites)


@pytest.mark.parametrize("vignette", VIGNETTES)
def test_HAZ014_findings_explain_themselves(vignette: Vignette):
    screening = screened(vignette)
    for finding in screening.findings:
        rule = RULES[finding.rule_id]
        assert finding.tier == rule.tier
        assert finding.sources == rule.sources and finding.sources
        assert finding.details
        assert finding.status in ("applies", "possible", "cleared")
    for reason in screening.decision_reasons:
        assert reason.split(":")[0] in fired(screening) or "no body site" in reason


@pytest.mark.parametrize("vignette", VIGNETTES)
def test_HAZ014_clinician_text_names_every_rule_and_source(vignette: Vignette):
    screening = screened(vignette)
    text = clinician_text(screening)
    for finding in screening.findings:
        assert finding.rule_id in text
        for citation in finding.sources:
            assert citation.source in text
    assert screening.rules_version in text


@pytest.mark.parametrize("vignette", VIGNETTES)
def test_patient_text_has_no_rule_ids_and_promises_no_relief(vignette: Vignette):
    text = patient_text(screened(vignette))
    for marker in ("CI-", "SR-", "PR-", "placement."):
        assert marker not in text
    lowered = text.lower()
    for promise in ("will relieve", "cure", "guarantee", "will stop your pain", "pain-free"):
        assert promise not in lowered


def test_supervision_follows_exactly_the_rules_that_fired():
    for param in VIGNETTES:
        screening = screened(param.values[0])
        expected = any(
            RULES[f.rule_id].consequences.supervised_titration for f in screening.findings
        )
        assert screening.supervised_titration_required is expected, param.id


def test_HAZ014_example_patient_file_screens_as_documented():
    screening = screen(load_model_file(Intake, EXAMPLE))
    assert screening.decision == "eligible_with_precautions"
    assert fired(screening) == {"PR-METAL-IMPLANT", "PR-SCAR", "SR-ALLODYNIA", "PR-CRPS-FLARE"}
    assert {"left_hand_dorsal", "left_wrist", "left_forearm_dorsal"} <= set(
        screening.forbidden_sites
    )
    assert "left_forearm_volar" in screening.allowed_sites


def test_HAZ014_absolute_dominates_every_other_tier():
    screening = screen_of(
        implants=[PACEMAKER],
        clearances=[clearance("CI-CARDIAC-DEVICE")],
        bleeding_tendency="untreated",
        pregnancy="pregnant",
        pain_sites=["right_knee"],
    )
    assert screening.decision == "not_eligible"
    assert any(r.startswith("CI-UNTREATED-BLEEDING") for r in screening.decision_reasons)
    assert not screening.eligible and not screening.home_use_allowed


def test_HAZ015_no_allowed_site_left_is_not_eligible():
    # Pacemaker (trunk, neck), epilepsy (head) and open wounds on every limb site.
    limbs = ["left_upper_limb", "right_upper_limb", "left_lower_limb", "right_lower_limb"]
    screening = screen_of(
        implants=[PACEMAKER],
        epilepsy="yes",
        clearances=[clearance("CI-CARDIAC-DEVICE")],
        skin=[skin(limb, "open_wound") for limb in limbs],
    )
    assert screening.allowed_sites == ()
    assert screening.decision == "not_eligible"
    assert "no body site is left where electrodes may be placed" in screening.decision_reasons


# --------------------------------------------------------------------------- HAZ-020 clearance


def test_HAZ020_clearance_lifts_the_device_block_but_not_the_trunk_ban():
    blocked = screen_of(implants=[PACEMAKER])
    cleared = screen_of(
        implants=[PACEMAKER],
        clearances=[
            clearance(
                "CI-CARDIAC-DEVICE",
                cleared_by="Dr B. Heart",
                cleared_on="2026-10-28",
                note="pacemaker in fixed-rate mode",
            )
        ],
    )
    assert blocked.decision == "needs_specialist_clearance"
    assert cleared.decision == "eligible_with_precautions"
    assert set(blocked.forbidden_sites) == set(cleared.forbidden_sites)
    assert set(cleared.forbidden_sites) >= TRUNK_AND_NECK
    assert cleared.finding("SR-CARDIAC-DEVICE-TRUNK").status == "applies"
    assert cleared.supervised_titration_required

    finding = cleared.finding("CI-CARDIAC-DEVICE")
    assert finding.status == "cleared"
    assert finding.clearance.cleared_by == "Dr B. Heart"
    assert finding.clearance.role == "cardiologist"
    assert finding.clearance.cleared_on.isoformat() == "2026-10-28"
    text = clinician_text(cleared)
    assert "CI-CARDIAC-DEVICE (clearance) [CLEARED]" in text
    assert (
        "cleared by Dr B. Heart (cardiologist) on 2026-10-28; the rule asks for: "
        "cardiologist; pacemaker in fixed-rate mode" in text
    )
    assert "Obtain and record a cardiology clearance" not in text
    assert "Obtain and record a cardiology clearance" in clinician_text(blocked)
    # The cleared rule's patient text no longer says a specialist must agree.
    assert "heart specialist must agree" not in patient_text(cleared)
    assert "heart specialist must agree" in patient_text(blocked)


def test_HAZ020_clearance_of_recent_mi_keeps_the_thorax_forbidden():
    screening = screen_of(
        cardiac={"recent_myocardial_infarction": "yes"}, clearances=[clearance("CI-RECENT-MI")]
    )
    assert screening.decision == "eligible_with_precautions"
    assert expand_sites("thorax") <= set(screening.forbidden_sites)


@pytest.mark.parametrize(
    "rule_id, why",
    [
        ("SR-CARDIAC-DEVICE-TRUNK", "rule that no clearance can lift"),
        ("CI-CANNOT-REPORT", "rule that no clearance can lift"),
        ("CI-UNTREATED-BLEEDING", "rule that no clearance can lift"),
        ("SR-EPILEPSY", "rule that no clearance can lift"),
        ("CI-PACEMAKER", "unknown rule"),
        ("ci-cardiac-device", "unknown rule"),
    ],
)
def test_HAZ020_clearance_for_a_rule_it_cannot_lift_is_an_input_error(rule_id, why):
    intake = make_intake(
        implants=[PACEMAKER],
        epilepsy="yes",
        can_report_sensations="no",
        clearances=[clearance(rule_id)],
    )
    with pytest.raises(InputError) as caught:
        screen(intake)
    (problem,) = caught.value.problems
    assert problem.path == "clearances.0.rule_id"
    assert problem.value == rule_id
    assert why in problem.expected
    assert "CI-CARDIAC-DEVICE" in problem.expected  # the liftable ids are listed


def test_HAZ020_clearance_dated_after_the_assessment_is_an_input_error():
    with pytest.raises(InputError) as caught:
        make_intake(
            implants=[PACEMAKER],
            clearances=[clearance("CI-CARDIAC-DEVICE", cleared_on="2026-11-03")],
        )
    (problem,) = caught.value.problems
    assert problem.path == "clearances.0.cleared_on"
    assert ASSESSED_ON in problem.expected


def test_HAZ020_clearance_on_the_assessment_day_is_accepted():
    intake = make_intake(
        implants=[PACEMAKER], clearances=[clearance("CI-CARDIAC-DEVICE", cleared_on=ASSESSED_ON)]
    )
    assert screen(intake).decision == "eligible_with_precautions"


def test_HAZ020_every_bad_clearance_is_reported_at_once():
    # Dates and duplicates are checked when the intake is read; rule ids against the rule book.
    with pytest.raises(InputError) as caught:
        make_intake(
            clearances=[
                clearance("CI-RECENT-MI"),
                clearance("CI-RECENT-MI"),
                clearance("CI-CARDIAC-DEVICE", cleared_on="2027-01-01"),
            ]
        )
    assert [p.path for p in caught.value.problems] == [
        "clearances.2.cleared_on",
        "clearances.1.rule_id",
    ]
    assert "one clearance per rule" in caught.value.problems[1].expected
    intake = make_intake(clearances=[clearance("CI-RECENT-MI"), clearance("SR-EPILEPSY"),
                                     clearance("PR-SCAR")])
    with pytest.raises(InputError) as caught:
        screen(intake)
    assert [p.path for p in caught.value.problems] == [
        "clearances.1.rule_id",
        "clearances.2.rule_id",
    ]


def test_HAZ020_unused_clearance_is_reported_and_changes_nothing():
    plain = screen_of()
    with_clearance = screen_of(clearances=[clearance("CI-CARDIAC-DEVICE")])
    assert with_clearance.unused_clearances == ("CI-CARDIAC-DEVICE",)
    assert with_clearance.decision == plain.decision == "eligible"
    assert with_clearance.findings == ()
    assert "the clearance recorded for CI-CARDIAC-DEVICE was not needed" in clinician_text(
        with_clearance
    )


def test_HAZ020_clearance_of_one_rule_does_not_lift_another():
    # A cardiology clearance does not clear a neurostimulator or an active DVT.
    screening = screen_of(
        implants=[PACEMAKER, implant("spinal_cord_stimulator", "lumbar_midline")],
        thromboses=[thrombosis("left_calf")],
        clearances=[clearance("CI-CARDIAC-DEVICE")],
    )
    assert screening.decision == "needs_specialist_clearance"
    statuses = {f.rule_id: f.status for f in screening.findings}
    assert statuses["CI-CARDIAC-DEVICE"] == "cleared"
    assert statuses["CI-NEUROSTIMULATOR"] == "applies"
    assert statuses["CI-ACTIVE-THROMBOSIS"] == "applies"
    assert {r.split(":")[0] for r in screening.decision_reasons} == {
        "CI-NEUROSTIMULATOR",
        "CI-ACTIVE-THROMBOSIS",
    }


def test_HAZ020_clearance_of_a_possible_finding_keeps_the_unknown_visible():
    screening = screen_of(
        cardiac={"recent_myocardial_infarction": "unknown"}, clearances=[clearance("CI-RECENT-MI")]
    )
    assert screening.finding("CI-RECENT-MI").status == "cleared"
    assert screening.decision == "eligible_with_precautions"
    assert "cardiac.recent_myocardial_infarction" in screening.unknown_answers


# --------------------------------------------------------------------------- HAZ-019 unknown

UNKNOWN_VIGNETTES = [p for p in VIGNETTES if p.values[0].unknown]


def test_HAZ019_unknown_vignettes_cover_every_kind_of_unknown_answer():
    fields = {f for p in UNKNOWN_VIGNETTES for f in p.values[0].unknown}
    assert {
        "epilepsy",
        "pregnancy",
        "can_report_sensations",
        "bleeding_tendency",
        "malignancies.0.radiotherapy_ended_on",
        "surgeries_and_fractures.0.healing",
        "diagnoses.0.affected_sites",
        "cardiac.recent_myocardial_infarction",
        "home_use.while_driving_or_operating_machinery",
    } <= fields


@pytest.mark.parametrize("vignette", UNKNOWN_VIGNETTES)
def test_HAZ019_unknown_answer_is_never_eligible_and_needs_an_action(vignette: Vignette):
    screening = screened(vignette)
    assert screening.decision != "eligible"
    actions = {a.text: a.rule_ids for a in screening.required_actions}
    for answer in vignette.unknown:
        text = unknown_action(answer)
        assert text in actions, sorted(actions)
        assert text.startswith("Find out before stimulating: ") and "_" not in text
        assert label_path(answer) in clinician_text(screening)
    possible = [f for f in screening.findings if f.unknown_answers]
    assert possible and all(f.status in ("possible", "cleared") for f in possible)
    assert "[not known: applied as if yes" in clinician_text(screening) or all(
        f.status == "cleared" for f in possible
    )


@pytest.mark.parametrize(
    "yes, unknown, rule_id",
    [
        ({"epilepsy": "yes"}, {"epilepsy": "unknown"}, "SR-EPILEPSY"),
        (
            {"pregnancy": "pregnant", "gestational_age_weeks": 8},
            {"pregnancy": "unknown"},
            "SR-PREGNANCY",
        ),
        (
            {"pregnancy": "pregnant", "gestational_age_weeks": 20},
            {"pregnancy": "possible", "gestational_age_weeks": 20},
            "SR-PREGNANCY",
        ),
        (
            {"pregnancy": "pregnant", "gestational_age_weeks": 8},
            {"pregnancy": "pregnant"},
            "PR-PREGNANCY-EARLY",
        ),
        ({"can_report_sensations": "no"}, {"can_report_sensations": "unknown"}, "CI-CANNOT-REPORT"),
        (
            {"cardiac": {"arrhythmia": "yes"}},
            {"cardiac": {"arrhythmia": "unknown"}},
            "SR-HEART-DISEASE",
        ),
        (
            {"cardiac": {"heart_failure": "yes"}},
            {"cardiac": {"heart_failure": "unknown"}},
            "SR-HEART-DISEASE",
        ),
        (
            {"cardiac": {"recent_myocardial_infarction": "yes"}},
            {"cardiac": {"recent_myocardial_infarction": "unknown"}},
            "CI-RECENT-MI",
        ),
        (
            {"home_use": {"during_sleep": "yes"}},
            {"home_use": {"during_sleep": "unknown"}},
            "PR-HOME-SLEEP-DRIVING",
        ),
        (
            {"bleeding_tendency": "controlled"},
            {"bleeding_tendency": "unknown"},
            "PR-BLEEDING-TENDENCY",
        ),
        (
            {"surgeries_and_fractures": [surgery("left_knee", "healing")]},
            {"surgeries_and_fractures": [surgery("left_knee", "unknown")]},
            "SR-SURGERY-FRACTURE",
        ),
        (
            {
                "malignancies": [
                    malignancy(
                        "left_chest",
                        "in_remission",
                        treatments=["radiotherapy"],
                        radiotherapy_ended_on="2026-10-01",
                    )
                ]
            },
            {
                "malignancies": [
                    malignancy("left_chest", "in_remission", treatments=["radiotherapy"])
                ]
            },
            "SR-IRRADIATED",
        ),
        (
            {
                "diagnoses": [neuropathy("left_foot")],
                "sensation": [sensation("left_foot", "reduced")],
            },
            {"diagnoses": [neuropathy("left_foot")]},
            "PR-SENSATION-REDUCED",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_HAZ019_unknown_is_as_strict_as_yes(yes, unknown, rule_id):
    certain, possible = screen_of(**yes), screen_of(**unknown)
    assert possible.finding(rule_id).status == "possible"
    assert certain.finding(rule_id).status == "applies"
    assert possible.decision == certain.decision
    assert set(possible.forbidden_sites) == set(certain.forbidden_sites)
    assert possible.site_max_level == certain.site_max_level
    assert possible.caps.max_level == certain.caps.max_level
    assert possible.supervised_titration_required == certain.supervised_titration_required
    assert possible.home_use_allowed == certain.home_use_allowed
    assert possible.unknown_answers and not certain.unknown_answers


def test_HAZ019_untested_neuropathy_sites_are_capped_until_tested():
    untested = screen_of(
        diagnoses=[neuropathy("left_foot", "left_leg")], sensation=[sensation("left_leg", "normal")]
    )
    finding = untested.finding("PR-SENSATION-REDUCED")
    assert finding.status == "possible"
    assert set(finding.sites) == expand_sites("left_foot")
    assert set(untested.site_max_level) == expand_sites("left_foot")
    tested = screen_of(
        diagnoses=[neuropathy("left_foot", "left_leg")],
        sensation=[sensation("left_lower_limb", "normal")],
    )
    assert "PR-SENSATION-REDUCED" not in fired(tested)
    assert tested.site_max_level == {}


# --------------------------------------------------------------------------- HAZ-018 sensation


def test_HAZ018_absent_sensation_caps_subsensory_supervised_and_no_home_use_there():
    screening = screen_of(
        diagnoses=[neuropathy("left_foot", "right_foot")],
        sensation=[sensation("left_foot", "absent"), sensation("right_foot", "reduced")],
    )
    for site in expand_sites("left_foot"):
        assert screening.site_max_level[site] == "subsensory"
        assert site in screening.home_use_forbidden_sites
    for site in expand_sites("right_foot"):
        assert screening.site_max_level[site] == "sensory"
        assert site not in screening.home_use_forbidden_sites
    assert screening.supervised_titration_required
    assert screening.home_use_allowed  # elsewhere, within the caps
    actions = " ".join(a.text for a in screening.required_actions)
    assert "Never use conductive foot baths on insensate feet." in actions
    assert "Titrate the first session under supervision" in actions
    assert "subsensory" in clinician_text(screening)
    assert "only current too weak to feel" in patient_text(screening)


def test_HAZ018_screening_caps_block_motor_level_on_a_sensory_capped_site():
    screening = screen_of(sensation=[sensation("left_leg", "reduced")])
    motor = _rx(("left_calf", "left_leg_anterior"), level="motor")
    report = verify(motor, caps=screening.caps)
    assert report.verdict == "block"
    assert "patient.site-max-level" in _blocking(report)
    sensory = _rx(("left_calf", "left_leg_anterior"), level="sensory")
    assert verify(sensory, caps=screening.caps).verdict != "block"


def test_HAZ018_screening_caps_block_sensory_level_on_an_insensate_site():
    screening = screen_of(sensation=[sensation("right_foot", "absent")])
    report = verify(_rx(("right_foot_dorsal", "right_ankle")), caps=screening.caps)
    assert "patient.site-max-level" in _blocking(report)
    assert (
        verify(
            _rx(("right_foot_dorsal", "right_ankle"), level="subsensory"), caps=screening.caps
        ).verdict
        != "block"
    )


def test_HAZ018_bleeding_tendency_caps_the_level_everywhere():
    screening = screen_of(bleeding_tendency="controlled")
    report = verify(_rx(("left_calf", "left_ankle"), level="motor"), caps=screening.caps)
    assert "patient.max-level" in _blocking(report)


# --------------------------------------------------------------------------- HAZ-015 caps


def _rx(sites, level: str = "sensory", amplitude_ma: float = 30.0):
    return make_prescription(
        channels=[channel_dict("A", sites=list(sites))],
        intensity={"level": level, "max_amplitude_ma": amplitude_ma},
    )


def _blocking(report) -> set[str]:
    return {f.rule_id for f in report.findings if f.severity == "block"}


def test_HAZ015_screening_caps_block_an_electrode_on_a_forbidden_site():
    screening = screen_of(
        thromboses=[thrombosis("left_calf")], clearances=[clearance("CI-ACTIVE-THROMBOSIS")]
    )
    report = verify(_rx(("left_calf", "left_ankle")), caps=screening.caps)
    assert report.verdict == "block" and report.plan is None
    assert "patient.forbidden-site" in _blocking(report)
    finding = next(f for f in report.findings if f.rule_id == "patient.forbidden-site")
    assert "SR-ACTIVE-THROMBOSIS-LIMB" in finding.message


def test_HAZ015_screening_caps_pass_an_allowed_site():
    screening = screen_of(
        thromboses=[thrombosis("left_calf")], clearances=[clearance("CI-ACTIVE-THROMBOSIS")]
    )
    report = verify(_rx(("right_calf", "right_ankle")), caps=screening.caps)
    assert report.verdict != "block"
    assert report.plan is not None


@pytest.mark.parametrize("vignette", [p for p in VIGNETTES if p.values[0].forbidden])
def test_HAZ015_every_vignette_forbidden_site_blocks_in_verify(vignette: Vignette):
    screening = screened(vignette)
    for site in vignette.forbidden:
        partner = _same_region_partner(site)
        report = verify(_rx((site, partner)), caps=screening.caps)
        assert "patient.forbidden-site" in _blocking(report), site


def _same_region_partner(site: str) -> str:
    """A second electrode site that forms no forbidden current path with ``site``."""
    from stimwise.protocol.body_sites import neighbours
    from stimwise.protocol.current_path import path_hazards

    for other in sorted(neighbours(site)):
        if not path_hazards([site, other]) and other not in UNIVERSAL_BANS:
            return other
    return site


# --------------------------------------------------------------------------- HAZ-016, HAZ-017

TRANSTHORACIC = [
    ("left_chest", "right_chest"),
    ("left_hand_dorsal", "right_hand_dorsal"),
    ("left_chest", "left_upper_back"),
    ("left_upper_arm_anterior", "right_shoulder"),
    ("left_forearm_volar", "left_calf"),
    ("left_chest", "thoracic_midline"),
]
TRANSCRANIAL = [
    ("left_face", "right_face"),
    ("left_head", "left_shoulder"),
    ("right_head", "right_calf"),
]
ALLOWED_PATHS = [
    ("left_upper_arm_anterior", "left_elbow"),
    ("left_lower_back", "right_lower_back"),
    ("left_calf", "right_calf"),
    ("left_head", "cervical_midline"),
    ("left_abdomen", "right_abdomen"),
]


@pytest.mark.parametrize("sites", TRANSTHORACIC, ids="+".join)
def test_HAZ016_transthoracic_paths_block(sites):
    # Even for a person with no finding at all: the ban is universal.
    screening = screen_of()
    for caps in (None, screening.caps):
        report = verify(_rx(sites), caps=caps)
        assert report.verdict == "block" and report.plan is None
        assert "placement.transthoracic" in _blocking(report)


@pytest.mark.parametrize("sites", TRANSCRANIAL, ids="+".join)
def test_HAZ016_transcranial_paths_block(sites):
    report = verify(_rx(sites), caps=screen_of().caps)
    assert report.verdict == "block"
    assert "placement.transcranial" in _blocking(report)


@pytest.mark.parametrize("sites", ALLOWED_PATHS, ids="+".join)
def test_HAZ016_allowed_paths_are_not_blocked_by_placement(sites):
    screening = screen_of()
    report = verify(_rx(sites), caps=screening.caps)
    assert not {r for r in _blocking(report) if r.startswith(("placement.", "patient."))}
    assert report.verdict != "block"


def test_HAZ016_a_path_hazard_in_any_channel_blocks_the_whole_prescription():
    rx = make_prescription(
        channels=[
            channel_dict("A", sites=["left_calf", "left_ankle"]),
            channel_dict("B", sites=["left_chest", "right_chest"]),
        ]
    )
    report = verify(rx, caps=screen_of().caps)
    finding = next(f for f in report.findings if f.rule_id == "placement.transthoracic")
    assert finding.channel == "B"
    assert report.verdict == "block"


def test_HAZ016_three_electrode_channel_with_one_crossing_pair_blocks():
    rx = make_prescription(
        channels=[
            channel_dict(
                "A",
                areas_cm2=(25, 25, 25),
                sites=["left_forearm_volar", "left_elbow", "right_forearm_volar"],
            )
        ]
    )
    assert "placement.transthoracic" in _blocking(verify(rx))


@pytest.mark.parametrize(
    "sites",
    [
        ("left_eye", "left_face"),
        ("right_eye", "right_head"),
        ("left_neck_anterior", "left_neck_posterior"),
        ("right_neck_anterior", "cervical_midline"),
    ],
    ids="+".join,
)
def test_HAZ017_eyes_and_anterior_neck_block_for_everyone(sites):
    screening = screen_of()
    assert sites[0] in screening.forbidden_sites
    assert sites[0] not in screening.allowed_sites
    for caps in (None, screening.caps):
        report = verify(_rx(sites), caps=caps)
        assert report.verdict == "block"
        assert "placement.forbidden-site" in _blocking(report)
    assert "patient.forbidden-site" in _blocking(verify(_rx(sites), caps=screening.caps))


def test_HAZ017_clinician_text_states_the_universal_bans_but_not_as_patient_rules():
    text = clinician_text(screen_of())
    assert "eyes, front of the neck" in text
    assert "Forbidden sites:" not in text  # only universal bans: no patient-specific list


def test_decision_order_is_total_and_strictest_last():
    assert sorted(DECISION_ORDER, key=DECISION_ORDER.get) == [
        "eligible",
        "eligible_with_precautions",
        "needs_specialist_clearance",
        "not_eligible",
    ]
