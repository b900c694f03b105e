"""The two readings of a screening: one for the clinician (rule ids and sources) and one in
plain language for the patient (no ids, no jargon, no promise of relief)."""

from __future__ import annotations

from stimwise.clinical.intake import LIST_QUESTIONS
from stimwise.clinical.labels import field_label, label_path
from stimwise.clinical.screening import Screening
from stimwise.protocol.site_names import site_label

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
        status = {"applies": "",
                  "possible": " [not known: applied as if yes; find out before stimulating]",
                  "cleared": " [CLEARED]"}[f.status]
        lines.append(f"- {f.rule_id} ({f.tier}){status}: {f.title}")
        lines.append(f"    found: {'; '.join(f.details)}")
        if f.unknown_answers:
            lines.append("    not known: " + "; ".join(label_path(a) for a in f.unknown_answers))
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
            f"{site_label(site)} ({', '.join(ids)})" for site, ids in patient_rules.items()))
    lines.append(
        "Forbidden for everyone (safety limits placement.*): eyes, front of the neck, and any "
        "channel whose current path crosses the thorax or the head."
    )
    if screening.site_max_level:
        lines.append("Level caps by site: " + ", ".join(
            f"{site_label(site)} ≤ {level}" for site, level in screening.site_max_level.items()))
    if screening.caps.max_level:
        lines.append(f"Level cap everywhere: ≤ {screening.caps.max_level}")
    supervised = "yes" if screening.supervised_titration_required else "no"
    lines.append(f"Supervised titration required: {supervised}")
    lines.append(f"Home use: {'allowed' if screening.home_use_allowed else 'not allowed'}")
    if screening.not_asked:
        lines.append("Not asked (intake format 1): "
                     + "; ".join(field_label(q) for q in screening.not_asked))
    for action in screening.required_actions:
        by = f" ({', '.join(action.rule_ids)})" if action.rule_ids else ""
        lines.append(f"ACTION{by}: {action.text}")
    for rule_id in screening.unused_clearances:
        lines.append(f"Note: the clearance recorded for {rule_id} was not needed.")
    return "\n".join(lines)


def _only_unknown_lists(finding) -> bool:
    """A finding that rests only on list questions answered unknown: its text ("You have a heart
    device") would state as a fact what is only possible, so the paragraph on unanswered
    questions explains it instead."""
    return finding.status == "possible" and bool(finding.unknown_answers) and all(
        answer in LIST_QUESTIONS for answer in finding.unknown_answers)


def patient_text(screening: Screening) -> str:
    """What the screening means for the person, in plain words."""
    paragraphs = [_DECISION_FOR_PATIENT[screening.decision]]
    seen = set()
    for f in screening.findings:
        if f.status == "cleared" or f.patient_text in seen or _only_unknown_lists(f):
            continue
        seen.add(f.patient_text)
        paragraphs.append(f.patient_text)
    if screening.unknown_answers:
        words = "; ".join(dict.fromkeys(field_label(a) for a in screening.unknown_answers))
        paragraphs.append(
            f"Some answers about your health are not known yet ({words}). Until they are known, "
            "your clinician treats each of them as if the answer could be yes, and will find "
            "out before any stimulation."
        )
    if screening.not_asked:
        words = "; ".join(field_label(q) for q in screening.not_asked)
        paragraphs.append(f"Your clinician will also ask you about: {words}.")
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
