"""The steady-state window over which long-run mean metrics are taken and samples are checked."""

from __future__ import annotations

import math
from fractions import Fraction

from stimwise.protocol.models import MonophasicPulse, PulseTrain
from stimwise.protocol.models import Waveform as WaveformModel

MAX_WINDOW_S = 120.0


def repetition_periods_s(waveform: WaveformModel) -> list[float]:
    """Periods of every periodic feature of the steady waveform (and 1 s, the reporting unit)."""
    periods = [1.0]
    if isinstance(waveform, PulseTrain):
        if waveform.frequency_modulation is None:
            base = (
                1 / waveform.burst.burst_frequency_hz
                if waveform.burst is not None
                else 1 / waveform.frequency_hz
            )
            periods.append(base)
            pulse = waveform.pulse
            if not isinstance(pulse, MonophasicPulse) and pulse.leading_polarity == "alternating":
                periods.append(2 * base)
        else:
            periods.append(_fm_pattern_period_s(waveform))
        periods.extend(m.period_s for m in waveform.modulations)
        pulse = waveform.pulse
        if isinstance(pulse, MonophasicPulse) and pulse.polarity_reversal_interval_s is not None:
            periods.append(2 * pulse.polarity_reversal_interval_s)
    else:
        if waveform.sweep is not None:
            periods.append(waveform.sweep.period_s)
        if waveform.burst is not None:
            periods.append(1 / waveform.burst.burst_frequency_hz)
        if waveform.amplitude_modulation is not None:
            periods.append(waveform.amplitude_modulation.period_s)
    return periods


def _fm_pattern_period_s(train: PulseTrain) -> float:
    """Period of a frequency-modulated pulse pattern.

    Every modulation shape has mean 1/2, so one modulation period holds
    N = period·(low + high)/2 pulses. The pattern repeats after the smallest k periods with k·N
    whole (and even, when the leading polarity alternates pulse by pulse)."""
    fm = train.frequency_modulation
    per_period = Fraction(fm.period_s * (fm.low_frequency_hz + train.frequency_hz) / 2)
    per_period = per_period.limit_denominator(1000)
    repeats = per_period.denominator
    pulse = train.pulse
    alternating = not isinstance(pulse, MonophasicPulse) and pulse.leading_polarity == "alternating"
    if alternating and (per_period * repeats).numerator % 2 == 1:
        repeats *= 2
    if fm.period_s * repeats > MAX_WINDOW_S:
        return fm.period_s  # no practical repetition: describe one modulation period
    return fm.period_s * repeats


def _fraction_lcm(values: list[float]) -> float | None:
    result = Fraction(0)
    for value in values:
        frac = Fraction(value).limit_denominator(100_000)
        if abs(float(frac) - value) > 1e-9 * value:
            return None
        if result == 0:
            result = frac
            continue
        numerator = math.lcm(result.numerator, frac.numerator)
        denominator = math.gcd(result.denominator, frac.denominator)
        result = Fraction(numerator, denominator)
        if result > MAX_WINDOW_S:
            return None
    return float(result)


def steady_window_s(waveform: WaveformModel) -> float:
    """Shortest window (≥ 1 s) after which the steady waveform repeats.

    When the periods are incommensurate or their common multiple exceeds ``MAX_WINDOW_S``, the
    longest period (rounded up to whole seconds) is used: mean metrics then describe that window,
    which differs from the long-run mean by at most one partial period."""
    periods = repetition_periods_s(waveform)
    common = _fraction_lcm(periods)
    if common is not None:
        return common
    return float(math.ceil(max(periods)))
