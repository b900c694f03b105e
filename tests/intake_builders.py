"""Builders of intakes for screening tests.

``base_intake()`` is the raw document of a complete intake (format 2) of a healthy adult whose
every safety answer is "no" (or empty) and whose only diagnosis is chronic low back pain:
screened, it is ``eligible`` with no finding. ``format_1_intake()`` is the same person written in
format 1, which did not ask the questions of :data:`FORMAT_2_ANSWERS`. Tests give only what
they are about::

    base_intake(epilepsy="unknown")
    base_intake(implants=[implant("demand_pacemaker", "left_chest")])
    make_intake(diagnoses=[crps("left_hand")], allodynia=[{"site": "left_hand"}])
    screen_of(pregnancy="pregnant")

Nested mappings (``cardiac``, ``home_use``) may be given partly, e.g.
``base_intake(cardiac={"arrhythmia": "yes"})``; the other answers stay "no". ``base_intake``
returns plain data, so a test may also delete a field to see that it is required.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from stimwise.clinical.intake import Intake
from stimwise.clinical.screening import Screening, screen
from stimwise.protocol.io import validate_model

ASSESSED_ON = "2026-11-02"

REQUIRED_SAFETY_FIELDS: tuple[str, ...] = (
    "implants",
    "cardiac",
    "epilepsy",
    "pregnancy",
    "skin",
    "sensation",
    "allodynia",
    "can_report_sensations",
    "bleeding_tendency",
    "thromboses",
    "malignancies",
    "surgeries_and_fractures",
    "home_use",
)
"""Safety answers an intake must give; none has a default."""

_MERGED = ("cardiac", "home_use")

FORMAT_2_ANSWERS: dict = {
    "parkinsons_disease": "no",
    "external_devices": [],
    "arterial_disease": [],
    "radiotherapy": [],
    "cognition": "intact",
    "carer": "none",
    "anticoagulant_therapy": "no",
}
"""The all-"no" answers to the questions format 2 added."""


def base_intake(**overrides: Any) -> dict:
    """A complete, all-"no" intake document of a healthy adult with chronic low back pain."""
    document: dict = {
        "schema_version": 2,
        "patient_id": "TEST-0001",
        "assessed_on": ASSESSED_ON,
        "age_years": 46,
        "sex": "female",
        "pregnancy": "not_pregnant",
        "diagnoses": [
            {
                "kind": "other",
                "description": "chronic non-specific low back pain",
                "affected_sites": ["left_lower_back", "right_lower_back"],
            }
        ],
        "pain_sites": [],
        "implants": [],
        "cardiac": {
            "arrhythmia": "no",
            "heart_failure": "no",
            "recent_myocardial_infarction": "no",
        },
        "epilepsy": "no",
        "thromboses": [],
        "malignancies": [],
        "skin": [],
        "sensation": [],
        "allodynia": [],
        "can_report_sensations": "yes",
        "bleeding_tendency": "no",
        "surgeries_and_fractures": [],
        "home_use": {
            "planned": True,
            "during_sleep": "no",
            "while_driving_or_operating_machinery": "no",
        },
        "goals": ["pain_relief"],
        "clearances": [],
        **copy.deepcopy(FORMAT_2_ANSWERS),
    }
    for key, value in overrides.items():
        if key in _MERGED and isinstance(value, dict):
            document[key] = {**document[key], **copy.deepcopy(value)}
        else:
            document[key] = copy.deepcopy(value)
    return document


def format_1_intake(**overrides: Any) -> dict:
    """:func:`base_intake` as a format 1 file: without the questions format 2 added."""
    document = base_intake(**overrides)
    document["schema_version"] = 1
    for question in FORMAT_2_ANSWERS:
        if question not in overrides:
            del document[question]
    return document


def intake_from(document: dict) -> Intake:
    """Validate a document as an :class:`Intake` (``InputError`` when it is not one)."""
    return validate_model(Intake, document, source="tests/intake_builders.py")


def make_intake(**overrides: Any) -> Intake:
    """A validated :class:`Intake`: :func:`base_intake` with ``overrides``."""
    return intake_from(base_intake(**overrides))


def screen_of(**overrides: Any) -> Screening:
    """The screening of :func:`make_intake` ``(**overrides)``."""
    return screen(make_intake(**overrides))


def fired(screening: Screening) -> set[str]:
    """Ids of every rule with a finding (applies, possible or cleared)."""
    return {f.rule_id for f in screening.findings}


# --------------------------------------------------------------------------- small parts


def crps(*sites: str, crps_type: str = "I") -> dict:
    return {"kind": "crps", "crps_type": crps_type, "affected_sites": list(sites)}


def neuropathy(*sites: str, cause: str = "diabetic", painful: str = "yes") -> dict:
    return {"kind": "neuropathy", "cause": cause, "affected_sites": list(sites), "painful": painful}


def other(description: str = "chronic low back pain", *sites: str) -> dict:
    return {"kind": "other", "description": description, "affected_sites": list(sites)}


def implant(kind: str, site: str | None = None, **fields: Any) -> dict:
    item: dict = {"kind": kind, **fields}
    if site is not None:
        item["site"] = site
    return item


def thrombosis(site: str, status: str = "active", kind: str = "dvt", **fields: Any) -> dict:
    return {"kind": kind, "status": status, "site": site, **fields}


def arterial(site: str, severity: str = "not_severe") -> dict:
    return {"site": site, "severity": severity}


def worn(kind: str, site: str) -> dict:
    return {"kind": kind, "site": site}


def malignancy(site: str, status: str = "active", **fields: Any) -> dict:
    return {"site": site, "status": status, **fields}


def skin(site: str, finding: str) -> dict:
    return {"site": site, "finding": finding}


def sensation(site: str, status: str, method: str = "monofilament") -> dict:
    return {"site": site, "status": status, "method": method}


def allodynia(site: str, stimulus: str = "light_touch") -> dict:
    return {"site": site, "stimulus": stimulus}


def surgery(site: str, healing: str = "healing", kind: str = "fracture", **fields: Any) -> dict:
    return {"site": site, "kind": kind, "healing": healing, **fields}


def clearance(
    rule_id: str,
    *,
    cleared_by: str = "Dr A. Example",
    role: str = "cardiologist",
    cleared_on: str = "2026-10-20",
    note: str | None = None,
) -> dict:
    item: dict = {
        "rule_id": rule_id,
        "cleared_by": cleared_by,
        "role": role,
        "cleared_on": cleared_on,
    }
    if note is not None:
        item["note"] = note
    return item


def redated_example(name: str, *, patient_id: str, assessed_on: date) -> Intake:
    """An example patient assessed on another day, without instruments; dated events move to
    the day before, since an intake's events never follow its assessment."""
    from stimwise.clinical.examples import example_patient_path
    from stimwise.protocol.io import load_model_file

    example = load_model_file(Intake, example_patient_path(name))
    before = assessed_on - timedelta(days=1)
    return example.model_copy(update={
        "patient_id": patient_id, "assessed_on": assessed_on, "instruments": (),
        "surgeries_and_fractures": tuple(
            s.model_copy(update={"occurred_on": min(s.occurred_on, before)})
            if s.occurred_on else s for s in example.surgeries_and_fractures),
    })
