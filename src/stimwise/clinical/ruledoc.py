"""Markdown reference of the clinical data: screening rules, placement templates, evidence.

``docs/clinical-rules.md`` is this module's output (``python -m stimwise.clinical.ruledoc``); a
test keeps the two identical, so the documentation can never drift from the rules in force.
"""

from __future__ import annotations

from stimwise.clinical.knowledge import Knowledge, knowledge
from stimwise.clinical.rules import LoadedRules, ScreeningRule, screening_rules
from stimwise.protocol.body_sites import sites_text
from stimwise.protocol.models import Citation

_TIER_MEANING = {
    "absolute": "not eligible; nothing lifts it",
    "clearance": "needs specialist clearance; a recorded clearance lifts it",
    "site_restricted": "eligible with precautions; sites forbidden or level-capped",
    "precaution": "eligible with precautions; caps and actions",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _citations(sources: tuple[Citation, ...]) -> str:
    return "<br>".join(_cell(f"{c.source} [{c.confidence}]") for c in sources)


def _trigger(rule: ScreeningRule) -> str:
    data = rule.trigger.model_dump(exclude={"when"})
    details = ", ".join(
        f"{k}: {', '.join(map(str, v)) if isinstance(v, tuple | list) else v}"
        for k, v in data.items()
    )
    return f"`{rule.trigger.when}`" + (f" ({details})" if details else "")


def _consequences(rule: ScreeningRule) -> str:
    c = rule.consequences
    parts = []
    if c.forbid_sites:
        where = ", ".join(c.forbid_sites.regions) or c.forbid_sites.scope.replace("_", " ")
        parts.append(f"forbids {where}")
    if c.site_max_level:
        where = ", ".join(c.site_max_level.regions) or c.site_max_level.scope.replace("_", " ")
        parts.append(f"level ≤ {c.site_max_level.max_level} at {where}")
    if c.max_level:
        parts.append(f"level ≤ {c.max_level} everywhere")
    if c.max_amplitude_ma:
        parts.append(f"amplitude ≤ {c.max_amplitude_ma:g} mA")
    if c.supervised_titration:
        parts.append("supervised titration")
    if c.home_use != "allowed":
        parts.append(f"home use {c.home_use.replace('_', ' ')}")
    parts += [f"action: {a}" for a in c.actions]
    if rule.liftable_by_clearance:
        parts.append(f"lifted by a recorded clearance ({rule.clearance_role})")
    return _cell("; ".join(parts) or "—")


def rules_markdown(rules: LoadedRules, kb: Knowledge) -> str:
    lines = [
        "# Clinical rules, placements and evidence",
        "",
        "Generated from `src/stimwise/clinical/data/*.yaml` by "
        "`python -m stimwise.clinical.ruledoc > docs/clinical-rules.md`; do not edit by hand.",
        "Confidence marks: C confirmed in a source that was read; C-s confirmed only in a "
        "secondary source; U not confirmed (stimwise choice or from memory).",
        "",
        f"## Screening rules (version {rules.book.version})",
        "",
        "| tier | meaning |",
        "| --- | --- |",
        *(f"| {tier} | {meaning} |" for tier, meaning in _TIER_MEANING.items()),
        "",
        f"{len(rules.book.rules)} rules. An answer of `unknown` fires a rule as if it were yes "
        "(status *possible*) and adds an action to find out before stimulating; a list question "
        "answered `unknown` (`implants: unknown`) fires every rule that reads the list, as "
        "possible, on no particular site. Everyone, whatever the screening, is protected by the "
        "safety limits `placement.transthoracic`, `placement.transcranial` and "
        "`placement.forbidden-site` (eyes, front of the neck).",
        "",
        "| id | tier | title | trigger | consequences | sources |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in rules.book.rules:
        lines.append(
            f"| {rule.id} | {rule.tier} | {_cell(rule.title)} | {_trigger(rule)} | "
            f"{_consequences(rule)} | {_citations(rule.sources)} |"
        )
    lines += [
        "",
        "## Placement templates",
        "",
        "`{side}` is the affected side, `{other}` the opposite side.",
        "",
        "| id | kind | serves | channels (sites, area) | sources |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in kb.templates.values():
        channels = "<br>".join(
            f"{sites_text(ch.electrodes)}; {ch.area_cm2:g} cm² pads" for ch in t.channels
        )
        lines.append(
            f"| {t.id} | {t.kind.replace('_', ' ')} | {', '.join(t.serves)} | {channels} | "
            f"{_citations(t.sources)} |"
        )
    lines += [
        "",
        "## Evidence per protocol and condition (ranking input)",
        "",
        "| protocol | condition | grade | summary | sources |",
        "| --- | --- | --- | --- | --- |",
    ]
    for protocol_id, known in kb.protocols.items():
        entries = dict(known.evidence)
        if known.goal_evidence is not None:
            entries = {f"goals: {', '.join(known.goals)}": known.goal_evidence, **entries}
        for condition, ev in entries.items():
            lines.append(
                f"| {protocol_id} | {condition.replace('_', ' ')} | {ev.grade} | "
                f"{_cell(ev.summary)} | {_citations(ev.sources)} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(screening_rules(), knowledge()), end="")
