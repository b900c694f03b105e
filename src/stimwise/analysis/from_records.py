"""The bridge between the records database and the analysis.

* :func:`load_series` turns one person's diary and sessions into a :class:`PatientSeries`;
* :func:`cohort_records` turns simulated virtual people into records for bulk insertion;
* :func:`population_from_database` computes daily means and per-person counts with SQL
  aggregation (``GROUP BY`` on both SQLite and PostgreSQL) and classifies every person with the
  same :func:`~stimwise.analysis.responder.classify` as the per-person verdict.

Days are UTC calendar days. Therapy starts on the day a clinician set
(``patients.therapy_start_on``, see :mod:`stimwise.records.baseline`), otherwise on the day of
the first delivered session (the clinical start is when stimulation actually began). Sessions
before a clinician's later start (e.g. a fitting trial on the enrolment day) are left out, and
so are the diary days they fell on (not free of stimulation). The analysis day is the last day
with a diary entry or session unless one is given. The daily pain value is the mean "average
pain" of that day's entries (the current pain where no average was given), over all body
sites; a day is marked recalled when a clinician wrote it afterwards from the person's recall.
The intake's average-pain ratings answered in the 14 days before therapy (on its first day:
stored before the first session began) come with the series as a stand-in baseline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from stimwise.analysis.cohort import DOSE_SPACE, SYNTHETIC_PREFIX, SimulatedPatient
from stimwise.analysis.population import PopulationSummary, summarise
from stimwise.analysis.responder import BASELINE_DAYS, classify
from stimwise.analysis.series import DailyPain, IntakePain, PatientSeries, Sessions
from stimwise.errors import StimwiseError
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor, require
from stimwise.records.cohort import CohortPatient, insert_cohort
from stimwise.records.inputs import (
    AdverseEventIn,
    DiaryEntryIn,
    LockedRanges,
    PatientIn,
    PrescriptionIn,
    SessionIn,
    ValueSpan,
)
from stimwise.records.models import (
    AdverseEvent,
    DiaryEntry,
    InstrumentScoreRecord,
    Patient,
    PrescriptionRecord,
    SelfLoggedSession,
    SessionEntry,
)
from stimwise.records.repository import add_prescription, get_patient
from stimwise.safety.caps import PatientCaps
from stimwise.session.record import SessionRecord

EPOCH = date(1970, 1, 1)
NO_SESSIONS = Sessions.empty()
DIARY_HOUR_UTC = time(20, 0, tzinfo=UTC)
SESSION_HOUR_UTC = time(9, 0, tzinfo=UTC)
SYNTHETIC_DEVICE = "synthetic cohort (stimwise.analysis.cohort)"


def _day_key(column, dialect: str):
    """A per-day grouping key of a timestamp column that the database computes cheaply.

    SQLite stores UTC instants as ISO text, so the first ten characters are the UTC date (and
    follow the (patient, time) index order); PostgreSQL counts whole UTC days since 1970."""
    if dialect == "sqlite":
        return func.substr(column, 1, 10)
    return cast(func.floor(func.extract("epoch", column) / 86400.0), Integer)


def _key_to_day(key, dialect: str):
    """Whole UTC days since 1970-01-01 of a :func:`_day_key` value."""
    if dialect == "sqlite":
        return cast(func.julianday(key) - 2440587.5, Integer)
    return key


def _day_of(instant, dialect: str):
    """Whole UTC days since 1970-01-01 of one aggregated instant (e.g. ``min(started_at)``):
    the conversion runs once per group, not once per row."""
    return _key_to_day(_day_key(instant, dialect), dialect)


def _day(value: datetime | date) -> int:
    as_date = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    return (as_date - EPOCH).days


def _pain_value():
    return func.coalesce(DiaryEntry.pain_average_nrs, DiaryEntry.pain_current_nrs)


def _recalled_day():
    """1 for a day holding a recalled (retrospective) entry, else 0, per group of a day."""
    return func.max(cast(DiaryEntry.retrospective, Integer))


INTAKE_PAIN_INSTRUMENT = "pain_nrs"
INTAKE_PAIN_ITEM = "average"
"""The intake rating that can stand in for a baseline: average pain, as the diary's daily value
(clinical/instruments/ratings.py)."""


def _intake_pain(session: Session, patient_id: int, start: int,
                 first_session: datetime | None) -> tuple[IntakePain, ...]:
    """The intake's average-pain ratings answered in the baseline window or on the first day of
    therapy; one answered on a day with a session counts only if it was stored before that
    session began (otherwise it may describe pain after stimulation)."""
    rows = session.execute(
        select(InstrumentScoreRecord.answered_on, InstrumentScoreRecord.score,
               InstrumentScoreRecord.created_at)
        .where(InstrumentScoreRecord.patient_id == patient_id,
               InstrumentScoreRecord.instrument == INTAKE_PAIN_INSTRUMENT,
               InstrumentScoreRecord.answered_on.is_not(None))
        .order_by(InstrumentScoreRecord.answered_on, InstrumentScoreRecord.id)
    ).all()
    ratings = []
    for answered_on, score, created_at in rows:
        day = _day(answered_on) - start
        value = (score.get("subscores") or {}).get(INTAKE_PAIN_ITEM)
        after_session = (first_session is not None and _day(first_session) == _day(answered_on)
                         and created_at > first_session)
        if value is not None and -BASELINE_DAYS <= day <= 0 and not after_session:
            ratings.append(IntakePain(day, float(value)))
    return tuple(ratings)


def load_series(session: Session, actor: Actor, pseudonym: str,
                as_of: date | None = None) -> PatientSeries:
    """One person's series from the records (access checked as for any read)."""
    patient = get_patient(session, actor, pseudonym)
    dialect = session.get_bind().dialect.name
    diary_day = _day_key(DiaryEntry.recorded_at, dialect)
    diary = session.execute(
        select(_key_to_day(diary_day, dialect), func.avg(_pain_value()), _recalled_day())
        .where(DiaryEntry.patient_id == patient.id, _pain_value().is_not(None))
        .group_by(diary_day).order_by(diary_day)
    ).all()
    rows = session.execute(
        select(SessionEntry.started_at, SessionEntry.mean_amplitude_ma,
               SessionEntry.phase_width_us, SessionEntry.frequency_hz,
               SessionEntry.stimulation_s, SessionEntry.nrs_pre, SessionEntry.nrs_post,
               SessionEntry.id)
        .where(SessionEntry.patient_id == patient.id, SessionEntry.stimulation_s > 0)
        .order_by(SessionEntry.started_at)
    ).all()
    events = dict(session.execute(
        select(AdverseEvent.session_id, func.count())
        .where(AdverseEvent.patient_id == patient.id, AdverseEvent.session_id.is_not(None))
        .group_by(AdverseEvent.session_id)
    ).all())
    logged = session.execute(
        select(SelfLoggedSession.started_at, SelfLoggedSession.amplitude_ma,
               SelfLoggedSession.phase_width_us, SelfLoggedSession.frequency_hz,
               SelfLoggedSession.minutes, SelfLoggedSession.nrs_pre, SelfLoggedSession.nrs_post,
               SelfLoggedSession.problems)
        .where(SelfLoggedSession.patient_id == patient.id)
        .order_by(SelfLoggedSession.started_at)
    ).all()
    # One list of sessions in time order: (start, amplitude, width, rate, minutes, pre, post,
    # adverse events, self-reported).
    merged = sorted(
        [(r.started_at, r.mean_amplitude_ma, r.phase_width_us, r.frequency_hz,
          r.stimulation_s / 60, r.nrs_pre, r.nrs_post, events.get(r.id, 0), False)
         for r in rows]
        + [(r.started_at, r.amplitude_ma, r.phase_width_us, r.frequency_hz, r.minutes,
            r.nrs_pre, r.nrs_post, len(r.problems or ()), True) for r in logged],
        key=lambda item: item[0])
    absolute_days = [int(d) for d, _, _ in diary]
    session_days = [_day(m[0]) for m in merged]
    last_data = max(absolute_days[-1:] + session_days[-1:], default=_day(patient.enrolled_on))
    end = _day(as_of) if as_of is not None else last_data
    start = (_day(patient.therapy_start_on) if patient.therapy_start_on is not None
             else session_days[0] if session_days else None)
    if start is None:  # no therapy yet: every diary day is baseline, the verdict waits
        start = end + 1
    trial_days = {d for d in session_days if d < start}
    keep = [i for i, d in enumerate(absolute_days) if d <= end and d not in trial_days]
    pain = DailyPain(
        day=np.asarray([absolute_days[i] - start for i in keep], dtype=np.int64),
        nrs=np.asarray([float(diary[i][1]) for i in keep]),
        recalled=np.asarray([bool(diary[i][2]) for i in keep], dtype=bool),
    )
    delivered = [m for m, d in zip(merged, session_days, strict=True) if start <= d <= end]
    therapy_days = [d for d in session_days if start <= d <= end]

    def column(index):
        return np.asarray([np.nan if m[index] is None else float(m[index]) for m in delivered])

    sessions = Sessions(
        day=np.asarray([d - start for d in therapy_days], dtype=np.int64),
        amplitude_ma=column(1), phase_width_us=column(2), frequency_hz=column(3),
        minutes=column(4), nrs_pre=column(5), nrs_post=column(6), adverse_events=column(7),
        self_reported=np.asarray([m[8] for m in delivered], dtype=bool),
    ) if delivered else Sessions.empty()
    return PatientSeries(
        patient_id=pseudonym,
        therapy_start=EPOCH + timedelta(days=start),
        pain=pain,
        sessions=sessions,
        as_of_day=end - start,
        sessions_per_week=_prescribed_per_week(session, patient.id).get(patient.id),
        intake_pain=_intake_pain(session, patient.id, start,
                                 delivered[0][0] if delivered else None),
        sessions_before_start=sum(d < start for d in session_days),
    )


def load_schedule(session: Session, actor: Actor, pseudonym: str):
    """The weekly schedule of the person's latest prescription (None: there is none)."""
    from stimwise.analysis.adherence import Schedule

    stored = load_prescription(session, actor, pseudonym)
    if stored is None:
        return None
    rx = stored[0]
    return Schedule(sessions_per_week=rx.protocol.session.sessions_per_week,
                    sessions_per_day=rx.protocol.session.sessions_per_day,
                    session_minutes=rx.session_duration_min)


# --------------------------------------------------------------------------- synthetic cohorts


def _fingerprint(pseudonym: str) -> str:
    return hashlib.sha256(f"synthetic:{pseudonym}".encode()).hexdigest()


def cohort_records(cohort: Sequence[SimulatedPatient], last_day: date) -> list[CohortPatient]:
    """Records of simulated people whose data end on ``last_day`` (so none lie in the future)."""
    members = []
    for person in cohort:
        series = person.series
        start = last_day - timedelta(days=series.as_of_day)
        pseudonym = series.patient_id
        fingerprint = _fingerprint(pseudonym)

        def at(day: int, hour: time, start: date = start) -> datetime:
            return datetime.combine(start + timedelta(days=int(day)), hour)

        diary = [
            DiaryEntryIn(recorded_at=at(d, DIARY_HOUR_UTC), pain_average_nrs=int(v))
            for d, v in zip(series.pain.day, series.pain.nrs, strict=True)
        ]
        s = series.sessions
        sessions, events = [], []
        for i in range(len(s)):
            begun = at(s.day[i], SESSION_HOUR_UTC)
            seconds = float(s.minutes[i]) * 60
            record = SessionRecord(
                protocol_id="conventional-tens", plan_fingerprint=fingerprint,
                device=SYNTHETIC_DEVICE, patient_id=pseudonym, started_at=begun.isoformat(),
                ended_at=(begun + timedelta(seconds=seconds)).isoformat(), outcome="completed",
                reason=None, stimulation_s=seconds, max_amplitude_ma=float(s.amplitude_ma[i]),
                mean_amplitude_ma=float(s.amplitude_ma[i]), minutes_at_amplitude={},
                max_charge_per_phase_uc=float(s.amplitude_ma[i] * s.phase_width_us[i] / 1000),
                calibration=None, habituation_increases=0, nrs_pre=int(s.nrs_pre[i]),
                nrs_post=int(s.nrs_post[i]), skin_pre=None, skin_post=None, faults=(), events=0,
            )
            sessions.append(SessionIn(record=record, frequency_hz=float(s.frequency_hz[i]),
                                      phase_width_us=float(s.phase_width_us[i])))
            if s.adverse_events[i]:
                events.append(AdverseEventIn(occurred_at=begun + timedelta(seconds=seconds),
                                             kind="skin_irritation", severity="mild"))
        members.append(CohortPatient(
            patient=PatientIn(pseudonym=pseudonym, enrolled_on=start - timedelta(days=15)),
            diary=diary, sessions=sessions, adverse_events=events,
        ))
    return members


def cohort_prescription() -> PrescriptionIn:
    """The home-use prescription of every virtual person: conventional TENS once a day, with
    amplitude and pulse rate unlocked over the cohort's dose space."""
    protocol = get_protocol("conventional-tens")
    daily = protocol.model_copy(update={
        "session": protocol.session.model_copy(update={"sessions_per_week": 7})
    })
    prescription = validate_model(
        Prescription, {**Prescription.from_protocol(protocol).model_dump(), "protocol": daily},
        source="synthetic cohort prescription",
    )
    spans = {name: ValueSpan(min=lo, max=hi) for name, lo, hi in
             zip(DOSE_SPACE.names, DOSE_SPACE.low, DOSE_SPACE.high, strict=True)}
    return PrescriptionIn(
        prescription=prescription, locked_ranges=LockedRanges(**spans), home_use=True,
        valid_from=EPOCH, prescribed_by="stimwise cohort generator",
    )


class RealRecordsError(StimwiseError):
    """Synthetic patients were about to be mixed into a database with real ones (HAZ-055)."""

    exit_code = 1


def refuse_real_records(session: Session, actor: Actor) -> None:
    """Synthetic cohorts go only into databases without real patients."""
    require(actor, "read")
    real = session.execute(
        select(func.count()).select_from(Patient)
        .where(Patient.pseudonym.not_like(f"{SYNTHETIC_PREFIX}%"))
    ).scalar_one()
    if real:
        raise RealRecordsError(
            f"this database holds {real} real (non-synthetic) patient(s); synthetic cohorts are "
            "written only to a separate database (give --db with a new file)"
        )


def write_cohort(session: Session, actor: Actor, cohort: Sequence[SimulatedPatient],
                 last_day: date) -> dict[str, int]:
    """Insert simulated people with their diaries, sessions, adverse events and prescription."""
    members = cohort_records(cohort, last_day)
    ids = insert_cohort(session, actor, members)
    template = cohort_prescription()
    for member, person in zip(members, cohort, strict=True):
        start = last_day - timedelta(days=person.series.as_of_day)
        add_prescription(session, actor, member.patient.pseudonym,
                         template.model_copy(update={"valid_from": start}))
    return ids


def write_self_logged_cohort(session: Session, actor: Actor,
                             cohort: Sequence[SimulatedPatient], last_day: date,
                             profile_id: str) -> dict[str, int]:
    """Insert simulated people whose sessions were done on their own device ``profile_id`` and
    logged by themselves: diaries and the home prescription as :func:`write_cohort`, each
    session through :func:`~stimwise.records.self_logged.log_self_session` (the same checks as
    a real person's log), with the rate and width the simulation used and no current (home
    devices rarely publish a level's current)."""
    from stimwise.device.profiles import get_profile
    from stimwise.records.self_logged import log_self_session

    get_profile(profile_id)  # an unknown profile is refused before anything is written
    members = [CohortPatient(patient=m.patient, diary=m.diary)
               for m in cohort_records(cohort, last_day)]
    ids = insert_cohort(session, actor, members)
    template = cohort_prescription()
    for member, person in zip(members, cohort, strict=True):
        pseudonym = member.patient.pseudonym
        start = last_day - timedelta(days=person.series.as_of_day)
        add_prescription(session, actor, pseudonym,
                         template.model_copy(update={"valid_from": start}))
        person_actor = Actor(username=pseudonym.lower(), role="patient", patient=pseudonym)
        s = person.series.sessions
        for i in range(len(s)):
            begun = datetime.combine(start + timedelta(days=int(s.day[i])), SESSION_HOUR_UTC)
            log_self_session(session, person_actor, pseudonym, {
                "started_at": begun.isoformat(), "minutes": float(s.minutes[i]),
                "profile": profile_id, "felt": "strong_comfortable",
                "settings": {"frequency_hz": float(round(s.frequency_hz[i])),
                             "phase_width_us": float(s.phase_width_us[i])},
                "nrs_pre": int(s.nrs_pre[i]), "nrs_post": int(s.nrs_post[i]),
            })
    return ids


def load_prescription(session: Session, actor: Actor, pseudonym: str
                      ) -> tuple[Prescription, PatientCaps | None, LockedRanges | None] | None:
    """The person's latest prescription with its caps and locked ranges (None: there is none)."""
    patient = get_patient(session, actor, pseudonym)
    row = session.execute(
        select(PrescriptionRecord)
        .where(PrescriptionRecord.patient_id == patient.id)
        .order_by(PrescriptionRecord.valid_from.desc(), PrescriptionRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return (
        validate_model(Prescription, row.prescription, source="stored prescription"),
        None if row.caps is None else validate_model(PatientCaps, row.caps, "stored caps"),
        None if row.locked_ranges is None else validate_model(
            LockedRanges, row.locked_ranges, "stored locked ranges"),
    )


# --------------------------------------------------------------------------- population


def population_from_database(session: Session, actor: Actor,
                             as_of: date | None = None) -> PopulationSummary:
    """Responder rates, adherence and adverse events over every patient in the database.

    The database aggregates (daily means per person, session counts and first-session days,
    adverse-event counts); each person is then classified by the per-person rules, from the diary
    alone (session-level habituation is in the per-person report).
    """
    require(actor, "read")
    dialect = session.get_bind().dialect.name
    diary_day = _day_key(DiaryEntry.recorded_at, dialect)
    connection = session.connection()
    daily_query = (
        select(DiaryEntry.patient_id, _key_to_day(diary_day, dialect), func.avg(_pain_value()),
               _recalled_day())
        .where(_pain_value().is_not(None))
        .group_by(DiaryEntry.patient_id, diary_day)
        .order_by(DiaryEntry.patient_id, diary_day)
    )
    # A million aggregated rows: read them as plain driver tuples straight into numpy.
    sql = str(daily_query.compile(dialect=connection.dialect,
                                  compile_kwargs={"literal_binds": True}))
    result = connection.exec_driver_sql(sql)
    daily = np.asarray(result.cursor.fetchall(), dtype=float).reshape(-1, 4)
    result.close()
    per_person = {
        pid: (int(first), int(last), int(count)) for pid, first, last, count in connection.execute(
            select(SessionEntry.patient_id, _day_of(func.min(SessionEntry.started_at), dialect),
                   _day_of(func.max(SessionEntry.started_at), dialect), func.count())
            .where(SessionEntry.stimulation_s > 0).group_by(SessionEntry.patient_id)
        ).all()
    }
    events = session.execute(select(func.count()).select_from(AdverseEvent)).scalar_one()
    prescribed = _prescribed_per_week(session)
    set_starts, trial_days = _clinician_starts(session, dialect, per_person)
    ids, days, values = daily[:, 0].astype(np.int64), daily[:, 1].astype(np.int64), daily[:, 2]
    recalled = daily[:, 3] > 0
    bounds = np.flatnonzero(np.diff(ids)) + 1
    groups = {
        int(ids[first]): (person_days, person_values, person_recalled)
        for first, person_days, person_values, person_recalled in zip(
            np.r_[0, bounds], np.split(days, bounds), np.split(values, bounds),
            np.split(recalled, bounds), strict=True)
    } if ids.size else {}
    categories, shares = [], []
    everyone = set(connection.execute(select(Patient.id)).scalars())
    for pid in sorted(everyone):
        diary_days, nrs, recalled_days = groups.get(
            pid, (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)))
        first, last, count = per_person.get(pid, (None, None, 0))
        seen = [int(diary_days[-1])] if diary_days.size else []
        if not seen and last is None:  # enrolled, nothing recorded yet
            categories.append("not_enough_data")
            shares.append(np.nan)
            continue
        end = _day(as_of) if as_of is not None else max([*seen, *([] if last is None else [last])])
        start = set_starts.get(pid, first if first is not None else end + 1)
        keep = (diary_days <= end) & ~np.isin(diary_days, trial_days.get(pid, []))
        series = PatientSeries(str(pid), EPOCH,
                               DailyPain(diary_days[keep] - start, nrs[keep], recalled_days[keep]),
                               NO_SESSIONS, as_of_day=end - start)
        categories.append(classify(series).category)
        weekly = prescribed.get(pid)
        therapy_days = end - start + 1
        shares.append(count * 7 / therapy_days / weekly if weekly and therapy_days > 0
                      else np.nan)
    total_sessions = sum(c for _, _, c in per_person.values())
    return summarise(categories, shares, total_sessions, int(events))


def _clinician_starts(session: Session, dialect: str,
                      per_person: dict[int, tuple[int, int, int]]
                      ) -> tuple[dict[int, int], dict[int, list[int]]]:
    """The therapy starts clinicians set (day numbers) and, for those people, the days of the
    sessions before them (trial days, left out of the baseline as in :func:`load_series`);
    ``per_person``'s first day and count are corrected to the sessions from the start on."""
    starts = {pid: _day(on) for pid, on in session.execute(
        select(Patient.id, Patient.therapy_start_on)
        .where(Patient.therapy_start_on.is_not(None))).all()}
    trial: dict[int, list[int]] = {}
    if not starts:
        return starts, trial
    therapy: dict[int, list[int]] = {}
    for pid, day in session.execute(
        select(SessionEntry.patient_id, _day_of(SessionEntry.started_at, dialect))
        .where(SessionEntry.patient_id.in_(starts), SessionEntry.stimulation_s > 0)
    ).all():
        (trial if day < starts[pid] else therapy).setdefault(pid, []).append(int(day))
    for pid in starts:
        if pid in per_person:
            days = therapy.get(pid, [])
            per_person[pid] = (min(days, default=starts[pid]), per_person[pid][1], len(days))
    return starts, trial


def _prescribed_per_week(session: Session, patient_id: int | None = None) -> dict[int, float]:
    """Sessions per week of each person's latest prescription (its protocol's schedule), read
    from the stored JSON by the database; one person's only when ``patient_id`` is given."""
    weekly = PrescriptionRecord.prescription[("protocol", "session", "sessions_per_week")]
    query = select(PrescriptionRecord.patient_id, weekly.as_float()).order_by(
        PrescriptionRecord.patient_id, PrescriptionRecord.valid_from, PrescriptionRecord.id)
    if patient_id is not None:
        query = query.where(PrescriptionRecord.patient_id == patient_id)
    rows = session.connection().execute(query)
    return {pid: float(value) for pid, value in rows if value is not None}
