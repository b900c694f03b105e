"""docs/api.md, the API reference generated from the docstrings by docs/gen_api.py, lists every
public name of every package with its current call signature."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
NAMES = [
    (package, name)
    for package, _ in GEN.PACKAGES
    for name in importlib.import_module(package).__all__
]


def test_the_reference_covers_every_package():
    from test_public_api import EAGER_PACKAGES, LAZY_PACKAGES

    assert {package for package, _ in GEN.PACKAGES} == set(LAZY_PACKAGES + EAGER_PACKAGES)


@pytest.mark.parametrize(("package", "name"), NAMES, ids=[f"{p}.{n}" for p, n in NAMES])
def test_every_public_name_is_listed_with_its_signature(package, name):
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    assert GEN.heading(package, name) in text.splitlines(), (
        f"docs/api.md lacks {package}.{name} as it is now: run .venv/bin/python docs/gen_api.py"
    )
