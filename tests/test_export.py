"""Export of verified samples: round trips, the safety gate, and nothing half-written."""

from __future__ import annotations

import csv
import json
import wave

import numpy as np
import pytest

from builders import make_prescription
from stimwise.errors import InputError, UnverifiedPlanError
from stimwise.export.files import export_samples
from stimwise.safety import verify
from stimwise.waveform.sampler import stream_samples

RATE_HZ = 100_000.0


@pytest.fixture
def plan():
    return verify(make_prescription(channels=2)).require_plan()


def streamed(plan, seconds):
    chunks = stream_samples(plan.prescription, sample_rate_hz=RATE_HZ, duration_s=seconds)
    return np.concatenate([c.current_ma for c in chunks], axis=1)


def test_npz_round_trips_the_stream_and_writes_a_sidecar(plan, tmp_path):
    out = export_samples(plan, tmp_path / "x.npz", sample_rate_hz=RATE_HZ, duration_s=0.5)
    with np.load(out) as data:
        assert data["current_ma"].shape == (50_000, 2)
        np.testing.assert_allclose(data["current_ma"].T, streamed(plan, 0.5), atol=1e-6)
        assert float(data["sample_rate_hz"]) == RATE_HZ
        assert list(data["channel_labels"]) == ["A", "B"]
    sidecar = json.loads((tmp_path / "x.npz.json").read_text())
    assert sidecar["fingerprint"] == plan.fingerprint
    assert sidecar["verdict"] == "pass"
    assert sidecar["prescription"]["max_amplitude_ma"] == 30.0


def test_csv_has_a_header_and_one_row_per_sample(plan, tmp_path):
    out = export_samples(plan, tmp_path / "x.csv", sample_rate_hz=RATE_HZ, duration_s=0.01)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time_s", "A_ma", "B_ma"]
    assert len(rows) == 1 + 1000
    assert float(rows[2][0]) == pytest.approx(1e-5)


def test_wav_scales_full_scale_to_the_prescribed_amplitude(plan, tmp_path):
    out = export_samples(plan, tmp_path / "x.wav", sample_rate_hz=RATE_HZ, duration_s=0.1)
    with wave.open(str(out)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (
            2, 2, 100_000,
        )
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    assert frames.min() == -32767  # −30 mA cathodic phase = −full scale
    assert json.loads((tmp_path / "x.wav.json").read_text())["ma_per_full_scale"] == 30.0


def test_HAZ004_export_refuses_a_prescription_and_writes_nothing(tmp_path):
    with pytest.raises(UnverifiedPlanError):
        export_samples(make_prescription(), tmp_path / "x.npz", sample_rate_hz=RATE_HZ,
                       duration_s=1)
    assert list(tmp_path.iterdir()) == []


def test_HAZ004_export_refuses_a_blocked_report(tmp_path):
    blocked = verify(make_prescription(amplitude_ma=200.0, area_cm2=0.5))
    assert blocked.verdict == "block"
    with pytest.raises(UnverifiedPlanError):
        export_samples(blocked.plan, tmp_path / "x.npz", sample_rate_hz=RATE_HZ, duration_s=1)
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_is_invalid_input_naming_out(plan, tmp_path):
    with pytest.raises(InputError) as caught:
        export_samples(plan, tmp_path / "x.mat", sample_rate_hz=RATE_HZ, duration_s=1)
    assert caught.value.problems[0].path == "out"


def test_HAZ012_too_low_sample_rate_fails_before_any_file_is_left(plan, tmp_path):
    with pytest.raises(InputError) as caught:
        export_samples(plan, tmp_path / "x.npz", sample_rate_hz=5000.0, duration_s=1)
    assert caught.value.problems[0].path == "sample_rate_hz"
    assert list(tmp_path.iterdir()) == []
