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
DEMO_DATABASE = "demo.sqlite3"
DEMO_SEED = 11
"""Seed of the simulated cohort whose first person's record the demo builds."""
DEMO_COHORT_SIZE = 40


def run_demo(console: Console, out_dir: Path) -> None:
    from stimwise.errors import SafetyBlockError
    from stimwise.export.files import export_samples
    from stimwise.plotting import save_figure
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
    plot_path = save_figure(plot_prescription(prescription), out_dir / f"{DEMO_PROTOCOL}.png")
    plan = report.require_plan()
    rate = default_sample_rate_hz(prescription)
    export_path = export_samples(
        plan, out_dir / f"{DEMO_PROTOCOL}.npz", sample_rate_hz=rate, duration_s=2.0
    )
    console.print(f"plot: {plot_path}")
    console.print(f"2 s of samples at {rate:g} Hz: {export_path} (+ JSON sidecar)")
    run_clinical_demo(console)
    plan, journal_path = run_session_demo(console, out_dir)
    run_records_demo(console, out_dir, plan, journal_path)
    console.print("[dim]Next: `stimwise serve` opens all of this in a browser.[/]")


def run_session_demo(console: Console, out_dir: Path):
    """A 12-second session on the simulated stimulator with a scripted person; returns the
    verified plan and the session's journal."""
    from stimwise.cli.session import (
        default_journal_path,
        run_live,
        scripted_responder,
        settings_for,
    )
    from stimwise.device.registry import open_device
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
    device = open_device("sim")
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
    return plan, journal_path


def fresh_demo_database(path: Path):
    """The demo's own database, recreated on every run (only files the demo itself wrote)."""
    from stimwise.records.schema import open_database

    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return open_database(f"sqlite:///{path.resolve()}")


def run_records_demo(console: Console, out_dir: Path, plan, journal_path: Path) -> None:
    """Put the session into a person's record, judge the response, export the record as FHIR.

    The demo database holds a simulated cohort with a known truth (16 weeks of diary and
    sessions each, up to yesterday); the demo's plan is prescribed today to the first person,
    so today's session journal is imported as theirs."""
    import json
    from datetime import UTC, datetime, timedelta

    from stimwise.analysis.assessment import assess
    from stimwise.analysis.cohort import simulate_cohort
    from stimwise.analysis.from_records import load_series, write_cohort
    from stimwise.cli.render_analysis import print_assessment
    from stimwise.interop.fhir_export import export_bundle
    from stimwise.records.access import Actor
    from stimwise.records.inputs import PrescriptionIn
    from stimwise.records.repository import add_prescription
    from stimwise.records.sessions import import_journal

    console.print(Rule(f"9. Records: {DEMO_COHORT_SIZE} virtual patients with a known truth"))
    actor = Actor("stimwise-demo", "clinician")
    today = datetime.now(UTC).date()
    database_path = out_dir / DEMO_DATABASE
    database = fresh_demo_database(database_path)
    cohort = simulate_cohort(DEMO_COHORT_SIZE, DEMO_SEED)
    try:
        with database.transaction() as session:
            ids = write_cohort(session, actor, cohort, today - timedelta(days=1))
            pseudonym = next(iter(ids))
            add_prescription(session, actor, pseudonym, PrescriptionIn(
                prescription=plan.prescription, valid_from=today, prescribed_by=actor.username))
        with database.transaction() as session:
            stored = import_journal(session, actor, journal_path, pseudonym).session
        with database.reading() as session:
            series = load_series(session, actor, pseudonym)
        assessment = assess(series)
        bundle = export_bundle(database, actor, pseudonym)
    finally:
        database.close()
    truth = next(p.truth for p in cohort if p.series.patient_id == pseudonym)
    console.print(f"session {stored.id} of {pseudonym} stored from its journal "
                  f"({stored.outcome}, {stored.stimulation_s:.1f} s)")
    console.print(Rule(f"10. Is it working for {pseudonym}? "
                       f"(simulated truth: {truth.kind.replace('_', ' ')})"))
    print_assessment(console, series, assessment, None)
    fhir_path = out_dir / f"{pseudonym}-fhir-bundle.json"
    fhir_path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    console.print(f"FHIR R4 Bundle ({len(bundle['entry'])} resources): {fhir_path}; "
                  f"database: {database_path}")
    console.print(f"[dim]Try: stimwise response {pseudonym} --db sqlite:///{database_path} "
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
