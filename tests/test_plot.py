"""Plots: three panels saved in the format the suffix names, for any prescription."""

from __future__ import annotations

import subprocess
import sys

import pytest

from builders import carrier, channel_dict, make_prescription, pulse_train
from stimwise.errors import InputError
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.plot import plot_prescription

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_writes_a_non_empty_png(tmp_path):
    out = plot_prescription(make_prescription(), tmp_path / "tens.png")
    assert out == tmp_path / "tens.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["tens.png"]  # no temporary left


@pytest.mark.parametrize("protocol_id", ["burst-tens", "nmes-strengthening", "hf-ems-neuropathy"])
def test_plot_writes_a_png_for_library_protocols(protocol_id, tmp_path):
    prescription = Prescription.from_protocol(library()[protocol_id])
    out = plot_prescription(prescription, tmp_path / f"{protocol_id}.png")
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(("suffix", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_the_suffix_picks_the_format(tmp_path, suffix, magic):
    out = plot_prescription(make_prescription(), tmp_path / f"tens.{suffix.upper()}")
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(  # burst TENS with an on/off cycle
            waveform=pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2),
            envelope={"on_s": 10, "off_s": 20, "ramp_up_s": 2},
        ),
        dict(  # interferential: two carriers with an offset and an amplitude sweep
            waveform=carrier(
                carrier_frequency_hz=4000,
                amplitude_modulation={
                    "parameter": "amplitude",
                    "shape": "sine",
                    "period_s": 2,
                    "low_fraction": 0.3,
                },
            ),
            channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
            modality="IFC",
        ),
        dict(  # HF-EMS sweep: the densest carrier the models allow
            waveform=carrier(
                shape="square",
                carrier_frequency_hz=4096,
                sweep={"stop_frequency_hz": 32768, "period_s": 0.05},
            ),
            modality="HF-EMS",
        ),
    ],
    ids=["burst-on-off", "ifc", "hf-ems"],
)
def test_plots_every_kind_of_waveform(tmp_path, kwargs):
    out = plot_prescription(make_prescription(**kwargs), tmp_path / "w.png", envelope_seconds=90)
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_unverified_and_even_blocked_prescriptions_can_be_plotted(tmp_path):
    """A plot is a view: it helps to see why something was blocked."""
    blocked = make_prescription(amplitude_ma=200, area_cm2=1)
    out = plot_prescription(blocked, tmp_path / "blocked.png", sample_rate_hz=50_000)
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    ("field", "name", "kwargs"),
    [
        ("out", "tens.bmp", {}),
        ("out", "missing/tens.png", {}),
        ("sample_rate_hz", "t.png", {"sample_rate_hz": 1_000}),  # 200 µs phases need 10 kHz
        ("envelope_seconds", "t.png", {"envelope_seconds": 0}),
    ],
)
def test_bad_plot_requests_are_input_errors(tmp_path, field, name, kwargs):
    with pytest.raises(InputError) as caught:
        plot_prescription(make_prescription(), tmp_path / name, **kwargs)
    assert caught.value.problems[0].path == field
    assert list(tmp_path.iterdir()) == []


def test_importing_stimwise_and_its_plot_and_export_modules_does_not_import_matplotlib():
    code = (
        "import sys, stimwise, stimwise.waveform.plot, stimwise.export;"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
