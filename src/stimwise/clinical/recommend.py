"""``recommend()``: rank library protocols for one screened person, with placements and dose.

Each candidate is built as a concrete :class:`~stimwise.protocol.prescription.Prescription` on
sites the screening allows and is passed through ``safety.verify()`` with the screening's caps;
a placement the safety gate blocks is never offered, and a protocol with no placement that passes
is listed as not recommended with the gate's reasons. Ranking uses the evidence grade for the
person's condition (``clinical/data/recommendation.yaml``), how many of the person's goals the
protocol serves and how well the placement fits the condition; none of it promises relief.
"""

from __future__ import annotations

from dataclasses import dataclass

from stimwise.arguments import check_type
from stimwise.clinical.instruments import INSTRUMENTS, InstrumentScore, score_all
from stimwise.clinical.intake import Intake, check_intake
from stimwise.clinical.knowledge import (
    GRADE_WEIGHT,
    Condition,
    Evidence,
    Knowledge,
    PlacementKind,
    PlacementTemplate,
    ProtocolKnowledge,
    fill_side,
    knowledge,
)
from stimwise.clinical.labels import choice_label
from stimwise.clinical.models import (
    IntensityGuidance,
    NotRecommended,
    PlacementChoice,
    Recommendation,
    RecommendationReport,
    ScheduleGuidance,
)
from stimwise.clinical.monitoring import intensity_guidance, monitoring_plan, schedule_guidance
from stimwise.clinical.screening import Screening, screen
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.body_sites import SIDES, expand_sites, region_group
from stimwise.protocol.library import library
from stimwise.protocol.models import Channel, Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.protocol.site_names import sites_words
from stimwise.safety.report import SafetyReport
from stimwise.safety.verify import verify

__all__ = [
    "IntensityGuidance",
    "NotRecommended",
    "PlacementChoice",
    "Recommendation",
    "RecommendationReport",
    "ScheduleGuidance",
    "recommend",
]

_PLACEMENT_PREFERENCE: dict[str, dict[PlacementKind, float]] = {
    # CRPS: keep off the painful limb's skin (allodynia, flare); stimwise synthesis [U] of the
    # Scrambler healthy-skin principle [C-s] and the crps-gentle-sensory placement notes.
    "crps": {
        "proximal_nerve_trunk": 3,
        "segmental": 2.5,
        "contralateral": 2,
        "local": 1,
        "muscle": 1,
    },
    # Neuropathy: the trials placed pads on the legs (peroneal nerve, Forst 2004 [C]); sites with
    # tested normal sensation earn a bonus below.
    "neuropathy": {
        "local": 2,
        "proximal_nerve_trunk": 2,
        "segmental": 1,
        "contralateral": 0.5,
        "muscle": 2,
    },
    "other": {
        "local": 3,
        "proximal_nerve_trunk": 2,
        "segmental": 1.5,
        "contralateral": 1,
        "muscle": 2,
    },
}
_NORMAL_SENSATION_BONUS = 1.0
_PRIMARY_GOAL_WEIGHT = 1.0
_OTHER_GOAL_WEIGHT = 0.5
_PLACEMENT_WEIGHT = 0.5
_WARN_PENALTY = 0.5
_UNTREATED_AREA_PENALTY = 1.0


@dataclass(frozen=True)
class _Target:
    """An area to treat and the condition that makes it painful (or a goal for the whole body)."""

    condition: Condition | None
    sites: frozenset[str]

    @property
    def label(self) -> str:
        return (self.condition or "the goals").replace("_", " ")

    @property
    def placement_family(self) -> str:
        if self.condition == "crps":
            return "crps"
        if self.condition in ("diabetic_neuropathy", "cipn", "other_neuropathy"):
            return "neuropathy"
        return "other"


_NEUROPATHY_CONDITION: dict[str, Condition] = {
    "diabetic": "diabetic_neuropathy",
    "chemotherapy_induced": "cipn",
    "other": "other_neuropathy",
    "unknown": "other_neuropathy",
}


def _targets(intake: Intake) -> list[_Target]:
    """One target per condition, with the union of the sites it affects."""
    sites: dict[Condition, set[str]] = {}
    reported = frozenset().union(*(expand_sites(s) for s in intake.pain_sites))
    for d in intake.entries("diagnoses"):
        affected = frozenset().union(*(expand_sites(s) for s in d.affected_sites)) or reported
        if d.kind == "crps":
            condition: Condition = "crps"
        elif d.kind == "neuropathy":
            condition = _NEUROPATHY_CONDITION[d.cause]
        elif any(region_group(s) == "lumbar" for s in affected):
            condition = "low_back_pain"
        else:
            condition = "other_pain"
        sites.setdefault(condition, set()).update(affected)
    return [_Target(c, frozenset(s)) for c, s in sites.items() if s]


# --------------------------------------------------------------------------- placements


@dataclass(frozen=True)
class _Option:
    template: PlacementTemplate
    side: str | None
    channels: tuple[Channel, ...]
    preference: float


def _instantiate(template: PlacementTemplate, side: str | None) -> tuple[Channel, ...]:
    def fill(text: str) -> str:
        return fill_side(text, side) if side else text

    return tuple(
        Channel(
            label=fill(ch.label),
            electrodes=tuple({"site": fill(p), "area_cm2": ch.area_cm2} for p in ch.electrodes),
        )
        for ch in template.channels
    )


def _covered(template: PlacementTemplate, side: str | None) -> frozenset[str]:
    return frozenset().union(
        *(expand_sites(fill_side(p, side) if side else p) for p in template.serves)
    )


def _serves(template: PlacementTemplate, side: str | None, sites: frozenset[str]) -> bool:
    """Whether the template treats some of ``sites`` from ``side``; a mirror-image placement
    only when the other side is free of the condition (otherwise it would stimulate it)."""
    if not _covered(template, side) & sites:
        return False
    if template.kind == "contralateral" and side is not None:
        other = SIDES[1 - SIDES.index(side)]
        return not _covered(template, other) & sites
    return True


def _preference(template: PlacementTemplate, channels, target: _Target, intake: Intake) -> float:
    score = _PLACEMENT_PREFERENCE[target.placement_family][template.kind]
    electrode_sites = {e.site for ch in channels for e in ch.electrodes}
    if all(intake.sensation_at(s) == "normal" for s in electrode_sites):
        score += _NORMAL_SENSATION_BONUS
    return score


def _blocking(report: SafetyReport) -> str:
    return "; ".join(f.message for f in report.findings if f.severity == "block")


def _choose_placements(
    protocol: Protocol,
    known: ProtocolKnowledge,
    target: _Target,
    intake: Intake,
    screening: Screening,
    amplitude_ma: float,
    kb: Knowledge,
) -> tuple[list[_Option], list[str], list[str]]:
    """The best verified placement for each affected side and region (an arm and a leg are
    treated by separate channels), why the others were refused, and the affected areas no
    placement could reach."""
    templates = [kb.templates[t] for t in known.placements]
    rejected: list[str] = []
    untreated: list[str] = []
    chosen: list[_Option] = []
    regions = dict.fromkeys(t.region for t in templates)
    for side, region in ((side, region) for side in (*SIDES, None) for region in regions):
        options = []
        for template in templates:
            if template.region != region or template.sided != (side is not None):
                continue
            if not _serves(template, side, target.sites):
                continue
            channels = _instantiate(template, side)
            rx = Prescription.from_protocol(
                protocol, channels=channels, max_amplitude_ma=amplitude_ma
            )
            report = verify(rx, caps=screening.caps)
            where = f"{template.id} ({side})" if side else template.id
            if report.verdict == "block":
                rejected.append(f"{where}: {_blocking(report)}")
                continue
            options.append(
                _Option(template, side, channels, _preference(template, channels, target, intake))
            )
        if options:
            chosen.append(max(options, key=lambda o: o.preference))
        elif any(
            _serves(t, side, target.sites)
            for t in templates
            if t.region == region and t.sided == (side is not None)
        ):
            where = f"{side} {region}" if side else region
            untreated.append(where.replace("_", " "))
    return chosen, rejected, untreated


# --------------------------------------------------------------------------- evidence and rationale


def _evidence_for(known: ProtocolKnowledge, target: _Target) -> Evidence | None:
    if target.condition is None:
        return known.goal_evidence
    return known.evidence.get(target.condition) or known.evidence.get("any")


def _instrument_notes(scores: tuple[InstrumentScore, ...], target: _Target) -> list[str]:
    notes = []
    for s in scores:
        relevant = {
            "budapest": target.condition == "crps",
            "css": target.condition == "crps",
            "dn4": target.placement_family == "neuropathy",
            "mnsi_questionnaire": target.placement_family == "neuropathy",
            "mnsi_examination": target.placement_family == "neuropathy",
            "pain_nrs": True,
            "sleep_interference": True,
        }.get(s.instrument, False)
        if relevant:
            notes.append(f"{INSTRUMENTS[s.instrument].name}: {s.interpretation}")
    return notes


def _goal_words(goals) -> str:
    """Goals in running text ("pain relief, function")."""
    return ", ".join(choice_label("goals", goal).lower() for goal in goals)


def _rationale(
    protocol: Protocol,
    evidence: Evidence,
    target: _Target,
    goals: list[str],
    options: list[_Option],
    intake: Intake,
    scores: tuple[InstrumentScore, ...],
) -> tuple[str, ...]:
    lines = [
        f"Mechanism (as stated in the literature): {protocol.mechanism}",
        f"Evidence for {target.label} ({evidence.grade}): {evidence.summary}",
        f"Serves this person's goals: {_goal_words(goals)}.",
    ]
    sides_by_template: dict[str, list[str]] = {}
    for option in options:
        sides_by_template.setdefault(option.template.id, []).append(option.side or "")
    for option in {o.template.id: o for o in options}.values():
        sides = [s for s in sides_by_template[option.template.id] if s]
        where = f" ({' and '.join(sides)})" if sides else ""
        lines.append(
            f"Placement{where}: {option.template.name} ({option.template.kind.replace('_', ' ')})"
            f" — {option.template.rationale}"
        )
    allodynic = intake.allodynic_sites
    if allodynic:
        lines.append(
            "Keeps every electrode off allodynic skin (" + sites_words(sorted(allodynic)) + ")."
        )
    electrode_sites = sorted({e.site for o in options for ch in o.channels for e in ch.electrodes})
    untested = [s for s in electrode_sites if intake.sensation_at(s) is None]
    if untested:
        lines.append(f"Sensation not yet tested at {sites_words(untested)}: test before use.")
    lines += [f"Assessment: {note}" for note in _instrument_notes(scores, target)]
    return tuple(lines)


# --------------------------------------------------------------------------- recommend


def _candidate(
    protocol: Protocol,
    known: ProtocolKnowledge,
    target: _Target,
    intake: Intake,
    screening: Screening,
    scores: tuple[InstrumentScore, ...],
    kb: Knowledge,
) -> Recommendation | NotRecommended:
    def refuse(*reasons: str) -> NotRecommended:
        return NotRecommended(
            protocol_id=protocol.id, condition=target.condition, reasons=tuple(reasons)
        )

    evidence = _evidence_for(known, target)
    if evidence is None:
        return refuse(f"no evidence recorded for {target.label}")
    if evidence.grade in ("against", "not_established"):
        return refuse(f"evidence {evidence.grade.replace('_', ' ')}: {evidence.summary}")
    goals = [g for g in known.goals if g in intake.goals]
    if not goals:
        return refuse(
            f"serves {_goal_words(known.goals)}; this person's goals are "
            f"{_goal_words(intake.goals)}"
        )
    cap = screening.caps.max_amplitude_ma
    amplitude_ma = min(protocol.intensity.max_amplitude_ma, cap or float("inf"))
    options, rejected, untreated = _choose_placements(
        protocol, known, target, intake, screening, amplitude_ma, kb
    )
    if not options:
        return refuse(
            *(rejected or [f"no library placement serves the affected sites of {target.label}"])
        )
    channels = tuple(ch for o in options for ch in o.channels)
    rx = Prescription.from_protocol(protocol, channels=channels, max_amplitude_ma=amplitude_ma)
    report = verify(rx, caps=screening.caps)
    if report.verdict == "block":
        return refuse(f"the combined placement is blocked: {_blocking(report)}")
    preference = sum(o.preference for o in options) / len(options)
    goal_weight = sum(
        _PRIMARY_GOAL_WEIGHT if goal == intake.goals[0] else _OTHER_GOAL_WEIGHT for goal in goals
    )
    score = (
        GRADE_WEIGHT[evidence.grade]
        + goal_weight
        + _PLACEMENT_WEIGHT * preference
        + known.rank_adjustment
        - (_WARN_PENALTY if report.verdict == "warn" else 0.0)
        - _UNTREATED_AREA_PENALTY * len(untreated)
    )
    electrode_sites = {e.site for ch in channels for e in ch.electrodes}
    return Recommendation(
        rank=0,
        protocol_id=protocol.id,
        protocol_name=protocol.name,
        modality=protocol.modality,
        condition=target.condition,
        score=round(score, 3),
        rationale=_rationale(protocol, evidence, target, goals, options, intake, scores)
        + tuple(
            f"Not reached: the {area} (every placement there was refused)." for area in untreated
        ),
        evidence=evidence,
        rank_note=known.rank_adjustment_reason,
        placement=PlacementChoice(
            template_ids=tuple(o.template.id for o in options),
            sides=tuple(o.side or "midline" for o in options),
            channels=channels,
            sources=tuple(c for o in options for c in o.template.sources),
            rejected_alternatives=tuple(rejected),
        ),
        intensity=intensity_guidance(rx, screening),
        schedule=schedule_guidance(protocol),
        monitoring=monitoring_plan(protocol, target.condition, intake, screening),
        home_use_allowed=screening.home_use_allowed
        and not electrode_sites & set(screening.home_use_forbidden_sites),
        safety_verdict=report.verdict,
        safety_notes=tuple(
            f"[{f.rule_id}] {f.message}" for f in report.findings if f.severity != "info"
        ),
        prescription=rx,
    )


def recommend(intake: Intake, screening: Screening | None = None) -> RecommendationReport:
    """Ranked, verified protocol suggestions for one person.

    Parameters
    ----------
    intake
        The validated intake (goals and instrument answers included).
    screening
        Its screening; computed when not given.

    Returns
    -------
    RecommendationReport
        Recommendations best first, each with a verified prescription, and every protocol not
        recommended with its reasons. When the screening does not allow stimulation, nothing is
        recommended and the report says why.

    Raises
    ------
    ArgumentTypeError
        ``intake`` is not an :class:`~stimwise.clinical.intake.Intake`, or ``screening`` is
        neither a :class:`~stimwise.clinical.screening.Screening` nor ``None``.
    InputError
        ``screening`` is not this intake's: another person's, or of another assessment day
        (its caps would not be this person's; HAZ-178).

    Examples
    --------
    >>> import stimwise as sw
    >>> intake = sw.load_intake(sw.example_patient_path("diabetic-neuropathy-insensate-feet"))
    >>> report = sw.recommend(intake)
    >>> [r.protocol_id for r in report.recommendations][:2]
    ['conventional-tens', 'mixed-frequency-tens']
    >>> report.recommendations[0].safety_verdict in ("pass", "warn")
    True

    Nothing is recommended while the screening does not allow stimulation:

    >>> report = sw.recommend(sw.load_intake(sw.example_patient_path("pacemaker")))
    >>> report.recommendations, report.screening_decision
    ((), 'needs_specialist_clearance')
    """
    check_intake(intake, "recommend")
    check_type(screening, Screening, function="recommend", name="screening", allow_none=True,
               hint="screen the intake first with stimwise.screen(intake)")
    if screening is not None and (screening.patient_id, screening.assessed_on) != (
        intake.patient_id, intake.assessed_on
    ):
        raise InputError(FieldProblem(
            "screening", f"screening of {screening.patient_id} assessed on "
            f"{screening.assessed_on.isoformat()}",
            f"the screening of this intake ({intake.patient_id}, assessed on "
            f"{intake.assessed_on.isoformat()}): screen(intake) makes it",
        ))
    screening = screening or screen(intake)
    scores = score_all(intake.instruments, prefix="instruments")
    kb = knowledge()
    protocols = library()
    targets = _targets(intake)
    notes: list[str] = []
    if not screening.eligible:
        notes.append(
            f"Screening decision is {screening.decision.replace('_', ' ')}: nothing is "
            "recommended until it is resolved (" + "; ".join(screening.decision_reasons) + ")."
        )
    elif not targets:
        notes.append("The intake records no diagnosis with affected sites to treat.")
    recommendations: list[Recommendation] = []
    refused: list[NotRecommended] = []
    if screening.eligible:
        for protocol_id, known in kb.protocols.items():
            for target in _goal_or_condition_targets(known, targets):
                outcome = _candidate(
                    protocols[protocol_id], known, target, intake, screening, scores, kb
                )
                if isinstance(outcome, Recommendation):
                    recommendations.append(outcome)
                else:
                    refused.append(outcome)
    recommendations.sort(key=lambda r: (-r.score, r.protocol_id))
    if screening.eligible and targets and not recommendations:
        notes.append(
            "No library protocol fits this person's conditions, goals and screening; the reasons "
            "for each are listed. Consider other treatments."
        )
    ranked = tuple(r.model_copy(update={"rank": i + 1}) for i, r in enumerate(recommendations))
    return RecommendationReport(
        patient_id=intake.patient_id,
        screening_decision=screening.decision,
        goals=intake.goals,
        conditions=tuple(t.condition for t in targets if t.condition),
        scores=scores,
        recommendations=ranked,
        not_recommended=tuple(refused),
        notes=tuple(notes),
    )


def _goal_or_condition_targets(known: ProtocolKnowledge, targets: list[_Target]) -> list[_Target]:
    """Goal-based protocols (NMES) treat all affected sites at once; others one condition each."""
    if known.goal_evidence is None:
        return targets
    return [_Target(None, frozenset().union(*(t.sites for t in targets)))] if targets else []
