"""One settings object (issue 13): every STIMWISE_* variable and file setting in
:class:`stimwise.settings.Settings`, documented in one generated table, shown by
``stimwise config show``."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.errors import InputError
from stimwise.settings import (
    SETTINGS_FILE_VARIABLE,
    Settings,
    get_settings,
    settings_table,
    variable,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    """No STIMWISE_* variable from the machine, and a settings file in ``tmp_path``."""
    import os

    for name in list(os.environ):
        if name.startswith("STIMWISE_") and name != "STIMWISE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    path = tmp_path / "settings.toml"
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(path))
    return path


def show(*args: str) -> dict:
    result = runner.invoke(app, ["config", "show", "--json", *args])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return {row["name"]: row for row in document["settings"]} | {"": document}


def test_the_documented_table_is_the_one_generated_from_the_class():
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("<!-- settings-table:start -->\n")[1].split("<!-- settings-table:end -->")[0]
    assert table == settings_table(), (
        "docs/configuration.md is out of date: paste stimwise.settings.settings_table() "
        "between its settings-table markers")
    for name in Settings.model_fields:
        assert f"`{variable(name)}`" in table


def test_every_stimwise_variable_in_the_source_is_a_setting():
    """No module reads a STIMWISE_* variable of its own: each variable name written as a string
    in the source is one of the settings (or names the settings file)."""
    known = {variable(name) for name in Settings.model_fields} | {SETTINGS_FILE_VARIABLE}
    named = set()
    for path in (ROOT / "src" / "stimwise").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and re.fullmatch(r"STIMWISE_[A-Z_]+", node.value)):
                named.add(node.value)
    assert named, "the scan found nothing: it is broken"
    assert named - known == set()


def test_config_show_gives_each_source_and_hides_secrets(settings_env, monkeypatch):
    settings_env.write_text('clinic_name = "Riverside Physiotherapy"\nport = 8100\n'
                            'trusted_proxies = ["10.0.0.5"]\n', encoding="utf-8")
    monkeypatch.setenv("STIMWISE_PORT", "9000")  # the environment beats the file
    monkeypatch.setenv("STIMWISE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("STIMWISE_DB_URL", "postgresql+psycopg://ann:s3cret@db.example/clinic")
    rows = show()
    assert rows[""]["settings_file"] == str(settings_env) and rows[""]["settings_file_exists"]
    assert (rows["port"]["value"], rows["port"]["source"]) == (9000, "environment")
    assert (rows["clinic_name"]["value"], rows["clinic_name"]["source"]) == (
        "Riverside Physiotherapy", "file")
    assert rows["trusted_proxies"]["value"] == ["10.0.0.5"]
    assert (rows["host"]["value"], rows["host"]["source"]) == ("127.0.0.1", "default")
    assert rows["secret_key"] == {"name": "secret_key", "variable": "STIMWISE_SECRET_KEY",
                                  "value": "(hidden)", "source": "environment", "secret": True}
    assert rows["db_url"]["value"] == "postgresql+psycopg://ann:***@db.example/clinic"
    text = runner.invoke(app, ["config", "show"])
    assert text.exit_code == 0
    assert "k" * 40 not in text.output and "s3cret" not in text.output
    assert "STIMWISE_CLINIC_NAME" in text.output and "file" in text.output


def test_defaults_stand_for_real_folders(settings_env, tmp_path, monkeypatch):
    monkeypatch.setenv("STIMWISE_DATA_DIR", str(tmp_path / "data"))
    rows = show()
    assert rows["data_dir"]["value"] == str(tmp_path / "data")
    assert rows["db_url"] == {"name": "db_url", "variable": "STIMWISE_DB_URL",
                              "value": f"sqlite:///{tmp_path / 'data' / 'records.sqlite3'}",
                              "source": "default", "secret": False}


def test_an_option_beats_the_environment(settings_env, monkeypatch):
    monkeypatch.setenv("STIMWISE_PORT", "9000")
    assert get_settings(port=8123).port == 8123
    assert get_settings(port=None).port == 9000


@pytest.mark.parametrize(("where", "text", "named"), [
    ("env", "STIMWISE_PORT=70000", "STIMWISE_PORT"),
    ("env", "STIMWISE_SQLITE_SYNCHRONOUS=off", "STIMWISE_SQLITE_SYNCHRONOUS"),
    ("env", "STIMWISE_TRUSTED_PROXIES=10.0.0.0/8,not-an-address", "STIMWISE_TRUSTED_PROXIES"),
    ("file", "report_time_zone = 'Mars/Olympus'", "settings.toml: report_time_zone"),
    ("file", "db_ulr = 'sqlite:///x'", "settings.toml: db_ulr"),
    ("file", "port = [", "settings.toml"),
])
def test_a_bad_value_is_named_by_where_it_came_from(settings_env, monkeypatch, where, text,
                                                    named):
    if where == "env":
        name, _, value = text.partition("=")
        monkeypatch.setenv(name, value)
    else:
        settings_env.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(named)):
        get_settings()
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 2 and named in result.output
    assert "Traceback" not in result.output


def test_a_secret_in_an_error_is_not_shown(settings_env, monkeypatch):
    monkeypatch.setenv("STIMWISE_SECRET_KEY", "too-short-key")
    with pytest.raises(InputError) as refused:
        get_settings()
    assert "too-short-key" not in str(refused.value)
    assert "STIMWISE_SECRET_KEY" in str(refused.value)
