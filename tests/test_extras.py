"""The lean core and its extras (issue 13): what ``pip install stimwise`` gives without extras,
what a command says when its extra is missing, and that a missing extra never weakens a safety
check (HAZ-175).

A missing package is simulated in a fresh interpreter whose import system refuses the optional
packages (a ``sys.meta_path`` finder raising ``ModuleNotFoundError`` for them, as Python does for
a package that is not installed), so that nothing already imported by the test process hides
the difference.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stimwise.cli.errors import report_errors
from stimwise.extras import EXTRAS, MissingExtraError, extra_for, require_extra

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "patients"
OPTIONAL = sorted({m for modules in EXTRAS.values() for m in modules})

BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") or b.startswith(name + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
sys.argv = ["stimwise", *{args!r}]
from stimwise.cli.main import run
run()
"""

DISTRIBUTIONS = {  # what each requirement of pyproject.toml makes importable
    "numba": {"numba"}, "scipy": {"scipy"}, "dask[distributed]": {"dask", "distributed"},
    "sqlalchemy": {"sqlalchemy"}, "alembic": {"alembic"}, "psycopg[binary]": {"psycopg"},
    "icalendar": {"icalendar"}, "matplotlib": {"matplotlib"}, "pyserial": {"serial"},
    "fhir.resources": {"fhir.resources"}, "fastapi": {"fastapi", "starlette"},
    "uvicorn[standard]": {"uvicorn"}, "anyio": {"anyio"}, "jinja2": {"jinja2"},
    "argon2-cffi": {"argon2"},
    "python-multipart": {"multipart"}, "itsdangerous": {"itsdangerous"}, "fpdf2": {"fpdf"},
    "numpy": {"numpy"}, "pydantic": {"pydantic", "pydantic_core", "annotated_types"},
    "pydantic-settings": {"pydantic_settings"}, "pyyaml": {"yaml"}, "typer": {"typer"},
    "rich": {"rich"}, "platformdirs": {"platformdirs"},
}


def stimwise(*args: str, blocked=(), cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``stimwise ARGS`` in a fresh interpreter that cannot import ``blocked``."""
    code = BLOCKER.format(blocked=tuple(blocked), args=list(args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def _name(requirement: str) -> str:
    return requirement.split(">")[0].split("<")[0].split("=")[0].strip()


def _pyproject_imports(extra: str, table: dict) -> set[str]:
    found: set[str] = set()
    for requirement in table[extra]:
        name = _name(requirement)
        if name.startswith("stimwise["):
            for included in name[len("stimwise["):-1].split(","):
                found |= _pyproject_imports(included, table)
        else:
            found |= DISTRIBUTIONS[name]
    return found


# --------------------------------------------------------------------------- declared extras


def test_the_extras_of_pyproject_are_the_ones_the_code_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    table = project["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        assert _pyproject_imports(extra, table) == set(modules), extra
    assert _pyproject_imports("all", table) == set(OPTIONAL)
    assert "stimwise[all]" in table["dev"]
    core = set().union(*(DISTRIBUTIONS[_name(r)] for r in project["dependencies"]))
    assert not core & set(OPTIONAL)


def test_every_package_the_source_imports_is_declared():
    """A new import of a package that is neither in the core nor in an extra is caught here
    (it would break ``pip install stimwise``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set().union(*(DISTRIBUTIONS[_name(r)] for r in project["dependencies"]))
    declared |= set(OPTIONAL) | {"typing_extensions"}
    undeclared = set()
    for path in (ROOT / "src" / "stimwise").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and not node.level
                     and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("stimwise", "__future__"):
                    continue
                if not any(name == d or name.startswith(d + ".") or top == d for d in declared):
                    undeclared.add(f"{path.relative_to(ROOT)}: {name}")
    assert undeclared == set()


def test_require_extra_names_the_extra_and_the_pip_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    with pytest.raises(MissingExtraError) as missing:
        require_extra("web", "stimwise serve")
    assert str(missing.value) == ("stimwise serve needs the optional 'web' dependencies (the "
                                  "module fastapi is missing): pip install 'stimwise[web]'")
    assert missing.value.exit_code == 2 and isinstance(missing.value, ImportError)
    require_extra("physiology")  # installed here: nothing raised


def test_a_missing_module_is_named_by_the_extra_of_the_code_that_needs_it():
    assert extra_for("scipy", ["stimwise.physiology.solver"]) == "physiology"
    assert extra_for("scipy", ["stimwise.analysis.stats"]) == "records"
    assert extra_for("matplotlib", ["stimwise.web.routes.x", "stimwise.interop.pdf"]) == "web"
    assert extra_for("sqlalchemy", ["stimwise.interop.fhir_export", "stimwise.records.models"]
                     ) == "fhir"
    assert extra_for("fhir", ["stimwise.interop.fhir_export"]) == "fhir"
    assert extra_for("serial", []) == "devices"
    assert extra_for("no_such_package", ["stimwise.web.app"]) is None


def test_a_command_turns_a_missing_extra_into_one_line_and_exit_2_but_not_a_bug():
    app = typer.Typer()

    @app.command("needs-web")
    @report_errors(json_flag=None)
    def needs_web() -> None:
        raise ModuleNotFoundError("No module named 'fastapi'", name="fastapi")

    @app.command("broken")
    @report_errors(json_flag=None)
    def broken() -> None:
        raise ModuleNotFoundError("No module named 'stimwise.nothing'", name="stimwise.nothing")

    result = CliRunner().invoke(app, ["needs-web"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "stimwise: this command needs the optional 'web' dependencies (the module fastapi is "
        "missing): pip install 'stimwise[web]'"]
    bug = CliRunner().invoke(app, ["broken"])
    assert isinstance(bug.exception, ModuleNotFoundError)  # a bug surfaces as it is


# --------------------------------------------------------------------------- without extras


@pytest.mark.slow
@pytest.mark.parametrize(("args", "extra"), [
    (("serve",), "web"),
    (("account", "add", "ann", "--role", "clinician"), "web"),
    (("db", "init"), "records"),
    (("patient", "list"), "records"),
    (("response", "P001"), "records"),
    (("fhir", "export", "P001", "--out", "x.json"), "fhir"),
    (("model", "threshold"), "physiology"),
    (("waveform", "plot", "conventional-tens", "--out", "x.png"), "plots"),
    (("session", "run", "conventional-tens", "--device", "rehastim2:/dev/null", "--auto"),
     "devices"),
    (("demo",), "plots"),
])
def test_a_command_whose_extra_is_missing_says_which_to_install(args, extra, tmp_path):
    result = stimwise(*args, blocked=OPTIONAL, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"optional '{extra}' dependencies" in lines[0]
    assert lines[0].endswith(f"pip install 'stimwise[{extra}]'")


@pytest.mark.slow
def test_HAZ175_a_missing_extra_never_weakens_a_safety_check(tmp_path):
    """The safety gate, screening, recommendation and a simulated session give the same results
    with every optional package missing as with all of them installed: no check depends on an
    extra, so none can silently disappear."""
    commands = [
        ("check", "conventional-tens", "--json", "--fda-loads"),
        ("check", "nmes-strengthening", "--electrode-area-cm2", "1", "--amplitude-ma", "200",
         "--json"),
        ("check", "acupuncture-like-tens", "--patient", str(EXAMPLES / "pacemaker.yaml"),
         "--json"),
        ("screen", str(EXAMPLES / "pacemaker.yaml"), "--json"),
        ("recommend", str(EXAMPLES / "crps-allodynia.yaml"), "--json"),
        ("--help",),
    ]
    for args in commands:
        full, lean = stimwise(*args), stimwise(*args, blocked=OPTIONAL)
        assert (lean.returncode, lean.stdout) == (full.returncode, full.stdout), args
        assert "Traceback" not in lean.stderr, lean.stderr
    assert json.loads(stimwise(*commands[1], blocked=OPTIONAL).stdout)["verdict"] == "block"
    journal = tmp_path / "session.jsonl"
    session = stimwise("session", "run", "conventional-tens", "--auto", "--minutes", "0.05",
                       "--calibration-step-s", "0.1", "--journal", str(journal), "--json",
                       blocked=OPTIONAL)
    assert session.returncode == 0, session.stderr
    record = json.loads(session.stdout)
    assert record["outcome"] == "completed" and journal.exists()


def test_HAZ175_the_safety_path_imports_no_optional_package():
    """No module of the safety path imports an optional package, not even inside a function
    (plots and serial links are outputs of their own, each behind its extra)."""
    allowed = {"stimwise/waveform/plot.py": {"matplotlib"},
               "stimwise/device/serial_transport.py": {"serial"},
               "stimwise/device/sciencemode2/link.py": {"serial"},
               "stimwise/device/sciencemode4/link.py": {"serial"}}
    found = {}
    for package in ("protocol", "waveform", "safety", "export", "clinical", "device", "session"):
        for path in (ROOT / "src" / "stimwise" / package).rglob("*.py"):
            name = path.relative_to(ROOT / "src").as_posix()
            imported = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module)
            optional = {m for m in imported for o in OPTIONAL
                        if m == o or m.startswith(o + ".") or o.startswith(m + ".")}
            optional = {m.split(".")[0] for m in optional} - allowed.get(name, set())
            if optional:
                found[name] = sorted(optional)
    assert found == {}


@pytest.mark.slow
def test_the_library_names_the_missing_physiology_extra_at_first_use():
    """``sw.fiber_threshold`` on a core install stops at once with the extra to install, not
    with a ModuleNotFoundError from half-way through a computation."""
    code = BLOCKER.split("sys.argv")[0].format(blocked=tuple(OPTIONAL)) + (
        "import stimwise as sw\n"
        "from stimwise.extras import MissingExtraError\n"
        "assert sw.verify(sw.load_protocol('conventional-tens')).verdict == 'pass'\n"
        "try:\n"
        "    sw.fiber_threshold('mrg', diameter_um=10, distance_mm=1, pulse_width_ms=0.1)\n"
        "except MissingExtraError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("pip install 'stimwise[physiology]'"), result.stdout
