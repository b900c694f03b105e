"""The safety gate as a type: a :class:`VerifiedPlan` exists only if ``verify()`` passed it.

Device drivers, session runners, streamers and exporters accept nothing else, so stimulation that
was not verified (or was blocked) cannot reach an output. The constructor refuses every caller
that does not hold the module-private gate token, which only :mod:`stimwise.safety.verify` uses.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from stimwise.errors import UnverifiedPlanError

if TYPE_CHECKING:
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.report import SafetyReport
    from stimwise.waveform.metrics import PlanMetrics

_GATE = object()


def prescription_fingerprint(prescription: Prescription) -> str:
    """SHA-256 of the prescription's canonical JSON: identifies exactly what was verified."""
    return hashlib.sha256(prescription.model_dump_json().encode()).hexdigest()


class VerifiedPlan:
    """A prescription that passed the safety verification, with its report and exact metrics."""

    __slots__ = ("_fingerprint", "_prescription", "_report")

    def __init__(self, prescription: Prescription, report: SafetyReport, *, _gate: object = None):
        if _gate is not _GATE:
            raise UnverifiedPlanError(
                "A VerifiedPlan can only be made by stimwise.safety.verify(); run the safety "
                "verification instead of constructing one."
            )
        if report.verdict == "block":
            raise UnverifiedPlanError("A blocked safety report cannot make a VerifiedPlan.")
        self._prescription = prescription
        self._report = report
        self._fingerprint = prescription_fingerprint(prescription)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_fingerprint"):
            raise AttributeError("VerifiedPlan is immutable")
        object.__setattr__(self, name, value)

    @property
    def prescription(self) -> Prescription:
        return self._prescription

    @property
    def report(self) -> SafetyReport:
        return self._report

    @property
    def metrics(self) -> PlanMetrics:
        return self._report.metrics

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def __repr__(self) -> str:
        return (
            f"VerifiedPlan(protocol={self._prescription.protocol.id!r}, "
            f"verdict={self._report.verdict!r}, fingerprint={self._fingerprint[:12]})"
        )


def require_verified(plan: object) -> VerifiedPlan:
    """Fail closed: anything but an intact VerifiedPlan is refused with a clear error."""
    if not isinstance(plan, VerifiedPlan):
        raise UnverifiedPlanError(
            f"Refusing to output stimulation from a {type(plan).__name__}: only a VerifiedPlan "
            "returned by stimwise.safety.verify() may be delivered, streamed or exported."
        )
    if prescription_fingerprint(plan.prescription) != plan.fingerprint:
        raise UnverifiedPlanError("The VerifiedPlan's prescription changed after verification.")
    return plan
