"""Reading protocol files (YAML or JSON) and turning every failure into an :class:`InputError`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import UNION_TAGS

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_FILE_BYTES = 1_000_000


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
        return yaml.safe_load(text)
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


def read_document(path: Path) -> Any:
    """Read and parse a YAML/JSON file, with clear errors for missing, huge or binary files."""
    source = str(path)
    if not path.is_file():
        raise InputError(
            FieldProblem(path="file", value=source, expected="an existing YAML or JSON file"),
            source=source,
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            FieldProblem(path="file", value=f"{size} bytes", expected=f"≤ {MAX_FILE_BYTES} bytes"),
            source=source,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(
            FieldProblem(path="file", value="binary data", expected="UTF-8 text"), source=source
        ) from None
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
