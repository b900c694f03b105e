"""Closed-form carrier phase, gating and amplitude for kilohertz carrier waveforms.

The carrier starts with its cathodic (negative) half-cycle, i(t) = −A·e(t)·s(φ(t)), where s is
sin or the sign of sin, φ the carrier phase and e the product of amplitude modulation and ramps.
With bursts, the phase restarts at every burst onset so every burst has the same charge.
"""

from __future__ import annotations

import math

import numpy as np

from stimwise.protocol.models import CarrierTrain


def carrier_phase_cycles(
    train: CarrierTrain, t_s: np.ndarray, offset_hz: float = 0.0
) -> np.ndarray:
    """Carrier phase in cycles, φ(t)/2π, including a channel's frequency offset."""
    t = np.asarray(t_s, dtype=float)
    f0 = train.carrier_frequency_hz + offset_hz
    if train.burst is not None:
        period = 1.0 / train.burst.burst_frequency_hz
        return f0 * np.mod(t, period)
    if train.sweep is None:
        return f0 * t
    f1 = train.sweep.stop_frequency_hz + offset_hz
    period = train.sweep.period_s
    scaled = t / period
    whole = np.floor(scaled)
    u = scaled - whole
    if train.sweep.law == "linear":
        per_period = period * (f0 + f1) / 2
        partial = period * (f0 * u + (f1 - f0) * u * u / 2)
    else:
        log_ratio = math.log(f1 / f0)
        per_period = period * f0 * (f1 / f0 - 1) / log_ratio
        partial = period * f0 * (np.exp(u * log_ratio) - 1) / log_ratio
    return whole * per_period + partial


def carrier_gate(train: CarrierTrain, t_s: np.ndarray) -> np.ndarray:
    """1 where the carrier is on (within a burst), else 0."""
    t = np.asarray(t_s, dtype=float)
    if train.burst is None:
        return np.ones_like(t)
    b = train.burst
    return (np.mod(t, 1.0 / b.burst_frequency_hz) < b.burst_duration_ms / 1000).astype(float)


def carrier_unit_wave(train: CarrierTrain, cycles: np.ndarray) -> np.ndarray:
    """The carrier shape for unit amplitude, cathodic first."""
    s = np.sin(2 * np.pi * cycles)
    if train.shape == "sine":
        return -s
    return -np.where(np.mod(cycles, 1.0) < 0.5, 1.0, -1.0)


def mean_carrier_frequency_hz(train: CarrierTrain, offset_hz: float = 0.0) -> float:
    """Long-run mean carrier frequency (cycles per second while on)."""
    f0 = train.carrier_frequency_hz + offset_hz
    if train.sweep is None:
        return f0
    f1 = train.sweep.stop_frequency_hz + offset_hz
    if train.sweep.law == "linear":
        return (f0 + f1) / 2
    return (f1 - f0) / math.log(f1 / f0)


def burst_unit_integrals(train: CarrierTrain, offset_hz: float = 0.0) -> tuple[float, float]:
    """(∫ s dt, ∫ s² dt) over one burst for unit amplitude, in seconds, exactly."""
    f = train.carrier_frequency_hz + offset_hz
    duration = train.burst.burst_duration_ms / 1000
    if train.shape == "sine":
        charge = -(1 - math.cos(2 * math.pi * f * duration)) / (2 * math.pi * f)
        square = duration / 2 - math.sin(4 * math.pi * f * duration) / (8 * math.pi * f)
        return charge, square
    half = 1 / (2 * f)
    whole_halves = math.floor(duration / half + 1e-12)
    remainder = duration - whole_halves * half
    charge = (-half if whole_halves % 2 == 1 else 0.0) + (
        -remainder if whole_halves % 2 == 0 else remainder
    )
    return charge, duration
