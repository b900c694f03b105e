"""Self-logged sessions on the person's own device: provenance, validation, flags, inbox."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from stimwise.errors import InputError
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor
from stimwise.records.home import prescription_on
from stimwise.records.inputs import LockedRanges, PatientIn, PrescriptionIn, ValueSpan
from stimwise.records.models import AdverseEvent, SelfLoggedSession, SessionEntry
from stimwise.records.repository import add_prescription, create_patient
from stimwise.records.schema import open_database
from stimwise.records.self_logged import (
    acknowledge_flagged_session,
    count_unacknowledged_flagged_sessions,
    log_self_session,
    unacknowledged_flagged_sessions,
    validate_self_logged,
)

CLINICIAN = Actor("dr", "clinician")
PATIENT = Actor("p001", "patient", patient="P001")
DAY = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(db_url):
    db = open_database(db_url)
    with db.transaction() as s:
        create_patient(s, CLINICIAN, PatientIn(pseudonym="P001", enrolled_on=date(2026, 1, 5)))
        rx = Prescription.from_protocol(get_protocol("crps-gentle-sensory"))
        add_prescription(s, CLINICIAN, "P001", PrescriptionIn(
            prescription=rx, home_use=True, valid_from=date(2026, 1, 5),
            prescribed_by="dr", locked_ranges=LockedRanges(
                amplitude_ma=ValueSpan(min=2, max=8),
                frequency_hz=ValueSpan(min=80, max=100))))
    yield db
    db.close()


def _values(**changes) -> dict:
    values = {"started_at": DAY.isoformat(), "minutes": 20, "profile": "twin-stim-plus-3",
              "as_prescribed": True, "nrs_pre": 6, "nrs_post": 4}
    values.update(changes)
    return values


def _count(db, model) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_self_logged_session_carries_its_provenance_and_verification(database):
    with database.transaction() as s:
        row = log_self_session(s, PATIENT, "P001", _values()).session
    assert row.provenance == "self_reported" and row.reporter_role == "patient"
    assert row.settings == {"frequency_hz": 90.0, "phase_width_us": 100.0}
    assert row.verification["status"] == "verified" and not row.flagged
    with database.reading() as s:
        columns = {c.name: c for c in SessionEntry.__table__.columns}
        assert columns["provenance"].server_default is not None
        assert s.scalar(select(func.count()).select_from(SessionEntry)) == 0


def test_HAZ142_outside_the_locked_range_is_stored_flagged_and_waits_in_the_inbox(database):
    with database.transaction() as s:
        row = log_self_session(s, PATIENT, "P001", _values(
            as_prescribed=False, programme="N", settings={"frequency_hz": 150})).session
    assert row.flagged and row.settings["frequency_hz"] == 150
    assert "pulse rate 150 Hz outside the prescribed 80–100 Hz" in row.flag_reasons
    with database.transaction() as s:
        waiting = unacknowledged_flagged_sessions(s, CLINICIAN)
        assert [(r.id, p) for r, p in waiting] == [(row.id, "P001")]
        acknowledge_flagged_session(s, CLINICIAN, row.id)
        assert count_unacknowledged_flagged_sessions(s, CLINICIAN) == 0


def test_HAZ142_a_longer_session_or_a_twitch_is_flagged(database):
    with database.transaction() as s:
        longer = log_self_session(s, PATIENT, "P001", _values(minutes=45)).session
        twitch = log_self_session(s, PATIENT, "P001", _values(felt="muscle_twitch")).session
    assert longer.flagged and "longer than the prescribed 20" in longer.flag_reasons[0]
    assert twitch.flagged and "above the prescribed sensory level" in twitch.flag_reasons[0]


@pytest.mark.parametrize("changes, field", [
    ({"minutes": float("nan")}, "minutes"),
    ({"minutes": -3}, "minutes"),
    ({"nrs_pre": 11}, "nrs_pre"),
    ({"settings": {"frequency_hz": float("inf")}}, "settings.frequency_hz"),
    ({"settings": {"voltage": 3}}, "settings.voltage"),
    ({"settings": {"frequency_hz": "ninety"}}, "settings.frequency_hz"),
    ({"profile": "neotek-dt8003tp", "programme": "06", "settings": {"frequency_hz": 90}},
     "settings.frequency_hz"),
    ({"programme": "Z"}, "programme"),
    ({"profile": "auvon-as8016", "settings": {"level": 21}}, "settings.level"),
    ({"started_at": "2026-02-02T09:00:00"}, "started_at"),
    ({"started_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "started_at"),
    ({"started_at": "2025-12-01T09:00:00+00:00"}, "started_at"),
])
def test_HAZ143_bad_values_are_refused_with_nothing_stored(database, changes, field):
    with pytest.raises(InputError) as refused, database.transaction() as s:
        log_self_session(s, PATIENT, "P001", _values(**changes))
    assert any(p.path.startswith(field) for p in refused.value.problems), refused.value
    assert _count(database, SelfLoggedSession) == 0


def test_a_retry_is_recognised_and_problems_become_adverse_events(database):
    values = _values(problems=["skin_irritation"], skin="irritated",
                     entry_uuid="8d6f0a3e-1a5b-4c1e-9a59-0a3a8f1c2b7d")
    with database.transaction() as s:
        first = log_self_session(s, PATIENT, "P001", values)
    with database.transaction() as s:
        again = log_self_session(s, PATIENT, "P001", values)
    assert first.created and not again.created and again.session.id == first.session.id
    assert _count(database, AdverseEvent) == 1


def test_another_patient_cannot_log_for_someone_else(database):
    from stimwise.records.access import AccessDeniedError

    with pytest.raises(AccessDeniedError), database.transaction() as s:
        log_self_session(s, Actor("q", "patient", patient="P002"), "P001", _values())


_finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                           st.text(max_size=5), st.none(), st.booleans())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({}, optional={
    "started_at": st.one_of(st.just(DAY.isoformat()), st.text(max_size=12), st.integers()),
    "minutes": _finite_or_not,
    "profile": st.sampled_from(["twin-stim-plus-3", "quell", "neotek-dt8003tp", "x"]),
    "programme": st.one_of(st.none(), st.sampled_from(["N", "06", "B", "?"])),
    "as_prescribed": st.one_of(st.booleans(), st.text(max_size=3)),
    "settings": st.dictionaries(st.sampled_from(
        ["frequency_hz", "phase_width_us", "level", "amplitude_ma", "bogus"]), _finite_or_not,
        max_size=3),
    "nrs_pre": _finite_or_not, "nrs_post": _finite_or_not,
    "felt": st.one_of(st.none(), st.sampled_from(["painful", "light_tingling", "meh"])),
}))
def test_HAZ143_validation_refuses_cleanly_or_accepts_only_finite_in_range(database, values):
    with database.reading() as s:
        home = prescription_on(s, CLINICIAN, "P001", DAY.date())
    try:
        checked = validate_self_logged(values, home)
    except InputError:
        return
    assert 0 < checked.data.minutes <= 240
    for value in checked.settings.values():
        assert math.isfinite(value) and value >= 0


def test_cli_session_log_stores_flags_and_refuses(tmp_path):
    import json

    from typer.testing import CliRunner

    from stimwise.cli.main import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner.invoke(app, ["patient", "add", "P001", "--enrolled-on", "2026-01-05", "--db", url])
    runner.invoke(app, ["prescription", "add", "P001", "conventional-tens", "--home-range-ma",
                        "10:20", "--valid-from", "2026-01-05", "--db", url])
    ok = runner.invoke(app, ["session", "log", "P001", "--profile", "tu-7000", "--minutes",
                             "30", "--setting", "frequency_hz=100", "--setting",
                             "phase_width_us=100", "--pain-before", "6", "--pain-after", "3",
                             "--at", "2026-02-02T09:00:00+00:00", "--db", url, "--json"])
    assert ok.exit_code == 0, ok.output
    document = json.loads(ok.output)
    assert document["provenance"] == "self_reported" and not document["flagged"]
    flagged = runner.invoke(app, ["session", "log", "P001", "--profile", "tu-7000",
                                  "--minutes", "30", "--setting", "phase_width_us=250",
                                  "--at", "2026-02-03T09:00:00+00:00", "--db", url, "--json"])
    assert json.loads(flagged.output)["flagged"]
    bad = runner.invoke(app, ["session", "log", "P001", "--profile", "tu-7000", "--minutes",
                              "30", "--pain-before", "12", "--db", url])
    assert bad.exit_code == 2 and "--pain-before" in bad.output
