"""Several web workers (issue 17): one live session per person and the sign-in throttle are held
in the records database, so they hold whichever worker a request reaches (HAZ-117, HAZ-114).

The last test starts two real ``stimwise serve`` processes (two workers) on one PostgreSQL
database and starts a session for the same person on each: the second is refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stimwise.records.access import Actor
from stimwise.records.inputs import PatientIn
from stimwise.records.repository import create_patient
from stimwise.records.schema import open_database
from stimwise.web.services import live_lease

SECRET = "two-workers-share-this-signing-key-0123456789"
PASSWORD = "correct horse battery staple"


def test_HAZ117_a_second_holder_cannot_take_a_live_lease_until_it_is_freed_or_expires(db_url):
    db = open_database(db_url)
    with db.transaction() as session:
        create_patient(session, Actor("t", "clinician"),
                       PatientIn(pseudonym="P001", enrolled_on="2025-01-01"))
    assert live_lease.take(db, "P001", "worker-a")
    assert not live_lease.take(db, "P001", "worker-b")
    assert live_lease.renew(db, "P001", "worker-a") and not live_lease.renew(db, "P001", "b")
    live_lease.release(db, "P001", "worker-b")  # not theirs: nothing happens
    assert not live_lease.take(db, "P001", "worker-b")
    live_lease.release(db, "P001", "worker-a")
    assert live_lease.take(db, "P001", "worker-b")
    later = datetime.now(UTC) + timedelta(seconds=live_lease.LEASE_TTL_S + 1)
    assert live_lease.take(db, "P001", "worker-c", now=later)  # a dead holder's lease expired
    db.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(db_url: str, port: int, tmp_path, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "STIMWISE_SECRET_KEY": SECRET, "XDG_DATA_HOME": str(tmp_path),
           "STIMWISE_ADMIN_PASSWORD": PASSWORD}
    return subprocess.Popen(
        [sys.executable, "-m", "stimwise", "serve", "--db", db_url, "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_up(base: str, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise AssertionError(child.communicate()[0])
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("the server did not answer")


def _signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=20)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def _start(base: str, client: httpx.Client, rx_id: int) -> dict:
    """Open the console on ``base`` and ask for a session; the first answer that is not a
    snapshot (started, or the refusal)."""
    from websockets.sync.client import connect

    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    ws = connect(f"ws{base[4:]}/ws/v1/live/DEMO-CRPS-01", origin=base,
                 additional_headers={"Cookie": cookie})
    ws.send(json.dumps({"type": "start", "prescription_id": rx_id, "target_ma": 2.0}))
    while True:
        message = json.loads(ws.recv(timeout=20))
        if message["type"] != "snapshot":
            message["_socket"] = ws
            return message


@pytest.mark.slow
def test_HAZ117_two_workers_on_postgresql_refuse_a_second_session_for_one_person(tmp_path):
    """Two ``stimwise serve`` processes (workers) on one PostgreSQL database: a session started
    through one refuses a second start through the other, in either order."""
    from test_web_clinical_support import CRPS, example_intake
    from test_web_prescribing import crps_draft
    from web_fixtures import app_on, ensure_patient, ensure_user, web_settings

    base_url = os.environ.get("STIMWISE_TEST_POSTGRES_URL")
    if not base_url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but STIMWISE_TEST_POSTGRES_URL is not")
        pytest.skip("set STIMWISE_TEST_POSTGRES_URL to run the two-worker test")
    from conftest import _postgres_schema_url

    schema_urls = _postgres_schema_url(base_url)
    db_url = next(schema_urls)

    setup = app_on(web_settings(db_url))
    ensure_user(setup, "clinician-1", "clinician")
    ensure_patient(setup, CRPS)
    setup.state.db.close()
    ports = (_free_port(), _free_port())
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    servers, sockets = [], []
    try:
        for i, (base, port) in enumerate(zip(bases, ports, strict=True)):
            servers.append(_serve(db_url, port, tmp_path / f"w{i}"))
            _wait_up(base, servers[-1])  # one after the other: the first run makes the admin
        clients = [_signed_in(base, "clinician-1") for base in bases]
        intake = clients[0].post(f"/api/v1/patients/{CRPS}/intakes",
                                 json=example_intake("crps-allodynia", CRPS))
        assert intake.status_code == 201, intake.text
        stored = clients[0].post("/api/v1/patients/DEMO-CRPS-01/prescriptions",
                                 json=crps_draft(clients[0]))
        assert stored.status_code == 201, stored.text
        rx_id = stored.json()["id"]
        first = _start(bases[0], clients[0], rx_id)
        sockets.append(first.pop("_socket"))
        assert first["type"] == "started", first
        second = _start(bases[1], clients[1], rx_id)
        sockets.append(second.pop("_socket"))
        assert second["type"] == "error" and "already running" in second["message"], second
        sockets[0].send(json.dumps({"type": "emergency_stop"}))
    finally:
        for ws in sockets:
            ws.close()
        for child in servers:
            child.terminate()
            child.communicate(timeout=20)
        next(schema_urls, None)
