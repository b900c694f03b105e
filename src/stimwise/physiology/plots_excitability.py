"""Plots of single-fibre excitability: strength-duration, and one run at threshold."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.strength_duration import StrengthDuration

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_strength_duration(sd: StrengthDuration, path: Path, title: str = "") -> Path:
    """Thresholds (points) and the Weiss and Lapicque fits (lines), log-log, with the chronaxies."""
    path = _checked_path(path)
    plt = _pyplot()

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
    return _save(fig, path)


def plot_threshold_run(
    t_ms: np.ndarray, v_nodes_mv: np.ndarray, node_z_mm: np.ndarray, detect_node: int,
    path: Path, title: str = "",
) -> Path:
    """Membrane potential of every node over time at the threshold amplitude: a space-time map
    (where the action potential starts and how it runs) and the centre and detection nodes."""
    path = _checked_path(path)
    plt = _pyplot()

    centre = v_nodes_mv.shape[1] // 2
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True)
    mesh = top.pcolormesh(t_ms, node_z_mm, v_nodes_mv.T, shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=top, label="membrane potential (mV)")
    top.set_ylabel("position along the fibre (mm)")
    top.set_title(textwrap.fill(title, 90), fontsize=7)
    bottom.plot(t_ms, v_nodes_mv[:, centre], label="node under the source")
    bottom.plot(t_ms, v_nodes_mv[:, detect_node], label="detection node (90 %)")
    bottom.axhline(-30.0, color="grey", lw=0.8, ls=":", label="-30 mV criterion")
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("mV")
    bottom.legend(fontsize=8)
    return _save(fig, path)


def _checked_path(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(FieldProblem("plot", str(path), f"a file ending in {PLOT_SUFFIXES}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Label the figure as a model prediction, write it and free it."""
    fig.text(0.01, 0.01, "model prediction, not a diagnosis or a dose", fontsize=7, color="grey")
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path
