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

from stimwise.web.settings import SECRET_KEY_FILE, WebSettings, load_or_create_secret


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
    assert "Created the administrator clinician 'admin'" in output
    assert (tmp_path / "data" / "stimwise" / "records.sqlite3").exists()
    key = tmp_path / "data" / "stimwise" / SECRET_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_the_signing_key_is_created_once_and_then_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("STIMWISE_SECRET_KEY", raising=False)
    first = load_or_create_secret(WebSettings(), tmp_path)
    assert len(first) >= 32 and load_or_create_secret(WebSettings(), tmp_path) == first
    monkeypatch.setenv("STIMWISE_SECRET_KEY", "e" * 40)
    assert load_or_create_secret(WebSettings(), tmp_path) == "e" * 40
