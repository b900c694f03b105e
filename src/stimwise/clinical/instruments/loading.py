"""Reading answer files (YAML or JSON) into checked :class:`InstrumentResponse` objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stimwise.clinical.instruments.models import InstrumentResponse, ResponseDocument
from stimwise.clinical.instruments.registry import answer_problems
from stimwise.errors import InputError
from stimwise.protocol.io import read_document, validate_model


def load_responses(data: Any, source: str | None = None) -> tuple[InstrumentResponse, ...]:
    """Validate a parsed answer document and the answers of every response in it.

    Parameters
    ----------
    data
        The parsed document: a mapping with a ``responses`` list (see ``docs/instruments.md``).
    source
        Name of the file, shown in error messages.

    Returns
    -------
    tuple of InstrumentResponse
        Responses whose answers are known to be scorable.

    Raises
    ------
    InputError
        For a malformed document (paths as ``responses.1.instrument``), or else for every bad
        answer in every response (``responses.0.answers.item_7``), all in one error.
    """
    document = validate_model(ResponseDocument, data, source=source)
    problems = [
        problem
        for index, response in enumerate(document.responses)
        for problem in answer_problems(response, prefix=f"responses.{index}")
    ]
    if problems:
        raise InputError(problems, source=source)
    return document.responses


def load_responses_file(path: str | Path) -> tuple[InstrumentResponse, ...]:
    """Read a YAML or JSON answer file and validate it as :func:`load_responses` does."""
    path = Path(path)
    return load_responses(read_document(path), source=str(path))
