"""Exports: only verified plans, streamed to NPZ / CSV / WAV, with a JSON sidecar, atomically."""

from __future__ import annotations

import csv
import json
import wave

import numpy as np
import pytest

import stimwise
from builders import carrier, channel_dict, make_prescription
from stimwise.errors import InputError, UnverifiedPlanError
from stimwise.export import export_samples
from stimwise.export import files as export_files
from stimwise.safety import verify
from stimwise.waveform.sampler import sample_window

RATE_HZ = 20_000
DURATION_S = 1.5
START_S = 0.1


@pytest.fixture
def plan():
    """Two-channel conventional TENS with a ramp-up, verified (pass or warn)."""
    return verify(make_prescription(channels=2, envelope={"ramp_up_s": 0.5})).require_plan()


def _expected(plan, dtype=np.float64):
    return sample_window(
        plan.prescription,
        sample_rate_hz=RATE_HZ,
        duration_s=DURATION_S,
        start_s=START_S,
        dtype=dtype,
    ).current_ma


def _export(plan, path):
    return export_samples(
        plan, path, sample_rate_hz=RATE_HZ, duration_s=DURATION_S, start_s=START_S
    )


# --------------------------------------------------------------------------- round trips


def test_npz_loads_with_numpy_and_matches_the_stream(plan, tmp_path):
    out = _export(plan, tmp_path / "tens.npz")
    with np.load(out) as data:
        assert sorted(data.files) == ["channel_labels", "current_ma", "sample_rate_hz", "start_s"]
        current = data["current_ma"]
        assert current.dtype == np.float32
        assert current.shape == (2, round(DURATION_S * RATE_HZ))  # (channels, samples)
        assert np.array_equal(current, _expected(plan, np.float32))
        assert float(data["sample_rate_hz"]) == RATE_HZ
        assert float(data["start_s"]) == START_S
        assert data["channel_labels"].tolist() == ["A", "B"]


def test_npz_written_in_many_uneven_chunks_is_the_same(plan, tmp_path, monkeypatch):
    monkeypatch.setattr(export_files, "CHUNK_SAMPLES", 7_001)
    out = _export(plan, tmp_path / "chunked.npz")
    with np.load(out) as data:
        assert np.array_equal(data["current_ma"], _expected(plan, np.float32))


def test_csv_has_a_time_column_and_one_column_per_channel(plan, tmp_path):
    out = _export(plan, tmp_path / "tens.csv")
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time_s", "A_ma", "B_ma"]
    body = np.array(rows[1:], dtype=float)
    assert body.shape == (round(DURATION_S * RATE_HZ), 3)
    assert body[0, 0] == pytest.approx(START_S)
    assert np.allclose(np.diff(body[:, 0]), 1 / RATE_HZ, rtol=0, atol=1e-11)
    assert np.allclose(body[:, 1:].T, _expected(plan), rtol=1e-9, atol=1e-12)


def test_wav_is_16_bit_pcm_with_full_scale_at_the_prescribed_amplitude(plan, tmp_path):
    out = _export(plan, tmp_path / "tens.wav")
    with wave.open(str(out)) as audio:
        assert audio.getnchannels() == 2
        assert audio.getsampwidth() == 2
        assert audio.getframerate() == RATE_HZ
        assert audio.getnframes() == round(DURATION_S * RATE_HZ)
        frames = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    pcm = frames.reshape(-1, 2).T
    amplitude = plan.prescription.max_amplitude_ma
    assert pcm.min() == -32767  # the cathodic phase at full amplitude (after the ramp)
    assert pcm.max() == 32767
    assert np.allclose(pcm * amplitude / 32767, _expected(plan), atol=amplitude / 32767)
    sidecar = json.loads((tmp_path / "tens.wav.json").read_text())
    assert sidecar["ma_per_full_scale"] == amplitude


def test_sidecar_records_provenance_and_the_verification(plan, tmp_path):
    _export(plan, tmp_path / "tens.npz")
    sidecar = json.loads((tmp_path / "tens.npz.json").read_text())
    report = plan.report
    assert sidecar["stimwise_version"] == stimwise.__version__
    assert sidecar["protocol_id"] == plan.prescription.protocol.id
    assert sidecar["fingerprint"] == plan.fingerprint
    assert sidecar["verdict"] == report.verdict
    assert sidecar["findings"] == json.loads(json.dumps([f.to_dict() for f in report.findings]))
    assert sidecar["metrics"]["channels"][0]["channel"] == "A"
    assert sidecar["prescription"] == plan.prescription.model_dump(mode="json")
    assert sidecar["sample_rate_hz"] == RATE_HZ
    assert sidecar["start_s"] == START_S
    assert sidecar["duration_s"] == pytest.approx(DURATION_S)
    assert sidecar["channel_labels"] == ["A", "B"]
    assert sidecar["units"] == "mA"


def test_carrier_channels_with_offsets_export_their_own_samples(tmp_path):
    prescription = make_prescription(
        waveform=carrier(carrier_frequency_hz=4000),
        channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
        modality="IFC",
        amplitude_ma=20,
    )
    plan = verify(prescription).require_plan()
    out = export_samples(plan, tmp_path / "ifc.npz", sample_rate_hz=40_000, duration_s=0.5)
    with np.load(out) as data:
        current = data["current_ma"]
    assert current.shape == (2, 20_000)
    assert not np.allclose(current[0], current[1])
    assert np.abs(current).max() <= 20.0 + 1e-5


# --------------------------------------------------------------------------- the gate


def test_HAZ004_unverified_output_export_refuses_anything_but_a_verified_plan(tmp_path):
    """HAZ-004 (unverified output): a prescription, a blocked report, its missing plan and even
    a passing report (rather than its plan) are refused, and no file or temporary is left."""
    prescription = make_prescription()
    blocked = verify(make_prescription(amplitude_ma=200, area_cm2=1))
    assert blocked.verdict == "block"
    for candidate in (prescription, blocked, blocked.plan, verify(prescription)):
        with pytest.raises(UnverifiedPlanError):
            export_samples(candidate, tmp_path / "out.npz", sample_rate_hz=RATE_HZ, duration_s=1)
    assert list(tmp_path.iterdir()) == []


def test_HAZ004_unverified_output_is_refused_before_any_input_error(tmp_path):
    """The verification gate comes first: no input error can hide the refusal."""
    with pytest.raises(UnverifiedPlanError):
        export_samples(make_prescription(), tmp_path / "out.mp3", sample_rate_hz=1, duration_s=-1)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bad input


def test_unknown_suffix_is_an_input_error_on_out(plan, tmp_path):
    with pytest.raises(InputError) as caught:
        export_samples(plan, tmp_path / "tens.mat", sample_rate_hz=RATE_HZ, duration_s=1)
    assert caught.value.problems[0].path == "out"
    assert list(tmp_path.iterdir()) == []


def test_HAZ012_too_low_sample_rate_fails_before_any_file_is_left(plan, tmp_path):
    with pytest.raises(InputError) as caught:
        export_samples(plan, tmp_path / "x.npz", sample_rate_hz=5_000, duration_s=1)
    assert caught.value.problems[0].path == "sample_rate_hz"  # 200 µs phases need 10 kHz
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("duration_s", {"duration_s": 0}),
        ("start_s", {"start_s": -1}),
        ("sample_rate_hz", {"sample_rate_hz": "fast"}),
    ],
)
def test_bad_export_arguments_are_input_errors_and_write_nothing(plan, tmp_path, field, kwargs):
    arguments = {"sample_rate_hz": RATE_HZ, "duration_s": 1.0, **kwargs}
    with pytest.raises(InputError) as caught:
        export_samples(plan, tmp_path / "tens.csv", **arguments)
    assert caught.value.problems[0].path == field
    assert list(tmp_path.iterdir()) == []


def test_wav_needs_a_whole_number_of_hertz(plan, tmp_path):
    with pytest.raises(InputError, match="sample_rate_hz"):
        export_samples(plan, tmp_path / "tens.wav", sample_rate_hz=20_000.5, duration_s=1)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- atomicity


def test_a_failure_mid_export_leaves_no_file_behind(plan, tmp_path, monkeypatch):
    monkeypatch.setattr(export_files, "CHUNK_SAMPLES", 1_000)
    real = export_files.stream_samples

    def failing_stream(*args, **kwargs):
        for index, chunk in enumerate(real(*args, **kwargs)):
            if index == 5:
                raise OSError("disk full")
            yield chunk

    monkeypatch.setattr(export_files, "stream_samples", failing_stream)
    for suffix in ("npz", "csv", "wav"):
        with pytest.raises(OSError, match="disk full"):
            _export(plan, tmp_path / f"tens.{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_previous_file(plan, tmp_path, monkeypatch):
    out = _export(plan, tmp_path / "tens.csv")
    before = out.read_bytes()
    monkeypatch.setattr(export_files, "stream_samples", lambda *a, **k: iter([None]))
    with pytest.raises(AttributeError):  # the writer chokes on the broken stream
        _export(plan, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tens.csv", "tens.csv.json"]
