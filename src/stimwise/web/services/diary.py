"""The symptom diary and adverse events: a patient writes their own (several entries a day),
clinicians write for any patient, researchers only read. Every read is audited here; every
write is audited by the repository.

The patient's progress list groups the diary by calendar day in the server's time zone (the
clinic's; stimwise's choice for a single-site install [U]) and gives each day's entry count,
mean current pain and worst pain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stimwise.records import repository as r
from stimwise.records.access import Actor
from stimwise.records.database import Database
from stimwise.records.inputs import AdverseEventIn, DiaryEntryIn
from stimwise.records.models import AdverseEvent, DiaryEntry
from stimwise.web.services.audit import audited_read

PROGRESS_DAYS = 28
"""A four-week view: long enough to see a trend, short enough for a phone screen [U]."""
LIST_PAGE_ENTRIES = 50
"""Entries on one page of a patient's diary list (newest first; a link leads to earlier ones):
about seven weeks of daily entries; a year would otherwise be one page of several hundred
rows [U]."""


@dataclass(frozen=True)
class DayProgress:
    day: date
    entries: int
    mean_current_nrs: float | None
    worst_nrs: int | None


def add_entry(db: Database, actor: Actor, pseudonym: str, entry: DiaryEntryIn) -> DiaryEntry:
    """Store one entry (a retried submission with the same ``entry_uuid`` is not doubled)."""
    with db.transaction() as session:
        return r.add_diary_entries(session, actor, pseudonym, [entry])[0]


def list_entries(
    db: Database,
    actor: Actor,
    pseudonym: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[DiaryEntry]:
    return audited_read(
        db, actor, pseudonym, "diary",
        lambda s: r.list_diary(s, actor, pseudonym, since=since, until=until),
    )


def entries_page(db: Database, actor: Actor, pseudonym: str, before: datetime | None = None
                 ) -> tuple[list[DiaryEntry], datetime | None, list[AdverseEvent]]:
    """One page of the diary, newest first, the time to ask for the page before it (``None``:
    this page reaches the first entry), and every adverse event (one audited read)."""
    rows, events = audited_read(db, actor, pseudonym, "diary", lambda s: (
        r.latest_diary(s, actor, pseudonym, LIST_PAGE_ENTRIES + 1, before=before),
        r.list_adverse_events(s, actor, pseudonym)))
    page = rows[:LIST_PAGE_ENTRIES]
    return page, page[-1].recorded_at if len(rows) > LIST_PAGE_ENTRIES else None, events


def local_midnight(now: datetime | None = None) -> datetime:
    """The start of today in the server's time zone (aware)."""
    local = (now or datetime.now().astimezone()).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def progress(entries: list[DiaryEntry]) -> list[DayProgress]:
    """Per-day summary of ``entries`` (newest day first)."""
    days: dict[date, list[DiaryEntry]] = {}
    for entry in entries:
        days.setdefault(entry.recorded_at.astimezone().date(), []).append(entry)
    summary = []
    for day in sorted(days, reverse=True):
        rows = days[day]
        current = [e.pain_current_nrs for e in rows if e.pain_current_nrs is not None]
        worst = [
            value
            for e in rows
            for value in (e.pain_worst_nrs, e.pain_current_nrs)
            if value is not None
        ]
        summary.append(
            DayProgress(
                day=day,
                entries=len(rows),
                mean_current_nrs=round(sum(current) / len(current), 1) if current else None,
                worst_nrs=max(worst) if worst else None,
            )
        )
    return summary


def today_and_progress(
    db: Database, actor: Actor, pseudonym: str
) -> tuple[list[DiaryEntry], list[DayProgress]]:
    """Today's entries and the per-day progress of the last :data:`PROGRESS_DAYS` days
    (one audited read)."""
    midnight = local_midnight()
    entries = list_entries(db, actor, pseudonym, since=midnight - timedelta(days=PROGRESS_DAYS - 1))
    today = [e for e in entries if e.recorded_at >= midnight]
    return today, progress(entries)


def add_adverse_event(
    db: Database, actor: Actor, pseudonym: str, event: AdverseEventIn
) -> AdverseEvent:
    with db.transaction() as session:
        return r.add_adverse_event(session, actor, pseudonym, event)


def list_adverse_events(db: Database, actor: Actor, pseudonym: str) -> list[AdverseEvent]:
    return audited_read(
        db, actor, pseudonym, "adverse_events",
        lambda s: r.list_adverse_events(s, actor, pseudonym),
    )


@dataclass(frozen=True)
class ChartMark:
    """One day in the progress chart, in SVG user units (0..100 wide, 0..50 high)."""

    x: float
    width: float
    worst_y: float | None
    mean_y: float | None
    label: str


CHART_WIDTH = 100.0
CHART_HEIGHT = 50.0


def progress_chart(days: list[DayProgress], today: date, span_days: int = PROGRESS_DAYS):
    """Geometry of a small bar-and-dot chart of the last ``span_days`` days (oldest left):
    bars for the day's worst pain, dots for its mean current pain, both on 0–10. Drawn as
    inline SVG by the page, so a phone loads no charting library for it."""
    by_day = {d.day: d for d in days}
    slot = CHART_WIDTH / span_days
    marks = []
    for index in range(span_days):
        day = today - timedelta(days=span_days - 1 - index)
        found = by_day.get(day)

        def y(value):
            return None if value is None else CHART_HEIGHT * (1 - value / 10)

        marks.append(
            ChartMark(
                x=round(index * slot, 3),
                width=round(slot * 0.8, 3),
                worst_y=y(found.worst_nrs) if found else None,
                mean_y=y(found.mean_current_nrs) if found else None,
                label=day.strftime("%d %b"),
            )
        )
    return marks
