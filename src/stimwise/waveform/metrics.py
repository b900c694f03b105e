"""Exact safety metrics computed from the waveform description (never from samples).

Definitions (per channel, at the prescribed maximum amplitude A, into a resistive load R):

* ``charge_per_phase_uc``: charge of the larger phase of a pulse at full width, normally the
  leading one (FDA asks for the maximum phase charge); carrier: one half-cycle at the lowest
  carrier frequency.
* ``net_charge_per_pulse_uc``: |leading − second phase charge| of one pulse (carrier bursts: one
  burst); 0 for a balanced pulse.
* ``dc_current_ua``: mean current over the steady window, signed (+ anodic at the active
  electrode). Polarity reversal and alternating leading phases cancel here, not per pulse.
* ``rms_current_ma``: r.m.s. over the worst one-second window of steady stimulation (ramps and
  off-time excluded) with every modulated parameter at its maximum: an upper bound, and exact for
  an unmodulated train whose period divides one second (IEC 60601-2-10 and FDA limits are checked
  against this figure).
* ``rms_current_mean_ma``: long-run r.m.s. of steady stimulation over the steady window.
* ``rms_current_cycle_ma``: r.m.s. averaged over one whole on/off cycle, ramps and off-time
  included (continuous stimulation: equal to the mean).
* densities at the smallest electrode of the channel, assuming the whole channel current may
  pass through it (a return electrode that peels off loses its share to the others).
* ``shannon_k`` = log10(charge density per phase, µC/cm²) + log10(charge per phase, µC)
  (Shannon 1992; implant-derived, not validated for skin electrodes; clinical-facts.md §3.3).
* ``energy_per_pulse_mj`` = R·∫i²dt over one pulse (carrier: one cycle at the lowest frequency).
* ``average_power_w`` = R·rms_current², over the worst second (FDA: averaged over 1 s at maximum
  duty); ``power_density_w_per_cm2`` divides it by the smallest electrode area.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from stimwise.protocol.models import CarrierTrain, Channel, Envelope, Protocol, PulseTrain
from stimwise.protocol.prescription import Prescription, as_prescription
from stimwise.waveform.carrier import burst_unit_integrals, mean_carrier_frequency_hz
from stimwise.waveform.schedule import PulseShapeIntegrals, pulse_events
from stimwise.waveform.timefunctions import envelope_power_factor, mean_square_scaled
from stimwise.waveform.window import steady_window_s

DEFAULT_LOAD_OHM = 500.0
"""IEC 60601-2-10 and the FDA characterise stimulator outputs into 500 Ω (clinical-facts.md §3)."""

FDA_CHARACTERISATION_LOADS_OHM = (500.0, 2000.0, 10_000.0)
"""FDA PMS guidance 1999 Att. II: tracings at 500 Ω, 2 kΩ and 10 kΩ (clinical-facts.md §3.2)."""

__all__ = [
    "DEFAULT_LOAD_OHM",
    "FDA_CHARACTERISATION_LOADS_OHM",
    "ChannelMetrics",
    "ElectrodeMetrics",
    "PlanMetrics",
    "compute_metrics",
]


@dataclass(frozen=True)
class ElectrodeMetrics:
    site: str
    area_cm2: float
    current_density_ma_per_cm2: float
    charge_density_uc_per_cm2: float
    power_density_w_per_cm2: float


@dataclass(frozen=True)
class ChannelMetrics:
    """The exact metrics of one channel at one load; the module docstring defines each figure.

    Examples
    --------
    >>> import stimwise as sw
    >>> channel = sw.compute_metrics(sw.load_protocol("conventional-tens")).channels[0]
    >>> channel.channel, channel.pulses_per_second
    ('left leg', 100.0)
    """

    channel: str
    load_ohm: float
    peak_current_ma: float
    peak_voltage_v: float
    charge_per_phase_uc: float
    net_charge_per_pulse_uc: float
    dc_current_ua: float
    rms_current_ma: float
    rms_current_mean_ma: float
    rms_current_cycle_ma: float
    current_density_ma_per_cm2: float
    charge_density_uc_per_cm2: float
    shannon_k: float
    energy_per_pulse_mj: float
    energy_per_burst_mj: float | None
    average_power_w: float
    average_power_cycle_w: float
    power_density_w_per_cm2: float
    pulses_per_second: float
    output_frequency_hz: float
    duty_cycle: float
    smallest_electrode_area_cm2: float
    electrodes: tuple[ElectrodeMetrics, ...]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PlanMetrics:
    """Metrics of every channel of a prescription at one load (:func:`compute_metrics`).

    Examples
    --------
    >>> import stimwise as sw
    >>> metrics = sw.compute_metrics(sw.load_protocol("conventional-tens"))
    >>> metrics.load_ohm, [c.channel for c in metrics.channels]
    (500.0, ['left leg', 'right leg'])
    >>> metrics.channel("left leg").net_charge_per_pulse_uc  # charge-balanced
    0.0
    """

    load_ohm: float
    steady_window_s: float
    session_duration_min: float
    channels: tuple[ChannelMetrics, ...]

    def channel(self, label: str) -> ChannelMetrics:
        return next(c for c in self.channels if c.channel == label)

    def to_dict(self) -> dict:
        return {
            "load_ohm": self.load_ohm,
            "steady_window_s": self.steady_window_s,
            "session_duration_min": self.session_duration_min,
            "channels": [c.to_dict() for c in self.channels],
        }


@dataclass(frozen=True)
class _CurrentFigures:
    """Channel figures that do not depend on the load or the electrodes (mA, µC, s units)."""

    charge_per_phase_uc: float
    net_charge_per_pulse_uc: float
    dc_current_ma: float
    rms_bound_ma: float
    rms_mean_ma: float
    rms_cycle_ma: float
    pulse_square_integral_ma2_s: float
    burst_square_integral_ma2_s: float | None
    pulses_per_second: float
    output_frequency_hz: float


def _count_bound(rate_hz: float, event_s: float) -> int:
    """Most events of a train at ``rate_hz`` that can overlap a one-second window."""
    exact = rate_hz * 1.0
    if abs(exact - round(exact)) < 1e-9:
        return round(exact)
    return math.floor(rate_hz * (1.0 + event_s)) + 1


_SUM_CHUNK_S = 10.0
"""Pulses are summed over the steady window in chunks so memory stays bounded for long windows."""


def _steady_sums(train: PulseTrain, window_s: float) -> tuple[float, float, int]:
    """Σ a²·w, Σ sign·a·w and the pulse count of steady stimulation over [0, window_s)."""
    square_sum = signed_sum = 0.0
    count = 0
    for t0 in np.arange(0.0, window_s, _SUM_CHUNK_S):
        events = pulse_events(train, None, float(t0), min(float(t0) + _SUM_CHUNK_S, window_s))
        a, w = events.amplitude_fraction, events.width_fraction
        square_sum += float(np.sum(a * a * w))
        signed_sum += float(np.sum(events.leading_sign * a * w))
        count += len(events)
    return square_sum, signed_sum, count


def _pulse_train_figures(
    train: PulseTrain, envelope: Envelope, amplitude_ma: float, window_s: float
) -> _CurrentFigures:
    shape = PulseShapeIntegrals.of(train)
    pulse_s = train.pulse.pulse_duration_us * 1e-6
    square = shape.square_integral_us * 1e-6  # s, unit amplitude
    amp2 = amplitude_ma**2
    square_sum, signed_sum, steady_pulses = _steady_sums(train, window_s)
    rms_mean = math.sqrt(amp2 * square * square_sum / window_s)
    dc = amplitude_ma * shape.net_charge_us * 1e-6 * signed_sum
    if envelope.on_s is None:
        rms_cycle = rms_mean
    else:
        cycle_s = envelope.on_s + envelope.off_s
        cycle = pulse_events(train, envelope, 0.0, cycle_s)
        cycle_square = (
            amp2 * square * float(np.sum(cycle.amplitude_fraction**2 * cycle.width_fraction))
        )
        rms_cycle = math.sqrt(cycle_square / cycle_s)
    fm = train.frequency_modulation
    if train.burst is not None:
        burst_s = train.burst.pulses_per_burst / train.frequency_hz
        count = _count_bound(train.burst.burst_frequency_hz, burst_s) * train.burst.pulses_per_burst
        output_hz = min(train.frequency_hz, train.burst.burst_frequency_hz)
        burst_square = amp2 * square * train.burst.pulses_per_burst
    else:
        count = _count_bound(train.frequency_hz, pulse_s)
        output_hz = fm.low_frequency_hz if fm is not None else train.frequency_hz
        burst_square = None
    return _CurrentFigures(
        charge_per_phase_uc=amplitude_ma * shape.max_phase_charge_us * 1e-3,
        net_charge_per_pulse_uc=abs(amplitude_ma * shape.net_charge_us) * 1e-3,
        dc_current_ma=dc / window_s,
        rms_bound_ma=math.sqrt(count * amp2 * square),
        rms_mean_ma=rms_mean,
        rms_cycle_ma=rms_cycle,
        pulse_square_integral_ma2_s=amp2 * square,
        burst_square_integral_ma2_s=burst_square,
        pulses_per_second=steady_pulses / window_s,
        output_frequency_hz=output_hz,
    )


def _carrier_figures(
    train: CarrierTrain, envelope: Envelope, amplitude_ma: float, offset_hz: float
) -> _CurrentFigures:
    lowest_hz = train.lowest_carrier_hz + offset_hz
    amp2 = amplitude_ma**2
    sine = train.shape == "sine"
    am = train.amplitude_modulation
    am_mean_square = mean_square_scaled(am.shape, am.low_fraction) if am else 1.0
    am_mean = (am.low_fraction + (1 - am.low_fraction) / 2) if am else 1.0
    cycle_square = amp2 * (0.5 if sine else 1.0) / lowest_hz  # one full cycle, mA²·s
    half_cycle_charge_mas = amplitude_ma * (
        1 / (math.pi * lowest_hz) if sine else 1 / (2 * lowest_hz)
    )
    if train.burst is not None:
        fb = train.burst.burst_frequency_hz
        duration_s = train.burst.burst_duration_ms / 1000
        charge_s, square_s = burst_unit_integrals(train, offset_hz)
        mean_square = amp2 * fb * square_s * am_mean_square
        bound = _count_bound(fb, duration_s) * amp2 * square_s
        dc = amplitude_ma * charge_s * fb * am_mean
        net = abs(amplitude_ma * charge_s) * 1e3
        burst_square = amp2 * square_s
        cycles_per_s = (train.carrier_frequency_hz + offset_hz) * duration_s * fb
    else:
        continuous = 0.5 if sine else 1.0
        mean_square = amp2 * continuous * am_mean_square
        bound = amp2 * continuous
        dc = 0.0
        net = 0.0
        burst_square = None
        cycles_per_s = mean_carrier_frequency_hz(train, offset_hz)
    return _CurrentFigures(
        charge_per_phase_uc=half_cycle_charge_mas * 1e3,
        net_charge_per_pulse_uc=net,
        dc_current_ma=dc,
        rms_bound_ma=math.sqrt(bound),
        rms_mean_ma=math.sqrt(mean_square),
        rms_cycle_ma=math.sqrt(mean_square * envelope_power_factor(envelope)),
        pulse_square_integral_ma2_s=cycle_square,
        burst_square_integral_ma2_s=burst_square,
        pulses_per_second=cycles_per_s,
        output_frequency_hz=lowest_hz,
    )


def _channel_metrics(
    channel: Channel, figures: _CurrentFigures, amplitude_ma: float, load_ohm: float, duty: float
) -> ChannelMetrics:
    power_w = figures.rms_bound_ma**2 * load_ohm * 1e-6
    electrodes = tuple(
        ElectrodeMetrics(
            site=e.site,
            area_cm2=e.area_cm2,
            current_density_ma_per_cm2=figures.rms_bound_ma / e.area_cm2,
            charge_density_uc_per_cm2=figures.charge_per_phase_uc / e.area_cm2,
            power_density_w_per_cm2=power_w / e.area_cm2,
        )
        for e in channel.electrodes
    )
    smallest = channel.smallest_area_cm2
    charge_density = figures.charge_per_phase_uc / smallest
    burst_energy = figures.burst_square_integral_ma2_s
    return ChannelMetrics(
        channel=channel.label,
        load_ohm=load_ohm,
        peak_current_ma=amplitude_ma,
        peak_voltage_v=amplitude_ma * load_ohm / 1000,
        charge_per_phase_uc=figures.charge_per_phase_uc,
        net_charge_per_pulse_uc=figures.net_charge_per_pulse_uc,
        dc_current_ua=figures.dc_current_ma * 1000 + 0.0,
        rms_current_ma=figures.rms_bound_ma,
        rms_current_mean_ma=figures.rms_mean_ma,
        rms_current_cycle_ma=figures.rms_cycle_ma,
        current_density_ma_per_cm2=figures.rms_bound_ma / smallest,
        charge_density_uc_per_cm2=charge_density,
        shannon_k=math.log10(charge_density) + math.log10(figures.charge_per_phase_uc),
        energy_per_pulse_mj=figures.pulse_square_integral_ma2_s * load_ohm * 1e-3,
        energy_per_burst_mj=None if burst_energy is None else burst_energy * load_ohm * 1e-3,
        average_power_w=power_w,
        average_power_cycle_w=figures.rms_cycle_ma**2 * load_ohm * 1e-6,
        power_density_w_per_cm2=power_w / smallest,
        pulses_per_second=figures.pulses_per_second,
        output_frequency_hz=figures.output_frequency_hz,
        duty_cycle=duty,
        smallest_electrode_area_cm2=smallest,
        electrodes=electrodes,
    )


def compute_metrics(
    prescription: Prescription | Protocol, load_ohm: float = DEFAULT_LOAD_OHM
) -> PlanMetrics:
    """Exact metrics of every channel of ``prescription`` into a resistive ``load_ohm``.

    Computed from the description, never from samples (the module docstring defines every
    figure); :func:`stimwise.verify` judges these same numbers against the limits.

    Parameters
    ----------
    prescription
        What would be delivered; a protocol is measured at its defaults.
    load_ohm
        The resistive load (Ω); 500 Ω as IEC 60601-2-10 and the FDA characterise.

    Returns
    -------
    PlanMetrics
        One :class:`ChannelMetrics` per channel.

    Examples
    --------
    Conventional TENS at its defaults: 30 mA, a 100 µs leading phase, 100 Hz, 25 cm²
    electrodes.

    >>> import stimwise as sw
    >>> channel = sw.compute_metrics(sw.load_protocol("conventional-tens")).channels[0]
    >>> round(channel.charge_per_phase_uc, 3), round(channel.rms_current_ma, 2)
    (3.0, 3.35)
    >>> round(channel.charge_density_uc_per_cm2, 3)  # 3 µC over 25 cm²
    0.12
    """
    prescription = as_prescription(prescription, function="compute_metrics")
    if not load_ohm > 0:
        raise ValueError(f"load_ohm must be positive, got {load_ohm!r}")
    waveform = prescription.waveform
    envelope = prescription.envelope
    amplitude = prescription.max_amplitude_ma
    window = steady_window_s(waveform)
    pulse_figures = (
        _pulse_train_figures(waveform, envelope, amplitude, window)
        if isinstance(waveform, PulseTrain)
        else None
    )
    channels = []
    for channel in prescription.channels:
        figures = pulse_figures or _carrier_figures(
            waveform, envelope, amplitude, channel.carrier_frequency_offset_hz
        )
        channels.append(
            _channel_metrics(channel, figures, amplitude, load_ohm, envelope.duty_cycle)
        )
    return PlanMetrics(
        load_ohm=load_ohm,
        steady_window_s=window,
        session_duration_min=prescription.session_duration_min,
        channels=tuple(channels),
    )
