"""Unit stimulus waveforms sampled at the solver's step starts.

``samples[k]`` multiplies the unit-current potential during step ``k`` (from ``k dt`` to
``(k+1) dt``), as PyFibers samples its waveform callables at ``k dt``. Value -1 is cathodic: the
electrode injects -amplitude. Pulse edges fall half a step off the sampling grid, so a pulse of
width ``w`` covers exactly ``round(w / dt)`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stimwise.errors import FieldProblem, InputError

__all__ = ["MAX_PULSE_WIDTH_MS", "WAVEFORMS", "Stimulus"]

WAVEFORMS = ("monophasic", "biphasic")
MAX_PULSE_WIDTH_MS = 10.0  # [U] longer "pulses" are DC-like and far outside TENS/NMES practice


@dataclass(frozen=True, eq=False)
class Stimulus:
    """A unit waveform: ``samples`` (dimensionless, |max| 1) at step ``dt_ms``.

    Examples
    --------
    >>> from stimwise.physiology import Stimulus
    >>> stim = Stimulus.pulse("biphasic", 0.1, duration_ms=2.0)
    >>> stim.n_steps, stim.dt_ms, float(stim.samples.min()), float(stim.samples.max())
    (2000, 0.001, -1.0, 1.0)
    >>> stim.description
    'biphasic cathodic-first pulse, 0.1 ms per phase, from 0.1 ms'
    """

    samples: np.ndarray
    dt_ms: float
    description: str = "custom waveform"

    @property
    def duration_ms(self) -> float:
        return float(self.samples.size * self.dt_ms)

    @property
    def n_steps(self) -> int:
        return int(self.samples.size)

    @classmethod
    def pulse(
        cls,
        waveform: str,
        pulse_width_ms: float,
        dt_ms: float = 0.001,
        delay_ms: float = 0.1,
        duration_ms: float = 10.0,
    ) -> Stimulus:
        """A cathodic rectangular pulse (``monophasic``) or cathodic-then-anodic pair
        (``biphasic``, equal phases of ``pulse_width_ms`` each, no gap) starting at ``delay_ms``."""
        if waveform not in WAVEFORMS:
            raise InputError(FieldProblem("waveform", waveform, f"one of {', '.join(WAVEFORMS)}"))
        problems = []
        if not (0.0 < dt_ms <= 0.1):
            problems.append(FieldProblem("dt_ms", dt_ms, "a time step > 0 and <= 0.1 ms"))
        if not (0.0 <= delay_ms <= 100.0):
            problems.append(FieldProblem("delay_ms", delay_ms, "a delay >= 0 and <= 100 ms"))
        phases = 2 if waveform == "biphasic" else 1
        if not (pulse_width_ms > 0.0) or (problems == [] and round(pulse_width_ms / dt_ms) < 1):
            problems.append(FieldProblem("pulse_width_ms", pulse_width_ms,
                                         "a pulse width of at least one time step"))
        elif pulse_width_ms > MAX_PULSE_WIDTH_MS:
            problems.append(FieldProblem("pulse_width_ms", pulse_width_ms,
                                         f"a pulse width <= {MAX_PULSE_WIDTH_MS:g} ms "
                                         "(milliseconds, not microseconds)"))
        elif problems == [] and delay_ms + phases * pulse_width_ms >= duration_ms:
            problems.append(FieldProblem(
                "pulse_width_ms", pulse_width_ms,
                f"a pulse that ends before the end of the run ({duration_ms:g} ms)"))
        if problems:
            raise InputError(problems)
        samples = np.zeros(round(duration_ms / dt_ms))
        start = round(delay_ms / dt_ms)
        width = round(pulse_width_ms / dt_ms)
        samples[start: start + width] = -1.0
        if waveform == "biphasic":
            samples[start + width: start + 2 * width] = 1.0
        return cls(samples, dt_ms, f"{waveform} cathodic-first pulse, {pulse_width_ms:g} ms"
                   f"{' per phase' if phases == 2 else ''}, from {delay_ms:g} ms")

    @classmethod
    def from_train(
        cls, train, duration_ms: float = 10.0, dt_ms: float = 0.001, delay_ms: float = 0.1
    ) -> Stimulus:
        """Sample a stimwise :class:`~stimwise.protocol.models.PulseTrain` (monophasic,
        symmetric or asymmetric biphasic pulses, bursts, amplitude/width modulation; steady, no
        envelope) for ``duration_ms`` after ``delay_ms``. Unit amplitude = the prescribed maximum;
        the sign is the current at the active electrode (cathodic leading phase = -1)."""
        from stimwise.protocol.models import PulseTrain
        from stimwise.waveform.schedule import PulseShapeIntegrals, pulse_events

        if not isinstance(train, PulseTrain):
            raise InputError(FieldProblem("train", type(train).__name__,
                                          "a pulse train (carriers are not modelled)"))
        if not (0.0 < dt_ms <= 0.1 and 0.0 <= delay_ms < duration_ms <= 10_000.0):
            raise InputError(FieldProblem("duration_ms", duration_ms,
                                          "0 <= delay < duration <= 10 s and 0 < dt <= 0.1 ms"))
        shape = PulseShapeIntegrals.of(train)
        events = pulse_events(train, None, 0.0, (duration_ms - delay_ms) * 1e-3)
        samples = np.zeros(round(duration_ms / dt_ms))

        def phase(start_ms: float, width_ms: float, level: float) -> None:
            first = round(start_ms / dt_ms)
            samples[first: first + max(1, round(width_ms / dt_ms))] += level

        for onset_s, amp, width, sign in zip(events.onset_s, events.amplitude_fraction,
                                             events.width_fraction, events.leading_sign,
                                             strict=True):
            start = delay_ms + onset_s * 1e3
            lead_ms = shape.leading_width_us * 1e-3 * width
            phase(start, lead_ms, sign * amp)
            if shape.second_width_us > 0:
                phase(start + lead_ms + shape.gap_us * 1e-3,
                      shape.second_width_us * 1e-3 * width, -sign * amp * shape.second_ratio)
        return cls(samples, dt_ms, f"pulse train ({train.pulse.kind}, {train.frequency_hz:g} Hz) "
                   f"for {duration_ms:g} ms from {delay_ms:g} ms")

    @property
    def onset_ms(self) -> float:
        """Start of the first non-zero sample."""
        nonzero = np.flatnonzero(self.samples)
        return float(nonzero[0] * self.dt_ms) if nonzero.size else 0.0
