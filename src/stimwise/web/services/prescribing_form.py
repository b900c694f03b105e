"""The prescription editor's form: one protocol picker, site pickers, dose, dates and home ranges.

The page is written for the editor (``templates/prescribing/editor.html``), not generated from
the draft model, so that a physiotherapist reads words: protocols by their names (never their
ids), electrode sites chosen from the groups of
:func:`stimwise.protocol.site_names.site_choice_groups` (each marked with what the screening says
about it), and every refusal under the label of the field it concerns
(:func:`~stimwise.web.services.prescribing.draft_label`). A typed site name ("R calf") is
accepted by the draft model itself, so the API takes both.

The form posts names of the draft's paths (``channels.0.active_site``, ``amplitude_ma_max``...)
and :func:`read_form` turns them back into a draft document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import parse_number
from stimwise.protocol.body_sites import SITE_NAMES
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import library
from stimwise.protocol.models import PulseTrain
from stimwise.protocol.site_names import site_choice_groups
from stimwise.web.services.clinical import ScreeningView
from stimwise.web.services.prescribing import (
    RANGED,
    PrescriptionDraft,
    draft_label,
)

CHANNEL_FIELDS = ("label", "active_site", "return_site", "area_cm2")
NUMBER_FIELDS = ("max_amplitude_ma", "session_duration_min", "frequency_hz", "phase_width_us",
                 *(f"{name}_{end}" for name in RANGED for end in ("min", "max")))
TEXT_FIELDS = ("intake_id", "protocol_id", "valid_from", "valid_to", "review_on")
MAX_CHANNELS = 8
SCREENING_NOTES = {"forbidden": "not allowed by the screening",
                   "capped": "intensity capped by the screening"}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class OptionGroup:
    label: str
    options: tuple[Option, ...]


def protocol_options() -> tuple[Option, ...]:
    """Every library protocol by its name, in alphabetical order of the names."""
    return tuple(sorted((Option(pid, p.name) for pid, p in library().items()),
                        key=lambda o: o.label.lower()))


def is_pulse_train(protocol_id: str | None) -> bool:
    """Whether the protocol's waveform has a pulse rate and a phase width to set."""
    protocol = library().get(protocol_id or "")
    return protocol is not None and isinstance(protocol.waveform, PulseTrain)


def site_option_groups(view: ScreeningView | None) -> tuple[OptionGroup, ...]:
    """The sites an electrode may be placed on, grouped by region, each with what this
    person's screening says about it (only single sites: an electrode sits on one)."""
    statuses = view.sites if view is not None else {}
    groups = []
    for group in site_choice_groups():
        options = []
        for choice in group.choices:
            if choice.selector not in SITE_NAMES:
                continue
            status = statuses.get(choice.selector)
            note = SCREENING_NOTES.get(status.status) if status is not None else None
            options.append(Option(choice.selector,
                                  f"{choice.label} ({note})" if note else choice.label))
        if options:
            groups.append(OptionGroup(group.label, tuple(options)))
    return tuple(groups)


def _first(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _number(text: str) -> Any:
    try:
        return parse_number(text)
    except ValueError:
        return text  # validation names the field and what it expects


def read_form(form: Mapping[str, list[str]]) -> dict[str, Any]:
    """The submitted editor as a draft document (empty inputs and empty channel rows left out,
    so defaults apply and required fields are reported missing)."""
    data: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if text := _first(form, name):
            data[name] = text
    for name in NUMBER_FIELDS:
        if text := _first(form, name):
            data[name] = _number(text)
    data["home_use"] = _first(form, "home_use") in ("on", "true", "1", "yes")
    channels = []
    for index in range(MAX_CHANNELS + 1):
        row = {name: _first(form, f"channels.{index}.{name}") for name in CHANNEL_FIELDS}
        if not any(row.values()):
            continue
        row = {k: v for k, v in row.items() if v}
        if "area_cm2" in row:
            row["area_cm2"] = _number(row["area_cm2"])
        channels.append(row)
    if channels:
        data["channels"] = channels
    return data


def parse_form(form: Mapping[str, list[str]]) -> tuple[PrescriptionDraft | None, dict[str, Any],
                                                        list[FieldProblem]]:
    """``(draft, values, [])`` or ``(None, values, problems)``."""
    values = read_form(form)
    try:
        return validate_model(PrescriptionDraft, values, source="draft"), values, []
    except InputError as error:
        return None, values, list(error.problems)


@dataclass(frozen=True)
class ProblemLine:
    """A refusal as the page shows it: the field's words and what is expected."""

    path: str
    label: str
    expected: str
    value: Any

    @property
    def anchor(self) -> str:
        return "field-" + self.path.replace(".", "-")


def problem_lines(problems) -> list[ProblemLine]:
    return [ProblemLine(p.path, draft_label(p.path), p.expected, p.value) for p in problems]


def problems_by_field(lines: list[ProblemLine]) -> dict[str, list[str]]:
    """Each field's problems, to show next to its input."""
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(line.path, []).append(line.expected)
    return out
