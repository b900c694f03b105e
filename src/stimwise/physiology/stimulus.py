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

WAVEFORMS = ("monophasic", "biphasic")


@dataclass(frozen=True, eq=False)
class Stimulus:
    """A unit waveform: ``samples`` (dimensionless, |max| 1) at step ``dt_ms``."""

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

    @property
    def onset_ms(self) -> float:
        """Start of the first non-zero sample."""
        nonzero = np.flatnonzero(self.samples)
        return float(nonzero[0] * self.dt_ms) if nonzero.size else 0.0
