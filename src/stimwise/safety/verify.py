"""``verify()``: the safety gate every stimulation output passes through."""

from __future__ import annotations

from collections.abc import Iterable

from stimwise.protocol.prescription import Prescription
from stimwise.safety.caps import PatientCaps
from stimwise.safety.limits import limits
from stimwise.safety.plan import _GATE, VerifiedPlan
from stimwise.safety.report import SafetyReport
from stimwise.safety.rules import CHANNEL_RULES, PLAN_RULES, patient_caps
from stimwise.waveform.metrics import DEFAULT_LOAD_OHM, compute_metrics

__all__ = ["PatientCaps", "verify"]


def verify(
    prescription: Prescription,
    *,
    caps: PatientCaps | None = None,
    load_ohm: float = DEFAULT_LOAD_OHM,
    extra_loads_ohm: Iterable[float] = (),
) -> SafetyReport:
    """Judge a prescription against every limit and, if nothing blocks, make its VerifiedPlan.

    Parameters
    ----------
    prescription
        What would be delivered.
    caps
        Patient-specific caps from screening; each one blocks when exceeded.
    load_ohm
        The load for the standard limits (500 Ω, as IEC 60601-2-10 and the FDA characterise).
    extra_loads_ohm
        Further loads (e.g. 2 kΩ and 10 kΩ, FDA characterisation) whose energy, voltage and
        power-density figures are also judged: a constant-current output delivers more energy
        into a higher load.

    Returns
    -------
    SafetyReport
        ``report.plan`` is the VerifiedPlan, or ``None`` when the verdict is ``block``.
    """
    table = limits()
    loads = [load_ohm, *[float(r) for r in extra_loads_ohm if float(r) != load_ohm]]
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
    plan = VerifiedPlan(prescription, report, _gate=_GATE)
    # The report and its plan refer to each other; the frozen report is completed here, once,
    # before anyone else can see it.
    object.__setattr__(report, "plan", plan)
    return report
