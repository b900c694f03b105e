"""What in an intake sets off each kind of screening trigger.

Every evaluator returns the matches it found: which sites a finding concerns and whether the
answer was certain (``yes``) or only possible (``unknown``). An ``unknown`` answer matches too, so
that a question not answered can never make a screening more permissive than a ``yes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stimwise.clinical import rules as r
from stimwise.clinical.intake import Intake
from stimwise.protocol.body_sites import expand_sites, near


@dataclass(frozen=True)
class Match:
    """One reason a rule applies: where, how certain, and which answer said so."""

    detail: str
    sites: frozenset[str] = frozenset()
    certain: bool = True
    field: str | None = None


def _yes_or_unknown(value: str, detail: str, field: str) -> list[Match]:
    if value == "yes":
        return [Match(detail, field=field)]
    if value == "unknown":
        return [Match(f"{detail} (answered unknown)", certain=False, field=field)]
    return []


def _implant(t: r.ImplantTrigger, intake: Intake) -> list[Match]:
    return [
        Match(
            f"{imp.kind} at {imp.site}",
            expand_sites(imp.site),
            field=f"implants.{i}",
        )
        for i, imp in enumerate(intake.implants)
        if imp.kind in t.kinds
    ]


def _cardiac(t: r.CardiacTrigger, intake: Intake) -> list[Match]:
    found = []
    for condition in t.conditions:
        value = getattr(intake.cardiac, condition)
        found += _yes_or_unknown(value, condition.replace("_", " "), f"cardiac.{condition}")
    return found


def _epilepsy(t: r.EpilepsyTrigger, intake: Intake) -> list[Match]:
    return _yes_or_unknown(intake.epilepsy, "epilepsy", "epilepsy")


def _pregnancy(t: r.PregnancyTrigger, intake: Intake) -> list[Match]:
    if intake.pregnancy == "pregnant":
        return [Match("pregnant", field="pregnancy")]
    if intake.pregnancy in ("possible", "unknown"):
        return [Match(f"pregnancy {intake.pregnancy}", certain=False, field="pregnancy")]
    return []


def _thrombosis(t: r.ThrombosisTrigger, intake: Intake) -> list[Match]:
    return [
        Match(f"{th.status} {th.kind} at {th.site}", expand_sites(th.site), field=f"thromboses.{i}")
        for i, th in enumerate(intake.thromboses)
        if th.status in t.statuses
    ]


def _malignancy(t: r.MalignancyTrigger, intake: Intake) -> list[Match]:
    return [
        Match(
            f"{m.status} malignancy at {m.site}"
            + (" (palliative care)" if m.palliative_care else ""),
            expand_sites(m.site),
            field=f"malignancies.{i}",
        )
        for i, m in enumerate(intake.malignancies)
        if m.status in t.statuses
    ]


def _irradiated(t: r.IrradiatedTrigger, intake: Intake) -> list[Match]:
    found = []
    for i, m in enumerate(intake.malignancies):
        if "radiotherapy" not in m.treatments:
            continue
        selectors = m.irradiated_sites or (m.site,)
        sites = frozenset().union(*(expand_sites(s) for s in selectors))
        field = f"malignancies.{i}.radiotherapy_ended_on"
        if m.radiotherapy_ended_on is None:
            found.append(
                Match(f"radiotherapy at {', '.join(selectors)}, end date not recorded",
                      sites, certain=False, field=field)
            )
        elif (intake.assessed_on - m.radiotherapy_ended_on).days <= t.within_days:
            found.append(
                Match(f"radiotherapy at {', '.join(selectors)} ended "
                      f"{m.radiotherapy_ended_on.isoformat()}", sites, field=field)
            )
    return found


def _skin(t: r.SkinTrigger, intake: Intake) -> list[Match]:
    return [
        Match(f"{s.finding.replace('_', ' ')} at {s.site}", expand_sites(s.site), field=f"skin.{i}")
        for i, s in enumerate(intake.skin)
        if s.finding in t.findings
    ]


def _sensation(t: r.SensationTrigger, intake: Intake) -> list[Match]:
    found = [
        Match(f"{s.status} sensation at {s.site} ({s.method})", expand_sites(s.site),
              field=f"sensation.{i}")
        for i, s in enumerate(intake.sensation)
        if s.status in t.statuses
    ]
    if t.untested_neuropathy_sites:
        for i, d in enumerate(intake.diagnoses):
            if d.kind != "neuropathy":
                continue
            untested = frozenset(
                site
                for selector in d.affected_sites
                for site in expand_sites(selector)
                if intake.sensation_at(site) is None
            )
            if untested:
                found.append(
                    Match(f"sensation not tested at {len(untested)} neuropathy site(s)",
                          untested, certain=False, field=f"diagnoses.{i}.affected_sites")
                )
    return found


def _allodynia(t: r.AllodyniaTrigger, intake: Intake) -> list[Match]:
    return [
        Match(f"allodynia ({a.stimulus.replace('_', ' ')}) at {a.site}", expand_sites(a.site),
              field=f"allodynia.{i}")
        for i, a in enumerate(intake.allodynia)
    ]


def _cannot_report(t: r.CannotReportTrigger, intake: Intake) -> list[Match]:
    value = {"yes": "no", "no": "yes", "unknown": "unknown"}[intake.can_report_sensations]
    return _yes_or_unknown(value, "cannot report sensations", "can_report_sensations")


def _bleeding(t: r.BleedingTrigger, intake: Intake) -> list[Match]:
    level = intake.bleeding_tendency
    if level in t.levels:
        return [Match(f"{level} bleeding tendency", field="bleeding_tendency")]
    if level == "unknown" and "controlled" in t.levels:
        # Unknown is screened as a controlled tendency (a precaution), not as an untreated
        # disorder: the answer is then required before anyone relies on the screening.
        return [Match("bleeding tendency (answered unknown)", certain=False,
                      field="bleeding_tendency")]
    return []


def _surgery_fracture(t: r.SurgeryFractureTrigger, intake: Intake) -> list[Match]:
    return [
        Match(f"{s.kind} at {s.site}, healing {s.healing}", expand_sites(s.site),
              certain=s.healing == "healing", field=f"surgeries_and_fractures.{i}.healing")
        for i, s in enumerate(intake.surgeries_and_fractures)
        if s.healing != "healed"
    ]


def _home_activity(t: r.HomeActivityTrigger, intake: Intake) -> list[Match]:
    home = intake.home_use
    if not home.planned:
        return []
    found = _yes_or_unknown(home.during_sleep, "home use during sleep", "home_use.during_sleep")
    found += _yes_or_unknown(
        home.while_driving_or_operating_machinery,
        "home use while driving or operating machinery",
        "home_use.while_driving_or_operating_machinery",
    )
    return found


def _undiagnosed(t: r.UndiagnosedPainTrigger, intake: Intake) -> list[Match]:
    reported = frozenset().union(*(expand_sites(s) for s in intake.pain_sites))
    unexplained = reported - near(intake.diagnosed_sites)
    if not unexplained:
        return []
    return [Match(f"pain at {', '.join(sorted(unexplained))} without a diagnosis there",
                  unexplained, field="pain_sites")]


def _diagnosis(t: r.DiagnosisTrigger, intake: Intake) -> list[Match]:
    return [
        Match(f"{d.kind} at {', '.join(d.affected_sites)}",
              frozenset().union(*(expand_sites(s) for s in d.affected_sites)),
              field=f"diagnoses.{i}")
        for i, d in enumerate(intake.diagnoses)
        if d.kind == t.kind
    ]


def _age(t: r.AgeTrigger, intake: Intake) -> list[Match]:
    if intake.age_years < t.years:
        return [Match(f"age {intake.age_years} years (under {t.years})", field="age_years")]
    return []


EVALUATORS: dict[type, Callable[..., list[Match]]] = {
    r.ImplantTrigger: _implant,
    r.CardiacTrigger: _cardiac,
    r.EpilepsyTrigger: _epilepsy,
    r.PregnancyTrigger: _pregnancy,
    r.ThrombosisTrigger: _thrombosis,
    r.MalignancyTrigger: _malignancy,
    r.IrradiatedTrigger: _irradiated,
    r.SkinTrigger: _skin,
    r.SensationTrigger: _sensation,
    r.AllodyniaTrigger: _allodynia,
    r.CannotReportTrigger: _cannot_report,
    r.BleedingTrigger: _bleeding,
    r.SurgeryFractureTrigger: _surgery_fracture,
    r.HomeActivityTrigger: _home_activity,
    r.UndiagnosedPainTrigger: _undiagnosed,
    r.DiagnosisTrigger: _diagnosis,
    r.AgeTrigger: _age,
}


def evaluate(trigger: r.Trigger, intake: Intake) -> list[Match]:
    """Every match of one trigger in one intake."""
    return EVALUATORS[type(trigger)](trigger, intake)
