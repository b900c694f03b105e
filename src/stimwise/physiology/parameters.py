"""Model parameters as data: the YAML files in ``physiology/data`` with their sources."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def model_parameters(name: str) -> dict:
    """The parameter document ``data/<name>.yaml`` (each number carries its source and mark)."""
    text = resources.files("stimwise.physiology").joinpath("data", f"{name}.yaml").read_text()
    return yaml.safe_load(text)
