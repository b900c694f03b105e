"""``stimwise db|patient|diary|prescription`` and ``stimwise session import``: the clinical
record from the command line. Every command takes ``--db URL`` (default: ``$STIMWISE_DB_URL`` or
the SQLite file in the user's data directory) and acts as the local clinician."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from stimwise.cli import inputs, output
from stimwise.cli import values as v
from stimwise.cli.errors import report_errors
from stimwise.cli.home import register as register_home
from stimwise.cli.options import (
    AmplitudeOption,
    AreaOption,
    DbOption,
    JsonFlag,
    MinutesOption,
    ProtocolArg,
    PseudonymArg,
)

db_app = typer.Typer(no_args_is_help=True, help="Create, migrate, back up and restore records.")
patient_app = typer.Typer(no_args_is_help=True, help="Patients (pseudonymous) in the records.")
diary_app = typer.Typer(no_args_is_help=True, help="Symptom diary entries.")
prescription_app = typer.Typer(no_args_is_help=True, help="Prescriptions on record.")
adverse_event_app = typer.Typer(no_args_is_help=True, help="Adverse events (skin, burn, flare...).")

def register(app: typer.Typer, session_app: typer.Typer) -> None:
    """Add the record commands to the ``stimwise`` application."""
    app.add_typer(db_app, name="db")
    app.add_typer(patient_app, name="patient")
    app.add_typer(diary_app, name="diary")
    app.add_typer(prescription_app, name="prescription")
    app.add_typer(adverse_event_app, name="adverse-event")
    session_app.command("import")(session_import)
    register_home(prescription_app, session_app)


# --------------------------------------------------------------------------- db


@db_app.command("init")
@report_errors()
def db_init(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Create the records database (or check an existing one is at this version's schema)."""
    from stimwise.records.database import shown_url
    from stimwise.records.schema import head_revision, open_database

    open_database(db).close()
    document = {"database": shown_url(_url(db)), "revision": head_revision()}
    if as_json:
        output.print_json(document)
    else:
        print(f"records database {document['database']} ready (schema {document['revision']})")


def _url(db: str | None) -> str:
    from stimwise.records.database import resolve_url

    return resolve_url(db)


@db_app.command("migrate")
@report_errors()
def db_migrate(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Upgrade the database to this version's schema (an SQLite file is backed up first)."""
    from stimwise.records.backup import backup
    from stimwise.records.database import shown_url, sqlite_path
    from stimwise.records.schema import head_revision, migrate, revision_of

    url = _url(db)
    path = sqlite_path(url)
    kept = None
    revision = revision_of(url) if path is None or path.exists() else None
    if path is not None and revision not in (None, head_revision()):
        from datetime import UTC, datetime

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = backup(url, path.with_name(f"{path.stem}.before-migrate-{stamp}{path.suffix}"))
    before, after = migrate(url)
    document = {
        "database": shown_url(url),
        "from_revision": before,
        "to_revision": after,
        "backup": None if kept is None else str(kept.path),
    }
    if as_json:
        output.print_json(document)
        return
    print(f"{document['database']}: schema {before or '(empty)'} -> {after}")
    if kept is not None:
        print(f"backup of the previous database: {kept.path}")


@db_app.command("backup")
@report_errors()
def db_backup(
    target: Annotated[Path, typer.Argument(help="The backup file to write.")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Back up the records: an SQLite copy (online backup API) or a JSON dump (PostgreSQL)."""
    from stimwise.records.backup import backup

    info = backup(db, target)
    document = {"backup": str(info.path), "kind": info.kind, "revision": info.revision,
                "rows": info.rows}
    if as_json:
        output.print_json(document)
    else:
        print(f"wrote {info.path} ({info.kind}, schema {info.revision}, {info.rows} rows)")


@db_app.command("restore")
@report_errors()
def db_restore(
    source: Annotated[Path, typer.Argument(help="A backup written by `stimwise db backup`.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds records.")
    ] = False,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Where to back up the replaced database (default: beside it)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace the records with a backup. Exit 1 when the database holds records and --force
    is not given; with --force the replaced database is backed up first."""
    from stimwise.records.backup import restore

    rows, kept = restore(db, source, force=force, keep=keep)
    document = {"restored_rows": rows, "previous_database_backup": None if kept is None
                else str(kept.path)}
    if as_json:
        output.print_json(document)
        return
    print(f"restored {rows} rows from {source}")
    if kept is not None:
        print(f"the replaced database was backed up to {kept.path}")


# --------------------------------------------------------------------------- patient


def _patient_document(patient, counts: dict[str, int] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "pseudonym": patient.pseudonym,
        "enrolled_on": patient.enrolled_on.isoformat(),
    }
    if counts is not None:
        document["records"] = counts
    return document


@patient_app.command("add")
@report_errors()
def patient_add(
    pseudonym: PseudonymArg,
    enrolled_on: Annotated[
        str | None, typer.Option("--enrolled-on", help="Enrolment date (default: today).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Full name (kept in the identity table).")
    ] = None,
    born: Annotated[str | None, typer.Option("--born", help="Date of birth (with --name).")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Contact (with --name).")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a patient under a pseudonymous code; identifying data, if any, is stored apart."""
    from stimwise.records.inputs import PatientIn
    from stimwise.records.repository import create_patient
    from stimwise.records.schema import open_database

    data: dict[str, Any] = {
        "pseudonym": pseudonym,
        "enrolled_on": enrolled_on or date.today().isoformat(),
    }
    if name is not None or born is not None or contact is not None:
        data["identity"] = {"full_name": name or "", "date_of_birth": born, "contact": contact}
    options = {"pseudonym": "PSEUDONYM", "enrolled_on": "--enrolled-on", "identity": "identity"}
    patient_in = inputs.validated(PatientIn, data, options)
    with open_database(db) as database, database.transaction() as session:
        patient = create_patient(session, inputs.actor(), patient_in)
    if as_json:
        output.print_json(_patient_document(patient))
    else:
        print(f"added patient {patient.pseudonym} (enrolled {patient.enrolled_on})")


@patient_app.command("intake")
@report_errors()
def patient_intake(
    intake_file: Annotated[Path, typer.Argument(help="An intake file (YAML or JSON).")],
    enrol: Annotated[
        bool,
        typer.Option("--enrol", help="Add the patient (enrolled on the assessment date) if new."),
    ] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Screen an intake and store it with its screening (rule-book version) and the scores of
    the instruments it carries, under the intake's pseudonymous patient id."""
    from sqlalchemy import select

    from stimwise.clinical.screening import screen
    from stimwise.records import repository as repo
    from stimwise.records.inputs import PatientIn
    from stimwise.records.models import Patient
    from stimwise.records.schema import open_database

    intake = inputs.intake(intake_file)
    screening = screen(intake)
    actor = inputs.actor()
    with open_database(db) as database, database.transaction() as session:
        known = session.scalar(select(Patient.id).where(Patient.pseudonym == intake.patient_id))
        if known is None and enrol:
            repo.create_patient(
                session, actor, PatientIn(pseudonym=intake.patient_id,
                                          enrolled_on=intake.assessed_on))
        row = repo.add_intake(session, actor, intake, screening)  # scores its instruments too
        scores = intake.instruments
    document = {"intake_id": row.id, "patient": intake.patient_id, "decision": row.decision,
                "rules_version": row.rules_version,
                "instrument_scores": [s.instrument for s in scores]}
    if as_json:
        output.print_json(document)
    else:
        print(f"intake {row.id} for {intake.patient_id}: {row.decision.replace('_', ' ')} "
              f"(rules {row.rules_version}); {len(scores)} instrument scores stored")


@patient_app.command("show")
@report_errors()
def patient_show(
    pseudonym: PseudonymArg,
    identity: Annotated[
        bool, typer.Option("--identity", help="Also show identifying data (audited).")
    ] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One patient: enrolment, record counts, current prescriptions and the latest diary."""
    from stimwise.records import repository as repo
    from stimwise.records.schema import open_database

    actor = inputs.actor()
    with open_database(db) as database, database.transaction() as session:
        patient = repo.get_patient(session, actor, pseudonym)
        document = _patient_document(patient, repo.record_counts(session, actor, pseudonym))
        current = repo.list_prescriptions(session, actor, pseudonym, valid_on=date.today())
        document["current_prescriptions"] = [
            {"id": p.id, "protocol_id": p.protocol_id, "fingerprint": p.fingerprint,
             "valid_from": p.valid_from.isoformat(), "home_use": p.home_use}
            for p in current
        ]
        diary = repo.list_diary(session, actor, pseudonym)
        document["latest_diary"] = None if not diary else {
            "recorded_at": diary[-1].recorded_at.isoformat(),
            "pain_current_nrs": diary[-1].pain_current_nrs,
            "pain_average_nrs": diary[-1].pain_average_nrs,
            "pain_worst_nrs": diary[-1].pain_worst_nrs,
        }
        if identity:
            found = repo.get_identity(session, actor, pseudonym)
            document["identity"] = None if found is None else {
                "full_name": found.full_name,
                "date_of_birth": found.date_of_birth,
                "contact": found.contact,
            }
    if as_json:
        output.print_json(document)
        return
    console = output.console()
    console.print(f"[bold]{document['pseudonym']}[/] enrolled {document['enrolled_on']}")
    console.print(", ".join(f"{n.replace('_', ' ')}: {c}" for n, c in document["records"].items()))
    for p in document["current_prescriptions"]:
        console.print(f"prescription {p['id']}: {p['protocol_id']} from {p['valid_from']}")
    if document["latest_diary"]:
        console.print(f"latest diary entry: {document['latest_diary']}")
    if identity:
        console.print(f"identity: {document['identity']}")


@patient_app.command("list")
@report_errors()
def patient_list(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Every patient by pseudonym."""
    from stimwise.records.repository import list_patients
    from stimwise.records.schema import open_database

    with open_database(db) as database, database.reading() as session:
        patients = list_patients(session, inputs.actor())
    documents = [_patient_document(p) for p in patients]
    if as_json:
        output.print_json(documents)
        return
    from rich.table import Table

    table = Table(title=f"{len(documents)} patients")
    table.add_column("pseudonym")
    table.add_column("enrolled on")
    for document in documents:
        table.add_row(document["pseudonym"], document["enrolled_on"])
    output.console().print(table)


# --------------------------------------------------------------------------- diary


def _medication(value: str) -> dict[str, str]:
    name, _, change = value.rpartition(":")
    return {"medication": name, "change": change}


@diary_app.command("add")
@report_errors()
def diary_add(
    patient: PseudonymArg,
    pain: Annotated[int | None, typer.Option(
        "--pain", parser=v.WHOLE, help="Pain now, 0–10.",
    )] = None,
    average: Annotated[
        int | None, typer.Option("--average", parser=v.WHOLE, help="Average pain, last 24 h, 0–10.")
    ] = None,
    worst: Annotated[
        int | None, typer.Option("--worst", parser=v.WHOLE, help="Worst pain, last 24 h, 0–10.")
    ] = None,
    sleep: Annotated[
        int | None, typer.Option(
            "--sleep", parser=v.WHOLE, help="Pain's interference with sleep, 0–10.",
        )
    ] = None,
    function: Annotated[
        int | None, typer.Option(
            "--function", parser=v.WHOLE, help="Interference with daily function, 0–10.",
        )
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="Body site, when site-specific.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When (ISO 8601 with offset; default: now).")
    ] = None,
    medication: Annotated[
        list[str] | None,
        typer.Option(
            "--medication",
            help="NAME:CHANGE, CHANGE one of started, stopped, dose_increased, dose_decreased "
            "(repeatable).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    entry_id: Annotated[
        str | None,
        typer.Option("--entry-id", help="UUID of the entry; the same id again is not re-added."),
    ] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add one diary entry (several a day are fine). Dates in the future or before enrolment are
    refused."""
    from datetime import UTC, datetime

    from stimwise.errors import InputError
    from stimwise.records.inputs import DiaryEntryIn
    from stimwise.records.repository import add_diary_entries
    from stimwise.records.schema import open_database

    data: dict[str, Any] = {
        "recorded_at": at or datetime.now(UTC).isoformat(),
        "pain_current_nrs": pain,
        "pain_average_nrs": average,
        "pain_worst_nrs": worst,
        "sleep_interference_nrs": sleep,
        "function_interference_nrs": function,
        "body_site": site,
        "medication_changes": [_medication(m) for m in medication or ()],
        "note": note,
    }
    if entry_id is not None:
        data["entry_uuid"] = entry_id
    options = {
        "recorded_at": "--at", "pain_current_nrs": "--pain", "pain_average_nrs": "--average",
        "pain_worst_nrs": "--worst", "sleep_interference_nrs": "--sleep",
        "function_interference_nrs": "--function", "body_site": "--site",
        "medication_changes": "--medication", "note": "--note", "entry_uuid": "--entry-id",
    }
    entry = inputs.validated(DiaryEntryIn, data, options)
    with open_database(db) as database, database.transaction() as session:
        try:
            (row,) = add_diary_entries(session, inputs.actor(), patient, [entry])
        except InputError as error:
            raise inputs.with_options(error, options, strip="entries[0].") from None
    document = {"id": row.id, "entry_uuid": row.entry_uuid,
                "recorded_at": row.recorded_at.isoformat()}
    if as_json:
        output.print_json(document)
    else:
        print(f"diary entry {row.id} for {patient} at {document['recorded_at']}")


# --------------------------------------------------------------------------- adverse events


@adverse_event_app.command("add")
@report_errors()
def adverse_event_add(
    patient: PseudonymArg,
    kind: Annotated[
        str, typer.Option("--kind", help="skin_irritation, burn, flare, soreness or other.")
    ],
    severity: Annotated[str, typer.Option("--severity", help="mild, moderate or severe.")],
    at: Annotated[
        str | None, typer.Option("--at", help="When (ISO 8601 with offset; default: now).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Body site.")] = None,
    session_id: Annotated[
        int | None, typer.Option("--session", parser=v.WHOLE, help="Id of the session it followed.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an adverse event, optionally tied to one of the patient's sessions."""
    from datetime import UTC, datetime

    from stimwise.errors import InputError
    from stimwise.records.inputs import AdverseEventIn
    from stimwise.records.repository import add_adverse_event
    from stimwise.records.schema import open_database

    data = {
        "occurred_at": at or datetime.now(UTC).isoformat(),
        "kind": kind,
        "severity": severity,
        "body_site": site,
        "session_id": session_id,
        "description": description,
    }
    options = {"occurred_at": "--at", "kind": "--kind", "severity": "--severity",
               "body_site": "--site", "session_id": "--session", "description": "--description"}
    event = inputs.validated(AdverseEventIn, data, options)
    with open_database(db) as database, database.transaction() as session:
        try:
            row = add_adverse_event(session, inputs.actor(), patient, event)
        except InputError as error:
            raise inputs.with_options(error, options) from None
    document = {"id": row.id, "kind": row.kind, "severity": row.severity,
                "occurred_at": row.occurred_at.isoformat(), "session_id": row.session_id}
    if as_json:
        output.print_json(document)
    else:
        print(f"adverse event {row.id} for {patient}: {row.kind} ({row.severity})")


# --------------------------------------------------------------------------- prescription


@prescription_app.command("add")
@report_errors()
def prescription_add(
    patient: PseudonymArg,
    protocol: ProtocolArg,
    amplitude_ma: AmplitudeOption = None,
    minutes: MinutesOption = None,
    electrode_area_cm2: AreaOption = None,
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="First day (default: today).")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--valid-to", help="Last day.")] = None,
    review_on: Annotated[
        str | None, typer.Option(
            "--review-on", help="The day you review it: after the first day, not in the past, "
            "within 12 weeks (default: 4 weeks after the first day or today, whichever is "
            "later).",
        )
    ] = None,
    home_range_ma: Annotated[
        str | None,
        typer.Option("--home-range-ma", help="LOW:HIGH amplitude a person may set at home."),
    ] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a prescription; it must pass the safety verification. Sessions run with the same
    protocol and options carry its fingerprint, which `session import` matches."""
    from stimwise.errors import InputError
    from stimwise.records.inputs import PrescriptionIn
    from stimwise.records.repository import add_prescription
    from stimwise.records.schema import open_database
    from stimwise.safety.verify import verify

    prescription = inputs.prescription(protocol, electrode_area_cm2, amplitude_ma, minutes)
    verify(prescription).require_plan()
    data: dict[str, Any] = {
        "prescription": prescription,
        "valid_from": valid_from or date.today().isoformat(),
        "valid_to": valid_to,
        "review_on": review_on,
        "prescribed_by": inputs.actor().username,
        "home_use": home_range_ma is not None,
    }
    if home_range_ma is not None:
        data["locked_ranges"] = {"amplitude_ma": _home_range(home_range_ma)}
    options = {"valid_from": "--valid-from", "valid_to": "--valid-to",
               "review_on": "--review-on", "locked_ranges": "--home-range-ma"}
    prescription_in = inputs.validated(PrescriptionIn, data, options)
    with open_database(db) as database, database.transaction() as session:
        try:
            row = add_prescription(session, inputs.actor(), patient, prescription_in)
        except InputError as error:
            raise inputs.with_options(error, options) from None
    document = {"id": row.id, "protocol_id": row.protocol_id, "fingerprint": row.fingerprint,
                "valid_from": row.valid_from.isoformat(), "review_on": row.review_on.isoformat()}
    if as_json:
        output.print_json(document)
    else:
        print(f"prescription {row.id} for {patient}: {row.protocol_id} "
              f"(fingerprint {row.fingerprint[:12]}) from {row.valid_from}, "
              f"review on {row.review_on}")


def _home_range(text: str) -> dict[str, float]:
    """``LOW:HIGH`` in mA, each end read strictly (never ``nan`` or ``2_0``)."""
    from stimwise.errors import FieldProblem, InputError
    from stimwise.numbers import Bounds

    bounds = Bounds("mA", ge=0, le=200)
    low, colon, high = text.partition(":")
    try:
        return {"min": float(bounds.parse(low)), "max": float(bounds.parse(high))}
    except ValueError:
        expected = f"LOW:HIGH, each {bounds.expected}" if colon else "LOW:HIGH in mA"
        raise InputError(FieldProblem("--home-range-ma", text, expected)) from None


# --------------------------------------------------------------------------- session import


@report_errors()
def session_import(
    journal: Annotated[Path, typer.Argument(help="A journal written by `stimwise session run`.")],
    patient: Annotated[
        str | None, typer.Option("--patient", help="Pseudonym (when the journal names none).")
    ] = None,
    unprescribed: Annotated[
        bool,
        typer.Option("--unprescribed", help="Accept a patient with no prescription on record."),
    ] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a session journal into the records (all or nothing; importing it again changes
    nothing). A truncated, edited or inconsistent journal (its hash chain, an amplitude above
    its own plan or the prescription, values out of range), or one that does not match the
    prescription, is refused with each line named."""
    from stimwise.records.schema import open_database
    from stimwise.records.sessions import import_journal

    with open_database(db) as database, database.transaction() as session:
        result = import_journal(
            session, inputs.actor(), journal, patient, unprescribed=unprescribed
        )
    row = result.session
    document = {
        "session_id": row.id,
        "created": result.created,
        "protocol_id": row.protocol_id,
        "started_at": row.started_at.isoformat(),
        "outcome": row.outcome,
        "prescription_id": row.prescription_id,
    }
    if as_json:
        output.print_json(document)
    elif result.created:
        print(f"imported session {row.id} ({row.protocol_id}, {row.outcome}) from {journal}")
    else:
        print(f"already imported as session {row.id}; nothing changed")
