"""Closed-form time functions shared by the exact metrics and the sampler.

All modulation shapes start at their high value at t = 0 and have mean 1/2 over a period, so the
integral of the shape over whole periods is ``period / 2``.
"""

from __future__ import annotations

import numpy as np

from stimwise.protocol.models import Envelope

_SECOND_MOMENT = {"sine": 3 / 8, "triangle": 1 / 3, "alternate": 1 / 2}
"""Mean of m(t)² over a period, for m in [0, 1] as defined in :func:`modulation_fraction`."""


def modulation_fraction(shape: str, t_s: np.ndarray, period_s: float) -> np.ndarray:
    """Position m(t) in [0, 1] between the low (0) and the high (1) value of a sweep."""
    u = np.mod(np.asarray(t_s, dtype=float) / period_s, 1.0)
    if shape == "sine":
        return 0.5 * (1.0 + np.cos(2 * np.pi * u))
    if shape == "triangle":
        return np.abs(1.0 - 2.0 * u)
    if shape == "alternate":
        return (u < 0.5).astype(float)
    raise ValueError(f"unknown modulation shape {shape!r}")


def modulation_integral(shape: str, t_s: np.ndarray, period_s: float) -> np.ndarray:
    """∫₀ᵗ m(τ) dτ in closed form (used to place frequency-modulated pulses exactly)."""
    scaled = np.asarray(t_s, dtype=float) / period_s
    whole = np.floor(scaled)
    u = scaled - whole
    if shape == "sine":
        partial = 0.5 * u + np.sin(2 * np.pi * u) / (4 * np.pi)
    elif shape == "triangle":
        partial = np.where(u < 0.5, u - u * u, u * u - u + 0.5)
    elif shape == "alternate":
        partial = np.minimum(u, 0.5)
    else:
        raise ValueError(f"unknown modulation shape {shape!r}")
    return period_s * (0.5 * whole + partial)


def scaled_value(low_fraction: float, m: np.ndarray) -> np.ndarray:
    """Fraction of the nominal value at modulation position m: low + (1 − low)·m."""
    return low_fraction + (1.0 - low_fraction) * m


def mean_square_scaled(shape: str, low_fraction: float) -> float:
    """Mean over a period of (low + (1 − low)·m)², exactly."""
    span = 1.0 - low_fraction
    return low_fraction**2 + low_fraction * span + span**2 * _SECOND_MOMENT[shape]


def envelope_fraction(
    envelope: Envelope, t_s: np.ndarray, session_s: float | None = None
) -> np.ndarray:
    """Amplitude fraction (0–1) given by ramps and the on/off cycle at times ``t_s``.

    Continuous stimulation ramps up once from t = 0 and, when ``session_s`` is given, down once
    before the session ends. Cyclic stimulation ramps within every on-period."""
    t = np.asarray(t_s, dtype=float)
    if envelope.on_s is None:
        a = np.ones_like(t)
        if envelope.ramp_up_s > 0:
            a = np.minimum(a, t / envelope.ramp_up_s)
        if session_s is not None and envelope.ramp_down_s > 0:
            a = np.minimum(a, (session_s - t) / envelope.ramp_down_s)
        return np.clip(a, 0.0, 1.0)
    u = np.mod(t, envelope.on_s + envelope.off_s)
    a = np.ones_like(u)
    if envelope.ramp_up_s > 0:
        a = np.minimum(a, u / envelope.ramp_up_s)
    if envelope.ramp_down_s > 0:
        a = np.minimum(a, (envelope.on_s - u) / envelope.ramp_down_s)
    a = np.where(u < envelope.on_s, a, 0.0)
    if session_s is not None:
        a = np.where(t < session_s, a, 0.0)
    return np.clip(a, 0.0, 1.0)


def envelope_power_factor(envelope: Envelope) -> float:
    """Mean of the squared envelope over one on/off cycle (linear ramps: each contributes 1/3)."""
    if envelope.on_s is None:
        return 1.0
    ramps = envelope.ramp_up_s + envelope.ramp_down_s
    return (envelope.on_s - ramps + ramps / 3.0) / (envelope.on_s + envelope.off_s)
