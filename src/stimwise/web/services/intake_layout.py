"""Where and how the intake page asks each question: its sections, their order, the widget of
each question, and which details appear only after a given answer.

The words are not here: every label, help text and choice comes from
:mod:`stimwise.clinical.labels` (the intake model's titles and the choice words) and every body
site's name from :mod:`stimwise.protocol.site_names`. This module only arranges the model's
questions the way a physiotherapist asks them, from the person to the questionnaires, so that
the page is short to scan and quick to complete:

* a yes/no/unknown question is a row of three buttons (one tap), never a drop-down;
* a list question (implants, skin findings...) is first answered "No", "Yes" or "Unknown";
  only "Yes" opens its rows;
* a detail that only makes sense after an answer (the kind of arrhythmia after "yes") is shown
  only then, and the server reads it only then (:func:`shown`), so what the page hides is never
  recorded (HAZ-164);
* a place is picked on the body map or from grouped choices, or typed ("right hand").

A question's path is the intake model's dotted path; a row field's path is relative to its row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Widget = Literal[
    "choice", "select", "checks", "number", "date", "text", "sites", "site", "flag", "yesno"
]
"""How a question is asked: ``choice`` a row of buttons (radios), ``select`` a drop-down for a
long list, ``checks`` checkboxes, ``sites`` several places and ``site`` one place (map, list or
typed), ``flag`` an optional tick, ``yesno`` a required yes/no for a true/false field."""


@dataclass(frozen=True)
class ShowWhen:
    """The question is asked only when the answer at ``path`` (a sibling in the same row, or a
    top-level path) is one of ``values``."""

    path: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Ask:
    """One question.

    ``more`` puts it under the row's or section's "More details" disclosure (optional details
    that most people do not need); ``show_when`` asks it only after a given answer.
    """

    path: str
    widget: Widget
    show_when: ShowWhen | None = None
    more: bool = False


@dataclass(frozen=True)
class ListAsk:
    """A list question: answered "No", "Yes" (with one row per entry) or "Unknown".

    ``several`` names the row's one-place field that may take several places on the page: the
    row becomes one entry per place ("Absent sensation, 10 g monofilament: both feet" is two
    sensation findings), so the same finding at several sites is entered once.
    """

    path: str
    fields: tuple[Ask, ...]
    several: str | None = None


@dataclass(frozen=True)
class InstrumentsAsk:
    """The questionnaires, each asked item by item with its score as it is answered."""


@dataclass(frozen=True)
class ClearancesAsk:
    """Specialist clearances, chosen from the rules that apply to this person."""


Item = Ask | ListAsk | InstrumentsAsk | ClearancesAsk


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...]
    intro: str | None = None


_YES_OR_UNKNOWN = ("yes", "unknown")

DIAGNOSIS = ListAsk("diagnoses", (
    Ask("kind", "choice"),
    Ask("crps_type", "choice", ShowWhen("kind", ("crps",))),
    Ask("cause", "choice", ShowWhen("kind", ("neuropathy",))),
    Ask("painful", "choice", ShowWhen("kind", ("neuropathy",))),
    Ask("description", "text", ShowWhen("kind", ("other",))),
    Ask("affected_sites", "sites"),
))

SECTIONS: tuple[Section, ...] = (
    Section("person", "Person", (
        Ask("assessed_on", "date"),
        Ask("age_years", "number"),
        Ask("sex", "choice"),
        Ask("sex_note", "text", more=True),
        Ask("pregnancy", "choice"),
        Ask("gestational_age_weeks", "number", ShowWhen("pregnancy", ("pregnant", "possible"))),
        Ask("can_report_sensations", "choice"),
        Ask("cognition", "choice"),
        Ask("carer", "choice"),
    )),
    Section("diagnoses", "Diagnoses and pain", (
        DIAGNOSIS,
        Ask("pain_sites", "sites"),
        Ask("goals", "checks"),
    )),
    Section("heart", "Heart and implants", (
        Ask("cardiac.arrhythmia", "choice"),
        Ask("cardiac.arrhythmia_kind", "select", ShowWhen("cardiac.arrhythmia", _YES_OR_UNKNOWN)),
        Ask("cardiac.heart_failure", "choice"),
        Ask("cardiac.recent_myocardial_infarction", "choice"),
        Ask("cardiac.myocardial_infarction_on", "date", more=True),
        ListAsk("implants", (
            Ask("kind", "select"),
            Ask("site", "site"),
            Ask("lead_sites", "sites", more=True),
            Ask("note", "text", more=True),
        )),
        ListAsk("external_devices", (
            Ask("kind", "select"),
            Ask("site", "site"),
            Ask("note", "text", more=True),
        )),
    )),
    Section("conditions", "Other conditions", (
        Ask("epilepsy", "choice"),
        Ask("seizure_control", "choice", ShowWhen("epilepsy", _YES_OR_UNKNOWN)),
        Ask("parkinsons_disease", "choice"),
        Ask("bleeding_tendency", "choice"),
        Ask("anticoagulant_therapy", "choice"),
        ListAsk("thromboses", (
            Ask("kind", "choice"),
            Ask("status", "choice"),
            Ask("site", "site"),
            Ask("occurred_on", "date", more=True),
        )),
        ListAsk("arterial_disease", (
            Ask("site", "sites"),
            Ask("severity", "choice"),
        ), several="site"),
        ListAsk("malignancies", (
            Ask("site", "site"),
            Ask("status", "choice"),
            Ask("treatments", "checks"),
            Ask("radiotherapy_ended_on", "date", ShowWhen("treatments", ("radiotherapy",))),
            Ask("irradiated_sites", "sites", ShowWhen("treatments", ("radiotherapy",))),
            Ask("palliative_care", "flag"),
        )),
        ListAsk("radiotherapy", (
            Ask("sites", "sites"),
            Ask("ended_on", "date"),
            Ask("reason", "text", more=True),
        )),
        ListAsk("surgeries_and_fractures", (
            Ask("kind", "choice"),
            Ask("site", "sites"),
            Ask("healing", "choice"),
            Ask("occurred_on", "date", more=True),
        ), several="site"),
    )),
    Section("skin", "Skin and sensation", (
        ListAsk("skin", (Ask("site", "sites"), Ask("finding", "select")), several="site"),
        ListAsk("sensation", (
            Ask("site", "sites"),
            Ask("status", "choice"),
            Ask("method", "select"),
        ), several="site"),
        ListAsk("allodynia", (Ask("site", "sites"), Ask("stimulus", "select")), several="site"),
    ), intro="One row per finding; a row may name several places (for example both feet)."),
    Section("home", "Home use", (
        Ask("home_use.planned", "yesno"),
        Ask("home_use.during_sleep", "choice", ShowWhen("home_use.planned", ("true",))),
        Ask("home_use.while_driving_or_operating_machinery", "choice",
            ShowWhen("home_use.planned", ("true",))),
    )),
    Section("questionnaires", "Questionnaires", (InstrumentsAsk(),),
            intro="Open a questionnaire to answer it item by item; its score is shown as you "
            "answer. Leave unused questionnaires closed."),
    Section("clearances", "Specialist clearances", (ClearancesAsk(),)),
)
"""The page, section by section, in the order a physiotherapist asks."""


def list_asks() -> tuple[ListAsk, ...]:
    """Every list question of the layout."""
    return tuple(i for s in SECTIONS for i in s.items if isinstance(i, ListAsk))


def shown(ask: Ask, form: Mapping[str, list[str]], row_prefix: str = "") -> bool:
    """Whether the page asks ``ask`` given the answers in ``form`` (``row_prefix`` is the form
    name of its row, e.g. ``implants.0.``, for a condition on a sibling field)."""
    if ask.show_when is None:
        return True
    condition = ask.show_when
    name = f"{row_prefix}{condition.path}" if row_prefix and "." not in condition.path else (
        condition.path)
    return any(v in condition.values for v in form.get(name, ()))
