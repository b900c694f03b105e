"""Plots of single-fibre excitability (strength-duration)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.strength_duration import StrengthDuration

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_strength_duration(sd: StrengthDuration, path: Path, title: str = "") -> Path:
    """Thresholds (points) and the Weiss and Lapicque fits (lines), log-log, with the chronaxies."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(FieldProblem("plot", str(path), f"a file ending in {PLOT_SUFFIXES}"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = np.geomspace(sd.pulse_widths_ms.min(), sd.pulse_widths_ms.max(), 200)
    weiss = sd.weiss.rheobase_ma * (1 + sd.weiss.chronaxie_ms / d)
    tau = sd.lapicque.chronaxie_ms / np.log(2)
    lapicque = sd.lapicque.rheobase_ma / -np.expm1(-d / tau)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.loglog(sd.pulse_widths_ms, sd.thresholds_ma, "ko", label="model thresholds")
    ax.loglog(d, weiss, "-", label=f"Weiss: chronaxie {sd.weiss.chronaxie_ms * 1e3:.0f} µs")
    ax.loglog(d, lapicque, "--",
              label=f"Lapicque: chronaxie {sd.lapicque.chronaxie_ms * 1e3:.0f} µs")
    ax.axhline(sd.weiss.rheobase_ma, color="grey", lw=0.8, ls=":",
               label=f"rheobase {sd.weiss.rheobase_ma:.3g} mA")
    ax.set_xlabel("pulse width (ms)")
    ax.set_ylabel("threshold (mA)")
    ax.set_title(textwrap.fill(title, 90), fontsize=7)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, "model prediction, not a diagnosis or a dose", fontsize=7, color="grey")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
