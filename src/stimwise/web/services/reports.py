"""Session, progress and discharge reports a clinician signs: the data, and the document drawn
as a web page and as a PDF.

A progress report gathers what a payer or a referring clinician asks for: the parameter history
(every prescription with its dose, home-use ranges and review date), adherence over each
prescription's period against what it planned for that time (days, sessions and minutes; never
a weekly rate extrapolated from a few days), the pain trend against the person's baseline, the
minimal important change (1 NRS point, about 10-20 %: IMMPACT, Dworkin et al. 2008 [C]; the
rounding is stimwise's [U], see :mod:`stimwise.analysis.nof1`) and the responder cut-off (≥ 30 %
and ≥ 2 points, Dworkin et al. 2008 [C]; see :mod:`stimwise.analysis.responder`), instrument
scores, adverse events and the verdict. A discharge report adds a summary of care: what was
delivered in all, the outcome against baseline, the adverse events and the advice given. A
session report gives one session's dose, outcome, faults, pain and skin checks.

Every report states only what the records show: the verdict's own wording (with "not enough
data yet" and "borderline" where they apply), no promise of relief, and the notice that stimwise
is not a certified medical device (HAZ-068). Each is drawn from one
:class:`~stimwise.interop.report_document.ReportDocument` (the clinic's letterhead, the clinician's
name, a signature and date line, the prescription fingerprint shortened to a footer), in words
and units (:mod:`stimwise.web.services.wording`), so the page and the PDF say the same. The JSON
of the API keeps the record's own values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from stimwise.analysis.adherence import (
    PeriodAdherence,
    Schedule,
    SessionDone,
    period_adherence,
    weekly_adherence,
)
from stimwise.analysis.assessment import assess
from stimwise.analysis.from_records import load_schedule, load_series
from stimwise.analysis.nof1 import DEFAULT_MID_NRS
from stimwise.clinical.instruments import INSTRUMENTS
from stimwise.device.profiles import profiles
from stimwise.errors import FieldProblem, InputError
from stimwise.interop.report_document import (
    Cell,
    Letterhead,
    ReportDocument,
    Section,
    Table,
    cells,
    short_fingerprint,
)
from stimwise.protocol.base import StrictModel
from stimwise.protocol.library import library
from stimwise.protocol.site_names import site_label, site_words
from stimwise.records import repository as r
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.models import PrescriptionRecord, SelfLoggedSession, SessionEntry
from stimwise.records.self_logged import list_self_logged
from stimwise.records.sessions import list_sessions, session_summaries
from stimwise.web.services import wording as w
from stimwise.web.services.audit import audited_read
from stimwise.web.services.response import responder_cutoff, start_note
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
ADVICE: dict[str, str] = {
    "stop_and_return": "Stop using the stimulator; return any clinic device.",
    "continue_home": "Carry on at home within the prescribed ranges; see your clinician or GP "
                     "if pain, skin or swelling gets worse.",
    "see_gp": "See your GP about the next treatment; this report goes with you.",
    "referred": "You are referred for another treatment; the clinic you are referred to will "
                "contact you.",
}
"""The advice a discharge report may give, from a fixed list like the plans."""
KIND_TITLES = {"progress": "Progress report", "discharge": "Discharge report"}


class ReportRequest(StrictModel):
    """What kind of report, the plan the clinician records in it and, at discharge, the
    advice."""

    kind: ReportKind = "progress"
    plan: Literal[tuple(PLANS)] | None = None  # type: ignore[valid-type]
    advice: Literal[tuple(ADVICE)] | None = None  # type: ignore[valid-type]


@dataclass(frozen=True)
class Clinic:
    """Who issues the reports and the time zone they speak in (the web settings)."""

    name: str = ""
    address: str = ""
    phone: str = ""
    time_zone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def letterhead(self) -> Letterhead:
        return Letterhead(self.name, self.address, self.phone)

    @classmethod
    def from_settings(cls, settings) -> Clinic:
        return cls(settings.clinic_name, settings.clinic_address, settings.clinic_phone,
                   settings.report_time_zone)


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
    review_on: date | None = None
    protocol_name: str = ""
    fingerprint: str = ""
    locked_words: str = ""
    """The home ranges in words and units ("amplitude 1.0–8.0 mA; pulse rate 80–150 Hz")."""
    prescribed_by_name: str = ""
    """The prescriber's display name (their user name when none is set)."""

    @property
    def ended(self) -> str:
        """When it ended, in words: its end date, or the day another replaced it."""
        if self.superseded_on is not None:
            return f"{w.day_text(self.superseded_on)} (replaced)"
        return "–" if self.valid_to is None else w.day_text(self.valid_to)

    @property
    def last_day(self) -> date | None:
        """The last day it was in force (a replaced one ends the day before it was replaced)."""
        if self.superseded_on is not None:
            return self.superseded_on - timedelta(days=1)
        return self.valid_to

    @property
    def pulses_text(self) -> str:
        if self.frequency_hz is None:
            return "carrier waveform"
        return f"{w.frequency_text(self.frequency_hz)}, {w.width_text(self.phase_width_us)}"

    @property
    def sessions_text(self) -> str:
        return (f"{w.planned_minutes_text(self.session_duration_min)}, "
                f"{self.sessions_per_week} a week")


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
    """Only once a whole week of therapy has passed (None before: no extrapolation)."""
    sessions_per_week: float | None
    prescribed_per_week: float | None
    self_reported_sessions: int = 0
    """Of ``sessions``, those the person logged from their own device (provenance
    ``self_reported``); ``completed_sessions`` counts device-recorded sessions only."""
    self_reported_minutes: float = 0.0


@dataclass(frozen=True)
class PeriodLine:
    """Adherence over one prescription's period (see :func:`period_adherence`)."""

    prescription_id: int
    protocol_name: str
    adherence: PeriodAdherence

    def to_dict(self) -> dict:
        a = self.adherence
        return {"prescription_id": self.prescription_id, "protocol_name": self.protocol_name,
                "first_day": a.first_day, "last_day": a.last_day, "days": a.days,
                "sessions": a.sessions, "self_reported_sessions": a.self_reported_sessions,
                "minutes": a.minutes, "days_with_session": a.days_with_session,
                "planned_sessions": a.planned_sessions, "planned_minutes": a.planned_minutes,
                "planned_sessions_per_week": a.schedule.sessions_per_week,
                "sessions_share": a.sessions_share, "minutes_share": a.minutes_share}


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
    therapy_start_note: str | None
    """Who set the therapy start and why, and the sessions before it left out (None: the
    first delivered session's day)."""
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
    periods: list[PeriodLine] = field(default_factory=list)
    """Adherence over each prescription's period, oldest first."""
    advice: str | None = None
    clinician: str | None = None
    """The name of the clinician who prepared it (None when it was not a clinician)."""

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def current(self) -> PrescriptionLine | None:
        """The latest prescription that has begun (the one the footer's fingerprint names)."""
        begun = [p for p in self.prescriptions if p.valid_from <= self.generated_at.date()]
        return (begun or self.prescriptions or [None])[-1]

    def to_dict(self) -> dict:
        document = asdict(self)
        document["periods"] = [p.to_dict() for p in self.periods]
        return _jsonable(document)


@dataclass(frozen=True)
class SessionReport:
    pseudonym: str
    generated_at: datetime
    session: dict
    adverse_events: list[dict] = field(default_factory=list)
    notice: str = NOTICE
    prescription: dict | None = None
    """The prescription it was delivered under: protocol name, electrodes, ceiling, dates."""
    clinician: str | None = None

    def to_dict(self) -> dict:
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

RANGE_WORDS = {"amplitude_ma": ("amplitude", w.amplitude_text),
               "frequency_hz": ("pulse rate", w.frequency_text),
               "phase_width_us": ("phase width", w.width_text),
               "session_duration_min": ("session", w.planned_minutes_text)}


def _locked_text(locked: dict | None) -> str:
    """The home ranges as the record names them (the API's ``locked``)."""
    if not locked:
        return "none (clinic use)"
    return ", ".join(range_words(name, span["min"], span["max"])
                     for name, span in locked.items() if span)


def locked_words(locked: dict | None) -> str:
    """The home ranges in words and units: "amplitude 1.0 mA–8.0 mA; pulse rate ..."."""
    if not locked:
        return "none (clinic use only)"
    return "; ".join(f"{RANGE_WORDS[name][0]} {RANGE_WORDS[name][1](span['min'])} to "
                     f"{RANGE_WORDS[name][1](span['max'])}"
                     for name, span in locked.items() if span and name in RANGE_WORDS)


def _prescription_lines(rows, names: dict[str, str] | None = None) -> list[PrescriptionLine]:
    lines = []
    names = names or {}
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
            review_on=row.review_on, protocol_name=rx["protocol"]["name"],
            fingerprint=row.fingerprint, locked_words=locked_words(row.locked_ranges),
            prescribed_by_name=names.get(row.prescribed_by, row.prescribed_by),
        ))
    return lines


def prescription_history(db: Database, actor: Actor, pseudonym: str) -> list[PrescriptionLine]:
    """Every prescription of the patient, oldest first (an audited read)."""

    def read(session):
        rows = r.list_prescriptions(session, actor, pseudonym)
        return _prescription_lines(rows, r.display_names(session, {x.prescribed_by
                                                                   for x in rows}))

    return audited_read(db, actor, pseudonym, "prescriptions", read)


def _adherence(sessions: list, self_logged: list[SelfLoggedSession],
               prescribed_per_week: float | None, as_of: date) -> Adherence:
    """Sessions of both provenances: delivered by a device stimwise drove, and self-logged.
    Weekly rates are given only after a whole week of therapy (issue 16)."""
    delivered = [s for s in sessions if s.stimulation_s > 0]
    starts = [s.started_at for s in delivered] + [x.started_at for x in self_logged]
    days = sorted({t.astimezone(UTC).date() for t in starts})
    own_minutes = sum(x.minutes for x in self_logged)
    minutes = sum(s.stimulation_s for s in delivered) / 60 + own_minutes
    count = len(delivered) + len(self_logged)
    therapy_days = (as_of - days[0]).days + 1 if days else 0
    weeks = therapy_days / DAYS_PER_WEEK if therapy_days >= DAYS_PER_WEEK else None
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


def prescription_periods(lines: list[PrescriptionLine], sessions: list[SessionEntry],
                         self_logged: list[SelfLoggedSession], as_of: date,
                         zone: ZoneInfo) -> list[PeriodLine]:
    """Adherence over each prescription's period, from its first day to ``as_of`` or its last
    day, against what it planned for that time. A session counts for the prescription it was
    delivered or logged under; one without a prescription counts for the one in force that day
    (days in the clinic's time zone)."""
    done = [(s.prescription_id, SessionDone(s.started_at.astimezone(zone).date(),
                                            s.stimulation_s / 60))
            for s in sessions if s.stimulation_s > 0]
    done += [(x.prescription_id, SessionDone(x.started_at.astimezone(zone).date(), x.minutes,
                                             True)) for x in self_logged]
    periods = []
    for line in lines:
        last = min(d for d in (as_of, line.last_day) if d is not None)
        mine = [d for linked, d in done if linked == line.id
                or (linked is None and line.valid_from <= d.day <= last)]
        schedule = Schedule(sessions_per_week=line.sessions_per_week,
                            sessions_per_day=1, session_minutes=line.session_duration_min)
        periods.append(PeriodLine(line.id, line.protocol_name,
                                  period_adherence(line.valid_from, last, schedule, mine)))
    return periods


VERIFICATION_WORDS = {"verified": "checked at the device's worst case",
                      "blocked": "refused by the safety check",
                      "not_verifiable": "not checkable on this device"}


def _device_name(profile_id: str, programme_id: str | None) -> str:
    profile = profiles().get(profile_id)
    if profile is None:
        return "another device"
    programme = profile.programme(programme_id) if programme_id else None
    return profile.name + (f", {programme.name}" if programme is not None else "")


def _self_logged(row: SelfLoggedSession) -> dict:
    return {"id": row.id, "started_at": row.started_at, "provenance": row.provenance,
            "profile_id": row.profile_id, "programme_id": row.programme_id,
            "device": _device_name(row.profile_id, row.programme_id),
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


def _clinician_name(session, actor: Actor) -> str | None:
    """The preparing clinician's display name (None for anyone else: left blank to sign)."""
    if actor.role != "clinician":
        return None
    return r.display_names(session, [actor.username])[actor.username]


def progress_report(db: Database, actor: Actor, pseudonym: str,
                    as_of: date | None = None,
                    request: ReportRequest | None = None,
                    zone: ZoneInfo | None = None) -> ProgressReport:
    """The progress (or, at the end of care, discharge) report; reading it is audited. A plan
    or advice is stated only by a clinician (others get an :class:`AccessDeniedError`)."""
    request = request or ReportRequest()
    zone = zone or ZoneInfo("UTC")
    if request.plan is not None or request.advice is not None:
        require(actor, "write_clinical", pseudonym)

    def read(session):
        prescriptions = r.list_prescriptions(session, actor, pseudonym)
        return (r.get_patient(session, actor, pseudonym),
                load_series(session, actor, pseudonym, as_of),
                prescriptions,
                session_summaries(session, actor, pseudonym),
                r.list_adverse_events(session, actor, pseudonym),
                r.list_instrument_scores(session, actor, pseudonym),
                list_self_logged(session, actor, pseudonym),
                load_schedule(session, actor, pseudonym),
                r.display_names(session, {x.prescribed_by for x in prescriptions}),
                _clinician_name(session, actor))

    (patient, series, prescriptions, sessions, events, scores, own, schedule, names,
     clinician) = audited_read(db, actor, pseudonym, "report", read)
    assessment = assess(series)
    weekly = None if schedule is None else weekly_adherence(series, schedule)
    verdict = assessment.verdict
    started = bool(len(series.sessions))
    last_day = series.therapy_start + timedelta(days=series.as_of_day)
    now = datetime.now(UTC)
    lines = _prescription_lines(prescriptions, names)
    own_so_far = [x for x in own if x.started_at.astimezone(UTC).date() <= last_day]
    today = as_of or now.astimezone(zone).date()
    return ProgressReport(
        pseudonym=patient.pseudonym,
        enrolled_on=patient.enrolled_on,
        generated_at=now,
        therapy_start=series.therapy_start if started else None,
        therapy_start_note=_start_text(patient, series),
        prescriptions=lines,
        adherence=_adherence(sessions, own_so_far, series.sessions_per_week,
                             max(today, last_day)),
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
            {"instrument": s.instrument, "name": _instrument_name(s.instrument),
             "answered_on": s.answered_on, "total": s.total, "max_total": s.max_total,
             "interpretation": s.score.get("interpretation")}
            for s in scores
        ],
        adverse_events=[_event(e) for e in events],
        sessions=[{"id": x.id, "started_at": x.started_at, "outcome": x.outcome,
                   "minutes": round(x.stimulation_s / 60, 1),
                   "stimulation_s": x.stimulation_s,
                   "max_amplitude_ma": x.max_amplitude_ma, "nrs_pre": x.nrs_pre,
                   "nrs_post": x.nrs_post} for x in sessions],
        kind=request.kind,
        plan=None if request.plan is None else PLANS[request.plan],
        plan_by=None if request.plan is None else clinician,
        self_logged=[_self_logged(x) for x in own],
        weekly_adherence=None if weekly is None else weekly.to_dict(),
        data_provenance=assessment.provenance.statement,
        periods=prescription_periods(lines, sessions, own, today, zone),
        advice=None if request.advice is None else ADVICE[request.advice],
        clinician=clinician,
    )


def _instrument_name(instrument: str) -> str:
    spec = INSTRUMENTS.get(instrument)
    return spec.name if spec is not None else instrument.replace("_", " ")


def _event(e) -> dict:
    return {"occurred_at": e.occurred_at, "kind": e.kind, "severity": e.severity,
            "body_site": e.body_site, "session_id": e.session_id,
            "description": e.description or ""}


_SESSION_FIELDS = (
    "id", "provenance", "protocol_id", "prescription_id", "plan_fingerprint", "device",
    "started_at", "ended_at", "outcome", "reason", "stimulation_s", "max_amplitude_ma",
    "mean_amplitude_ma", "max_charge_per_phase_uc", "frequency_hz", "phase_width_us",
    "habituation_increases", "nrs_pre", "nrs_post", "skin_pre", "skin_post", "faults", "events",
    "minutes_at_amplitude", "calibration",
)


def _prescription_summary(row: PrescriptionRecord | None) -> dict | None:
    if row is None:
        return None
    rx = row.prescription
    return {"id": row.id, "protocol_name": rx["protocol"]["name"],
            "max_amplitude_ma": rx["max_amplitude_ma"], "valid_from": row.valid_from,
            "review_on": row.review_on, "fingerprint": row.fingerprint,
            "channels": [{"label": ch["label"],
                          "sites": [e["site"] for e in ch["electrodes"]],
                          "area_cm2": ch["electrodes"][0]["area_cm2"]}
                         for ch in rx["channels"]]}


def session_report(db: Database, actor: Actor, pseudonym: str, session_id: int) -> SessionReport:
    """One delivered session with its dose, outcome, prescription and adverse events."""

    def read(session):
        return (list_sessions(session, actor, pseudonym),
                r.list_adverse_events(session, actor, pseudonym),
                r.list_prescriptions(session, actor, pseudonym),
                _clinician_name(session, actor))

    sessions, events, prescriptions, clinician = audited_read(
        db, actor, pseudonym, "session_report", read)
    entry = next((s for s in sessions if s.id == session_id), None)
    if entry is None:
        raise InputError(FieldProblem("session_id", session_id,
                                      f"the id of one of {pseudonym}'s sessions"))
    under = next((p for p in prescriptions if p.id == entry.prescription_id), None)
    return SessionReport(
        pseudonym=pseudonym,
        generated_at=datetime.now(UTC),
        session={name: getattr(entry, name) for name in _SESSION_FIELDS},
        adverse_events=[_event(e) for e in events if e.session_id == session_id],
        prescription=_prescription_summary(under),
        clinician=clinician,
    )


# --------------------------------------------------------------------------- documents


def _prepared(when: datetime, clinic: Clinic, clinician: str | None) -> str:
    by = f" by {clinician}" if clinician else ""
    return (f"Prepared{by} on {w.time_text(when, clinic.zone)} (times in {clinic.time_zone}); "
            "every figure comes from the records.")


def _subject(pseudonym: str) -> str:
    return f"Patient {pseudonym} (pseudonymous code)"


def _events_table(events: list[dict], pseudonym: str, zone: ZoneInfo,
                  sessions: dict[int, datetime] | None = None) -> Table:
    rows = []
    for e in events:
        session_cell = Cell("–")
        if e["session_id"] is not None and sessions is not None:
            started = sessions.get(e["session_id"])
            session_cell = Cell(
                w.time_text(started, zone) if started else "a session",
                f"/patients/{pseudonym}/sessions/{e['session_id']}/report")
        row = [Cell(w.time_text(e["occurred_at"], zone)), Cell(w.event_kind_text(e["kind"])),
               Cell(w.severity_text(e["severity"])),
               Cell(site_label(e["body_site"]) if e["body_site"] else "–")]
        if sessions is not None:
            row.append(session_cell)
        row.append(Cell(e["description"] or "–"))
        rows.append(tuple(row))
    header = ("When", "What", "Severity", "Where", *(("Session",) if sessions is not None
                                                     else ()), "The person's words")
    return Table(header, tuple(rows), empty="None recorded.")


def period_text(period: PeriodLine) -> str:
    """One prescription's period in a sentence: what was done against what was planned for
    the days so far (a rate only after whole weeks)."""
    a = period.adherence
    if a.days <= 0:
        return (f"{period.protocol_name}, from {w.day_text(a.first_day)}: not begun yet.")
    plan = a.schedule
    done = (f"{w.count_text(a.sessions, 'session')} on {a.days_with_session} of "
            f"{w.count_text(a.days, 'day')}, {w.minutes_text(a.minutes)} of stimulation")
    if a.self_reported_sessions:
        done += f" ({a.self_reported_sessions} self-reported)"
    planned = (f"planned {plan.sessions_per_week} a week of "
               f"{w.planned_minutes_text(plan.session_minutes)}, that is "
               f"{w.count_text(round(a.planned_sessions, 1), 'session')} "
               f"({w.planned_minutes_text(a.planned_minutes)}) in {w.count_text(a.days, 'day')}")
    share = ""
    if a.sessions_share is not None and a.minutes_share is not None:
        share = (f"; {a.sessions_share:.0%} of the planned sessions and {a.minutes_share:.0%} "
                 "of the planned minutes")
    return (f"{period.protocol_name}, {w.day_text(a.first_day)} to {w.day_text(a.last_day)}: "
            f"{done}; {planned}{share}.")


def adherence_text(a: Adherence) -> str:
    """The whole therapy in one sentence, naming how many sessions were self-reported (a
    weekly rate only once a whole week has passed)."""
    own = (f", {a.self_reported_sessions} of them self-reported ({a.self_reported_minutes:.0f} "
           "minutes, logged by the person from their own device)"
           if a.self_reported_sessions else "")
    text = (f"{w.count_text(a.sessions, 'session')}{own} ({a.completed_sessions} completed on "
            f"a device stimwise drove) on {a.days_with_session} of "
            f"{w.count_text(a.therapy_days, 'day')} of therapy; "
            f"{w.minutes_text(a.total_minutes)} of stimulation")
    if a.sessions_per_week is not None and a.minutes_per_week is not None:
        text += (f"; on average {a.sessions_per_week:.1f} sessions and "
                 f"{w.minutes_text(a.minutes_per_week)} a week")
    return text


def _start_text(patient, series) -> str | None:
    note = start_note(patient)
    if note is None:
        return None
    text = f"set by {note.set_by}" + (f": {note.reason}" if note.reason else "")
    before = series.sessions_before_start
    if before:
        text += f"; {before} earlier session{'s' if before > 1 else ''} left out of the analysis"
    return text


def _outcome_paragraph(rep: ProgressReport) -> str:
    if rep.baseline_nrs is None:
        return "No baseline pain is recorded, so the change cannot be judged yet."
    text = (f"Baseline pain {w.nrs_text(rep.baseline_nrs)} (0–10); latest window "
            f"{w.nrs_text(rep.current_nrs)}")
    if rep.reduction_nrs is not None:
        text += f"; reduction {rep.reduction_nrs:.1f} points"
        if rep.reduction_fraction is not None:
            text += f" ({rep.reduction_fraction:.0%})"
        reaches = "reaches" if rep.reduction_nrs >= rep.minimal_important_change_nrs else \
            "does not reach"
        text += (f". The change {reaches} the minimal important change of "
                 f"{rep.minimal_important_change_nrs:g} point (about 10–20 %, IMMPACT)")
    if rep.responder_cutoff_nrs is not None:
        text += (f". Responder cut-off (at least 30 % and at least 2 points): pain at or below "
                 f"{w.nrs_text(round(rep.responder_cutoff_nrs, 1))}")
    return text + "."


def _discharge_section(rep: ProgressReport, zone: ZoneInfo) -> Section:
    a = rep.adherence
    device = a.sessions - a.self_reported_sessions
    span = (f" between {w.day_text(a.first_session)} and {w.day_text(a.last_session)}"
            if a.first_session else "")
    protocols = sorted({p.protocol_name for p in rep.prescriptions})
    delivered = (f"Delivered in all{span}: {w.count_text(device, 'session')} on a stimulator "
                 f"stimwise drove and {w.count_text(a.self_reported_sessions, 'session')} "
                 f"self-reported, {w.minutes_text(a.total_minutes)} of stimulation, under "
                 f"{w.count_text(len(rep.prescriptions), 'prescription')}"
                 + (f" ({'; '.join(protocols)})" if protocols else "") + ".")
    kinds: dict[str, int] = {}
    for e in rep.adverse_events:
        key = f"{w.event_kind_text(e['kind']).lower()} ({w.severity_text(e['severity']).lower()})"
        kinds[key] = kinds.get(key, 0) + 1
    events = ("Adverse events: none recorded." if not kinds else
              "Adverse events: " + "; ".join(f"{n} × {k}" for k, n in sorted(kinds.items()))
              + " (listed below).")
    paragraphs = [delivered, "Outcome against baseline: " + _outcome_paragraph(rep), events,
                  f"Verdict at discharge: {rep.verdict_label}."]
    paragraphs.append(f"Advice given: {rep.advice}" if rep.advice else
                      "Advice given: none stated (choose it when preparing the report).")
    return Section("Summary of care", tuple(paragraphs), key="summary")


def progress_document(rep: ProgressReport, clinic: Clinic) -> ReportDocument:
    """The progress or discharge report as a signed document (page and PDF)."""
    zone = clinic.zone
    current = rep.current
    facts = [("Enrolled", w.day_text(rep.enrolled_on)),
             ("Therapy started", (w.day_text(rep.therapy_start) if rep.therapy_start
                                  else "not yet")
              + (f" ({rep.therapy_start_note})" if rep.therapy_start_note else ""))]
    if current is not None:
        facts.append(("Current prescription",
                      f"{current.protocol_name}, from {w.day_text(current.valid_from)}"))
        facts.append(("Review on", w.day_text(current.review_on) if current.review_on
                      else "no review date set"))
    decision = Section("Decision", (f"Verdict: {rep.verdict_label}.",
                                    *[w.sentence(x) for x in rep.verdict_reasons],
                                    *([f"Clinician's plan: {rep.plan} ({rep.plan_by})."]
                                      if rep.plan else [])), key="decision")
    sections = [decision]
    if rep.kind == "discharge":
        sections.append(_discharge_section(rep, zone))
    sections.append(Section(
        "Outcome against the minimal important change", (_outcome_paragraph(rep),),
        tables=(Table(("Week", "From", "Diary days", "Mean pain (0–10)"), tuple(
            cells(str(p.week + 1) if p.week >= 0 else "Before therapy",
                  w.day_text(p.first_day), str(p.entries),
                  w.nrs_text(round(p.mean_nrs, 1))) for p in rep.weekly_pain),
            empty="No diary entries yet."),), key="outcome"))
    adherence_paragraphs = [period_text(p) for p in reversed(rep.periods)]
    adherence_paragraphs.append("All therapy: " + adherence_text(rep.adherence) + ".")
    if rep.data_provenance:
        adherence_paragraphs.append(f"Data: {rep.data_provenance}.")
    weekly = rep.weekly_adherence
    tables = ()
    if weekly is not None and weekly["weeks"]:
        plan = weekly["schedule"]
        tables = (Table(("Week", "Days with a session", "Sessions", "Of them self-reported",
                         "Minutes"), tuple(
            cells(f"{x['week'] + 1}" + ("" if x["complete"] else " (so far)"),
                  f"{x['days_with_session']} of {plan['days_per_week']}",
                  f"{x['sessions']} of {plan['sessions_per_week']}",
                  str(x["self_reported_sessions"]),
                  f"{w.minutes_text(x['minutes'])} of "
                  f"{w.planned_minutes_text(plan['minutes_per_week'])}")
            for x in weekly["weeks"]),
            caption="Week by week against the latest prescription (the week under way is not "
                    "counted in the shares)"),)
    sections.append(Section("Adherence", tuple(adherence_paragraphs), tables=tables,
                            key="adherence"))
    sections.append(Section("Parameter history", tables=(Table(
        ("From", "Until", "Protocol", "Amplitude ceiling", "Pulses", "Sessions", "Home range",
         "Review on", "Prescribed by"), tuple(
            (Cell(w.day_text(p.valid_from)), Cell(p.ended), Cell(p.protocol_name),
             Cell(w.amplitude_text(p.amplitude_ma)), Cell(p.pulses_text), Cell(p.sessions_text),
             Cell(p.locked_words), Cell(w.day_text(p.review_on) if p.review_on else "not set"),
             Cell(p.prescribed_by_name or p.prescribed_by))
            for p in rep.prescriptions), empty="No prescription recorded."),), key="history"))
    sections.append(Section("Instruments", tuple(
        f"{i['name']} ({w.day_text(i['answered_on']) if i['answered_on'] else 'undated'}): "
        f"{i['interpretation'] or 'no interpretation'}." for i in rep.instruments)
        or ("None recorded.",), key="instruments"))
    started = {s["id"]: s["started_at"] for s in rep.sessions}
    sections.append(Section("Adverse events", tables=(
        _events_table(rep.adverse_events, rep.pseudonym, zone, started),), key="events"))
    sections.append(Section("Sessions on the person's own device", (
        "Provenance: self-reported. The person did these on their own stimulator and logged "
        "them; the settings are what they read off it, not a recording.",),
        tables=(Table(("When", "Device", "Time", "Settings", "Pain before → after",
                       "Settings check", "Outside the prescription"), tuple(
            cells(w.time_text(x["started_at"], zone), x["device"],
                  w.minutes_text(x["minutes"]),
                  ("as prescribed; " if x["as_prescribed"] else "") + settings_text(
                      x["settings"]),
                  w.nrs_change_text(x["nrs_pre"], x["nrs_post"]), x["verification"],
                  "; ".join(x["flag_reasons"]) or "–")
            for x in reversed(rep.self_logged)), empty="None logged."),), key="own-device"))
    footer = short_fingerprint(current.fingerprint if current else None)
    return ReportDocument(
        title=f"{rep.title} — {rep.pseudonym}", subject=_subject(rep.pseudonym),
        letterhead=clinic.letterhead, prepared=_prepared(rep.generated_at, clinic,
                                                         rep.clinician),
        sections=tuple(sections), clinician=rep.clinician, notice=rep.notice,
        footer=(f"Prescription fingerprint {footer}" if footer else "No prescription")
        + f" · {rep.title} · {rep.pseudonym}",
        facts=tuple(facts))


def session_rows(rep: ProgressReport, clinic: Clinic) -> Table:
    """The device-recorded sessions, newest first, each linked to its report (web page)."""
    zone = clinic.zone
    return Table(("Started", "Outcome", "Stimulation", "Highest amplitude",
                  "Pain before → after"), tuple(
        (Cell(w.time_text(x["started_at"], zone),
              f"/patients/{rep.pseudonym}/sessions/{x['id']}/report"),
         Cell(w.OUTCOME_WORDS.get(x["outcome"], x["outcome"])),
         Cell(w.duration_text(x["stimulation_s"])), Cell(w.amplitude_text(x["max_amplitude_ma"])),
         Cell(w.nrs_change_text(x["nrs_pre"], x["nrs_post"])))
        for x in reversed(rep.sessions)), empty="None delivered yet.")


def _electrodes_text(prescription: dict | None) -> str:
    if prescription is None:
        return "not recorded (no prescription linked)"
    return "; ".join(
        f"{ch['label']}: {' and '.join(site_words(s) for s in ch['sites'])} "
        f"({ch['area_cm2']:g} cm² each)" for ch in prescription["channels"])


def _bands(minutes: dict | None) -> str:
    if not minutes:
        return "–"
    return "; ".join(f"{label.replace('-', ' to ')}: {w.duration_text(value * 60)}"
                     for label, value in minutes.items())


def _calibration(found: dict | None) -> tuple[tuple[str, str], ...]:
    if not found:
        return ()
    return (("Felt from", w.amplitude_text(found.get("sensation_threshold_ma"))),
            ("Muscle twitch from", w.amplitude_text(found.get("motor_threshold_ma"))
             if found.get("motor_threshold_ma") is not None else "not reached"),
            ("Level set", w.amplitude_text(found.get("target_ma"))
             + (" (the ceiling)" if found.get("ceiling_reached") else "")))


def _protocol_name(protocol_id: str) -> str:
    """A library protocol's name (a session without a linked prescription names only its
    protocol's id, which a person is never shown)."""
    protocol = library().get(protocol_id)
    return protocol.name if protocol is not None else "a protocol outside this library"


def session_document(rep: SessionReport, clinic: Clinic) -> ReportDocument:
    """One session's report as a signed document (page and PDF)."""
    s = rep.session
    zone = clinic.zone
    rx = rep.prescription
    ceiling = rx["max_amplitude_ma"] if rx else None
    facts = [("Date", w.day_text(s["started_at"], zone)),
             ("Time", f"{w.clock_text(s['started_at'], zone)} to "
                      f"{w.clock_text(s['ended_at'], zone)}"),
             ("Protocol", rx["protocol_name"] if rx else _protocol_name(s["protocol_id"])),
             ("Electrodes", _electrodes_text(rx)),
             ("Stimulator", s["device"])]
    if rx is not None:
        facts.append(("Prescription", f"from {w.day_text(rx['valid_from'])}, review on "
                      + (w.day_text(rx["review_on"]) if rx["review_on"] else "not set")))
    dose = (("Stimulation delivered", w.duration_text(s["stimulation_s"])),
            ("Highest amplitude", w.amplitude_against_ceiling(s["max_amplitude_ma"], ceiling)),
            *((("Amplitude ceiling", w.amplitude_text(ceiling)),) if ceiling is not None
              else ()),
            ("Average amplitude while stimulating", w.amplitude_text(s["mean_amplitude_ma"])),
            ("Pulse rate", w.frequency_text(s["frequency_hz"])),
            ("Phase width", w.width_text(s["phase_width_us"])),
            ("Charge per phase at the highest amplitude",
             w.charge_text(s["max_charge_per_phase_uc"])),
            *((("Time at each amplitude", _bands(s["minutes_at_amplitude"])),)
              if s["minutes_at_amplitude"] else ()),
            ("Raised for habituation", w.count_text(s["habituation_increases"], "time")))
    before_after = (("Pain before → after", w.nrs_change_text(s["nrs_pre"], s["nrs_post"])),
                    ("Skin before", w.skin_text(s["skin_pre"])),
                    ("Skin after", w.skin_text(s["skin_post"])),
                    *_calibration(s["calibration"]))
    faults = tuple(w.sentence(f) for f in s["faults"]) or ("None recorded.",)
    sections = (
        Section("Outcome", (w.outcome_text(s["outcome"], s["reason"]),), facts=dose,
                key="outcome"),
        Section("Before and after", facts=before_after, key="before-after"),
        Section("Faults and stops", faults, key="faults"),
        Section("Adverse events of this session", tables=(
            _events_table(rep.adverse_events, rep.pseudonym, zone),), key="events"),
        Section("Where this record comes from", (
            f"Provenance: {w.PROVENANCE_WORDS.get(s['provenance'], s['provenance'])}; "
            f"{w.count_text(s['events'], 'journal event')}.",), key="provenance"),
    )
    footer = short_fingerprint(s["plan_fingerprint"])
    return ReportDocument(
        title=f"Session report — {rep.pseudonym}", subject=_subject(rep.pseudonym),
        letterhead=clinic.letterhead, prepared=_prepared(rep.generated_at, clinic,
                                                         rep.clinician),
        sections=sections, clinician=rep.clinician, notice=rep.notice,
        footer=f"Plan fingerprint {footer} · Session report · {rep.pseudonym}",
        facts=tuple(facts))

