"""``stimwise demo``: the path from library to verified output on embedded defaults."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from stimwise.cli.render import DISCLAIMER, print_report, protocols_table

DEMO_PROTOCOL = "conventional-tens"
UNSAFE_PROTOCOL = "nmes-strengthening"
UNSAFE_AREA_CM2 = 1.0
UNSAFE_AMPLITUDE_MA = 200.0
DEMO_PATIENT = "crps-allodynia"


def run_demo(console: Console, out_dir: Path) -> None:
    from stimwise.errors import SafetyBlockError
    from stimwise.export.files import export_samples
    from stimwise.protocol.library import get_protocol, library
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.verify import verify
    from stimwise.waveform.plot import plot_prescription
    from stimwise.waveform.sampler import default_sample_rate_hz

    console.print(f"[bold]stimwise demo[/]  [dim]{DISCLAIMER}[/]")
    console.print(Rule("1. The evidence-based protocol library"))
    console.print(protocols_table(list(library().values())))

    protocol = get_protocol(DEMO_PROTOCOL)
    prescription = Prescription.from_protocol(protocol)
    console.print(Rule(f"2. Safety check of {DEMO_PROTOCOL} as prescribed"))
    report = verify(prescription, extra_loads_ohm=(2000.0, 10_000.0))
    print_report(console, report)

    console.print(
        Rule(
            f"3. {UNSAFE_PROTOCOL} on {UNSAFE_AREA_CM2:g} cm² electrodes at "
            f"{UNSAFE_AMPLITUDE_MA:g} mA (a pad or unit slip): the gate blocks it"
        )
    )
    unsafe = Prescription.from_protocol(
        get_protocol(UNSAFE_PROTOCOL),
        electrode_area_cm2=UNSAFE_AREA_CM2,
        max_amplitude_ma=UNSAFE_AMPLITUDE_MA,
    )
    blocked = verify(unsafe)
    print_report(console, blocked)
    try:
        blocked.require_plan()
    except SafetyBlockError as refusal:
        console.print(f"[red]export refused:[/] {refusal}")

    console.print(Rule("4. Plot and export of the verified plan"))
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot_prescription(prescription, out_dir / f"{DEMO_PROTOCOL}.png")
    plan = report.require_plan()
    rate = default_sample_rate_hz(prescription)
    export_path = export_samples(
        plan, out_dir / f"{DEMO_PROTOCOL}.npz", sample_rate_hz=rate, duration_s=2.0
    )
    console.print(f"plot: {plot_path}")
    console.print(f"2 s of samples at {rate:g} Hz: {export_path} (+ JSON sidecar)")
    run_clinical_demo(console)
    run_session_demo(console, out_dir)
    run_response_demo(console, out_dir)


def run_session_demo(console: Console, out_dir: Path) -> None:
    """A 12-second session on the simulated stimulator with a scripted person."""
    from stimwise.cli.session import (
        default_journal_path,
        run_live,
        scripted_responder,
        settings_for,
    )
    from stimwise.device.simulated import SimulatedStimulator
    from stimwise.protocol.library import get_protocol
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.verify import verify
    from stimwise.session.journal import Journal
    from stimwise.session.runtime import SessionRunner

    console.print(Rule("8. A short session on the simulated stimulator (scripted responses)"))
    prescription = Prescription.from_protocol(
        get_protocol(DEMO_PROTOCOL), session_duration_min=0.2
    )
    plan = verify(prescription).require_plan()
    device = SimulatedStimulator()
    responder = scripted_responder(prescription.max_amplitude_ma, None, None, None)
    journal_path = out_dir / default_journal_path(DEMO_PROTOCOL).name
    runner = SessionRunner(
        plan, device, Journal(journal_path), responder, settings=settings_for(0.05, None)
    )
    record = run_live(console, runner, responder, interactive=False)
    console.print()
    console.print(
        f"outcome: [bold]{record.outcome}[/] ({record.reason}); sensation threshold "
        f"{record.calibration.sensation_threshold_ma:.2f} mA, level "
        f"{record.calibration.target_ma:.2f} mA; {record.stimulation_s:.1f} s stimulated; "
        f"{len(device.pulses(plan.prescription.channels[0].label))} pulses on channel "
        f"{plan.prescription.channels[0].label!r}; journal {journal_path}"
    )


DEMO_COHORT_SIZE = 40
DEMO_COHORT_SEED = 2026


def run_response_demo(console: Console, out_dir: Path) -> None:
    """A demo database with a simulated cohort, and one person's response verdict."""
    from datetime import UTC, datetime, timedelta

    from stimwise.analysis.assessment import assess
    from stimwise.analysis.cohort import simulate_cohort
    from stimwise.analysis.from_records import load_series, write_cohort
    from stimwise.cli.render_analysis import print_assessment
    from stimwise.records.access import local_clinician
    from stimwise.records.schema import open_database

    console.print(Rule(f"9. Records: {DEMO_COHORT_SIZE} virtual patients with a known truth"))
    path = out_dir / "demo-records.sqlite3"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    cohort = simulate_cohort(DEMO_COHORT_SIZE, DEMO_COHORT_SEED)
    actor = local_clinician()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with open_database(f"sqlite:///{path}") as database:
        with database.transaction() as session:
            write_cohort(session, actor, cohort, yesterday)
        person = next(p for p in cohort if p.truth.kind == "habituating_responder")
        with database.reading() as session:
            series = load_series(session, actor, person.series.patient_id)
    console.print(f"database: {path}")
    console.print(Rule(f"10. Is it working for {series.patient_id}? (truth: "
                       f"{person.truth.kind.replace('_', ' ')})"))
    print_assessment(console, series, assess(series), None)
    console.print(f"[dim]Try: stimwise response {series.patient_id} --db sqlite:///{path} "
                  "--suggest-dose[/]")


def run_clinical_demo(console: Console) -> None:
    """Screen the sample CRPS patient, recommend, and show the caps reaching the safety gate."""
    from stimwise.cli.render_clinical import print_recommendations, print_screening
    from stimwise.clinical.examples import example_patient_path
    from stimwise.clinical.intake import Intake
    from stimwise.clinical.recommend import recommend
    from stimwise.clinical.screening import screen
    from stimwise.protocol.io import load_model_file
    from stimwise.protocol.library import get_protocol
    from stimwise.protocol.models import Channel
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.verify import verify

    path = example_patient_path(DEMO_PATIENT)
    intake = load_model_file(Intake, path)
    console.print(Rule(f"5. Screening of a sample patient ({path.name}): CRPS with allodynia"))
    screening = screen(intake)
    print_screening(console, screening, intake.allodynic_sites)

    console.print(Rule("6. Recommendation: every suggestion passed verify() with these caps"))
    report = recommend(intake, screening)
    print_recommendations(console, report.model_copy(update={"not_recommended": ()}))

    console.print(Rule("7. The same caps block electrodes on the allodynic forearm"))
    on_allodynic_skin = Channel(
        label="left forearm",
        electrodes=(
            {"site": "left_forearm_dorsal", "area_cm2": 25},
            {"site": "left_forearm_volar", "area_cm2": 25},
        ),
    )
    rx = Prescription.from_protocol(get_protocol(DEMO_PROTOCOL), channels=(on_allodynic_skin,))
    blocked = verify(rx, caps=screening.caps)
    for finding in blocked.findings:
        if finding.severity == "block":
            console.print(f"[red]block[/] {finding.rule_id}: {finding.message}")
    console.print(f"verdict: [bold red]{blocked.verdict.upper()}[/]")
