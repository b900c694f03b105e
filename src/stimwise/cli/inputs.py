"""What several commands make from their options, made once: the prescription from a protocol
and its dose options, patient caps, an intake file, the acting clinician, and input errors named
by the options that set the values."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def prescription(
    protocol_ref: str, area: float | None, amplitude: float | None, minutes: float | None
):
    """The library protocol or protocol file ``protocol_ref`` with the dose options given."""
    from stimwise.protocol.library import get_protocol
    from stimwise.protocol.prescription import Prescription

    return Prescription.from_protocol(
        get_protocol(protocol_ref),
        electrode_area_cm2=area,
        max_amplitude_ma=amplitude,
        session_duration_min=minutes,
    )


def caps(caps_file: Path | None, patient_file: Path | None = None):
    """Caps from a caps file or from screening a patient file (not both)."""
    from stimwise.errors import FieldProblem, InputError

    if caps_file is not None and patient_file is not None:
        raise InputError(
            FieldProblem("--caps", str(caps_file), "either --caps or --patient, not both")
        )
    if patient_file is not None:
        from stimwise.clinical.screening import screen

        return screen(intake(patient_file)).caps
    if caps_file is None:
        return None
    from stimwise.protocol.io import load_model_file
    from stimwise.safety.caps import PatientCaps

    return load_model_file(PatientCaps, caps_file)


def intake(path: Path):
    """A patient intake file, validated."""
    from stimwise.clinical.intake import Intake
    from stimwise.protocol.io import load_model_file

    return load_model_file(Intake, path)


def actor():
    """The local clinician the record commands act as."""
    from stimwise.records.access import local_clinician

    return local_clinician()


def validated(model: type, data: dict[str, Any], options: dict[str, str]):
    """Validate CLI values as ``model``; problems name the command-line option, not the field."""
    from stimwise.errors import InputError
    from stimwise.protocol.io import validate_model

    try:
        return validate_model(model, data)
    except InputError as error:
        raise with_options(error, options) from None


def with_options(error, options: dict[str, str], strip: str = ""):
    """The same :class:`InputError` with field paths renamed to the options that set them."""
    from stimwise.errors import FieldProblem, InputError

    renamed = []
    for problem in error.problems:
        head, _, rest = problem.path.removeprefix(strip).partition(".")
        path = options.get(head, head) + (f".{rest}" if rest else "")
        renamed.append(FieldProblem(path, problem.value, problem.expected))
    return InputError(renamed, source=error.source)
