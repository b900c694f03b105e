"""People whose first session is on the enrolment day (issue 17, defect 5), for the records,
web and browser tests of the baseline: their diary starts on the enrolment day, so they have
no diary baseline unless a clinician records one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np

from stimwise.analysis.from_records import cohort_records
from stimwise.analysis.series import DailyPain, PatientSeries, Sessions
from stimwise.records.access import Actor
from stimwise.records.cohort import insert_cohort

SETUP = Actor("baseline-setup", "clinician")


def steady_diary(first_day: int, last_day: int, mean_nrs: float, seed: int = 0
                 ) -> dict[int, float]:
    """One integer pain score a day, scattered ±1 around ``mean_nrs``."""
    rng = np.random.default_rng(seed)
    return {day: float(np.clip(np.rint(mean_nrs + rng.normal(0, 0.6)), 0, 10))
            for day in range(first_day, last_day + 1)}


def enrolment_day_person(db, pseudonym: str, enrolled_on: date, diary: Mapping[int, float],
                         session_days: Sequence[int]) -> None:
    """Store a person enrolled on ``enrolled_on`` with diary and sessions on the given days
    counted from enrolment (day 0: the enrolment day, where the first session lies)."""
    days = np.asarray(sorted(diary), dtype=np.int64)
    count = len(session_days)
    sessions = Sessions(np.asarray(session_days, dtype=np.int64), np.full(count, 10.0),
                        np.full(count, 200.0), np.full(count, 100.0), np.full(count, 30.0),
                        np.full(count, 6.0), np.full(count, 4.0))
    as_of = int(max(days.max(initial=0), max(session_days, default=0)))
    series = PatientSeries(pseudonym, enrolled_on,
                           DailyPain(days, np.asarray([diary[d] for d in days])), sessions, as_of)
    (member,) = cohort_records([SimpleNamespace(series=series)],
                               enrolled_on + timedelta(days=as_of))
    member = replace(member, patient=member.patient.model_copy(update={"enrolled_on": enrolled_on}))
    with db.transaction() as session:
        insert_cohort(session, SETUP, [member])
