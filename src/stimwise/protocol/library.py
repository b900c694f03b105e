"""The evidence-based protocol library shipped with stimwise (``protocol/data/library/*.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import load_model_file, parse_document, validate_model
from stimwise.protocol.models import Protocol

_LIBRARY_PACKAGE = "stimwise.protocol.data.library"


@cache
def library() -> dict[str, Protocol]:
    """All library protocols by id, validated once per process."""
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
    return sorted(library())


def get_protocol(id_or_path: str) -> Protocol:
    """A library protocol by id, or a protocol file by path (``.yaml``, ``.yml``, ``.json``)."""
    protocols = library()
    if id_or_path in protocols:
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
