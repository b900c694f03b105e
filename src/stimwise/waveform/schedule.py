"""Exact pulse schedule of a pulse train: when each pulse starts, its amplitude, width and sign.

The schedule *is* the description made explicit, so the exact metrics and the sampler use the same
events: the metrics integrate each rectangular phase in closed form, the sampler draws it.

Frequency modulation places pulse n where the integral of the instantaneous rate reaches n,
Φ(tₙ) = n with Φ(t) = ∫₀ᵗ f(τ) dτ: the rate is the instantaneous pulse frequency, and a
stimulator that updates its period pulse by pulse approximates the same schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stimwise.protocol.models import (
    AsymmetricBiphasicPulse,
    Envelope,
    MonophasicPulse,
    PulseTrain,
)
from stimwise.waveform.timefunctions import (
    envelope_fraction,
    modulation_fraction,
    modulation_integral,
    scaled_value,
)


@dataclass(frozen=True)
class PulseEvents:
    """Pulses whose onset lies in a time interval, as parallel arrays."""

    onset_s: np.ndarray
    amplitude_fraction: np.ndarray
    """Of the prescribed maximum amplitude: amplitude modulation × ramps (0–1]."""
    width_fraction: np.ndarray
    """Of the nominal phase widths: pulse-width modulation (0–1]."""
    leading_sign: np.ndarray
    """+1 when the leading phase is anodic at the active electrode, −1 when cathodic."""

    def __len__(self) -> int:
        return len(self.onset_s)


def _phase_function(train: PulseTrain, t: np.ndarray) -> np.ndarray:
    fm = train.frequency_modulation
    low, high = fm.low_frequency_hz, train.frequency_hz
    return low * t + (high - low) * modulation_integral(fm.shape, t, fm.period_s)


def _rate(train: PulseTrain, t: np.ndarray) -> np.ndarray:
    fm = train.frequency_modulation
    m = modulation_fraction(fm.shape, t, fm.period_s)
    return fm.low_frequency_hz + (train.frequency_hz - fm.low_frequency_hz) * m


def _fm_onsets(train: PulseTrain, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Solve Φ(t) = n for every integer n with an onset in [t0, t1)."""
    n_first = math.ceil(float(_phase_function(train, np.array(t0))) - 1e-12)
    n_last = math.ceil(float(_phase_function(train, np.array(t1))) - 1e-12)
    index = np.arange(n_first, n_last, dtype=np.int64)
    if index.size == 0:
        return np.empty(0), index
    grid = np.linspace(t0, t1, max(64, 4 * index.size))
    t = np.interp(index, _phase_function(train, grid), grid)
    for _ in range(6):  # Newton: Φ is smooth or piecewise linear, so this converges to rounding
        t = t - (_phase_function(train, t) - index) / _rate(train, t)
    return t, index


def steady_onsets(train: PulseTrain, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Onsets in [t0, t1) of the un-enveloped train and their global pulse indices."""
    if train.frequency_modulation is not None:
        return _fm_onsets(train, t0, t1)
    f = train.frequency_hz
    if train.burst is None:
        index = np.arange(math.ceil(t0 * f - 1e-9), math.ceil(t1 * f - 1e-9), dtype=np.int64)
        return index / f, index
    n = train.burst.pulses_per_burst
    fb = train.burst.burst_frequency_hz
    bursts = np.arange(math.floor(t0 * fb), math.ceil(t1 * fb), dtype=np.int64)
    within = np.arange(n, dtype=np.int64)
    onsets = (bursts[:, None] / fb + within[None, :] / f).ravel()
    index = (bursts[:, None] * n + within[None, :]).ravel()
    keep = (onsets >= t0 - 1e-12) & (onsets < t1 - 1e-12)
    return onsets[keep], index[keep]


def _leading_sign(train: PulseTrain, onsets: np.ndarray, index: np.ndarray) -> np.ndarray:
    pulse = train.pulse
    if isinstance(pulse, MonophasicPulse):
        base = 1.0 if pulse.polarity == "anodic" else -1.0
        sign = np.full(onsets.shape, base)
        if pulse.polarity_reversal_interval_s is not None:
            flips = np.floor(onsets / pulse.polarity_reversal_interval_s + 1e-9).astype(np.int64)
            sign = np.where(flips % 2 == 1, -sign, sign)
        return sign
    if pulse.leading_polarity == "alternating":
        return np.where(index % 2 == 0, -1.0, 1.0)
    return np.full(onsets.shape, 1.0 if pulse.leading_polarity == "anodic" else -1.0)


def pulse_events(
    train: PulseTrain,
    envelope: Envelope | None,
    t0: float,
    t1: float,
    session_s: float | None = None,
) -> PulseEvents:
    """All pulses with onset in [t0, t1); ``envelope=None`` gives steady stimulation."""
    onsets, index = steady_onsets(train, t0, t1)
    amplitude = np.ones(onsets.shape)
    width = np.ones(onsets.shape)
    for modulation in train.modulations:
        if modulation.parameter == "frequency":
            continue
        m = modulation_fraction(modulation.shape, onsets, modulation.period_s)
        values = scaled_value(modulation.low_fraction, m)
        if modulation.parameter == "amplitude":
            amplitude = amplitude * values
        else:
            width = width * values
    if envelope is not None:
        amplitude = amplitude * envelope_fraction(envelope, onsets, session_s)
    keep = amplitude > 0
    return PulseEvents(
        onset_s=onsets[keep],
        amplitude_fraction=amplitude[keep],
        width_fraction=width[keep],
        leading_sign=_leading_sign(train, onsets, index)[keep],
    )


@dataclass(frozen=True)
class PulseShapeIntegrals:
    """Per-unit-amplitude integrals of one pulse at full width (mA, µs units)."""

    leading_width_us: float
    second_width_us: float
    second_ratio: float
    gap_us: float

    @classmethod
    def of(cls, train: PulseTrain) -> PulseShapeIntegrals:
        p = train.pulse
        if isinstance(p, MonophasicPulse):
            return cls(p.phase_width_us, 0.0, 0.0, 0.0)
        if isinstance(p, AsymmetricBiphasicPulse):
            return cls(
                p.phase_width_us, p.second_phase_width_us, p.amplitude_ratio, p.interphase_gap_us
            )
        return cls(p.phase_width_us, p.phase_width_us, 1.0, p.interphase_gap_us)

    @property
    def square_integral_us(self) -> float:
        """∫ i² dt for unit amplitude (µs)."""
        return self.leading_width_us + self.second_ratio**2 * self.second_width_us

    @property
    def max_phase_charge_us(self) -> float:
        """Charge of the larger phase for unit amplitude (FDA asks for the maximum phase charge;
        an explicit asymmetric ratio can make the second phase the larger one)."""
        return max(self.leading_width_us, self.second_ratio * self.second_width_us)

    @property
    def net_charge_us(self) -> float:
        """Leading-phase charge minus second-phase charge for unit amplitude (µs·unit)."""
        return self.leading_width_us - self.second_ratio * self.second_width_us
