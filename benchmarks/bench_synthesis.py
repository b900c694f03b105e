"""Speed and memory of streaming sample synthesis (``stimwise.waveform.sampler``).

Case: a 60-minute, 2-channel conventional TENS session (100 Hz symmetric biphasic, 200 µs per
phase, 30 mA, 5 s ramps) streamed at 100 kHz — 720 million samples. Target: at least 200× real
time and a peak memory below 200 MB whatever the duration (the same case for 10 minutes shows
that memory stays flat). Every case runs in a fresh process so that its peak RSS
(``ru_maxrss``) is its own; the tracemalloc peak is measured in a second, separate pass.

Peer, in the same run: a naive baseline that builds the whole array at once with per-sample
numpy expressions (measured on a short span and extrapolated, wall time and memory), and a
per-pulse Python loop (likewise). Also reported: an HF-EMS carrier (4,096 → 32,768 Hz
exponential sweep every 50 ms, which needs ≥ 131 kHz) at 200 kHz, one channel, 60 s.

Run: ``.venv/bin/python benchmarks/bench_synthesis.py`` (prints one JSON document).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from stimwise.protocol.models import Protocol
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.sampler import stream_samples

TENS_RATE_HZ = 100_000
CARRIER_RATE_HZ = 200_000
TARGET_REAL_TIME_FACTOR = 200.0
TARGET_PEAK_MB = 200.0
NAIVE_SPAN_S = 20.0

_CHANNELS = [
    {
        "label": "A",
        "electrodes": [
            {"site": "left_lower_back", "area_cm2": 25},
            {"site": "lumbar_midline", "area_cm2": 25},
        ],
    },
    {
        "label": "B",
        "electrodes": [
            {"site": "right_lower_back", "area_cm2": 25},
            {"site": "sacral_midline", "area_cm2": 25},
        ],
    },
]


def tens_prescription(minutes: float) -> Prescription:
    protocol = Protocol.model_validate(
        {
            "id": "bench-conventional-tens",
            "name": "Conventional TENS (benchmark)",
            "modality": "TENS",
            "goal": "pain_modulation",
            "mechanism": "spinal gate control",
            "waveform": {
                "kind": "pulse_train",
                "pulse": {"kind": "biphasic_symmetric", "phase_width_us": 200},
                "frequency_hz": 100,
            },
            "envelope": {"ramp_up_s": 5, "ramp_down_s": 5},
            "intensity": {"level": "sensory", "max_amplitude_ma": 30},
            "channels": _CHANNELS,
            "session": {"duration_min": minutes},
        }
    )
    return Prescription.from_protocol(protocol)


def carrier_prescription(seconds: float) -> Prescription:
    protocol = Protocol.model_validate(
        {
            "id": "bench-hf-ems",
            "name": "HF-EMS sweep (benchmark)",
            "modality": "HF-EMS",
            "goal": "neuropathy_symptom_relief",
            "mechanism": "high-frequency external muscle stimulation",
            "waveform": {
                "kind": "carrier",
                "shape": "sine",
                "carrier_frequency_hz": 4096,
                "sweep": {"stop_frequency_hz": 32768, "period_s": 0.05, "law": "exponential"},
            },
            "envelope": {"ramp_up_s": 5, "ramp_down_s": 5},
            "intensity": {"level": "sensory", "max_amplitude_ma": 10},
            "channels": _CHANNELS[:1],
            "session": {"duration_min": seconds / 60},
        }
    )
    return Prescription.from_protocol(protocol)


# --------------------------------------------------------------------------- one case per process


def _consume(prescription: Prescription, rate_hz: float) -> tuple[int, float]:
    """Stream the whole session, touching every sample once (the net charge, as a check)."""
    samples = 0
    net_charge = 0.0
    for chunk in stream_samples(prescription, sample_rate_hz=rate_hz):
        net_charge += float(chunk.current_ma[0].sum(dtype=np.float64))
        samples += chunk.current_ma.size
    return samples, net_charge / rate_hz


def run_case(kind: str, seconds: float) -> dict:
    if kind == "tens":
        prescription, rate = tens_prescription(seconds / 60), TENS_RATE_HZ
    else:
        prescription, rate = carrier_prescription(seconds), CARRIER_RATE_HZ
    start = time.perf_counter()
    samples, net_charge_mas = _consume(prescription, rate)
    wall = time.perf_counter() - start
    tracemalloc.start()
    _consume(prescription, rate)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "session_s": seconds,
        "sample_rate_hz": rate,
        "channels": len(prescription.channels),
        "samples": samples,
        "wall_s": round(wall, 3),
        "real_time_factor": round(seconds / wall, 1),
        "samples_per_s": round(samples / wall),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 2),
        "net_charge_uc": round(net_charge_mas * 1e3, 6),
    }


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB


# --------------------------------------------------------------------------- naive baselines


def naive_whole_array(seconds: float) -> np.ndarray:
    """Per-sample numpy expressions over the whole span at once (point samples)."""
    fs, f, width, amplitude = TENS_RATE_HZ, 100.0, 200e-6, 30.0
    t = np.arange(round(seconds * fs)) / fs
    phase = np.mod(t, 1 / f)
    ramp = np.clip(np.minimum(t / 5.0, (3600.0 - t) / 5.0), 0.0, 1.0)
    one = np.where(phase < width, -amplitude, np.where(phase < 2 * width, amplitude, 0.0)) * ramp
    return np.stack([one, one])


def per_pulse_loop(seconds: float) -> np.ndarray:
    """A Python loop over pulses writing each phase into a preallocated float32 array.

    The array is zero-filled explicitly: ``np.zeros`` would hand out untouched zero pages that
    cost nothing until written, which no real consumer of all the samples gets."""
    fs, f, width, amplitude = TENS_RATE_HZ, 100.0, 200e-6, 30.0
    out = np.empty((2, round(seconds * fs)), dtype=np.float32)
    out.fill(0.0)
    for k in range(round(seconds * f)):
        onset = k / f
        level = amplitude * min(1.0, onset / 5.0)
        a = round(onset * fs)
        b = round((onset + width) * fs)
        c = round((onset + 2 * width) * fs)
        out[:, a:b] = -level
        out[:, b:c] = level
    return out


def run_naive(kind: str) -> dict:
    build = naive_whole_array if kind == "whole-array" else per_pulse_loop

    def build_and_consume() -> float:
        return float(build(NAIVE_SPAN_S)[0].sum())  # touched once, as the sampler's output is

    start = time.perf_counter()
    build_and_consume()
    wall = time.perf_counter() - start
    tracemalloc.start()
    build_and_consume()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    scale = 3600.0 / NAIVE_SPAN_S
    return {
        "measured_span_s": NAIVE_SPAN_S,
        "wall_s": round(wall, 3),
        "extrapolated_60_min_wall_s": round(wall * scale, 1),
        "real_time_factor": round(NAIVE_SPAN_S / wall, 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 1),
        "extrapolated_60_min_peak_mb": round(traced_peak * scale / 2**20),
    }


# --------------------------------------------------------------------------- driver


def _in_child(*arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--naive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.seconds)))
        return
    if args.naive:
        print(json.dumps(run_naive(args.naive)))
        return

    tens_60 = _in_child("--case", "tens", "--seconds", "3600")
    tens_10 = _in_child("--case", "tens", "--seconds", "600")
    naive_array = _in_child("--naive", "whole-array")
    naive_loop = _in_child("--naive", "per-pulse-loop")
    carrier = _in_child("--case", "carrier", "--seconds", "60")
    peak_mb = max(tens_60["peak_rss_mb"], tens_10["peak_rss_mb"])
    print(
        json.dumps(
            {
                "benchmark": "streaming synthesis (stimwise.waveform.sampler)",
                "machine_cpus": _cpu_count(),
                "tens_60_min_2ch_100khz": tens_60,
                "tens_10_min_2ch_100khz": tens_10,
                "naive_whole_array_numpy": naive_array,
                "naive_per_pulse_python_loop": naive_loop,
                "speedup_vs_naive_whole_array": round(
                    naive_array["extrapolated_60_min_wall_s"] / tens_60["wall_s"], 1
                ),
                "speedup_vs_per_pulse_loop": round(
                    naive_loop["extrapolated_60_min_wall_s"] / tens_60["wall_s"], 1
                ),
                "memory_flat": abs(tens_60["tracemalloc_peak_mb"] - tens_10["tracemalloc_peak_mb"])
                < 1.0,
                "hf_ems_sweep_60_s_1ch_200khz": carrier,
                "targets": {
                    "real_time_factor": TARGET_REAL_TIME_FACTOR,
                    "peak_memory_mb": TARGET_PEAK_MB,
                },
                "meets_targets": tens_60["real_time_factor"] >= TARGET_REAL_TIME_FACTOR
                and peak_mb < TARGET_PEAK_MB,
            },
            indent=2,
        )
    )


def _cpu_count() -> int | None:
    return os.cpu_count()


if __name__ == "__main__":
    main()
