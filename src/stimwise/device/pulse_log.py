"""A log of what a stimulator actually delivered, kept as constant-amplitude segments.

A session at 100 Hz fires 180,000 pulses in half an hour and a kilohertz carrier millions of
cycles, so the log stores segments (start, end, channel, amplitude, rate, phase width) and expands
them to pulse onsets only when asked, analytically from the plan's waveform. That is how a test
or a benchmark proves that no pulse followed a stop without storing every pulse.

What counts as one "pulse":

* pulse trains: each pulse of the schedule (``waveform.schedule.steady_onsets``: bursts and
  frequency modulation included), ``rate_hz`` being the train's ``frequency_hz``;
* burst-gated carriers: each burst, at ``burst_frequency_hz``, lasting ``burst_duration_ms``;
* continuous carriers: each carrier cycle, evenly spaced at the mean carrier frequency (channel
  offset included; for a sweep the count is exact over whole sweep periods, the spacing is not).

Onsets are counted from the segment's ``origin_s``, the time output started: changing the
amplitude does not restart the pulse generator.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from stimwise.device.electrode_model import Phase
from stimwise.protocol.models import (
    AsymmetricBiphasicPulse,
    CarrierTrain,
    Channel,
    PulseTrain,
)
from stimwise.waveform.carrier import mean_carrier_frequency_hz
from stimwise.waveform.schedule import PulseShapeIntegrals, pulse_events, steady_onsets
from stimwise.waveform.window import steady_window_s

_ONSET_TOLERANCE = 1e-9
"""In pulse periods: an onset this close to a bound counts as on it (float rounding)."""


@dataclass(frozen=True)
class ChannelOutput:
    """What one channel of a plan fires, reduced to what the log and the load model need."""

    waveform: PulseTrain | CarrierTrain
    rate_hz: float
    """Onset rate of a pulse (see the module notes for bursts and carriers)."""
    pulse_s: float
    """Duration of one pulse (phases and gap; a carrier cycle or burst)."""
    phase_width_us: float
    """Width of the leading phase (carrier: a half-cycle at the lowest carrier frequency)."""
    phases: tuple[Phase, ...]
    """Rectangular phases as (fraction of the amplitude, width µs) for the compliance check. Each
    is judged as if C_p started discharged, and a sine carrier's half-cycle as if rectangular:
    both over-state the voltage (a symmetric pulse's second phase starts on a charge that its
    reversed current first removes, so the leading phase stands for both)."""
    charge_rate_uc_per_s_per_ma: float
    """Long-run mean of |i| per mA of amplitude (µC/s): ∫|i|dt of every phase, modulations
    included, averaged over the waveform's steady window."""

    @classmethod
    def of(cls, waveform: PulseTrain | CarrierTrain, channel: Channel) -> ChannelOutput:
        if isinstance(waveform, PulseTrain):
            return cls._of_train(waveform)
        return cls._of_carrier(waveform, channel.carrier_frequency_offset_hz)

    @classmethod
    def _of_train(cls, train: PulseTrain) -> ChannelOutput:
        pulse = train.pulse
        phases: tuple[Phase, ...] = ((1.0, pulse.phase_width_us),)
        if isinstance(pulse, AsymmetricBiphasicPulse):
            phases += ((pulse.amplitude_ratio, pulse.second_phase_width_us),)
        window_s = steady_window_s(train)
        events = pulse_events(train, None, 0.0, window_s)
        weight_per_s = float(np.sum(events.amplitude_fraction * events.width_fraction)) / window_s
        shape = PulseShapeIntegrals.of(train)
        charge_us = shape.leading_width_us + shape.second_ratio * shape.second_width_us
        return cls(
            waveform=train,
            rate_hz=train.frequency_hz,
            pulse_s=pulse.pulse_duration_us * 1e-6,
            phase_width_us=pulse.phase_width_us,
            phases=phases,
            charge_rate_uc_per_s_per_ma=weight_per_s * charge_us * 1e-3,
        )

    @classmethod
    def _of_carrier(cls, train: CarrierTrain, offset_hz: float) -> ChannelOutput:
        half_cycle_us = 1e6 / (2 * (train.lowest_carrier_hz + offset_hz))
        mean_abs = 2 / math.pi if train.shape == "sine" else 1.0
        am = train.amplitude_modulation
        am_mean = am.low_fraction + (1 - am.low_fraction) / 2 if am is not None else 1.0
        if train.burst is not None:
            rate_hz = train.burst.burst_frequency_hz
            pulse_s = train.burst.burst_duration_ms / 1000
            duty = pulse_s * rate_hz
        else:
            rate_hz = mean_carrier_frequency_hz(train, offset_hz)
            pulse_s = 1 / rate_hz
            duty = 1.0
        return cls(
            waveform=train,
            rate_hz=rate_hz,
            pulse_s=pulse_s,
            phase_width_us=half_cycle_us,
            phases=((1.0, half_cycle_us),),
            charge_rate_uc_per_s_per_ma=mean_abs * am_mean * duty * 1e3,
        )

    def onsets_s(self, t0_s: float, t1_s: float) -> np.ndarray:
        """Pulse onsets in [t0_s, t1_s), in seconds since output started."""
        if isinstance(self.waveform, PulseTrain):
            return steady_onsets(self.waveform, t0_s, t1_s)[0]
        r = self.rate_hz
        first = math.ceil(t0_s * r - _ONSET_TOLERANCE)
        last = math.ceil(t1_s * r - _ONSET_TOLERANCE)
        return np.arange(first, last, dtype=np.int64) / r

    @property
    def longest_gap_s(self) -> float:
        """An upper bound on the time between two onsets (bursts and slow FM included)."""
        gaps = [1 / self.rate_hz]
        if isinstance(self.waveform, PulseTrain):
            if self.waveform.burst is not None:
                gaps.append(1 / self.waveform.burst.burst_frequency_hz)
            fm = self.waveform.frequency_modulation
            if fm is not None:
                gaps.append(1 / fm.low_frequency_hz)
        return max(gaps)


@dataclass(frozen=True)
class Segment:
    """Output of one channel at one constant amplitude; ``t_end_s`` is ``None`` while it lasts."""

    channel: str
    t_start_s: float
    t_end_s: float | None
    amplitude_ma: float
    rate_hz: float
    phase_width_us: float
    origin_s: float
    """When output started: onsets fall at origin_s + the waveform's schedule."""


class PulseLog:
    """Thread-safe record of delivered output; ``clock`` closes still-open segments at "now"."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[tuple[Segment, ChannelOutput]] = []
        self._open: dict[str, int] = {}

    def begin(
        self, channel: str, output: ChannelOutput, t_s: float, amplitude_ma: float, origin_s: float
    ) -> None:
        """Open a segment (ending the channel's open one at the same time)."""
        segment = Segment(
            channel, t_s, None, amplitude_ma, output.rate_hz, output.phase_width_us, origin_s
        )
        with self._lock:
            self._end(channel, t_s)
            self._open[channel] = len(self._entries)
            self._entries.append((segment, output))

    def end(self, channel: str, t_s: float) -> None:
        with self._lock:
            self._end(channel, t_s)

    def end_all(self, t_s: float) -> None:
        with self._lock:
            for channel in list(self._open):
                self._end(channel, t_s)

    def _end(self, channel: str, t_s: float) -> None:
        index = self._open.pop(channel, None)
        if index is not None:
            segment, output = self._entries[index]
            self._entries[index] = (replace(segment, t_end_s=t_s), output)

    def segments(self, channel: str | None = None) -> tuple[Segment, ...]:
        """Segments in the order they began, of one channel or of all."""
        with self._lock:
            return tuple(s for s, _ in self._entries if channel in (None, s.channel))

    def _closed_entries(self, channel: str | None) -> list[tuple[Segment, ChannelOutput, float]]:
        """(segment, output, end time) with open segments ending now."""
        with self._lock:
            entries = list(self._entries)
        now = self._clock()
        return [
            (s, out, now if s.t_end_s is None else s.t_end_s)
            for s, out in entries
            if channel in (None, s.channel)
        ]

    def pulses(self, channel: str, t0_s: float = -math.inf, t1_s: float = math.inf) -> np.ndarray:
        """Onsets (clock seconds) of every pulse delivered on ``channel`` with onset in
        [t0_s, t1_s). Expanding a long kilohertz segment allocates one float per cycle."""
        found = [np.empty(0)]
        for segment, output, end_s in self._closed_entries(channel):
            lo, hi = max(t0_s, segment.t_start_s), min(t1_s, end_s)
            if lo < hi:
                origin = segment.origin_s
                found.append(origin + output.onsets_s(lo - origin, hi - origin))
        return np.concatenate(found)

    def last_pulse_time_s(self, channel: str | None = None) -> float | None:
        """End of the last delivered pulse (cut short where its segment ended), or ``None``.

        Searches back from each segment's end over windows that double, so a long segment is
        never expanded whole.
        """
        latest: float | None = None
        for segment, output, end_s in self._closed_entries(channel):
            origin = segment.origin_s
            span_s = 2 * output.longest_gap_s
            while True:
                lo = max(segment.t_start_s, end_s - span_s)
                onsets = output.onsets_s(lo - origin, end_s - origin)
                if onsets.size or lo <= segment.t_start_s:
                    break
                span_s *= 2
            if onsets.size:
                pulse_end = min(origin + float(onsets[-1]) + output.pulse_s, end_s)
                latest = pulse_end if latest is None else max(latest, pulse_end)
        return latest

    def delivered_charge_uc(self, channel: str) -> float:
        """Charge ∫|i|dt delivered on ``channel`` (µC): each segment's amplitude × duration ×
        the waveform's mean |i| per mA (exact over whole waveform periods; within one pulse's
        charge at each segment edge)."""
        return sum(
            segment.amplitude_ma * output.charge_rate_uc_per_s_per_ma * (end_s - segment.t_start_s)
            for segment, output, end_s in self._closed_entries(channel)
        )
