"""Human words for the intake: field labels, choices, paths and error messages, from one place.

Field labels are the models' own ``title`` (``Field(title=...)`` in :mod:`stimwise.clinical.intake`
and the instrument models); choices are worded in :data:`CHOICE_LABELS`, with a few per-field
wordings in :data:`FIELD_CHOICE_LABELS`; body sites in :mod:`stimwise.protocol.site_names`;
instrument items by their specs. The web form, the screening texts, the reports and the error
messages all ask this module, so a page never shows ``demand_pacemaker``, ``not_pregnant`` or
``cardiac.recent_myocardial_infarction``::

    label_path("cardiac.recent_myocardial_infarction")
    # 'Heart > Recent heart attack (myocardial infarction)'
    choice_label("pregnancy", "not_pregnant")        # 'Not pregnant'
    choices("implants.0.kind")  # (Choice('demand_pacemaker', 'Demand pacemaker'), ...)
    problem_in_words(FieldProblem("implants.0.site", "left hnad", "..."), data)
    # HumanProblem(where='Implants > Implant 1 > Where it sits', expected='a body site ...')

Paths are the dotted paths of :class:`~stimwise.errors.FieldProblem` (``diagnoses.1.crps_type``,
``instruments.0.answers.burning``). Passing the document (``data``, the raw mapping or a
``model_dump``) lets a path through a tagged union or an instrument's answers find the right
model (which diagnosis kind, which instrument).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.clinical.intake import Intake, SiteSelector
from stimwise.errors import FieldProblem
from stimwise.protocol.site_names import find_sites, site_label

# --------------------------------------------------------------------------- choice words

CHOICE_LABELS: dict[str, str] = {
    # answers
    "yes": "Yes",
    "no": "No",
    "unknown": "Unknown",
    # sex and pregnancy
    "female": "Female",
    "male": "Male",
    "intersex": "Intersex",
    "pregnant": "Pregnant",
    "possible": "Possibly pregnant",
    "not_pregnant": "Not pregnant",
    "not_applicable": "Not applicable",
    # diagnoses
    "crps": "Complex regional pain syndrome (CRPS)",
    "neuropathy": "Peripheral neuropathy",
    "I": "Type I (no confirmed nerve lesion)",
    "II": "Type II (confirmed nerve lesion)",
    "diabetic": "Diabetes",
    "chemotherapy_induced": "Chemotherapy",
    "other": "Other",
    # implants
    "demand_pacemaker": "Demand pacemaker",
    "icd": "Implanted defibrillator (ICD)",
    "wearable_defibrillator": "Wearable defibrillator",
    "spinal_cord_stimulator": "Spinal cord stimulator",
    "drg_stimulator": "Dorsal root ganglion stimulator",
    "deep_brain_stimulator": "Deep brain stimulator",
    "vagus_nerve_stimulator": "Vagus nerve stimulator",
    "other_neurostimulator": "Other implanted nerve stimulator",
    "drug_pump": "Implanted drug pump",
    "cochlear_implant": "Cochlear implant",
    "metal_implant": "Metal implant (plate, screws, joint replacement)",
    # heart
    "atrial_fibrillation": "Atrial fibrillation",
    "other_supraventricular": "Other supraventricular arrhythmia",
    "ventricular": "Ventricular arrhythmia",
    "bradycardia_or_heart_block": "Slow heart rate or heart block",
    # blood vessels and cancer
    "dvt": "Deep vein thrombosis (DVT)",
    "thrombophlebitis": "Thrombophlebitis",
    "active": "Active",
    "past": "Past",
    "suspected": "Suspected",
    "in_remission": "In remission",
    "surgery": "Surgery",
    "chemotherapy": "Chemotherapy",
    "radiotherapy": "Radiotherapy",
    "immunotherapy": "Immunotherapy",
    "hormonal": "Hormone therapy",
    "not_severe": "Not severe",
    "severe": "Severe",
    # skin and sensation
    "open_wound": "Open wound",
    "infection": "Infection",
    "irritation": "Irritated skin",
    "dermatitis": "Dermatitis",
    "eczema": "Eczema",
    "swelling": "Swelling",
    "lymphoedema": "Lymphoedema",
    "scar": "Scar",
    "trophic_changes": "Trophic skin changes",
    "normal": "Normal",
    "reduced": "Reduced",
    "absent": "Absent",
    "monofilament": "10 g monofilament",
    "pinprick": "Pinprick",
    "vibration": "Vibration (tuning fork)",
    "light_touch": "Light touch",
    "mnsi_examination": "MNSI examination",
    "clinical": "Clinical examination",
    "pressure": "Pressure",
    "cold": "Cold",
    "movement": "Movement",
    "unspecified": "Not specified",
    # surgery, devices, the person
    "fracture": "Fracture",
    "healing": "Still healing",
    "healed": "Healed",
    "insulin_pump": "Insulin pump",
    "infusion_set": "Infusion set",
    "glucose_sensor": "Glucose sensor",
    "other_electronic": "Other electronic device",
    "intact": "No impairment",
    "impaired": "Impaired memory or thinking",
    "dementia": "Dementia",
    "controlled": "Controlled",
    "uncontrolled": "Not controlled",
    "untreated": "Yes, untreated",
    # goals
    "pain_relief": "Pain relief",
    "function": "Function",
    "sleep": "Sleep",
    "muscle_strength": "Muscle strength",
    "circulation": "Circulation",
}
"""The words of every choice of the intake, by value."""

FIELD_CHOICE_LABELS: dict[str, dict[str, str]] = {
    "bleeding_tendency": {"no": "No", "controlled": "Yes, treated or controlled",
                          "untreated": "Yes, untreated"},
    "carer": {"none": "No carer", "present": "A carer is present (does not supervise sessions)",
              "supervises": "A carer supervises every session"},
    "diagnoses.kind": {"other": "Other diagnosis"},
    "diagnoses.cause": {"other": "Other cause", "unknown": "Cause not known"},
    "surgeries_and_fractures.healing": {"unknown": "Not known"},
    "arterial_disease.severity": {"unknown": "Severity not known"},
    "schema_version": {"1": "Format 1 (older files)", "2": "Format 2 (current)"},
    # adverse events (stimwise.records.inputs.AdverseEventIn), as the reports print them
    "adverse_event.kind": {"skin_irritation": "Skin irritation", "burn": "Burn",
                           "flare": "Pain flare-up", "soreness": "Soreness",
                           "other": "Other problem"},
    "adverse_event.severity": {"mild": "Mild", "moderate": "Moderate", "severe": "Severe"},
}
"""Wordings that differ by field, keyed by the path without row numbers."""

SCREENING_LABELS: dict[str, str] = {
    "eligible": "Eligible",
    "eligible_with_precautions": "Eligible with precautions",
    "needs_specialist_clearance": "Needs specialist clearance",
    "not_eligible": "Not eligible",
    "absolute": "Absolute contraindication",
    "clearance": "Needs clearance",
    "site_restricted": "Restricts sites",
    "precaution": "Precaution",
    "applies": "Applies",
    "possible": "Possible (an answer is not known)",
    "cleared": "Cleared",
    "subsensory": "Too weak to feel (subsensory)",
    "sensory": "Tingling, no muscle twitch (sensory)",
    "motor": "Muscle contraction (motor)",
}
"""Words for the values a screening reports: decisions, tiers, finding statuses, levels."""


def screening_label(value: str) -> str:
    """The words of a screening value (decision, tier, finding status or intensity level)."""
    return SCREENING_LABELS.get(value) or _humanized(value)


# --------------------------------------------------------------------------- walking paths

_SITE_CHECK = get_args(SiteSelector)[1].func
"""The validator that marks a body-site field (pydantic keeps it in ``FieldInfo.metadata``)."""

ROW_LABELS: dict[str, str] = {"diagnoses": "Diagnosis", "instruments": "Questionnaire"}
"""How a row of a list is called where its model's title would name only one variant."""


@dataclass(frozen=True)
class _Step:
    """Where a path part led: the field reached, and the label of this part."""

    label: str
    info: FieldInfo | None
    annotation: Any


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated`` metadata, ``None`` or the ``unknown`` word of a list
    question."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation)
                       if a is not type(None) and _unwrap_literal(a) != ("unknown",)]
            if len(members) != 1 or _union_models(annotation):
                return annotation
            annotation = members[0]
        else:
            return annotation


def _unwrap_literal(annotation: Any) -> tuple | None:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_args(annotation) if get_origin(annotation) is Literal else None


def _union_models(annotation: Any) -> list[type[BaseModel]]:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in (Union, types.UnionType):
        return []
    members = [m for m in (_unwrap(a) for a in get_args(annotation)) if m is not type(None)]
    return members if members and all(_is_model(m) for m in members) else []


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _item_type(annotation: Any) -> Any | None:
    bare = _unwrap(annotation)
    if get_origin(bare) in (tuple, list):
        args = [a for a in get_args(bare) if a is not Ellipsis]
        return args[0] if args else None
    return None


def _model_title(model: type[BaseModel]) -> str:
    return model.model_config.get("title") or _humanized(model.__name__)


def _variant(models: list[type[BaseModel]], data: Any, next_part: str | None) -> type[BaseModel]:
    """The member of a tagged union that ``data`` (its ``kind``) or the next path part names."""
    kind = data.get("kind") if isinstance(data, Mapping) else getattr(data, "kind", None)
    for model in models:
        if "kind" in model.model_fields and model.model_fields["kind"].default == kind:
            return model
    for model in models:
        if next_part in model.model_fields:
            return model
    return models[0]


def _child(data: Any, part: str) -> Any:
    if isinstance(data, Mapping):
        return data.get(part)
    if isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
        return data[int(part)]
    if isinstance(data, BaseModel):
        return getattr(data, part, None)
    return None


def _steps(path: str, data: Any = None, model: type[BaseModel] = Intake) -> list[_Step]:
    """Follow ``path`` through the models, one step per part (``(document)`` and an empty path
    give no step)."""
    parts = [p for p in path.split(".") if p and not p.startswith("(")]
    steps: list[_Step] = []
    current: Any = model
    node = data
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        models = _union_models(current) or ([current] if _is_model(current) else [])
        if models:
            chosen = _variant(models, node, part)
            info = chosen.model_fields.get(part)
            if info is None:
                steps.append(_Step(_humanized(part), None, None))
                current, node = None, None
            else:
                steps.append(_Step(info.title or _humanized(part), info, info.annotation))
                current, node = _unwrap(info.annotation), _child(node, part)
            index += 1
            continue
        item = _item_type(current)
        if item is not None and part.isdigit():
            item_models = _union_models(item) or ([_unwrap(item)] if _is_model(_unwrap(item))
                                                   else [])
            row = _child(node, part)
            title = ROW_LABELS.get(_key(".".join(parts[:index]))) or (
                _model_title(_variant(item_models, row, following)) if item_models
                else "Place" if item == SiteSelector else "Entry")
            steps.append(_Step(f"{title} {int(part) + 1}", None, item))
            current = _variant(item_models, row, following) if item_models else _unwrap(item)
            node = row
            index += 1
            continue
        steps.append(_Step(_humanized(part), None, None))
        current, node = None, _child(node, part)
        index += 1
    return steps


def _instrument_item_label(response: Any, item_id: str) -> str:
    """An answer's label: the item of the response's instrument (any instrument's item of that
    id when the response is not known)."""
    instrument = response.get("instrument") if isinstance(response, Mapping) else None
    specs = [INSTRUMENTS[instrument]] if instrument in INSTRUMENTS else list(INSTRUMENTS.values())
    for spec in specs:
        if item_id in spec.item_ids:
            return _sentence(spec.item(item_id).label)
    return _humanized(item_id)


def _steps_for_answers(path: str, data: Any) -> list[_Step] | None:
    """Paths into an instrument's answers (``instruments.0.answers.burning``): the answer's
    label comes from the instrument of that response."""
    match = re.match(r"^instruments\.(\d+)\.answers\.(\w+)$", path)
    if not match:
        return None
    head = _steps(f"instruments.{match[1]}.answers", data)
    response = _child(_child(data, "instruments"), match[1])
    if isinstance(response, BaseModel):
        response = response.model_dump(mode="json")
    return [*head, _Step(_instrument_item_label(response, match[2]), None, None)]


def _resolved(path: str, data: Any) -> tuple[_Step, ...]:
    if data is None:
        return _resolved_without_data(path)
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return tuple(_steps_for_answers(path, data) or _steps(path, data))


@lru_cache(maxsize=4096)
def _resolved_without_data(path: str) -> tuple[_Step, ...]:
    """The steps of a path on its own (the screening's texts ask the same few paths often)."""
    return tuple(_steps_for_answers(path, None) or _steps(path, None))


# --------------------------------------------------------------------------- public API


def field_label(path: str, data: Any = None) -> str:
    """The label of the field at ``path`` (its model ``title``), e.g. "Recent heart attack
    (myocardial infarction)" for ``cardiac.recent_myocardial_infarction``."""
    steps = _resolved(path, data)
    return steps[-1].label if steps else "The whole intake"


def field_info(path: str, data: Any = None) -> FieldInfo | None:
    """The model field at ``path`` (its annotation, default, bounds and whether it is required),
    or ``None`` for a row number or a path that is not a field (e.g. ``implants.0``)."""
    steps = _resolved(path, data)
    return steps[-1].info if steps else None


def label_path(path: str, data: Any = None, separator: str = " > ") -> str:
    """The words of a whole field path, as a page shows the field: ``implants.0.site`` →
    "Implants > Implant 1 > Where it sits"; ``cardiac.recent_myocardial_infarction`` → "Heart >
    Recent heart attack (myocardial infarction)"."""
    steps = _resolved(path, data)
    return separator.join(s.label for s in steps) if steps else "The whole intake"


def _key(path: str) -> str:
    """The path without row numbers (``diagnoses.0.cause`` → ``diagnoses.cause``)."""
    return ".".join(p for p in path.split(".") if not p.isdigit())


def _humanized(word: str) -> str:
    spaced = word.replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def choice_label(path: str, value: object) -> str:
    """The words of one answer to the field at ``path`` (a choice, a yes/no, a body site, a
    date or a number), e.g. ``choice_label("pregnancy", "not_pregnant")`` → "Not pregnant"."""
    if value is None:
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    key = _key(path)
    for scope in (key, key.split(".")[0]):
        wording = FIELD_CHOICE_LABELS.get(scope, {})
        if text in wording:
            return wording[text]
    if _is_site_field(path):
        try:
            return site_label(text)
        except KeyError:
            return text
    if key == "instruments.instrument" and text in INSTRUMENTS:
        return INSTRUMENTS[text].name
    return CHOICE_LABELS.get(text, text)


@dataclass(frozen=True)
class Choice:
    """One option of a select or a group of checkboxes: the value stored and the words shown."""

    value: str
    label: str


def _choice_values(annotation: Any) -> tuple | None:
    bare = _unwrap(annotation)
    item = _item_type(annotation)
    literal = _unwrap_literal(item if item is not None else bare)
    if literal is None and get_origin(bare) in (Union, types.UnionType):
        found = next((a for a in get_args(bare) if _unwrap_literal(a)), None)
        literal = None if found is None else _unwrap_literal(found)
    return literal


def choices(path: str, data: Any = None) -> tuple[Choice, ...]:
    """The options of the field at ``path`` in their order, each with its words; ``()`` for a
    field that is not a choice (a body site field: use
    :func:`stimwise.protocol.site_names.site_choice_groups`)."""
    steps = _resolved(path, data)
    if not steps or steps[-1].annotation is None:
        if _key(path) == "instruments.instrument":
            return tuple(Choice(i, spec.name) for i, spec in INSTRUMENTS.items())
        return ()
    values = _choice_values(steps[-1].annotation)
    if not values:
        return ()
    return tuple(Choice(str(v), choice_label(path, v)) for v in values)


def accepts_unknown(path: str) -> bool:
    """Whether the field at ``path`` is a list question that may be answered ``unknown``."""
    steps = _resolved(path, None)
    if not steps or steps[-1].info is None:
        return False
    annotation = steps[-1].info.annotation
    return _item_type(annotation) is not None and _has_unknown_word(annotation)


def _has_unknown_word(annotation: Any) -> bool:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_unwrap_literal(a) == ("unknown",) or _has_unknown_word(a)
                   for a in get_args(annotation))
    return False


def _is_site_field(path: str) -> bool:
    steps = _resolved(path, None)
    if not steps:
        return False
    last = steps[-1]
    if last.info is not None and any(
        getattr(m, "func", None) is _SITE_CHECK for m in last.info.metadata
    ):
        return True
    return last.annotation is not None and SiteSelector in (
        last.annotation, _item_type(last.annotation))


def is_site_field(path: str) -> bool:
    """Whether the field at ``path`` holds one body site or a list of them."""
    return _is_site_field(path)


# --------------------------------------------------------------------------- problems in words


@dataclass(frozen=True)
class HumanProblem:
    """An input problem in the words the page shows.

    ``path`` is the machine path (to find the input), ``where`` its words, ``value`` the value
    in words, ``expected`` what was expected in words; ``message`` joins them in one sentence.
    """

    path: str
    where: str
    value: str
    expected: str

    @property
    def message(self) -> str:
        got = f" (got {self.value})" if self.value else ""
        return f"{self.where}: {self.expected}{got}"


_PYDANTIC_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Input should be a valid integer.*"), "a whole number"),
    (re.compile(r"^Input should be a finite number.*|^Input should be a valid number.*"),
     "a number"),
    (re.compile(r"^Input should be a valid date.*"), "a date (day, month and year)"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"at least \1"),
    (re.compile(r"^Input should be greater than (\S+)$"), r"more than \1"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"at most \1"),
    (re.compile(r"^Input should be less than (\S+)$"), r"less than \1"),
    (re.compile(r"^String should have at least (\d+) characters?$"), r"at least \1 characters"),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"at most \1 characters"),
    (re.compile(r"^List should have at least 1 item.*|^Tuple should have at least 1 item.*"),
     "at least one entry"),
)
"""pydantic's messages for numbers, dates, lengths and empty lists, in a page's words."""

_FIELD_PATH = re.compile(r"\b([a-z_]+(?:\.(?:\d+|[a-z_]+))+|sex_note|assessed_on)\b")
_LITERAL = re.compile(r"^Input should be ")


def _reworded(expected: str, path: str, data: Any, value: object) -> str:
    options = choices(path, data)
    if _LITERAL.match(expected) and options:
        return "one of: " + ", ".join(o.label for o in options)
    if expected.startswith("a value (this field is required"):
        if accepts_unknown(path) or "unknown" in {o.value for o in options}:
            return "an answer (this question is required; 'Unknown' when not known)"
        return "an answer (this question is required)"
    tag = re.match(r"^Unable to extract tag using discriminator '(\w+)'", expected)
    if tag:
        return f"an answer to '{label_path(f'{path}.{tag[1]}', data)}'"
    for pattern, words in _PYDANTIC_WORDS:
        if pattern.match(expected):
            return pattern.sub(words, expected)
    if _is_site_field(path) and isinstance(value, str) and "body site" in expected:
        suggestions = find_sites(value).suggestions
        hint = (" — did you mean " + " or ".join(site_label(s) for s in suggestions) + "?"
                if suggestions else "")
        return f"a body site from the list{hint}"
    return _FIELD_PATH.sub(lambda m: _path_words(m[1], data), expected)


def _path_words(path: str, data: Any) -> str:
    steps = _resolved(path, data)
    if steps and steps[-1].info is not None:
        return f"'{label_path(path, data)}'"
    return path


def _value_words(path: str, value: object) -> str:
    if value is None or value == "{...}":
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_value_words(path, v) for v in value)
    return choice_label(path, value) if isinstance(value, str) else str(value)


def problem_in_words(problem: FieldProblem, data: Any = None) -> HumanProblem:
    """One :class:`~stimwise.errors.FieldProblem` of an intake in the page's words.

    Parameters
    ----------
    problem
        A problem from an :class:`~stimwise.errors.InputError` about an intake.
    data
        The submitted document, so that rows of a tagged union (diagnoses) and instrument
        answers are named by their own labels.
    """
    return HumanProblem(
        path=problem.path,
        where=label_path(problem.path, data),
        value=_value_words(problem.path, problem.value),
        expected=_reworded(problem.expected, problem.path, data, problem.value),
    )


def problems_in_words(problems, data: Any = None) -> tuple[HumanProblem, ...]:
    """Every problem of an :class:`~stimwise.errors.InputError` (or a list of problems) in
    words."""
    listed = getattr(problems, "problems", problems)
    return tuple(problem_in_words(p, data) for p in listed)


__all__ = [
    "CHOICE_LABELS",
    "FIELD_CHOICE_LABELS",
    "SCREENING_LABELS",
    "Choice",
    "HumanProblem",
    "accepts_unknown",
    "choice_label",
    "choices",
    "field_info",
    "field_label",
    "is_site_field",
    "label_path",
    "problem_in_words",
    "problems_in_words",
    "screening_label",
]
