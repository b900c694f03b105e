"""The device registry: one way to open a stimulator from a spec, and ``stimwise devices list``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.device import registry
from stimwise.device.interface import Stimulator
from stimwise.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src" / "stimwise"
ALLOWED_FROM_ABOVE = {"stimwise.device", "stimwise.device.interface", "stimwise.device.registry"}
"""What packages above ``device/`` may import from it; emulator modules (``*emulator``) too, for
``stimwise emulate``, and the profiles of commercial devices (``stimwise.device.profiles``), which
describe devices stimwise does not drive."""
PROFILES = "stimwise.device.profiles"


def test_every_registered_driver_opens_unconnected_with_its_capabilities():
    for entry in registry.drivers():
        device = entry.open("/dev/null-port") if entry.needs_port else entry.open()
        assert isinstance(device, Stimulator)
        assert device.capabilities == entry.load_capabilities()
        assert device.status().state == "disconnected"  # nothing was opened


def test_specs_resolve_to_their_driver_and_port():
    entry, port = registry.resolve("rehastim2:/dev/ttyUSB0")
    assert (entry.scheme, port) == ("rehastim2", "/dev/ttyUSB0")
    assert registry.resolve("sim")[0].scheme == "sim"
    assert type(registry.open_device("sim")).__name__ == "SimulatedStimulator"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("usb", "one of 'sim', 'rehastim2:PORT'"),
        ("rehastim2", "'rehastim2:PORT'"),
        ("rehastim2:", "'rehastim2:PORT'"),
        ("sim:/dev/ttyUSB0", "'sim' ("),
        ("i24:/dev/ttyACM0", "measures EMG and bioimpedance"),
    ],
)
def test_HAZ136_an_unknown_or_malformed_spec_names_the_field_and_the_known_specs(spec, says):
    with pytest.raises(InputError) as refused:
        registry.open_device(spec, field="device")
    [problem] = refused.value.problems
    assert (problem.path, problem.value) == ("device", spec)
    assert says in problem.expected
    assert refused.value.exit_code == 2


def test_a_scheme_registers_once():
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registry.drivers()[0])


def test_HAZ136_session_run_with_an_unknown_device_exits_2_listing_the_known_ones(tmp_path):
    result = CliRunner().invoke(
        app,
        ["session", "run", "conventional-tens", "--device", "p42:/dev/x", "--auto",
         "--journal", str(tmp_path / "j.jsonl")],
    )
    assert result.exit_code == 2
    assert "--device" in result.output and "'rehastim2:PORT'" in result.output
    assert "Traceback" not in result.output


def test_devices_list_json_shows_every_driver_with_its_capabilities():
    result = CliRunner().invoke(app, ["devices", "list", "--json"])
    assert result.exit_code == 0
    listed = {d["scheme"]: d for d in json.loads(result.output)["devices"]}
    assert set(listed) == {e.scheme for e in registry.drivers()}
    rehastim2 = listed["rehastim2"]
    assert rehastim2["usage"] == "rehastim2:PORT"
    assert rehastim2["capabilities"]["current_range_ma"] == [0.0, 130.0]
    assert rehastim2["capabilities"]["pulse_kinds"] == ["biphasic_symmetric"]
    text = CliRunner().invoke(app, ["devices", "list"], env={"COLUMNS": "120"})
    assert text.exit_code == 0 and "rehastim2:PORT" in text.output


def _device_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names
                      if node.module == "stimwise.device"]
    return [name for name in found if name.startswith("stimwise.device")]


def test_nothing_outside_device_imports_a_driver_module():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "device"):
            continue
        for name in _device_imports(path):
            if (name not in ALLOWED_FROM_ABOVE and not name.endswith("emulator")
                    and name != PROFILES and not name.startswith(PROFILES + ".")):
                offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []


def test_the_import_check_would_catch_a_direct_driver_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from stimwise.device.sciencemode2.driver import RehaStim2\n"
        "from stimwise.device import simulated\n"
        "import stimwise.device.registry\n"
    )
    assert _device_imports(sample) == [
        "stimwise.device.sciencemode2.driver",
        "stimwise.device",
        "stimwise.device.simulated",
        "stimwise.device.registry",
    ]
