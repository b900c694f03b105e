"""The home schedule as an iCalendar file (RFC 5545) the phone can import or subscribe to.

One recurring event: the prescribed sessions a week spread over the week (five: Monday to
Friday; seven: every day; others: every other day first), at the time the person chose, as long
as the session, with a reminder 10 minutes before and the device settings in the description.
The file names no person and no diagnosis: a calendar is often shared or synced.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from icalendar import Alarm, Calendar, Event

from stimwise.device.profiles.translate import SETTING_LABELS, DeviceInstructions

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SPREAD = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4),
          6: (0, 1, 2, 3, 4, 5), 7: tuple(range(7))}
"""Weekdays (Monday = 0) of n sessions a week: evenly spread, weekdays first [U: stimwise's
choice]."""
REMINDER_MINUTES = 10


def _description(instructions: DeviceInstructions) -> str:
    lines = [f"On your {instructions.profile.name}."]
    if instructions.programme is not None:
        lines.append(f"Programme: {instructions.programme.name}.")
    for s in instructions.settings:
        if s.device is not None and s.parameter != "session_minutes":
            label = SETTING_LABELS.get(s.parameter, (s.parameter,))[0]
            lines.append(f"{label.capitalize()}: {s.device:g} {s.unit}.")
    lines += list(instructions.intensity_guidance[:1])
    lines.append("Log the session in stimwise afterwards.")
    return "\n".join(lines)


def home_schedule_ics(instructions: DeviceInstructions, first_day: date, at: time,
                      until: date | None = None, uid: str | None = None) -> bytes:
    """The schedule of ``instructions`` from ``first_day`` (its weekdays), as ICS bytes.
    ``uid``: the event's stable identifier (a subscription serves the same event each time it
    is read, so the phone updates it instead of adding another); default a new one."""
    session = instructions.prescription.protocol.session
    per_week = min(session.sessions_per_week, 7)
    weekdays = SPREAD[per_week]
    days = [WEEKDAYS[d] for d in weekdays]
    while first_day.weekday() not in weekdays:  # the first event is the first occurrence
        first_day += timedelta(days=1)
    minutes = instructions.prescription.session_duration_min
    start = datetime.combine(first_day, at)
    calendar = Calendar()
    calendar.add("prodid", "-//stimwise//home programme//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", uid or f"{uuid.uuid4()}@stimwise")
    event.add("dtstamp", datetime.now().astimezone())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", f"Home stimulation session ({minutes:g} min)")
    event.add("description", _description(instructions))
    rule = {"freq": "weekly", "byday": days}
    if until is not None:
        rule["until"] = datetime.combine(until, time(23, 59))
    event.add("rrule", rule)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Home stimulation session soon")
    alarm.add("trigger", timedelta(minutes=-REMINDER_MINUTES))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
