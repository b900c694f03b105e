"""Load on the web application: concurrent simulated users against a real server on loopback.

Issue 7 asks for 8 concurrent users for 60 s (diary writes, page views, API reads) on SQLite and
on PostgreSQL with zero errors, zero lost writes and the p95 page time under 200 ms reported.
The server is ``stimwise serve`` in its own process (so the load generator does not share its
interpreter); half the users are patients writing diary entries through the API and opening
their own pages, half are clinicians opening pages and reading diaries through the API, each
without think time (a harsher load than people at keyboards). Issue 17 adds the heavy clinical
pages: every patient has ~16 weeks of synthetic diary and sessions, a home prescription and an
intake, and clinicians also open the prescribe, response and progress-report pages (targets:
page p95 under 200 ms at 8 users and under 400 ms at 32 on SQLite). After the run the diary rows in
the database are counted against the writes the server acknowledged. Prints one JSON document.

Run: ``.venv/bin/python benchmarks/bench_web_load.py [--seconds 60] [--users 8] [--db URL]``
(default: a new SQLite file in a temporary folder; a PostgreSQL URL must name an empty database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from pydantic import SecretStr
from sqlalchemy import func, select

from stimwise.records import repository as repo
from stimwise.records.access import Actor
from stimwise.records.models import DiaryEntry, Patient
from stimwise.records.schema import open_database
from stimwise.web.security.passwords import Passwords, make_hasher
from stimwise.web.services.users import NewUser, create_user

SETUP = Actor("bench-setup", "administrator")
CLINICIAN = Actor("bench-setup", "clinician")


def example_intake(pseudonym: str):
    """The packaged CRPS example intake for ``pseudonym``, assessed today (so the prescribe
    page has a current screening to draw on)."""
    import yaml

    from stimwise.clinical.examples import example_patient_path
    from stimwise.clinical.intake import Intake

    data = yaml.safe_load(example_patient_path("crps-allodynia").read_text("utf-8"))
    data.update(patient_id=pseudonym, assessed_on=datetime.now(UTC).date())
    return Intake.model_validate(data)
PASSWORD = "load-benchmark passphrase 42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(url: str, users: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Patients with accounts and clinician accounts; returns (patient user, pseudonym) pairs
    and clinician user names."""
    from stimwise.analysis.cohort import simulate_cohort
    from stimwise.analysis.from_records import write_cohort

    count = (users + 1) // 2
    clinicians = [f"clin-load-{i}" for i in range(users // 2)]
    database = open_database(url)
    passwords = Passwords(make_hasher("standard"))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    try:
        with database.transaction() as session:
            pseudonyms = list(write_cohort(session, CLINICIAN, simulate_cohort(count, 17),
                                           yesterday))
            for pseudonym in pseudonyms:
                repo.add_intake(session, CLINICIAN, example_intake(pseudonym))
        patients = [(f"pt-load-{i}", p) for i, p in enumerate(pseudonyms)]
        for user, pseudonym in patients:
            create_user(database, SETUP, NewUser(username=user, role="patient", patient=pseudonym,
                                                 password=SecretStr(PASSWORD)), passwords)
        for user in clinicians:
            create_user(database, SETUP, NewUser(username=user, role="clinician",
                                                 password=SecretStr(PASSWORD)), passwords)
    finally:
        database.close()
    return patients, clinicians


def start_server(url: str, port: int, folder: Path, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "STIMWISE_ADMIN_PASSWORD": PASSWORD + " operator",
           "STIMWISE_SECRET_KEY": "load-benchmark-signing-key-" + "x" * 32,
           "XDG_DATA_HOME": str(folder)}
    command = [sys.executable, "-c", "from stimwise.cli.main import run; run()",
               "serve", "--db", url, "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 60 s")


class Tally:
    """Latencies per kind of request, errors and acknowledged writes (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency_s: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.acknowledged: dict[str, int] = defaultdict(int)

    def timed(self, kind: str, client: httpx.Client, method: str, path: str,
              expected: int = 200, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            with self.lock:
                self.errors.append(f"{kind} {path}: {type(error).__name__}")
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency_s[kind].append(elapsed)
            if response.status_code != expected:
                self.errors.append(f"{kind} {path}: HTTP {response.status_code}")
                return None
        return response


def signed_in_client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def patient_user(client: httpx.Client, pseudonym: str, until: float, tally: Tally,
                 rng: random.Random) -> None:
    while time.monotonic() < until:
        if rng.random() < 0.7:
            worst = rng.randint(2, 10)
            entry = {
                "recorded_at": (datetime.now(UTC) - timedelta(minutes=rng.randint(1, 600)))
                .isoformat(),
                "pain_current_nrs": rng.randint(0, worst), "pain_worst_nrs": worst,
                "entry_uuid": str(uuid.uuid4()),
            }
            if tally.timed("diary_write", client, "POST", f"/api/v1/patients/{pseudonym}/diary",
                           expected=201, json=entry) is not None:
                with tally.lock:
                    tally.acknowledged[pseudonym] += 1
        else:
            page = rng.choice(("/me", "/diary", f"/patients/{pseudonym}/diary"))
            tally.timed("page", client, "GET", page)


def clinician_user(client: httpx.Client, pseudonyms: list[str], until: float, tally: Tally,
                   rng: random.Random) -> None:
    while time.monotonic() < until:
        pseudonym = rng.choice(pseudonyms)
        if rng.random() < 0.5:
            page = rng.choice(("/patients", f"/patients/{pseudonym}",
                               f"/patients/{pseudonym}/diary", f"/patients/{pseudonym}/prescribe",
                               f"/patients/{pseudonym}/response",
                               f"/patients/{pseudonym}/report"))
            tally.timed("page", client, "GET", page)
        else:
            api = rng.choice((f"/api/v1/patients/{pseudonym}/diary",
                              f"/api/v1/patients/{pseudonym}", "/api/v1/patients"))
            tally.timed("api_read", client, "GET", api)


def guarded(task, *args) -> None:
    """Run one simulated user; anything unexpected counts as an error of the run."""
    tally = args[-2]
    try:
        task(*args)
    except Exception as error:
        with tally.lock:
            tally.errors.append(f"user crashed: {type(error).__name__}: {error}")


def percentiles_ms(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    ms = np.array(values) * 1000
    return {"count": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1)}


def stored_rows(url: str) -> dict[str, int]:
    database = open_database(url)
    try:
        with database.reading() as session:
            rows = session.execute(
                select(Patient.pseudonym, func.count(DiaryEntry.id))
                .join(DiaryEntry, DiaryEntry.patient_id == Patient.id, isouter=True)
                .group_by(Patient.pseudonym)).all()
    finally:
        database.close()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--db", default=None, help="Database URL (an empty one); default SQLite.")
    parser.add_argument("--workers", type=int, default=1,
                        help="Server worker processes (stimwise serve --workers).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stimwise-load-") as tmp:
        folder = Path(tmp)
        url = args.db or f"sqlite:///{folder / 'load.sqlite3'}"
        patients, clinicians = seed(url, args.users)
        seeded = stored_rows(url)
        port = free_port()
        server = start_server(url, port, folder, args.workers)
        base = f"http://127.0.0.1:{port}"
        tally = Tally()
        clients: list[httpx.Client] = []
        try:
            # Sign-ins (argon2id, deliberately slow) happen before the clock starts.
            clients = [signed_in_client(base, u) for u, _p in patients]
            clients += [signed_in_client(base, u) for u in clinicians]
            pseudonyms = [p for _u, p in patients]
            until = time.monotonic() + args.seconds
            work = [(patient_user, (clients[i], p)) for i, (_u, p) in enumerate(patients)]
            work += [(clinician_user, (clients[len(patients) + i], pseudonyms))
                     for i in range(len(clinicians))]
            threads = [threading.Thread(target=guarded, args=(task, *task_args, until, tally,
                                                              random.Random(i)))
                       for i, (task, task_args) in enumerate(work)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            for client in clients:
                client.close()
            server.terminate()
            server.wait(20)
        rows = {p: n - seeded.get(p, 0) for p, n in stored_rows(url).items()}
    lost = {p: tally.acknowledged[p] - rows.get(p, 0) for p in pseudonyms
            if tally.acknowledged[p] != rows.get(p, 0)}
    requests = sum(len(v) for v in tally.latency_s.values())
    print(json.dumps({
        "backend": url.split(":", 1)[0],
        "users": args.users, "workers": args.workers, "seconds": round(elapsed, 1),
        "requests": requests, "requests_per_s": round(requests / elapsed, 1),
        "errors": len(tally.errors), "error_examples": tally.errors[:5],
        "writes_acknowledged": sum(tally.acknowledged.values()),
        "diary_rows_stored": sum(rows.values()), "lost_writes": lost,
        "page": percentiles_ms(tally.latency_s["page"]),
        "api_read": percentiles_ms(tally.latency_s["api_read"]),
        "diary_write": percentiles_ms(tally.latency_s["diary_write"]),
        "p95_page_target_ms": 200 if args.users <= 8 else 400,
        "p95_page_meets_target": percentiles_ms(tally.latency_s["page"]).get("p95_ms", 1e9)
        < (200 if args.users <= 8 else 400),
    }, indent=2))


if __name__ == "__main__":
    main()
