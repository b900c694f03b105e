"""The web application's cookie-signing key. Its settings are part of the one settings object,
:class:`stimwise.settings.Settings` (host, port, device, cookies, sign-in throttle, trusted
proxies, the clinic on reports), with embedded defaults that need no set-up: the records of
:func:`stimwise.records.database.resolve_url`, the simulated stimulator and the loopback address
(nothing is reachable from the network until the operator asks for it)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from stimwise.settings import Settings, data_dir

SECRET_KEY_FILE = "web-secret-key"


def load_or_create_secret(settings: Settings, folder: Path | None = None) -> str:
    """The cookie-signing key: the ``secret_key`` setting, or a file created once in the data
    folder with mode 0600 (so sessions survive a restart and nobody else on the computer can
    read it)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = (folder or data_dir(settings)) / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
