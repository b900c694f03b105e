"""A picture of one person's response: the diary with its windows, and relief per session.

matplotlib is imported inside :func:`plot_response` and used through an Agg canvas (no pyplot,
no display), as in :mod:`stimwise.waveform.plot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stimwise.analysis.assessment import ResponseAssessment
from stimwise.analysis.series import PatientSeries
from stimwise.errors import FieldProblem, InputError

FORMATS = ("png", "svg", "pdf")


def plot_response(series: PatientSeries, assessment: ResponseAssessment, out: Path) -> Path:
    path = Path(out)
    if path.suffix.lower().lstrip(".") not in FORMATS or not path.parent.is_dir():
        raise InputError(FieldProblem("--plot", str(out), "a .png, .svg or .pdf file in an "
                                      "existing directory"))
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 6.5), layout="constrained")
    FigureCanvasAgg(figure)
    diary_ax, relief_ax = figure.subplots(2, 1)
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
    figure.savefig(path, dpi=110)
    return path
