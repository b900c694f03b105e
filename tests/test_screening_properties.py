"""Properties of screening over random intakes: more findings, or an answer turned "unknown", never
make a screening more permissive; sites are always split into allowed and forbidden."""

from __future__ import annotations

import copy
import os
from datetime import date, timedelta
from typing import get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake_builders import ASSESSED_ON, base_intake, intake_from
from stimwise.clinical.intake import LIST_QUESTIONS, ImplantKind
from stimwise.clinical.rules import screening_rules
from stimwise.clinical.screening import DECISION_ORDER, Screening, screen
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.protocol.body_sites import SITE_NAMES
from stimwise.safety.caps import LEVEL_ORDER

PROPERTY_SETTINGS = settings(
    # 120 examples keep the file near 4 s; STIMWISE_SCREENING_EXAMPLES=5000 explores deeper.
    max_examples=int(os.environ.get("STIMWISE_SCREENING_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ASSESSED = date.fromisoformat(ASSESSED_ON)
SITES = sorted(SITE_NAMES)
SELECTORS = [
    "left_foot",
    "right_foot",
    "left_hand",
    "left_forearm",
    "right_leg",
    "left_lower_limb",
    "right_upper_limb",
    "thorax",
    "head",
    "neck",
    "trunk",
    "pelvis",
]
LIFTABLE = sorted(r.id for r in screening_rules().book.rules if r.liftable_by_clearance)
YNU = st.sampled_from(["yes", "no", "unknown"])

site = st.sampled_from(SITES)
place = st.one_of(site, site, st.sampled_from(SELECTORS))
past_date = st.integers(min_value=0, max_value=1500).map(
    lambda days: (ASSESSED - timedelta(days=days)).isoformat()
)

ELECTRONIC = [kind for kind in get_args(ImplantKind) if kind != "metal_implant"]


@st.composite
def implants(draw) -> dict:
    kind = draw(st.sampled_from([*ELECTRONIC, "metal_implant"]))
    item = {"kind": kind, "site": draw(place)}
    leads = draw(st.lists(place, max_size=2))
    if leads:
        item["lead_sites"] = leads
    return item


arterial_findings = st.fixed_dictionaries(
    {"site": place, "severity": st.sampled_from(["not_severe", "severe", "unknown"])}
)
worn_devices = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["insulin_pump", "infusion_set", "glucose_sensor",
                                 "other_electronic"]),
        "site": place,
    }
)
radiotherapy_courses = st.fixed_dictionaries(
    {"sites": st.lists(place, min_size=1, max_size=2)},
    optional={"ended_on": past_date},
)


thromboses = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["dvt", "thrombophlebitis"]),
        "status": st.sampled_from(["active", "past"]),
        "site": place,
    },
    optional={"occurred_on": past_date},
)


@st.composite
def malignancies(draw) -> dict:
    item = {
        "site": draw(place),
        "status": draw(st.sampled_from(["active", "suspected", "in_remission"])),
        "treatments": draw(
            st.lists(
                st.sampled_from(["surgery", "chemotherapy", "radiotherapy", "hormonal"]),
                unique=True,
                max_size=3,
            )
        ),
        "palliative_care": draw(st.booleans()),
    }
    if "radiotherapy" in item["treatments"]:
        ended = draw(st.none() | past_date)
        if ended is not None:
            item["radiotherapy_ended_on"] = ended
        item["irradiated_sites"] = draw(st.lists(place, max_size=2))
    return item


skin_findings = st.fixed_dictionaries(
    {
        "site": place,
        "finding": st.sampled_from(
            [
                "open_wound",
                "infection",
                "irritation",
                "dermatitis",
                "eczema",
                "swelling",
                "lymphoedema",
                "scar",
                "trophic_changes",
            ]
        ),
    }
)
allodynias = st.fixed_dictionaries(
    {
        "site": place,
        "stimulus": st.sampled_from(["light_touch", "pressure", "cold", "unspecified"]),
    }
)
surgeries = st.fixed_dictionaries(
    {
        "site": place,
        "kind": st.sampled_from(["surgery", "fracture"]),
        "healing": st.sampled_from(["healing", "healed", "unknown"]),
    }
)
diagnoses = st.one_of(
    st.fixed_dictionaries(
        {
            "kind": st.just("crps"),
            "crps_type": st.sampled_from(["I", "II"]),
            "affected_sites": st.lists(place, min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("neuropathy"),
            "cause": st.sampled_from(["diabetic", "chemotherapy_induced"]),
            "affected_sites": st.lists(place, min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("other"),
            "description": st.just("low back pain"),
            "affected_sites": st.lists(place, max_size=2),
        }
    ),
)


@st.composite
def intakes(draw) -> dict:
    """A random, valid, non-contradictory intake document."""
    sex = draw(st.sampled_from(["female", "male", "intersex", "unknown"]))
    pregnancy_choices = ["not_pregnant", "not_applicable", "unknown"]
    if sex != "male":
        pregnancy_choices += ["pregnant", "possible"]
    # One sensation status per individual site: never contradictory.
    sensed = draw(
        st.dictionaries(site, st.sampled_from(["normal", "reduced", "absent"]), max_size=6)
    )
    planned = draw(st.booleans())
    pregnancy = draw(st.sampled_from(pregnancy_choices))
    epilepsy = draw(YNU)
    arrhythmia = draw(YNU)
    document = base_intake(
        age_years=draw(st.integers(min_value=4, max_value=95)),
        sex=sex,
        pregnancy=pregnancy,
        diagnoses=draw(st.lists(diagnoses, min_size=1, max_size=2)),
        pain_sites=draw(st.lists(place, max_size=2)),
        implants=draw(st.lists(implants(), max_size=2)),
        cardiac={
            "arrhythmia": arrhythmia,
            "heart_failure": draw(YNU),
            "recent_myocardial_infarction": draw(YNU),
        },
        epilepsy=epilepsy,
        thromboses=draw(st.lists(thromboses, max_size=2)),
        malignancies=draw(st.lists(malignancies(), max_size=2)),
        skin=draw(st.lists(skin_findings, max_size=3)),
        sensation=[{"site": s, "status": status} for s, status in sensed.items()],
        allodynia=draw(st.lists(allodynias, max_size=2)),
        can_report_sensations=draw(st.sampled_from(["yes", "yes", "no", "unknown"])),
        bleeding_tendency=draw(st.sampled_from(["no", "controlled", "untreated", "unknown"])),
        surgeries_and_fractures=draw(st.lists(surgeries, max_size=2)),
        home_use={
            "planned": planned,
            "during_sleep": draw(YNU),
            "while_driving_or_operating_machinery": draw(YNU),
        },
        clearances=[
            {
                "rule_id": rule_id,
                "cleared_by": "Dr C. Test",
                "role": "specialist",
                "cleared_on": draw(past_date),
            }
            for rule_id in draw(st.lists(st.sampled_from(LIFTABLE), unique=True, max_size=2))
        ],
        arterial_disease=draw(st.lists(arterial_findings, max_size=2)),
        external_devices=draw(st.lists(worn_devices, max_size=2)),
        radiotherapy=draw(st.lists(radiotherapy_courses, max_size=1)),
        anticoagulant_therapy=draw(YNU),
        parkinsons_disease=draw(YNU),
        cognition=draw(st.sampled_from(["intact", "impaired", "dementia", "unknown"])),
        carer=draw(st.sampled_from(["none", "present", "supervises", "unknown"])),
    )
    if pregnancy in ("pregnant", "possible"):
        weeks = draw(st.none() | st.integers(min_value=0, max_value=42))
        if weeks is not None:
            document["gestational_age_weeks"] = weeks
    if arrhythmia != "no" and draw(st.booleans()):
        document["cardiac"]["arrhythmia_kind"] = draw(
            st.sampled_from(["atrial_fibrillation", "ventricular", "unknown"]))
    if draw(st.booleans()):
        document["cardiac"]["myocardial_infarction_on"] = draw(past_date)
    if epilepsy != "no" and draw(st.booleans()):
        document["seizure_control"] = draw(
            st.sampled_from(["controlled", "uncontrolled", "unknown"]))
    for question in draw(st.lists(st.sampled_from(LIST_QUESTIONS), max_size=2, unique=True)):
        document[question] = "unknown"
    return document


# --------------------------------------------------------------------------- changes


def _worsenings(document: dict) -> list:
    """Every way of adding one finding or contraindication: (name, change) pairs."""

    def append(key):
        def change(doc, item):
            doc[key] = [*doc[key], item]

        return change

    def set_answer(*path):
        def change(doc, value):
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return change

    def listed(key, values):
        """Append to a list question, or make an empty one unknown (never loosens)."""
        if document[key] == "unknown":
            return []
        entries = [(key, values, append(key))]
        if not document[key]:
            entries.append((f"{key} unknown", st.just("unknown"), set_answer(key)))
        return entries

    sensed = [] if document["sensation"] == "unknown" else document["sensation"]
    untested = [s for s in SITES if s not in {f["site"] for f in sensed}]
    options = [
        *listed("implants", implants()),
        *listed("thromboses", thromboses),
        *listed("malignancies", malignancies()),
        *listed("skin", skin_findings),
        *listed("allodynia", allodynias),
        *listed("surgeries_and_fractures", surgeries),
        *listed("arterial_disease", arterial_findings),
        *listed("external_devices", worn_devices),
        *listed("radiotherapy", radiotherapy_courses),
        ("pain site", place, append("pain_sites")),
        ("recent infarction date", st.integers(min_value=0, max_value=180).map(
            lambda days: (ASSESSED - timedelta(days=days)).isoformat()),
         set_answer("cardiac", "myocardial_infarction_on")),
        ("younger", st.integers(min_value=4, max_value=17), set_answer("age_years")),
        ("home use planned", st.just(True), set_answer("home_use", "planned")),
    ]
    if untested and document["sensation"] != "unknown":
        options.append(
            (
                "sensation",
                st.fixed_dictionaries(
                    {
                        "site": st.sampled_from(untested),
                        "status": st.sampled_from(["reduced", "absent"]),
                    }
                ),
                append("sensation"),
            )
        )
    for condition in ("arrhythmia", "heart_failure", "recent_myocardial_infarction"):
        if document["cardiac"][condition] == "no":
            options.append(
                (condition, st.sampled_from(["yes", "unknown"]), set_answer("cardiac", condition))
            )
    if document["epilepsy"] == "no":
        options.append(("epilepsy", st.sampled_from(["yes", "unknown"]), set_answer("epilepsy")))
    if document["sex"] != "male" and document["pregnancy"] in ("not_pregnant", "not_applicable"):
        options.append(
            (
                "pregnancy",
                st.sampled_from(["pregnant", "possible", "unknown"]),
                set_answer("pregnancy"),
            )
        )
    if document["can_report_sensations"] == "yes":
        options.append(
            (
                "cannot report",
                st.sampled_from(["no", "unknown"]),
                set_answer("can_report_sensations"),
            )
        )
    worse_bleeding = {
        "no": ["controlled", "untreated", "unknown"],
        "unknown": ["controlled", "untreated"],
        "controlled": ["untreated"],
    }.get(document["bleeding_tendency"])
    if worse_bleeding:
        options.append(
            ("bleeding", st.sampled_from(worse_bleeding), set_answer("bleeding_tendency"))
        )
    for answer in ("during_sleep", "while_driving_or_operating_machinery"):
        if document["home_use"][answer] == "no":
            options.append(
                (answer, st.sampled_from(["yes", "unknown"]), set_answer("home_use", answer))
            )
    for answer in ("anticoagulant_therapy", "parkinsons_disease"):
        if document[answer] == "no":
            options.append((answer, st.sampled_from(["yes", "unknown"]), set_answer(answer)))
    if document["cognition"] == "intact":
        options.append(("cognition", st.sampled_from(["impaired", "dementia", "unknown"]),
                        set_answer("cognition")))
    if document["carer"] == "supervises":
        options.append(("carer", st.sampled_from(["none", "present", "unknown"]),
                        set_answer("carer")))
    weeks = document.get("gestational_age_weeks")
    if document["pregnancy"] == "pregnant" and weeks is not None and weeks >= 13:
        options.append(("early pregnancy", st.integers(min_value=0, max_value=12),
                        set_answer("gestational_age_weeks")))
    return options


def _unknowings(document: dict) -> list[tuple[str, callable]]:
    """Every way of turning one "no" (or a recorded fact) into "unknown" or not recorded."""
    changes = []

    def setter(*path, value="unknown"):
        def change(doc):
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return change

    for condition, answer in document["cardiac"].items():
        if answer == "no":
            changes.append((f"cardiac.{condition}", setter("cardiac", condition)))
    if document["epilepsy"] == "no":
        changes.append(("epilepsy", setter("epilepsy")))
    if document["can_report_sensations"] == "yes":
        changes.append(("can_report_sensations", setter("can_report_sensations")))
    if document["bleeding_tendency"] == "no":
        changes.append(("bleeding_tendency", setter("bleeding_tendency")))
    if document["pregnancy"] in ("not_pregnant", "not_applicable"):
        changes.append(("pregnancy", setter("pregnancy")))
        if document["sex"] != "male":
            changes.append(("pregnancy possible", setter("pregnancy", value="possible")))
    for answer in ("during_sleep", "while_driving_or_operating_machinery"):
        if document["home_use"][answer] == "no":
            changes.append((answer, setter("home_use", answer)))
    for i, item in enumerate(document["surgeries_and_fractures"]
                             if document["surgeries_and_fractures"] != "unknown" else []):
        if item["healing"] == "healed":
            changes.append((f"healing {i}", setter("surgeries_and_fractures", i, "healing")))
    for i, item in enumerate(document["malignancies"]
                             if document["malignancies"] != "unknown" else []):
        if "radiotherapy_ended_on" in item:

            def forget_date(doc, i=i):
                del doc["malignancies"][i]["radiotherapy_ended_on"]

            changes.append((f"radiotherapy date {i}", forget_date))
    for key in LIST_QUESTIONS:
        if document[key] == []:
            changes.append((f"{key} unknown", setter(key)))
    for answer in ("anticoagulant_therapy", "parkinsons_disease"):
        if document[answer] == "no":
            changes.append((answer, setter(answer)))
    if document["cognition"] == "intact":
        changes.append(("cognition", setter("cognition")))
    if document["carer"] == "supervises":
        changes.append(("carer", setter("carer")))
    if document.get("gestational_age_weeks") is not None:

        def forget_weeks(doc):
            del doc["gestational_age_weeks"]

        changes.append(("weeks of pregnancy", forget_weeks))
    for i, item in enumerate(document["arterial_disease"]
                             if document["arterial_disease"] != "unknown" else []):
        if item["severity"] != "unknown":
            changes.append((f"severity {i}", setter("arterial_disease", i, "severity")))
    for i, item in enumerate(document["sensation"] if document["sensation"] != "unknown" else []):
        if item["status"] == "normal":

            def forget_test(doc, i=i):
                del doc["sensation"][i]

            changes.append((f"sensation test {i}", forget_test))
    return changes


# --------------------------------------------------------------------------- comparisons


def assert_not_looser(before: Screening, after: Screening, what: str) -> None:
    """``after`` is at least as restrictive as ``before`` in every respect."""
    assert DECISION_ORDER[after.decision] >= DECISION_ORDER[before.decision], what
    assert set(after.forbidden_sites) >= set(before.forbidden_sites), what
    assert set(after.allowed_sites) <= set(before.allowed_sites), what
    for site_name, level in before.site_max_level.items():
        assert site_name in after.site_max_level, (what, site_name)
        assert LEVEL_ORDER[after.site_max_level[site_name]] <= LEVEL_ORDER[level], what
    if before.caps.max_level is not None:
        assert after.caps.max_level is not None, what
        assert LEVEL_ORDER[after.caps.max_level] <= LEVEL_ORDER[before.caps.max_level], what
    if before.caps.max_amplitude_ma is not None:
        assert after.caps.max_amplitude_ma is not None, what
        assert after.caps.max_amplitude_ma <= before.caps.max_amplitude_ma, what
    if before.supervised_titration_required:
        assert after.supervised_titration_required, what
    if not before.home_use_allowed:
        assert not after.home_use_allowed, what
    assert set(after.home_use_forbidden_sites) >= set(before.home_use_forbidden_sites), what


def _screen(document: dict) -> Screening:
    return screen(intake_from(document))


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(document=intakes(), data=st.data())
def test_HAZ014_adding_a_finding_never_makes_screening_more_permissive(document, data):
    options = _worsenings(document)
    name, values, change = data.draw(st.sampled_from(options), label="change")
    worse = copy.deepcopy(document)
    change(worse, data.draw(values, label=name))
    assert_not_looser(_screen(document), _screen(worse), name)


@PROPERTY_SETTINGS
@given(document=intakes(), data=st.data())
def test_HAZ014_several_findings_in_a_row_never_loosen_anything(document, data):
    before = _screen(document)
    for step in range(3):
        name, values, change = data.draw(
            st.sampled_from(_worsenings(document)), label=f"change {step}"
        )
        document = copy.deepcopy(document)
        change(document, data.draw(values, label=name))
        after = _screen(document)
        assert_not_looser(before, after, name)
        before = after


@PROPERTY_SETTINGS
@given(document=intakes(), data=st.data())
def test_HAZ019_unknown_is_never_more_permissive_than_no(document, data):
    changes = _unknowings(document)
    if not changes:
        return
    name, change = data.draw(st.sampled_from(changes), label="made unknown")
    vaguer = copy.deepcopy(document)
    change(vaguer)
    assert_not_looser(_screen(document), _screen(vaguer), name)


@PROPERTY_SETTINGS
@given(document=intakes())
def test_HAZ015_sites_are_split_into_allowed_and_forbidden(document):
    screening = _screen(document)
    allowed, forbidden = set(screening.allowed_sites), set(screening.forbidden_sites)
    assert allowed | forbidden == SITE_NAMES
    assert not allowed & forbidden
    assert list(screening.allowed_sites) == sorted(allowed)
    assert set(screening.caps.forbidden_sites) == forbidden
    assert screening.caps.site_max_level == screening.site_max_level
    assert set(screening.site_max_level) <= SITE_NAMES
    assert forbidden <= set(screening.home_use_forbidden_sites)
    for rule_ids in screening.forbidden_sites.values():
        assert rule_ids
    for eye_or_neck in ("left_eye", "right_eye", "left_neck_anterior", "right_neck_anterior"):
        assert "placement.forbidden-site" in screening.forbidden_sites[eye_or_neck]


@PROPERTY_SETTINGS
@given(document=intakes())
def test_HAZ014_decision_is_the_strictest_of_what_fired(document):
    screening = _screen(document)
    tier_decision = {
        "absolute": "not_eligible",
        "clearance": "needs_specialist_clearance",
        "site_restricted": "eligible_with_precautions",
        "precaution": "eligible_with_precautions",
    }
    expected = "eligible"
    for finding in screening.findings:
        decision = (
            "eligible_with_precautions"
            if finding.status == "cleared"
            else tier_decision[finding.tier]
        )
        expected = max(expected, decision, key=DECISION_ORDER.__getitem__)
    if not screening.allowed_sites:
        expected = "not_eligible"
    assert screening.decision == expected
    if screening.unknown_answers:
        assert screening.decision != "eligible"
    if screening.decision not in ("eligible", "eligible_with_precautions"):
        assert not screening.home_use_allowed
    cleared = {f.rule_id for f in screening.findings if f.status == "cleared"}
    recorded = {c["rule_id"] for c in document["clearances"]}
    assert cleared | set(screening.unused_clearances) == recorded
    assert not cleared & set(screening.unused_clearances)


@PROPERTY_SETTINGS
@given(document=intakes())
def test_HAZ014_texts_explain_for_the_clinician_and_hide_ids_from_the_patient(document):
    screening = _screen(document)
    text = clinician_text(screening)
    for finding in screening.findings:
        assert finding.rule_id in text
        for citation in finding.sources:
            assert citation.source in text
    for_patient = patient_text(screening)
    assert not any(marker in for_patient for marker in ("CI-", "SR-", "PR-", "placement."))
    assert "will relieve" not in for_patient.lower() and "cure" not in for_patient.lower()
