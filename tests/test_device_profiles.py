"""Device profiles of commercial units: sourced facts, explicit unknowns, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.device.profiles import get_profile, profiles
from stimwise.device.profiles.models import DeviceProfile
from stimwise.errors import InputError
from stimwise.protocol.io import validate_model

runner = CliRunner()


def test_at_least_twelve_sourced_profiles_and_one_generic():
    found = profiles()
    sourced = [p for p in found.values() if not p.generic]
    assert len(sourced) >= 12
    assert all(p.sources for p in sourced)
    assert [p.id for p in found.values() if p.generic] == ["other-device"]


def _minimal(**changes) -> dict:
    data = {
        "id": "test-unit", "name": "Test unit", "manufacturer": "m", "model": "x",
        "modalities": ["TENS"], "controls": "buttons",
        "intensity": {"unit": "level", "meaning": "not stated"},
        "sources": [{"id": "man", "kind": "manual", "title": "a manual", "reference": "ref",
                     "confidence": "C-s"}],
    }
    data.update(changes)
    return data


def test_HAZ140_a_number_without_a_source_is_refused():
    data = _minimal(max_output={"current_ma": {"value": 80}, "load_ohm": 500})
    with pytest.raises(InputError) as refused:
        validate_model(DeviceProfile, data)
    assert "source" in refused.value.message


def test_HAZ140_an_unknown_value_must_say_so_and_a_source_must_exist():
    with pytest.raises(InputError):
        validate_model(DeviceProfile, _minimal(channels={"value": None}))
    with pytest.raises(InputError) as refused:
        validate_model(DeviceProfile, _minimal(channels={"value": 2, "source": "nowhere"}))
    assert "nowhere" in refused.value.message
    with pytest.raises(InputError):  # a current without its load is not a fact
        validate_model(DeviceProfile, _minimal(
            max_output={"current_ma": {"value": 80, "source": "man"}}))


def test_profile_lists_what_is_unknown():
    quell = get_profile("quell")
    assert quell.closed
    assert "maximum output current" in quell.unknowns()
    neotek = get_profile("neotek-dt8003tp")
    knee = neotek.programme("06")
    assert knee is not None and knee.frequency_hz.closest(90) == 100


def test_cli_list_json_lists_sourced_profiles():
    result = runner.invoke(app, ["device-profiles", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len([r for r in rows if r["sources"]]) >= 12
    assert all("unknown" in r for r in rows)


def test_cli_show_and_unknown_id():
    shown = runner.invoke(app, ["device-profiles", "show", "twin-stim-plus-3", "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.output)["conformity"][0]["standard"] == "IEC 60601-2-10"
    refused = runner.invoke(app, ["device-profiles", "show", "no-such-unit"])
    assert refused.exit_code == 2
    assert "device profile id" in refused.output


def test_schema_device_profile():
    result = runner.invoke(app, ["schema", "device-profile"])
    assert result.exit_code == 0
    assert "DeviceProfile" in result.output or "programmes" in result.output


def test_HAZ148_a_maximum_current_without_a_load_must_say_the_source_names_none():
    accepted = validate_model(DeviceProfile, _minimal(max_output={
        "current_ma": {"value": 40, "source": "man"},
        "load_note": "the summary names no load"}))
    assert accepted.max_output.describe() == "40 mA (the source states no load)"
    stated = validate_model(DeviceProfile, _minimal(max_output={
        "current_ma": {"value": 99.5, "source": "man"}, "load_ohm": 1000}))
    assert stated.max_output.describe() == "99.5 mA at 1000 Ω"


def test_second_research_pass_facts_are_held_with_their_sources():
    tensmed = get_profile("enraf-tensmed-s84")
    assert tensmed.max_output.current_ma.value == 99.5 and tensmed.max_output.load_ohm == 1000
    assert tensmed.channels.value == 4 and tensmed.intensity.unit == "mA"
    assert tensmed.programme("tens-presets").timer_min.describe("min") == "1–99 min in steps of 1"
    qt42 = get_profile("quadratens-qt42")
    assert qt42.max_output.current_ma.value == 40 and qt42.max_output.load_ohm is None
    assert qt42.sources[0].confidence == "C"
    burst = get_profile("beurer-em80").programme("10")
    assert burst.frequency_hz.choices() == (100,) and burst.burst_frequency_hz.choices() == (2,)
    assert get_profile("neotek-dt8003tp").programme("04").frequency_hz.closest(68) == 70
    assert "10-20 mA" in get_profile("globus-elite").intensity.meaning
