"""A picture of one person's response: the diary with its windows, and relief per session.

Returns a :class:`matplotlib.figure.Figure` and draws into the caller's axes when given, as every
stimwise plot does (:mod:`stimwise.plotting`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stimwise.analysis.assessment import ResponseAssessment
from stimwise.analysis.series import PatientSeries
from stimwise.arguments import check_type
from stimwise.plotting import figure_and_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_response"]


def plot_response(
    series: PatientSeries,
    assessment: ResponseAssessment,
    *,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Daily pain with the baseline and assessment windows, and relief per session.

    Parameters
    ----------
    series
        One person's diary and sessions (:func:`stimwise.analysis.from_records.load_series`).
    assessment
        Its assessment (:func:`stimwise.analysis.assessment.assess`).
    ax
        Two axes to draw into (diary, then relief); by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    A simulated person from a synthetic cohort (no records needed):

    >>> from stimwise.analysis.assessment import assess
    >>> from stimwise.analysis.cohort import simulate_cohort
    >>> person = simulate_cohort(1, seed=3)[0]
    >>> figure = plot_response(person.series, assess(person.series))
    >>> [ax.get_xlabel() for ax in figure.axes]
    ['day of therapy', 'session']
    """
    check_type(series, PatientSeries, function="plot_response", name="series")
    check_type(assessment, ResponseAssessment, function="plot_response", name="assessment",
               hint="assess it first with stimwise.analysis.assessment.assess(series)")
    figure, (diary_ax, relief_ax) = figure_and_axes(
        ax, 2, function="plot_response", figsize=(9.0, 6.5)
    )
    verdict = assessment.verdict
    diary_ax.plot(series.pain.day, series.pain.nrs, ".", color="0.4", label="daily pain (NRS)")
    for window, colour, name in ((verdict.baseline, "tab:blue", "baseline"),
                                 (verdict.current, "tab:orange", "assessment window")):
        diary_ax.axvspan(window.first_day - 0.5, window.last_day + 0.5, color=colour, alpha=0.15,
                         label=name)
        if window.mean_nrs is not None:
            diary_ax.hlines(window.mean_nrs, window.first_day, window.last_day, colors=colour)
    diary_ax.axvline(-0.5, color="k", linewidth=0.8)
    diary_ax.set(xlabel="day of therapy", ylabel="pain NRS", ylim=(-0.3, 10.3),
                 title=f"{series.patient_id}: {verdict.label}")
    diary_ax.legend(loc="upper right", fontsize=8)
    relief = series.sessions.relief_nrs
    numbers = np.arange(1, len(series.sessions) + 1)
    relief_ax.plot(numbers, relief, ".", color="tab:green")
    fit = assessment.dose_response.habituation.fit
    if fit is not None:
        relief_ax.plot(numbers, fit.intercept + fit.slope * (numbers - 1), color="tab:red",
                       label="trend at a constant dose")
        relief_ax.legend(loc="upper right", fontsize=8)
    relief_ax.set(xlabel="session", ylabel="relief (NRS before − after)")
    return figure
