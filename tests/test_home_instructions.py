"""The prescription in the person's device's terms, verified at the device's worst case."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from stimwise.cli.main import app
from stimwise.device.profiles import get_profile
from stimwise.device.profiles.models import DeviceProfile
from stimwise.device.profiles.translate import translate
from stimwise.interop.home_sheet import sheet_html, sheet_pdf
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety.caps import PatientCaps

runner = CliRunner()


def _rx(protocol_id: str = "crps-gentle-sensory") -> Prescription:
    return Prescription.from_protocol(get_protocol(protocol_id))


def _documented_unit() -> DeviceProfile:
    """A test fixture (not packaged data): a unit whose manual documents its output."""
    return validate_model(DeviceProfile, {
        "id": "documented-unit", "name": "Documented unit", "manufacturer": "test",
        "model": "T1", "modalities": ["TENS"], "controls": "buttons",
        "pulse_shape": "biphasic_symmetric", "pulse_shape_source": "man",
        "programmes": [{"id": "N", "name": "normal", "modality": "TENS",
                        "pattern": "continuous", "description": "continuous",
                        "frequency_hz": {"min": 2, "max": 150, "step": 1, "adjustable": True,
                                         "source": "man"},
                        "phase_width_us": {"min": 50, "max": 250, "step": 10,
                                           "adjustable": True, "source": "man"}}],
        "intensity": {"unit": "level", "meaning": "levels 1-10", "level_current": [
            {"level": n, "current_ma": 2.0 * n, "load_ohm": 500, "source": "man"}
            for n in range(1, 11)]},
        "max_output": {"current_ma": {"value": 20, "source": "man"}, "load_ohm": 500},
        "electrodes": [{"label": "5x5", "area_cm2": {"value": 25, "source": "man"}}],
        "sources": [{"id": "man", "kind": "manual", "title": "test manual",
                     "reference": "test", "confidence": "C-s"}],
    })


def test_HAZ141_a_closed_device_is_not_verifiable():
    result = translate(_rx(), get_profile("quell"))
    assert result.status == "not_verifiable"
    assert result.report is None and not result.verified
    assert "closed device" in result.status_reason


def test_HAZ141_unknown_output_bound_is_not_verifiable_even_with_known_settings():
    result = translate(_rx("conventional-tens"), get_profile("neotek-dt8003tp"))
    assert result.programme is not None and result.programme.id == "06"
    assert result.setting("phase_width_us").device == 150
    assert result.status == "not_verifiable"
    assert "IEC 60601-2-10" in result.worst_case.basis
    assert any("pulse width" in m and "+50 %" in m for m in result.mismatches)


def test_HAZ141_worst_case_is_verified_against_the_persons_caps():
    profile = get_profile("twin-stim-plus-3")
    assert translate(_rx(), profile).status == "verified"
    capped = translate(_rx(), profile, caps=PatientCaps(max_amplitude_ma=10))
    assert capped.status == "blocked"
    assert capped.report is not None and capped.report.verdict == "block"
    assert capped.worst_case.amplitude_ma == pytest.approx(200)


def test_documented_output_and_levels_give_a_level_ceiling():
    result = translate(_rx(), _documented_unit(), ceiling_ma=8)
    assert result.worst_case.amplitude_ma == 20
    assert result.status == "verified"
    assert result.setting("frequency_hz").device == 90
    assert any("Never go above level 4" in line for line in result.intensity_guidance)
    assert result.device_prescription.channels[0].electrodes[0].area_cm2 == 25


@pytest.mark.parametrize("protocol_id", ["crps-gentle-sensory", "conventional-tens"])
def test_instructions_for_three_profiles(protocol_id):
    rx = _rx(protocol_id)
    results = {pid: translate(rx, get_profile(pid))
               for pid in ("twin-stim-plus-3", "tu-7000", "neotek-dt8003tp")}
    assert results["twin-stim-plus-3"].verified and results["tu-7000"].verified
    assert results["neotek-dt8003tp"].status == "not_verifiable"
    for result in results.values():
        assert result.placement and result.intensity_guidance


def test_sheet_draws_the_placement_and_states_the_status():
    result = translate(_rx(), get_profile("twin-stim-plus-3"))
    html = sheet_html(result, "P001", date(2026, 1, 5))
    assert 'data-site="left_upper_arm_anterior"' in html and 'data-site="left_elbow"' in html
    assert 'data-status="verified"' in html
    assert sheet_pdf(result, "P001", date(2026, 1, 5)).startswith(b"%PDF")


def _cli_patient(tmp_path, *extra):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert runner.invoke(app, ["patient", "add", "P001", "--enrolled-on", "2026-01-05",
                               "--db", url]).exit_code == 0
    added = runner.invoke(app, ["prescription", "add", "P001", "crps-gentle-sensory",
                                "--home-range-ma", "2:8", "--valid-from", "2026-01-05",
                                "--db", url, *extra])
    assert added.exit_code == 0, added.output
    return url


def test_cli_instructions_json_html_pdf(tmp_path):
    url = _cli_patient(tmp_path)
    html, pdf = tmp_path / "sheet.html", tmp_path / "sheet.pdf"
    result = runner.invoke(app, ["prescription", "instructions", "P001", "--profile",
                                 "tu-7000", "--db", url, "--json", "--html", str(html),
                                 "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["verification"]["status"] == "verified"
    assert "Your prescribed maximum is 8 mA" in " ".join(document["intensity_guidance"])
    assert html.read_text().count("<svg") == 1 and pdf.read_bytes().startswith(b"%PDF")
    closed = runner.invoke(app, ["prescription", "instructions", "P001", "--profile", "quell",
                                 "--db", url])
    assert closed.exit_code == 1
    missing = runner.invoke(app, ["prescription", "instructions", "NOPE1", "--profile",
                                  "quell", "--db", url])
    assert missing.exit_code == 2


def test_home_schedule_calendar(tmp_path):
    from icalendar import Calendar

    from stimwise.interop.calendar import home_schedule_ics

    result = translate(_rx(), get_profile("tu-7000"))
    sunday = date(2026, 1, 4)
    calendar = Calendar.from_ical(home_schedule_ics(result, sunday, __import__(
        "datetime").time(18, 0), until=date(2026, 3, 1)))
    event = next(iter(calendar.walk("VEVENT")))
    assert event["RRULE"]["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"]
    assert event.decoded("DTSTART").date() == date(2026, 1, 5)  # first weekday occurrence
    assert (event.decoded("DTEND") - event.decoded("DTSTART")).total_seconds() == 20 * 60
    assert "Pulse rate: 90 Hz" in str(event["DESCRIPTION"])
    assert "P001" not in calendar.to_ical().decode()
    assert next(iter(event.walk("VALARM")))["ACTION"] == "DISPLAY"
    url = _cli_patient(tmp_path)
    out = tmp_path / "home.ics"
    made = runner.invoke(app, ["prescription", "calendar", "P001", "--profile", "tu-7000",
                               "--out", str(out), "--db", url])
    assert made.exit_code == 0 and out.read_bytes().startswith(b"BEGIN:VCALENDAR")
    bad = runner.invoke(app, ["prescription", "calendar", "P001", "--profile", "tu-7000",
                              "--out", str(out), "--time", "25:99", "--db", url])
    assert bad.exit_code == 2


def test_documented_maximum_makes_a_profile_verifiable_and_mA_scale_states_the_ceiling():
    result = translate(_rx(), get_profile("enraf-tensmed-s84"), ceiling_ma=12)
    assert result.status == "verified"
    assert result.worst_case.amplitude_ma == 99.5
    assert "99.5 mA at 1000 Ω" in result.worst_case.basis
    assert any("never go above 12 mA" in line for line in result.intensity_guidance)
    unstated = translate(_rx(), get_profile("quadratens-qt42"))
    assert unstated.status == "verified" and "states no load" in unstated.worst_case.basis


@pytest.mark.parametrize("protocol_id", ["crps-gentle-sensory", "conventional-tens"])
def test_profiles_verifiable_after_the_second_research_pass(protocol_id):
    from stimwise.device.profiles import profiles

    rx = _rx(protocol_id)
    verified = {pid for pid, p in profiles().items() if translate(rx, p).verified}
    assert verified == {"enraf-tensmed-s84", "quadratens-qt42", "tu-7000", "twin-stim-plus-3"}
