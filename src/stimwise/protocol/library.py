"""The evidence-based protocol library shipped with stimwise (``protocol/data/library/*.yaml``)."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

from stimwise.arguments import check_type
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import load_model_file, parse_document, validate_model
from stimwise.protocol.models import Protocol

__all__ = ["get_protocol", "library", "library_ids"]

_LIBRARY_PACKAGE = "stimwise.protocol.data.library"


@cache
def library() -> dict[str, Protocol]:
    """All library protocols by id, validated once per process.

    Each protocol carries its evidence (citations with confidence marks) and the ranges its
    parameters were studied in; ``docs/protocols.md`` describes them.

    Returns
    -------
    dict
        Protocol id -> :class:`~stimwise.protocol.models.Protocol`, sorted by file name. Do not
        modify it: it is shared by every caller in the process.

    Examples
    --------
    >>> import stimwise as sw
    >>> "conventional-tens" in sw.library()
    True
    >>> sw.library()["burst-tens"].modality
    'TENS'
    """
    protocols: dict[str, Protocol] = {}
    for entry in sorted(resources.files(_LIBRARY_PACKAGE).iterdir(), key=lambda p: p.name):
        if not entry.name.endswith((".yaml", ".yml", ".json")):
            continue
        source = f"library/{entry.name}"
        protocol = validate_model(
            Protocol, parse_document(entry.read_text("utf-8"), source), source
        )
        if protocol.id in protocols:
            raise InputError(
                FieldProblem(path="id", value=protocol.id, expected="a unique library id"), source
            )
        protocols[protocol.id] = protocol
    return protocols


def library_ids() -> list[str]:
    """The library's protocol ids, sorted.

    Examples
    --------
    >>> from stimwise.protocol.library import library_ids
    >>> library_ids()[:2]
    ['acupuncture-like-tens', 'burst-tens']
    """
    return sorted(library())


def get_protocol(id_or_path: str | os.PathLike[str]) -> Protocol:
    """A library protocol by id, or a protocol file by path (``.yaml``, ``.yml``, ``.json``).

    The public face calls it ``stimwise.load_protocol``.

    Parameters
    ----------
    id_or_path
        A library id (``stimwise protocols list``) or the path of a protocol file
        (``stimwise schema protocol`` prints its format).

    Returns
    -------
    Protocol
        Validated (a typo in a field name or a value out of range is an error).

    Raises
    ------
    InputError
        Neither a library id nor a readable, valid protocol file; the message lists the library
        ids, or names every bad field of the file.

    Examples
    --------
    >>> import stimwise as sw
    >>> tens = sw.load_protocol("conventional-tens")
    >>> tens.id, tens.intensity.max_amplitude_ma
    ('conventional-tens', 30.0)
    >>> sw.load_protocol("conventional-tense")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): protocol: got 'conventional-tense';
    expected a library id (acupuncture-like-tens, ...) or a YAML/JSON file
    """
    check_type(id_or_path, (str, os.PathLike), function="load_protocol", name="id_or_path")
    protocols = library()
    if isinstance(id_or_path, str) and id_or_path in protocols:
        return protocols[id_or_path]
    path = Path(id_or_path)
    if path.suffix.lower() in {".yaml", ".yml", ".json"} or path.exists():
        return load_model_file(Protocol, path)
    raise InputError(
        FieldProblem(
            path="protocol",
            value=id_or_path,
            expected=f"a library id ({', '.join(sorted(protocols))}) or a YAML/JSON file",
        )
    )
