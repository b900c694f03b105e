"""Progress / discharge report of one patient, and the report of one session.

A progress report gathers what a payer or a referring clinician asks for: the parameter history
(every prescription with its dose and home-use ranges), adherence in days and minutes, the pain
trend against the person's baseline, the minimal important change (1 NRS point, about 10-20 %:
IMMPACT, Dworkin et al. 2008 [C]; the rounding is stimwise's [U], see
:mod:`stimwise.analysis.nof1`) and the responder cut-off (≥ 30 % and ≥ 2 points, Dworkin et al.
2008 [C]; see :mod:`stimwise.analysis.responder`), instrument scores, adverse
events and the verdict. It states only what the records show: the verdict's own wording (with
"not enough data yet" and "borderline" where they apply), no promise of relief, and the notice
that stimwise is not a certified medical device (HAZ-068).

Both reports exist as data (for the API), as an HTML page (template ``reports/*.html``) and as
a PDF drawn with fpdf2 in the DejaVu Sans font that matplotlib ships (Unicode, no system
libraries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from stimwise.analysis.adherence import weekly_adherence
from stimwise.analysis.assessment import assess
from stimwise.analysis.from_records import load_schedule, load_series
from stimwise.analysis.nof1 import DEFAULT_MID_NRS
from stimwise.errors import FieldProblem, InputError
from stimwise.interop.pdf import heading as _heading
from stimwise.interop.pdf import line as _line
from stimwise.interop.pdf import new_pdf as _pdf
from stimwise.interop.pdf import table as _table
from stimwise.protocol.base import StrictModel
from stimwise.records import repository as r
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.models import SelfLoggedSession, SessionEntry
from stimwise.records.self_logged import list_self_logged
from stimwise.records.sessions import list_sessions
from stimwise.web.services.audit import audited_read
from stimwise.web.services.response import responder_cutoff
from stimwise.web.wording import range_words

NOTICE = (
    "stimwise is clinical-decision support and research software, not a certified medical "
    "device. This report summarises the records; it is not a diagnosis, and the verdict rests "
    "only on the diary and session data listed. Stimulation helps some people and not others."
)
DAYS_PER_WEEK = 7
ReportKind = Literal["progress", "discharge"]
PLANS: dict[str, str] = {
    "continue": "continue the current prescription",
    "change_dose": "continue with a changed dose",
    "pause": "pause stimulation and review",
    "discharge_goals_met": "discharge: treatment goals met",
    "discharge_no_response": "discharge: no sufficient response",
    "refer": "refer for another treatment",
}
"""The clinician's plan a report may state, chosen from a fixed list (no free text travels in
the address, where it could leak into history or logs)."""


class ReportRequest(StrictModel):
    """What kind of report, and the plan the clinician records in it."""

    kind: ReportKind = "progress"
    plan: Literal[tuple(PLANS)] | None = None  # type: ignore[valid-type]


@dataclass(frozen=True)
class PrescriptionLine:
    id: int
    valid_from: date
    valid_to: date | None
    protocol_id: str
    amplitude_ma: float
    frequency_hz: float | None
    phase_width_us: float | None
    session_duration_min: float
    sessions_per_week: int
    home_use: bool
    locked: str
    prescribed_by: str
    superseded_by_id: int | None = None
    superseded_on: date | None = None

    @property
    def ended(self) -> str:
        """When it ended, in words: its end date, or the day another replaced it."""
        if self.superseded_by_id is not None:
            return f"{self.superseded_on} (replaced by #{self.superseded_by_id})"
        return "–" if self.valid_to is None else str(self.valid_to)


@dataclass(frozen=True)
class Adherence:
    first_session: date | None
    last_session: date | None
    sessions: int
    completed_sessions: int
    days_with_session: int
    therapy_days: int
    total_minutes: float
    minutes_per_week: float | None
    sessions_per_week: float | None
    prescribed_per_week: float | None
    self_reported_sessions: int = 0
    """Of ``sessions``, those the person logged from their own device (provenance
    ``self_reported``); ``completed_sessions`` counts device-recorded sessions only."""
    self_reported_minutes: float = 0.0


@dataclass(frozen=True)
class WeeklyPain:
    week: int
    first_day: date
    entries: int
    mean_nrs: float


@dataclass(frozen=True)
class ProgressReport:
    pseudonym: str
    enrolled_on: date
    generated_at: datetime
    therapy_start: date | None
    prescriptions: list[PrescriptionLine]
    adherence: Adherence
    baseline_nrs: float | None
    current_nrs: float | None
    reduction_nrs: float | None
    reduction_fraction: float | None
    responder_cutoff_nrs: float | None
    minimal_important_change_nrs: float
    weekly_pain: list[WeeklyPain]
    verdict_category: str
    verdict_label: str
    verdict_reasons: tuple[str, ...]
    instruments: list[dict]
    adverse_events: list[dict]
    sessions: list[dict]
    notice: str = NOTICE
    kind: str = "progress"
    plan: str | None = None
    plan_by: str | None = None
    self_logged: list[dict] = field(default_factory=list)
    """Sessions done on the person's own device, each with its provenance, settings, the
    settings' verification and the flags."""
    weekly_adherence: dict | None = None
    data_provenance: str = ""
    """Where the sessions the verdict rests on come from, in words."""

    @property
    def title(self) -> str:
        return f"{self.kind.capitalize()} report"

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return _jsonable(asdict(self))


@dataclass(frozen=True)
class SessionReport:
    pseudonym: str
    generated_at: datetime
    session: dict
    adverse_events: list[dict] = field(default_factory=list)
    notice: str = NOTICE

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return _jsonable(asdict(self))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- gathering


def _locked_text(locked: dict | None) -> str:
    if not locked:
        return "none (clinic use)"
    return ", ".join(range_words(name, span["min"], span["max"])
                     for name, span in locked.items() if span)


def _prescription_lines(rows) -> list[PrescriptionLine]:
    lines = []
    for row in sorted(rows, key=lambda x: (x.valid_from, x.id)):
        rx = row.prescription
        lines.append(PrescriptionLine(
            id=row.id, valid_from=row.valid_from, valid_to=row.valid_to,
            protocol_id=row.protocol_id, amplitude_ma=rx["max_amplitude_ma"],
            frequency_hz=row.frequency_hz, phase_width_us=row.phase_width_us,
            session_duration_min=rx["session_duration_min"],
            sessions_per_week=rx["protocol"]["session"]["sessions_per_week"],
            home_use=row.home_use, locked=_locked_text(row.locked_ranges),
            prescribed_by=row.prescribed_by, superseded_by_id=row.superseded_by_id,
            superseded_on=None if row.superseded_at is None else row.superseded_at.date(),
        ))
    return lines


def prescription_history(db: Database, actor: Actor, pseudonym: str) -> list[PrescriptionLine]:
    """Every prescription of the patient, oldest first (an audited read)."""
    return audited_read(db, actor, pseudonym, "prescriptions", lambda session: (
        _prescription_lines(r.list_prescriptions(session, actor, pseudonym))))


def _adherence(sessions: list[SessionEntry], self_logged: list[SelfLoggedSession],
               prescribed_per_week: float | None, as_of: date) -> Adherence:
    """Sessions of both provenances: delivered by a device stimwise drove, and self-logged."""
    delivered = [s for s in sessions if s.stimulation_s > 0]
    starts = [s.started_at for s in delivered] + [x.started_at for x in self_logged]
    days = sorted({t.astimezone(UTC).date() for t in starts})
    own_minutes = sum(x.minutes for x in self_logged)
    minutes = sum(s.stimulation_s for s in delivered) / 60 + own_minutes
    count = len(delivered) + len(self_logged)
    therapy_days = (as_of - days[0]).days + 1 if days else 0
    weeks = therapy_days / DAYS_PER_WEEK if therapy_days else None
    return Adherence(
        first_session=days[0] if days else None,
        last_session=days[-1] if days else None,
        sessions=count,
        completed_sessions=sum(1 for s in delivered if s.outcome == "completed"),
        days_with_session=len(days),
        therapy_days=therapy_days,
        total_minutes=round(minutes, 1),
        minutes_per_week=round(minutes / weeks, 1) if weeks else None,
        sessions_per_week=round(count / weeks, 2) if weeks else None,
        prescribed_per_week=prescribed_per_week,
        self_reported_sessions=len(self_logged),
        self_reported_minutes=round(own_minutes, 1),
    )


VERIFICATION_WORDS = {"verified": "checked at the device's worst case",
                      "blocked": "refused by the safety check",
                      "not_verifiable": "not checkable on this device"}


def _self_logged(row: SelfLoggedSession) -> dict:
    return {"id": row.id, "started_at": row.started_at, "provenance": row.provenance,
            "profile_id": row.profile_id, "programme_id": row.programme_id,
            "minutes": row.minutes, "as_prescribed": row.as_prescribed,
            "settings": dict(row.settings or {}), "amplitude_ma": row.amplitude_ma,
            "felt": row.felt, "nrs_pre": row.nrs_pre, "nrs_post": row.nrs_post,
            "skin": row.skin, "problems": list(row.problems or ()),
            "verification": VERIFICATION_WORDS.get(row.verification.get("status"), "unknown"),
            "flagged": row.flagged, "flag_reasons": list(row.flag_reasons or ()),
            "acknowledged_by": row.acknowledged_by}


def settings_text(settings: dict) -> str:
    """A self-logged session's settings in one line with units."""
    units = {"frequency_hz": ("rate", "Hz"), "phase_width_us": ("width", "µs"),
             "burst_frequency_hz": ("burst rate", "Hz"), "level": ("level", ""),
             "amplitude_ma": ("current", "mA")}
    return ", ".join(f"{units[k][0]} {v:g} {units[k][1]}".strip()
                     for k, v in settings.items() if k in units) or "–"


def _weekly_pain(series) -> list[WeeklyPain]:
    weeks: dict[int, list[float]] = {}
    for day, value in zip(series.pain.day, series.pain.nrs, strict=True):
        weeks.setdefault(int(day) // DAYS_PER_WEEK, []).append(float(value))
    return [
        WeeklyPain(week, series.therapy_start + timedelta(days=week * DAYS_PER_WEEK),
                   len(values), round(sum(values) / len(values), 2))
        for week, values in sorted(weeks.items())
    ]


def progress_report(db: Database, actor: Actor, pseudonym: str,
                    as_of: date | None = None,
                    request: ReportRequest | None = None) -> ProgressReport:
    """The progress (or, at the end of care, discharge) report; reading it is audited. A plan
    is stated only by a clinician (others get an :class:`AccessDeniedError`)."""
    request = request or ReportRequest()
    if request.plan is not None:
        require(actor, "write_clinical", pseudonym)

    def read(session):
        return (r.get_patient(session, actor, pseudonym),
                load_series(session, actor, pseudonym, as_of),
                r.list_prescriptions(session, actor, pseudonym),
                list_sessions(session, actor, pseudonym),
                r.list_adverse_events(session, actor, pseudonym),
                r.list_instrument_scores(session, actor, pseudonym),
                list_self_logged(session, actor, pseudonym),
                load_schedule(session, actor, pseudonym))

    (patient, series, prescriptions, sessions, events, scores, own,
     schedule) = audited_read(db, actor, pseudonym, "report", read)
    assessment = assess(series)
    weekly = None if schedule is None else weekly_adherence(series, schedule)
    verdict = assessment.verdict
    started = bool(len(series.sessions))
    last_day = series.therapy_start + timedelta(days=series.as_of_day)
    return ProgressReport(
        pseudonym=patient.pseudonym,
        enrolled_on=patient.enrolled_on,
        generated_at=datetime.now(UTC),
        therapy_start=series.therapy_start if started else None,
        prescriptions=_prescription_lines(prescriptions),
        adherence=_adherence(
            sessions, [x for x in own if x.started_at.astimezone(UTC).date() <= last_day],
            series.sessions_per_week, last_day),
        baseline_nrs=verdict.baseline.mean_nrs,
        current_nrs=verdict.current.mean_nrs,
        reduction_nrs=verdict.reduction_nrs,
        reduction_fraction=verdict.reduction_fraction,
        responder_cutoff_nrs=responder_cutoff(verdict.baseline.mean_nrs),
        minimal_important_change_nrs=DEFAULT_MID_NRS,
        weekly_pain=_weekly_pain(series) if started else [],
        verdict_category=verdict.category,
        verdict_label=verdict.label,
        verdict_reasons=verdict.reasons,
        instruments=[
            {"instrument": s.instrument, "answered_on": s.answered_on, "total": s.total,
             "max_total": s.max_total, "interpretation": s.score.get("interpretation")}
            for s in scores
        ],
        adverse_events=[_event(e) for e in events],
        sessions=[{"id": x.id, "started_at": x.started_at, "outcome": x.outcome,
                   "minutes": round(x.stimulation_s / 60, 1),
                   "max_amplitude_ma": x.max_amplitude_ma, "nrs_pre": x.nrs_pre,
                   "nrs_post": x.nrs_post} for x in sessions],
        kind=request.kind,
        plan=None if request.plan is None else PLANS[request.plan],
        plan_by=None if request.plan is None else actor.username,
        self_logged=[_self_logged(x) for x in own],
        weekly_adherence=None if weekly is None else weekly.to_dict(),
        data_provenance=assessment.provenance.statement,
    )


def _event(e) -> dict:
    return {"occurred_at": e.occurred_at, "kind": e.kind, "severity": e.severity,
            "body_site": e.body_site, "session_id": e.session_id,
            "description": e.description or ""}


_SESSION_FIELDS = (
    "id", "provenance", "protocol_id", "prescription_id", "plan_fingerprint", "device",
    "started_at", "ended_at", "outcome", "reason", "stimulation_s", "max_amplitude_ma",
    "mean_amplitude_ma", "max_charge_per_phase_uc", "frequency_hz", "phase_width_us",
    "habituation_increases", "nrs_pre", "nrs_post", "skin_pre", "skin_post", "faults", "events",
)


def session_report(db: Database, actor: Actor, pseudonym: str, session_id: int) -> SessionReport:
    """One delivered session with its dose, outcome and adverse events."""

    def read(session):
        return (list_sessions(session, actor, pseudonym),
                r.list_adverse_events(session, actor, pseudonym))

    sessions, events = audited_read(db, actor, pseudonym, "session_report", read)
    entry = next((s for s in sessions if s.id == session_id), None)
    if entry is None:
        raise InputError(FieldProblem("session_id", session_id,
                                      f"the id of one of {pseudonym}'s sessions"))
    return SessionReport(
        pseudonym=pseudonym,
        generated_at=datetime.now(UTC),
        session={name: getattr(entry, name) for name in _SESSION_FIELDS},
        adverse_events=[_event(e) for e in events if e.session_id == session_id],
    )


# --------------------------------------------------------------------------- PDF


def adherence_text(a: Adherence) -> str:
    """The adherence paragraph, naming how many sessions were self-reported."""
    own = (f", {a.self_reported_sessions} of them self-reported ({a.self_reported_minutes:.0f} "
           "minutes, logged by the person from their own device)"
           if a.self_reported_sessions else "")
    return (f"{a.sessions} sessions{own} ({a.completed_sessions} completed on a device stimwise "
            f"drove) on {a.days_with_session} of {a.therapy_days} days; {a.total_minutes:.0f} "
            f"minutes of stimulation ({_num(a.minutes_per_week, 0)} per week); "
            f"{_num(a.sessions_per_week, 2)} sessions per week, prescribed "
            f"{_num(a.prescribed_per_week, 0)}")


def _num(value, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def progress_pdf(report: ProgressReport) -> bytes:
    pdf = _pdf(f"{report.title} — {report.pseudonym}")
    pdf.set_font("DejaVu", "", 9.5)
    _line(pdf, f"Enrolled {report.enrolled_on}; therapy started "
               f"{report.therapy_start or 'not yet'}; generated "
               f"{report.generated_at:%Y-%m-%d %H:%M} UTC.")
    _heading(pdf, "Decision")
    pdf.set_font("DejaVu", "B", 10)
    _line(pdf, f"Verdict: {report.verdict_label}")
    pdf.set_font("DejaVu", "", 9.5)
    for reason in report.verdict_reasons:
        _line(pdf, f"• {reason}")
    if report.plan is not None:
        _line(pdf, f"Clinician's plan: {report.plan} ({report.plan_by}).")
    _heading(pdf, "Outcome against the minimal important change")
    _line(pdf, f"Baseline pain {_num(report.baseline_nrs, 2)}; latest window "
               f"{_num(report.current_nrs, 2)}; reduction {_num(report.reduction_nrs, 2)} points"
               + (f" ({report.reduction_fraction:.0%})" if report.reduction_fraction is not None
                  else "")
               + f"; minimal important change {report.minimal_important_change_nrs:g} point "
                 "(10-20 %, IMMPACT)"
               + f"; responder cut-off (≥ 30 % and ≥ 2 points): pain ≤ "
                 f"{_num(report.responder_cutoff_nrs, 2)}.")
    _table(pdf, ["week", "from", "diary days", "mean pain NRS"],
           [[str(w.week + 1), str(w.first_day), str(w.entries), f"{w.mean_nrs:.2f}"]
            for w in report.weekly_pain])
    _heading(pdf, "Adherence")
    a = report.adherence
    _line(pdf, adherence_text(a) + ".")
    if report.data_provenance:
        _line(pdf, f"Data: {report.data_provenance}.")
    weekly = report.weekly_adherence
    if weekly is not None:
        _table(pdf, ["week", "complete", "days", "sessions", "self-reported", "minutes"],
               [[str(w["week"] + 1), "yes" if w["complete"] else "so far",
                 f"{w['days_with_session']} / {weekly['schedule']['days_per_week']}",
                 f"{w['sessions']} / {weekly['schedule']['sessions_per_week']}",
                 str(w["self_reported_sessions"]),
                 f"{w['minutes']:.0f} / {weekly['schedule']['minutes_per_week']:g}"]
                for w in weekly["weeks"]])
    _heading(pdf, "Sessions on the person's own device (self-reported)")
    _table(pdf, ["started", "device", "min", "settings", "pain", "check", "flags"],
           [[f"{x['started_at']:%Y-%m-%d %H:%M}", x["profile_id"], f"{x['minutes']:g}",
             ("as prescribed; " if x["as_prescribed"] else "") + settings_text(x["settings"]),
             f"{_num(x['nrs_pre'])} → {_num(x['nrs_post'])}", x["verification"],
             "; ".join(x["flag_reasons"]) or "–"] for x in report.self_logged])
    _heading(pdf, "Parameter history")
    _table(pdf, ["from", "to", "protocol", "mA", "Hz", "µs", "min", "/week", "home", "locked"],
           [[str(p.valid_from), p.ended, p.protocol_id, _num(p.amplitude_ma),
             _num(p.frequency_hz, 0), _num(p.phase_width_us, 0), _num(p.session_duration_min, 0),
             str(p.sessions_per_week), "yes" if p.home_use else "no", p.locked]
            for p in report.prescriptions])
    _heading(pdf, "Instruments")
    _table(pdf, ["instrument", "answered", "total", "interpretation"],
           [[i["instrument"], str(i["answered_on"] or "–"),
             f"{_num(i['total'], 1)} / {_num(i['max_total'], 0)}", str(i["interpretation"])]
            for i in report.instruments])
    _heading(pdf, "Adverse events")
    _table(pdf, ["when", "kind", "severity", "site", "session", "description"],
           [[f"{e['occurred_at']:%Y-%m-%d %H:%M}", e["kind"], e["severity"],
             e["body_site"] or "–", str(e["session_id"] or "–"), e["description"] or "–"]
            for e in report.adverse_events])
    _heading(pdf, "Notice")
    _line(pdf, report.notice)
    return bytes(pdf.output())


def session_pdf(report: SessionReport) -> bytes:
    s = report.session
    pdf = _pdf(f"Session report — {report.pseudonym}, session {s['id']}")
    pdf.set_font("DejaVu", "", 9.5)
    _table(pdf, ["field", "value"], [[name.replace("_", " "), _plain(value)]
                                     for name, value in s.items()])
    _heading(pdf, "Adverse events of this session")
    _table(pdf, ["when", "kind", "severity", "site", "description"],
           [[f"{e['occurred_at']:%Y-%m-%d %H:%M}", e["kind"], e["severity"],
             e["body_site"] or "–", e["description"] or "–"] for e in report.adverse_events])
    _heading(pdf, "Notice")
    _line(pdf, report.notice)
    return bytes(pdf.output())


def _plain(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "none"
    return str(value)
