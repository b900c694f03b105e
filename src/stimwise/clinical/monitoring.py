"""Intensity, schedule and monitoring guidance attached to each recommendation."""

from __future__ import annotations

from stimwise.clinical.intake import Intake
from stimwise.clinical.models import IntensityGuidance, ScheduleGuidance
from stimwise.clinical.screening import Screening
from stimwise.protocol.models import Citation, Protocol
from stimwise.protocol.prescription import Prescription

_FADING = Citation(
    source="Pantaleão 2011, J Pain 12:581-90 (re-adjusted amplitude gave more hypoalgesia)",
    confidence="C",
)
_IMMPACT = Citation(
    source="Dworkin et al. 2008 IMMPACT, J Pain 9:105-21, doi 10.1016/j.jpain.2007.09.005",
    confidence="C",
)
_TITRATION = {
    "subsensory": (
        "Set the amplitude below the level the person can feel; it must not be raised to "
        "find sensation."
    ),
    "sensory": (
        "Raise slowly from zero until a strong but comfortable tingling without muscle twitch "
        "or pain; re-adjust when the sensation fades during the session."
    ),
    "motor": (
        "Raise slowly from zero until a visible, tolerable contraction without pain; stop "
        "raising at pain or at the cap."
    ),
}


def intensity_guidance(rx: Prescription, screening: Screening) -> IntensityGuidance:
    level = rx.protocol.intensity.level
    return IntensityGuidance(
        level=level,
        max_amplitude_ma=rx.max_amplitude_ma,
        titration=f"{_TITRATION[level]} Never exceed {rx.max_amplitude_ma:g} mA.",
        supervised_first_session=screening.supervised_titration_required,
        sources=(_FADING,) if level == "sensory" else (),
    )


def schedule_guidance(protocol: Protocol) -> ScheduleGuidance:
    return ScheduleGuidance(
        session_duration_min=protocol.session.duration_min,
        sessions_per_day=protocol.session.sessions_per_day,
        sessions_per_week=protocol.session.sessions_per_week,
        review=(
            "Review after 2 weeks: a fall of average pain NRS by at least 30 % from baseline is "
            "a moderately important change, at least 50 % substantial (IMMPACT); stop a "
            "programme that does not help. The 2-week interval is a stimwise choice [U]."
        ),
    )


def monitoring_plan(
    protocol: Protocol, condition: str | None, intake: Intake, screening: Screening
) -> tuple[str, ...]:
    """What to record and watch, from the protocol, the condition and the screening."""
    items = [
        "Pain NRS (0-10) before and after every session, and the daily average in the diary.",
        "Skin under each electrode before and after every session (redness, soreness, burn).",
    ]
    if condition == "crps":
        items.append(
            "Flare signs after each session: more pain, colour or temperature change, swelling, "
            "spreading allodynia."
        )
    if condition in ("diabetic_neuropathy", "cipn", "other_neuropathy"):
        items.append("Sensation at the electrode sites at every review.")
    if "sleep" in intake.goals:
        items.append("Sleep interference NRS (0-10) each morning.")
    if protocol.intensity.level == "motor":
        items.append("Muscle soreness the day after sessions.")
    items.append(f"PGIC at each review ({_IMMPACT.source} [C]).")
    items += [action.text for action in screening.required_actions]
    return tuple(dict.fromkeys(items))
