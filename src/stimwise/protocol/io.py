"""Reading protocol files (YAML or JSON) and turning every failure into an :class:`InputError`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import UNION_TAGS

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_FILE_BYTES = 1_000_000
"""Largest protocol, intake, caps, answer or plan file read (stimwise's bound, U: the largest
shipped file is about 30 kB); a larger one is refused before it is read."""


MAX_YAML_NODES = 1_000_000
"""Most values a YAML document may hold once its aliases are expanded (U: a 1 MB file without
aliases holds at most about 500,000)."""

MAX_YAML_DEPTH = 64
"""Deepest nesting of lists and mappings in an input document (U: the deepest stimwise file
format nests about 8 levels). Checked while composing, so 5,000 opening brackets are refused at
once instead of recursing until Python's limit (seconds of work)."""


class _TooLarge(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark, why: str) -> None:
        super().__init__(why)
        self.mark = mark
        self.why = why


class _InputLoader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded: a document may not expand beyond :data:`MAX_YAML_NODES`
    values, nor refer to itself.

    An alias (``*name``) repeats a node anchored elsewhere (PyYAML writes them for shared
    objects); nested aliases grow exponentially ("billion laughs": a few hundred bytes that
    expand to billions of values in whatever walks the result). The expanded size is counted
    on the composed node graph, each node once, before any Python object is built."""

    _depth = 0

    def compose_document(self):  # type: ignore[no-untyped-def]
        node = super().compose_document()
        _expanded_size(node, {}, set())
        return node

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooLarge(self.peek_event().start_mark,
                                f"lists or mappings nested more than {MAX_YAML_DEPTH} deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
        return int(_plain_number(self.construct_scalar(node), _YAML_INT))

    def construct_yaml_float(self, node):  # type: ignore[no-untyped-def]
        return float(_plain_number(self.construct_scalar(node), _YAML_FLOAT))


# YAML 1.1 (PyYAML) reads 2_0 as 20, 024 as 20 (octal), 0x14 as 20 and 1:20 as 80: a typo in a
# dose would become another dose. Input files take numbers in plain decimal notation only;
# anything else stays text, which a number field then refuses. Each pattern is also a subset of
# what PyYAML itself reads as a number, so text that PyYAML writes unquoted ("1e3", "09", an id
# or a note) is never read back here as a number: a float needs its decimal point, and an
# exponent its sign, as in PyYAML ("1.0e+3"); "024" is 24 (PyYAML quotes it when it writes text).
_YAML_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*|0[0-7]+)")
_YAML_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_InputLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_InputLoader.add_implicit_resolver(
    _INT_TAG, re.compile(f"^(?:{_YAML_INT.pattern})$"), list("-+0123456789")
)
_InputLoader.add_implicit_resolver(
    _FLOAT_TAG, re.compile(f"^(?:{_YAML_FLOAT.pattern})$"), list("-+0123456789.")
)
_InputLoader.add_constructor(_INT_TAG, _InputLoader.construct_yaml_int)
_InputLoader.add_constructor(_FLOAT_TAG, _InputLoader.construct_yaml_float)


def _plain_number(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` if it is a number in plain decimal notation (``.inf``/``.nan`` as YAML writes
    them become ``inf``/``nan``, which the models then refuse)."""
    if not pattern.fullmatch(text):
        raise ValueError(f"{text!r} is not a number in plain decimal notation")
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return lowered.replace(".inf", "inf")  # -.inf -> -inf
    if lowered == ".nan":
        return "nan"
    return text


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Values under ``node`` with every alias expanded (``sizes`` memoises shared nodes)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise _TooLarge(node.start_mark, "an alias that refers to itself (an endless document)")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes, open_nodes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes)
            for k, v in node.value
        )
    open_nodes.discard(key)
    if size > MAX_YAML_NODES:
        raise _TooLarge(
            node.start_mark,
            f"more than {MAX_YAML_NODES:,} values once its aliases are expanded",
        )
    sizes[key] = size
    return size


_union_tags: set[str] = set(UNION_TAGS)


def register_union_tags(*tags: str) -> None:
    """Declare the discriminator values of another file format's tagged unions, so that error
    paths leave them out (``diagnoses.0.affected_sites``, not ``diagnoses.0.crps...``)."""
    _union_tags.update(tags)


def _field_path(loc: tuple) -> str:
    """Dotted path of the fields a user wrote, without pydantic's union-member tags
    (``waveform.pulse.phase_width_us``, not ``waveform.pulse_train.pulse...``)."""
    parts = [str(part) for part in loc if part not in _union_tags]
    return ".".join(parts) or "(document)"


def problems_from_validation(error: ValidationError) -> list[FieldProblem]:
    """Translate pydantic's errors into field path / value / expectation triples."""
    items = error.errors(include_url=False)
    locations = [tuple(item["loc"]) for item in items]
    problems = []
    for item in items:
        loc = tuple(item["loc"])
        if any(other[: len(loc)] == loc and len(other) > len(loc) for other in locations):
            continue  # a container error caused by an invalid member already reported
        path = _field_path(loc)
        expected = item["msg"]
        if expected.startswith("Value error, "):
            expected = expected[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            expected = "no such field (check the spelling; unknown fields are not allowed)"
        elif item["type"] == "missing":
            expected = "a value (this field is required)"
        value = item.get("input") if item["type"] != "missing" else None
        if isinstance(value, dict):
            value = "{...}"
        problems.append(FieldProblem(path=path, value=value, expected=expected))
    return problems


def validate_model(model: type[ModelT], data: Any, source: str | None = None) -> ModelT:
    """Validate ``data`` as ``model`` or raise an :class:`InputError` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(problems_from_validation(error), source=source) from None


def parse_document(text: str, source: str) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON is tried first for exact error positions)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            if not isinstance(error, json.JSONDecodeError):
                raise _unparseable(source, "JSON", error) from None
            raise InputError(
                FieldProblem(
                    path=f"(line {error.lineno}, column {error.colno})",
                    value=error.msg,
                    expected="well-formed JSON",
                ),
                source=source,
            ) from None
    try:
        return yaml.load(text, Loader=_InputLoader)  # a SafeLoader, bounded
    except (
        ValueError,
        TypeError,
        AttributeError,
        LookupError,
        ArithmeticError,
        RecursionError,
    ) as error:
        # PyYAML's constructors raise these for values such as 2020-02-30 or !!int abc.
        raise _unparseable(source, "YAML", error) from None
    except _TooLarge as error:
        raise InputError(
            FieldProblem(
                path=f"(line {error.mark.line + 1}, column {error.mark.column + 1})",
                value=error.why,
                expected=f"a YAML document of at most {MAX_YAML_NODES:,} values (aliases "
                "expanded)",
            ),
            source=source,
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"(line {mark.line + 1}, column {mark.column + 1})" if mark else "(document)"
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(
            FieldProblem(path=where, value=problem, expected="well-formed YAML"), source=source
        ) from None


def _unparseable(source: str, language: str, error: BaseException) -> InputError:
    reason = "nesting too deep" if isinstance(error, RecursionError) else str(error)[:120]
    return InputError(
        FieldProblem(path="(document)", value=reason, expected=f"well-formed {language}"),
        source=source,
    )


def check_file_size(path: Path, max_bytes: int, what: str) -> None:
    """Refuse a missing file or one larger than ``max_bytes`` before reading a byte of it.

    Every loader of user files calls this (or :func:`read_text_file`), so no input can make
    stimwise read gigabytes into memory."""
    source = str(path)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    if size is None:
        raise InputError(FieldProblem(path="file", value=source, expected=f"an existing {what}"),
                         source=source)
    if size > max_bytes:
        raise InputError(
            FieldProblem(path="file", value=f"{size} bytes", expected=f"≤ {max_bytes} bytes"),
            source=source,
        )


def read_text_file(path: Path, max_bytes: int, what: str) -> str:
    """A UTF-8 text file of at most ``max_bytes``; :class:`InputError` for a missing, huge or
    binary file."""
    check_file_size(path, max_bytes, what)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            FieldProblem(path="file", value="binary data", expected="UTF-8 text"), source=str(path)
        ) from None


def read_document(path: Path) -> Any:
    """Read and parse a YAML/JSON file, with clear errors for missing, huge or binary files."""
    source = str(path)
    text = read_text_file(path, MAX_FILE_BYTES, "YAML or JSON file")
    data = parse_document(text, source)
    if not isinstance(data, dict):
        raise InputError(
            FieldProblem(
                path="(document)", value=type(data).__name__, expected="a mapping of fields"
            ),
            source=source,
        )
    return data


def load_model_file(model: type[ModelT], path: str | Path) -> ModelT:
    """Read a file and validate it as ``model``."""
    path = Path(path)
    return validate_model(model, read_document(path), source=str(path))
