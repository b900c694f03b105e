"""Which specialist clearances make sense for one person: the choices a form offers.

A clearance names the rule it lifts (``CI-CARDIAC-DEVICE``). Rather than asking a clinician to type
that id, a page lists the rules a clearance can lift **that apply to this person**, with their
title in words and who may give the clearance; the stored clearance still carries the rule id,
so the screening engine (:func:`stimwise.clinical.screening.screen`) checks it as before.
"""

from __future__ import annotations

from typing import Literal

from stimwise.clinical.intake import Clearance, Intake
from stimwise.clinical.rules import LoadedRules, screening_rules
from stimwise.clinical.triggers import evaluate
from stimwise.protocol.base import StrictModel


class ClearanceChoice(StrictModel):
    """One rule a recorded clearance may lift for this person.

    ``rule_id`` is the value to store in ``clearances[].rule_id``; ``label`` is what the option
    shows; ``status`` says whether the rule applies for certain or only because an answer is not
    known (a clearance should then wait until it is); ``recorded`` is the clearance the intake
    already holds for it, if any.
    """

    rule_id: str
    label: str
    title: str
    role: str
    status: Literal["applies", "possible"]
    details: tuple[str, ...]
    recorded: Clearance | None = None


def clearance_choices(
    intake: Intake, rules: LoadedRules | None = None
) -> tuple[ClearanceChoice, ...]:
    """The liftable rules that fire for ``intake``, in rule-book order.

    Parameters
    ----------
    intake
        The person's intake (its own clearances are reported in ``recorded`` and do not hide a
        rule, so a form can show and edit them).
    rules
        A rule book; the packaged one by default.

    Returns
    -------
    tuple of ClearanceChoice
        Empty when no rule that a clearance may lift applies: then the form offers none.
    """
    rules = rules or screening_rules()
    recorded = {c.rule_id: c for c in intake.clearances}
    choices = []
    for rule in rules.book.rules:
        if not rule.liftable_by_clearance:
            continue
        matches = evaluate(rule.trigger, intake)
        if not matches:
            continue
        role = rule.clearance_role or ""
        choices.append(ClearanceChoice(
            rule_id=rule.id,
            label=f"{rule.title} (by the {role})",
            title=rule.title,
            role=role,
            status="applies" if any(m.certain for m in matches) else "possible",
            details=tuple(m.detail for m in matches),
            recorded=recorded.get(rule.id),
        ))
    return tuple(choices)
