"""The outcome of a safety verification: a verdict and every finding with its reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from stimwise.errors import SafetyBlockError
from stimwise.safety.limits import Limit, Severity

if TYPE_CHECKING:
    from stimwise.safety.plan import VerifiedPlan
    from stimwise.waveform.metrics import PlanMetrics

__all__ = ["Finding", "SafetyReport", "Verdict"]

Verdict = Literal["pass", "warn", "block"]


@dataclass(frozen=True)
class Finding:
    """One rule's result: what was measured, against which limit, and where the limit comes from.

    Examples
    --------
    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(sw.load_protocol("conventional-tens"),
    ...                                    max_amplitude_ma=60)
    >>> finding = sw.verify(rx).findings[0]
    >>> finding.rule_id, finding.severity, finding.measured, finding.limit
    ('evidence-range', 'warn', 60.0, '10–35.5')
    >>> finding.message
    "amplitude_ma = 60 lies outside 10–35.5, the range of this protocol's evidence"
    """

    rule_id: str
    severity: Severity
    message: str
    measured: float | str | None
    limit: float | str | None
    unit: str
    source: str
    confidence: str
    channel: str | None = None
    load_ohm: float | None = None

    @classmethod
    def from_limit(
        cls,
        limit: Limit,
        message: str,
        *,
        measured: float | str | None,
        limit_value: float | str | None = None,
        channel: str | None = None,
        load_ohm: float | None = None,
        source: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return cls(
            rule_id=limit.id,
            severity=severity or limit.severity,
            message=message,
            measured=measured,
            limit=limit.limit if limit_value is None else limit_value,
            unit=limit.unit,
            source=source or limit.source,
            confidence=limit.confidence,
            channel=channel,
            load_ohm=load_ohm,
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SafetyReport:
    """Verdict (pass / warn / block), findings, and the exact metrics they were judged on.

    Examples
    --------
    200 mA through 1 cm² electrodes: blocked, so no plan.

    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(sw.load_protocol("conventional-tens"),
    ...                                    max_amplitude_ma=200, electrode_area_cm2=1)
    >>> report = sw.verify(rx)
    >>> report.verdict, report.plan
    ('block', None)
    >>> sorted({f.rule_id for f in report.blocking})
    ['FDA.power-density']
    >>> report.require_plan()
    Traceback (most recent call last):
    ...
    stimwise.errors.SafetyBlockError: Safety verification blocked conventional-tens: ...
    """

    protocol_id: str
    findings: tuple[Finding, ...]
    metrics: PlanMetrics
    extra_load_metrics: tuple[PlanMetrics, ...] = ()
    plan: VerifiedPlan | None = field(default=None, compare=False, repr=False)

    @property
    def verdict(self) -> Verdict:
        severities = {f.severity for f in self.findings}
        if "block" in severities:
            return "block"
        if "warn" in severities:
            return "warn"
        return "pass"

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "block")

    def require_plan(self) -> VerifiedPlan:
        """The verified plan, or a :class:`SafetyBlockError` quoting the blocking rules."""
        if self.plan is None:
            reasons = "; ".join(f"[{f.rule_id}] {f.message}" for f in self.blocking)
            raise SafetyBlockError(f"Safety verification blocked {self.protocol_id}: {reasons}")
        return self.plan

    def to_dict(self) -> dict:
        return {
            "protocol": self.protocol_id,
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": self.metrics.to_dict(),
            "extra_loads": [m.to_dict() for m in self.extra_load_metrics],
            "fingerprint": None if self.plan is None else self.plan.fingerprint,
        }
