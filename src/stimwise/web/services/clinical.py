"""Intake, screening and recommendation of one patient, for the clinician pages and the API.

Every function takes the acting :class:`~stimwise.records.access.Actor`; the records repository
checks the role, and every read of a patient's intake writes an audit entry. The screening shown
and used for prescribing is always the one of the patient's LATEST intake, recomputed with the
packaged rule book and compared with the stored one (HAZ-069): a screening that no longer matches
(the rules changed since) or is older than :data:`MAX_SCREENING_AGE_DAYS` cannot be prescribed
from until a new intake is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from stimwise.clinical.intake import Intake
from stimwise.clinical.labels import label_path, screening_label
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.recommend import recommend
from stimwise.clinical.screening import (
    RequiredAction,
    RuleFinding,
    Screening,
    not_asked_action,
    screen,
    unknown_action,
)
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import validate_model
from stimwise.protocol.site_names import site_label
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.intake_drafts import discard_draft, find_draft, save_draft
from stimwise.records.models import IntakeDraft, IntakeRecord
from stimwise.records.repository import add_intake, get_patient
from stimwise.web.services.audit import audited_read
from stimwise.web.services.bodymap import SiteStatus, body_map_svg, site_statuses
from stimwise.web.services.intake_answers import (
    AnchoredProblem,
    blank_form,
    check_answers,
    form_from_intake,
    page_inputs,
    read_answers,
)
from stimwise.web.services.memo import Memo, digest

MAX_SCREENING_AGE_DAYS = 90
"""A screening older than this is not used for a new prescription: contraindications (pregnancy,
new implants, skin, thrombosis) change, so a new intake is required [U: stimwise's choice; no
source fixes an interval]."""

@dataclass(frozen=True)
class ScreeningView:
    """The latest intake of a patient, its screening, and whether it may be prescribed from."""

    intake_id: int
    recorded_at: datetime
    intake: Intake
    screening: Screening
    rules_current: bool
    stored_rules_version: str
    age_days: int
    clinician_text: str
    patient_text: str
    sites: dict[str, SiteStatus]

    @property
    def stale_reasons(self) -> tuple[str, ...]:
        reasons = []
        if not self.rules_current:
            reasons.append(
                f"the rule book changed since this screening (stored "
                f"{self.stored_rules_version}, now {self.screening.rules_version}): record the "
                "intake again to screen it with the current rules"
            )
        if self.age_days > MAX_SCREENING_AGE_DAYS:
            reasons.append(
                f"the screening is {self.age_days} days old (more than "
                f"{MAX_SCREENING_AGE_DAYS}): record a new intake"
            )
        return tuple(reasons)

    @property
    def usable_for_prescribing(self) -> bool:
        return not self.stale_reasons

    @property
    def body_map(self) -> str:
        return body_map_svg(
            self.sites, f"Body-site map of the screening of {self.intake.patient_id}"
        )

    @property
    def restricted_sites(self) -> list[SiteStatus]:
        """Every site that is not plainly allowed, for the text list beside the map."""
        return [
            s for s in self.sites.values()
            if s.status != "allowed" or s.allodynic or s.sensation in ("absent", "reduced")
        ]

    # ----------------------------------------------------------------- in words

    @property
    def decision_words(self) -> str:
        return screening_label(self.screening.decision)

    @property
    def deciding_findings(self) -> list[RuleFinding]:
        """The findings behind the decision: those that block or need a clearance, else the
        precautions (a cleared finding no longer decides)."""
        live = [f for f in self.screening.findings if f.status != "cleared"]
        blocking = [f for f in live if f.tier in ("absolute", "clearance")]
        return blocking or live

    @property
    def other_reasons(self) -> list[str]:
        """Reasons of the decision that no finding gives (e.g. no site left for electrodes)."""
        ids = {f.rule_id for f in self.screening.findings}
        return [r for r in self.screening.decision_reasons if r.split(":")[0] not in ids]

    @property
    def find_out(self) -> list[RequiredAction]:
        """What to find out before stimulating: answers not known, questions not asked."""
        texts = {unknown_action(q) for q in self.screening.unknown_answers}
        if self.intake.not_asked:
            texts.add(not_asked_action(self.intake.not_asked))
        return [a for a in self.screening.required_actions if a.text in texts]

    @property
    def other_actions(self) -> list[RequiredAction]:
        asked = {a.text for a in self.find_out}
        return [a for a in self.screening.required_actions if a.text not in asked]

    @staticmethod
    def finding_words(finding: RuleFinding) -> dict[str, str]:
        """A finding's tier, status and unknown answers in words."""
        return {
            "tier": screening_label(finding.tier),
            "status": screening_label(finding.status),
            "unknown": "; ".join(label_path(q) for q in finding.unknown_answers),
        }

    @staticmethod
    def site_words(site: str) -> str:
        return site_label(site)

    def to_dict(self) -> dict:
        return {
            "intake_id": self.intake_id,
            "recorded_at": self.recorded_at.isoformat(),
            "assessed_on": self.intake.assessed_on.isoformat(),
            "age_days": self.age_days,
            "usable_for_prescribing": self.usable_for_prescribing,
            "stale_reasons": list(self.stale_reasons),
            "screening": self.screening.model_dump(mode="json"),
            "sites": {
                s.site: {"status": s.status, "max_level": s.max_level,
                         "allodynic": s.allodynic, "sensation": s.sensation,
                         "reasons": list(s.reasons)}
                for s in self.sites.values()
            },
        }


def _latest_row(session, patient_id: int) -> IntakeRecord | None:
    return session.scalar(
        select(IntakeRecord)
        .where(IntakeRecord.patient_id == patient_id)
        .order_by(IntakeRecord.created_at.desc(), IntakeRecord.id.desc())
        .limit(1)
    )


def latest_screening(
    db: Database, actor: Actor, pseudonym: str, *, today: date | None = None
) -> ScreeningView | None:
    """The patient's latest intake re-screened now, or ``None`` when none is recorded."""
    def read(session) -> IntakeRecord | None:
        return _latest_row(session, get_patient(session, actor, pseudonym).id)

    row = audited_read(db, actor, pseudonym, "intake", read)
    if row is None:
        return None
    stored, recorded_at, row_id = row.screening, row.created_at, row.id
    intake, fresh, texts, sites = _screened.get(digest(row.intake), lambda: _screen(row.intake))
    return ScreeningView(
        intake_id=row_id,
        recorded_at=recorded_at,
        intake=intake,
        screening=fresh,
        rules_current=fresh.model_dump(mode="json") == stored,
        stored_rules_version=str(stored.get("rules_version")),
        age_days=((today or datetime.now(UTC).date()) - intake.assessed_on).days,
        clinician_text=texts[0],
        patient_text=texts[1],
        sites=sites,
    )


_screened: Memo[tuple] = Memo(128)
"""Stored intakes screened now, by the intake's content (the packaged rule book is the same for
the life of the process; the screening page and the prescribe page re-screen on every view)."""
_recommended: Memo[RecommendationReport] = Memo(128)


def _screen(stored_intake: dict) -> tuple:
    intake = validate_model(Intake, stored_intake, source="stored intake")
    fresh = screen(intake)
    return (intake, fresh, (clinician_text(fresh), patient_text(fresh)),
            site_statuses(fresh, intake))


def require_current_screening(
    db: Database, actor: Actor, pseudonym: str, intake_id: int | None, *,
    today: date | None = None,
) -> ScreeningView:
    """The screening a new prescription may rest on, or an :class:`InputError` saying why not
    (none recorded, rules changed, too old, or a newer intake than the page showed)."""
    view = latest_screening(db, actor, pseudonym, today=today)
    if view is None:
        raise InputError(FieldProblem("intake_id", intake_id,
                                      "a recorded intake and screening (record the intake first)"))
    if intake_id is not None and intake_id != view.intake_id:
        raise InputError(FieldProblem(
            "intake_id", intake_id,
            f"the latest screening (intake {view.intake_id} of {view.intake.assessed_on}): the "
            "intake changed after this page was opened; review the new screening"))
    if view.stale_reasons:
        raise InputError(FieldProblem("intake_id", view.intake_id, "; ".join(view.stale_reasons)))
    if not view.screening.eligible:
        raise InputError(FieldProblem(
            "intake_id", view.intake_id,
            f"an eligible screening (decision: {view.screening.decision.replace('_', ' ')})"))
    return view


# --------------------------------------------------------------------------- intake page


@dataclass(frozen=True)
class IntakeStart:
    """What the intake page starts from: a saved draft (when there is one), else the latest
    intake (a revision), else a blank intake dated today."""

    form: dict[str, list[str]]
    draft: IntakeDraft | None
    latest_assessed_on: date | None
    latest_recorded_at: datetime | None = None

    @property
    def draft_is_older(self) -> bool:
        """An intake was recorded (e.g. through the API) after the draft was saved."""
        return (self.draft is not None and self.latest_recorded_at is not None
                and self.latest_recorded_at > self.draft.saved_at)


def intake_start(db: Database, actor: Actor, pseudonym: str, *,
                 today: date | None = None) -> IntakeStart:
    require(actor, "write_clinical", pseudonym)
    with db.transaction() as session:
        draft = find_draft(session, actor, pseudonym)
    view = latest_screening(db, actor, pseudonym)
    latest = None if view is None else view.intake.assessed_on
    recorded = None if view is None else view.recorded_at
    if draft is not None:
        return IntakeStart(dict(draft.answers), draft, latest, recorded)
    if view is not None:
        return IntakeStart(form_from_intake(view.intake.model_dump(mode="json")), None, latest,
                           recorded)
    return IntakeStart(blank_form(today or datetime.now(UTC).date()), None, None)


def save_intake_draft(db: Database, actor: Actor, pseudonym: str,
                      form: Mapping[str, list[str]]) -> IntakeDraft:
    """Keep the page's answers as they are, valid or not, as the patient's draft."""
    with db.transaction() as session:
        return save_draft(session, actor, pseudonym, page_inputs(form))


def discard_intake_draft(db: Database, actor: Actor, pseudonym: str) -> bool:
    with db.transaction() as session:
        return discard_draft(session, actor, pseudonym)


def has_intake_draft(db: Database, actor: Actor, pseudonym: str) -> IntakeDraft | None:
    """The patient's draft, for a clinician (a researcher sees no drafts)."""
    if actor.role != "clinician":
        return None
    with db.transaction() as session:
        draft = find_draft(session, actor, pseudonym)
    return draft


def save_intake(db: Database, actor: Actor, pseudonym: str, intake: Intake) -> int:
    """Store the intake with its screening; returns the intake id."""
    if intake.patient_id != pseudonym:
        raise InputError(FieldProblem("patient_id", intake.patient_id,
                                      f"the pseudonym of this record ({pseudonym})"))
    with db.transaction() as session:
        return add_intake(session, actor, intake).id


def submit_intake_answers(
    db: Database, actor: Actor, pseudonym: str, form: Mapping[str, list[str]]
) -> tuple[int | None, list[AnchoredProblem]]:
    """Validate the page's answers as a format 2 intake and record it with its screening (the
    draft, if any, is discarded in the same transaction): ``(intake_id, [])``, or ``(None,
    problems)`` at the page's inputs, with nothing stored."""
    require(actor, "write_clinical", pseudonym)
    answers = read_answers(form, pseudonym)
    intake, problems = check_answers(answers, source=f"intake of {pseudonym}")
    if intake is None:
        return None, problems
    with db.transaction() as session:
        intake_id = add_intake(session, actor, intake).id
        discard_draft(session, actor, pseudonym)
    return intake_id, []


def recommendations(db: Database, actor: Actor, pseudonym: str
                    ) -> tuple[ScreeningView, RecommendationReport] | None:
    """Ranked verified protocol suggestions from the latest screening (``None``: no intake)."""
    view = latest_screening(db, actor, pseudonym)
    if view is None:
        return None
    key = digest(view.intake.model_dump(mode="json"))
    return view, _recommended.get(key, lambda: recommend(view.intake, view.screening))
