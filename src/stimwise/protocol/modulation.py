"""Slow modulations of a train: frequency, amplitude and pulse-width sweeps.

Sweeps are used against habituation (clinical-facts.md §6: Pantaleão 2011; modulated TENS in
Tonezzer 2017). Every modulation runs between a low value and the nominal (high) value of the
parameter with a periodic shape, starting at the high value at t = 0:

* ``sine``: raised cosine, smooth;
* ``triangle``: linear down then up;
* ``alternate``: the high value for the first half period, the low value for the second half
  (mixed / alternating-frequency TENS, e.g. 100 Hz and 4 Hz).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from stimwise.protocol.base import Float, StrictModel

__all__ = [
    "AmplitudeModulation",
    "FrequencyModulation",
    "Modulation",
    "ModulationShape",
    "PulseWidthModulation",
    "check_unique_parameters",
]

ModulationShape = Literal["sine", "triangle", "alternate"]


class _Modulation(StrictModel):
    shape: ModulationShape = Field(description="Periodic shape of the sweep.")
    period_s: Float = Field(gt=0, le=3600, description="Duration of one full sweep cycle.")


class FrequencyModulation(_Modulation):
    """Pulse rate swept between ``low_frequency_hz`` and the train's ``frequency_hz``.

    Examples
    --------
    Mixed-frequency TENS: 100 Hz and 4 Hz alternating every 3 s:

    >>> from stimwise.protocol import FrequencyModulation
    >>> FrequencyModulation(shape="alternate", period_s=6, low_frequency_hz=4).parameter
    'frequency'
    """

    parameter: Literal["frequency"] = "frequency"
    low_frequency_hz: Float = Field(gt=0, le=10_000)


class AmplitudeModulation(_Modulation):
    """Amplitude swept between ``low_fraction`` of the prescribed amplitude and all of it.

    Examples
    --------
    >>> from stimwise.protocol import AmplitudeModulation
    >>> AmplitudeModulation(shape="triangle", period_s=10, low_fraction=0.5).low_fraction
    0.5
    """

    parameter: Literal["amplitude"] = "amplitude"
    low_fraction: Float = Field(ge=0, lt=1)


class PulseWidthModulation(_Modulation):
    """Phase widths swept between ``low_fraction`` of the nominal widths and the nominal widths.

    Examples
    --------
    >>> from stimwise.protocol import PulseWidthModulation
    >>> PulseWidthModulation(shape="sine", period_s=4, low_fraction=0.5).shape
    'sine'
    """

    parameter: Literal["pulse_width"] = "pulse_width"
    low_fraction: Float = Field(gt=0, lt=1)


Modulation = Annotated[
    FrequencyModulation | AmplitudeModulation | PulseWidthModulation,
    Field(discriminator="parameter"),
]


def check_unique_parameters(modulations: tuple) -> None:
    """Each parameter may be modulated at most once (two frequency sweeps are ambiguous)."""
    names = [m.parameter for m in modulations]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"at most one modulation per parameter; repeated: {repeated}")
