"""The two readings of a screening: one for the clinician (rule ids and sources) and one in
plain language for the patient (no ids, no jargon, no promise of relief)."""

from __future__ import annotations

from stimwise.clinical.screening import Screening

_DECISION_FOR_CLINICIAN = {
    "eligible": "ELIGIBLE: no contraindication or precaution applies.",
    "eligible_with_precautions": "ELIGIBLE WITH PRECAUTIONS.",
    "needs_specialist_clearance": "NEEDS SPECIALIST CLEARANCE before any stimulation.",
    "not_eligible": "NOT ELIGIBLE for electrical stimulation.",
}
_DECISION_FOR_PATIENT = {
    "eligible": "Electrical stimulation can be considered for you.",
    "eligible_with_precautions": (
        "Electrical stimulation can be considered for you, with the care described below."
    ),
    "needs_specialist_clearance": (
        "Before electrical stimulation can be considered, a specialist must agree that it is "
        "safe for you."
    ),
    "not_eligible": "Electrical stimulation is not suitable for you at the moment.",
}
_LEVEL_WORDS = {
    "subsensory": "only current too weak to feel",
    "sensory": "only a gentle tingling level (no muscle twitch)",
    "motor": "up to a muscle-contraction level",
}


def _sources(finding) -> str:
    return "; ".join(f"{c.source} [{c.confidence}]" for c in finding.sources)


def clinician_text(screening: Screening) -> str:
    """Decision, every finding with rule id, tier and sources, site restrictions and actions."""
    lines = [
        f"Screening of {screening.patient_id} on {screening.assessed_on.isoformat()} "
        f"(rules {screening.rules_version})",
        _DECISION_FOR_CLINICIAN[screening.decision],
    ]
    lines += [f"  because {reason}" for reason in screening.decision_reasons]
    for f in screening.findings:
        status = {"applies": "", "possible": " [answer unknown: applied as if yes]",
                  "cleared": " [CLEARED]"}[f.status]
        lines.append(f"- {f.rule_id} ({f.tier}){status}: {f.title}")
        lines.append(f"    found: {'; '.join(f.details)}")
        if f.clearance is not None:
            c = f.clearance
            lines.append(
                f"    cleared by {c.cleared_by} ({c.role}) on {c.cleared_on.isoformat()}"
                f"; the rule asks for: {f.clearance_role}" + (f"; {c.note}" if c.note else "")
            )
        elif f.clearance_role is not None:
            lines.append(f"    can be lifted by a recorded clearance from: {f.clearance_role}")
        lines.append(f"    {f.clinician_text}")
        lines.append(f"    sources: {_sources(f)}")
    patient_rules = {
        site: ids for site, ids in screening.forbidden_sites.items()
        if not all(i.startswith("placement.") for i in ids)
    }
    if patient_rules:
        lines.append("Forbidden sites: " + ", ".join(
            f"{site} ({', '.join(ids)})" for site, ids in patient_rules.items()))
    lines.append(
        "Forbidden for everyone (safety limits placement.*): eyes, front of the neck, and any "
        "channel whose current path crosses the thorax or the head."
    )
    if screening.site_max_level:
        lines.append("Level caps by site: " + ", ".join(
            f"{site} ≤ {level}" for site, level in screening.site_max_level.items()))
    if screening.caps.max_level:
        lines.append(f"Level cap everywhere: ≤ {screening.caps.max_level}")
    supervised = "yes" if screening.supervised_titration_required else "no"
    lines.append(f"Supervised titration required: {supervised}")
    lines.append(f"Home use: {'allowed' if screening.home_use_allowed else 'not allowed'}")
    for action in screening.required_actions:
        lines.append(f"ACTION ({', '.join(action.rule_ids)}): {action.text}")
    for rule_id in screening.unused_clearances:
        lines.append(f"Note: the clearance recorded for {rule_id} was not needed.")
    return "\n".join(lines)


def patient_text(screening: Screening) -> str:
    """What the screening means for the person, in plain words."""
    paragraphs = [_DECISION_FOR_PATIENT[screening.decision]]
    seen = set()
    for f in screening.findings:
        if f.status == "cleared" or f.patient_text in seen:
            continue
        seen.add(f.patient_text)
        paragraphs.append(f.patient_text)
    if screening.site_max_level:
        levels = sorted(set(screening.site_max_level.values()))
        paragraphs.append(
            "On some areas of skin, " + " or ".join(_LEVEL_WORDS[level] for level in levels)
            + " will be used."
        )
    if screening.eligible:
        paragraphs.append(
            "You may use a stimulator at home within the limits your clinician sets."
            if screening.home_use_allowed
            else "For now, stimulation takes place only with your clinician."
        )
    paragraphs.append(
        "Stimulation helps some people and not others; your clinician will check with you "
        "whether it is helping. Stop and tell your clinician if the skin under an electrode "
        "becomes red, sore or blistered."
    )
    return "\n\n".join(paragraphs)
