"""The example patient intakes shipped with stimwise (fictional cases for demos and tests).

They live in the package (``clinical/data/examples``) so that ``stimwise demo`` works wherever
stimwise is installed; the repository's ``examples/patients`` points at the same files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from stimwise.errors import FieldProblem, InputError

__all__ = ["example_names", "example_patient_path"]

_PACKAGE = "stimwise.clinical.data.examples"


def example_names() -> tuple[str, ...]:
    """Names of the example patients (file stems), sorted.

    Examples
    --------
    >>> from stimwise.clinical import example_names
    >>> example_names()
    ('cipn-hands-feet', 'crps-allodynia', 'diabetic-neuropathy-insensate-feet', 'pacemaker',
     'pregnant-low-back-pain')
    """
    files = resources.files(_PACKAGE).iterdir()
    return tuple(sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml")))


def example_patient_path(name: str) -> Path:
    """The file of one example patient.

    Examples
    --------
    >>> import stimwise as sw
    >>> sw.example_patient_path("pacemaker").name
    'pacemaker.yaml'
    >>> sw.example_patient_path("nobody")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): example: got 'nobody'; expected one of
    cipn-hands-feet, crps-allodynia, diabetic-neuropathy-insensate-feet, pacemaker,
    pregnant-low-back-pain
    """
    if name not in example_names():
        raise InputError(FieldProblem("example", name, f"one of {', '.join(example_names())}"))
    return Path(str(resources.files(_PACKAGE).joinpath(f"{name}.yaml")))
