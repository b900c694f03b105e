"""Report figures in words and units (issue 16, item 3): rounding that never misstates a
delivered dose (HAZ-166), labels instead of record values, times in the clinic's time zone,
and adherence over a prescription's period instead of an extrapolated weekly rate (HAZ-167)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimwise.analysis.adherence import Schedule, SessionDone, period_adherence
from stimwise.web.services import wording as w
from stimwise.web.services.reports import PeriodLine, period_text


def test_amplitudes_to_a_tenth_of_a_milliampere_with_the_unit():
    assert w.amplitude_text(4.995224) == "5.0 mA"
    assert w.amplitude_text(12.04) == "12.0 mA"
    assert w.amplitude_text(0.3) == "300 µA"  # microcurrent in the unit it is set in
    assert w.amplitude_text(None) == "–"


def test_durations_are_whole_seconds_minutes_and_hours():
    assert w.duration_text(38.542) == "38 s"
    assert w.duration_text(1198.9) == "19 min 58 s"
    assert w.duration_text(1200.0) == "20 min"
    assert w.duration_text(0.4) == "less than 1 s" and w.duration_text(0.0) == "0 s"
    assert w.duration_text(3900) == "1 h 5 min"
    assert w.minutes_text(3060.9) == "3,060 min"


def test_HAZ166_delivered_time_is_rounded_down_never_up():
    """A report never credits stimulation that was not delivered: 59.99 s is "59 s"."""
    assert w.duration_text(59.99) == "59 s"
    assert w.minutes_text(29.999) == "29 min"


@given(st.floats(min_value=0, max_value=100_000, allow_nan=False))
def test_HAZ166_shown_time_never_exceeds_the_delivered_time(seconds):
    shown = w.duration_text(seconds)
    if shown == "less than 1 s":
        assert 0 < seconds < 1
        return
    total = 0
    for number, unit in zip(shown.split()[::2], shown.split()[1::2], strict=True):
        total += int(number) * {"h": 3600, "min": 60, "s": 1}[unit]
    assert total <= seconds + 1e-6


def test_HAZ166_a_delivered_amplitude_above_its_ceiling_is_never_rounded_onto_it():
    assert w.amplitude_against_ceiling(5.04, 5.0) == "5.04 mA (above the 5.0 mA ceiling)"
    assert w.amplitude_against_ceiling(5.0004, 5.0).startswith("5.0004 mA (above")
    assert w.amplitude_against_ceiling(4.995224, 5.0) == "5.0 mA"  # at or below: plain
    assert w.amplitude_against_ceiling(5.0, 5.0) == "5.0 mA"
    assert w.amplitude_against_ceiling(5.000001, 5.0) == "5.000001 mA (above the 5.0 mA ceiling)"


@given(st.floats(min_value=0.01, max_value=200), st.floats(min_value=0.01, max_value=200))
def test_HAZ166_a_shown_amplitude_never_hides_an_excess(delivered, ceiling):
    shown = w.amplitude_against_ceiling(delivered, ceiling)
    if round(delivered, 6) > ceiling:  # records keep 6 decimals
        assert "above" in shown and float(shown.split()[0]) > ceiling
    else:
        assert "above" not in shown


def test_other_units_and_significant_figures():
    assert w.frequency_text(80.0) == "80 Hz" and w.frequency_text(4096) == "4,096 Hz"
    assert w.frequency_text(2.5) == "2.5 Hz"
    assert w.width_text(200.0) == "200 µs"
    assert [w.charge_text(x) for x in (0.999, 0.0401, 12.3, 0.002, 0.00049)] == [
        "1.0 µC", "0.040 µC", "12 µC", "2.0 nC", "0.49 nC"]
    assert w.nrs_change_text(6, 4) == "6 → 4 (0–10)" and w.nrs_change_text(None, None) == (
        "not asked")
    assert w.nrs_change_text(6, None) == "6 → not asked (0–10)"


def test_times_to_the_minute_in_the_clinics_time_zone():
    moment = datetime(2026, 7, 6, 13, 5, 33, 123456, tzinfo=UTC)
    assert w.time_text(moment, ZoneInfo("Europe/London")) == "6 Jul 2026, 14:05"  # summer time
    assert w.time_text(moment, ZoneInfo("UTC")) == "6 Jul 2026, 13:05"
    assert w.day_text(date(2026, 12, 6)) == "6 Dec 2026"
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert w.day_text(late, ZoneInfo("Asia/Tokyo")) == "7 Dec 2026"


def test_record_values_become_words():
    assert w.event_kind_text("skin_irritation") == "Skin irritation"
    assert w.event_kind_text("flare") == "Pain flare-up"
    assert w.severity_text("moderate") == "Moderate"
    assert w.outcome_text("aborted", "emergency stop: key pressed") == (
        "Session aborted before the planned end: emergency stop: key pressed.")
    assert w.outcome_text("completed", None) == "Session completed."
    assert w.sentence("lead off on channel 1") == "Lead off on channel 1."
    assert w.skin_text("not_ok") == "a problem seen"


# --------------------------------------------------------------------------- adherence

DAILY = Schedule(sessions_per_week=7, sessions_per_day=1, session_minutes=20)
THRICE = Schedule(sessions_per_week=3, sessions_per_day=1, session_minutes=30)


def test_HAZ167_a_one_day_old_prescription_shows_what_was_done_against_the_plan_so_far():
    """Issue 16: after one day with two sessions the report said "14.0 sessions per week"."""
    start = date(2026, 12, 6)
    done = [SessionDone(start, 20), SessionDone(start, 20)]
    a = period_adherence(start, start, DAILY, done)
    assert (a.days, a.sessions, a.minutes, a.days_with_session) == (1, 2, 40, 1)
    assert a.planned_sessions == pytest.approx(1) and a.planned_minutes == pytest.approx(20)
    assert a.sessions_share is None and a.minutes_share is None  # no rate before a week
    text = period_text(PeriodLine(1, "Gentle sensory TENS", a))
    assert "2 sessions on 1 of 1 day, 40 min of stimulation" in text
    assert "planned 7 a week of 20 min, that is 1 session (20 min) in 1 day" in text
    assert "per week" not in text and "14" not in text


def test_HAZ167_shares_only_after_whole_weeks_and_only_inside_the_period():
    start = date(2026, 11, 1)
    sessions = [SessionDone(start + timedelta(days=d), 30) for d in range(0, 21, 3)]
    sessions += [SessionDone(start - timedelta(days=1), 30),  # before it began
                 SessionDone(start + timedelta(days=30), 30, True)]  # after the last day
    a = period_adherence(start, start + timedelta(days=20), THRICE, sessions)
    assert (a.days, a.sessions, a.whole_weeks) == (21, 7, 3)
    assert a.planned_sessions == pytest.approx(9)
    assert a.sessions_share == pytest.approx(7 / 9)
    assert a.minutes_share == pytest.approx(210 / 270)
    text = period_text(PeriodLine(1, "Burst TENS", a))
    assert "78% of the planned sessions" in text and "9 sessions (270 min) in 21 days" in text


def test_a_prescription_that_has_not_begun_says_so():
    start = date(2026, 12, 10)
    a = period_adherence(start, date(2026, 12, 6), THRICE, [])
    assert a.days == 0 and a.planned_sessions == 0
    assert period_text(PeriodLine(1, "Burst TENS", a)).endswith("not begun yet.")


def test_safety_metrics_never_show_more_than_three_decimals_or_an_exponent():
    assert [w.metric_text(x) for x in (1.34, 0.0537, 3.6e-05, 250.4, 0, 12345.6)] == [
        "1.34", "0.054", "< 0.001", "250", "0", "12,346"]
    assert w.metric_text("left_calf") == "left_calf" and w.metric_text(None) == "–"
