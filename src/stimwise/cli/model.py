"""``stimwise model threshold`` and ``stimwise model strength-duration``: single-fibre excitability.

Thin shells over :mod:`stimwise.physiology`: options become validated inputs (a bad value is named
by its option, exit 2), progress goes to stderr, ``--json`` prints one document on stdout. These
commands describe model predictions for a point source in a homogeneous medium; they are not a
diagnosis and not a dose, and deliver nothing.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Annotated

import typer

from stimwise.cli import output
from stimwise.cli import values as v
from stimwise.cli.errors import report_errors
from stimwise.cli.options import JsonFlag, PlotOption
from stimwise.cli.output import progress_on_stderr
from stimwise.numbers import Bounds

model_app = typer.Typer(
    no_args_is_help=True,
    help="Nerve-fibre models: thresholds, strength-duration and recruitment (model predictions, "
    "not a diagnosis or a dose).",
)

DISCLAIMER = (
    "Model prediction for an idealised fibre and source; not a diagnosis, not a safe or "
    "effective dose."
)
FiberOption = Annotated[str, typer.Option("--fiber", help="mrg (myelinated) or c (unmyelinated).")]
DiameterOption = Annotated[float, typer.Option(
    "--diameter-um", parser=v.finite("µm"), help="Fibre diameter (µm).",
)]
DistanceOption = Annotated[
    float, typer.Option(
        "--distance-mm", parser=v.finite("mm"),
        help="Point source distance above the middle node (mm).",
    )
]
WaveformOption = Annotated[
    str, typer.Option("--waveform", help="monophasic (cathodic) or biphasic (cathodic first).")
]
TemperatureOption = Annotated[float, typer.Option(
    "--temperature-c", parser=v.finite("°C"), help="Temperature (°C).",
)]
LengthOption = Annotated[
    float | None, typer.Option(
        "--length-mm", parser=v.finite("mm"), help="Fibre length (default 40 mm MRG, 6 mm C).",
    )
]
ConductivityOption = Annotated[
    float, typer.Option(
        "--conductivity-s-per-m", parser=v.finite("S/m"), help="Conductivity of the medium (S/m).",
    )
]
DurationOption = Annotated[
    float | None,
    typer.Option(
        "--duration-ms", parser=v.finite("ms"), help="Simulated time (default 10 ms MRG, 35 ms C).",
    ),
]
TolOption = Annotated[
    float, typer.Option(
        "--rel-tol", parser=v.FINITE, help="Relative width of the final bracket (0.001 = 0.1 %).",
    )
]
MS = Bounds("ms")


@contextlib.contextmanager
def named_options() -> Iterator[None]:
    """Re-label the physiology API's input errors (``diameter_um``) as options."""
    from stimwise.errors import FieldProblem, InputError

    try:
        yield
    except InputError as error:
        problems = [
            FieldProblem("--" + p.path.replace("_", "-") if "[" not in p.path else p.path,
                         p.value, p.expected)
            for p in error.problems
        ]
        raise InputError(problems, error.source) from None


def _inputs(**values) -> dict:
    return {key: value for key, value in values.items()}


@model_app.command("threshold")
@report_errors()
def threshold_command(
    fiber: FiberOption = "mrg",
    diameter_um: DiameterOption = 10.0,
    distance_mm: DistanceOption = 1.0,
    pulse_width_ms: Annotated[
        float, typer.Option(
            "--pulse-width-ms", parser=v.number(MS),
            help="Pulse width (per phase when biphasic, ms).",
        )
    ] = 0.1,
    waveform: WaveformOption = "monophasic",
    temperature_c: TemperatureOption = 37.0,
    length_mm: LengthOption = None,
    conductivity_s_per_m: ConductivityOption = 0.2,
    duration_ms: DurationOption = None,
    rel_tol: TolOption = 1e-3,
    plot: PlotOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Threshold current (magnitude, mA) of one fibre under a point source, cathodic first;
    ``--plot`` draws the run at threshold (where the action potential starts and runs)."""
    from stimwise.physiology.single_fiber import fiber_threshold
    from stimwise.plotting import check_figure_path, save_figure

    start = time.perf_counter()
    if plot is not None:
        check_figure_path(plot, "--plot")
    with named_options(), progress_on_stderr("threshold search") as progress:
        result = fiber_threshold(
            fiber, diameter_um=diameter_um, distance_mm=distance_mm,
            pulse_width_ms=pulse_width_ms, waveform=waveform, temperature_c=temperature_c,
            length_mm=length_mm, conductivity_s_per_m=conductivity_s_per_m,
            duration_ms=duration_ms, rel_tol=rel_tol, progress=progress,
        )
    built, stim = result.fiber, result.stimulus
    written = None
    if plot is not None and result.excited:
        with named_options():
            written = str(save_figure(result.plot(), plot, field="--plot"))
    document = {
        "threshold_ma": _number(result.threshold_ma),
        "lower_ma": _number(result.lower_ma),
        "upper_ma": _number(result.upper_ma),
        "relative_bracket": _number((result.upper_ma - result.lower_ma) / result.upper_ma),
        "latency_ms": _number(result.latency_ms),
        "ap_time_ms": _number(result.ap_time_ms),
        "initiation_node": result.initiation_node,
        "centre_node": result.centre_node,
        "detect_node": built.detect_node,
        "n_simulations": result.n_simulations,
        "wall_s": round(time.perf_counter() - start, 3),
        "warnings": list(result.warnings),
        "plot": written,
        "model": built.description,
        "stimulus": stim.description + f", run {stim.duration_ms:g} ms at dt {stim.dt_ms:g} ms",
        "inputs": _inputs(fiber=fiber, diameter_um=diameter_um, distance_mm=distance_mm,
                          pulse_width_ms=pulse_width_ms, waveform=waveform,
                          temperature_c=temperature_c, length_mm=built.total_length_mm,
                          conductivity_s_per_m=conductivity_s_per_m, rel_tol=rel_tol),
        "note": DISCLAIMER,
    }
    if as_json:
        output.print_json(document)
        return
    from rich.console import Console

    console = Console()
    if document["threshold_ma"] is None:
        console.print("[bold]no excitation[/] within the search's amplitude range")
    else:
        console.print(f"[bold]{document['threshold_ma']:.5g} mA[/] threshold "
                      f"(bracket {document['lower_ma']:.5g}–{document['upper_ma']:.5g} mA), "
                      f"AP at node {document['initiation_node']} "
                      f"(centre {document['centre_node']}), "
                      f"latency {document['latency_ms']:.3f} ms")
    console.print(f"{built.description}; {document['stimulus']}; {document['wall_s']} s")
    for warning in document["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    if written:
        console.print(f"wrote {written}")
    console.print(f"[dim]{DISCLAIMER}[/]")


@model_app.command("strength-duration")
@report_errors()
def strength_duration_command(
    fiber: FiberOption = "mrg",
    diameter_um: DiameterOption = 10.0,
    distance_mm: DistanceOption = 1.0,
    pulse_widths_ms: Annotated[
        str, typer.Option("--pulse-widths-ms", help="Comma-separated pulse widths (ms).")
    ] = "0.02,0.05,0.1,0.2,0.5,1.0",
    waveform: WaveformOption = "monophasic",
    temperature_c: TemperatureOption = 37.0,
    length_mm: LengthOption = None,
    conductivity_s_per_m: ConductivityOption = 0.2,
    rel_tol: TolOption = 1e-3,
    plot: PlotOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Thresholds over pulse widths with fitted rheobase and chronaxie (Weiss, Lapicque)."""
    from stimwise.errors import FieldProblem, InputError
    from stimwise.physiology.single_fiber import fiber_under_point_source
    from stimwise.physiology.strength_duration import strength_duration
    from stimwise.plotting import check_figure_path

    start = time.perf_counter()
    if plot is not None:
        check_figure_path(plot, "--plot")
    with named_options():
        try:
            widths = tuple(
                float(MS.parse(w)) for w in pulse_widths_ms.split(",") if w.strip()
            )
        except ValueError:
            raise InputError(FieldProblem("pulse_widths_ms", pulse_widths_ms,
                                          "comma-separated numbers (ms)")) from None
        built, ve = fiber_under_point_source(
            fiber, diameter_um, distance_mm, temperature_c=temperature_c, length_mm=length_mm,
            conductivity_s_per_m=conductivity_s_per_m,
        )
        with progress_on_stderr("strength-duration") as progress:
            sd = strength_duration(built, ve, widths, waveform, rel_tol, progress)
    written = None
    if plot is not None:
        from stimwise.physiology.plots_excitability import plot_strength_duration
        from stimwise.plotting import save_figure

        figure = plot_strength_duration(sd, title=built.description)
        written = str(save_figure(figure, plot, field="--plot"))
    document = {
        "pulse_widths_ms": sd.pulse_widths_ms.tolist(),
        "thresholds_ma": [_number(v) for v in sd.thresholds_ma],
        "weiss": vars(sd.weiss),
        "lapicque": vars(sd.lapicque),
        "rheobase_ma": sd.weiss.rheobase_ma,
        "chronaxie_ms": sd.weiss.chronaxie_ms,
        "warnings": sd.warnings,
        "plot": written,
        "wall_s": round(time.perf_counter() - start, 3),
        "model": built.description,
        "inputs": _inputs(fiber=fiber, diameter_um=diameter_um, distance_mm=distance_mm,
                          waveform=waveform, temperature_c=temperature_c,
                          conductivity_s_per_m=conductivity_s_per_m, rel_tol=rel_tol),
        "note": DISCLAIMER,
    }
    if as_json:
        output.print_json(document)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="strength-duration")
    table.add_column("pulse width (ms)")
    table.add_column("threshold (mA)")
    for w, thr in zip(sd.pulse_widths_ms, sd.thresholds_ma, strict=True):
        table.add_row(f"{w:g}", f"{thr:.5g}")
    console = Console()
    console.print(built.description)
    console.print(table)
    for fit in (sd.weiss, sd.lapicque):
        console.print(f"{fit.law}: rheobase {fit.rheobase_ma:.4g} mA, chronaxie "
                      f"{fit.chronaxie_ms * 1000:.0f} µs (max residual "
                      f"{fit.max_relative_residual:.1%})")
    for warning in sd.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if written:
        console.print(f"wrote {written}")
    console.print(f"[dim]{DISCLAIMER}[/]")


def _number(value: float) -> float | None:
    """JSON has no NaN: a missing value is null."""
    return None if not math.isfinite(value) else float(value)
