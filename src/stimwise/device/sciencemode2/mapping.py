"""From a prescription to RehaStim 2 channel-list parameters, or every reason it cannot be done.

A pure function, :func:`map_prescription`, so the rules can be tested exhaustively without a
port. The RehaStim 2 runs one channel list (spec §3): every active channel fires the same pulse
group (single, doublet or triplet, spaced by t2) once per main interval t1, each channel in its
own 1.5 ms slot. The pulse is always rectangular, symmetric and charge-balanced biphasic with a
fixed 100 µs pause between the phases (spec §1). What maps, and how:

* **Channels.** The plan's channels, in plan order, become device channels 1..n (at most 8).
* **Pulse.** Only ``biphasic_symmetric``. ``phase_width_us`` → the pulse-width field (20–500 µs,
  whole µs; taken as the width of each phase, as pyScienceMode does). ``interphase_gap_us`` may
  be 100 (what the device does) or 0 (the device inserts its 100 µs anyway; charge balance is
  unchanged), nothing else. ``alternating`` polarity cannot be commanded; the leading polarity of
  the others follows the cable orientation.
* **Rate.** Without bursts, t1 = 1 / ``frequency_hz``. With bursts of 2 or 3 pulses, the pulses
  of a group are t2 = 1 / ``frequency_hz`` apart and groups repeat at t1 = 1 /
  ``burst_frequency_hz``. Intervals are rounded to the device's 0.5 ms grid (a note says so
  when that moves the rate by more than 0.5 %).
* **Limits.** t1 from max(8 ms, n × 1.5 ms) to 1025 ms, i.e. about 0.98–125 Hz with up to 5
  channels. This is the firmware's interval range (8 ms floor, spec §3), wider than the spec's
  stated 1–50 Hz and Hasomed's "up to 40 Hz with all 8 channels" (fact sheet §3, open point
  §12): stimwise refuses only what the device cannot encode or time. t2 from 8 ms (firmware
  floor; the spec's code starts at 1.5 ms) to 129 ms, and t1 ≥ pulses per group × t2.
* **Amplitude.** The plan's maximum must not exceed 130 mA (spec; Hasomed's README says 126 mA
  in 2 mA steps, open point §12). The session sets the amplitude by updates; ramps and the
  on/off envelope are the session's, so they need nothing here.
* **Refused outright:** carriers, monophasic and asymmetric pulses, and every modulation
  (frequency, amplitude, pulse width): channel-list mode has one fixed t1, and this driver sends
  only amplitude updates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from stimwise.device.amplitudes import quantised_currents
from stimwise.device.interface import Capabilities, DeviceRefusalError
from stimwise.device.sciencemode2.payloads import (
    CHANNELS,
    CURRENT_MAX_MA,
    FIRMWARE_MIN_INTERVAL_MS,
    FIRMWARE_MIN_PULSE_WIDTH_US,
    PULSE_WIDTH_MAX_US,
    SLOT_MS,
    T1_CODE_MAX,
    T2_CODE_MAX,
    ChannelSettings,
    InitChannelListMode,
    PulseMode,
    StartChannelListMode,
    t1_ms_from_code,
    t2_ms_from_code,
)
from stimwise.protocol.models import PulseTrain, SymmetricBiphasicPulse
from stimwise.protocol.prescription import Prescription

DEVICE_NAME = "Hasomed RehaStim 2 (ScienceMode2)"
INTERPHASE_PAUSE_US = 100
"""The device's fixed pause between the two phases of every pulse (spec §1)."""
T1_MAX_MS = t1_ms_from_code(T1_CODE_MAX)
T2_MAX_MS = t2_ms_from_code(T2_CODE_MAX)
RATE_NOTE_TOLERANCE = 0.005
"""Rounding t1 to the 0.5 ms grid that moves a rate by more than this fraction gets a note."""
_GROUP_MODES = {1: PulseMode.SINGLE, 2: PulseMode.DOUBLET, 3: PulseMode.TRIPLET}

CAPABILITIES = Capabilities(
    name=DEVICE_NAME,
    channels=CHANNELS,
    current_range_ma=(0.0, float(CURRENT_MAX_MA)),
    current_step_ma=1.0,
    pulse_width_range_us=(float(FIRMWARE_MIN_PULSE_WIDTH_US), float(PULSE_WIDTH_MAX_US)),
    pulse_width_step_us=1.0,
    frequency_range_hz=(1000 / T1_MAX_MS, 1000 / FIRMWARE_MIN_INTERVAL_MS),
    pulse_kinds=frozenset({"biphasic_symmetric"}),
    carriers=False,
    timing="device",
    compliance_voltage_v=None,
)
"""What the RehaStim 2 can deliver. The current step is the protocol's 1 mA byte; Hasomed's
README says the output moves in 2 mA steps (fact sheet §3). The frequency range is the widest
(one channel); more channels raise the lower bound of t1 (see the module docstring)."""


@dataclass(frozen=True)
class ChannelListPlan:
    """A plan as the RehaStim 2 will run it.

    Attributes
    ----------
    labels
        Plan channel labels; ``labels[i]`` is device channel ``i + 1``.
    init
        The InitChannelListMode that loads the timing.
    mode, pulse_width_us
        The pulse group and pulse width of every channel.
    max_current_ma
        The highest current an update may ask for: the plan's maximum, capped at 130 mA.
    notes
        What the device does differently from the plan's description without changing the dose
        (its interphase pause, polarity by cabling, rate rounding): logged at ``configure``.
    """

    labels: tuple[str, ...]
    init: InitChannelListMode
    mode: PulseMode
    pulse_width_us: int
    max_current_ma: float
    notes: tuple[str, ...]

    @property
    def group_rate_hz(self) -> float:
        """Pulse groups per second as applied (1 / t1)."""
        t1_ms = self.init.t1_ms
        assert t1_ms is not None  # map_prescription never selects one-shot mode
        return 1000 / t1_ms

    def device_channel(self, label: str) -> int:
        return self.labels.index(label) + 1

    def channel_list(self, currents_ma: Mapping[str, int]) -> StartChannelListMode:
        """StartChannelListMode with ``currents_ma[label]`` on every channel, in channel order."""
        return StartChannelListMode(
            tuple(
                ChannelSettings(self.mode, self.pulse_width_us, currents_ma[label])
                for label in self.labels
            )
        )

    def currents(
        self, amplitudes_ma: Mapping[str, object], previous_ma: Mapping[str, float]
    ) -> dict[str, int]:
        """Every channel's current after setting the channels named in ``amplitudes_ma``.

        Values are floored to whole mA, so the device never delivers more than asked; channels
        not named keep ``previous_ma``.

        Raises
        ------
        InputError
            Every unknown label and every value that is not a number of mA from 0 to
            :attr:`max_current_ma`; nothing is applied.
        """
        chosen = quantised_currents(
            amplitudes_ma,
            previous_ma,
            labels=self.labels,
            max_ma=self.max_current_ma,
            step_ma=1.0,
            device_max_ma=CURRENT_MAX_MA,
        )
        return {label: round(ma) for label, ma in chosen.items()}

    def describe(self) -> dict[str, object]:
        """The applied parameters, for the ``applied`` event at ``configure`` (the audit)."""
        return {
            "channels": {label: self.device_channel(label) for label in self.labels},
            "group": self.mode.name.lower(),
            "t1_ms": self.init.t1_ms,
            "t2_ms": self.init.t2_ms,
            "group_rate_hz": round(self.group_rate_hz, 4),
            "pulse_width_us": self.pulse_width_us,
            "interphase_pause_us": INTERPHASE_PAUSE_US,
            "max_current_ma": self.max_current_ma,
        }


def map_prescription(prescription: Prescription) -> ChannelListPlan:
    """The channel-list parameters for ``prescription``.

    Raises
    ------
    DeviceRefusalError
        Listing every reason the RehaStim 2 cannot deliver it (HAZ-029), all at once.
    """
    reasons = _channel_reasons(prescription) + _amplitude_reasons(prescription)
    notes: list[str] = []
    wave = prescription.waveform
    if not isinstance(wave, PulseTrain):
        reasons.append(
            f"{wave.shape} carrier waveforms cannot be produced: the RehaStim 2 delivers only "
            "rectangular biphasic pulses"
        )
        raise DeviceRefusalError(reasons)
    reasons += _pulse_reasons(wave, notes)
    reasons += _modulation_reasons(wave)
    group = 1 if wave.burst is None else wave.burst.pulses_per_burst
    if group not in _GROUP_MODES:
        reasons.append(
            f"bursts of {group} pulses cannot be produced: the device groups at most 3 pulses "
            "(doublets and triplets)"
        )
    timing = _timing(wave, len(prescription.channels), reasons, notes)
    if reasons or timing is None:
        raise DeviceRefusalError(reasons)
    return ChannelListPlan(
        labels=tuple(c.label for c in prescription.channels),
        init=timing,
        mode=_GROUP_MODES[group],
        pulse_width_us=round(wave.pulse.phase_width_us),
        max_current_ma=min(prescription.max_amplitude_ma, float(CURRENT_MAX_MA)),
        notes=tuple(notes),
    )


def _channel_reasons(prescription: Prescription) -> list[str]:
    count = len(prescription.channels)
    if count <= CHANNELS:
        return []
    return [f"the plan has {count} channels; the RehaStim 2 has {CHANNELS}"]


def _amplitude_reasons(prescription: Prescription) -> list[str]:
    if prescription.max_amplitude_ma <= CURRENT_MAX_MA:
        return []
    return [
        f"max_amplitude_ma {prescription.max_amplitude_ma:g} mA is above the device's "
        f"{CURRENT_MAX_MA} mA"
    ]


def _pulse_reasons(train: PulseTrain, notes: list[str]) -> list[str]:
    pulse = train.pulse
    reasons = []
    width_us = pulse.phase_width_us
    if width_us != math.floor(width_us):
        reasons.append(f"phase_width_us {width_us:g} µs is not a whole number of µs")
    if not FIRMWARE_MIN_PULSE_WIDTH_US <= width_us <= PULSE_WIDTH_MAX_US:
        reasons.append(
            f"phase_width_us {width_us:g} µs is outside the device's "
            f"{FIRMWARE_MIN_PULSE_WIDTH_US}–{PULSE_WIDTH_MAX_US} µs"
        )
    if not isinstance(pulse, SymmetricBiphasicPulse):
        reasons.append(
            f"{pulse.kind} pulses cannot be produced: the device makes only symmetric, "
            "charge-balanced biphasic pulses"
        )
        return reasons
    gap_us = pulse.interphase_gap_us
    if gap_us == 0:
        notes.append(
            f"the device puts its fixed {INTERPHASE_PAUSE_US} µs pause between the phases "
            "(the plan gives 0 µs); the charge per phase is unchanged"
        )
    elif gap_us != INTERPHASE_PAUSE_US:
        reasons.append(
            f"interphase_gap_us {gap_us:g} µs cannot be set: the device's pause between the "
            f"phases is fixed at {INTERPHASE_PAUSE_US} µs (give {INTERPHASE_PAUSE_US}, or 0 to "
            "accept it)"
        )
    if pulse.leading_polarity == "alternating":
        reasons.append(
            "leading_polarity 'alternating' cannot be produced: the device cannot alternate the "
            "polarity from pulse to pulse"
        )
    else:
        notes.append(
            f"the leading phase's polarity ({pulse.leading_polarity}) follows the cable "
            "orientation, not a command: check which electrode is on which pole"
        )
    return reasons


def _modulation_reasons(train: PulseTrain) -> list[str]:
    why = {
        "frequency": "channel-list mode runs one fixed interval t1, and changing it needs a stop "
        "and a new InitChannelListMode",
        "amplitude": "the device has no amplitude modulation and the session sends only the "
        "envelope's ramps and on/off",
        "pulse_width": "the device has no pulse-width modulation and this driver sends only "
        "amplitude updates",
    }
    return [
        f"{m.parameter.replace('_', '-')} modulation ({m.shape}, period {m.period_s:g} s) cannot "
        f"be represented: {why[m.parameter]}"
        for m in train.modulations
    ]


def _timing(
    train: PulseTrain, channels: int, reasons: list[str], notes: list[str]
) -> InitChannelListMode | None:
    """The InitChannelListMode for ``train`` on ``channels`` channels, or ``None`` after adding
    to ``reasons`` why the device cannot time it."""
    found = []
    t1_floor_ms = max(FIRMWARE_MIN_INTERVAL_MS, channels * SLOT_MS)
    if train.burst is None:
        what, rate_hz, t2_ms = "frequency_hz", train.frequency_hz, FIRMWARE_MIN_INTERVAL_MS
    else:
        what, rate_hz = "burst_frequency_hz", train.burst.burst_frequency_hz
        t2_ms = 1000 / train.frequency_hz
        if not FIRMWARE_MIN_INTERVAL_MS <= t2_ms <= T2_MAX_MS:
            found.append(
                f"frequency_hz {train.frequency_hz:g} Hz inside a burst needs pulses "
                f"{t2_ms:.4g} ms apart; the device spaces a doublet's or triplet's pulses "
                f"{FIRMWARE_MIN_INTERVAL_MS:g}–{T2_MAX_MS:g} ms apart "
                f"({1000 / T2_MAX_MS:.3g}–{1000 / FIRMWARE_MIN_INTERVAL_MS:g} Hz)"
            )
    t1_ms = 1000 / rate_hz
    if not t1_floor_ms <= t1_ms <= T1_MAX_MS:
        floor_why = (
            f"{channels} channels × {SLOT_MS:g} ms slots"
            if channels * SLOT_MS > FIRMWARE_MIN_INTERVAL_MS
            else "the firmware's minimum"
        )
        found.append(
            f"{what} {rate_hz:g} Hz needs a main interval t1 of {t1_ms:.4g} ms; the device runs "
            f"t1 from {t1_floor_ms:g} ms ({floor_why}) to {T1_MAX_MS:g} ms, i.e. "
            f"{1000 / T1_MAX_MS:.3g}–{1000 / t1_floor_ms:.4g} Hz"
        )
    reasons += found
    if reasons:
        return None
    init = InitChannelListMode.from_ms(t1_ms=t1_ms, t2_ms=t2_ms, channels=range(1, channels + 1))
    applied_t1_ms = init.t1_ms
    assert applied_t1_ms is not None  # t1_ms is given
    group = 1 if train.burst is None else train.burst.pulses_per_burst
    if applied_t1_ms < group * init.t2_ms:
        reasons.append(
            f"on the device's 0.5 ms grid a group of {group} pulses {init.t2_ms:g} ms apart no "
            f"longer fits the interval t1 = {applied_t1_ms:g} ms"
        )
        return None
    rounded = [(what, rate_hz, t1_ms, applied_t1_ms)]
    if group > 1:
        rounded.append(("frequency_hz", train.frequency_hz, t2_ms, init.t2_ms))
    notes.extend(
        f"{name} {planned_hz:g} Hz runs at {1000 / applied_ms:.4g} Hz ({applied_ms:g} ms on the "
        "device's 0.5 ms grid)"
        for name, planned_hz, planned_ms, applied_ms in rounded
        if abs(applied_ms - planned_ms) > RATE_NOTE_TOLERANCE * planned_ms
    )
    return init
