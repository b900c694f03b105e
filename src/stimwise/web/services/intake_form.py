"""An HTML form generated from a pydantic model, and the form's answers read back (the
prescription editor and the n-of-1 page; the intake has its own page,
:mod:`stimwise.web.services.intake_view`).

The form is derived from the model's fields, so a field added to the model appears on the page
without template work, with the model's own label, help text, required mark and choices.
Field names are the model's dotted paths (``channels.0.active_site``), so an
:class:`~stimwise.errors.InputError` from validation can be shown next to the input that caused
it.

Widgets, chosen from the annotation:

* a ``Literal`` is a select; with no default it starts blank (a required choice is never
  pre-filled, so "unknown" must be chosen on purpose rather than slipping through);
* a tuple of literals is a group of checkboxes; a tuple of site selectors is a text input of
  comma-separated names with a list of the names to pick from;
* a nested model is a fieldset; a tuple of models is a fieldset of repeated rows (the rows
  already filled plus ``blank_rows`` empty ones; empty rows are ignored); a tuple of a tagged
  union has rows per variant, each carrying its tag in a hidden input;
* a required ``bool`` is a yes/no select (a missing answer is an error, not "no");
* a free-form mapping (an instrument's answers) is a JSON text area.

Everything works without JavaScript.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import parse_number
from stimwise.protocol.body_sites import SELECTOR_NAMES
from stimwise.protocol.io import validate_model

Widget = Literal[
    "text", "number", "date", "select", "checkboxes", "checkbox", "sites", "site", "json", "hidden"
]
ROWS_SUFFIX = "__rows"
"""Hidden input naming how many rows a repeated fieldset rendered (``diagnoses.__rows``)."""
NONE_SUFFIX = "__none"
"""Checkbox confirming that a required list is empty (``implants.__none``): an untouched
section is a missing answer, never "none"."""
UNKNOWN_SUFFIX = "__unknown"
"""Checkbox answering a list question ``unknown`` (``implants.__unknown``)."""
SITE_NAMES_SORTED: tuple[str, ...] = tuple(sorted(SELECTOR_NAMES))


@dataclass
class FormField:
    """One input: its name (the model path), label, help, widget, choices and current value."""

    name: str
    label: str
    widget: Widget
    required: bool = False
    help: str | None = None
    options: tuple[str, ...] = ()
    value: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"
    max_length: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return "field-" + self.name.replace(".", "-")

    @property
    def is_field(self) -> bool:
        return True


@dataclass
class FormSection:
    """A fieldset: a nested model, or one row of a repeated one."""

    name: str
    legend: str
    help: str | None = None
    items: list[FormField | FormSection] = field(default_factory=list)
    repeated: bool = False
    hidden: list[FormField] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    """(Root only) every problem, at the rendered field names, for the list atop the form."""

    @property
    def is_field(self) -> bool:
        return False

    def walk_fields(self):
        for item in self.items:
            if isinstance(item, FormSection):
                yield from item.walk_fields()
            else:
                yield item


# --------------------------------------------------------------------------- annotations


def _is_unknown_word(annotation: Any) -> bool:
    """Whether ``annotation`` is the ``Literal["unknown"]`` a list question also accepts."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_origin(annotation) is Literal and get_args(annotation) == ("unknown",)


def _accepts_unknown(annotation: Any) -> bool:
    """Whether a list question may be answered ``unknown`` (``implants: unknown``)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_unknown_word(a) or _accepts_unknown(a) for a in get_args(annotation))
    return False


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """The bare type, its Annotated metadata, and whether ``None`` is allowed (the word
    ``unknown`` of a list question is set aside like ``None``: the form asks it with a box)."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin is Annotated:
            annotation, *extra = args
            metadata.extend(extra)
        elif origin in (Union, types.UnionType) and any(
            a is type(None) or _is_unknown_word(a) for a in args
        ):
            members = [a for a in args if a is not type(None) and not _is_unknown_word(a)]
            optional = optional or type(None) in args
            annotation = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
        else:
            return annotation, metadata, optional


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _union_variants(annotation: Any) -> list[type[BaseModel]] | None:
    """The member models of a tagged union of models, or ``None``."""
    bare, _, _ = _unwrap(annotation)
    if get_origin(bare) in (Union, types.UnionType):
        members = [_unwrap(a)[0] for a in get_args(bare)]
        if all(_is_model(m) for m in members):
            return members
    return None


def _tag(variant: type[BaseModel]) -> str:
    return str(variant.model_fields["kind"].default)


def _item_type(annotation: Any) -> Any | None:
    """``X`` of ``tuple[X, ...]`` (or ``list[X]``), else ``None``."""
    bare, _, _ = _unwrap(annotation)
    if get_origin(bare) in (tuple, list):
        args = [a for a in get_args(bare) if a is not Ellipsis]
        return args[0] if args else None
    return None


def _is_site_selector(metadata: list[Any]) -> bool:
    """Whether the validators include the intake's body-site selector check."""
    return any("selector" in getattr(getattr(m, "func", None), "__name__", "") for m in metadata)


UNIT_SUFFIXES = {
    "_ma": "mA", "_us": "µs", "_hz": "Hz", "_min": "min", "_cm2": "cm²", "_nrs": "NRS 0-10",
    "_years": "years", "_days": "days", "_s": "s",
}


def _label(name: str, info: FieldInfo) -> str:
    """The field's title, or its name in words with the unit of its suffix in brackets
    (``age_years`` → "Age (years)")."""
    if info.title:
        return info.title
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix).replace('_', ' ').capitalize()} ({unit})"
    return name.replace("_", " ").capitalize()


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, Ge | Gt):
            out["minimum"] = getattr(m, "ge", getattr(m, "gt", None))
        elif isinstance(m, Le | Lt):
            out["maximum"] = getattr(m, "le", getattr(m, "lt", None))
        elif isinstance(m, MaxLen):
            out["max_length"] = m.max_length
    return out


# --------------------------------------------------------------------------- building the form


def build_form(
    model: type[BaseModel],
    values: Mapping[str, Any] | None = None,
    problems: list[FieldProblem] = (),  # type: ignore[assignment]
    *,
    blank_rows: int = 1,
    skip: frozenset[str] = frozenset({"schema_version"}),
) -> FormSection:
    """The form of ``model`` filled with ``values`` (a ``model_dump(mode="json")``-like dict, or
    what :func:`read_form` collected), with each problem attached to its input."""
    root = FormSection(name="", legend=model.__name__)
    renamed: dict[str, str] = {}
    _fill_section(root, model, values or {}, "", blank_rows, skip, renamed)
    root.problems = [_renamed(p, renamed) for p in problems]
    attach_problems(root, root.problems)
    return root


def _renamed(problem: FieldProblem, renamed: dict[str, str]) -> FieldProblem:
    """The problem at its rendered path: data row ``diagnoses.1`` may be form row
    ``diagnoses.2`` (rows are grouped by variant and followed by blank ones)."""
    parts = problem.path.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in renamed:
            path = ".".join([renamed[head], *parts[cut:]])
            return FieldProblem(path, problem.value, problem.expected)
    return problem


def _fill_section(
    section: FormSection,
    model: type[BaseModel],
    values: Mapping[str, Any],
    prefix: str,
    blank_rows: int,
    skip: frozenset[str],
    renamed: dict[str, str],
    data_prefix: str | None = None,
) -> None:
    data_prefix = prefix if data_prefix is None else data_prefix
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        paths = (f"{prefix}{name}", f"{data_prefix}{name}")
        section.items.append(_item(paths, name, info, values.get(name), blank_rows, renamed))


def _item(paths, name: str, info: FieldInfo, value: Any, blank_rows: int, renamed):
    path, data_path = paths
    annotation = info.annotation
    bare, metadata, _ = _unwrap(annotation)
    metadata = [*metadata, *info.metadata]
    required = info.is_required()
    label = _label(name, info)
    help_text = info.description
    item = _item_type(annotation)
    if _is_model(bare):
        sub = FormSection(name=path, legend=label, help=help_text)
        _fill_section(sub, bare, value if isinstance(value, dict) else {}, f"{path}.",
                      blank_rows, frozenset(), renamed, f"{data_path}.")
        return sub
    if item is not None:
        may_be_empty = not any(isinstance(m, MinLen) and m.min_length > 0 for m in metadata)
        return _sequence_item(paths, label, help_text, item, value, blank_rows,
                              (required, required and may_be_empty), renamed,
                              _accepts_unknown(annotation))
    common = {"name": path, "label": label, "help": help_text, "required": required}
    current = info.default if value is None and not required else value
    if get_origin(bare) is Literal:
        return FormField(widget="select", options=tuple(map(str, get_args(bare))),
                         value=current, **common)
    if bare is bool:
        if required:
            return FormField(widget="select", options=("true", "false"),
                             value=None if value is None else str(value).lower(), **common)
        return FormField(widget="checkbox", value=bool(current), **common)
    if bare in (int, float):
        return FormField(widget="number", value=current, step="1" if bare is int else "any",
                         **_bounds(metadata), **common)
    if bare is date:
        return FormField(widget="date", value=current, **common)
    if _is_site_selector(metadata):
        return FormField(widget="site", value=current, **common)
    if bare is str:
        return FormField(widget="text", value=current, **_bounds(metadata), **common)
    shown = None if current is None else json.dumps(current, indent=1)
    return FormField(widget="json", value=shown if isinstance(current, dict) else current,
                     help=(help_text or "") + " (JSON object)", name=path, label=label,
                     required=required)


def _sequence_item(paths, label, help_text, item, value, blank_rows, requirement, renamed,
                   unknown_allowed=False):
    path, data_path = paths
    required, confirm_none = requirement
    rows = list(value) if isinstance(value, list | tuple) else []
    variants = _union_variants(item)
    bare_item, _, _ = _unwrap(item)
    if variants is not None or _is_model(bare_item):
        group = FormSection(name=path, legend=label, help=help_text, repeated=True)
        index = 0
        for variant in variants or [bare_item]:
            tag = _tag(variant) if variants else None
            mine = [(j, r) for j, r in enumerate(rows)
                    if isinstance(r, dict) and (tag is None or r.get("kind") == tag)]
            for j, row in [*mine, *([(None, {})] * blank_rows)]:
                row_path = f"{path}.{index}"
                if j is not None:
                    renamed[f"{data_path}.{j}"] = row_path
                title = f"{label} ({tag})" if tag else label
                sub = FormSection(name=row_path, legend=f"{title} {index + 1}")
                skip = frozenset({"kind"}) if tag else frozenset()
                _fill_section(sub, variant, row, f"{row_path}.", blank_rows, skip, renamed,
                              f"{data_path}.{j}." if j is not None else None)
                if tag:
                    sub.hidden.append(FormField(name=f"{row_path}.kind", label="kind",
                                                widget="hidden", value=tag))
                group.items.append(sub)
                index += 1
        group.hidden.append(FormField(name=f"{path}.{ROWS_SUFFIX}", label="rows",
                                      widget="hidden", value=index))
        if confirm_none:
            group.items.insert(0, FormField(
                name=f"{path}.{NONE_SUFFIX}", label=f"None: no {label.lower()} (confirmed)",
                widget="checkbox", value=value is not None and value != "unknown" and not rows,
                help="Tick when there is nothing to record here; an untouched section counts "
                "as not answered."))
        if unknown_allowed:
            group.items.insert(int(confirm_none), FormField(
                name=f"{path}.{UNKNOWN_SUFFIX}", label="Not known (find out before stimulating)",
                widget="checkbox", value=value == "unknown",
                help="Tick when it is not known; the screening then treats it as a possible yes."))
        return group
    if get_origin(bare_item) is Literal:
        return FormField(name=path, label=label, help=help_text, widget="checkboxes",
                         options=tuple(map(str, get_args(bare_item))), value=rows,
                         required=required)
    hint = "Several names separated by commas, e.g. left_foot, right_calf."
    return FormField(name=path, label=label, widget="sites", value=", ".join(map(str, rows)),
                     help=f"{help_text} {hint}" if help_text else hint, required=required)


# --------------------------------------------------------------------------- errors


def attach_problems(root: FormSection, problems: list[FieldProblem]) -> None:
    """Show each problem at the deepest input or fieldset whose name its path starts with; the
    rest at the top of the form."""
    targets: dict[str, FormField | FormSection] = {}

    def index(node: FormSection) -> None:
        targets[node.name] = node
        for item in node.items:
            if isinstance(item, FormSection):
                index(item)
            else:
                targets[item.name] = item

    index(root)
    for problem in problems:
        parts = problem.path.split(".")
        for cut in range(len(parts), -1, -1):
            target = targets.get(".".join(parts[:cut]))
            if target is not None:
                break
        shown = "" if problem.value is None else f" (got {str(problem.value)[:60]!r})"
        target.errors.append(f"{problem.expected}{shown}")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- reading answers


def read_form(
    model: type[BaseModel], form: Mapping[str, list[str]]
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The answers as a dict for ``model`` (empty inputs and empty rows left out, so defaults
    apply and required questions are reported missing) and any JSON that did not parse.

    ``form`` maps each name to all its submitted values (checkboxes send several)."""
    problems: list[FieldProblem] = []
    data = _read_section(model, form, "", problems, frozenset({"schema_version"}))
    return data, problems


def form_lists(submitted) -> dict[str, list[str]]:
    """A submitted multi-dict form (Starlette's ``FormData``) as name -> every text value
    (uploaded files are ignored)."""
    return {key: [v for v in submitted.getlist(key) if isinstance(v, str)] for key in submitted}


def _first(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _read_section(model, form, prefix, problems, skip) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        path = f"{prefix}{name}"
        value = _read_item(path, info, form, problems)
        if value is not None:
            data[name] = value
    return data


def _read_item(path, info: FieldInfo, form, problems) -> Any:
    annotation = info.annotation
    bare, _, _ = _unwrap(annotation)
    item = _item_type(annotation)
    if _is_model(bare):
        sub = _read_section(bare, form, f"{path}.", problems, frozenset())
        # a required group left empty: {} lets validation name each of its questions
        return sub if sub or info.is_required() else None
    if item is not None:
        if _accepts_unknown(annotation) and _first(form, f"{path}.{UNKNOWN_SUFFIX}") in (
            "on", "true"
        ):
            return "unknown"
        return _read_sequence(path, item, form, problems)
    if bare is bool and not info.is_required():
        return _first(form, path) in ("on", "true", "1", "yes")
    text = _first(form, path)
    if not text:
        return None
    if bare in (int, float):
        # the models take numbers strictly (never "true" or "2_0"); a form sends text
        try:
            return parse_number(text, integer=bare is int)
        except ValueError:
            return text  # validation names the field and what it expects
    if bare is dict or get_origin(bare) is dict:
        try:
            return json.loads(text)
        except ValueError as error:
            problems.append(FieldProblem(path, text[:60], f"a JSON object ({error.msg})"))
            return None
    return text


def _blank(model: type[BaseModel], row: dict[str, Any]) -> bool:
    """A row holding nothing but empty inputs and pre-selected defaults was left untouched."""
    fields = model.model_fields
    for name, value in row.items():
        if value in (None, [], False):
            continue
        info = fields[name]
        default = info.default
        if not info.is_required() and isinstance(default, str | int | float) and (
            str(value) == str(default)
        ):
            continue
        return False
    return True


def _read_sequence(path, item, form, problems) -> Any:
    variants = _union_variants(item)
    bare_item, _, _ = _unwrap(item)
    if variants is None and not _is_model(bare_item):
        if get_origin(bare_item) is Literal:
            chosen = [v for v in form.get(path, []) if v]
            return chosen or None
        text = _first(form, path)
        names = [n for n in text.replace(";", ",").replace(" ", ",").split(",") if n]
        return names or []
    by_tag = {_tag(v): v for v in variants} if variants else {}
    try:
        count = min(int(_first(form, f"{path}.{ROWS_SUFFIX}") or 0), 200)
    except ValueError:
        count = 0
    out: list[dict[str, Any]] = []
    for index in range(count):
        row_path = f"{path}.{index}"
        tag = _first(form, f"{row_path}.kind") if variants else None
        model = by_tag.get(tag or "") if variants else bare_item
        if model is None:
            continue
        skip = frozenset({"kind"}) if variants else frozenset()
        row = _read_section(model, form, f"{row_path}.", problems, skip)
        if _blank(model, row):
            continue
        if tag:
            row = {"kind": tag, **row}
        out.append(row)
    if not out and _first(form, f"{path}.{NONE_SUFFIX}") not in ("on", "true"):
        return None
    return out


def parse_form(
    model: type[BaseModel],
    form: Mapping[str, list[str]],
    source: str,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any], list[FieldProblem]]:
    """Validate the submitted form as ``model`` with the ``fixed`` values (not on the form, e.g.
    the pseudonym from the address): ``(instance, answers, [])`` or ``(None, answers,
    problems)``; :func:`build_form` with the answers and problems shows each problem next to its
    input."""
    data, problems = read_form(model, form)
    data.update(fixed or {})
    if problems:
        return None, data, problems
    try:
        return validate_model(model, data, source=source), data, []
    except InputError as error:
        return None, data, error.problems
