"""Export of verified samples to NPZ, CSV or WAV, each with a JSON sidecar.

Fail closed: every function takes a :class:`VerifiedPlan` and checks it with
``require_verified`` before rendering a single sample. Writing streams chunk by chunk (constant
memory whatever the duration) into a temporary file that is renamed only when complete, so a
failure never leaves a half-written export behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import wave
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from stimwise import __version__
from stimwise.errors import FieldProblem, InputError
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.waveform.sampler import SampleChunk, sample_count, stream_samples

WAV_FULL_SCALE = 32767


def _npz(path: Path, chunks: Iterator[SampleChunk], meta: dict) -> None:
    n_channels = len(meta["channel_labels"])
    total = meta["n_samples"]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        with archive.open("current_ma.npy", "w", force_zip64=True) as entry:
            # Stored time-major (samples × channels) so chunks append contiguously.
            header = {
                "descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                "fortran_order": False,
                "shape": (total, n_channels),
            }
            np.lib.format.write_array_header_1_0(entry, header)
            for chunk in chunks:
                entry.write(np.ascontiguousarray(chunk.current_ma.T, dtype="<f4").tobytes())
        for name, value in (
            ("sample_rate_hz", np.array(meta["sample_rate_hz"])),
            ("start_s", np.array(meta["start_s"])),
            ("channel_labels", np.array(meta["channel_labels"])),
        ):
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{name}.npy", buffer.getvalue())


def _csv(path: Path, chunks: Iterator[SampleChunk], meta: dict) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_s", *[f"{label}_ma" for label in meta["channel_labels"]]])
        for chunk in chunks:
            block = np.column_stack([chunk.times_s(), chunk.current_ma.T])
            np.savetxt(handle, block, delimiter=",", fmt="%.9g")


def _wav(path: Path, chunks: Iterator[SampleChunk], meta: dict) -> None:
    rate = meta["sample_rate_hz"]
    if rate != int(rate):
        raise InputError(FieldProblem("sample_rate_hz", rate, "a whole number of hertz for WAV"))
    scale = WAV_FULL_SCALE / meta["ma_per_full_scale"]
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(len(meta["channel_labels"]))
        writer.setsampwidth(2)
        writer.setframerate(int(rate))
        for chunk in chunks:
            frames = np.clip(np.rint(chunk.current_ma.T * scale), -32768, 32767).astype("<i2")
            writer.writeframes(frames.tobytes())


WRITERS: dict[str, Callable[[Path, Iterator[SampleChunk], dict], None]] = {
    ".npz": _npz,
    ".csv": _csv,
    ".wav": _wav,
}


def _sidecar(plan: VerifiedPlan, meta: dict) -> dict:
    report = plan.report
    return {
        "stimwise_version": __version__,
        "protocol_id": plan.prescription.protocol.id,
        "fingerprint": plan.fingerprint,
        "verdict": report.verdict,
        "findings": [f.to_dict() for f in report.findings],
        "metrics": report.metrics.to_dict(),
        "prescription": plan.prescription.model_dump(mode="json"),
        "units": "mA (positive = anodic at the active electrode)",
        **meta,
    }


def _atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(descriptor)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def export_samples(
    plan: VerifiedPlan,
    out_path: str | Path,
    *,
    sample_rate_hz: float,
    duration_s: float,
    start_s: float = 0.0,
) -> Path:
    """Write ``duration_s`` of the verified plan's samples; the suffix picks NPZ, CSV or WAV."""
    plan = require_verified(plan)
    out = Path(out_path)
    writer = WRITERS.get(out.suffix.lower())
    if writer is None:
        raise InputError(FieldProblem("out", str(out), f"a file ending in {', '.join(WRITERS)}"))
    if not out.parent.is_dir():
        raise InputError(FieldProblem("out", str(out), "a path in an existing directory"))
    prescription = plan.prescription
    chunks = stream_samples(
        prescription, sample_rate_hz=sample_rate_hz, duration_s=duration_s, start_s=start_s
    )
    meta = {
        "sample_rate_hz": float(sample_rate_hz),
        "start_s": float(start_s),
        "duration_s": float(duration_s),
        "n_samples": sample_count(float(sample_rate_hz), float(duration_s)),
        "channel_labels": [c.label for c in prescription.channels],
        "ma_per_full_scale": prescription.max_amplitude_ma,
        "format": out.suffix.lower().lstrip("."),
    }
    _atomic_write(out, lambda path: writer(path, chunks, meta))
    sidecar = out.with_name(out.name + ".json")
    _atomic_write(sidecar, lambda path: path.write_text(json.dumps(_sidecar(plan, meta), indent=2)))
    return out
