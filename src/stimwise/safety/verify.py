"""``verify()``: the safety gate every stimulation output passes through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from stimwise.arguments import check_type
from stimwise.errors import FieldProblem, InputError
from stimwise.numbers import Bounds
from stimwise.protocol.io import validate_model
from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription, as_prescription
from stimwise.safety.caps import PatientCaps
from stimwise.safety.limits import limits
from stimwise.safety.plan import _issue
from stimwise.safety.report import SafetyReport
from stimwise.safety.rules import CHANNEL_RULES, PLAN_RULES, patient_caps
from stimwise.waveform.metrics import DEFAULT_LOAD_OHM, compute_metrics

__all__ = ["PatientCaps", "verify"]

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _canonical(model_type: type[_ModelT], value: object, name: str) -> _ModelT:
    """A fresh, fully validated ``model_type`` with ``value``'s content.

    Whatever made ``value`` (``model_construct``, ``object.__setattr__`` on a frozen model, a
    subclass with overridden properties), what is judged and sealed is rebuilt from plain data
    by the validators, so a NaN, an out-of-range number or a foreign type cannot pass, and
    nobody else holds a reference to what the plan carries."""
    if not isinstance(value, model_type):
        raise InputError(FieldProblem(name, type(value).__name__, f"a {model_type.__name__}"))
    try:
        data = value.model_dump(warnings=False)
    except (PydanticSerializationError, TypeError, ValueError) as error:
        raise InputError(
            FieldProblem(name, str(error)[:120], f"a valid {model_type.__name__}")
        ) from None
    return validate_model(model_type, data, source=name)


_LOAD_OHM = Bounds("Ω", gt=0)


def _load(value: object, name: str) -> float:
    problem = _LOAD_OHM.problem(name, value)
    if problem is not None:
        raise InputError(problem)
    return float(value)  # type: ignore[arg-type]


def verify(
    prescription: Prescription | Protocol,
    *,
    caps: PatientCaps | None = None,
    load_ohm: float = DEFAULT_LOAD_OHM,
    extra_loads_ohm: Iterable[float] = (),
) -> SafetyReport:
    """Judge a prescription against every limit and, if nothing blocks, make its VerifiedPlan.

    Parameters
    ----------
    prescription
        What would be delivered. A :class:`~stimwise.protocol.models.Protocol` is verified as
        its default prescription (:meth:`Prescription.from_protocol` without overrides: the
        protocol's electrodes, amplitude and session length).
    caps
        Patient-specific caps from screening (``screening.caps``); each one blocks when
        exceeded.
    load_ohm
        The load for the standard limits (500 Ω, as IEC 60601-2-10 and the FDA characterise).
    extra_loads_ohm
        Further loads (e.g. 2 kΩ and 10 kΩ, FDA characterisation) whose energy, voltage and
        power-density figures are also judged: a constant-current output delivers more energy
        into a higher load.

    Returns
    -------
    SafetyReport
        ``report.plan`` is the VerifiedPlan, or ``None`` when the verdict is ``block``. The plan
        carries a validated copy of ``prescription`` and is bound to ``caps.patient_id`` (no
        caps, or caps for no one: the plan is not patient-specific).

    Raises
    ------
    InputError
        ``prescription`` or ``caps`` holds a value their models refuse (NaN, infinity, out of
        range — e.g. one slipped in past validation), or a load is not a finite positive number.
    ArgumentTypeError
        ``prescription`` is neither a Prescription nor a Protocol (a library id must be loaded
        first with :func:`stimwise.load_protocol`), or ``caps`` is not a PatientCaps.

    Examples
    --------
    >>> import stimwise as sw
    >>> report = sw.verify(sw.load_protocol("conventional-tens"))
    >>> report.verdict, report.plan is not None
    ('pass', True)
    >>> plan = report.require_plan()  # the VerifiedPlan devices, sessions and exports accept
    >>> plan.prescription.protocol.id
    'conventional-tens'

    With a person's caps, a prescription beyond them is blocked and has no plan:

    >>> intake = sw.load_intake(sw.example_patient_path("crps-allodynia"))
    >>> caps = sw.screen(intake).caps.model_copy(update={"max_amplitude_ma": 10.0})
    >>> report = sw.verify(sw.load_protocol("conventional-tens"), caps=caps)
    >>> report.verdict, report.plan
    ('block', None)

    A library id is not loaded implicitly:

    >>> sw.verify("conventional-tens")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: verify() expects prescription to be a Prescription or a
    Protocol, got str 'conventional-tens'; load it first with
    stimwise.load_protocol('conventional-tens')
    """
    prescription = _canonical(
        Prescription, as_prescription(prescription, function="verify"), "prescription"
    )
    check_type(caps, PatientCaps, function="verify", name="caps", allow_none=True,
               hint="a screening's caps are screening.caps")
    caps = None if caps is None else _canonical(PatientCaps, caps, "caps")
    primary_load = _load(load_ohm, "load_ohm")
    extra = [_load(r, "extra_loads_ohm") for r in extra_loads_ohm]
    table = limits()
    loads = [primary_load, *[r for r in extra if r != primary_load]]
    all_metrics = [compute_metrics(prescription, r) for r in loads]
    findings = []
    for metrics in all_metrics:
        for channel in metrics.channels:
            for rule in CHANNEL_RULES:
                findings.extend(rule(channel, prescription, table))
    primary = all_metrics[0]
    for plan_rule in PLAN_RULES:
        findings.extend(plan_rule(prescription, primary, table))
    if caps is not None:
        findings.extend(patient_caps(prescription, caps, table))
    report = SafetyReport(
        protocol_id=prescription.protocol.id,
        findings=tuple(findings),
        metrics=primary,
        extra_load_metrics=tuple(all_metrics[1:]),
    )
    if report.verdict == "block":
        return report
    return _issue(prescription, report, None if caps is None else caps.patient_id)
