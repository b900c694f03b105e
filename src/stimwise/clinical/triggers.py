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
from stimwise.clinical.labels import choice_label, field_label, label_path
from stimwise.protocol.body_sites import expand_sites, near
from stimwise.protocol.site_names import site_label


@dataclass(frozen=True)
class Match:
    """One reason a rule applies: where, how certain, and which answer said so."""

    detail: str
    sites: frozenset[str] = frozenset()
    certain: bool = True
    field: str | None = None


def _at(selector: str) -> str:
    """A place in the middle of a sentence ("at left chest")."""
    words = site_label(selector)
    return words[:1].lower() + words[1:]


def _word(path: str, value: str) -> str:
    words = choice_label(path, value)
    return words[:1].lower() + words[1:]


def _sites(*selectors: str) -> frozenset[str]:
    return frozenset().union(*(expand_sites(s) for s in selectors))


def _yes_or_unknown(value: str | None, detail: str, field: str) -> list[Match]:
    if value == "yes":
        return [Match(detail, field=field)]
    if value == "unknown":
        return [Match(f"{detail} (answered unknown)", certain=False, field=field)]
    return []


def _unknown_list(intake: Intake, question: str) -> list[Match]:
    """A list question answered ``unknown`` could hold any entry, at any place: the rule fires
    as possible, on no particular site (where is not known), and its answer must be found out."""
    if intake.answered_unknown(question):
        return [Match(f"{label_path(question)}: not known (answered unknown)", certain=False,
                      field=question)]
    return []


def _implant(t: r.ImplantTrigger, intake: Intake) -> list[Match]:
    found = _unknown_list(intake, "implants")
    for i, imp in enumerate(intake.entries("implants")):
        if imp.kind not in t.kinds:
            continue
        detail = f"{choice_label('implants.kind', imp.kind)} at {_at(imp.site)}"
        if imp.lead_sites:
            detail += f", leads at {', '.join(_at(s) for s in imp.lead_sites)}"
        found.append(Match(detail, _sites(imp.site, *imp.lead_sites), field=f"implants.{i}"))
    return found


def _cardiac(t: r.CardiacTrigger, intake: Intake) -> list[Match]:
    cardiac = intake.cardiac
    found = []
    for condition in t.conditions:
        value = getattr(cardiac, condition)
        path = f"cardiac.{condition}"
        detail = field_label(path)
        if condition == "arrhythmia" and cardiac.arrhythmia_kind is not None:
            detail += f": {_word('cardiac.arrhythmia_kind', cardiac.arrhythmia_kind)}"
        if condition == "recent_myocardial_infarction" and value != "yes" and _infarction_recent(
            t, intake
        ):
            found.append(Match(
                f"heart attack on {cardiac.myocardial_infarction_on.isoformat()}, within "
                f"{t.infarction_within_days} days of the assessment",
                field="cardiac.myocardial_infarction_on"))
            continue
        found += _yes_or_unknown(value, detail, path)
    return found


def _infarction_recent(t: r.CardiacTrigger, intake: Intake) -> bool:
    day = intake.cardiac.myocardial_infarction_on
    return (
        t.infarction_within_days is not None
        and day is not None
        and (intake.assessed_on - day).days <= t.infarction_within_days
    )


def _epilepsy(t: r.EpilepsyTrigger, intake: Intake) -> list[Match]:
    detail = "epilepsy"
    if intake.seizure_control is not None:
        detail += f" (seizures: {_word('seizure_control', intake.seizure_control)})"
    return _yes_or_unknown(intake.epilepsy, detail, "epilepsy")


def _pregnancy(t: r.PregnancyTrigger, intake: Intake) -> list[Match]:
    weeks = intake.gestational_age_weeks
    if t.before_week is not None:
        if intake.pregnancy not in ("pregnant", "possible", "unknown"):
            return []
        if weeks is None:
            return [Match(f"pregnancy {_word('pregnancy', intake.pregnancy)}, weeks of "
                          "pregnancy not recorded", certain=False,
                          field="gestational_age_weeks")]
        if weeks >= t.before_week:
            return []
        return [Match(f"{weeks} weeks of pregnancy (before week {t.before_week})",
                      certain=intake.pregnancy == "pregnant", field="gestational_age_weeks")]
    if intake.pregnancy == "pregnant":
        shown = f" ({weeks} weeks)" if weeks is not None else ""
        return [Match(f"pregnant{shown}", field="pregnancy")]
    if intake.pregnancy in ("possible", "unknown"):
        return [Match(f"pregnancy: {_word('pregnancy', intake.pregnancy)}", certain=False,
                      field="pregnancy")]
    return []


def _thrombosis(t: r.ThrombosisTrigger, intake: Intake) -> list[Match]:
    found = _unknown_list(intake, "thromboses")
    for i, th in enumerate(intake.entries("thromboses")):
        if th.status not in t.statuses:
            continue
        when = f" ({th.occurred_on.isoformat()})" if th.occurred_on else ""
        found.append(Match(
            f"{_word('thromboses.status', th.status)} {_word('thromboses.kind', th.kind)} at "
            f"{_at(th.site)}{when}", _sites(th.site), field=f"thromboses.{i}"))
    return found


def _malignancy(t: r.MalignancyTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "malignancies") + [
        Match(
            f"cancer ({_word('malignancies.status', m.status)}) at {_at(m.site)}"
            + (" (palliative care)" if m.palliative_care else ""),
            _sites(m.site),
            field=f"malignancies.{i}",
        )
        for i, m in enumerate(intake.entries("malignancies"))
        if m.status in t.statuses
    ]


def _radiotherapy_match(t: r.IrradiatedTrigger, intake: Intake, selectors, ended, field):
    sites = _sites(*selectors)
    where = ", ".join(_at(s) for s in selectors)
    if ended is None:
        return Match(f"radiotherapy at {where}, end date not recorded", sites, certain=False,
                     field=field)
    if (intake.assessed_on - ended).days <= t.within_days:
        return Match(f"radiotherapy at {where} ended {ended.isoformat()}", sites, field=field)
    return None


def _irradiated(t: r.IrradiatedTrigger, intake: Intake) -> list[Match]:
    """Radiotherapy recorded with a cancer, or on its own (``radiotherapy``)."""
    found = _unknown_list(intake, "malignancies") + _unknown_list(intake, "radiotherapy")
    for i, m in enumerate(intake.entries("malignancies")):
        if "radiotherapy" in m.treatments:
            found.append(_radiotherapy_match(
                t, intake, m.irradiated_sites or (m.site,), m.radiotherapy_ended_on,
                f"malignancies.{i}.radiotherapy_ended_on"))
    for i, course in enumerate(intake.entries("radiotherapy")):
        found.append(_radiotherapy_match(
            t, intake, course.sites, course.ended_on, f"radiotherapy.{i}.ended_on"))
    return [m for m in found if m is not None]


def _skin(t: r.SkinTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "skin") + [
        Match(f"{_word('skin.finding', s.finding)} at {_at(s.site)}", _sites(s.site),
              field=f"skin.{i}")
        for i, s in enumerate(intake.entries("skin"))
        if s.finding in t.findings
    ]


def _sensation(t: r.SensationTrigger, intake: Intake) -> list[Match]:
    found = _unknown_list(intake, "sensation") + [
        Match(f"{_word('sensation.status', s.status)} sensation at {_at(s.site)} "
              f"({_word('sensation.method', s.method)})", _sites(s.site),
              field=f"sensation.{i}")
        for i, s in enumerate(intake.entries("sensation"))
        if s.status in t.statuses
    ]
    if t.untested_neuropathy_sites:
        for i, d in enumerate(intake.entries("diagnoses")):
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
                    Match(f"sensation not tested at {len(untested)} place(s) of the neuropathy",
                          untested, certain=False, field=f"diagnoses.{i}.affected_sites")
                )
    return found


def _allodynia(t: r.AllodyniaTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "allodynia") + [
        Match(f"allodynia ({_word('allodynia.stimulus', a.stimulus)}) at {_at(a.site)}",
              _sites(a.site), field=f"allodynia.{i}")
        for i, a in enumerate(intake.entries("allodynia"))
    ]


def _cannot_report(t: r.CannotReportTrigger, intake: Intake) -> list[Match]:
    value = {"yes": "no", "no": "yes", "unknown": "unknown"}[intake.can_report_sensations]
    return _yes_or_unknown(value, "cannot report sensations", "can_report_sensations")


def _bleeding(t: r.BleedingTrigger, intake: Intake) -> list[Match]:
    level = intake.bleeding_tendency
    if level in t.levels:
        return [Match(f"bleeding tendency: {_word('bleeding_tendency', level)}",
                      field="bleeding_tendency")]
    if level == "unknown" and "controlled" in t.levels:
        # Unknown is screened as a controlled tendency (a precaution), not as an untreated
        # disorder: the answer is then required before anyone relies on the screening.
        return [Match("bleeding tendency (answered unknown)", certain=False,
                      field="bleeding_tendency")]
    return []


def _surgery_fracture(t: r.SurgeryFractureTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "surgeries_and_fractures") + [
        Match(f"{_word('surgeries_and_fractures.kind', s.kind)} at {_at(s.site)}, healing: "
              f"{_word('surgeries_and_fractures.healing', s.healing)}", _sites(s.site),
              certain=s.healing == "healing", field=f"surgeries_and_fractures.{i}.healing")
        for i, s in enumerate(intake.entries("surgeries_and_fractures"))
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
    reported = _sites(*intake.pain_sites)
    if intake.answered_unknown("diagnoses"):
        return [Match(f"{label_path('diagnoses')}: not known (answered unknown)", reported,
                      certain=False, field="diagnoses")]
    unexplained = reported - near(intake.diagnosed_sites)
    if not unexplained:
        return []
    return [Match(f"pain at {', '.join(_at(s) for s in sorted(unexplained))} without a "
                  "diagnosis there", unexplained, field="pain_sites")]


def _diagnosis(t: r.DiagnosisTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "diagnoses") + [
        Match(f"{_word('diagnoses.kind', d.kind)} at {', '.join(_at(s) for s in d.affected_sites)}",
              _sites(*d.affected_sites), field=f"diagnoses.{i}")
        for i, d in enumerate(intake.entries("diagnoses"))
        if d.kind == t.kind
    ]


def _age(t: r.AgeTrigger, intake: Intake) -> list[Match]:
    if intake.age_years < t.years:
        return [Match(f"age {intake.age_years} years (under {t.years})", field="age_years")]
    return []


def _answer(t: r.AnswerTrigger, intake: Intake) -> list[Match]:
    return _yes_or_unknown(getattr(intake, t.question), field_label(t.question).lower(),
                           t.question)


def _arterial(t: r.ArterialTrigger, intake: Intake) -> list[Match]:
    found = _unknown_list(intake, "arterial_disease")
    for i, a in enumerate(intake.entries("arterial_disease")):
        if a.severity in t.severities:
            found.append(Match(
                f"impaired arterial circulation at {_at(a.site)} (severity: "
                f"{_word('arterial_disease.severity', a.severity)})", _sites(a.site),
                certain=a.severity != "unknown", field=f"arterial_disease.{i}"))
    return found


def _worn_device(t: r.WornDeviceTrigger, intake: Intake) -> list[Match]:
    return _unknown_list(intake, "external_devices") + [
        Match(f"{_word('external_devices.kind', d.kind)} worn at {_at(d.site)}", _sites(d.site),
              field=f"external_devices.{i}")
        for i, d in enumerate(intake.entries("external_devices"))
        if d.kind in t.kinds
    ]


def _cognition(t: r.CognitionTrigger, intake: Intake) -> list[Match]:
    level = intake.cognition
    if level in t.levels:
        match = Match(_word("cognition", level), field="cognition")
    elif level == "unknown":
        match = Match("memory and thinking (answered unknown)", certain=False, field="cognition")
    else:
        return []
    if not t.without_supervising_carer:
        return [match]
    carer = intake.carer
    if carer == "supervises":
        return []
    if carer is None or carer == "unknown":
        return [Match(f"{match.detail}; whether a carer supervises not known", certain=False,
                      field="carer" if match.certain else match.field)]
    return [Match(f"{match.detail}; {_word('carer', carer)}", certain=match.certain,
                  field=match.field)]


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
    r.AnswerTrigger: _answer,
    r.ArterialTrigger: _arterial,
    r.WornDeviceTrigger: _worn_device,
    r.CognitionTrigger: _cognition,
}


def evaluate(trigger: r.Trigger, intake: Intake) -> list[Match]:
    """Every match of one trigger in one intake."""
    return EVALUATORS[type(trigger)](trigger, intake)
