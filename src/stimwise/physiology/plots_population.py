"""Pictures of recruitment: curves per fibre class and the activation order of a report.

matplotlib is imported inside the functions and used through an Agg canvas without pyplot (no
display, no global state). Every figure carries the words "model prediction".
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.activation_report import ActivationReport
from stimwise.physiology.recruitment import RecruitmentCurves, class_labels

PLOT_FORMATS = ("png", "svg", "pdf")
COLOURS = {"abeta": "tab:blue", "adelta": "tab:orange", "c": "tab:red", "aalpha": "tab:green"}
_NOTE = "model prediction, not a diagnosis or a dose"


def _checked_path(out_path: str | os.PathLike[str]) -> Path:
    path = Path(out_path)
    if path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise InputError(FieldProblem("plot", str(out_path), "a .png, .svg or .pdf file"))
    if not path.parent.is_dir():
        raise InputError(FieldProblem("plot", str(out_path), "a file in an existing directory"))
    return path


def _figure(n_rows: int):
    """Rows sharing one logarithmic amplitude axis, labelled with plain numbers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogFormatter, NullFormatter

    figure = Figure(figsize=(8.0, 4.0 * n_rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(n_rows, 1, squeeze=False, sharex=True)[:, 0]
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelbottom=True)
    return figure, axes


def _save(figure, path: Path) -> Path:
    """Write through a temporary file and a rename: never a half-written picture."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            figure.savefig(stream, format=path.suffix.lower().lstrip("."), dpi=120)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def _draw_curves(ax, curves: RecruitmentCurves, amplitude_ma: float | None) -> None:
    labels = class_labels()
    for cid, fraction in curves.fractions.items():
        ax.plot(
            curves.amplitudes_ma,
            100 * fraction,
            color=COLOURS.get(cid),
            label=labels.get(cid, cid),
        )
    if amplitude_ma is not None:
        ax.axvline(amplitude_ma, color="k", linestyle="--", label=f"{amplitude_ma:g} mA assumed")
    ax.set_xlabel("peak amplitude of the leading phase (mA)")
    ax.set_ylabel("fibres recruited (% of the simulated class)")
    ax.set_ylim(-2, 102)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def plot_recruitment(
    curves: RecruitmentCurves,
    out_path: str | os.PathLike[str],
    *,
    title: str,
    amplitude_ma: float | None = None,
) -> Path:
    """Fraction recruited vs amplitude, one line per class."""
    path = _checked_path(out_path)
    figure, (ax,) = _figure(1)
    _draw_curves(ax, curves, amplitude_ma)
    ax.set_title(f"{title}\n({_NOTE})", fontsize=10)
    return _save(figure, path)


def plot_activation(report: ActivationReport, out_path: str | os.PathLike[str]) -> Path:
    """Recruitment curves and, below, each class's 10–90 % recruitment range in activation
    order, with the assumed amplitude marked."""
    path = _checked_path(out_path)
    figure, (curves_ax, order_ax) = _figure(2)
    amplitude = report.assumed_amplitude_ma
    _draw_curves(curves_ax, report.curves, amplitude)
    by_id = {c.class_id: c for c in report.classes}
    order = report.order
    for row, cid in enumerate(reversed(order)):
        summary = by_id[cid]
        if summary.onset_ma is None:
            order_ax.text(amplitude, row, "  not recruited in range", va="center", fontsize=8)
            continue
        top = summary.most_ma or summary.onset_ma
        order_ax.plot([summary.onset_ma, top], [row, row], color=COLOURS.get(cid), linewidth=6)
        if summary.half_ma is not None:
            order_ax.plot(summary.half_ma, row, "k|", markersize=14)
    order_ax.axvline(amplitude, color="k", linestyle="--")
    order_ax.set_yticks(range(len(order)), [by_id[c].label for c in reversed(order)], fontsize=8)
    order_ax.set_xlabel("amplitude recruiting 10 % → 90 % of the class (| = 50 %), mA")
    flags = "; ".join(report.flags)
    figure.suptitle(
        f"{report.protocol_id}: {report.waveform}, {amplitude:g} mA assumed "
        f"(safety verdict: {report.safety_verdict})\n{_NOTE}" + (f"\n{flags}" if flags else ""),
        fontsize=9,
    )
    return _save(figure, path)
