"""``stimwise response``, ``population``, ``nof1 plan|analyse`` and ``cohort simulate``: the
analysis from the command line (thin shells over :mod:`stimwise.analysis`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from stimwise.cli import inputs, output
from stimwise.cli import values as v
from stimwise.cli.errors import report_errors
from stimwise.cli.options import DbOption, JsonFlag, PlotOption, PseudonymArg

nof1_app = typer.Typer(no_args_is_help=True, help="n-of-1 trials: plan and analyse A vs B.")
cohort_app = typer.Typer(no_args_is_help=True, help="Synthetic cohorts with a known truth.")

AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Analyse as of this day (YYYY-MM-DD); default: "
                             "the last day with data.")
]


def register(app: typer.Typer) -> None:
    app.command("response")(response)
    app.command("population")(population)
    app.add_typer(nof1_app, name="nof1")
    app.add_typer(cohort_app, name="cohort")
    nof1_app.command("plan")(nof1_plan)
    nof1_app.command("analyse")(nof1_analyse)
    cohort_app.command("simulate")(cohort_simulate)


def _date(option: str, text: str | None) -> date | None:
    from stimwise.errors import FieldProblem, InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(FieldProblem(option, text, "a date YYYY-MM-DD")) from None


# --------------------------------------------------------------------------- response


@report_errors()
def response(
    patient: PseudonymArg,
    db: DbOption = None,
    as_of: AsOfOption = None,
    plot: PlotOption = None,
    suggest_dose: Annotated[
        bool, typer.Option("--suggest-dose", help="Suggest the next dose within the locked "
                           "ranges (a suggestion for the clinician to accept).")
    ] = False,
    seed: Annotated[int, typer.Option(
        "--seed", parser=v.SEED, help="Seed of the dose suggestion.",
    )] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Is it working? The IMMPACT verdict against baseline, relief, dose-response, habituation."""
    from stimwise.analysis.adherence import weekly_adherence
    from stimwise.analysis.assessment import assess
    from stimwise.analysis.from_records import load_prescription, load_schedule, load_series
    from stimwise.records.schema import open_database

    actor = inputs.actor()
    with open_database(db) as database, database.reading() as session:
        series = load_series(session, actor, patient, _date("--as-of", as_of))
        stored = load_prescription(session, actor, patient) if suggest_dose else None
        schedule = load_schedule(session, actor, patient)
    assessment = assess(series)
    weekly = None if schedule is None else weekly_adherence(series, schedule)
    proposal = _suggestion(series, stored, seed) if suggest_dose else None
    if plot is not None:
        from stimwise.analysis.plot import plot_response
        from stimwise.plotting import save_figure

        save_figure(plot_response(series, assessment), plot, field="--plot")
    if as_json:
        document = assessment.to_dict()
        document["patient"] = patient
        document["therapy_start"] = series.therapy_start.isoformat()
        document["dose_suggestion"] = proposal
        document["weekly_adherence"] = None if weekly is None else weekly.to_dict()
        output.print_json(document)
        return
    from stimwise.cli.render_analysis import print_assessment

    console = output.console()
    print_assessment(console, series, assessment, proposal)
    console.print(f"data: {assessment.provenance.statement}")
    if weekly is not None and weekly.sessions_share is not None:
        console.print(
            f"adherence over {weekly.complete_weeks} complete weeks: "
            f"{100 * weekly.sessions_share:.0f} % of sessions, {100 * weekly.days_share:.0f} % "
            f"of days, {100 * weekly.minutes_share:.0f} % of minutes prescribed")


def _suggestion(series, stored, seed: int) -> dict:
    """The next-dose suggestion as a document, or why there is none."""
    import numpy as np

    from stimwise.analysis.tuning import (
        CandidateSet,
        NoSafeDoseError,
        NotEnoughDataError,
        suggest_next_dose,
    )

    if stored is None or stored[2] is None:
        return {"status": "none", "reason": "the prescription on record has no locked ranges "
                "for home use: nothing may be tuned"}
    prescription, caps, locked = stored
    try:
        proposal = suggest_next_dose(CandidateSet(prescription, locked, caps), series.sessions,
                                     np.random.default_rng(seed))
    except (NoSafeDoseError, NotEnoughDataError) as refusal:
        return {"status": "none", "reason": str(refusal)}
    return proposal.to_dict()


@report_errors()
def population(db: DbOption = None, as_of: AsOfOption = None, as_json: JsonFlag = False) -> None:
    """Responder rates with 95 % intervals, adherence and adverse events over all patients."""
    from stimwise.analysis.from_records import population_from_database
    from stimwise.records.schema import open_database

    with open_database(db) as database, database.reading() as session:
        summary = population_from_database(session, inputs.actor(), _date("--as-of", as_of))
    if as_json:
        output.print_json(summary.to_dict())
        return
    from stimwise.cli.render_analysis import print_population

    print_population(output.console(), summary)


# --------------------------------------------------------------------------- n-of-1


@report_errors()
def nof1_plan(
    treatment_a: Annotated[str, typer.Option("--a", help="Treatment A (e.g. a protocol id).")],
    treatment_b: Annotated[str, typer.Option("--b", help="Treatment B (e.g. 'low-dose').")],
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", help="Plan file to write (JSON).")],
    pairs: Annotated[int, typer.Option(
        "--pairs", parser=v.WHOLE, help="Pairs of A/B periods.",
    )] = 3,
    period_days: Annotated[int, typer.Option(
        "--period-days", parser=v.WHOLE, help="Days per period.",
    )] = 7,
    washout_days: Annotated[
        int, typer.Option(
            "--washout-days", parser=v.WHOLE, help="Days without stimulation after each period.",
        )
    ] = 2,
    seed: Annotated[int, typer.Option(
        "--seed", parser=v.SEED, help="Seed of the randomised order.",
    )] = 0,
    mid: Annotated[
        float, typer.Option(
            "--mid-nrs", parser=v.finite("NRS points"),
            help="Minimal important difference (NRS points).",
        )
    ] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Plan a randomised blocked n-of-1 comparison (one A and one B period per pair)."""
    from stimwise.analysis.nof1 import plan_nof1

    plan = plan_nof1(treatment_a, treatment_b, pairs=pairs, period_days=period_days,
                     washout_days=washout_days, seed=seed, start=_date("--start", start),
                     minimal_important_difference_nrs=mid)
    if out.exists():
        from stimwise.errors import FieldProblem, InputError

        raise InputError(FieldProblem("--out", str(out), "a new file (it exists)"))
    out.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    if as_json:
        print(plan.model_dump_json(indent=2))
        return
    console = output.console()
    console.print(f"n-of-1 plan written to {out}: {plan.pairs} pairs of {plan.period_days}-day "
                  f"periods, {plan.washout_days} washout days after each")
    for period in plan.periods:
        name = plan.treatment_a if period.treatment == "A" else plan.treatment_b
        console.print(f"  pair {period.pair}  {period.first_date} – {period.last_date}  "
                      f"{period.treatment}: {name}")


def _diary_csv(path: Path, start: date):
    """``date,pain_nrs`` rows (several a day allowed) as a DailyPain counted from ``start``."""
    import csv
    import io

    from stimwise.analysis.series import DailyPain
    from stimwise.errors import FieldProblem, InputError
    from stimwise.numbers import Bounds
    from stimwise.protocol.io import MAX_FILE_BYTES, read_text_file

    nrs = Bounds("NRS points", ge=0, le=10)
    days, values = [], []
    text = read_text_file(path, MAX_FILE_BYTES, "CSV file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None or not {"date", "pain_nrs"} <= set(reader.fieldnames):
            raise InputError(FieldProblem("header", reader.fieldnames, "columns date,pain_nrs"),
                             source=str(path))
        for line, row in enumerate(reader, start=2):
            try:
                days.append((date.fromisoformat(row["date"]) - start).days)
                values.append(float(nrs.parse(row["pain_nrs"])))
            except (TypeError, ValueError):
                raise InputError(FieldProblem(f"line {line}", row, "a date YYYY-MM-DD and a pain "
                                              "NRS 0-10"), source=str(path)) from None
    except csv.Error as error:
        raise InputError(FieldProblem("file", str(error), "a well-formed CSV file"),
                         source=str(path)) from None
    order = sorted(range(len(days)), key=days.__getitem__)
    return DailyPain.from_entries([days[i] for i in order], [values[i] for i in order])


@report_errors()
def nof1_analyse(
    plan_file: Annotated[Path, typer.Argument(help="The plan written by `nof1 plan`.")],
    diary: Annotated[
        Path | None, typer.Option("--diary", help="CSV with columns date,pain_nrs.")
    ] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Read the diary of this pseudonym instead.")
    ] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Posterior probability that A beats B by at least the minimal important difference."""
    from stimwise.analysis.nof1 import Nof1Plan, analyse_nof1
    from stimwise.errors import FieldProblem, InputError
    from stimwise.protocol.io import load_model_file

    plan = load_model_file(Nof1Plan, plan_file)
    if (diary is None) == (patient is None):
        raise InputError(FieldProblem("--diary", None, "either --diary CSV or --patient ID"))
    if diary is not None:
        pain = _diary_csv(diary, plan.start)
    else:
        pain = _diary_from_records(db, patient, plan.start)
    result = analyse_nof1(plan, pain)
    if as_json:
        output.print_json(result.to_dict())
        return
    from stimwise.cli.render_analysis import print_nof1

    print_nof1(output.console(), result)


def _diary_from_records(db: str | None, patient: str, start: date):
    from stimwise.analysis.from_records import load_series
    from stimwise.records.schema import open_database

    with open_database(db) as database, database.reading() as session:
        series = load_series(session, inputs.actor(), patient)
    shift = (series.therapy_start - start).days
    return series.pain.shifted(shift)


# --------------------------------------------------------------------------- cohorts


@report_errors()
def cohort_simulate(
    n: Annotated[
        int, typer.Argument(parser=v.whole(ge=1, le=100_000), help="How many virtual people.")
    ],
    db: DbOption = None,
    seed: Annotated[int, typer.Option(
        "--seed", parser=v.SEED, help="Seed (same seed, same cohort).",
    )] = 0,
    end_date: Annotated[
        str | None, typer.Option("--end-date", help="Last day of their data (default yesterday).")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Also write each person's true response here.")
    ] = None,
    self_logged: Annotated[
        str | None, typer.Option("--self-logged", help="Sessions done on this device profile "
                                 "and logged by the people themselves (self-reported).")
    ] = None,
    weeks: Annotated[
        int | None, typer.Option("--weeks", parser=v.whole(ge=1, le=52),
                                 help="Weeks of therapy (default 16).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write N virtual patients with a known truth (diaries, sessions, prescriptions) to the
    database named by --db (never the default clinical database); refuses a database that holds
    real (non-synthetic) patients (HAZ-055)."""
    from datetime import UTC, datetime, timedelta

    from stimwise.errors import FieldProblem, InputError

    if db is None:
        raise InputError(FieldProblem(
            "--db", None, "an explicit database for synthetic patients (the default database "
            "is for real records)"))

    from stimwise.analysis.cohort import CohortSettings, simulate_cohort
    from stimwise.analysis.from_records import (
        refuse_real_records,
        write_cohort,
        write_self_logged_cohort,
    )
    from stimwise.records.schema import open_database

    last_day = _date("--end-date", end_date) or (datetime.now(UTC).date() - timedelta(days=1))
    settings = CohortSettings() if weeks is None else CohortSettings(therapy_days=7 * weeks)
    cohort = simulate_cohort(n, seed, settings)
    actor = inputs.actor()
    with open_database(db) as database, database.transaction() as session:
        refuse_real_records(session, actor)
        if self_logged is None:
            write_cohort(session, actor, cohort, last_day)
        else:
            write_self_logged_cohort(session, actor, cohort, last_day, self_logged)
    kinds: dict[str, int] = {}
    for person in cohort:
        kinds[person.truth.kind] = kinds.get(person.truth.kind, 0) + 1
    document = {
        "patients": n, "seed": seed, "last_day": last_day.isoformat(), "kinds": kinds,
        "pseudonyms": [cohort[0].series.patient_id, cohort[-1].series.patient_id],
        "sessions": "self-reported on " + self_logged if self_logged else "device-recorded",
    }
    if truth is not None:
        truth.write_text(json.dumps([
            {"pseudonym": p.series.patient_id, "kind": p.truth.kind,
             "true_verdict": p.true_verdict(), "baseline_nrs": p.truth.baseline_nrs,
             "max_reduction": p.truth.max_reduction, "best_dose_unit": p.truth.best_dose_unit}
            for p in cohort
        ], indent=2) + "\n", encoding="utf-8")
    if as_json:
        output.print_json(document)
        return
    output.console().print(
        f"{n} virtual patients ({document['pseudonyms'][0]} … {document['pseudonyms'][1]}) "
        f"written, data up to {last_day}: "
        + ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(kinds.items()))
    )
