"""Concurrent diary writes: 8 writer processes together submitting 200 entries per second.

Target (issue: records): 200 writes/s for 60 s from 8 processes on SQLite (WAL) with zero lost and
zero duplicated rows, p99 write latency reported; the same against PostgreSQL when ``--db`` gives
a PostgreSQL URL.

Each write is the real path: a validated :class:`DiaryEntryIn` stored by
``repository.add_diary_entries`` in its own transaction with its audit entry. Writers follow an
open-loop schedule (write *i* is due at start + i / rate; a late writer writes at once and the
lateness is reported), so a slow database shows up as latency and a missed rate, not as a
silently lower load. Afterwards every acknowledged entry id is looked up: ``lost`` counts
acknowledged entries missing from the database, ``duplicated`` rows beyond one per id, and
``unacknowledged_stored`` rows whose writer saw an error.

Run: ``.venv/bin/python benchmarks/bench_diary_writes.py [--seconds 60] [--db URL]``
(default database: a new SQLite file in a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stimwise.records.access import Actor

ACTOR = Actor("bench-writer", "clinician")


def _pseudonym(run: str, writer: int) -> str:
    """One patient per writer and run, so that runs against a shared server never mix."""
    return f"BENCH-{run}-{writer:02d}"


def writer_process(
    url: str, run: str, writer: int, writes: int, interval_s: float, barrier, results
):
    """Write ``writes`` entries at ``interval_s`` spacing; put (acked ids, latencies, errors,
    worst lateness) on ``results``."""
    from stimwise.records.inputs import DiaryEntryIn
    from stimwise.records.repository import add_diary_entries
    from stimwise.records.schema import open_database

    database = open_database(url)
    pseudonym = _pseudonym(run, writer)
    acked: list[str] = []
    latencies_s: list[float] = []
    errors: list[str] = []
    worst_lateness_s = 0.0
    barrier.wait()
    start = time.monotonic() + interval_s * writer / 8  # spread the writers over one interval
    for index in range(writes):
        due = start + index * interval_s
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        else:
            worst_lateness_s = max(worst_lateness_s, now - due)
        entry = DiaryEntryIn(
            recorded_at=datetime.now(UTC),
            entry_uuid=uuid.uuid4(),
            pain_current_nrs=index % 11,
            sleep_interference_nrs=writer % 11,
        )
        began = time.perf_counter()
        try:
            with database.transaction() as session:
                add_diary_entries(session, ACTOR, pseudonym, [entry])
        except Exception as error:  # counted and reported: the benchmark must finish
            errors.append(type(error).__name__ + ": " + str(error)[:200])
            continue
        latencies_s.append(time.perf_counter() - began)
        acked.append(str(entry.entry_uuid))
    database.close()
    results.put((writer, acked, latencies_s, errors, worst_lateness_s))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="Database URL (default: a new SQLite file).")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="Total writes per second.")
    args = parser.parse_args()

    from sqlalchemy import select

    from stimwise.records.database import shown_url, sqlite_synchronous
    from stimwise.records.inputs import PatientIn
    from stimwise.records.models import DiaryEntry, Patient
    from stimwise.records.repository import create_patient
    from stimwise.records.schema import open_database

    folder = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(folder.name) / 'bench.sqlite3'}"
    database = open_database(url)
    run = uuid.uuid4().hex[:8]
    with database.transaction() as session:
        for writer in range(args.writers):
            create_patient(session, ACTOR, PatientIn(
                pseudonym=_pseudonym(run, writer), enrolled_on=date.today() - timedelta(days=1)))
    writes = round(args.seconds * args.rate / args.writers)
    interval_s = args.writers / args.rate
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.writers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=writer_process,
                        args=(url, run, w, writes, interval_s, barrier, results))
        for w in range(args.writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    began = time.monotonic()
    outcomes = [results.get() for _ in processes]
    elapsed_s = time.monotonic() - began
    for process in processes:
        process.join()

    acked = [key for outcome in outcomes for key in outcome[1]]
    latencies = [s for outcome in outcomes for s in outcome[2]]
    errors = [e for outcome in outcomes for e in outcome[3]]
    with database.reading() as session:
        patient_ids = select(Patient.id).where(Patient.pseudonym.like(f"BENCH-{run}-%"))
        stored = list(session.scalars(
            select(DiaryEntry.entry_uuid).where(DiaryEntry.patient_id.in_(patient_ids))))
    database.close()
    stored_set = set(stored)
    report = {
        "benchmark": "concurrent diary writes",
        "backend": shown_url(url).split(":", 1)[0],
        "sqlite_synchronous": sqlite_synchronous() if url.startswith("sqlite") else None,
        "writers": args.writers,
        "target_writes_per_s": args.rate,
        "seconds": args.seconds,
        "attempted": writes * args.writers,
        "acknowledged": len(acked),
        "failed": len(errors),
        "first_errors": errors[:3],
        "achieved_writes_per_s": round(len(acked) / elapsed_s, 1),
        "elapsed_s": round(elapsed_s, 2),
        "lost": len(set(acked) - stored_set),
        "duplicated": len(stored) - len(stored_set),
        "unacknowledged_stored": len(stored_set - set(acked)),
        "rows_stored": len(stored),
        "latency_ms": {
            "p50": round(1000 * statistics.median(latencies), 2),
            "p95": round(1000 * percentile(latencies, 95), 2),
            "p99": round(1000 * percentile(latencies, 99), 2),
            "max": round(1000 * max(latencies), 2),
        } if latencies else None,
        "worst_schedule_lateness_ms": round(1000 * max(o[4] for o in outcomes), 1),
        "target_met": not errors and len(set(acked) - stored_set) == 0
        and len(stored) == len(stored_set) and len(acked) / elapsed_s >= 0.95 * args.rate,
    }
    print(json.dumps(report, indent=2))
    folder.cleanup()


if __name__ == "__main__":
    main()
