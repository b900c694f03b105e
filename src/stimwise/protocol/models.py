"""Pydantic models of a stimulation protocol.

Conventions
-----------
* Units are in the field names (``phase_width_us``, ``frequency_hz``, ``area_cm2``).
* Current sign: positive = anodic at the channel's first (active) electrode, negative = cathodic.
  A "cathodic" pulse therefore starts negative.
* Amplitudes are peak currents of the leading phase at 100 % intensity; the prescribed maximum is
  ``Intensity.max_amplitude_ma``. Microcurrent is written in mA too (300 µA = 0.3 mA).
* The first electrode of a channel is the active electrode; the others are its return electrodes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from stimwise.protocol.base import Float, Int, StrictChoice, StrictModel
from stimwise.protocol.body_sites import SITE_NAMES, sites_text
from stimwise.protocol.modulation import (
    AmplitudeModulation,
    FrequencyModulation,
    Modulation,
    PulseWidthModulation,
    check_unique_parameters,
)

__all__ = [
    "UNION_TAGS",
    "AsymmetricBiphasicPulse",
    "CarrierBurst",
    "CarrierSweep",
    "CarrierTrain",
    "Channel",
    "Citation",
    "Confidence",
    "Electrode",
    "Envelope",
    "EvidenceRanges",
    "Goal",
    "Intensity",
    "IntensityLevel",
    "LeadingPolarity",
    "MonophasicPulse",
    "Polarity",
    "Protocol",
    "Pulse",
    "PulseBurst",
    "PulseTrain",
    "SessionDose",
    "SymmetricBiphasicPulse",
    "ValueRange",
    "Waveform",
    "check_channels_fit_waveform",
]

Polarity = Literal["cathodic", "anodic"]
LeadingPolarity = Literal["cathodic", "anodic", "alternating"]
IntensityLevel = Literal["subsensory", "sensory", "motor"]
Confidence = Literal["C", "C-s", "U", "M"]
"""Evidence marks (shared/reference): C confirmed, C-s secondary, U unverified, M measured."""

Goal = Literal[
    "pain_modulation",
    "endogenous_opioid_release",
    "muscle_reeducation",
    "circulation",
    "microcurrent",
    "neuropathy_symptom_relief",
]

# --------------------------------------------------------------------------- pulses


class MonophasicPulse(StrictModel):
    """One rectangular phase, optionally with periodic polarity reversal (microcurrent devices
    reverse polarity to average out the DC component; clinical-facts.md §1.1, Enraf IFU [C-s]).

    Examples
    --------
    >>> from stimwise.protocol import MonophasicPulse
    >>> pulse = MonophasicPulse(phase_width_us=250, polarity_reversal_interval_s=2)
    >>> pulse.polarity, pulse.pulse_duration_us
    ('cathodic', 250.0)
    """

    kind: Literal["monophasic"] = "monophasic"
    phase_width_us: Float = Field(gt=0, le=1_000_000)
    polarity: Polarity = "cathodic"
    polarity_reversal_interval_s: Float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Polarity flips every this many seconds; None keeps one polarity.",
    )

    @property
    def pulse_duration_us(self) -> float:
        return self.phase_width_us

    @property
    def shortest_phase_us(self) -> float:
        return self.phase_width_us


class SymmetricBiphasicPulse(StrictModel):
    """Two equal rectangular phases of opposite sign, charge-balanced by construction.

    Examples
    --------
    >>> from stimwise.protocol import SymmetricBiphasicPulse
    >>> pulse = SymmetricBiphasicPulse(phase_width_us=200, interphase_gap_us=50)
    >>> pulse.pulse_duration_us
    450.0
    """

    kind: Literal["biphasic_symmetric"] = "biphasic_symmetric"
    phase_width_us: Float = Field(gt=0, le=100_000)
    interphase_gap_us: Float = Field(default=0, ge=0, le=100_000)
    leading_polarity: LeadingPolarity = "cathodic"

    @property
    def pulse_duration_us(self) -> float:
        return 2 * self.phase_width_us + self.interphase_gap_us

    @property
    def shortest_phase_us(self) -> float:
        gaps = [self.interphase_gap_us] if self.interphase_gap_us > 0 else []
        return min([self.phase_width_us, *gaps])


class AsymmetricBiphasicPulse(StrictModel):
    """A short leading phase followed by a long, low second phase of opposite sign.

    The second phase's amplitude is ``second_phase_amplitude_ratio`` times the leading amplitude.
    Left out, it is chosen so that the pulse is exactly charge-balanced
    (ratio = phase_width_us / second_phase_width_us), as most TENS units do (clinical-facts.md
    §1.1, [C-s]). An explicit ratio that leaves net charge is representable on purpose: the safety
    verification must see and block it.

    Examples
    --------
    Without an amplitude ratio the second phase balances the charge of the first:

    >>> from stimwise.protocol import AsymmetricBiphasicPulse
    >>> AsymmetricBiphasicPulse(phase_width_us=100, second_phase_width_us=400).amplitude_ratio
    0.25
    """

    kind: Literal["biphasic_asymmetric"] = "biphasic_asymmetric"
    phase_width_us: Float = Field(gt=0, le=100_000, description="Leading phase width.")
    second_phase_width_us: Float = Field(gt=0, le=1_000_000)
    second_phase_amplitude_ratio: Float | None = Field(default=None, gt=0, le=1)
    interphase_gap_us: Float = Field(default=0, ge=0, le=100_000)
    leading_polarity: LeadingPolarity = "cathodic"

    @model_validator(mode="after")
    def _second_phase_is_long_and_low(self) -> AsymmetricBiphasicPulse:
        if self.second_phase_width_us < self.phase_width_us:
            raise ValueError(
                f"second_phase_width_us ({self.second_phase_width_us}) must be at least "
                f"phase_width_us ({self.phase_width_us}): the second phase is the long, low one"
            )
        return self

    @property
    def amplitude_ratio(self) -> float:
        if self.second_phase_amplitude_ratio is not None:
            return self.second_phase_amplitude_ratio
        return self.phase_width_us / self.second_phase_width_us

    @property
    def pulse_duration_us(self) -> float:
        return self.phase_width_us + self.interphase_gap_us + self.second_phase_width_us

    @property
    def shortest_phase_us(self) -> float:
        gaps = [self.interphase_gap_us] if self.interphase_gap_us > 0 else []
        return min([self.phase_width_us, *gaps])


Pulse = Annotated[
    MonophasicPulse | SymmetricBiphasicPulse | AsymmetricBiphasicPulse,
    Field(discriminator="kind"),
]

# --------------------------------------------------------------------------- trains


class PulseBurst(StrictModel):
    """Groups of pulses at the train's ``frequency_hz``, repeated at ``burst_frequency_hz``.

    Burst TENS: 7 pulses at 100 Hz repeated at 2 Hz (Sjölund & Eriksson, clinical-facts.md §1.1).

    Examples
    --------
    >>> from stimwise.protocol import PulseBurst
    >>> PulseBurst(pulses_per_burst=7, burst_frequency_hz=2)
    PulseBurst(pulses_per_burst=7, burst_frequency_hz=2.0)
    """

    pulses_per_burst: Int = Field(ge=2, le=10_000)
    burst_frequency_hz: Float = Field(gt=0, le=1000)


class PulseTrain(StrictModel):
    """A train of rectangular pulses: the waveform of TENS, NMES and microcurrent.

    Examples
    --------
    >>> from stimwise.protocol import FrequencyModulation, PulseTrain, SymmetricBiphasicPulse
    >>> train = PulseTrain(
    ...     pulse=SymmetricBiphasicPulse(phase_width_us=200), frequency_hz=100,
    ...     modulations=[FrequencyModulation(shape="alternate", period_s=6, low_frequency_hz=4)])
    >>> train.shortest_phase_us, train.modulations[0].parameter
    (200.0, 'frequency')
    """

    kind: Literal["pulse_train"] = "pulse_train"
    pulse: Pulse
    frequency_hz: Float = Field(
        gt=0, le=10_000, description="Pulse rate (the rate within a burst when bursts are used)."
    )
    burst: PulseBurst | None = None
    modulations: tuple[Modulation, ...] = Field(default=(), max_length=3)

    @model_validator(mode="after")
    def _consistent_timing(self) -> PulseTrain:
        check_unique_parameters(self.modulations)
        period_us = 1e6 / self.frequency_hz
        if self.pulse.pulse_duration_us >= period_us:
            raise ValueError(
                f"pulse duration {self.pulse.pulse_duration_us:g} µs (phases and gap) must be "
                f"shorter than the pulse period {period_us:g} µs at {self.frequency_hz:g} Hz"
            )
        fm = self.frequency_modulation
        if fm is not None:
            if fm.low_frequency_hz >= self.frequency_hz:
                raise ValueError(
                    f"modulations: low_frequency_hz ({fm.low_frequency_hz:g}) must be below "
                    f"frequency_hz ({self.frequency_hz:g})"
                )
            if self.burst is not None:
                raise ValueError("a train can be burst or frequency-modulated, not both")
            if fm.period_s * fm.low_frequency_hz < 1:
                raise ValueError(
                    f"modulations: period_s ({fm.period_s:g}) must hold at least one pulse at "
                    f"low_frequency_hz ({fm.low_frequency_hz:g})"
                )
        if self.burst is not None:
            burst_s = self.burst.pulses_per_burst / self.frequency_hz
            burst_period_s = 1 / self.burst.burst_frequency_hz
            if burst_s > burst_period_s:
                raise ValueError(
                    f"burst of {self.burst.pulses_per_burst} pulses at {self.frequency_hz:g} Hz "
                    f"lasts {burst_s:g} s, longer than the burst period {burst_period_s:g} s"
                )
        return self

    @property
    def frequency_modulation(self) -> FrequencyModulation | None:
        return next((m for m in self.modulations if m.parameter == "frequency"), None)

    @property
    def shortest_phase_us(self) -> float:
        pwm = next((m for m in self.modulations if m.parameter == "pulse_width"), None)
        scale = pwm.low_fraction if pwm is not None else 1.0
        return self.pulse.shortest_phase_us * scale


class CarrierSweep(StrictModel):
    """Carrier frequency swept from the carrier frequency to ``stop_frequency_hz`` every
    ``period_s`` (sawtooth). HF-EMS sweeps 4,096 → 32,768 Hz every 1/20 s (clinical-facts.md §1.1,
    psiram / May 2005 [C-s]).

    Examples
    --------
    >>> from stimwise.protocol import CarrierSweep
    >>> CarrierSweep(stop_frequency_hz=32_768, period_s=0.05).law
    'exponential'
    """

    stop_frequency_hz: Float = Field(ge=1000, le=100_000)
    period_s: Float = Field(gt=0, le=60)
    law: Literal["linear", "exponential"] = "exponential"


class CarrierBurst(StrictModel):
    """Carrier switched on for ``burst_duration_ms`` at ``burst_frequency_hz`` (Russian current:
    2.5 kHz in 10 ms bursts at 50 Hz). The carrier phase restarts at every burst.

    Examples
    --------
    Russian current: 2.5 kHz in 10 ms bursts, 50 bursts per second:

    >>> from stimwise.protocol import CarrierBurst, CarrierTrain
    >>> train = CarrierTrain(shape="sine", carrier_frequency_hz=2500,
    ...                      burst=CarrierBurst(burst_frequency_hz=50, burst_duration_ms=10))
    >>> train.burst.burst_duration_ms
    10.0
    """

    burst_frequency_hz: Float = Field(gt=0, le=1000)
    burst_duration_ms: Float = Field(gt=0, le=1000)


class CarrierTrain(StrictModel):
    """A kilohertz sine or square carrier with optional sweep, bursts and amplitude modulation.

    Examples
    --------
    >>> from stimwise.protocol import AmplitudeModulation, CarrierTrain
    >>> train = CarrierTrain(
    ...     shape="sine", carrier_frequency_hz=4000,
    ...     amplitude_modulation=AmplitudeModulation(shape="sine", period_s=2, low_fraction=0.3))
    >>> train.lowest_carrier_hz, train.highest_carrier_hz
    (4000.0, 4000.0)
    """

    kind: Literal["carrier"] = "carrier"
    shape: Literal["sine", "square"]
    carrier_frequency_hz: Float = Field(ge=1000, le=100_000)
    sweep: CarrierSweep | None = None
    burst: CarrierBurst | None = None
    amplitude_modulation: AmplitudeModulation | None = None

    @model_validator(mode="after")
    def _carrier_above_modulation(self) -> CarrierTrain:
        if self.sweep is not None and self.burst is not None:
            raise ValueError("a carrier can be swept or burst-gated, not both")
        lowest = self.lowest_carrier_hz
        if self.sweep is not None and 1 / self.sweep.period_s >= lowest:
            raise ValueError(
                f"sweep rate {1 / self.sweep.period_s:g} Hz must be below the carrier "
                f"({lowest:g} Hz)"
            )
        if self.burst is not None:
            b = self.burst
            if b.burst_frequency_hz >= lowest:
                raise ValueError(
                    f"burst.burst_frequency_hz ({b.burst_frequency_hz:g}) must be below the "
                    f"carrier frequency ({lowest:g} Hz)"
                )
            if b.burst_duration_ms / 1000 > 1 / b.burst_frequency_hz:
                raise ValueError(
                    f"burst.burst_duration_ms ({b.burst_duration_ms:g}) exceeds the burst period "
                    f"({1000 / b.burst_frequency_hz:g} ms)"
                )
            if b.burst_duration_ms / 1000 < 1 / self.carrier_frequency_hz:
                raise ValueError(
                    f"burst.burst_duration_ms ({b.burst_duration_ms:g}) is shorter than one "
                    "carrier "
                    f"cycle ({1000 / self.carrier_frequency_hz:g} ms)"
                )
        am = self.amplitude_modulation
        if am is not None and 1 / am.period_s >= lowest:
            raise ValueError(
                f"amplitude_modulation rate {1 / am.period_s:g} Hz must be below the carrier "
                f"({lowest:g} Hz)"
            )
        return self

    @property
    def lowest_carrier_hz(self) -> float:
        if self.sweep is None:
            return self.carrier_frequency_hz
        return min(self.carrier_frequency_hz, self.sweep.stop_frequency_hz)

    @property
    def highest_carrier_hz(self) -> float:
        if self.sweep is None:
            return self.carrier_frequency_hz
        return max(self.carrier_frequency_hz, self.sweep.stop_frequency_hz)

    @property
    def shortest_phase_us(self) -> float:
        return 1e6 / (2 * self.highest_carrier_hz)


Waveform = Annotated[PulseTrain | CarrierTrain, Field(discriminator="kind")]

# --------------------------------------------------------------------------- time course


class Envelope(StrictModel):
    """Ramps and the on/off duty cycle.

    With ``on_s`` unset stimulation is continuous: it ramps up once at the start of the session and
    down once at its end. With ``on_s`` set, every on-period ramps up and down within itself
    (NMES: on/off 10/50 s, ramp-up 0.5–3.5 s; clinical-facts.md §1.1 [C]).

    Examples
    --------
    >>> from stimwise.protocol import Envelope
    >>> Envelope(ramp_up_s=2, ramp_down_s=1, on_s=10, off_s=50).duty_cycle
    0.16666666666666666
    >>> Envelope(ramp_up_s=5, ramp_down_s=5).cycle_s is None  # continuous
    True
    """

    ramp_up_s: Float = Field(default=0, ge=0, le=600)
    ramp_down_s: Float = Field(default=0, ge=0, le=600)
    on_s: Float | None = Field(default=None, gt=0, le=3600)
    off_s: Float = Field(default=0, ge=0, le=3600)

    @model_validator(mode="after")
    def _ramps_fit(self) -> Envelope:
        if self.on_s is None and self.off_s > 0:
            raise ValueError("off_s needs on_s: set both for an on/off duty cycle")
        if self.on_s is not None and self.ramp_up_s + self.ramp_down_s > self.on_s:
            raise ValueError(
                f"ramp_up_s + ramp_down_s ({self.ramp_up_s + self.ramp_down_s:g} s) must fit "
                f"within on_s ({self.on_s:g} s)"
            )
        return self

    @property
    def cycle_s(self) -> float | None:
        return None if self.on_s is None else self.on_s + self.off_s

    @property
    def duty_cycle(self) -> float:
        return 1.0 if self.on_s is None else self.on_s / (self.on_s + self.off_s)


# --------------------------------------------------------------------------- placement


class Electrode(StrictModel):
    """A surface electrode: where it sits and its conductive area.

    Examples
    --------
    >>> from stimwise.protocol import Electrode
    >>> Electrode(site="left_calf", area_cm2=25)
    Electrode(site='left_calf', area_cm2=25.0)
    >>> Electrode(site="left_leg", area_cm2=25)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Electrode
    ...
    """

    site: str = Field(description="Body site from stimwise.protocol.body_sites.")
    area_cm2: Float = Field(gt=0, le=1000, description="Conductive area in cm².")

    @field_validator("site")
    @classmethod
    def _known_site(cls, site: str) -> str:
        if site not in SITE_NAMES:
            raise ValueError(
                f"unknown body site {site!r}; use one of the names listed by "
                "`stimwise schema body-sites` (e.g. 'left_forearm_dorsal', 'lumbar_midline')"
            )
        return site


class Channel(StrictModel):
    """One output channel: an active electrode and one or more return electrodes.

    Examples
    --------
    >>> from stimwise.protocol import Channel, Electrode
    >>> channel = Channel(label="A", electrodes=[Electrode(site="left_calf", area_cm2=25),
    ...                                          Electrode(site="left_knee", area_cm2=25)])
    >>> [e.site for e in channel.electrodes]
    ['left_calf', 'left_knee']
    """

    label: str = Field(min_length=1, max_length=40)
    electrodes: tuple[Electrode, ...] = Field(min_length=2, max_length=8)
    carrier_frequency_offset_hz: Float = Field(
        default=0,
        ge=-10_000,
        le=10_000,
        description="Added to a carrier's frequency on this channel (interferential beat).",
    )

    @property
    def smallest_area_cm2(self) -> float:
        return min(e.area_cm2 for e in self.electrodes)

    @property
    def sites_text(self) -> str:
        """Where the electrodes go, in words, each site once (:func:`sites_text`)."""
        return sites_text([e.site for e in self.electrodes])


# --------------------------------------------------------------------------- dose and evidence


class Intensity(StrictModel):
    """Target sensation level and the prescribed maximum peak amplitude.

    Examples
    --------
    >>> from stimwise.protocol import Intensity
    >>> Intensity(level="sensory", max_amplitude_ma=30)
    Intensity(level='sensory', max_amplitude_ma=30.0)
    """

    level: IntensityLevel
    max_amplitude_ma: Float = Field(gt=0, le=200)


class SessionDose(StrictModel):
    """How long one session lasts and how often sessions are given.

    Examples
    --------
    >>> from stimwise.protocol import SessionDose
    >>> SessionDose(duration_min=30, sessions_per_week=5)
    SessionDose(duration_min=30.0, sessions_per_day=1, sessions_per_week=5)
    """

    duration_min: Float = Field(gt=0, le=480)
    sessions_per_day: Int = Field(default=1, ge=1, le=12)
    sessions_per_week: Int = Field(default=7, ge=1, le=84)

    @model_validator(mode="after")
    def _week_fits_days(self) -> SessionDose:
        if self.sessions_per_week > 7 * self.sessions_per_day:
            raise ValueError(
                f"sessions_per_week ({self.sessions_per_week}) exceeds 7 × sessions_per_day "
                f"({7 * self.sessions_per_day})"
            )
        return self


class Citation(StrictModel):
    """A source and how firmly it was confirmed (marks as in shared/reference).

    Examples
    --------
    >>> from stimwise.protocol import Citation
    >>> Citation(source="Johnson 2014", confidence="C", note="a textbook")
    Citation(source='Johnson 2014', confidence='C', note='a textbook')
    """

    source: str = Field(min_length=3)
    confidence: Confidence
    note: str | None = None


class ValueRange(StrictModel):
    """An allowed range of one parameter, with the sources that support it.

    Examples
    --------
    >>> from stimwise.protocol import Citation, ValueRange
    >>> ValueRange(min=80, max=120, sources=[Citation(source="a textbook", confidence="C-s")]).max
    120.0
    """

    min: Float
    max: Float
    sources: tuple[Citation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not exceed max ({self.max:g})")
        return self

    def contains(self, value: float) -> bool:
        return self.min <= value <= self.max


class EvidenceRanges(StrictModel):
    """Parameter ranges supported by the protocol's evidence; outside them verify() warns.

    Examples
    --------
    >>> import stimwise as sw
    >>> ranges = sw.load_protocol("conventional-tens").ranges
    >>> ranges.frequency_hz.min <= 100 <= ranges.frequency_hz.max
    True
    """

    frequency_hz: ValueRange | None = None
    phase_width_us: ValueRange | None = None
    amplitude_ma: ValueRange | None = None
    session_duration_min: ValueRange | None = None
    carrier_frequency_hz: ValueRange | None = None


class Protocol(StrictModel):
    """A complete, reproducible stimulation protocol (library entry or user file).

    Examples
    --------
    Protocols come from the library or from a file (``stimwise schema protocol`` prints the format):

    >>> import stimwise as sw
    >>> burst = sw.load_protocol("burst-tens")
    >>> burst.modality, burst.waveform.burst.pulses_per_burst, burst.intensity.level
    ('TENS', 7, 'motor')
    """

    schema_version: Annotated[Literal[1], StrictChoice] = 1
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=3, max_length=120)
    modality: Literal["TENS", "NMES", "MENS", "HF-EMS", "IFC", "other"]
    goal: Goal
    mechanism: str = Field(min_length=3)
    waveform: Waveform
    envelope: Envelope = Envelope()
    intensity: Intensity
    channels: tuple[Channel, ...] = Field(min_length=1, max_length=8)
    session: SessionDose
    ranges: EvidenceRanges = EvidenceRanges()
    indications: tuple[str, ...] = ()
    placement_notes: str | None = None
    evidence: tuple[Citation, ...] = ()
    expected_verdict: Literal["pass", "warn", "block"] | None = Field(
        default=None, description="The verdict the library documents for its defaults."
    )

    @model_validator(mode="after")
    def _channels_fit_waveform(self) -> Protocol:
        check_channels_fit_waveform(self.channels, self.waveform)
        return self


UNION_TAGS: frozenset[str] = frozenset(
    model.model_fields[tag].default
    for model, tag in (
        (MonophasicPulse, "kind"),
        (SymmetricBiphasicPulse, "kind"),
        (AsymmetricBiphasicPulse, "kind"),
        (PulseTrain, "kind"),
        (CarrierTrain, "kind"),
        (FrequencyModulation, "parameter"),
        (AmplitudeModulation, "parameter"),
        (PulseWidthModulation, "parameter"),
    )
)
"""Discriminator values pydantic puts into error locations of tagged unions."""


def check_channels_fit_waveform(
    channels: tuple[Channel, ...], waveform: PulseTrain | CarrierTrain
) -> None:
    """Unique labels; carrier offsets only on carriers and never below 1 kHz."""
    labels = [c.label for c in channels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"channel labels must be unique: {labels}")
    if isinstance(waveform, PulseTrain):
        offsets = [c.label for c in channels if c.carrier_frequency_offset_hz != 0]
        if offsets:
            raise ValueError(
                f"carrier_frequency_offset_hz is only meaningful for a carrier; set on {offsets}"
            )
        return
    for c in channels:
        lowest = waveform.lowest_carrier_hz + c.carrier_frequency_offset_hz
        if lowest < 1000:
            raise ValueError(
                f"channel {c.label!r}: carrier with offset falls to {lowest:g} Hz, "
                "below the 1000 Hz minimum"
            )
