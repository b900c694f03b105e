"""Record values in the words and units a clinician signs: doses, durations, times, outcomes.

The session and progress reports (HTML and PDF) print every figure through these functions, so
"max amplitude ma 4.995224" reads "5.0 mA", "stimulation s 38.542" reads "38 s", a list of
faults reads as sentences and a timestamp reads "6 Dec 2026, 14:05" in the clinic's time zone.

Rounding never misstates a delivered dose (HAZ-166):

* amplitudes to 0.1 mA (below 1 mA in whole µA), except that a delivered value above its
  ceiling is never rounded down onto the ceiling: :func:`amplitude_against_ceiling` shows it
  with the digits that tell them apart and says it was above;
* delivered time is rounded down to the whole second or minute (a report never credits
  stimulation that was not delivered), and totals are summed from the unrounded values and
  rounded once.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from stimwise.clinical.labels import choice_label, screening_label
from stimwise.protocol.site_names import site_label

RECORD_DECIMALS = 6
"""Session records keep amplitudes to 6 decimals (1 nA; :mod:`stimwise.session.record`)."""
OUTCOME_WORDS = {"completed": "Session completed",
                 "aborted": "Session aborted before the planned end"}
SKIN_WORDS = {"ok": "no problem seen", "not_ok": "a problem seen"}
PROVENANCE_WORDS = {
    "device_recorded": "recorded by a stimulator stimwise drove (its journal)",
    "self_reported": "logged by the person from their own device (self-reported)",
}


def amplitude_text(ma: float | None) -> str:
    """A current: "5.0 mA"; below 1 mA in microamperes ("300 µA")."""
    if ma is None:
        return "–"
    if 0 < abs(ma) < 1:
        return f"{ma * 1000:.0f} µA"
    return f"{ma:.1f} mA"


def amplitude_against_ceiling(ma: float, ceiling_ma: float | None) -> str:
    """A delivered amplitude next to its ceiling, never rounded onto it from above: 5.04 mA
    against a 5 mA ceiling reads "5.04 mA (above the 5.0 mA ceiling)", not "5.0 mA"."""
    if ceiling_ma is None or round(ma, RECORD_DECIMALS) <= ceiling_ma:
        return amplitude_text(ma)
    digits = 1
    while round(ma, digits) <= ceiling_ma:  # ends by RECORD_DECIMALS at the latest
        digits += 1
    return f"{ma:.{digits}f} mA (above the {amplitude_text(ceiling_ma)} ceiling)"


def duration_text(seconds: float | None) -> str:
    """A delivered time, rounded down to the second: "38 s", "19 min 58 s", "1 h 5 min"; a
    moment of output shorter than a second is "less than 1 s" (not "0 s", which would read as
    none next to the amplitude it reached)."""
    if seconds is None:
        return "–"
    whole = math.floor(max(seconds, 0.0) + 1e-9)
    if whole == 0 and seconds > 0:
        return "less than 1 s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def minutes_text(minutes: float | None) -> str:
    """A number of minutes rounded down: "617 min" (a total is never rounded up)."""
    if minutes is None:
        return "–"
    return f"{math.floor(max(minutes, 0.0) + 1e-9):,} min"


def planned_minutes_text(minutes: float) -> str:
    """A planned amount of minutes (not a delivered one), to the nearest minute."""
    return f"{round(minutes):,} min"


def count_text(value: float, one: str, many: str | None = None) -> str:
    """"1 session", "3 sessions", "0.4 sessions" (a fraction only where one is meant)."""
    many = many or one + "s"
    shown = f"{value:g}" if isinstance(value, float) and not value.is_integer() else f"{value:.0f}"
    return f"{shown} {one if shown == '1' else many}"


def frequency_text(hz: float | None) -> str:
    """A pulse rate: "80 Hz", "2.5 Hz", "4,096 Hz"."""
    if hz is None:
        return "–"
    return f"{hz:,.0f} Hz" if hz >= 100 or float(hz).is_integer() else f"{hz:.1f} Hz"


def width_text(us: float | None) -> str:
    """A phase width: "200 µs"."""
    return "–" if us is None else f"{us:,.0f} µs" if us >= 10 else f"{us:.1f} µs"


def charge_text(uc: float | None) -> str:
    """Charge per phase to two significant figures: "1.0 µC", "0.040 µC", "12 µC"; below
    0.01 µC in nanocoulombs ("2.0 nC"), so no figure has more than three decimals."""
    if uc is None:
        return "–"
    if uc == 0:
        return "0 µC"
    if abs(uc) < 0.01:
        return f"{float(f'{uc * 1000:.2g}'):.{_decimals(uc * 1000)}f} nC"
    rounded = float(f"{uc:.2g}")
    return f"{rounded:.{_decimals(rounded)}f} µC"


def _decimals(value: float) -> int:
    """Decimals that show two significant figures of ``value``."""
    return max(0, 1 - math.floor(math.log10(abs(float(f"{value:.2g}")))))


def metric_text(value) -> str:
    """A computed safety metric to three significant figures, never more than three decimals
    and never in exponent notation: "1.34", "0.054", "< 0.001" (a value that is not a number,
    such as a site, is shown as it is)."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    size = abs(value)
    if size == 0:
        return "0"
    if size < 0.0005:
        return "< 0.001"
    decimals = min(3, max(0, 2 - math.floor(math.log10(size))))
    return f"{value:,.{decimals}f}"


def nrs_text(value: int | float | None) -> str:
    """A 0–10 pain rating: "6"; a mean to one decimal: "5.4"; none: "–"."""
    if value is None:
        return "–"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def nrs_change_text(before: int | None, after: int | None) -> str:
    """Pain before and after a session: "6 → 4 (0–10)"; "6 → not asked (0–10)" when one of
    the two questions was not answered."""
    if before is None and after is None:
        return "not asked"

    def shown(value: int | None) -> str:
        return "not asked" if value is None else nrs_text(value)

    return f"{shown(before)} → {shown(after)} (0–10)"


def day_text(day: date | datetime | None, zone: ZoneInfo | None = None) -> str:
    """A date as a person writes it: "6 Dec 2026" (a time is first put in ``zone``)."""
    if day is None:
        return "–"
    if isinstance(day, datetime):
        day = day.astimezone(zone).date() if zone is not None else day.date()
    return f"{day.day} {day:%b %Y}"


def time_text(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment to the minute in the clinic's time zone: "6 Dec 2026, 14:05"."""
    if moment is None:
        return "–"
    local = moment.astimezone(zone)
    return f"{day_text(local.date())}, {local:%H:%M}"


def clock_text(moment: datetime | None, zone: ZoneInfo) -> str:
    """The time of day only: "14:05"."""
    return "–" if moment is None else f"{moment.astimezone(zone):%H:%M}"


def sentence(text: str) -> str:
    """A recorded message as a sentence: capital first letter, full stop at the end."""
    text = " ".join(str(text).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def outcome_text(outcome: str, reason: str | None) -> str:
    """How a session ended, with its reason: "Stopped before the planned end: emergency
    stop pressed."."""
    words = OUTCOME_WORDS.get(outcome) or outcome.replace("_", " ")
    return sentence(f"{words}: {reason}" if reason else words)


def event_kind_text(kind: str) -> str:
    """An adverse event's kind in words ("Skin irritation", "Pain flare-up")."""
    return choice_label("adverse_event.kind", kind)


def severity_text(severity: str) -> str:
    return choice_label("adverse_event.severity", severity)


def skin_text(answer: str | None) -> str:
    return "not asked" if answer is None else SKIN_WORDS.get(answer, answer.replace("_", " "))


def template_words() -> dict:
    """The functions a page template writes values with (merged into its context)."""
    return {"day_text": day_text, "amplitude_text": amplitude_text, "site_label": site_label,
            "screening_label": screening_label, "metric_text": metric_text}
