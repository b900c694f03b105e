"""Checking a response's answers against its instrument, reporting every bad item at once.

A clinician correcting an answer sheet should see all of its problems in one pass, each with the
item's path, the value found and what was expected, so problems are collected here and raised
together as one :class:`~stimwise.errors.InputError` by the caller.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from stimwise.clinical.instruments.models import InstrumentResponse
from stimwise.clinical.instruments.spec import Answer, InstrumentSpec, InstrumentVersion
from stimwise.errors import FieldProblem


@dataclass(frozen=True)
class CheckedAnswers:
    """The outcome of :func:`check_answers`: the version used, the valid answers in canonical
    form, and the problems found (empty when the response can be scored)."""

    version: InstrumentVersion | None
    values: dict[str, Answer] = field(default_factory=dict)
    problems: tuple[FieldProblem, ...] = ()


def join_path(*parts: str) -> str:
    """Dotted path of the non-empty ``parts`` (``instruments[2]``, ``answers``, ``item_7``)."""
    return ".".join(part for part in parts if part)


def check_answers(
    spec: InstrumentSpec, response: InstrumentResponse, prefix: str = ""
) -> CheckedAnswers:
    """Check ``response`` against ``spec``.

    Parameters
    ----------
    spec
        The instrument the response claims to answer.
    response
        The response to check.
    prefix
        Path of the response inside the caller's document (``responses.2``), prepended to
        every problem path so that the user can find the item in their own file.

    Returns
    -------
    CheckedAnswers
        The canonical answers and all problems. A missing or ``null`` answer to a required item,
        an answer that the item's scale refuses, and an item id the version does not have are
        each one problem. With an unknown ``version`` nothing else can be checked, so that is the
        only problem reported.
    """
    version = spec.find_version(response.version)
    if version is None:
        versions = ", ".join(v.id for v in spec.versions)
        problem = FieldProblem(
            path=join_path(prefix, "version"),
            value=response.version,
            expected=f"a version of {spec.id}, one of: {versions}",
        )
        return CheckedAnswers(version=None, problems=(problem,))

    values: dict[str, Answer] = {}
    problems: list[FieldProblem] = []
    for item_id in version.item_ids:
        item = spec.item(item_id)
        path = join_path(prefix, "answers", item_id)
        raw = response.answers.get(item_id)
        if raw is None:
            if item.required:
                hint = _other_versions(spec, item_id)
                expected = f"an answer: {item.scale.expected()} (required item{hint})"
                problems.append(FieldProblem(path=path, value=None, expected=expected))
            continue
        value = item.scale.parse(raw)
        if value is None:
            problems.append(FieldProblem(path=path, value=raw, expected=item.scale.expected()))
        else:
            values[item_id] = value

    for item_id, raw in response.answers.items():
        if item_id not in version.item_ids:
            problems.append(
                FieldProblem(
                    path=join_path(prefix, "answers", item_id),
                    value=raw,
                    expected=_unknown_item_expectation(spec, version, item_id),
                )
            )
    return CheckedAnswers(version=version, values=values, problems=tuple(problems))


def _other_versions(spec: InstrumentSpec, item_id: str) -> str:
    """A hint naming the versions that do without ``item_id`` (DN4 interview-only), if any."""
    without = [v.id for v in spec.versions if item_id not in v.item_ids]
    return f"; versions without it: {', '.join(without)}" if without else ""


def _unknown_item_expectation(
    spec: InstrumentSpec, version: InstrumentVersion, item_id: str
) -> str:
    """Explain an item id the version does not have, suggesting the likely intended one."""
    if item_id in spec.item_ids:
        return (
            f"no such item in the {version.id} version of {spec.id} "
            "(choose a version that includes it, or remove it)"
        )
    close = difflib.get_close_matches(item_id, version.item_ids, n=1)
    if close:
        return f"no such item in {spec.id} (did you mean {close[0]}?)"
    return f"no such item in {spec.id}; its items are: {', '.join(version.item_ids)}"
