"""The full per-person answer to "is it working for me?": verdict, relief, dose and habituation.

The IMMPACT verdict (:mod:`responder`) reads the diary; habituation is also visible in the
sessions themselves (:mod:`dose_response`). A person whose diary now shows no response but whose
relief at a constant dose has been fading is reported as "response faded", never as a plain
non-responder (HAZ-053): tolerance calls for a change of dose, not for giving up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from stimwise.analysis.dose_response import DoseResponse, dose_response
from stimwise.analysis.relief import ReliefSummary, relief_summary
from stimwise.analysis.responder import LABELS, ResponderVerdict, classify
from stimwise.analysis.series import PatientSeries

__all__ = ["DataProvenance", "ResponseAssessment", "assess", "provenance"]


@dataclass(frozen=True)
class DataProvenance:
    """Where the sessions the assessment rests on come from."""

    device_recorded: int
    self_reported: int
    statement: str


def provenance(series: PatientSeries) -> DataProvenance:
    """Count the sessions by provenance and say plainly what self-reported data mean."""
    reported = series.sessions.self_reported_count
    recorded = len(series.sessions) - reported
    if reported == 0:
        noun = "session" if recorded == 1 else "sessions"
        statement = f"{recorded} {noun} recorded by a device stimwise drove"
    else:
        statement = (
            f"{reported} of {recorded + reported} sessions are self-reported (logged by the "
            "person from their own device): their dose is what the person read off that "
            "device, not a recording; their current is unknown unless the device shows mA or "
            "its manual documents the level")
    return DataProvenance(recorded, reported, statement)


@dataclass(frozen=True)
class ResponseAssessment:
    """The answer to "is it working for me?": the IMMPACT verdict against the person's own
    baseline, relief within sessions, dose-response and habituation, and where the data come
    from (:func:`assess`).

    Examples
    --------
    >>> from stimwise.analysis import assess, simulate_cohort
    >>> person = simulate_cohort(2, seed=1)[1]  # a synthetic responder
    >>> assessment = assess(person.series)
    >>> assessment.verdict.category, assessment.provenance.self_reported
    ('substantial', 0)
    """

    verdict: ResponderVerdict
    relief: ReliefSummary
    dose_response: DoseResponse
    provenance: DataProvenance

    def to_dict(self) -> dict:
        return asdict(self)


def assess(series: PatientSeries) -> ResponseAssessment:
    """Judge one person's response from their diary and sessions.

    Parameters
    ----------
    series
        The person's daily pain and sessions up to the day of the analysis.

    Returns
    -------
    ResponseAssessment
        A fading response is reported as "response faded", never as a plain non-response
        (HAZ-053); self-reported sessions are named in the verdict's reasons.

    Examples
    --------
    One person from a synthetic cohort, whose true class is known:

    >>> from stimwise.analysis import assess, simulate_cohort
    >>> person = simulate_cohort(1, seed=1)[0]
    >>> person.truth.kind, assess(person.series).verdict.category
    ('habituating_responder', 'faded')

    From the records: ``assess(load_series(session, actor, pseudonym))`` with
    :func:`stimwise.analysis.from_records.load_series`.
    """
    verdict = classify(series)
    doses = dose_response(series)
    if verdict.category == "non_responder" and doses.habituation.detected:
        verdict = replace(
            verdict,
            category="faded",
            label=LABELS["faded"],
            reasons=(*verdict.reasons, doses.habituation.explanation
                     + "; consider changing the dose before concluding non-response"),
        )
    source = provenance(series)
    if source.self_reported:
        verdict = replace(verdict, reasons=(*verdict.reasons, "data: " + source.statement))
    return ResponseAssessment(verdict, relief_summary(series), doses, source)
