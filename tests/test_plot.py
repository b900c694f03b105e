"""Plots render for every kind of waveform in the library."""

from __future__ import annotations

import pytest

from stimwise.errors import InputError
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.plot import plot_prescription


@pytest.mark.parametrize("protocol_id", ["burst-tens", "nmes-strengthening", "hf-ems-neuropathy"])
def test_plot_writes_a_png(protocol_id, tmp_path):
    rx = Prescription.from_protocol(library()[protocol_id])
    out = plot_prescription(rx, tmp_path / f"{protocol_id}.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000


def test_plot_refuses_an_unknown_format(tmp_path, tens_prescription):
    with pytest.raises(InputError) as caught:
        plot_prescription(tens_prescription, tmp_path / "x.bmp")
    assert caught.value.problems[0].path == "out"
