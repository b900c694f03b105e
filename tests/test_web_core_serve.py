"""``stimwise serve`` really starts: a child process on a free loopback port answers the sign-in
page, with nothing set up but the administrator's password; the signing key is created once,
readable only by its owner."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request

from stimwise.settings import get_settings
from stimwise.web.settings import SECRET_KEY_FILE, load_or_create_secret


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_starts_on_embedded_defaults_and_prints_the_address(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "STIMWISE_ADMIN_PASSWORD": "a strong first passphrase",
        "XDG_DATA_HOME": str(tmp_path / "data"),  # the default SQLite file and the key go here
        "HOME": str(tmp_path),
    }
    env.pop("STIMWISE_DB_URL", None)
    env.pop("STIMWISE_SECRET_KEY", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "stimwise", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        page = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                    page = (answer.status, answer.headers["x-frame-options"], answer.read())
                break
            except OSError:
                time.sleep(0.2)
        assert page is not None, "the server did not answer"
        assert page[0] == 200 and page[1] == "DENY" and b"Sign in" in page[2]
    finally:
        child.terminate()
        output, _ = child.communicate(timeout=20)
    assert f"stimwise is serving at http://127.0.0.1:{port}/" in output
    assert "Created the administrator 'admin'" in output
    assert (tmp_path / "data" / "stimwise" / "records.sqlite3").exists()
    key = tmp_path / "data" / "stimwise" / SECRET_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_the_signing_key_is_created_once_and_then_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("STIMWISE_SECRET_KEY", raising=False)
    first = load_or_create_secret(get_settings(), tmp_path)
    assert len(first) >= 32 and load_or_create_secret(get_settings(), tmp_path) == first
    monkeypatch.setenv("STIMWISE_SECRET_KEY", "e" * 40)
    assert load_or_create_secret(get_settings(), tmp_path) == "e" * 40


def test_accounts_at_the_command_line_add_a_user_and_reset_a_forgotten_password(
    tmp_path, monkeypatch
):
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from stimwise.cli.main import app as cli_app
    from web_fixtures import app_on, ensure_patient, web_settings

    url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    web = app_on(web_settings(url))
    ensure_patient(web, "P001")
    runner = CliRunner()
    monkeypatch.delenv("STIMWISE_NEW_PASSWORD", raising=False)
    asked = runner.invoke(cli_app, ["account", "add", "ann", "--role", "patient",
                                    "--patient", "P001", "--db", url])
    assert asked.exit_code == 2 and "no default password" in asked.output
    monkeypatch.setenv("STIMWISE_NEW_PASSWORD", "anna's first passphrase")
    added = runner.invoke(cli_app, ["account", "add", "ann", "--role", "patient",
                                    "--patient", "P001", "--db", url])
    assert added.exit_code == 0, added.output
    with TestClient(web) as client:
        login = {"username": "ann", "password": "anna's first passphrase"}
        assert client.post("/api/v1/auth/login", json=login).json()["patient"] == "P001"
        monkeypatch.setenv("STIMWISE_NEW_PASSWORD", "a replacement passphrase")
        reset = runner.invoke(cli_app, ["account", "set-password", "ann", "--db", url])
        assert reset.exit_code == 0, reset.output
        assert client.get("/api/v1/auth/me").status_code == 401  # the old session ended
        assert client.post("/api/v1/auth/login", json=login).status_code == 401
        login["password"] = "a replacement passphrase"
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
    unknown = runner.invoke(cli_app, ["account", "set-password", "nobody", "--db", url])
    assert unknown.exit_code == 2 and "registered user name" in unknown.output
    web.state.db.close()
