"""The response dashboard: is it working, and what dose next?

It shows the person's diary trends against the responder cut-off, the delivered session doses,
the IMMPACT verdict with every figure it rests on (:func:`stimwise.analysis.assessment.assess`),
an n-of-1 comparison on request, and the tuner's next-dose suggestion.

A suggestion is never applied by looking at it (HAZ-067). Only a clinician's explicit
acceptance, naming the fingerprint of the suggestion they saw, creates a new prescription; the
suggestion is recomputed from the same data and seed and must have the same fingerprint (if a
session or diary entry arrived meanwhile, the clinician reviews the new suggestion first). The
tuner's ``DoseProposal.accept`` releases the verified plan, and the stored prescription is that
plan's. Accepting and rejecting are both written to the audit log.

When a suggestion is accepted, the prescriptions valid that day are superseded by the new one
(they end; HAZ-111), and the locked amplitude range is narrowed to end at the accepted
amplitude (the prescribed amplitude is the home ceiling, records rule), never widened.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from pydantic import Field
from sqlalchemy import select

from stimwise.analysis.assessment import ResponseAssessment, assess
from stimwise.analysis.from_records import load_prescription, load_series
from stimwise.analysis.nof1 import DEFAULT_MID_NRS, Nof1Result, analyse_nof1, plan_nof1
from stimwise.analysis.responder import MIN_REDUCTION_NRS, MODERATE_REDUCTION
from stimwise.analysis.series import PatientSeries
from stimwise.analysis.tuning import (
    CandidateSet,
    DoseProposal,
    NoSafeDoseError,
    NotEnoughDataError,
    suggest_next_dose,
)
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel
from stimwise.records.access import Actor, require
from stimwise.records.audit import log_action
from stimwise.records.database import Database
from stimwise.records.inputs import LockedRanges, PrescriptionIn, ValueSpan
from stimwise.records.models import DiaryEntry
from stimwise.records.repository import (
    add_prescription,
    get_patient,
    list_prescriptions,
    supersede_prescriptions,
)
from stimwise.web.services.audit import audited_read
from stimwise.web.services.memo import Memo, digest

DEFAULT_SEED = 0


@dataclass(frozen=True)
class Suggestion:
    """The next-dose suggestion, or why there is none."""

    proposal: DoseProposal | None
    reason: str | None
    seed: int

    def to_dict(self) -> dict:
        if self.proposal is None:
            return {"status": "none", "reason": self.reason, "seed": self.seed}
        return {**self.proposal.to_dict(), "seed": self.seed}


@dataclass(frozen=True)
class TherapyStartNote:
    """A therapy start a clinician set: by whom, when and why (shown next to the start)."""

    set_by: str
    set_at: datetime
    reason: str | None


@dataclass(frozen=True)
class Dashboard:
    series: PatientSeries
    assessment: ResponseAssessment
    suggestion: Suggestion
    charts: dict
    start_note: TherapyStartNote | None = None

    @property
    def responder_cutoff_nrs(self) -> float | None:
        """Daily pain at or below which the change from baseline is a response (≥ 30 % and
        ≥ 2 points, IMMPACT; see :mod:`stimwise.analysis.responder`)."""
        return responder_cutoff(self.assessment.verdict.baseline.mean_nrs)

    def to_dict(self) -> dict:
        document = self.assessment.to_dict()
        document["patient"] = self.series.patient_id
        document["therapy_start"] = self.series.therapy_start.isoformat()
        document["therapy_start_set"] = (None if self.start_note is None else {
            "by": self.start_note.set_by, "at": self.start_note.set_at.isoformat(),
            "reason": self.start_note.reason})
        document["sessions_before_start"] = self.series.sessions_before_start
        document["responder_cutoff_nrs"] = self.responder_cutoff_nrs
        document["dose_suggestion"] = self.suggestion.to_dict()
        document["charts"] = self.charts
        return document


def responder_cutoff(baseline_nrs: float | None) -> float | None:
    if baseline_nrs is None:
        return None
    return round(baseline_nrs - max(MIN_REDUCTION_NRS, MODERATE_REDUCTION * baseline_nrs), 3)


def _dates(series: PatientSeries, days: np.ndarray) -> list[str]:
    return [(series.therapy_start + timedelta(days=int(d))).isoformat() for d in days]


INTERFERENCE = (("sleep_interference_nrs", "sleep interference"),
                ("function_interference_nrs", "interference with function"))


def _interference(session, patient_id: int) -> dict[str, tuple[list[str], list[float]]]:
    """Daily mean sleep and function interference (UTC days), read as plain columns (loading
    every diary entry as an object cost more than the rest of the page)."""
    by_day: dict[str, dict[str, list[int]]] = {name: defaultdict(list) for name, _ in INTERFERENCE}
    rows = session.execute(
        select(DiaryEntry.recorded_at, DiaryEntry.sleep_interference_nrs,
               DiaryEntry.function_interference_nrs)
        .where(DiaryEntry.patient_id == patient_id,
               (DiaryEntry.sleep_interference_nrs.is_not(None))
               | (DiaryEntry.function_interference_nrs.is_not(None))))
    for recorded_at, *values in rows:
        day = recorded_at.astimezone(UTC).date().isoformat()
        for (name, _), value in zip(INTERFERENCE, values, strict=True):
            if value is not None:
                by_day[name][day].append(value)
    means = {}
    for name, days in by_day.items():
        ordered = sorted(days)
        means[name] = (ordered, [round(sum(days[d]) / len(days[d]), 3) for d in ordered])
    return means


def _charts(series: PatientSeries, assessment: ResponseAssessment,
            interference: dict[str, tuple[list[str], list[float]]]) -> dict:
    """Plot data: diary trends with the baseline, assessment window and responder cut-off;
    session doses and within-session relief."""
    verdict = assessment.verdict
    windows = []
    for name, window in (("baseline", verdict.baseline), ("assessment", verdict.current)):
        if window.mean_nrs is not None:
            first, last = _dates(series, np.array([window.first_day, window.last_day]))
            windows.append({"name": f"{name} mean", "x": [first, last],
                            "y": [round(window.mean_nrs, 3)] * 2})
    cutoff = responder_cutoff(verdict.baseline.mean_nrs)
    diary = [{"name": "daily pain (average NRS)", "x": _dates(series, series.pain.day),
              "y": [round(float(v), 3) for v in series.pain.nrs], "mode": "markers"}]
    for attribute, label in INTERFERENCE:
        x, y = interference[attribute]
        if x:
            diary.append({"name": label, "x": x, "y": y, "mode": "lines"})
    if cutoff is not None and len(series.pain.day):
        x = _dates(series, np.array([0, max(series.as_of_day, 0)]))
        diary.append({"name": "responder cut-off (≥ 30 % and ≥ 2 points)", "x": x,
                      "y": [cutoff, cutoff], "mode": "lines", "dash": "dash"})
    sessions = series.sessions
    session_x = _dates(series, sessions.day)

    def values(array: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v), 3) for v in array]

    return {
        "diary": {"title": "diary", "x_label": "date", "y_label": "NRS (0-10)",
                  "traces": [*diary, *({**w, "mode": "lines"} for w in windows)]},
        "dose": {"title": "delivered sessions", "x_label": "date", "y_label": "mA / minutes",
                 "traces": [
                     {"name": "mean amplitude (mA)", "x": session_x,
                      "y": values(sessions.amplitude_ma), "mode": "markers"},
                     {"name": "stimulation (min)", "x": session_x,
                      "y": values(sessions.minutes), "mode": "markers"}]},
        "relief": {"title": "within-session relief", "x_label": "date",
                   "y_label": "NRS before − after",
                   "traces": [{"name": "relief", "x": session_x,
                               "y": values(sessions.relief_nrs), "mode": "markers"}]},
    }


def _suggestion(series: PatientSeries, stored, seed: int) -> Suggestion:
    if stored is None:
        return Suggestion(None, "no prescription on record", seed)
    prescription, caps, locked = stored
    if locked is None:
        return Suggestion(None, "the prescription on record has no locked ranges for home "
                          "use: nothing may be tuned", seed)
    try:
        proposal = suggest_next_dose(CandidateSet(prescription, locked, caps), series.sessions,
                                     np.random.default_rng(seed))
    except (NoSafeDoseError, NotEnoughDataError) as refusal:
        return Suggestion(None, str(refusal), seed)
    return Suggestion(proposal, None, seed)


_shown: Memo[Suggestion] = Memo(256)
"""Suggestions shown on dashboards, by their inputs (a few hundred people's)."""


def shown_suggestion(series: PatientSeries, stored, seed: int) -> Suggestion:
    """The suggestion the dashboard shows, computed once per set of inputs: the delivered
    sessions, the stored prescription with its caps and locked ranges, and the seed (the
    Gaussian process and the safety verification of its candidates cost more than the rest of
    the page). For display only: accepting recomputes it from the records
    (:func:`accept_proposal`), so a kept suggestion is never the one released."""
    sessions = series.sessions
    key = digest(seed, *(np.ascontiguousarray(getattr(sessions, name)).tobytes() for name in (
        "day", "amplitude_ma", "phase_width_us", "frequency_hz", "minutes", "nrs_pre",
        "nrs_post", "adverse_events", "self_reported")),
        *(None if part is None else part.model_dump(mode="json") for part in stored or ()))
    return _shown.get(key, lambda: _suggestion(series, stored, seed))


def dashboard(db: Database, actor: Actor, pseudonym: str, *, seed: int = DEFAULT_SEED,
              as_of: date | None = None) -> Dashboard:
    """Everything the response page shows (a read: audited)."""
    def read(session):
        patient = get_patient(session, actor, pseudonym)
        return (load_series(session, actor, pseudonym, as_of),
                load_prescription(session, actor, pseudonym),
                _interference(session, patient.id), start_note(patient))

    series, stored, interference, note = audited_read(db, actor, pseudonym, "response", read)
    assessment = assess(series)
    return Dashboard(series, assessment, shown_suggestion(series, stored, seed),
                     _charts(series, assessment, interference), note)


def start_note(patient) -> TherapyStartNote | None:
    """Who set the person's therapy start, when and why (None: it is the first session's)."""
    if patient.therapy_start_on is None:
        return None
    return TherapyStartNote(patient.therapy_start_set_by or "unknown",
                            patient.therapy_start_set_at, patient.therapy_start_reason)


# --------------------------------------------------------------------------- accept / reject


class ProposalDecision(StrictModel):
    """A clinician's answer to the suggestion they were shown."""

    plan_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$",
                                  description="Fingerprint of the suggestion shown.")
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**32 - 1)


def _narrowed(locked: LockedRanges, amplitude_ma: float) -> LockedRanges:
    span = locked.amplitude_ma
    narrowed = ValueSpan(min=min(span.min, amplitude_ma), max=min(span.max, amplitude_ma))
    return locked.model_copy(update={"amplitude_ma": narrowed})


def accept_proposal(db: Database, actor: Actor, pseudonym: str, decision: ProposalDecision,
                    *, today: date | None = None) -> int:
    """Store the accepted suggestion as a new prescription; returns its id.

    Raises
    ------
    InputError
        No suggestion now, or it is not the one the clinician saw (data changed meanwhile).
    """
    require(actor, "write_clinical", pseudonym)
    with db.transaction() as session:
        series = load_series(session, actor, pseudonym)
        stored = load_prescription(session, actor, pseudonym)
        suggestion = _suggestion(series, stored, decision.seed)
        proposal = suggestion.proposal
        if proposal is None:
            raise InputError(FieldProblem("plan_fingerprint", decision.plan_fingerprint,
                                          f"a current suggestion; there is none ("
                                          f"{suggestion.reason})"))
        if proposal.plan_fingerprint != decision.plan_fingerprint:
            raise InputError(FieldProblem(
                "plan_fingerprint", decision.plan_fingerprint,
                "the suggestion now on record (the data changed since the page was shown: "
                "review the new suggestion)"))
        plan = proposal.accept(actor.username)
        _, caps, locked = stored
        today = today or datetime.now(UTC).date()
        rows = list_prescriptions(session, actor, pseudonym)
        latest = max(rows, key=lambda r: (r.valid_from, r.id))
        row = add_prescription(session, actor, pseudonym, PrescriptionIn(
            prescription=plan.prescription,
            caps=caps,
            locked_ranges=_narrowed(locked, plan.prescription.max_amplitude_ma),
            home_use=latest.home_use,
            valid_from=today,
            prescribed_by=actor.username,
        ))
        # The accepted dose replaces what the person had: the prescriptions valid today end
        # here, so one prescription is active, not two (HAZ-111).
        replaced = list_prescriptions(session, actor, pseudonym, valid_on=today)
        supersede_prescriptions(session, actor, [old for old in replaced if old.id != row.id],
                                row)
        log_action(session, actor, "accept_dose_proposal", "prescription", row.id)
        return row.id


def reject_proposal(db: Database, actor: Actor, pseudonym: str,
                    decision: ProposalDecision) -> None:
    """Record that the clinician rejected the suggestion (the prescription stays as it is)."""
    require(actor, "write_clinical", pseudonym)
    with db.transaction() as session:
        patient = get_patient(session, actor, pseudonym)
        log_action(session, actor, "reject_dose_proposal", "patient", patient.id)


# --------------------------------------------------------------------------- n-of-1


class Nof1Request(StrictModel):
    """An n-of-1 comparison to analyse against the person's diary."""

    treatment_a: str = Field(
        min_length=1, max_length=120,
        description="What the person does in the A periods, in words, e.g. 'conventional TENS, "
        "30 minutes a day'.")
    treatment_b: str = Field(
        min_length=1, max_length=120,
        description="What they do in the B periods, e.g. 'no stimulation'.")
    start: date = Field(description="First day of the first period.")
    pairs: int = Field(default=3, ge=1, le=20)
    period_days: int = Field(default=7, ge=2, le=56)
    washout_days: int = Field(default=2, ge=0, le=28)
    seed: int = Field(default=0, ge=0, le=2**32 - 1,
                      description="Seed of the randomised order (the plan's own).")
    minimal_important_difference_nrs: float = Field(default=DEFAULT_MID_NRS, gt=0, le=10)


def nof1(db: Database, actor: Actor, pseudonym: str, request: Nof1Request
         ) -> tuple[object, Nof1Result]:
    """The plan laid out from the request and its analysis on the person's diary."""
    plan = plan_nof1(request.treatment_a, request.treatment_b, pairs=request.pairs,
                     period_days=request.period_days, washout_days=request.washout_days,
                     seed=request.seed, start=request.start,
                     minimal_important_difference_nrs=request.minimal_important_difference_nrs)
    series = audited_read(db, actor, pseudonym, "nof1",
                          lambda session: load_series(session, actor, pseudonym))
    shift = (series.therapy_start - request.start).days
    return plan, analyse_nof1(plan, series.pain.shifted(shift))
