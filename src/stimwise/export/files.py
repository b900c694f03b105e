"""Export of a verified plan's samples to NPZ, CSV or WAV, with a JSON sidecar.

Only a :class:`~stimwise.safety.plan.VerifiedPlan` can be exported: every call starts with
``require_verified`` so anything else (a prescription, a blocked report, ``None``) is refused with
:class:`~stimwise.errors.UnverifiedPlanError` before a byte is written (hazard HAZ-004, unverified
output). The sidecar ``<file>.json`` records what the samples are: the prescription, the
fingerprint that was verified, the verdict and findings, the exact metrics, the rate and units.

Every format is written in bounded memory as the sampler streams, to a temporary file in the
destination directory that is renamed into place only when complete: a failure (or an
interruption) never leaves a half-written file under the requested name.

* **NPZ**: ``current_ma`` (float32, mA, shape (channels, samples) like the sampler's chunks,
  stored column-major so that it can be streamed sample after sample), ``sample_rate_hz``,
  ``start_s`` and ``channel_labels``; ``np.load`` reads it.
* **CSV**: ``time_s`` and one ``<label>_ma`` column per channel.
* **WAV**: 16-bit PCM, one audio channel per stimulation channel, full scale (±32767) = the
  prescribed maximum amplitude (``ma_per_full_scale`` in the sidecar). The frame rate is the
  sample rate, which must then be whole hertz.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import wave
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np

from stimwise import __version__
from stimwise.csv_cells import SafeCsvWriter
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import PulseTrain
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.waveform.sampler import (
    SampleChunk,
    check_sample_rate_hz,
    sample_count,
    stream_samples,
)

__all__ = [
    "CHUNK_SAMPLES",
    "EXPORT_FORMATS",
    "MAX_EXPORT_SECONDS",
    "MAX_EXPORT_VALUES",
    "WAV_FULL_SCALE",
    "export_samples",
]

EXPORT_FORMATS = ("npz", "csv", "wav")

CHUNK_SAMPLES = 1 << 18
"""Samples per channel and chunk while exporting (bounds memory at any rate)."""

MAX_EXPORT_SECONDS = 28_800.0
"""Longest export: 480 min, the longest session a prescription can hold (``Prescription``);
samples after the session's end would all be zero."""

MAX_EXPORT_VALUES = 100_000_000
"""Most values (samples × channels) one export writes: at most 400 MB of NPZ, 200 MB of WAV or
about 2 GB of CSV (stimwise's bound, U). A longer recording is exported in pieces with
``start_s``."""

WAV_FULL_SCALE = 32767
_WAV_MAX_DATA_BYTES = 0xFFFFFFFF - 36
"""RIFF sizes are 32-bit: the data chunk must stay below 4 GiB."""


@dataclass(frozen=True)
class _Stream:
    """What a writer needs: the chunks and the figures for headers."""

    chunks: Iterator[SampleChunk]
    sample_rate_hz: float
    start_s: float
    n_samples: int
    channel_labels: tuple[str, ...]
    full_scale_ma: float


def export_samples(
    plan: VerifiedPlan,
    out_path: str | os.PathLike[str],
    *,
    sample_rate_hz: float,
    duration_s: float | None,
    start_s: float = 0.0,
) -> Path:
    """Write ``duration_s`` of the plan's samples from ``start_s``; the suffix picks the format.

    Parameters
    ----------
    plan
        A VerifiedPlan from ``safety.verify()``; anything else raises ``UnverifiedPlanError``.
    out_path
        ``.npz``, ``.csv`` or ``.wav`` in an existing directory; the sidecar is
        ``out_path`` + ``.json``.
    sample_rate_hz, duration_s, start_s
        As for :func:`~stimwise.waveform.sampler.stream_samples` (the envelope applies: these are
        the samples that would be delivered; ``duration_s=None`` is the rest of the session).

    Returns
    -------
    Path
        The data file written.

    Examples
    --------
    Two seconds of a verified plan as NPZ, with its JSON sidecar of provenance:

    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> import stimwise as sw
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> written = sw.export_samples(plan, folder / "tens.npz", sample_rate_hz=100_000,
    ...                             duration_s=2.0)
    >>> sorted(p.name for p in folder.iterdir())
    ['tens.npz', 'tens.npz.json']
    >>> np.load(written)["current_ma"].shape
    (2, 200000)

    A prescription that was not verified is never written:

    >>> sw.export_samples(plan.prescription, folder / "raw.wav", sample_rate_hz=100_000,
    ...                   duration_s=1.0)
    Traceback (most recent call last):
    ...
    stimwise.errors.UnverifiedPlanError: Refusing to output stimulation from a Prescription: ...
    """
    plan = require_verified(plan)  # first, so nothing unverified gets further (HAZ-004)
    path = Path(out_path)
    fmt = path.suffix.lower().lstrip(".")
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise InputError(FieldProblem("out", str(out_path), "a .npz, .csv or .wav file"))
    if not path.parent.is_dir():
        raise InputError(FieldProblem("out", str(out_path), "a file in an existing directory"))
    prescription = plan.prescription
    fs = check_sample_rate_hz(prescription, sample_rate_hz)
    channels = len(prescription.channels)
    if isinstance(duration_s, int | float) and not isinstance(duration_s, bool):
        _check_export_size(float(duration_s), fs, channels)  # the export's own limits first
    chunks = stream_samples(  # validates duration and start before any file is opened
        prescription,
        sample_rate_hz=fs,
        duration_s=duration_s,
        start_s=start_s,
        chunk_s=CHUNK_SAMPLES / fs,
        dtype=np.float32 if fmt == "npz" else np.float64,
    )
    if duration_s is None:  # the rest of the session, as the sampler does
        duration_s = prescription.session_duration_min * 60.0 - float(start_s)
        _check_export_size(duration_s, fs, channels)
    stream = _Stream(
        chunks=_verified_chunks(plan, chunks),
        sample_rate_hz=fs,
        start_s=float(start_s),
        n_samples=sample_count(fs, float(duration_s)),
        channel_labels=tuple(c.label for c in prescription.channels),
        full_scale_ma=prescription.max_amplitude_ma,
    )
    if fmt == "wav":
        _check_wav(stream, duration_s)
    sidecar = _sidecar(plan, path, fmt, stream)
    sidecar_path = path.with_name(path.name + ".json")
    temporaries: list[str] = []
    try:
        data_tmp = _temporary(path, temporaries)
        with open(data_tmp, "wb") as handle:
            written = writer(handle, stream)
        if written != stream.n_samples:  # the sampler and the header disagree: never publish
            raise RuntimeError(f"wrote {written} samples, expected {stream.n_samples}")
        sidecar_tmp = _temporary(sidecar_path, temporaries)
        with open(sidecar_tmp, "w", encoding="utf-8") as handle:
            json.dump(sidecar, handle, indent=2)
            handle.write("\n")
        os.replace(data_tmp, path)
        os.replace(sidecar_tmp, sidecar_path)
    except BaseException:
        for name in temporaries:
            with contextlib.suppress(OSError):
                os.unlink(name)
        raise
    return path


def _temporary(final: Path, registry: list[str]) -> str:
    handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    os.close(handle)
    registry.append(name)
    return name


def _check_wav(stream: _Stream, duration_s: float) -> None:
    fs = stream.sample_rate_hz
    if fs != round(fs):
        raise InputError(
            FieldProblem("sample_rate_hz", fs, "a whole number of hertz for WAV (its frame rate)")
        )
    bytes_per_sample = 2 * len(stream.channel_labels)
    if stream.n_samples * bytes_per_sample > _WAV_MAX_DATA_BYTES:
        longest_s = _WAV_MAX_DATA_BYTES / (bytes_per_sample * fs)
        raise InputError(
            FieldProblem(
                "duration_s",
                duration_s,
                f"at most {longest_s:.0f} s at {fs:g} Hz for WAV (4 GiB limit); use .npz",
            )
        )


# --------------------------------------------------------------------------- writers


def _write_npz(handle: IO[bytes], stream: _Stream) -> int:
    """A zip of .npy entries; ``current_ma`` is streamed under a header written up front."""
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
        "fortran_order": True,  # sample-major bytes: chunk after chunk, all channels per sample
        "shape": (len(stream.channel_labels), stream.n_samples),
    }
    written = 0
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        with archive.open("current_ma.npy", "w", force_zip64=True) as entry:
            np.lib.format.write_array_header_1_0(entry, header)
            for chunk in stream.chunks:
                entry.write(np.asarray(chunk.current_ma, dtype="<f4").tobytes(order="F"))
                written += chunk.n_samples
        small = {
            "sample_rate_hz": np.float64(stream.sample_rate_hz),
            "start_s": np.float64(stream.start_s),
            "channel_labels": np.array(stream.channel_labels, dtype=str),
        }
        for name, value in small.items():
            with archive.open(f"{name}.npy", "w") as entry:
                np.lib.format.write_array(entry, np.asarray(value), allow_pickle=False)
    return written


def _write_csv(handle: IO[bytes], stream: _Stream) -> int:
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    SafeCsvWriter(text).writerow(
        ["time_s", *(f"{label}_ma" for label in stream.channel_labels)]
    )
    n_channels = len(stream.channel_labels)
    row = "%.12g" + ",%.10g" * n_channels + "\n"
    fs, start = stream.sample_rate_hz, stream.start_s
    written = 0
    for chunk in stream.chunks:
        n = chunk.n_samples
        block = np.empty((n, n_channels + 1))
        block[:, 0] = start + (written + np.arange(n)) / fs
        block[:, 1:] = chunk.current_ma.T
        text.write((row * n) % tuple(block.ravel().tolist()))  # one C-level format per chunk
        written += n
    text.flush()
    text.detach()
    return written


def _write_wav(handle: IO[bytes], stream: _Stream) -> int:
    scale = WAV_FULL_SCALE / stream.full_scale_ma
    written = 0
    with wave.open(handle, "wb") as audio:
        audio.setnchannels(len(stream.channel_labels))
        audio.setsampwidth(2)
        audio.setframerate(round(stream.sample_rate_hz))
        for chunk in stream.chunks:
            pcm = np.rint(chunk.current_ma * scale)
            np.clip(pcm, -WAV_FULL_SCALE - 1, WAV_FULL_SCALE, out=pcm)
            audio.writeframesraw(pcm.astype("<i2").tobytes(order="F"))  # frames interleaved
            written += chunk.n_samples
    return written


def _check_export_size(duration_s: float, sample_rate_hz: float, channels: int) -> None:
    """Refuse an export beyond :data:`MAX_EXPORT_SECONDS` or :data:`MAX_EXPORT_VALUES` before
    any file is opened."""
    if duration_s > MAX_EXPORT_SECONDS:
        raise InputError(FieldProblem(
            "duration_s", duration_s, f"at most {MAX_EXPORT_SECONDS:g} s (the longest session)"))
    values = duration_s * sample_rate_hz * channels
    if values > MAX_EXPORT_VALUES:
        longest_s = MAX_EXPORT_VALUES / (sample_rate_hz * channels)
        raise InputError(FieldProblem(
            "duration_s", duration_s,
            f"at most {longest_s:.6g} s at {sample_rate_hz:g} Hz on {channels} channel(s) "
            f"({MAX_EXPORT_VALUES:,} values per export; export longer spans in pieces)",
        ))


def _verified_chunks(plan: VerifiedPlan, chunks: Iterator[SampleChunk]) -> Iterator[SampleChunk]:
    """The sampler's chunks, each released only while the plan is still the verified one (a
    plan edited during an export stops it, and nothing is published)."""
    for chunk in chunks:
        require_verified(plan)
        yield chunk


_WRITERS: dict[str, Callable[[IO[bytes], _Stream], int]] = {
    "npz": _write_npz,
    "csv": _write_csv,
    "wav": _write_wav,
}


# --------------------------------------------------------------------------- sidecar


def _sidecar(plan: VerifiedPlan, path: Path, fmt: str, stream: _Stream) -> dict:
    prescription = plan.prescription
    report = plan.report
    fs = stream.sample_rate_hz
    document = {
        "stimwise_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": path.name,
        "format": fmt,
        "protocol_id": prescription.protocol.id,
        "fingerprint": plan.fingerprint,
        "verdict": report.verdict,
        "findings": [finding.to_dict() for finding in report.findings],
        "metrics": report.metrics.to_dict(),
        "prescription": prescription.model_dump(mode="json"),
        "sample_rate_hz": fs,
        "start_s": stream.start_s,
        "duration_s": stream.n_samples / fs,
        "n_samples": stream.n_samples,
        "channel_labels": list(stream.channel_labels),
        "units": "mA",
        "current_sign": "positive = anodic at the channel's active (first) electrode",
        "sampling": (
            "box filter: each sample is the exact mean current over [t, t + 1/fs)"
            if isinstance(prescription.waveform, PulseTrain)
            else "point samples at t = start_s + n/fs"
        ),
    }
    if fmt == "wav":
        document["ma_per_full_scale"] = stream.full_scale_ma
        document["wav_full_scale"] = WAV_FULL_SCALE
    if fmt == "npz":
        document["npz_entries"] = ["current_ma", "sample_rate_hz", "start_s", "channel_labels"]
    return document
