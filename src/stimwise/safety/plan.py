"""The safety gate as a type: a :class:`VerifiedPlan` exists only if ``verify()`` made it.

Device drivers, session runners, streamers and exporters accept nothing else and call
:func:`require_verified` on it — at ``configure`` and at every amplitude update — so stimulation
that was not verified (or was blocked, or was changed afterwards) cannot reach an output.

How a plan proves that it is genuine
------------------------------------
An object of the right class proves nothing in Python: ``VerifiedPlan.__new__``, a crafted
pickle, ``copy`` or ``__class__`` assignment all make one without ``verify()``. What counts is
the **seal** that ``verify()`` registers in this module when it issues a plan: a private table,
keyed by the plan's identity, holding (through a weak reference) which object was issued, the
verified prescription itself, its SHA-256 fingerprint, what the safety report judged with its
digest, and the person the plan was verified for. :func:`require_verified` accepts a plan only when

* it is exactly a ``VerifiedPlan`` (the class cannot be subclassed),
* its seal exists and was issued for this very object (an object made any other way has none),
* the prescription still hashes to the fingerprint that was verified, and the report to its
  digest (so an edit made with ``object.__setattr__`` or through ``__dict__``, anywhere in the
  nested models, is caught), and
* when the caller names a person, the plan was verified for that person.

A plan has no attributes of its own to edit: the prescription, the report (checked by digest)
and the person are read from the seal. The report ``verify()`` returns is made once, naming its
plan; the seal keeps what it judged (without the plan, so that a plan lives only as long as its
holders keep it), and ``plan.report`` gives that report again, naming the plan. A plan cannot be
pickled (store its prescription and verify again); ``copy.copy`` and ``copy.deepcopy`` return
the plan itself, which is immutable.

What this cannot stop: code that deliberately edits this module's private table, or unpickles
untrusted data (which runs arbitrary code by design; stimwise never unpickles anything).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, final

from stimwise.errors import PlanBindingError, UnverifiedPlanError

if TYPE_CHECKING:
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.report import SafetyReport
    from stimwise.waveform.metrics import PlanMetrics

__all__ = [
    "NOT_PATIENT_SPECIFIC",
    "VerifiedPlan",
    "check_binding",
    "prescription_fingerprint",
    "require_verified",
]

NOT_PATIENT_SPECIFIC = "not patient-specific"
"""How journals and pages name a plan verified without a person's screening caps."""


def prescription_fingerprint(prescription: Prescription) -> str:
    """SHA-256 of the prescription's canonical JSON: identifies exactly what was verified (and is
    what records store to match a session with its prescription)."""
    return hashlib.sha256(prescription.model_dump_json(warnings=False).encode()).hexdigest()


def _report_digest(report: SafetyReport) -> str:
    """SHA-256 of everything the report judged: verdict inputs, findings and exact metrics
    (frozen dataclasses whose generated ``repr`` shows every field exactly)."""
    content = (report.protocol_id, report.findings, report.metrics, report.extra_load_metrics)
    return hashlib.sha256(repr(content).encode()).hexdigest()


@dataclass(frozen=True)
class _Seal:
    """What ``verify()`` issued: kept here, out of the plan's reach."""

    plan: weakref.ref
    prescription: Prescription
    fingerprint: str
    judged: SafetyReport
    """The issued report without its plan (a reference back would keep every plan alive)."""
    report_digest: str
    patient_id: str | None


_SEALS: dict[int, _Seal] = {}
_SEALS_LOCK = threading.Lock()


def _forget(key: int, ref: weakref.ref) -> None:
    """Weak-reference callback: the plan is gone, so is its seal (never a newer plan's)."""
    with _SEALS_LOCK:
        seal = _SEALS.get(key)
        if seal is not None and seal.plan is ref:
            del _SEALS[key]


def _refuse_forgery() -> NoReturn:
    raise UnverifiedPlanError(
        "This VerifiedPlan was not made by stimwise.safety.verify() (it was constructed, copied "
        "or unpickled): run the safety verification instead; nothing was delivered."
    )


@final
class VerifiedPlan:
    """A prescription that passed the safety verification, with its report and exact metrics.

    Only :func:`stimwise.safety.verify` makes one. ``patient_id`` is the person whose screening
    caps it was verified with (``None``: verified without caps, *not patient-specific*).

    Examples
    --------
    >>> import stimwise as sw
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> plan.prescription.protocol.id, plan.patient_specific, len(plan.fingerprint)
    ('conventional-tens', False, 64)
    >>> sw.VerifiedPlan()
    Traceback (most recent call last):
    ...
    stimwise.errors.UnverifiedPlanError: A VerifiedPlan can only be made by
    stimwise.safety.verify(); run the safety verification instead of constructing one.
    """

    __slots__ = ("__weakref__",)

    def __new__(cls, *args: object, **kwargs: object) -> VerifiedPlan:
        raise UnverifiedPlanError(
            "A VerifiedPlan can only be made by stimwise.safety.verify(); run the safety "
            "verification instead of constructing one."
        )

    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError("VerifiedPlan cannot be subclassed: only verify() makes plans")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("VerifiedPlan is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("VerifiedPlan is immutable")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise UnverifiedPlanError(
            "A VerifiedPlan cannot be pickled or rebuilt: store its prescription and run "
            "stimwise.safety.verify() again where it is needed."
        )

    def __copy__(self) -> VerifiedPlan:
        return self  # immutable: the copy is the plan itself, still sealed

    def __deepcopy__(self, memo: dict) -> VerifiedPlan:
        return self

    # ---------------------------------------------------------------- what it carries

    def _seal(self) -> _Seal:
        seal = _SEALS.get(id(self))
        if seal is None or seal.plan() is not self:
            _refuse_forgery()
        return seal

    @property
    def prescription(self) -> Prescription:
        """The verified prescription (a validated copy of what was passed to ``verify()``)."""
        return self._seal().prescription

    @property
    def report(self) -> SafetyReport:
        """The safety report that issued this plan: equal to the one ``verify()`` returned, and
        its ``plan`` is this plan."""
        return dataclasses.replace(self._seal().judged, plan=self)

    @property
    def metrics(self) -> PlanMetrics:
        return self._seal().judged.metrics

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the verified prescription's canonical JSON."""
        return self._seal().fingerprint

    @property
    def patient_id(self) -> str | None:
        """The person this plan was verified for; ``None``: not patient-specific."""
        return self._seal().patient_id

    @property
    def patient_specific(self) -> bool:
        return self._seal().patient_id is not None

    def __repr__(self) -> str:
        seal = _SEALS.get(id(self))
        if seal is None or seal.plan() is not self:
            return "VerifiedPlan(<not issued by verify(): unusable>)"
        who = NOT_PATIENT_SPECIFIC if seal.patient_id is None else f"for {seal.patient_id}"
        return (
            f"VerifiedPlan(protocol={seal.prescription.protocol.id!r}, {who}, "
            f"fingerprint={seal.fingerprint[:12]})"
        )


def _issue(
    prescription: Prescription, judged: SafetyReport, patient_id: str | None
) -> SafetyReport:
    """Seal a new plan for a report that does not block and return the report naming it
    (``verify()`` is the only caller; ``judged`` is the report without a plan)."""
    if judged.verdict == "block" or judged.plan is not None:
        raise UnverifiedPlanError("A blocked safety report cannot make a VerifiedPlan.")
    plan = object.__new__(VerifiedPlan)
    key = id(plan)
    ref = weakref.ref(plan, lambda dead, key=key: _forget(key, dead))
    seal = _Seal(ref, prescription, prescription_fingerprint(prescription), judged,
                 _report_digest(judged), patient_id)
    with _SEALS_LOCK:
        _SEALS[key] = seal
    return dataclasses.replace(judged, plan=plan)


def require_verified(plan: object, *, patient_id: str | None = None) -> VerifiedPlan:
    """Fail closed: the plan itself if it is intact and issued by ``verify()``, else an error.

    Parameters
    ----------
    plan
        Whatever an output was given.
    patient_id
        The person the output delivers for, when one is known (a session for a named patient,
        a patient's web console, an import into a patient's record). The plan must then have
        been verified with that person's caps: a plan bound to someone else, or one that is
        not patient-specific, is refused with :class:`PlanBindingError`.

    Raises
    ------
    UnverifiedPlanError
        Not a plan issued by ``verify()``, or changed after verification.
    PlanBindingError
        Verified for another person, or for no one while ``patient_id`` names someone.

    Examples
    --------
    >>> import stimwise as sw
    >>> from stimwise.safety import require_verified
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> require_verified(plan) is plan
    True
    >>> require_verified(plan.prescription)
    Traceback (most recent call last):
    ...
    stimwise.errors.UnverifiedPlanError: Refusing to output stimulation from a Prescription: only a
    VerifiedPlan returned by stimwise.safety.verify() may be delivered, streamed or exported.
    """
    if type(plan) is not VerifiedPlan:
        raise UnverifiedPlanError(
            f"Refusing to output stimulation from a {type(plan).__name__}: only a VerifiedPlan "
            "returned by stimwise.safety.verify() may be delivered, streamed or exported."
        )
    seal = plan._seal()
    if prescription_fingerprint(seal.prescription) != seal.fingerprint:
        raise UnverifiedPlanError(
            "The VerifiedPlan's prescription changed after verification; nothing was delivered. "
            "Verify the intended prescription again."
        )
    if _report_digest(seal.judged) != seal.report_digest:
        raise UnverifiedPlanError(
            "The VerifiedPlan's safety report changed after verification; nothing was delivered."
        )
    if patient_id is not None:
        check_binding(plan, patient_id)
    return plan


def check_binding(plan: VerifiedPlan, patient_id: str) -> None:
    """Refuse a plan that was not verified for ``patient_id`` (see :func:`require_verified`)."""
    bound = plan.patient_id
    if bound is None:
        raise PlanBindingError(
            f"This plan is {NOT_PATIENT_SPECIFIC} (verified without a screening's caps) and "
            f"cannot be delivered for {patient_id}: verify it with {patient_id}'s screening caps."
        )
    if bound != patient_id:
        raise PlanBindingError(
            f"This plan was verified for {bound}, not for {patient_id}: verify it with "
            f"{patient_id}'s own screening caps."
        )
