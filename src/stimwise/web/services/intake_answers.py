"""The intake page's answers read into an intake document, and an intake written back as the
page's answers.

The page (:mod:`stimwise.web.services.intake_layout`) sends every input as text, by name:

* a question by its model path (``cardiac.arrhythmia``, ``home_use.planned``);
* a list question's answer as ``implants.__answer`` (``no``, ``yes`` or ``unknown``), its rows as
  ``implants.0.kind``... and how many rows the page holds as ``implants.__rows``;
* a place field as the chosen site selectors (several values of ``pain_sites``) plus what was
  typed, ``pain_sites.__typed``, matched by :func:`stimwise.protocol.site_names.find_each_site`
  ("right hand", "both feet"); a typed name that matches nothing or several places is refused
  with suggestions, never guessed (HAZ-162);
* a questionnaire as ``instruments.0.instrument``, ``.version``, ``.answered_on`` and one
  ``.answers.<item>`` per item;
* a clearance as ``clearances.0.rule_id`` with ``.__chosen`` ticked, who, role and date.

:func:`read_answers` turns them into an intake document of format 2 (``schema_version: 2``) and
:func:`check_answers` validates it as :class:`~stimwise.clinical.intake.Intake`, the same model
the command line reads from files. Every problem is anchored at the input that caused it, even
when a row of the page became several entries (a finding at "both feet" is two findings). A
question left unanswered stays missing and is reported (never read as "no", HAZ-161); a detail
the page hides is not read (HAZ-164).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.clinical.instruments.questionnaire import (
    Question,
    answer_choices,
    questionnaire,
)
from stimwise.clinical.intake import FORMAT_2_QUESTIONS, LIST_QUESTIONS, UNKNOWN, Intake
from stimwise.clinical.labels import accepts_unknown, field_info
from stimwise.clinical.rules import screening_rules
from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import parse_number
from stimwise.protocol.body_sites import SELECTOR_NAMES
from stimwise.protocol.io import validate_model
from stimwise.protocol.site_names import find_each_site, site_label
from stimwise.web.services.intake_layout import (
    SECTIONS,
    Ask,
    ListAsk,
    list_asks,
    shown,
)

FormValues = Mapping[str, list[str]]
"""Each input name with every value the browser sent for it (checkboxes send several)."""

ANSWER = "__answer"
ROWS = "__rows"
TYPED = "__typed"
CHOSEN = "__chosen"
LIST_ANSWERS = ("yes", "no", "unknown")
"""A list question's answer on the page: entries listed, none, or not known (in the order of the
yes/no/unknown questions, so that "No" is always in the same place)."""
MAX_ROWS = 60
"""Rows read per list (a page never holds more; a forged count cannot make the server loop)."""

INSTRUMENT_ORDER: tuple[str, ...] = (
    "pain_nrs", "dn4", "mnsi_questionnaire", "mnsi_examination", "budapest", "css",
    "sleep_interference", "pgic",
)
"""The questionnaires in the order the page offers them (pain first)."""


@dataclass(frozen=True)
class AnchoredProblem:
    """A problem of the answers and the input it belongs to.

    ``anchor`` is the page's input name (``sensation.1.site``) or a prefix of it; ``problem`` is
    at the intake document's path (``sensation.3.site``), for its words; ``words``, when given,
    is already what to say; ``suggestions`` are site selectors the person may have meant.
    """

    anchor: str
    problem: FieldProblem
    words: str | None = None
    suggestions: tuple[str, ...] = ()
    said: bool = False
    """``words`` is a whole statement ("'hand' does not say which side"), not what is needed."""


@dataclass
class Answers:
    """What :func:`read_answers` made of the page: the intake document, the problems found while
    reading it, and where each document row sits on the page (``sensation.3`` →
    ``sensation.1``)."""

    data: dict[str, Any]
    problems: list[AnchoredProblem] = field(default_factory=list)
    anchors: dict[str, str] = field(default_factory=dict)

    def anchor_of(self, path: str) -> str:
        """The page's input name for a document path."""
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if head in self.anchors:
                return ".".join([self.anchors[head], *parts[cut:]])
        return path


# --------------------------------------------------------------------------- small readers


def first(form: FormValues, name: str) -> str:
    """The first value of an input, stripped ('' when absent)."""
    values = form.get(name) or [""]
    return values[0].strip()


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def read_sites(form: FormValues, name: str, out: list[AnchoredProblem]) -> list[str]:
    """The places of a place field: the chosen selectors, then what was typed, matched."""
    found: list[str] = []
    for value in form.get(name, ()):
        if value in SELECTOR_NAMES:
            found.append(value)
        elif value.strip():
            out.append(AnchoredProblem(name, FieldProblem(name, value, "a body site"),
                                       "a body site from the list"))
    typed = first(form, f"{name}.{TYPED}")
    for match in find_each_site(typed) if typed else ():
        if match.matched:
            found += match.selectors
            continue
        hint = ""
        if match.suggestions:
            hint = " — did you mean " + " or ".join(site_label(s) for s in match.suggestions) + "?"
        out.append(AnchoredProblem(f"{name}.{TYPED}", FieldProblem(name, match.text, "a body site"),
                                   f"{match.problem}{hint}", match.suggestions, said=True))
    return list(dict.fromkeys(found))


def _read_ask(ask: Ask, form: FormValues, name: str, out: list[AnchoredProblem]) -> Any:
    """One question's answer as the model takes it, or ``None`` when not answered."""
    if ask.widget in ("sites", "site"):
        places = read_sites(form, name, out)
        if ask.widget == "site" and len(places) > 1:
            out.append(AnchoredProblem(name, FieldProblem(name, None, "one place"),
                                       "one place (choose the one where it sits)"))
            return None
        if ask.widget == "site":
            return places[0] if places else None
        return places or None
    if ask.widget == "checks":
        return [v for v in form.get(name, ()) if v.strip()] or None
    if ask.widget == "flag":
        return first(form, name) == "on"
    text = first(form, name)
    if not text:
        return None
    if ask.widget == "yesno":
        return {"true": True, "false": False}.get(text, text)
    if ask.widget == "number":
        try:
            return parse_number(text, integer=True)
        except ValueError:
            return text  # the model names the field and what it expects
    return text


# --------------------------------------------------------------------------- reading the page


def read_answers(form: FormValues, pseudonym: str) -> Answers:
    """The page's answers as an intake document of format 2, without validating it.

    An unanswered question is left out, so that validation reports it (an unanswered safety
    question is never "no"); a detail whose condition is not met, and the rows of a list
    answered "No" or "Unknown", are not read (the page hides them).
    """
    answers = Answers(data={"schema_version": 2, "patient_id": pseudonym})
    for section in SECTIONS:
        for item in section.items:
            if isinstance(item, Ask):
                if shown(item, form):
                    value = _read_ask(item, form, item.path, answers.problems)
                    if value is not None:
                        _set(answers.data, item.path, value)
            elif isinstance(item, ListAsk):
                _read_list(item, form, answers)
    _read_instruments(form, answers)
    _read_clearances(form, answers)
    if "home_use" not in answers.data:
        answers.data["home_use"] = {}  # so that validation names "Home use planned" itself
    if "cardiac" not in answers.data:
        answers.data["cardiac"] = {}
    return answers


def row_count(form: FormValues, path: str) -> int:
    """How many rows the page holds for a list (at most :data:`MAX_ROWS`)."""
    try:
        return max(0, min(int(first(form, f"{path}.{ROWS}") or 0), MAX_ROWS))
    except ValueError:
        return 0


def _row_is_blank(ask: ListAsk, form: FormValues, prefix: str) -> bool:
    for row_field in ask.fields:
        name = f"{prefix}{row_field.path}"
        if any(v.strip() for v in form.get(name, ())) or first(form, f"{name}.{TYPED}"):
            return False
    return True


def _read_list(ask: ListAsk, form: FormValues, answers: Answers) -> None:
    answer = first(form, f"{ask.path}.{ANSWER}")
    if answer == "no":
        answers.data[ask.path] = []
        return
    if answer == "unknown":
        answers.data[ask.path] = UNKNOWN
        return
    rows: list[dict[str, Any]] = []
    for index in range(row_count(form, ask.path)):
        prefix = f"{ask.path}.{index}."
        if _row_is_blank(ask, form, prefix):
            continue
        row: dict[str, Any] = {}
        for row_field in ask.fields:
            if shown(row_field, form, prefix):
                value = _read_ask(row_field, form, f"{prefix}{row_field.path}", answers.problems)
                if value is not None:
                    row[row_field.path] = value
        places = row.pop(ask.several, None) if ask.several else None
        for place in places or [None]:
            entry = dict(row) if place is None else {**row, ask.several: place}
            answers.anchors[f"{ask.path}.{len(rows)}"] = f"{ask.path}.{index}"
            rows.append(entry)
    if rows:
        answers.data[ask.path] = rows
    elif answer == "yes":
        answers.problems.append(AnchoredProblem(
            ask.path, FieldProblem(ask.path, None, "an entry"),
            "at least one entry (or answer 'No')"))


def answer_value(question: Question, text: str) -> Any:
    """The stored value of the answer whose text the page sent (a number, a word, yes/no)."""
    for choice in question.choices:
        if str(choice.value) == text:
            return choice.value
    return text  # not a choice of this item: the instrument's check names it


def _read_instruments(form: FormValues, answers: Answers) -> None:
    responses = []
    for index in range(row_count(form, "instruments")):
        prefix = f"instruments.{index}."
        instrument = first(form, f"{prefix}instrument")
        version = first(form, f"{prefix}version") or None
        try:
            asked = questionnaire(instrument, version)
        except InputError as error:
            for problem in error.problems:
                answers.problems.append(AnchoredProblem(f"{prefix}{problem.path}", problem))
            continue
        given = {}
        for question in asked.questions:  # items of another version are hidden, not read
            text = first(form, f"{prefix}answers.{question.item_id}")
            if text:
                given[question.item_id] = answer_value(question, text)
        if not given:
            continue
        response: dict[str, Any] = {"instrument": instrument, "answers": given}
        if version:
            response["version"] = version
        answered_on = first(form, f"{prefix}answered_on")
        if answered_on:
            response["answered_on"] = answered_on
        answers.anchors[f"instruments.{len(responses)}"] = f"instruments.{index}"
        responses.append(response)
    if responses:
        answers.data["instruments"] = responses


CLEARANCE_FIELDS = ("cleared_by", "role", "cleared_on", "note")


def _read_clearances(form: FormValues, answers: Answers) -> None:
    """Only the ticked clearances, each with its rule, who, role and date (HAZ-163): a ticked
    one without them is refused by the model, an unticked one is not recorded."""
    cleared = []
    for index in range(row_count(form, "clearances")):
        prefix = f"clearances.{index}."
        if first(form, f"{prefix}{CHOSEN}") != "on":
            continue
        entry = {"rule_id": first(form, f"{prefix}rule_id")}
        for name in CLEARANCE_FIELDS:
            text = first(form, f"{prefix}{name}")
            if text:
                entry[name] = text
        answers.anchors[f"clearances.{len(cleared)}"] = f"clearances.{index}"
        cleared.append(entry)
    if cleared:
        answers.data["clearances"] = cleared


# --------------------------------------------------------------------------- validating


def check_answers(answers: Answers, source: str) -> tuple[Intake | None, list[AnchoredProblem]]:
    """Validate the document as an :class:`Intake`: ``(intake, [])``, or ``(None, problems)``
    with the reading problems first and each model problem at its input (one problem per input:
    a place refused while reading is not reported again as missing)."""
    problems = list(answers.problems)
    try:
        intake = validate_model(Intake, answers.data, source=source)
    except InputError as error:
        intake = None
        read = {p.anchor.removesuffix(f".{TYPED}") for p in problems}
        for problem in error.problems:
            anchor = answers.anchor_of(problem.path)
            if problem.expected.startswith("Unable to extract tag using discriminator"):
                anchor = f"{anchor}.kind"  # a row that does not say its kind: at that question
            if any(anchor == field or anchor.startswith(f"{field}.") for field in read):
                continue  # the input was refused while reading: not again as missing
            problems.append(AnchoredProblem(anchor, problem))
    return (intake, []) if intake is not None and not problems else (None, problems)


def provisional_intake(data: Mapping[str, Any], today: date) -> Intake | None:
    """A best-effort intake of unfinished answers, ONLY to list which rules a clearance may
    lift while the page is being filled in (never stored, screened or shown as a screening).

    Unanswered questions count as "unknown" (so a rule they could trigger is "possible", not
    "applies"); a row or answer the model refuses is left out; a missing age or date takes a
    neutral value. ``None`` when even that does not validate.
    """
    trial = copy.deepcopy(dict(data))
    trial.setdefault("assessed_on", today.isoformat())
    for _ in range(4):
        try:
            return validate_model(Intake, trial, source="answers so far")
        except InputError as error:
            if not _patched(trial, error.problems):
                return None
    return None


_PLACEHOLDERS: dict[str, Any] = {"age_years": 50, "home_use.planned": False}
"""Neutral stand-ins of required answers that have no "unknown" (for :func:`provisional_intake`
only): the age and home use decide no rule a clearance can lift."""


def _patched(trial: dict[str, Any], problems) -> bool:
    changed = False
    dropped: dict[str, set[int]] = {}
    for problem in problems:
        parts = problem.path.split(".")
        top = parts[0]
        if top in LIST_QUESTIONS and len(parts) > 1 and parts[1].isdigit():
            dropped.setdefault(top, set()).add(int(parts[1]))
        elif top in ("instruments", "clearances"):
            trial.pop(top, None)
        elif problem.path in _PLACEHOLDERS:
            _set(trial, problem.path, _PLACEHOLDERS[problem.path])
        elif top in LIST_QUESTIONS or top in FORMAT_2_QUESTIONS or accepts_unknown(top):
            trial[top] = UNKNOWN
        elif _takes_unknown(problem.path):
            _set(trial, problem.path, UNKNOWN)
        elif _get(trial, problem.path) is not None:
            _drop(trial, problem.path)
        else:
            continue
        changed = True
    for top, rows in dropped.items():
        value = trial.get(top)
        if isinstance(value, list):
            trial[top] = [r for i, r in enumerate(value) if i not in rows]
            changed = True
    return changed


def _takes_unknown(path: str) -> bool:
    info = field_info(path)
    return info is not None and UNKNOWN in str(info.annotation)


def _drop(data: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node.pop(parts[-1], None)


# --------------------------------------------------------------------------- writing the page


def form_from_intake(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """An intake document (``model_dump(mode="json")``) as the page's answers: the same names
    :func:`read_answers` reads, so a revision starts from the recorded intake."""
    form: dict[str, list[str]] = {}
    for section in SECTIONS:
        for item in section.items:
            if isinstance(item, Ask):
                _write_ask(item, _get(data, item.path), item.path, form)
            elif isinstance(item, ListAsk):
                _write_list(item, data.get(item.path), form)
    _write_instruments(data.get("instruments") or (), form)
    _write_clearances(data.get("clearances") or (), form)
    return form


def liftable_rule_ids() -> tuple[str, ...]:
    """The rules a clearance may lift, in rule-book order: clearance ``i`` of the page is the
    clearance of rule ``i`` (a recorded clearance of another rule id follows them)."""
    return tuple(r.id for r in screening_rules().book.rules if r.liftable_by_clearance)


def _write_clearances(clearances, form: dict[str, list[str]]) -> None:
    slots = list(liftable_rule_ids())
    for clearance in clearances:
        rule_id = str(clearance["rule_id"])
        if rule_id not in slots:
            slots.append(rule_id)
        prefix = f"clearances.{slots.index(rule_id)}."
        form[f"{prefix}{CHOSEN}"] = ["on"]
        for name in CLEARANCE_FIELDS:
            if clearance.get(name) is not None:
                form[f"{prefix}{name}"] = [str(clearance[name])]
    for index, rule_id in enumerate(slots):
        form[f"clearances.{index}.rule_id"] = [rule_id]
    form["clearances.__rows"] = [str(len(slots))]


def _write_ask(ask: Ask, value: Any, name: str, form: dict[str, list[str]]) -> None:
    if value is None:
        return
    if ask.widget == "yesno":
        form[name] = ["true" if value else "false"]
    elif ask.widget == "flag":
        if value:
            form[name] = ["on"]
    elif isinstance(value, list | tuple):
        form[name] = [str(v) for v in value]
    else:
        form[name] = [str(value)]


def _grouped(ask: ListAsk, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neighbouring entries that differ only in their place, as one row of several places."""
    if not ask.several:
        return entries
    rows: list[dict[str, Any]] = []
    for entry in entries:
        rest = {k: v for k, v in entry.items() if k != ask.several}
        if rows and {k: v for k, v in rows[-1].items() if k != ask.several} == rest:
            rows[-1][ask.several].append(entry.get(ask.several))
        else:
            rows.append({**rest, ask.several: [entry.get(ask.several)]})
    return rows


def _write_list(ask: ListAsk, value: Any, form: dict[str, list[str]]) -> None:
    if value is None:  # not asked (format 1): the page asks it
        form[f"{ask.path}.{ROWS}"] = ["0"]
        return
    if value == UNKNOWN:
        form[f"{ask.path}.{ANSWER}"] = ["unknown"]
        form[f"{ask.path}.{ROWS}"] = ["0"]
        return
    rows = _grouped(ask, [dict(e) for e in value])
    form[f"{ask.path}.{ANSWER}"] = ["yes" if rows else "no"]
    form[f"{ask.path}.{ROWS}"] = [str(len(rows))]
    for index, row in enumerate(rows):
        for row_field in ask.fields:
            _write_ask(row_field, row.get(row_field.path), f"{ask.path}.{index}.{row_field.path}",
                       form)


def _answer_text(instrument: str, item_id: str, answer: Any) -> str:
    """The page's value of a recorded answer: the choice whose value the item's scale reads as
    the same answer (a file may say ``true`` where the page offers "Yes")."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None or item_id not in spec.item_ids:
        return str(answer)
    scale = spec.item(item_id).scale
    meant = scale.parse(answer)
    for choice in answer_choices(scale):
        if meant is not None and scale.parse(choice.value) == meant:
            return str(choice.value)
    return str(answer)


def _write_instruments(responses, form: dict[str, list[str]]) -> None:
    """Every recorded response, then one empty questionnaire of each kind not answered."""
    slots: list[dict[str, Any]] = []
    for instrument in INSTRUMENT_ORDER:
        mine = [r for r in responses if r.get("instrument") == instrument]
        slots += mine or [{"instrument": instrument}]
    slots += [r for r in responses if r.get("instrument") not in INSTRUMENT_ORDER]
    for index, response in enumerate(slots):
        prefix = f"instruments.{index}."
        form[f"{prefix}instrument"] = [str(response["instrument"])]
        for key in ("version", "answered_on"):
            if response.get(key) is not None:
                form[f"{prefix}{key}"] = [str(response[key])]
        for item, answer in (response.get("answers") or {}).items():
            form[f"{prefix}answers.{item}"] = [_answer_text(str(response["instrument"]), item,
                                                            answer)]
    form["instruments.__rows"] = [str(len(slots))]


def blank_form(today: date) -> dict[str, list[str]]:
    """The answers of a new intake: only the day of assessment (today) and the model's default
    goal; every safety question unanswered."""
    form = form_from_intake({"assessed_on": today.isoformat(), "goals": ["pain_relief"]})
    for ask in list_asks():
        form.setdefault(f"{ask.path}.{ROWS}", ["0"])
    return form


def page_inputs(form: FormValues) -> dict[str, list[str]]:
    """The inputs of the intake page only (no CSRF token, no button), as a draft keeps them."""
    tops = {s.path.split(".")[0] for s in _all_asks()} | {"instruments", "clearances"}
    return {k: list(v) for k, v in form.items() if k.split(".")[0] in tops}


def _all_asks() -> list[Ask | ListAsk]:
    return [i for s in SECTIONS for i in s.items if isinstance(i, Ask | ListAsk)]


def list_paths() -> tuple[str, ...]:
    """The list questions the page asks."""
    return tuple(a.path for a in list_asks())


def settle_typed_places(form: FormValues) -> dict[str, list[str]]:
    """The answers with every typed place that matched moved to the chosen places (a page shown
    again then shows them as chosen); what did not match stays typed, for its problem to be
    shown and corrected. Nothing typed is lost."""
    out = {k: list(v) for k, v in form.items()}
    for name in [k for k in form if k.endswith(f".{TYPED}")]:
        field = name.removesuffix(f".{TYPED}")
        matches = find_each_site(first(form, name)) if first(form, name) else ()
        if not matches:
            continue
        chosen = out.setdefault(field, [])
        for match in matches:
            chosen += [s for s in match.selectors if s not in chosen]
        out[name] = [", ".join(m.text for m in matches if not m.matched)]
    return out
