"""Streaming sample synthesis: the prescription as current samples, in bounded memory.

Samples are produced chunk by chunk, so a whole session (hours at hundreds of kilohertz) never
has to fit in memory. Sample ``j`` stands for the interval ``[start_s + j/fs, start_s + (j+1)/fs)``.

* **Pulse trains** are rendered as the exact time-average of the current over each sample
  interval (a box filter). The charge summed from samples is therefore exact whatever the rate,
  which is what lets the tests check the sampler against the exact metrics, and a narrow phase
  between two samples is attenuated, never lost or shifted. The rendering uses a difference
  array of phase edges (each step split between the two samples around it) and its cumulative
  sum, vectorised per chunk: no Python loop per pulse, and each sample is written once.
* **Carriers** are point samples ``i(t) = −A·env(t)·am(t)·gate(t)·s(φ(t))`` of the closed-form
  carrier of :mod:`stimwise.waveform.carrier`, per channel (channels may carry a frequency offset).

The events and time functions come from :mod:`stimwise.waveform.schedule`,
:mod:`stimwise.waveform.carrier` and :mod:`stimwise.waveform.timefunctions`, the same ones the
exact metrics integrate, so samples and metrics cannot drift apart.

Current sign: positive = anodic at the channel's active electrode; cathodic first = negative first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.models import CarrierTrain, Envelope, Protocol, PulseTrain
from stimwise.protocol.prescription import Prescription, as_prescription
from stimwise.waveform.carrier import carrier_gate, carrier_phase_cycles, carrier_unit_wave
from stimwise.waveform.schedule import PulseShapeIntegrals, pulse_events
from stimwise.waveform.timefunctions import envelope_fraction, modulation_fraction, scaled_value

PULSE_SAMPLES_PER_PHASE = 2
"""Fewest samples across the shortest phase (or gap) of a pulse train: below this a phase can
fall entirely inside one sample and the samples no longer show the pulse's shape."""

CARRIER_SAMPLES_PER_CYCLE = 4
"""Fewest samples per cycle of the highest carrier frequency (twice Nyquist): point samples of a
carrier at fewer would alias into a lower frequency."""

__all__ = [
    "SampleChunk",
    "default_sample_rate_hz",
    "minimum_sample_rate_hz",
    "sample_window",
    "stream_samples",
]


@dataclass(frozen=True, eq=False)
class SampleChunk:
    """A block of consecutive samples of every channel.

    ``current_ma[c, j]`` is the current of channel ``channel_labels[c]`` over the sample interval
    starting at ``start_s + j / sample_rate_hz`` (positive = anodic at the active electrode).

    Examples
    --------
    >>> import stimwise as sw
    >>> chunk = sw.sample_window(sw.load_protocol("conventional-tens"),
    ...                          sample_rate_hz=50_000, duration_s=0.01)
    >>> chunk.channel_labels, chunk.current_ma.shape, chunk.duration_s
    (('left leg', 'right leg'), (2, 500), 0.01)
    """

    start_s: float
    sample_rate_hz: float
    channel_labels: tuple[str, ...]
    current_ma: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.current_ma.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate_hz

    def times_s(self) -> np.ndarray:
        """Start time of every sample interval."""
        return self.start_s + np.arange(self.n_samples) / self.sample_rate_hz


def minimum_sample_rate_hz(prescription: Prescription) -> float:
    """Lowest sample rate that still represents the prescription's shortest feature.

    Pulse trains need :data:`PULSE_SAMPLES_PER_PHASE` samples across the shortest phase (pulse-width
    modulation included, via ``PulseTrain.shortest_phase_us``); carriers need
    :data:`CARRIER_SAMPLES_PER_CYCLE` samples per cycle of the highest carrier frequency on any
    channel (channel offsets included).

    Examples
    --------
    A 100 µs phase needs at least two samples:

    >>> import stimwise as sw
    >>> from stimwise.waveform.sampler import minimum_sample_rate_hz
    >>> minimum_sample_rate_hz(sw.Prescription.from_protocol(sw.load_protocol("conventional-tens")))
    20000.0
    """
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        return PULSE_SAMPLES_PER_PHASE * 1e6 / waveform.shortest_phase_us
    highest_hz = max(
        waveform.highest_carrier_hz + c.carrier_frequency_offset_hz for c in prescription.channels
    )
    return CARRIER_SAMPLES_PER_CYCLE * highest_hz


MAX_STREAM_SAMPLES = 2**53
"""Longest stream, in samples per channel: sample times ``start_s + n / fs`` are exact in
double precision only up to 2^53 samples (and a longer request is a typo, e.g. 1e308 s)."""

DEFAULT_SAMPLES_PER_FEATURE = 10
"""Samples per shortest phase (pulse trains) or per highest carrier cycle (carriers) at the
default rate: enough to see every phase's shape, five times the pulse-train minimum."""

_RATE_LADDER_HZ = tuple(m * 10**e for e in range(3, 9) for m in (1, 2, 5))


def default_sample_rate_hz(prescription: Prescription) -> float:
    """A round rate (1-2-5 series, ≥ 1 kHz, whole hertz as WAV needs) with
    :data:`DEFAULT_SAMPLES_PER_FEATURE` samples per shortest phase or carrier cycle.

    Examples
    --------
    >>> import stimwise as sw
    >>> from stimwise.waveform.sampler import default_sample_rate_hz
    >>> default_sample_rate_hz(sw.Prescription.from_protocol(sw.load_protocol("conventional-tens")))
    100000.0
    """
    waveform = prescription.waveform
    if isinstance(waveform, PulseTrain):
        wanted = DEFAULT_SAMPLES_PER_FEATURE * 1e6 / waveform.shortest_phase_us
    else:
        wanted = minimum_sample_rate_hz(prescription) / CARRIER_SAMPLES_PER_CYCLE
        wanted *= DEFAULT_SAMPLES_PER_FEATURE
    wanted = max(wanted, minimum_sample_rate_hz(prescription))
    return float(next((r for r in _RATE_LADDER_HZ if r >= wanted), math.ceil(wanted)))


def _finite(path: str, value: object, expected: str = "a finite number") -> float:
    """``value`` as a finite float, or an InputError naming ``path``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise InputError(FieldProblem(path=path, value=value, expected=expected))
    return number


def _positive(path: str, value: object, expected: str) -> float:
    """``value`` as a finite positive float, or an InputError naming ``path``."""
    number = _finite(path, value, expected)
    if number <= 0:
        raise InputError(FieldProblem(path=path, value=value, expected=expected))
    return number


def check_sample_rate_hz(prescription: Prescription, sample_rate_hz: object) -> float:
    """The sample rate as a float if it can represent the prescription, else an InputError."""
    minimum = minimum_sample_rate_hz(prescription)
    what = (
        f"at least {minimum:.6g} Hz ({PULSE_SAMPLES_PER_PHASE} samples across the shortest phase)"
        if isinstance(prescription.waveform, PulseTrain)
        else f"at least {minimum:.6g} Hz ({CARRIER_SAMPLES_PER_CYCLE} samples per cycle of the "
        "highest carrier frequency)"
    )
    rate = _positive("sample_rate_hz", sample_rate_hz, what)
    if rate < minimum * (1 - 1e-12):
        raise InputError(FieldProblem(path="sample_rate_hz", value=sample_rate_hz, expected=what))
    return rate


CARRIER_BLOCK_SAMPLES = 8192
"""Carrier samples computed per block (fastest of 2k–32k on the 2-core reference machine)."""

# --------------------------------------------------------------------------- renderers


class _PulseRenderer:
    """Box-filtered samples of a pulse train (identical on every channel)."""

    def __init__(self, prescription: Prescription, steady: bool, session_s: float):
        train: PulseTrain = prescription.waveform
        self.train = train
        self.envelope: Envelope | None = None if steady else prescription.envelope
        self.session_s = None if steady else session_s
        self.amplitude_ma = prescription.max_amplitude_ma
        self.shape = PulseShapeIntegrals.of(train)
        self.longest_pulse_s = train.pulse.pulse_duration_us * 1e-6
        self.zero_ma = 1e-12 * self.amplitude_ma
        self.n_channels = len(prescription.channels)

    def edges(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and current steps (mA) of every phase edge of the pulses that overlap [t0, t1).

        A pulse that starts before ``t0`` may still be on at ``t0``: onsets are taken from one
        longest pulse duration earlier. Nothing is delivered before t = 0 or, unless steady, after
        the session ends."""
        lo = max(t0 - self.longest_pulse_s, 0.0)
        hi = t1 if self.session_s is None else min(t1, self.session_s)
        if hi <= lo:
            return np.empty(0), np.empty(0)
        events = pulse_events(self.train, self.envelope, lo, hi, self.session_s)
        if len(events) == 0:
            return np.empty(0), np.empty(0)
        shape = self.shape
        lead_ma = self.amplitude_ma * events.amplitude_fraction * events.leading_sign
        lead_end_s = events.onset_s + shape.leading_width_us * 1e-6 * events.width_fraction
        if shape.second_width_us == 0:
            times = np.concatenate([events.onset_s, lead_end_s])
            steps = np.concatenate([lead_ma, -lead_ma])
            return times, steps
        # The interphase gap is not a phase: pulse-width modulation scales the phases only.
        second_start_s = lead_end_s + shape.gap_us * 1e-6
        second_end_s = second_start_s + shape.second_width_us * 1e-6 * events.width_fraction
        second_ma = shape.second_ratio * lead_ma
        times = np.concatenate([events.onset_s, lead_end_s, second_start_s, second_end_s])
        steps = np.concatenate([lead_ma, -lead_ma, -second_ma, second_ma])
        return times, steps

    def render(self, start_s: float, first: int, n: int, fs: float, out: np.ndarray) -> None:
        t0 = start_s + first / fs
        t1 = start_s + (first + n) / fs
        times, steps = self.edges(t0, t1)
        if times.size == 0:
            out[:] = 0.0
            return
        # Position of each edge in samples from the chunk's first sample. An edge before the chunk
        # folds entirely into its first sample (its step is already in force there); one at or
        # after the chunk's end lands beyond the kept range.
        x = (times - start_s) * fs
        x -= first
        # An edge within 1e-9 sample of a sample boundary is on it: rounding of the onset times
        # must not leave 1e-12 mA slivers in the neighbouring sample.
        snapped = np.rint(x)
        x = np.where(np.abs(x - snapped) < 1e-9, snapped, x)
        np.clip(x, 0.0, float(n), out=x)
        index = x.astype(np.intp)
        after = x - index
        # The difference array is sparse (a few edges among many samples): it is kept compressed
        # (the distinct sample indices that hold an edge and the sum of what lands on each), its
        # cumulative sum is the level from each such index to the next, and np.repeat spreads
        # those levels over the samples. Identical to a dense cumulative sum (adding zeros
        # changes nothing) at the cost of writing each sample once.
        where = np.concatenate([index, index + 1])
        weight = np.concatenate([steps * (1.0 - after), steps * after])
        kept = where < n
        where, weight = where[kept], weight[kept]
        starts, slot = np.unique(where, return_inverse=True)
        level = np.cumsum(np.bincount(slot, weights=weight, minlength=starts.size))
        # Between pulses the steps sum to zero only up to rounding; make that zero exactly.
        level[np.abs(level) < self.zero_ma] = 0.0
        lengths = np.diff(starts, append=n)
        if starts.size == 0 or starts[0] > 0:
            level = np.concatenate([[0.0], level])
            lengths = np.concatenate([[n if starts.size == 0 else starts[0]], lengths])
        out[:] = np.repeat(level.astype(out.dtype), lengths)  # same on every channel


class _CarrierRenderer:
    """Point samples of a carrier, per channel (channels may carry a frequency offset)."""

    def __init__(self, prescription: Prescription, steady: bool, session_s: float):
        self.train: CarrierTrain = prescription.waveform
        self.envelope: Envelope | None = None if steady else prescription.envelope
        self.session_s = session_s
        self.amplitude_ma = prescription.max_amplitude_ma
        self.offsets_hz = [c.carrier_frequency_offset_hz for c in prescription.channels]
        self.n_channels = len(self.offsets_hz)

    def _envelope_is_one(self, t0: float, t1: float) -> bool:
        """True when ramps, on/off and the session end cannot touch [t0, t1]: skip evaluating."""
        env = self.envelope
        if env is None:
            return True
        return env.on_s is None and t0 >= env.ramp_up_s and t1 <= self.session_s - env.ramp_down_s

    def render(self, start_s: float, first: int, n: int, fs: float, out: np.ndarray) -> None:
        # Blocks small enough for the temporaries of the carrier functions to stay in cache
        # (and below the allocator's mmap threshold, so no page faults per temporary).
        for lo in range(0, n, CARRIER_BLOCK_SAMPLES):
            hi = min(n, lo + CARRIER_BLOCK_SAMPLES)
            self._render_block(start_s, first + lo, hi - lo, fs, out[:, lo:hi])

    def _render_block(self, start_s: float, first: int, n: int, fs: float, out: np.ndarray) -> None:
        train = self.train
        t = start_s + (first + np.arange(n)) / fs
        scale = np.full(n, self.amplitude_ma)
        if train.burst is not None:
            scale *= carrier_gate(train, t)
        am = train.amplitude_modulation
        if am is not None:
            scale *= scaled_value(am.low_fraction, modulation_fraction(am.shape, t, am.period_s))
        if not self._envelope_is_one(float(t[0]), float(t[-1])):
            scale *= envelope_fraction(self.envelope, t, self.session_s)
            scale *= t < self.session_s
        done: dict[float, int] = {}
        for row, offset in enumerate(self.offsets_hz):
            if offset in done:
                out[row] = out[done[offset]]
                continue
            out[row] = scale * carrier_unit_wave(train, carrier_phase_cycles(train, t, offset))
            done[offset] = row


# --------------------------------------------------------------------------- streaming


def stream_samples(
    prescription: Prescription | Protocol,
    *,
    sample_rate_hz: float,
    duration_s: float | None = None,
    start_s: float = 0.0,
    chunk_s: float = 1.0,
    steady: bool = False,
    dtype: npt.DTypeLike = np.float32,
) -> Iterator[SampleChunk]:
    """Stream the prescription's current as :class:`SampleChunk` blocks of about ``chunk_s``.

    Parameters
    ----------
    prescription
        What to render. Samples are a view of the description; rendering needs no verification
        (outputs that reach a person or a file go through ``safety.verify()`` first).
    sample_rate_hz
        Must represent the shortest feature (see :func:`minimum_sample_rate_hz`); a lower rate is
        refused rather than silently aliased.
    duration_s
        Length to render; default the rest of the session from ``start_s``.
    start_s
        Time of the first sample from the start of the session.
    chunk_s
        Length of each chunk; memory use is proportional to it, not to ``duration_s``.
    steady
        Ignore the envelope (ramps, on/off, session end) so that steady-state metrics can be
        measured on the samples; otherwise the envelope applies, with the session's final
        ramp-down, and nothing starts after the session's end (later samples are zero).
    dtype
        Floating dtype of the returned samples (computed in float64).

    Arguments are checked before anything is rendered: a bad one raises :class:`InputError` at
    the call, not at the first chunk. A protocol is rendered at its defaults.

    Examples
    --------
    Three seconds at 50 kHz, one second at a time (a whole session streams the same way, in
    constant memory):

    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(sw.load_protocol("conventional-tens"))
    >>> chunks = stream_samples(rx, sample_rate_hz=50_000, duration_s=3.0, chunk_s=1.0)
    >>> [chunk.n_samples for chunk in chunks]
    [50000, 50000, 50000]
    """
    prescription = as_prescription(prescription, function="stream_samples")
    fs = check_sample_rate_hz(prescription, sample_rate_hz)
    session_s = prescription.session_duration_min * 60.0
    start = _finite("start_s", start_s)
    if start < 0:
        raise InputError(FieldProblem("start_s", start_s, "a time ≥ 0 s from the session start"))
    if duration_s is None:
        if start >= session_s:
            raise InputError(
                FieldProblem("start_s", start_s, f"before the session end ({session_s:g} s)")
            )
        duration = session_s - start
    else:
        duration = _positive("duration_s", duration_s, "a duration > 0 s")
    if duration * fs > MAX_STREAM_SAMPLES:
        raise InputError(FieldProblem(
            "duration_s", duration_s,
            f"at most {MAX_STREAM_SAMPLES / fs:.6g} s at {fs:g} Hz (2^53 samples: beyond that the "
            "sample times lose precision)",
        ))
    chunk = _positive("chunk_s", chunk_s, "a chunk length > 0 s")
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        out_dtype = np.dtype(object)
    if out_dtype.kind != "f":
        raise InputError(FieldProblem("dtype", str(dtype), "a floating-point dtype"))
    renderer = (
        _PulseRenderer(prescription, steady, session_s)
        if isinstance(prescription.waveform, PulseTrain)
        else _CarrierRenderer(prescription, steady, session_s)
    )
    labels = tuple(c.label for c in prescription.channels)
    total = sample_count(fs, duration)
    per_chunk = sample_count(fs, chunk)
    return _chunks(renderer, labels, start, fs, total, per_chunk, out_dtype)


def sample_count(sample_rate_hz: float, duration_s: float) -> int:
    """Samples in a stream of ``duration_s`` (rounded to whole samples, at least one)."""
    return max(1, round(duration_s * sample_rate_hz))


def _chunks(
    renderer: _PulseRenderer | _CarrierRenderer,
    labels: tuple[str, ...],
    start_s: float,
    fs: float,
    total: int,
    per_chunk: int,
    dtype: np.dtype,
) -> Iterator[SampleChunk]:
    for first in range(0, total, per_chunk):
        n = min(per_chunk, total - first)
        out = np.empty((renderer.n_channels, n), dtype=dtype)
        renderer.render(start_s, first, n, fs, out)
        yield SampleChunk(
            start_s=start_s + first / fs,
            sample_rate_hz=fs,
            channel_labels=labels,
            current_ma=out,
        )


def sample_window(
    prescription: Prescription | Protocol,
    *,
    sample_rate_hz: float,
    duration_s: float,
    start_s: float = 0.0,
    steady: bool = False,
    dtype: npt.DTypeLike = np.float64,
) -> SampleChunk:
    """A short window as one chunk (for plots and analysis); memory grows with ``duration_s``.

    The arguments are those of :func:`stream_samples` (a protocol is sampled at its
    defaults); for long spans stream instead.

    Returns
    -------
    SampleChunk
        ``current_ma`` has one row per channel (mA; positive = anodic at the active
        electrode).

    Examples
    --------
    The charge of the 100 µs leading phase at 30 mA, from the samples (exact at any rate: each
    sample is the mean current over its interval):

    >>> import stimwise as sw
    >>> chunk = sw.sample_window(sw.load_protocol("conventional-tens"),
    ...                          sample_rate_hz=100_000, duration_s=0.01, steady=True)
    >>> cathodic_uc = -chunk.current_ma[chunk.current_ma < 0].sum() / chunk.sample_rate_hz * 1e3
    >>> round(float(cathodic_uc), 6)  # one pulse per channel in 10 ms: 2 × 30 mA × 100 µs
    6.0
    """
    prescription = as_prescription(prescription, function="sample_window")
    return next(
        stream_samples(
            prescription,
            sample_rate_hz=sample_rate_hz,
            duration_s=duration_s,
            start_s=start_s,
            chunk_s=duration_s,
            steady=steady,
            dtype=dtype,
        )
    )
