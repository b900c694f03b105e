"""``stimwise model recruitment`` and ``stimwise model activation``: fibre-population predictions.

Thin shells over :mod:`stimwise.physiology` (recruitment, estimator, sweep, activation_report):
options become validated inputs, progress goes to stderr, ``--json`` prints one document on
stdout. Both commands describe model predictions; neither delivers or exports stimulation.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import inputs, output
from stimwise.cli import values as v
from stimwise.cli.errors import report_errors
from stimwise.cli.options import AreaOption, JsonFlag, PlotOption
from stimwise.cli.output import progress_on_stderr

SkinOption = Annotated[
    float | None, typer.Option(
        "--skin-mm", parser=v.finite("mm"), help="Skin thickness (default 1.06 mm, cited).",
    )
]
FatOption = Annotated[
    float | None, typer.Option(
        "--fat-mm", parser=v.finite("mm"), help="Subcutaneous fat thickness (default 3 mm).",
    )
]
GapOption = Annotated[
    float, typer.Option(
        "--gap-mm", parser=v.finite("mm"), help="Edge-to-edge gap between the two electrodes (mm).",
    )
]
ShapeOption = Annotated[
    str, typer.Option("--electrode-shape", help="disc or square (of the same area).")
]
MotorDepthOption = Annotated[
    tuple[float, float] | None,
    typer.Option(
        "--motor-depth-mm", parser=v.finite("mm"),
        help="Motor axons LOW HIGH mm below the top of the muscle.",
    ),
]
FibersOption = Annotated[int, typer.Option(
    "--fibers", parser=v.WHOLE, help="Simulated fibres per class.",
)]
ClassesOption = Annotated[
    str, typer.Option("--classes", help="Comma-separated classes: abeta,adelta,c,aalpha.")
]
EstimatorOption = Annotated[
    str,
    typer.Option(
        "--estimator", help="fast (cached full-model tables, interpolated) or full (every fibre)."
    ),
]
SeedOption = Annotated[int, typer.Option(
    "--seed", parser=v.SEED, help="Seed of the simulated population.",
)]
DaskOption = Annotated[
    str | None,
    typer.Option("--dask", help="Run the full-model work on Dask: 'local' or an address."),
]
WorkersOption = Annotated[int, typer.Option(
    "--workers", parser=v.WHOLE, help="Workers of a local cluster.",
)]


def register(model_app: typer.Typer) -> None:
    """Add ``recruitment`` and ``activation`` to the ``stimwise model`` group."""
    model_app.command("recruitment")(recruitment_command)
    model_app.command("activation")(activation_command)


@contextlib.contextmanager
def _client(dask: str | None, workers: int) -> Iterator[object | None]:
    """A Dask client for ``--dask`` (closed afterwards), or None to stay in this process."""
    if dask is None:
        yield None
        return
    from stimwise.physiology.sweep import dask_client

    with dask_client(dask, n_workers=workers) as client:
        yield client


def _classes(text: str) -> tuple[str, ...]:
    from stimwise.errors import FieldProblem, InputError
    from stimwise.physiology.population import fiber_classes

    chosen = tuple(c.strip() for c in text.split(",") if c.strip())
    unknown = [c for c in chosen if c not in fiber_classes()]
    if unknown or not chosen:
        raise InputError(FieldProblem("--classes", text, f"ids from {sorted(fiber_classes())}"))
    return chosen


def _placement_inputs(skin_mm, fat_mm, gap_mm, shape, motor_depth_mm):
    from stimwise.physiology.activation_report import PlacementInputs

    return PlacementInputs(
        skin_mm=skin_mm,
        fat_mm=fat_mm,
        gap_mm=gap_mm,
        shape=shape,  # type: ignore[arg-type]
        motor_depth_mm=tuple(motor_depth_mm) if motor_depth_mm else None,
    )


def _class_rows(curves) -> list[dict]:
    from stimwise.physiology.activation_report import FULL_FRACTION, HALF_FRACTION, ONSET_FRACTION
    from stimwise.physiology.recruitment import class_labels

    labels = class_labels()
    onset = curves.amplitude_for_fraction(ONSET_FRACTION)
    half = curves.amplitude_for_fraction(HALF_FRACTION)
    most = curves.amplitude_for_fraction(FULL_FRACTION)
    return [
        {
            "class_id": cid,
            "label": labels[cid],
            "onset_ma": onset[cid],
            "half_ma": half[cid],
            "most_ma": most[cid],
        }
        for cid in curves.thresholds_ma
    ]


def _print_rows(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("class", "10 % recruited (mA)", "50 %", "90 %"):
        table.add_column(column)

    def shown(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    for row in rows:
        table.add_row(
            row["label"], shown(row["onset_ma"]), shown(row["half_ma"]), shown(row["most_ma"])
        )
    Console().print(table)


@report_errors()
def recruitment_command(
    protocol: Annotated[
        str | None, typer.Argument(help="A library id or protocol file (its first pulse).")
    ] = None,
    pulse_width_ms: Annotated[
        float | None,
        typer.Option(
            "--pulse-width-ms", parser=v.finite("ms"),
            help="Instead of a protocol: one pulse of this width.",
        ),
    ] = None,
    waveform: Annotated[
        str, typer.Option("--waveform", help="monophasic or biphasic (with --pulse-width-ms).")
    ] = "biphasic",
    electrode_area_cm2: AreaOption = None,
    electrode_shape: ShapeOption = "disc",
    gap_mm: GapOption = 20.0,
    skin_mm: SkinOption = None,
    fat_mm: FatOption = None,
    motor_depth_mm: MotorDepthOption = None,
    fibers: FibersOption = 250,
    classes: ClassesOption = "abeta,adelta,aalpha",
    estimator: EstimatorOption = "fast",
    dask: DaskOption = None,
    workers: WorkersOption = 2,
    seed: SeedOption = 0,
    plot: PlotOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Recruitment curves (fraction of each fibre class vs amplitude) for a placement and pulse.
    A model prediction, not a dose."""
    from stimwise.errors import FieldProblem, InputError
    from stimwise.physiology.activation_report import DISCLAIMER, population_thresholds
    from stimwise.physiology.population import sample_population
    from stimwise.physiology.recruitment import StimulusRecipe, recruitment_curves

    if (protocol is None) == (pulse_width_ms is None):
        raise InputError(
            FieldProblem("PROTOCOL", protocol, "either a protocol or --pulse-width-ms, not both")
        )
    layers = _placement_inputs(skin_mm, fat_mm, gap_mm, electrode_shape, motor_depth_mm)
    if protocol is not None:
        prescription = inputs.prescription(protocol, electrode_area_cm2, None, None)
        placement = layers.placement(prescription)
        recipe = StimulusRecipe.from_train(prescription.waveform)
        source = prescription.protocol.id
    else:
        if waveform not in ("monophasic", "biphasic"):
            raise InputError(FieldProblem("--waveform", waveform, "monophasic or biphasic"))
        area = 25.0 if electrode_area_cm2 is None else electrode_area_cm2
        placement = layers.placement_for_areas(area, area)
        recipe = StimulusRecipe(waveform, pulse_width_ms)  # type: ignore[arg-type]
        source = f"{waveform} pulse"
    overrides = layers.depth_overrides()
    population = sample_population(
        placement.conductor,
        fibers,
        classes=_classes(classes),
        electrode_half_extent_mm=placement.half_extent_mm,
        depth_overrides_mm=overrides,
        seed=seed,
    )
    started = time.perf_counter()
    with (
        progress_on_stderr(f"{estimator} model thresholds") as progress,
        _client(dask, workers) as client,
    ):
        thresholds = population_thresholds(
            population,
            placement,
            recipe,
            method=estimator,  # type: ignore[arg-type]
            depth_overrides_mm=overrides,
            progress=progress,
            client=client,
        )
    elapsed = time.perf_counter() - started
    curves = recruitment_curves(population, thresholds)
    rows = _class_rows(curves)
    if plot is not None:
        from stimwise.physiology.plots_population import plot_recruitment
        from stimwise.plotting import save_figure

        figure = plot_recruitment(curves, title=f"{source}: {recipe.label()}")
        save_figure(figure, plot, field="--plot")
    if as_json:
        document = {
            "kind": "model_prediction",
            "disclaimer": DISCLAIMER,
            "source": source,
            "waveform": recipe.label(),
            "placement": placement.describe(),
            "method": estimator if dask is None else f"{estimator} on dask ({dask})",
            "n_fibres_per_class": fibers,
            "wall_time_s": round(elapsed, 3),
            "classes": rows,
            "recruitment_curves": curves.to_dict(),
        }
        output.print_json(document)
        return
    _print_rows(rows, f"{source}: {recipe.label()} — model prediction, not a dose")
    if plot is not None:
        print(f"wrote {plot}")


@report_errors()
def activation_command(
    protocol: Annotated[str, typer.Argument(help="A library id or a protocol file.")],
    amplitude_ma: Annotated[
        float | None,
        typer.Option(
            "--amplitude-ma", parser=v.MA,
            help="Amplitude to describe (default: the prescribed max).",
        ),
    ] = None,
    electrode_area_cm2: AreaOption = None,
    electrode_shape: ShapeOption = "disc",
    gap_mm: GapOption = 20.0,
    skin_mm: SkinOption = None,
    fat_mm: FatOption = None,
    motor_depth_mm: MotorDepthOption = None,
    neuropathy_threshold_factor: Annotated[
        float,
        typer.Option(
            "--neuropathy-threshold-factor", parser=v.FINITE,
            help="Raise every threshold by this factor.",
        ),
    ] = 1.0,
    large_fiber_loss: Annotated[
        float,
        typer.Option(
            "--large-fiber-loss", parser=v.FINITE,
            help="Fraction (0-1) of A-beta/A-alpha fibres lost.",
        ),
    ] = 0.0,
    caps: Annotated[
        Path | None, typer.Option("--caps", help="Patient caps file (checks the amplitude).")
    ] = None,
    patient: Annotated[
        Path | None, typer.Option("--patient", help="Patient intake: screen it for caps.")
    ] = None,
    fibers: FibersOption = 250,
    classes: ClassesOption = "abeta,adelta,aalpha",
    estimator: EstimatorOption = "fast",
    dask: DaskOption = None,
    workers: WorkersOption = 2,
    seed: SeedOption = 0,
    plot: PlotOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Predicted order and amplitudes of sensory, motor and pain activation, and the A-beta vs
    A-delta/C fractions at the amplitude (gate control). Describes; never delivers."""
    from stimwise.physiology.activation_report import activation_report
    from stimwise.physiology.recruitment import Neuropathy

    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, None)
    neuropathy = Neuropathy(neuropathy_threshold_factor, large_fiber_loss, seed)
    with (
        progress_on_stderr(f"{estimator} model thresholds") as progress,
        _client(dask, workers) as client,
    ):
        report = activation_report(
            prescription,
            placement_inputs=_placement_inputs(
                skin_mm, fat_mm, gap_mm, electrode_shape, motor_depth_mm
            ),
            neuropathy=neuropathy,
            caps=inputs.caps(caps, patient),
            n_per_class=fibers,
            method=estimator,  # type: ignore[arg-type]
            classes=_classes(classes),
            seed=seed,
            progress=progress,
            client=client,
        )
    if plot is not None:
        from stimwise.physiology.plots_population import plot_activation
        from stimwise.plotting import save_figure

        save_figure(plot_activation(report), plot, field="--plot")
    if as_json:
        output.print_json(report.to_dict())
        return
    _print_activation(report)
    if plot is not None:
        print(f"wrote {plot}")


def _print_activation(report) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{report.protocol_id}[/]: {report.waveform}")
    console.print(
        f"assumed amplitude {report.assumed_amplitude_ma:g} mA "
        f"(protocol ceiling {report.prescribed_ceiling_ma:g} mA, "
        f"safety verdict: {report.safety_verdict})"
    )
    for flag in report.flags:
        console.print(f"[bold red]! {flag}[/]")
    by_id = {c.class_id: c for c in report.classes}
    _print_rows([vars(by_id[cid]) for cid in report.order], "activation order")
    console.print(report.statement())
    console.print(f"[dim]{report.to_dict()['disclaimer']}[/]")
