"""Safety limits and rules; :func:`verify` is the only way to obtain a :class:`VerifiedPlan`."""

from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.safety.report import Finding, SafetyReport
from stimwise.safety.verify import verify

__all__ = ["Finding", "PatientCaps", "SafetyReport", "VerifiedPlan", "require_verified", "verify"]
