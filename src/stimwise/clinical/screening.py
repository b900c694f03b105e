"""``screen()``: contraindication screening of one intake against the rule book.

The screening is explainable by construction: every restriction it reports names the rule that
set it, the rule's sources and the intake answer that triggered it. Its ``caps`` are the
:class:`~stimwise.safety.caps.PatientCaps` that ``safety.verify()`` enforces, so what the screening
forbids no prescription can deliver.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Literal

from pydantic import Field

from stimwise.clinical.intake import Clearance, Intake, check_intake
from stimwise.clinical.labels import field_label, label_path
from stimwise.clinical.rules import LoadedRules, ScreeningRule, SiteScope, Tier
from stimwise.clinical.rules import screening_rules as packaged_rules
from stimwise.clinical.triggers import Match, evaluate
from stimwise.errors import FieldProblem, InputError, SafetyBlockError
from stimwise.protocol.base import StrictModel
from stimwise.protocol.body_sites import SITE_NAMES, expand_sites, near, region_group, side_of
from stimwise.protocol.models import Citation, IntensityLevel
from stimwise.safety.caps import LEVEL_ORDER, PatientCaps
from stimwise.safety.limits import limits

__all__ = [
    "DECISION_ORDER",
    "Decision",
    "RequiredAction",
    "RuleFinding",
    "Screening",
    "not_asked_action",
    "screen",
    "unknown_action",
]

Decision = Literal[
    "eligible", "eligible_with_precautions", "needs_specialist_clearance", "not_eligible"
]
DECISION_ORDER: dict[str, int] = {
    "eligible": 0,
    "eligible_with_precautions": 1,
    "needs_specialist_clearance": 2,
    "not_eligible": 3,
}
_DECISION_OF_TIER: dict[str, Decision] = {
    "absolute": "not_eligible",
    "clearance": "needs_specialist_clearance",
    "site_restricted": "eligible_with_precautions",
    "precaution": "eligible_with_precautions",
}


class RuleFinding(StrictModel):
    """One rule that applies to this person, why, and whether a clearance lifted it."""

    rule_id: str
    title: str
    tier: Tier
    status: Literal["applies", "possible", "cleared"]
    details: tuple[str, ...]
    sites: tuple[str, ...]
    unknown_answers: tuple[str, ...]
    clearance: Clearance | None = None
    clearance_role: str | None = Field(
        default=None, description="Who may lift the rule with a recorded clearance."
    )
    clinician_text: str
    patient_text: str
    sources: tuple[Citation, ...]


class RequiredAction(StrictModel):
    text: str
    rule_ids: tuple[str, ...]


class Screening(StrictModel):
    """The outcome of screening one intake (:func:`screen`).

    ``caps`` are what :func:`stimwise.safety.verify` then enforces for this person;
    ``patient_text`` of each finding is worded for the person, ``clinician_text`` for the
    clinician.

    Examples
    --------
    >>> import stimwise as sw
    >>> screening = sw.screen(sw.load_intake(sw.example_patient_path("crps-allodynia")))
    >>> screening.patient_id, screening.eligible
    ('DEMO-CRPS-01', True)
    >>> [f.rule_id for f in screening.findings][:2]
    ['...', '...']
    """

    patient_id: str
    assessed_on: date
    rules_version: str
    decision: Decision
    decision_reasons: tuple[str, ...]
    findings: tuple[RuleFinding, ...]
    forbidden_sites: dict[str, tuple[str, ...]] = Field(
        description="Site -> ids of the rules (or safety limits) that forbid it."
    )
    site_max_level: dict[str, IntensityLevel]
    allowed_sites: tuple[str, ...]
    caps: PatientCaps
    supervised_titration_required: bool
    home_use_allowed: bool
    home_use_forbidden_sites: tuple[str, ...]
    required_actions: tuple[RequiredAction, ...]
    unknown_answers: tuple[str, ...]
    unused_clearances: tuple[str, ...]
    not_asked: tuple[str, ...] = Field(
        default=(),
        description="Format 2 questions a format 1 intake does not answer; the required actions "
        "ask for them.",
    )

    @property
    def eligible(self) -> bool:
        """Whether stimulation may be considered (eligible, or with precautions)."""
        return self.decision in ("eligible", "eligible_with_precautions")

    def require_eligible(self) -> PatientCaps:
        """The caps to verify and deliver with, or a :class:`~stimwise.errors.SafetyBlockError`
        giving the decision and its reasons when stimulation is not allowed.

        Examples
        --------
        >>> import stimwise as sw
        >>> screening = sw.screen(sw.load_intake(sw.example_patient_path("pacemaker")))
        >>> screening.require_eligible()
        Traceback (most recent call last):
        ...
        stimwise.errors.SafetyBlockError: screening decision is needs specialist clearance: ...
        """
        if not self.eligible:
            raise SafetyBlockError(
                f"screening decision is {self.decision.replace('_', ' ')}: "
                + "; ".join(self.decision_reasons)
            )
        return self.caps

    def finding(self, rule_id: str) -> RuleFinding | None:
        return next((f for f in self.findings if f.rule_id == rule_id), None)


# --------------------------------------------------------------------------- scopes


def _limb_or_region(site: str) -> frozenset[str]:
    group = region_group(site)
    side = side_of(site)
    if group in ("upper_limb", "lower_limb") and side != "midline":
        return expand_sites(f"{side}_{group}")
    return expand_sites(group)


def _resolve(scope: SiteScope, matched: frozenset[str]) -> frozenset[str]:
    if scope.scope == "regions":
        return frozenset().union(*(expand_sites(r) for r in scope.regions))
    if scope.scope == "matched":
        return matched
    if scope.scope == "near_matched":
        return near(matched)
    return frozenset().union(*(_limb_or_region(s) for s in matched))


# --------------------------------------------------------------------------- clearances


def _check_clearances(intake: Intake, rules: LoadedRules) -> dict[str, Clearance]:
    """Clearances by rule id; one naming an unknown or unliftable rule is an input error (dates
    and duplicates are checked by the intake model itself)."""
    by_id = rules.by_id
    liftable = sorted(rule_id for rule_id, rule in by_id.items() if rule.liftable_by_clearance)
    problems = []
    accepted: dict[str, Clearance] = {}
    for index, clearance in enumerate(intake.clearances):
        rule = by_id.get(clearance.rule_id)
        if rule is None or not rule.liftable_by_clearance:
            what = "unknown rule" if rule is None else "rule that no clearance can lift"
            problems.append(
                FieldProblem(
                    f"clearances.{index}.rule_id",
                    clearance.rule_id,
                    f"the id of a rule a clearance can lift ({what}); one of: "
                    + ", ".join(liftable),
                )
            )
        else:
            accepted[clearance.rule_id] = clearance
    if problems:
        raise InputError(problems, source=f"intake of {intake.patient_id}")
    return accepted


# --------------------------------------------------------------------------- the engine


class _Accumulator:
    """Combines the consequences of every applicable rule, always taking the stricter one."""

    def __init__(self) -> None:
        self.forbidden: dict[str, list[str]] = defaultdict(list)
        self.site_level: dict[str, IntensityLevel] = {}
        self.max_level: IntensityLevel | None = None
        self.max_amplitude_ma: float | None = None
        self.supervised = False
        self.home_allowed = True
        self.home_forbidden: set[str] = set()
        self.actions: dict[str, list[str]] = {}

    def add_action(self, text: str, rule_id: str) -> None:
        self.actions.setdefault(text, [])
        if rule_id not in self.actions[text]:
            self.actions[text].append(rule_id)

    def _tighter_level(self, a: IntensityLevel | None, b: IntensityLevel) -> IntensityLevel:
        return b if a is None or LEVEL_ORDER[b] < LEVEL_ORDER[a] else a

    def apply(self, rule: ScreeningRule, matched: frozenset[str]) -> None:
        c = rule.consequences
        if c.forbid_sites is not None:
            for site in _resolve(c.forbid_sites, matched):
                self.forbidden[site].append(rule.id)
        if c.site_max_level is not None:
            for site in _resolve(c.site_max_level, matched):
                self.site_level[site] = self._tighter_level(
                    self.site_level.get(site), c.site_max_level.max_level
                )
        if c.max_level is not None:
            self.max_level = self._tighter_level(self.max_level, c.max_level)
        if c.max_amplitude_ma is not None:
            self.max_amplitude_ma = min(self.max_amplitude_ma or c.max_amplitude_ma,
                                        c.max_amplitude_ma)
        self.supervised |= c.supervised_titration
        if c.home_use == "not_allowed":
            self.home_allowed = False
        if c.home_use_sites is not None:
            self.home_forbidden |= _resolve(c.home_use_sites, matched)
        for text in c.actions:
            self.add_action(text, rule.id)


def _finding(
    rule: ScreeningRule, matches: list[Match], clearance: Clearance | None
) -> RuleFinding:
    certain = any(m.certain for m in matches)
    status = "cleared" if clearance else ("applies" if certain else "possible")
    return RuleFinding(
        rule_id=rule.id,
        title=rule.title,
        tier=rule.tier,
        status=status,
        details=tuple(m.detail for m in matches),
        sites=tuple(sorted(frozenset().union(*(m.sites for m in matches)))),
        unknown_answers=tuple(sorted({m.field for m in matches if not m.certain and m.field})),
        clearance=clearance,
        clearance_role=rule.clearance_role,
        clinician_text=rule.clinician_text,
        patient_text=rule.patient_text,
        sources=rule.sources,
    )


def _universal_site_bans() -> dict[str, str]:
    """Sites nobody may be stimulated on (safety limits), shown on every person's site map."""
    limit = limits()["placement.forbidden-site"]
    return {site: limit.id for site in limit.sites or ()}


def screen(intake: Intake, rules: LoadedRules | None = None) -> Screening:
    """Screen one person.

    Parameters
    ----------
    intake
        The validated intake.
    rules
        A rule book; the packaged one by default.

    Returns
    -------
    Screening
        Decision, findings with sources, allowed and forbidden sites, the caps for
        ``safety.verify()``, required actions and the answers still unknown.

    Raises
    ------
    InputError
        A clearance names a rule that does not exist or cannot be lifted.
    ArgumentTypeError
        ``intake`` is not an :class:`~stimwise.clinical.intake.Intake` (a file name must be
        loaded first with :func:`~stimwise.clinical.intake.load_intake`).

    Examples
    --------
    >>> import stimwise as sw
    >>> screening = sw.screen(sw.load_intake(sw.example_patient_path("pacemaker")))
    >>> screening.decision, screening.eligible
    ('needs_specialist_clearance', False)
    >>> screening = sw.screen(sw.load_intake(sw.example_patient_path("crps-allodynia")))
    >>> screening.decision
    'eligible_with_precautions'
    >>> sw.screen("examples/patients/crps-allodynia.yaml")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: screen() expects intake to be an Intake, got str
    'examples/patients/crps-allodynia.yaml'; load it first with
    stimwise.load_intake('examples/patients/crps-allodynia.yaml')
    """
    check_intake(intake, "screen")
    rules = rules or packaged_rules()
    clearances = _check_clearances(intake, rules)
    acc = _Accumulator()
    findings: list[RuleFinding] = []
    decision: Decision = "eligible"
    reasons: list[str] = []
    for rule in rules.book.rules:
        matches = evaluate(rule.trigger, intake)
        if not matches:
            continue
        clearance = clearances.pop(rule.id, None)
        finding = _finding(rule, matches, clearance)
        findings.append(finding)
        for field in finding.unknown_answers:
            acc.add_action(unknown_action(field), rule.id)
        if clearance is not None:
            # A clearance lifts the rule's block and restrictions, but a person who needed one is
            # still titrated under supervision (otherwise the rule's flag could never take effect).
            acc.supervised |= rule.consequences.supervised_titration
            decision = _stricter(decision, "eligible_with_precautions")
            continue
        acc.apply(rule, frozenset(finding.sites))
        rule_decision = _DECISION_OF_TIER[rule.tier]
        if DECISION_ORDER[rule_decision] > DECISION_ORDER["eligible_with_precautions"]:
            reasons.append(f"{rule.id}: {rule.title} ({finding.status})")
        decision = _stricter(decision, rule_decision)

    for site, limit_id in _universal_site_bans().items():
        acc.forbidden[site].append(limit_id)
    allowed = tuple(sorted(SITE_NAMES - set(acc.forbidden)))
    if not allowed:
        decision = "not_eligible"
        reasons.append("no body site is left where electrodes may be placed")
    if intake.not_asked:
        acc.actions[not_asked_action(intake.not_asked)] = []
    home_allowed = acc.home_allowed and decision in ("eligible", "eligible_with_precautions")
    unknown = tuple(sorted({f for finding in findings for f in finding.unknown_answers}))
    caps = PatientCaps(
        max_amplitude_ma=acc.max_amplitude_ma,
        max_level=acc.max_level,
        forbidden_sites={
            site: "forbidden by " + ", ".join(ids) for site, ids in sorted(acc.forbidden.items())
        },
        site_max_level=dict(sorted(acc.site_level.items())),
        source=f"screening of {intake.patient_id} on {intake.assessed_on.isoformat()}, "
        f"rules {rules.version_label}",
        patient_id=intake.patient_id,
    )
    return Screening(
        patient_id=intake.patient_id,
        assessed_on=intake.assessed_on,
        rules_version=rules.version_label,
        decision=decision,
        decision_reasons=tuple(reasons),
        findings=tuple(findings),
        forbidden_sites={s: tuple(ids) for s, ids in sorted(acc.forbidden.items())},
        site_max_level=caps.site_max_level,
        allowed_sites=allowed,
        caps=caps,
        supervised_titration_required=acc.supervised,
        home_use_allowed=home_allowed,
        home_use_forbidden_sites=tuple(sorted(acc.home_forbidden | set(acc.forbidden))),
        required_actions=tuple(
            RequiredAction(text=text, rule_ids=tuple(ids)) for text, ids in acc.actions.items()
        ),
        unknown_answers=unknown,
        unused_clearances=tuple(sorted(clearances)),
        not_asked=intake.not_asked,
    )


def unknown_action(field: str) -> str:
    """The required action for an answer that is not known, in the words of the form."""
    return f"Find out before stimulating: {label_path(field)} (not known)."


def not_asked_action(questions: tuple[str, ...]) -> str:
    """The required action for the questions an older intake format did not ask."""
    words = "; ".join(field_label(q) for q in questions)
    return (f"Ask before stimulating: {words} (the intake was recorded in format 1, which did "
            "not ask these questions).")


def _stricter(a: Decision, b: Decision) -> Decision:
    return a if DECISION_ORDER[a] >= DECISION_ORDER[b] else b
