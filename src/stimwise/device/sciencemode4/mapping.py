"""From a prescription to RehaMove P24 mid-level parameters, or every reason it cannot be done.

A pure function, :func:`map_prescription`, so the rules can be tested without a port. On the mid
level every enabled channel repeats one pulse shape — a list of up to 16 points, each a current
held for 10–4095 µs — at its own period (0.25 ms steps up to 8191.75 ms). What maps, and how:

* **Channels.** The plan's channels, in plan order, become device channels 1..n (at most 8:
  red, blue, black, white of the yellow cable, then of the green one).
* **Pulse.** ``biphasic_symmetric``: leading phase, the interphase gap (if any) at zero current,
  then the opposite phase, each one point. ``biphasic_asymmetric``: the short leading phase,
  the gap, then the long second phase carrying exactly the leading phase's charge: its current
  is the ratio times the leading current split over two neighbouring 0.5 mA levels, so that
  the charge balances although every point is quantised to 0.5 mA (within 0.5 mA·µs when a
  level would last under 10 µs). Widths and gaps are whole µs from 10 to 4095; a gap of 0 adds
  no point. The leading phase is negative for ``cathodic``, positive for ``anodic`` [the sign
  relative to the electrode colours is not documented: a note says so].
* **Rate.** Period = 1 / ``frequency_hz``, on the 0.25 ms grid (a note says so when that moves
  the rate by more than 0.5 %); the channels' pulses, plus 60 µs each, must fit in their
  periods (the device's duty rule).
* **Amplitude.** The plan's maximum must not exceed 130 mA. Updates floor each channel's
  leading current to 0.5 mA and refuse more than the plan's maximum; ramps and the on/off
  envelope are the session's. The mid level's own ramp is not used (0).
* **Refused outright:** carriers, monophasic pulses (stimwise drives the P24 only with
  charge-balanced pulses), alternating polarity, bursts and every modulation (one point list
  per period, and this driver sends only amplitude updates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stimwise.device.amplitudes import quantised_currents
from stimwise.device.interface import Capabilities, DeviceRefusalError
from stimwise.device.sciencemode4.firmware import (
    CURRENT_LIMIT_MA,
    DUTY_LIMIT_MS_PER_S,
    PULSE_OVERHEAD_US,
)
from stimwise.device.sciencemode4.payloads import (
    CHANNELS,
    CURRENT_STEP_MA,
    PERIOD_CODE_MAX,
    POINT_DURATION_MAX_US,
    ChannelPoint,
    MlChannelConfig,
    MlUpdate,
)
from stimwise.protocol.models import AsymmetricBiphasicPulse, PulseTrain, SymmetricBiphasicPulse
from stimwise.protocol.prescription import Prescription

DEVICE_NAME = "Hasomed RehaMove P24 (ScienceMode4)"
POINT_MIN_US = 10
"""The device runs any point shorter than 10 µs as 10 µs (C library)."""
PERIOD_MAX_MS = PERIOD_CODE_MAX / 4
"""The longest period on the 0.25 ms grid (the coarse 0.5 ms grid reaches 16383.5 ms)."""
RATE_NOTE_TOLERANCE = 0.005
_LEADING_SIGN = {"cathodic": -1, "anodic": 1}

CAPABILITIES = Capabilities(
    name=DEVICE_NAME,
    channels=CHANNELS,
    current_range_ma=(0.0, CURRENT_LIMIT_MA),
    current_step_ma=CURRENT_STEP_MA,
    pulse_width_range_us=(float(POINT_MIN_US), float(POINT_DURATION_MAX_US)),
    pulse_width_step_us=1.0,
    frequency_range_hz=(1000 / PERIOD_MAX_MS, 1000 / 0.25),
    pulse_kinds=frozenset({"biphasic_symmetric", "biphasic_asymmetric"}),
    carriers=False,
    timing="device",
    compliance_voltage_v=150.0,
)
"""What stimwise drives the P24 to deliver (instructions for use: 0–130 mA in 0.5 mA steps at
1 kΩ, 150 V maximum output, periods 0.5–16383 ms; points of 10–4095 µs). The frequency range is
the widest; the duty rule narrows it for long pulses and many channels."""


@dataclass(frozen=True)
class PulseShape:
    """One channel's pulse as the device will run it, for any leading current."""

    leading_us: int
    gap_us: int
    second_us: int
    second_ratio: float
    """Second-phase current over leading current (1 for symmetric pulses)."""
    sign: int
    """+1: the leading phase is positive on the wire."""

    @property
    def duration_us(self) -> int:
        return self.leading_us + self.gap_us + self.second_us

    def points(self, current_ma: float) -> tuple[ChannelPoint, ...]:
        """The point list at leading current ``current_ma`` (a multiple of 0.5 mA)."""
        points = [ChannelPoint.from_ma(self.leading_us, self.sign * current_ma)]
        if self.gap_us:
            points.append(ChannelPoint.from_ma(self.gap_us, 0))
        if self.second_ratio == 1:
            return (*points, ChannelPoint.from_ma(self.second_us, -self.sign * current_ma))
        charge = current_ma * self.leading_us  # mA·µs, a multiple of 0.5
        return (
            *points,
            *(
                ChannelPoint.from_ma(duration_us, -self.sign * level_ma)
                for duration_us, level_ma in balanced_levels(charge, self.second_us)
            ),
        )


def balanced_levels(charge: float, width_us: int) -> list[tuple[int, float]]:
    """Up to two (duration µs, current mA) points on the 0.5 mA grid, ``width_us`` long in all,
    whose charge is ``charge`` mA·µs (a multiple of 0.5), the lower level first.

    Exact with the two levels around the mean current, unless one of them would last under the
    device's 10 µs; the levels are then 1 mA apart, within 0.5 mA·µs of ``charge``. A charge
    under 5 mA·µs (0.5 mA for 10 µs: less than any leading phase carries) cannot be placed.
    """
    step = CURRENT_STEP_MA
    if charge < POINT_MIN_US * step:
        return [(width_us, 0.0)]
    low = (charge / width_us // step) * step
    high_us = round((charge - low * width_us) / step)
    if POINT_MIN_US <= high_us <= width_us - POINT_MIN_US or high_us in (0, width_us):
        levels = [(width_us - high_us, low), (high_us, low + step)]
    else:  # one level too short: use two levels 1 mA apart, both long enough
        low = low - step if high_us < POINT_MIN_US and low >= step else low
        high_us = round(charge - low * width_us)  # mA·µs / 1 mA
        levels = [(width_us - high_us, low), (high_us, low + 2 * step)]
    return [(duration_us, level_ma) for duration_us, level_ma in levels if duration_us > 0]


@dataclass(frozen=True)
class MidLevelPlan:
    """A plan as the P24 will run it on the mid level.

    Attributes
    ----------
    labels
        Plan channel labels; ``labels[i]`` is device channel ``i + 1``.
    shape
        Every channel's pulse.
    period
        Every channel's period (the config at zero current; :meth:`update` sets the points).
    max_current_ma
        The highest leading current an update may ask for: the plan's maximum (≤ 130 mA).
    notes
        What the device does differently from the plan's description without changing the dose
        (rate rounding, the polarity convention): logged at ``configure``.
    """

    labels: tuple[str, ...]
    shape: PulseShape
    period: MlChannelConfig
    max_current_ma: float
    notes: tuple[str, ...]

    @property
    def rate_hz(self) -> float:
        """Pulses per second on each channel, as applied."""
        return 1000 / self.period.period_ms

    def currents(
        self, amplitudes_ma: Mapping[str, object], previous_ma: Mapping[str, float]
    ) -> dict[str, float]:
        """Every channel's leading current after setting those named, floored to 0.5 mA
        (``InputError`` listing every unknown label or out-of-range value)."""
        return quantised_currents(
            amplitudes_ma,
            previous_ma,
            labels=self.labels,
            max_ma=self.max_current_ma,
            step_ma=CURRENT_STEP_MA,
            device_max_ma=CURRENT_LIMIT_MA,
        )

    def update(self, currents_ma: Mapping[str, float]) -> MlUpdate:
        """Ml_update with every channel on, each at its leading current."""
        period = self.period
        return MlUpdate.of(
            {
                index: MlChannelConfig(
                    self.shape.points(currents_ma[label]), period.period_code, period.fine
                )
                for index, label in enumerate(self.labels)
            }
        )

    def describe(self) -> dict[str, object]:
        """The applied parameters, for the ``applied`` event at ``configure`` (the audit)."""
        shape = self.shape
        return {
            "channels": {label: index + 1 for index, label in enumerate(self.labels)},
            "period_ms": self.period.period_ms,
            "rate_hz": round(self.rate_hz, 4),
            "leading_phase_us": shape.leading_us,
            "interphase_gap_us": shape.gap_us,
            "second_phase_us": shape.second_us,
            "second_phase_ratio": shape.second_ratio,
            "leading_sign": shape.sign,
            "max_current_ma": self.max_current_ma,
        }


def map_prescription(prescription: Prescription) -> MidLevelPlan:
    """The mid-level parameters for ``prescription``.

    Raises
    ------
    DeviceRefusalError
        Listing every reason the P24 cannot deliver it (HAZ-130), all at once.
    """
    reasons: list[str] = []
    notes: list[str] = []
    count = len(prescription.channels)
    if count > CHANNELS:
        reasons.append(f"the plan has {count} channels; the P24 has {CHANNELS}")
    if prescription.max_amplitude_ma > CURRENT_LIMIT_MA:
        reasons.append(
            f"max_amplitude_ma {prescription.max_amplitude_ma:g} mA is above the device's "
            f"{CURRENT_LIMIT_MA:g} mA"
        )
    wave = prescription.waveform
    if not isinstance(wave, PulseTrain):
        reasons.append(
            f"{wave.shape} carrier waveforms cannot be produced: stimwise drives the P24 with "
            "pulse trains only"
        )
        raise DeviceRefusalError(reasons)
    shape = _shape(wave, reasons, notes)
    if wave.burst is not None:
        reasons.append(
            f"bursts ({wave.burst.pulses_per_burst} pulses at {wave.burst.burst_frequency_hz:g} "
            "Hz) are not mapped: the mid level repeats one point list per period and stimwise "
            "does not build bursts into it"
        )
    reasons += [
        f"{m.parameter.replace('_', '-')} modulation ({m.shape}, period {m.period_s:g} s) cannot "
        "be represented: the mid level runs fixed settings between updates and this driver "
        "sends only amplitude updates"
        for m in wave.modulations
    ]
    period = _period(wave.frequency_hz, shape, count, reasons, notes)
    if reasons or shape is None or period is None:
        raise DeviceRefusalError(reasons)
    return MidLevelPlan(
        labels=tuple(c.label for c in prescription.channels),
        shape=shape,
        period=period,
        max_current_ma=prescription.max_amplitude_ma,
        notes=tuple(notes),
    )


def _whole_us(name: str, value_us: float, reasons: list[str], allow_zero: bool = False) -> int:
    if allow_zero and value_us == 0:
        return 0
    if value_us != round(value_us):
        reasons.append(f"{name} {value_us:g} µs is not a whole number of µs")
    elif not POINT_MIN_US <= value_us <= POINT_DURATION_MAX_US:
        zero = "0 or " if allow_zero else ""
        reasons.append(
            f"{name} {value_us:g} µs is outside the device's {zero}{POINT_MIN_US}–"
            f"{POINT_DURATION_MAX_US} µs per point"
        )
    return round(value_us)


def _shape(train: PulseTrain, reasons: list[str], notes: list[str]) -> PulseShape | None:
    pulse = train.pulse
    if not isinstance(pulse, SymmetricBiphasicPulse | AsymmetricBiphasicPulse):
        reasons.append(
            f"{pulse.kind} pulses are not driven: stimwise runs the P24 only with "
            "charge-balanced biphasic pulses"
        )
        return None
    leading_us = _whole_us("phase_width_us", pulse.phase_width_us, reasons)
    gap_us = _whole_us("interphase_gap_us", pulse.interphase_gap_us, reasons, allow_zero=True)
    if isinstance(pulse, AsymmetricBiphasicPulse):
        second_width_us, ratio = pulse.second_phase_width_us, pulse.amplitude_ratio
        second_us = _whole_us("second_phase_width_us", second_width_us, reasons)
    else:
        second_width_us, ratio = pulse.phase_width_us, 1.0
        second_us = leading_us
    if pulse.leading_polarity == "alternating":
        reasons.append(
            "leading_polarity 'alternating' is not mapped: every period repeats the same point "
            "list"
        )
        return None
    notes.append(
        f"the leading phase ({pulse.leading_polarity}) is sent as "
        f"{'negative' if _LEADING_SIGN[pulse.leading_polarity] < 0 else 'positive'} current; "
        "which electrode that makes the cathode depends on the cable: check the placement"
    )
    if abs(ratio * second_width_us - pulse.phase_width_us) > 1e-6 * pulse.phase_width_us:
        reasons.append(
            f"second_phase_amplitude_ratio {ratio:g} leaves net charge: stimwise maps asymmetric "
            "pulses only as charge-balanced ones (leave the ratio out)"
        )
    return PulseShape(leading_us, gap_us, second_us, ratio, _LEADING_SIGN[pulse.leading_polarity])


def _period(
    frequency_hz: float,
    shape: PulseShape | None,
    channels: int,
    reasons: list[str],
    notes: list[str],
) -> MlChannelConfig | None:
    period_ms = 1000 / frequency_hz
    if not 0.25 <= period_ms <= PERIOD_MAX_MS:
        reasons.append(
            f"frequency_hz {frequency_hz:g} Hz needs a period of {period_ms:.4g} ms; the device "
            f"runs 0.25–{PERIOD_MAX_MS:g} ms ({1000 / PERIOD_MAX_MS:.3g}–4000 Hz)"
        )
        return None
    config = MlChannelConfig.from_ms(period_ms, (ChannelPoint.from_ma(POINT_MIN_US, 0),))
    applied_ms = config.period_ms
    if abs(applied_ms - period_ms) > RATE_NOTE_TOLERANCE * period_ms:
        notes.append(
            f"frequency_hz {frequency_hz:g} Hz runs at {1000 / applied_ms:.4g} Hz "
            f"({applied_ms:g} ms on the device's 0.25 ms grid)"
        )
    if shape is not None:
        load = channels * (shape.duration_us + PULSE_OVERHEAD_US) / applied_ms
        if load >= DUTY_LIMIT_MS_PER_S:
            reasons.append(
                f"{channels} channels of {shape.duration_us} µs pulses every {applied_ms:g} ms "
                f"need {load:.0f} ms of output per second; the device fits less than "
                f"{DUTY_LIMIT_MS_PER_S} (each pulse plus {PULSE_OVERHEAD_US} µs)"
            )
    return config
