"""Write docs/api.md from the docstrings of every public name (``__all__`` of each package).

Run after changing a public name, its signature or its docstring's first paragraph or examples:

    .venv/bin/python docs/gen_api.py

``tests/test_api_docs.py`` fails while docs/api.md is out of date.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

PACKAGES = (
    ("stimwise", "The public face: `import stimwise as sw`"),
    ("stimwise.protocol", "Protocols and prescriptions"),
    ("stimwise.waveform", "Waveforms: exact metrics, samples, plots"),
    ("stimwise.safety", "The safety gate"),
    ("stimwise.export", "Exports of verified plans"),
    ("stimwise.physiology", "The physiology engine (model predictions, not a dose)"),
    ("stimwise.clinical", "Intake, screening and recommendation"),
    ("stimwise.device", "Stimulators"),
    ("stimwise.session", "Sessions"),
    ("stimwise.records", "Records"),
    ("stimwise.analysis", "Response analysis"),
    ("stimwise.interop", "FHIR and CSV"),
    ("stimwise.web", "The web application"),
    ("stimwise.cli", "The command line"),
)
OUT = Path(__file__).with_name("api.md")


def _summary(doc: str) -> str:
    """The docstring's first paragraph, on one line."""
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines())


def _examples(doc: str) -> str:
    """The Examples section of a numpydoc docstring, as written."""
    match = re.search(r"\nExamples\n-{3,}\n(.*?)(?=\n\S[^\n]*\n-{3,}\n|\Z)", doc, re.DOTALL)
    return match.group(1).strip() if match else ""


def _signature(value: object) -> str:
    """The call signature; a pydantic model's as its field names (keyword arguments)."""
    fields = getattr(value, "model_fields", None)
    if inspect.isclass(value) and isinstance(fields, dict):
        return "(*, " + ", ".join(fields) + ")"
    if inspect.isclass(value) and value.__init__ is object.__init__ and value.__new__ is not (
        object.__new__
    ):
        return ""  # made by a factory only (VerifiedPlan: verify())
    try:
        signature = inspect.signature(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    parameters = [
        p.replace(annotation=_written(p.annotation)) for p in signature.parameters.values()
    ]
    text = str(signature.replace(parameters=parameters,
                                 return_annotation=_written(signature.return_annotation)))
    return re.sub(r" at 0x[0-9a-f]+", "", text)


class _Written:
    """An annotation shown as written in the source (``float``, not ``'float'``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _written(annotation: object) -> object:
    return _Written(annotation) if isinstance(annotation, str) else annotation


def _examples_markdown(examples: str) -> list[str]:
    """Prose paragraphs as text, example blocks as ``pycon`` code."""
    lines: list[str] = []
    for chunk in examples.split("\n\n"):
        if chunk.lstrip().startswith(">>>"):
            lines += ["", "```pycon", chunk, "```"]
        else:
            lines += ["", " ".join(line.strip() for line in chunk.splitlines())]
    return lines


def heading(package: str, name: str) -> str:
    """The heading line of one public name: how it is called."""
    value = getattr(importlib.import_module(package), name)
    signature = _signature(value) if callable(value) else ""
    public = "sw" if package == "stimwise" else package
    return f"### `{public}.{name}{signature}`"


def entry(package: str, name: str) -> str:
    """The Markdown of one public name."""
    value = getattr(importlib.import_module(package), name)
    kind = "class" if inspect.isclass(value) else "function" if callable(value) else "value"
    defined = getattr(value, "__module__", None) or package
    qualified = f"{defined}.{getattr(value, '__qualname__', name)}"
    lines = [heading(package, name), "", f"*{kind}* `{qualified}`"]
    doc = inspect.getdoc(value) if kind != "value" else None
    if doc:
        lines += ["", _summary(doc)]
        lines += _examples_markdown(_examples(doc))
    return "\n".join(lines)


def render() -> str:
    parts = [
        "# stimwise API reference",
        "",
        "Generated from the docstrings by `docs/gen_api.py` (do not edit by hand). Every name",
        "below is in its package's `__all__`; the examples are run as tests",
        "(`tests/test_doctests.py`). Start with the public face, `import stimwise as sw`, and",
        "the notebook `examples/first-steps.ipynb`. In a notebook, run `%matplotlib inline` once",
        "so that the figures the plot functions return are drawn.",
        "",
        "stimwise is clinical-decision support and research software, not a certified medical",
        "device; physiology results are model predictions, not a diagnosis or a dose.",
    ]
    for package, title in PACKAGES:
        module = importlib.import_module(package)
        parts += ["", f"## {title} (`{package}`)", ""]
        parts += [_summary(module.__doc__ or "")]
        for name in module.__all__:
            parts += ["", entry(package, name)]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
