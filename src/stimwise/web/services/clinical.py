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
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.recommend import recommend
from stimwise.clinical.screening import Screening, screen
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import validate_model
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.models import IntakeRecord
from stimwise.records.repository import add_intake, get_patient
from stimwise.web.services.audit import audited_read
from stimwise.web.services.bodymap import SiteStatus, body_map_svg, site_statuses
from stimwise.web.services.intake_form import FormSection, build_form, parse_form
from stimwise.web.services.memo import Memo, digest

MAX_SCREENING_AGE_DAYS = 90
"""A screening older than this is not used for a new prescription: contraindications (pregnancy,
new implants, skin, thrombosis) change, so a new intake is required [U: stimwise's choice; no
source fixes an interval]."""

FORM_SKIP = frozenset({"schema_version", "patient_id"})


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


# --------------------------------------------------------------------------- intake form


def intake_form(
    db: Database, actor: Actor, pseudonym: str,
    values: Mapping | None = None, problems: list[FieldProblem] = (),  # type: ignore[assignment]
    *, blank_rows: int = 1,
) -> FormSection:
    """The intake form, filled with ``values`` or else with the latest intake (for a revision)."""
    require(actor, "write_clinical", pseudonym)
    if values is None:
        view = latest_screening(db, actor, pseudonym)
        values = {} if view is None else view.intake.model_dump(mode="json")
    return build_form(Intake, values, problems, blank_rows=blank_rows, skip=FORM_SKIP)


def save_intake(db: Database, actor: Actor, pseudonym: str, intake: Intake) -> int:
    """Store the intake with its screening; returns the intake id."""
    if intake.patient_id != pseudonym:
        raise InputError(FieldProblem("patient_id", intake.patient_id,
                                      f"the pseudonym of this record ({pseudonym})"))
    with db.transaction() as session:
        return add_intake(session, actor, intake).id


def submit_intake_form(
    db: Database, actor: Actor, pseudonym: str, form: Mapping[str, list[str]]
) -> tuple[int | None, dict, list[FieldProblem]]:
    """Validate and store a submitted form: ``(intake_id, answers, [])`` or ``(None, answers,
    problems)`` with the problems at the form's field names."""
    require(actor, "write_clinical", pseudonym)
    intake, data, problems = parse_form(
        Intake, form, source=f"intake of {pseudonym}", fixed={"patient_id": pseudonym}
    )
    if intake is None:
        return None, data, problems
    try:
        return save_intake(db, actor, pseudonym, intake), data, []
    except InputError as error:
        return None, data, error.problems


def recommendations(db: Database, actor: Actor, pseudonym: str
                    ) -> tuple[ScreeningView, RecommendationReport] | None:
    """Ranked verified protocol suggestions from the latest screening (``None``: no intake)."""
    view = latest_screening(db, actor, pseudonym)
    if view is None:
        return None
    key = digest(view.intake.model_dump(mode="json"))
    return view, _recommended.get(key, lambda: recommend(view.intake, view.screening))
