"""The examples in the docstrings run, and say what they show (issue 13: runnable examples on every
public name, run in CI). Every module of ``src/stimwise`` that holds an example is collected, so a
new example is tested without being registered anywhere."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import stimwise

SRC = Path(stimwise.__file__).parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules_with_examples() -> list[str]:
    """Dotted names of the modules whose source holds a doctest prompt (read as text: importing
    every module, e.g. the Alembic environment, would run code)."""
    names = []
    for path in sorted(SRC.rglob("*.py")):
        if ">>> " not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_examples_are_found():
    assert len(MODULES) >= 40
    assert {"stimwise", "stimwise.safety.verify", "stimwise.session.scripted"} <= set(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_the_examples_of_a_module_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    tests = [test for test in finder.find(module, module_name) if test.examples]
    assert tests, f"{module_name} holds '>>> ' but no doctest was found"
    failures: list[str] = []
    for test in tests:
        runner.run(test, out=failures.append)
    assert not failures, "".join(failures)
