"""``stimwise`` command line (ARCHITECTURE §4). Imports are lazy so ``check --json`` starts fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import inputs, output
from stimwise.cli import values as v
from stimwise.cli.analysis import register as register_analysis
from stimwise.cli.config import register as register_config
from stimwise.cli.device_profiles import register as register_device_profiles
from stimwise.cli.errors import EXIT_BLOCKED, report_errors
from stimwise.cli.interop import register as register_interop
from stimwise.cli.model import model_app
from stimwise.cli.model_population import register as register_model_population
from stimwise.cli.options import (
    AmplitudeOption,
    AreaOption,
    IntakeFileArg,
    JsonFlag,
    MinutesOption,
    ProtocolArg,
)
from stimwise.cli.records import register as register_records
from stimwise.cli.serve import register as register_serve
from stimwise.numbers import Bounds
from stimwise.session.limits import SETTING_BOUNDS

app = typer.Typer(
    no_args_is_help=True,
    help="Safe, personalised electrical stimulation: protocols, waveforms and safety checks. "
    "Clinical-decision support and research software, not a certified medical device.",
)


def _print_version(value: bool) -> None:
    if value:
        from stimwise import __version__

        print(f"stimwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print stimwise's version and exit."),
    ] = False,
) -> None:
    """Options of ``stimwise`` itself (``--version``; Typer adds ``--install-completion`` and
    ``--show-completion`` for shell completion)."""


protocols_app = typer.Typer(no_args_is_help=True, help="The evidence-based protocol library.")
waveform_app = typer.Typer(no_args_is_help=True, help="Plot and export sampled waveforms.")
instruments_app = typer.Typer(no_args_is_help=True, help="Assessment instruments and scoring.")
app.add_typer(protocols_app, name="protocols")
app.add_typer(waveform_app, name="waveform")
app.add_typer(instruments_app, name="instruments")
session_app = typer.Typer(no_args_is_help=True, help="Run stimulation sessions on a stimulator.")
app.add_typer(session_app, name="session")
register_records(app, session_app)
register_analysis(app)
app.add_typer(model_app, name="model")
register_model_population(model_app)
register_serve(app)
register_interop(app)
register_device_profiles(app)
register_config(app)

# --------------------------------------------------------------------------- protocols


@protocols_app.command("list")
@report_errors()
def protocols_list(as_json: JsonFlag = False) -> None:
    """List the library's protocols."""
    from stimwise.protocol.library import library

    protocols = list(library().values())
    if as_json:
        output.print_json(
                [
                    {
                        "id": p.id,
                        "name": p.name,
                        "modality": p.modality,
                        "goal": p.goal,
                        "expected_verdict": p.expected_verdict,
                    }
                    for p in protocols
                ])
        return
    from stimwise.cli.render import protocols_table

    output.console().print(protocols_table(protocols))


@protocols_app.command("show")
@report_errors()
def protocols_show(protocol: ProtocolArg, as_json: JsonFlag = False) -> None:
    """Show one protocol in full (its parameters, ranges and evidence)."""
    from stimwise.protocol.library import get_protocol

    found = get_protocol(protocol)
    if as_json:
        print(found.model_dump_json(indent=2))
        return
    import yaml

    console = output.console()
    console.print(f"[bold]{found.name}[/] ({found.id})")
    console.print(
        yaml.safe_dump(found.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    )


# --------------------------------------------------------------------------- check


@app.command("check")
@report_errors()
def check(
    protocol: ProtocolArg,
    electrode_area_cm2: AreaOption = None,
    load_ohm: Annotated[
        float,
        typer.Option(
            "--load-ohm", parser=v.number(Bounds("Ω", ge=1, le=1_000_000)),
            help="Resistive load for the limits (Ω).",
        ),
    ] = 500.0,
    amplitude_ma: AmplitudeOption = None,
    minutes: MinutesOption = None,
    fda_loads: Annotated[
        bool, typer.Option("--fda-loads", help="Also judge at 2 kΩ and 10 kΩ (FDA tracings).")
    ] = False,
    caps: Annotated[
        Path | None, typer.Option("--caps", help="Patient caps file (YAML/JSON) from screening.")
    ] = None,
    patient: Annotated[
        Path | None,
        typer.Option("--patient", help="Patient intake file: screen it and apply its caps."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compute the exact safety metrics and the verdict. Exit 1 when blocked."""
    from stimwise.safety.verify import verify

    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, minutes)
    extra = (2000.0, 10_000.0) if fda_loads else ()
    patient_caps = inputs.caps(caps, patient)
    report = verify(prescription, caps=patient_caps, load_ohm=load_ohm, extra_loads_ohm=extra)
    if as_json:
        from stimwise.cli.documents import check_document

        output.print_json(check_document(report))
    else:
        from stimwise.cli.render import print_report

        print_report(output.console(), report)
    if report.verdict == "block":
        raise typer.Exit(EXIT_BLOCKED)


# --------------------------------------------------------------------------- waveform


OutOption = Annotated[Path, typer.Option("--out", help="Output file; its suffix picks the format.")]
SampleRateOption = Annotated[
    float | None,
    typer.Option(
        "--sample-rate-hz", parser=v.SAMPLE_RATE_HZ,
        help="Samples per second (default: automatic).",
    ),
]


@waveform_app.command("plot")
@report_errors()
def waveform_plot(
    protocol: ProtocolArg,
    out: OutOption,
    seconds: Annotated[
        float | None, typer.Option("--seconds", parser=v.SECONDS, help="Envelope span (s).")
    ] = None,
    sample_rate_hz: SampleRateOption = None,
    electrode_area_cm2: AreaOption = None,
    amplitude_ma: AmplitudeOption = None,
) -> None:
    """Plot one pulse, one second of the train and the envelope (png, svg or pdf)."""
    from stimwise.plotting import check_figure_path, save_figure
    from stimwise.waveform.plot import plot_prescription

    check_figure_path(out, "out")
    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, None)
    figure = plot_prescription(
        prescription, sample_rate_hz=sample_rate_hz, envelope_seconds=seconds
    )
    print(f"wrote {save_figure(figure, out, field='out')}")


@waveform_app.command("export")
@report_errors()
def waveform_export(
    protocol: ProtocolArg,
    out: OutOption,
    seconds: Annotated[
        float,
        typer.Option(
            "--seconds", parser=v.SECONDS,
            help="Duration to export (s; at most 28,800 s and 10^8 samples × channels).",
        ),
    ] = 10.0,
    sample_rate_hz: SampleRateOption = None,
    electrode_area_cm2: AreaOption = None,
    amplitude_ma: AmplitudeOption = None,
    caps: Annotated[Path | None, typer.Option("--caps", help="Patient caps file.")] = None,
) -> None:
    """Export verified samples to NPZ, CSV or WAV with a JSON sidecar. Exit 1 when blocked."""
    from stimwise.export.files import export_samples
    from stimwise.safety.verify import verify
    from stimwise.waveform.sampler import default_sample_rate_hz

    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, None)
    plan = verify(prescription, caps=inputs.caps(caps)).require_plan()
    rate = sample_rate_hz or default_sample_rate_hz(prescription)
    path = export_samples(plan, out, sample_rate_hz=rate, duration_s=seconds)
    print(f"wrote {path} and {path}.json ({seconds:g} s at {rate:g} Hz)")


# --------------------------------------------------------------------------- clinical


@app.command("screen")
@report_errors()
def screen_command(patient: IntakeFileArg, as_json: JsonFlag = False) -> None:
    """Contraindication screening with per-site rules. Exit 1 unless stimulation may go ahead
    (not eligible, or specialist clearance still needed)."""
    from stimwise.clinical.screening import screen
    from stimwise.clinical.texts import clinician_text, patient_text

    intake = inputs.intake(patient)
    screening = screen(intake)
    if as_json:
        document = screening.model_dump(mode="json")
        document["clinician_text"] = clinician_text(screening)
        document["patient_text"] = patient_text(screening)
        output.print_json(document)
    else:
        from stimwise.cli.render_clinical import print_screening

        print_screening(output.console(), screening, intake.allodynic_sites)
    if not screening.eligible:
        raise typer.Exit(EXIT_BLOCKED)


@app.command("recommend")
@report_errors()
def recommend_command(patient: IntakeFileArg, as_json: JsonFlag = False) -> None:
    """Ranked protocol suggestions, each verified with the screening's caps. Exit 1 when the
    screening does not allow stimulation."""
    from stimwise.clinical.recommend import recommend
    from stimwise.clinical.screening import screen

    intake = inputs.intake(patient)
    screening = screen(intake)
    report = recommend(intake, screening)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        from stimwise.cli.render_clinical import print_recommendations

        print_recommendations(output.console(), report)
    if not screening.eligible:
        raise typer.Exit(EXIT_BLOCKED)


@instruments_app.command("list")
@report_errors()
def instruments_list(as_json: JsonFlag = False) -> None:
    """The instruments stimwise scores, with their licence status."""
    from stimwise.clinical.instruments import INSTRUMENTS

    rows = [
        {"id": spec.id, "name": spec.name, "items": len(spec.items),
         "licence": spec.licence.status}
        for spec in INSTRUMENTS.values()
    ]
    if as_json:
        output.print_json(rows)
        return
    from rich.table import Table

    table = Table(title="assessment instruments (see docs/instruments.md)")
    for column in ("id", "name", "items", "licence"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("id", "name", "items", "licence")))
    output.console().print(table)


@instruments_app.command("score")
@report_errors()
def instruments_score(
    answers: Annotated[Path, typer.Argument(help="An answer file (YAML/JSON) with responses.")],
    as_json: JsonFlag = False,
) -> None:
    """Check and score completed instruments; every bad answer is named with its path."""
    from stimwise.clinical.instruments import load_responses_file, score_all

    scores = score_all(load_responses_file(answers))
    if as_json:
        output.print_json([s.model_dump(mode="json") for s in scores])
        return
    console = output.console()
    for s in scores:
        total = f"{s.total:g}/{s.max_total:g}  " if s.total is not None else ""
        console.print(f"[bold]{s.instrument}[/] ({s.version}): {total}{s.interpretation}")


# --------------------------------------------------------------------------- session


@session_app.command("run")
@report_errors()
def session_run(
    protocol: ProtocolArg,
    device: Annotated[
        str,
        typer.Option(
            "--device", help="'sim' (simulated), 'rehastim2:PORT' or 'p24:PORT' (devices list)."
        ),
    ] = "sim",
    patient: Annotated[
        Path | None, typer.Option("--patient", help="Intake file: screen it and apply its caps.")
    ] = None,
    minutes: MinutesOption = None,
    amplitude_ma: AmplitudeOption = None,
    electrode_area_cm2: AreaOption = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Journal file (JSON lines); a new file.")
    ] = None,
    auto: Annotated[
        bool, typer.Option("--auto", help="No keys: a scripted person answers the prompts.")
    ] = False,
    sensation_ma: Annotated[
        float | None,
        typer.Option("--sensation-ma", parser=v.MA, help="--auto: felt from this amplitude."),
    ] = None,
    comfortable_ma: Annotated[
        float | None,
        typer.Option(
            "--comfortable-ma", parser=v.MA, help="--auto: strong but comfortable from here."
        ),
    ] = None,
    motor_ma: Annotated[
        float | None,
        typer.Option("--motor-ma", parser=v.MA, help="--auto: visible twitch from here."),
    ] = None,
    target_ma: Annotated[
        float | None,
        typer.Option(
            "--target-ma", parser=v.MA,
            help="Skip calibration and use this therapeutic level (mA, at most the plan's).",
        ),
    ] = None,
    calibration_step_s: Annotated[
        float,
        typer.Option(
            "--calibration-step-s", parser=v.number(SETTING_BOUNDS["calibration_step_s"]),
            help="Hold time of each calibration step (s).",
        ),
    ] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Run one session: pre-checks, calibration, ramps, stimulation, post-checks. Exit 1 when
    the device refused the plan (nothing delivered), 3 when the session was aborted (fault,
    lead-off, link loss, emergency stop, Ctrl-C or SIGTERM)."""
    from stimwise.cli.session import (
        closing_paragraph,
        default_journal_path,
        exit_code,
        run_live,
        scripted_responder,
        settings_for,
    )
    from stimwise.device.registry import open_device
    from stimwise.safety.verify import verify
    from stimwise.session.journal import Journal
    from stimwise.session.prompts import QueuedResponder
    from stimwise.session.runtime import SessionRunner

    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, minutes)
    if target_ma is not None and target_ma > prescription.max_amplitude_ma:
        from stimwise.errors import FieldProblem, InputError

        raise InputError(FieldProblem(
            "--target-ma", target_ma,
            f"at most the prescribed amplitude ({prescription.max_amplitude_ma:g} mA)",
        ))
    caps = None
    intake = None if patient is None else inputs.intake(patient)
    if intake is not None:
        from stimwise.clinical.screening import screen

        caps = screen(intake).require_eligible()
    plan = verify(prescription, caps=caps).require_plan()
    stimulator = open_device(device)
    path = journal or default_journal_path(prescription.protocol.id)
    # verify() above already holds the amplitude within the caps: the plan's is the ceiling.
    responder = (
        scripted_responder(prescription.max_amplitude_ma, sensation_ma, comfortable_ma, motor_ma)
        if auto else QueuedResponder()
    )
    runner = SessionRunner(
        plan, stimulator, Journal(path), responder, caps=caps,
        settings=settings_for(calibration_step_s, target_ma),
        patient_id=None if intake is None else intake.patient_id,
    )
    console = output.console() if not as_json else output.console_to_stderr()
    if not plan.patient_specific:
        console.print(
            "[yellow]plan not patient-specific[/] (no --patient: verified without anyone's "
            "screening caps); a research or demonstration run, journaled as such"
        )
    record = run_live(console, runner, responder, interactive=not auto)
    console.print()
    if as_json:
        document = record.model_dump(mode="json")
        document["journal"] = str(path)
        document["cause"] = runner.end_cause
        output.print_json(document)
    console.print(closing_paragraph(runner, record, path), markup=False)
    code = exit_code(runner, record)
    if code:
        raise typer.Exit(code)


@session_app.command("recover")
@report_errors()
def session_recover(
    journal: Annotated[Path, typer.Argument(help="The journal of a session that did not end.")],
    as_json: JsonFlag = False,
) -> None:
    """Close a crashed session's journal as aborted (it is never resumed) and print its record.
    A journal whose chain or values are damaged is not touched: its problems are listed (exit
    2)."""
    from stimwise.session.journal import journal_record, read_journal, recover

    source = str(journal)
    was_ended = read_journal(journal).ended
    contents = recover(journal)
    record = journal_record(contents, source)
    if as_json:
        document = record.model_dump(mode="json")
        document.update(recovered_now=not was_ended, torn_lines=contents.torn_lines)
        output.print_json(document)
        return
    status = (
        "already closed by its session end"
        if was_ended
        else "the session ended abnormally (its journal had no session end); closed now as "
        "aborted, never resumed"
    )
    output.console().print(
        f"{journal}: {status}. Outcome {record.outcome} ({record.reason}); "
        f"{record.stimulation_s:.1f} s stimulated, max {record.max_amplitude_ma:.2f} mA; "
        f"torn lines: {contents.torn_lines}",
        markup=False, highlight=False,
    )


emulate_app = typer.Typer(
    no_args_is_help=True, help="Device emulators, for testing without hardware."
)
app.add_typer(emulate_app, name="emulate")
PulseLogOption = Annotated[
    Path | None,
    typer.Option("--pulse-log", help="Append every delivered pulse to this JSONL file."),
]
LinkOption = Annotated[
    Path | None, typer.Option("--link", help="Also publish the port as this symlink.")
]


@emulate_app.command("rehastim2")
@report_errors(json_flag=None)
def emulate_rehastim2(
    policy: Annotated[
        str,
        typer.Option(
            "--policy", help="strict: answer out-of-range values with -2; lenient: clamp and warn."
        ),
    ] = "lenient",
    watchdog_ms: Annotated[
        float,
        typer.Option(
            "--watchdog-ms", parser=v.number(Bounds("ms", ge=1, le=60_000)),
            help="Watchdog timeout (ms).",
        ),
    ] = 1200.0,
    watchdog_policy: Annotated[
        str,
        typer.Option(
            "--watchdog-policy",
            help="enforce: stop and resend Init on timeout; warn: only log it (pyScienceMode).",
        ),
    ] = "enforce",
    ack_latency_ms: Annotated[
        float,
        typer.Option(
            "--ack-latency-ms", parser=v.number(Bounds("ms", ge=0, le=10_000)),
            help="Delay of every Ack (ms).",
        ),
    ] = 5.0,
    pulse_log: PulseLogOption = None,
    link: LinkOption = None,
) -> None:
    """Emulate a RehaStim 2 (ScienceMode2) on a pseudo-terminal until Ctrl-C."""
    from stimwise.cli.emulate import run_emulator_cli

    run_emulator_cli(
        policy=policy,
        watchdog_ms=watchdog_ms,
        watchdog_policy=watchdog_policy,
        ack_latency_ms=ack_latency_ms,
        pulse_log=pulse_log,
        link=link,
    )


@emulate_app.command("p24")
@report_errors(json_flag=None)
def emulate_p24(
    keepalive_ms: Annotated[
        float,
        typer.Option(
            "--keepalive-ms", parser=v.number(Bounds("ms", ge=1, le=60_000)),
            help="Mid-level stimulation stops without Ml_update or Ml_get_current_data this long.",
        ),
    ] = 2000.0,
    ack_latency_ms: Annotated[
        float,
        typer.Option(
            "--ack-latency-ms", parser=v.number(Bounds("ms", ge=0, le=10_000)),
            help="Delay of every answer (ms).",
        ),
    ] = 2.0,
    pulse_log: PulseLogOption = None,
    link: LinkOption = None,
) -> None:
    """Emulate a Hasomed RehaMove P24 (ScienceMode4) on a pseudo-terminal until Ctrl-C."""
    from stimwise.cli.emulate import run_p24_emulator_cli

    run_p24_emulator_cli(
        keepalive_ms=keepalive_ms, ack_latency_ms=ack_latency_ms, pulse_log=pulse_log, link=link
    )


devices_app = typer.Typer(no_args_is_help=True, help="The stimulators stimwise can drive.")
app.add_typer(devices_app, name="devices")


@devices_app.command("list")
@report_errors()
def devices_list(as_json: JsonFlag = False) -> None:
    """The registered drivers, how to name them in --device, and what each can deliver."""
    from stimwise.cli.render_devices import device_table, devices_document

    if as_json:
        output.print_json(devices_document())
    else:
        output.console().print(device_table())


# --------------------------------------------------------------------------- schema and demo


@app.command("schema")
@report_errors()
def schema(
    name: Annotated[
        str,
        typer.Argument(
            help="patient, instrument-responses, protocol, prescription, patient-caps, limits, "
            "device-profile, body-sites or site-selectors"
        ),
    ],
) -> None:
    """Print the JSON Schema of a file format (or the list of body sites)."""
    from stimwise.cli.schemas import schema_document

    output.print_json(schema_document(name))


@app.command("demo")
@report_errors(json_flag=None)
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Where the demo writes its plot and export.")
    ] = Path("stimwise-demo"),
) -> None:
    """End-to-end walk-through on embedded defaults: library, checks, the safety gate, a plot."""
    from stimwise.cli.demo import run_demo
    from stimwise.extras import require_extra

    for extra in ("plots", "fhir"):  # its figure, its records and their FHIR export
        require_extra(extra, "stimwise demo")

    run_demo(output.console(), out_dir)


def run() -> None:
    """Console-script entry point."""
    app()
