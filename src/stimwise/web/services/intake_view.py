"""What the intake page shows: its sections filled with the answers so far, each problem next to
its input and in the summary, the progress of each section, every questionnaire's score so far
and the clearances that apply to this person.

Built from the page's answers (:data:`~stimwise.web.services.intake_answers.FormValues`: what was
submitted, a saved draft, or a recorded intake written back by
:func:`~stimwise.web.services.intake_answers.form_from_intake`), so a refused submission shows
everything exactly as it was typed. Labels and choices come from :mod:`stimwise.clinical.labels`,
places from :mod:`stimwise.protocol.site_names`, questionnaires from
:func:`~stimwise.clinical.instruments.questionnaire.questionnaire`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

from annotated_types import Ge, Le

from stimwise.clinical.clearances import ClearanceChoice, clearance_choices
from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.clinical.instruments.questionnaire import partial_score, questionnaire
from stimwise.clinical.intake import FORMAT_2_QUESTIONS, Diagnosis
from stimwise.clinical.labels import (
    Choice,
    choice_label,
    choices,
    field_info,
    field_label,
    problem_in_words,
)
from stimwise.clinical.rules import screening_rules
from stimwise.errors import InputError
from stimwise.protocol.site_names import site_label
from stimwise.web.services.intake_answers import (
    ANSWER,
    CHOSEN,
    LIST_ANSWERS,
    TYPED,
    AnchoredProblem,
    Answers,
    FormValues,
    answer_value,
    first,
    provisional_intake,
    read_answers,
    row_count,
)
from stimwise.web.services.intake_layout import (
    SECTIONS,
    Ask,
    ClearancesAsk,
    InstrumentsAsk,
    ListAsk,
    Section,
    shown,
)

INDEX = "__index__"
"""Placeholder of the row number in a list's empty row template (the script numbers copies)."""


def html_id(name: str) -> str:
    """The id of the input named ``name`` (the problem summary links to it)."""
    return "field-" + name.replace(".", "-")


@dataclass
class Field:
    """One question on the page, with its answer(s) and problems."""

    name: str
    label: str
    widget: str
    required: bool
    help: str | None = None
    choices: tuple[Choice, ...] = ()
    values: list[str] = field(default_factory=list)
    typed: str = ""
    minimum: float | None = None
    maximum: float | None = None
    show_when: tuple[str, str] | None = None
    """(input name, space-separated values) that show this question; ``None``: always."""
    visible: bool = True
    more: bool = False
    errors: list[str] = field(default_factory=list)
    suggestions: tuple[Choice, ...] = ()

    @property
    def html_id(self) -> str:
        return html_id(self.name)

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""

    @property
    def chips(self) -> list[Choice]:
        """The chosen places in words."""
        return [Choice(v, _site_words(v)) for v in self.values if v]

    @property
    def kind(self) -> str:
        return "field"


@dataclass
class Row:
    """One entry of a list question (one row may name several places)."""

    prefix: str
    legend: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)

    @property
    def main(self) -> list[Field]:
        return [f for f in self.fields if not f.more]

    @property
    def details(self) -> list[Field]:
        return [f for f in self.fields if f.more]

    @property
    def details_open(self) -> bool:
        return any(f.values or f.typed or f.errors for f in self.details)


@dataclass
class ListQuestion:
    """A list question: its No / Yes / Unknown answer and its rows."""

    name: str
    label: str
    help: str | None
    answer: str
    choices: tuple[Choice, ...]
    rows: list[Row]
    template: Row
    row_title: str
    errors: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return html_id(self.name)

    @property
    def kind(self) -> str:
        return "list"

    @property
    def answered(self) -> bool:
        filled = any(f.values or f.typed for row in self.rows for f in row.fields)
        return self.answer in ("no", "unknown") or (self.answer == "yes" and filled)


@dataclass
class Item:
    """One questionnaire item."""

    name: str
    text: str
    section: str | None
    choices: tuple[Choice, ...]
    value: str
    versions: str
    errors: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return html_id(self.name)


@dataclass
class Questionnaire:
    """One questionnaire of the page, asked item by item, with its score so far."""

    prefix: str
    instrument: str
    name: str
    measures: str
    versions: tuple[Choice, ...]
    version: str
    answered_on: str
    items: list[Item]
    score: str
    answered: int
    errors: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.answered > 0 or bool(self.errors) or any(i.errors for i in self.items)

    @property
    def groups(self) -> list[tuple[str | None, str, list[Item]]]:
        """The items by section (heading, the versions that ask any of them, items)."""
        out: list[tuple[str | None, str, list[Item]]] = []
        for item in self.items:
            if not out or out[-1][0] != item.section:
                out.append((item.section, "", []))
            out[-1][2].append(item)
        return [(heading, " ".join(dict.fromkeys(v for i in items for v in i.versions.split())),
                 items) for heading, _, items in out]


@dataclass
class ClearanceSlot:
    """One rule a clearance may lift, with the clearance's inputs."""

    prefix: str
    rule_id: str
    label: str
    status: str  # applies | possible | other
    details: tuple[str, ...]
    chosen: bool
    fields: list[Field]
    errors: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return html_id(f"{self.prefix}{CHOSEN}")


@dataclass
class SectionView:
    id: str
    title: str
    intro: str | None
    items: list[Any]
    answered: int = 0
    required: int = 0
    problems: int = 0

    @property
    def complete(self) -> bool:
        return self.answered >= self.required and not self.problems


@dataclass(frozen=True)
class ProblemLine:
    """A problem in the summary atop the page: where, what, and the input to jump to."""

    html_id: str
    where: str
    message: str
    section: str = ""
    label: str = ""
    order: int = 0
    unanswered: bool = False
    """A required question not answered (the summary lists these by section, briefly)."""


@dataclass
class IntakePage:
    sections: list[SectionView]
    problems: list[ProblemLine]
    questionnaires: list[Questionnaire]
    clearances: list[ClearanceSlot]

    @property
    def unanswered(self) -> list[tuple[str, list[ProblemLine]]]:
        """The questions not answered, by section in page order."""
        out: dict[str, list[ProblemLine]] = {}
        for line in self.problems:
            if line.unanswered:
                out.setdefault(line.section, []).append(line)
        return list(out.items())

    @property
    def other_problems(self) -> list[ProblemLine]:
        return [p for p in self.problems if not p.unanswered]

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    @property
    def required(self) -> int:
        return sum(s.required for s in self.sections)


# --------------------------------------------------------------------------- words


def _site_words(selector: str) -> str:
    try:
        return site_label(selector)
    except KeyError:
        return selector


_DIAGNOSIS_KINDS = tuple(m.model_fields["kind"].default for m in get_args(get_args(Diagnosis)[0]))


def _choices_of(ask: Ask, path: str) -> tuple[Choice, ...]:
    if path.startswith("diagnoses.") and path.endswith(".kind"):
        return tuple(Choice(k, choice_label("diagnoses.kind", k)) for k in _DIAGNOSIS_KINDS)
    if ask.widget == "yesno":
        return (Choice("true", choice_label(path, True)),
                Choice("false", choice_label(path, False)))
    return choices(path)


def _required(path: str) -> bool:
    """Whether the page marks the question required: the model requires it, format 2 requires
    it, or it is the kind of a row (a diagnosis must say which kind it is)."""
    info = field_info(path)
    return (path in FORMAT_2_QUESTIONS or path.endswith(".kind")
            or (info is not None and info.is_required()))


def _bounds(path: str) -> dict[str, float]:
    info = field_info(path)
    out: dict[str, float] = {}
    for m in info.metadata if info is not None else ():
        if isinstance(m, Ge):
            out["minimum"] = m.ge
        elif isinstance(m, Le):
            out["maximum"] = m.le
    return out


def _field(ask: Ask, form: FormValues, name: str, model_path: str, row_prefix: str = "") -> Field:
    info = field_info(model_path)
    condition = None
    if ask.show_when is not None:
        target = (f"{row_prefix}{ask.show_when.path}" if row_prefix and "." not in
                  ask.show_when.path else ask.show_when.path)
        condition = (target, " ".join(ask.show_when.values))
    return Field(
        name=name,
        label=field_label(model_path),
        widget=ask.widget,
        required=_required(model_path),
        help=None if info is None else info.description,
        choices=() if ask.widget in ("sites", "site") else _choices_of(ask, model_path),
        values=[v for v in form.get(name, ()) if v != ""],
        typed=first(form, f"{name}.{TYPED}"),
        show_when=condition,
        visible=shown(ask, form, row_prefix),
        more=ask.more,
        **_bounds(model_path),
    )


def _row(ask: ListAsk, form: FormValues, index: int | str) -> Row:
    prefix = f"{ask.path}.{index}."
    fields = [_field(f, form, f"{prefix}{f.path}", f"{ask.path}.0.{f.path}", prefix)
              for f in ask.fields]
    if ask.several:  # the page takes several places here; the model one per entry
        for f in fields:
            if f.name == f"{prefix}{ask.several}":
                f.widget = "sites"
    number = index + 1 if isinstance(index, int) else INDEX
    return Row(prefix, f"{_row_title(ask)} {number}", fields)


def _row_title(ask: ListAsk) -> str:
    return field_label(f"{ask.path}.0").rsplit(" ", 1)[0]


def _list(ask: ListAsk, form: FormValues) -> ListQuestion:
    count = row_count(form, ask.path)
    answer = first(form, f"{ask.path}.{ANSWER}")
    if answer == "yes":
        count = max(count, 1)  # "Yes" opens the first row (the script does so at once)
    rows = [_row(ask, form, i) for i in range(count)]
    info = field_info(ask.path)
    return ListQuestion(
        name=ask.path,
        label=field_label(ask.path),
        help=None if info is None else info.description,
        answer=answer,
        choices=tuple(Choice(a, choice_label(ask.path, a)) for a in LIST_ANSWERS),
        rows=rows,
        template=_row(ask, {}, INDEX),
        row_title=_row_title(ask),
    )


# --------------------------------------------------------------------------- questionnaires


def _questionnaires(form: FormValues) -> list[Questionnaire]:
    out = []
    for index in range(row_count(form, "instruments")):
        prefix = f"instruments.{index}."
        instrument = first(form, f"{prefix}instrument")
        if instrument not in INSTRUMENTS:
            continue
        spec = INSTRUMENTS[instrument]
        version = first(form, f"{prefix}version") or spec.find_version(None).id
        widest = max(spec.versions, key=lambda v: len(v.item_ids))
        asked = questionnaire(instrument, widest.id)
        items = [
            Item(
                name=f"{prefix}answers.{q.item_id}",
                text=q.text,
                section=q.section,
                choices=tuple(Choice(str(c.value), c.label) for c in q.choices),
                value=first(form, f"{prefix}answers.{q.item_id}"),
                versions=" ".join(v.id for v in spec.versions if q.item_id in v.item_ids),
            )
            for q in asked.questions
        ]
        answered = {i.name.rsplit(".", 1)[1]: i.value for i in items if i.value}
        out.append(Questionnaire(
            prefix=prefix,
            instrument=instrument,
            name=spec.name,
            measures=spec.measures,
            versions=tuple(Choice(v.id, v.label) for v in spec.versions)
            if len(spec.versions) > 1 else (),
            version=version,
            answered_on=first(form, f"{prefix}answered_on"),
            items=items,
            score=score_so_far(instrument, version, answered),
            answered=len(answered),
        ))
    return out


def score_so_far(instrument: str, version: str | None, answers: dict[str, str]) -> str:
    """The score of the answers given so far, in words (the same
    :func:`~stimwise.clinical.instruments.questionnaire.partial_score` that scores the recorded
    intake); empty before the first answer."""
    if not answers:
        return ""
    spec = INSTRUMENTS[instrument]
    chosen = spec.find_version(version)
    if chosen is None:
        return ""
    asked = {q.item_id: q for q in questionnaire(instrument, chosen.id).questions}
    values = {i: answer_value(asked[i], text) for i, text in answers.items() if i in asked}
    try:
        return partial_score({"instrument": instrument, "version": chosen.id,
                              "answers": values}).summary
    except InputError:
        return ""


# --------------------------------------------------------------------------- clearances


def _clearances(form: FormValues, answers: Answers, today: date) -> list[ClearanceSlot]:
    rules = screening_rules().by_id
    intake = provisional_intake(answers.data, today)
    offered: dict[str, ClearanceChoice] = (
        {c.rule_id: c for c in clearance_choices(intake)} if intake is not None else {})
    slots = []
    for index in range(row_count(form, "clearances")):
        prefix = f"clearances.{index}."
        rule_id = first(form, f"{prefix}rule_id")
        rule = rules.get(rule_id)
        choice = offered.get(rule_id)
        role = rule.clearance_role if rule is not None and rule.clearance_role else ""
        fields = [
            _clearance_field(form, prefix, "cleared_by", "text"),
            _clearance_field(form, prefix, "role", "text", default=role),
            _clearance_field(form, prefix, "cleared_on", "date"),
            _clearance_field(form, prefix, "note", "text", more=True),
        ]
        slots.append(ClearanceSlot(
            prefix=prefix,
            rule_id=rule_id,
            label=choice.label if choice is not None else (
                f"{rule.title} (by the {role})" if rule is not None else rule_id),
            status=choice.status if choice is not None else "other",
            details=choice.details if choice is not None else (),
            chosen=first(form, f"{prefix}{CHOSEN}") == "on",
            fields=fields,
        ))
    return slots


def _clearance_field(form: FormValues, prefix: str, name: str, widget: str, *,
                     default: str = "", more: bool = False) -> Field:
    path = f"clearances.0.{name}"
    info = field_info(path)
    value = first(form, f"{prefix}{name}") or default
    return Field(name=f"{prefix}{name}", label=field_label(path), widget=widget,
                 required=_required(path), help=None if info is None else info.description,
                 values=[value] if value else [], more=more)


# --------------------------------------------------------------------------- the page


def _section(section: Section, form: FormValues) -> SectionView:
    view = SectionView(section.id, section.title, section.intro, [])
    for item in section.items:
        if isinstance(item, Ask):
            built = _field(item, form, item.path, item.path)
            view.items.append(built)
            if built.required and built.visible:
                view.required += 1
                view.answered += bool(built.values or built.typed)
        elif isinstance(item, ListAsk):
            built = _list(item, form)
            view.items.append(built)
            view.required += 1
            view.answered += built.answered
        elif isinstance(item, InstrumentsAsk):
            view.items.append("questionnaires")
        elif isinstance(item, ClearancesAsk):
            view.items.append("clearances")
    return view


def intake_page(form: FormValues, pseudonym: str, today: date,
                problems: list[AnchoredProblem] = ()) -> IntakePage:  # type: ignore[assignment]
    """The page for ``form``'s answers, with ``problems`` (from
    :func:`~stimwise.web.services.intake_answers.check_answers`) shown at their inputs."""
    answers = read_answers(form, pseudonym)
    page = IntakePage(sections=[], problems=[], questionnaires=_questionnaires(form),
                      clearances=[])
    page.clearances = _clearances(form, answers, today)
    page.sections = [_section(s, form) for s in SECTIONS]
    _attach(page, problems, answers.data)
    return page


def _targets(page: IntakePage) -> dict[str, tuple[Any, str, SectionView]]:
    """Every input, row and group a problem may be shown at, by name, with its words."""
    targets: dict[str, tuple[Any, str, SectionView]] = {}
    by_id = {s.id: s for s in page.sections}
    for section in page.sections:
        for item in section.items:
            if isinstance(item, Field):
                targets[item.name] = (item, item.label, section)
            elif isinstance(item, ListQuestion):
                targets[item.name] = (item, item.label, section)
                for row in item.rows:
                    where = f"{item.label} › {row.legend}"
                    targets[row.prefix.rstrip(".")] = (row, where, section)
                    for f in row.fields:
                        targets[f.name] = (f, f"{where} › {f.label}", section)
    for q in page.questionnaires:
        section = by_id["questionnaires"]
        targets[q.prefix.rstrip(".")] = (q, q.name, section)
        for item in q.items:
            targets[item.name] = (item, f"{q.name} › {item.text}", section)
    for slot in page.clearances:
        section = by_id["clearances"]
        targets[slot.prefix.rstrip(".")] = (slot, slot.label, section)
        for f in slot.fields:
            targets[f.name] = (f, f"{slot.label} › {f.label}", section)
    return targets


def _attach(page: IntakePage, problems, data: dict[str, Any]) -> None:
    targets = _targets(page)
    order = {id(node): index for index, (node, _, _) in enumerate(targets.values())}
    for anchored in problems:
        name = anchored.anchor.replace(f".{TYPED}", "").replace(f".{ANSWER}", "")
        parts = name.split(".")
        target = None
        for cut in range(len(parts), 0, -1):
            target = targets.get(".".join(parts[:cut]))
            if target is not None:
                break
        words = problem_in_words(anchored.problem, data)
        expected = anchored.words or words.expected
        got = "" if anchored.words else words.value  # own words quote what was typed
        message = f"{expected} (got {got})" if got not in (None, "") else expected
        message = _sentence(message) if anchored.said else f"Needs {message}"
        unanswered = expected.startswith("an answer (this question is required")
        if target is None:
            page.problems.append(ProblemLine("intake-form", words.where, message, order=-1))
            continue
        node, where, section = target
        node.errors.append(message)
        if isinstance(node, Field) and anchored.suggestions:
            node.suggestions = tuple(Choice(s, _site_words(s)) for s in anchored.suggestions)
        section.problems += 1
        page.problems.append(ProblemLine(_anchor_id(node), f"{section.title} › {where}", message,
                                         section.title, where, order[id(node)], unanswered))
    page.problems.sort(key=lambda p: p.order)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _anchor_id(node: Any) -> str:
    if isinstance(node, Row):
        return html_id(node.prefix.rstrip("."))
    if isinstance(node, Questionnaire):
        return html_id(node.prefix.rstrip("."))
    return node.html_id
