"""The streaming sampler agrees with the exact metrics, streams in bounded memory and refuses
sample rates that cannot represent the waveform.

The metrics are the reference ("exact first, sampled second"): every figure below is measured on
the samples alone (runs of one sign are phases; their sums are charges) and compared with
``compute_metrics`` within 0.5 %.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from builders import (
    asymmetric_pulse,
    carrier,
    channel_dict,
    make_prescription,
    monophasic_pulse,
    pulse_train,
    symmetric_pulse,
)
from stimwise.errors import InputError
from stimwise.protocol.models import MonophasicPulse, PulseTrain
from stimwise.waveform.metrics import compute_metrics
from stimwise.waveform.sampler import (
    SampleChunk,
    minimum_sample_rate_hz,
    sample_window,
    stream_samples,
)
from stimwise.waveform.window import steady_window_s

REL_TOL = 0.005
SAMPLES_PER_SHORTEST_PHASE = 400
"""Box-filter r.m.s. error shrinks as 1/N; 400 samples keep it well inside 0.5 %."""

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------- measuring samples


def _runs(x: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of every run of samples of one sign (|x| ≤ tol counts as zero)."""
    sign = np.where(x > tol, 1, np.where(x < -tol, -1, 0)).astype(np.int8)
    edges = np.flatnonzero(np.diff(sign)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [x.size]))
    keep = sign[starts] != 0
    return starts[keep], ends[keep]


def _run_sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    total = np.concatenate(([0.0], np.cumsum(values)))
    return total[ends] - total[starts]


def _close(measured: float, exact: float, scale: float | None = None) -> bool:
    """|measured − exact| ≤ 0.5 % of |exact| (or of ``scale`` when that is larger)."""
    reference = max(abs(exact), scale or 0.0)
    return abs(measured - exact) <= REL_TOL * reference + 1e-12


class _PulseFigures:
    """Per-pulse figures measured on one channel of box-filtered samples.

    Pulses that start before ``window_s`` belong to the window; the render runs one pulse
    duration beyond it so that the last of them is complete."""

    def __init__(self, x: np.ndarray, fs: float, window_s: float, biphasic: bool, amplitude_ma):
        starts, ends = _runs(x, 1e-9 * amplitude_ma)
        charge = _run_sums(x, starts, ends) / fs
        square = _run_sums(x * x, starts, ends) / fs
        if biphasic:
            pairs = len(starts) // 2
            lead = charge[0 : 2 * pairs : 2]
            second = charge[1 : 2 * pairs : 2]
            net = lead + second
            sq = square[0 : 2 * pairs : 2] + square[1 : 2 * pairs : 2]
            onset = starts[0 : 2 * pairs : 2]
        else:
            lead, second, net, sq, onset = charge, np.zeros_like(charge), charge, square, starts
        # Sub-sample onset from the samples: the first sample of a phase holds the fraction of
        # its interval that the phase covers.
        onset_s = (onset + 1 - x[onset] / x[onset + 1]) / fs
        inside = onset_s < window_s - 1e-7
        self.window_s = window_s
        self.lead_mas = lead[inside]
        self.second_mas = second[inside]
        self.net_mas = net[inside]
        self.square_ma2s = sq[inside]

    @property
    def charge_per_phase_uc(self) -> float:
        """The largest phase's charge (an explicit asymmetric ratio can make it the second)."""
        largest = max(np.max(np.abs(self.lead_mas)), np.max(np.abs(self.second_mas)))
        return float(largest) * 1e3

    @property
    def net_charge_per_pulse_uc(self) -> float:
        return float(np.max(np.abs(self.net_mas))) * 1e3

    @property
    def dc_current_ua(self) -> float:
        return float(np.sum(self.net_mas)) / self.window_s * 1e3

    @property
    def rms_ma(self) -> float:
        return math.sqrt(float(np.sum(self.square_ma2s)) / self.window_s)

    @property
    def pulses_per_second(self) -> float:
        return len(self.lead_mas) / self.window_s


# --------------------------------------------------------------------------- strategies

_SHAPES = st.sampled_from(["sine", "triangle", "alternate"])


@st.composite
def pulse_prescriptions(draw):
    """Valid pulse-train prescriptions whose shortest phase is ≥ 1 ms and window ≤ 2 s.

    Every pulse kind, bursts, frequency / amplitude / pulse-width modulation, alternating
    polarity, polarity reversal and on/off envelopes with ramps."""
    kind = draw(st.sampled_from(["monophasic", "symmetric", "asymmetric"]))
    pwm_low = draw(st.none() | st.floats(0.5, 0.9))
    min_phase_us = 1000.0 / (pwm_low or 1.0)
    lead_us = draw(st.floats(min_phase_us, min_phase_us + 2000.0))
    gap_us = draw(st.sampled_from([0.0, 0.0, 1000.0, 1500.0]))
    polarity = draw(st.sampled_from(["cathodic", "anodic", "alternating"]))
    if kind == "monophasic":
        reversal = draw(st.none() | st.sampled_from([0.25, 0.5, 1.0]))
        pulse = monophasic_pulse(
            lead_us,
            polarity="anodic" if polarity == "anodic" else "cathodic",
            polarity_reversal_interval_s=reversal,
        )
        duration_us = lead_us
    elif kind == "symmetric":
        pulse = symmetric_pulse(lead_us, interphase_gap_us=gap_us, leading_polarity=polarity)
        duration_us = 2 * lead_us + gap_us
    else:
        second_us = lead_us * draw(st.floats(1.0, 4.0))
        ratio = draw(st.none() | st.floats(0.2, 1.0))
        pulse = asymmetric_pulse(
            lead_us, second_us, ratio=ratio, interphase_gap_us=gap_us, leading_polarity=polarity
        )
        duration_us = lead_us + gap_us + second_us
    max_hz = max(2, math.floor(0.8e6 / duration_us))
    frequency_hz = draw(st.integers(2, min(max_hz, 120)))
    mode = draw(st.sampled_from(["plain", "burst", "fm"]))
    burst = {}
    modulations = []
    if mode == "burst":
        burst_hz = draw(st.sampled_from([1, 2, 4, 5]))
        per_burst = draw(st.integers(2, 6))
        assume(per_burst / frequency_hz <= 0.8 / burst_hz)
        burst = {"pulses_per_burst": per_burst, "burst_frequency_hz": burst_hz}
    elif mode == "fm":
        assume(frequency_hz >= 3)
        low_hz = draw(st.integers(2, frequency_hz - 1))
        modulations.append(
            {
                "parameter": "frequency",
                "shape": draw(_SHAPES),
                "period_s": draw(st.sampled_from([0.5, 1.0, 2.0])),
                "low_frequency_hz": low_hz,
            }
        )
    # A step ("alternate") in amplitude or width exactly at a frequency-modulated onset is taken
    # before or after it by the last bit of that Newton root, differently for each query
    # interval, and an amplitude sweep down to 0 leaves such a pulse at 1e-16 instead of 0
    # (counted, yet invisible): with frequency modulation the other sweeps are continuous and
    # keep some amplitude.
    other_shapes = _SHAPES if mode != "fm" else st.sampled_from(["sine", "triangle"])
    am_low = st.floats(0.05, 0.9) if mode == "fm" else st.just(0.0) | st.floats(0.05, 0.9)
    if draw(st.booleans()):
        modulations.append(
            {
                "parameter": "amplitude",
                "shape": draw(other_shapes),
                "period_s": draw(st.sampled_from([0.5, 1.0])),
                "low_fraction": draw(am_low),
            }
        )
    if pwm_low is not None:
        modulations.append(
            {
                "parameter": "pulse_width",
                "shape": draw(other_shapes),
                "period_s": draw(st.sampled_from([0.5, 1.0, 2.0])),
                "low_fraction": pwm_low,
            }
        )
    # On/off times off the pulse grid: a pulse exactly at an on/off edge is on or off by one
    # rounding of its onset, in the metrics and in the samples alike.
    on_s = draw(st.sampled_from([0.5037, 1.0071, 1.4513]))
    envelope = {
        "on_s": on_s,
        "off_s": draw(st.sampled_from([0.0, 0.2513, 0.5071, 1.0029])),
        "ramp_up_s": draw(st.sampled_from([0.0, 0.1, 0.2])),
        "ramp_down_s": draw(st.sampled_from([0.0, 0.1, 0.25])),
    }
    waveform = pulse_train(pulse=pulse, frequency_hz=frequency_hz, modulations=modulations, **burst)
    try:
        prescription = make_prescription(
            waveform=waveform,
            envelope=envelope,
            amplitude_ma=draw(st.floats(1.0, 80.0)),
            channels=draw(st.integers(1, 2)),
        )
    except InputError:
        assume(False)
    assume(steady_window_s(prescription.waveform) <= 2.0)
    return prescription


@st.composite
def carrier_prescriptions(draw):
    """Valid carrier prescriptions (sine/square, sweep, bursts, AM, channel offsets) of 1–2.1 kHz
    with a 1 s steady window.

    Charge per phase is a worst case (lowest carrier frequency at full amplitude): the
    strategies keep it attained (AM only with upward sweeps, whose lowest frequency falls where
    the AM is at its maximum). Bursts with AM hold an even number of bursts per AM period, for
    which the AM's mean over the bursts equals its mean over time (what the metrics assume)."""
    shape = draw(st.sampled_from(["sine", "square"]))
    carrier_hz = draw(st.integers(1000, 2000))
    mode = draw(st.sampled_from(["plain", "sweep", "burst"]))
    kwargs: dict = {}
    up_sweep = True
    if mode == "sweep":
        stop_hz = draw(st.integers(1000, 2000))
        assume(stop_hz != carrier_hz)
        up_sweep = stop_hz > carrier_hz
        kwargs["sweep"] = {
            "stop_frequency_hz": stop_hz,
            "period_s": draw(st.sampled_from([0.5, 1.0])),
            "law": draw(st.sampled_from(["linear", "exponential"])),
        }
    elif mode == "burst":
        burst_hz = draw(st.sampled_from([20, 40, 50]))
        max_halves = math.floor(0.8 / burst_hz * 2 * carrier_hz)
        halves = draw(st.integers(2, min(max_halves, 60)))
        kwargs["burst_frequency_hz"] = burst_hz
        kwargs["burst_duration_ms"] = halves * 1000 / (2 * carrier_hz)
    am_period_s = None
    if up_sweep and draw(st.booleans()):
        am_period_s = draw(st.sampled_from([0.5, 1.0]))
        if mode == "burst":
            per_period = kwargs["burst_frequency_hz"] * am_period_s
            assume(per_period >= 20 and per_period % 2 == 0)
        kwargs["amplitude_modulation"] = {
            "parameter": "amplitude",
            "shape": draw(_SHAPES),
            "period_s": am_period_s,
            "low_fraction": draw(st.floats(0.05, 0.9)),  # cycles stay countable
        }
    n_channels = draw(st.integers(1, 2))
    offsets = [0.0] * n_channels
    if mode != "burst" and n_channels == 2:
        offsets[1] = float(draw(st.integers(-100, 100)))
    channels = [channel_dict("AB"[i], carrier_frequency_offset_hz=o) for i, o in enumerate(offsets)]
    # On/off cycles with ramps: the metrics take the envelope and the AM / burst pattern as
    # uncorrelated, exact when the ramps span many AM and burst periods.
    on_s = draw(st.sampled_from([1.0, 2.0]))
    ramp_s = draw(st.sampled_from([0.0, 0.5])) if am_period_s is None else 0.0
    envelope = {
        "on_s": on_s,
        "off_s": draw(st.sampled_from([0.0, 1.0])),
        "ramp_up_s": ramp_s,
        "ramp_down_s": ramp_s,
    }
    try:
        prescription = make_prescription(
            waveform=carrier(shape=shape, carrier_frequency_hz=carrier_hz, **kwargs),
            envelope=envelope,
            amplitude_ma=draw(st.floats(1.0, 80.0)),
            channels=channels,
            modality="other",
        )
    except InputError:
        assume(False)
    assume(steady_window_s(prescription.waveform) == 1.0)
    return prescription


# --------------------------------------------------------------------------- core property


@PROPERTY_SETTINGS
@given(pulse_prescriptions())
def test_HAZ012_pulse_train_samples_agree_with_exact_metrics(prescription):
    train: PulseTrain = prescription.waveform
    exact = compute_metrics(prescription).channels[0]
    amplitude = prescription.max_amplitude_ma
    fs = math.ceil(SAMPLES_PER_SHORTEST_PHASE * 1e6 / train.shortest_phase_us)
    window = steady_window_s(train)
    tail = train.pulse.pulse_duration_us * 1e-6 + 2 / fs
    biphasic = not isinstance(train.pulse, MonophasicPulse)

    steady = sample_window(prescription, sample_rate_hz=fs, duration_s=window + tail, steady=True)
    rows = steady.current_ma
    assert np.array_equal(rows, np.broadcast_to(rows[0], rows.shape)), "channels must agree"
    measured = _PulseFigures(rows[0], fs, window, biphasic, amplitude)

    assert _close(measured.charge_per_phase_uc, exact.charge_per_phase_uc)
    assert _close(
        measured.net_charge_per_pulse_uc,
        exact.net_charge_per_pulse_uc,
        scale=exact.charge_per_phase_uc,
    )
    scale_ua = exact.charge_per_phase_uc * exact.pulses_per_second
    assert _close(measured.dc_current_ua, exact.dc_current_ua, scale=scale_ua)
    assert _close(measured.rms_ma, exact.rms_current_mean_ma)
    assert _close(measured.pulses_per_second, exact.pulses_per_second)

    cycle_s = prescription.envelope.cycle_s
    cycle = sample_window(prescription, sample_rate_hz=fs, duration_s=cycle_s + tail)
    in_cycle = _PulseFigures(cycle.current_ma[0], fs, cycle_s, biphasic, amplitude)
    assert _close(in_cycle.rms_ma, exact.rms_current_cycle_ma)


@PROPERTY_SETTINGS
@given(carrier_prescriptions())
def test_HAZ012_carrier_samples_agree_with_exact_metrics(prescription):
    metrics = compute_metrics(prescription)
    train = prescription.waveform
    amplitude = prescription.max_amplitude_ma
    highest_hz = max(
        train.highest_carrier_hz + c.carrier_frequency_offset_hz for c in prescription.channels
    )
    # + 17 Hz: no burst edge falls exactly on a sample (a point sample there is either side).
    fs = math.ceil(SAMPLES_PER_SHORTEST_PHASE * 2 * highest_hz) + 17
    window = steady_window_s(train)
    steady = sample_window(prescription, sample_rate_hz=fs, duration_s=window, steady=True)
    cycle_s = prescription.envelope.cycle_s
    cycle = sample_window(prescription, sample_rate_hz=fs, duration_s=cycle_s)
    for row, exact in enumerate(metrics.channels):
        x = steady.current_ma[row]
        starts, ends = _runs(x, 1e-9 * amplitude)
        charges_mas = _run_sums(x, starts, ends) / fs
        assert x[1] < 0, "a carrier starts with its cathodic half-cycle"
        assert _close(float(np.max(np.abs(charges_mas))) * 1e3, exact.charge_per_phase_uc)
        scale_ua = exact.charge_per_phase_uc * exact.pulses_per_second
        assert _close(float(np.mean(x)) * 1e3, exact.dc_current_ua, scale=scale_ua)
        assert _close(math.sqrt(float(np.mean(x * x))), exact.rms_current_mean_ma)
        assert _close(len(starts) / 2 / window, exact.pulses_per_second)
        y = cycle.current_ma[row]
        assert _close(math.sqrt(float(np.mean(y * y))), exact.rms_current_cycle_ma)


# --------------------------------------------------------------------------- streaming


CHUNKING_CASES = {
    "tens-ramped": dict(envelope={"ramp_up_s": 0.5, "ramp_down_s": 0.5}, duration_min=0.05),
    "burst-alternating": dict(
        waveform=pulse_train(
            pulse=symmetric_pulse(250, interphase_gap_us=50, leading_polarity="alternating"),
            frequency_hz=100,
            pulses_per_burst=7,
            burst_frequency_hz=2,
        ),
        envelope={"on_s": 1.2, "off_s": 0.4, "ramp_up_s": 0.3},
    ),
    "fm-pwm-am": dict(
        waveform=pulse_train(
            pulse=asymmetric_pulse(200, 900, ratio=0.5),
            frequency_hz=90,
            modulations=[
                {"parameter": "frequency", "shape": "sine", "period_s": 0.7, "low_frequency_hz": 7},
                {"parameter": "amplitude", "shape": "triangle", "period_s": 0.9, "low_fraction": 0},
                {
                    "parameter": "pulse_width",
                    "shape": "alternate",
                    "period_s": 1.3,
                    "low_fraction": 0.4,
                },
            ],
        ),
    ),
    "microcurrent-reversal": dict(
        waveform=pulse_train(
            pulse=monophasic_pulse(200_000, polarity_reversal_interval_s=0.3), frequency_hz=0.5
        ),
        amplitude_ma=0.3,
    ),
    "ifc-sweep-offset": dict(
        waveform=carrier(
            carrier_frequency_hz=4000,
            sweep={"stop_frequency_hz": 4100, "period_s": 0.4, "law": "linear"},
            amplitude_modulation={
                "parameter": "amplitude",
                "shape": "sine",
                "period_s": 0.3,
                "low_fraction": 0.2,
            },
        ),
        channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
        envelope={"on_s": 0.8, "off_s": 0.3, "ramp_up_s": 0.2, "ramp_down_s": 0.2},
        modality="IFC",
    ),
    "russian-bursts": dict(
        waveform=carrier(
            shape="square", carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=10
        ),
        modality="NMES",
    ),
}


@pytest.mark.parametrize("case", sorted(CHUNKING_CASES))
def test_HAZ012_chunked_stream_equals_one_big_chunk(case):
    prescription = make_prescription(**CHUNKING_CASES[case])
    fs = 2 * minimum_sample_rate_hz(prescription) + 1234.5
    start_s, duration_s = 0.61, 2.3
    chunks = list(
        stream_samples(
            prescription,
            sample_rate_hz=fs,
            start_s=start_s,
            duration_s=duration_s,
            chunk_s=0.37,
            dtype=np.float64,
        )
    )
    whole = sample_window(prescription, sample_rate_hz=fs, start_s=start_s, duration_s=duration_s)
    joined = np.concatenate([c.current_ma for c in chunks], axis=1)
    assert joined.shape == whole.current_ma.shape
    # Equal to rounding: 1e-9 of full scale (frequency-modulated onsets are Newton roots,
    # equal to the last bit or two whichever interval they were solved in).
    assert np.max(np.abs(joined - whole.current_ma)) <= 1e-9 * prescription.max_amplitude_ma
    assert chunks[0].start_s == start_s
    assert chunks[1].start_s == pytest.approx(start_s + chunks[0].n_samples / fs, abs=1e-12)
    assert all(c.channel_labels == whole.channel_labels for c in chunks)


def test_box_filter_keeps_the_exact_charge_at_the_lowest_rate():
    """Two samples per phase still carry each phase's exact charge (only its shape is coarse)."""
    prescription = make_prescription(
        waveform=pulse_train(pulse=asymmetric_pulse(200, 800, ratio=0.5), frequency_hz=37)
    )
    fs = minimum_sample_rate_hz(prescription) * 1.37
    x = sample_window(prescription, sample_rate_hz=fs, duration_s=1.0, steady=True).current_ma[0]
    exact = compute_metrics(prescription).channels[0]
    assert np.sum(x) / fs * 1e3 == pytest.approx(exact.dc_current_ua, rel=1e-9)


def test_cathodic_first_pulse_starts_negative_and_envelope_ramps_from_zero():
    prescription = make_prescription(
        envelope={"ramp_up_s": 1.0, "ramp_down_s": 1.0}, duration_min=0.1
    )
    fs = 100_000
    steady = sample_window(prescription, sample_rate_hz=fs, duration_s=0.001, steady=True)
    assert steady.current_ma[0, 0] == pytest.approx(-30.0)
    ramped = sample_window(prescription, sample_rate_hz=fs, duration_s=6.0)
    peaks = np.abs(ramped.current_ma[0]).reshape(60, -1).max(axis=1)  # per 100 ms
    assert peaks[0] < 3.0  # the ramp starts at zero
    assert peaks[20:40] == pytest.approx(30.0)
    assert peaks[-1] < 3.0  # and ends at zero at the session end (6 s)
    after = sample_window(prescription, sample_rate_hz=fs, start_s=6.0, duration_s=1.0)
    assert not np.any(after.current_ma)


def test_chunks_report_their_start_time_and_rate():
    prescription = make_prescription(duration_min=0.05)  # 3 s
    chunks = list(stream_samples(prescription, sample_rate_hz=20_000))
    assert [c.n_samples for c in chunks] == [20_000, 20_000, 20_000]
    assert isinstance(chunks[0], SampleChunk)
    assert chunks[2].start_s == pytest.approx(2.0)
    assert chunks[2].times_s()[0] == pytest.approx(2.0)
    assert chunks[0].current_ma.dtype == np.float32
    assert chunks[0].channel_labels == ("A",)


def test_streaming_memory_stays_bounded_whatever_the_duration():
    prescription = make_prescription(channels=2, duration_min=10)

    def peak_bytes(duration_s: float) -> int:
        tracemalloc.start()
        try:
            for chunk in stream_samples(
                prescription, sample_rate_hz=100_000, duration_s=duration_s
            ):
                del chunk
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak_bytes(12.0), peak_bytes(120.0)
    assert long < 16 * 2**20  # 120 s × 2 channels × 100 kHz would be 96 MB as float32
    assert long < 1.2 * short + 2**20


# --------------------------------------------------------------------------- refusals


def test_HAZ012_too_low_sample_rate_is_refused_naming_the_field_and_the_minimum():
    prescription = make_prescription()  # 200 µs phases: at least 10 kHz
    with pytest.raises(InputError) as caught:
        stream_samples(prescription, sample_rate_hz=9_999)
    problem = caught.value.problems[0]
    assert problem.path == "sample_rate_hz"
    assert problem.value == 9_999
    assert "10000 Hz" in problem.expected
    stream_samples(prescription, sample_rate_hz=10_000)  # exactly enough


def test_pulse_width_modulation_raises_the_minimum_sample_rate():
    prescription = make_prescription(
        waveform=pulse_train(
            modulations=[
                {"parameter": "pulse_width", "shape": "sine", "period_s": 1, "low_fraction": 0.5}
            ]
        )
    )
    assert minimum_sample_rate_hz(prescription) == pytest.approx(20_000)


def test_carrier_minimum_rate_includes_sweep_and_channel_offsets():
    hf_ems = make_prescription(
        waveform=carrier(
            shape="square",
            carrier_frequency_hz=4096,
            sweep={"stop_frequency_hz": 32768, "period_s": 0.05},
        ),
        modality="HF-EMS",
    )
    assert minimum_sample_rate_hz(hf_ems) == pytest.approx(131_072)
    with pytest.raises(InputError, match="sample_rate_hz"):
        stream_samples(hf_ems, sample_rate_hz=131_000)
    ifc = make_prescription(
        waveform=carrier(carrier_frequency_hz=4000),
        channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
        modality="IFC",
    )
    assert minimum_sample_rate_hz(ifc) == pytest.approx(16_400)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("duration_s", {"duration_s": 0}),
        ("duration_s", {"duration_s": -1.0}),
        ("duration_s", {"duration_s": float("nan")}),
        ("chunk_s", {"chunk_s": 0}),
        ("chunk_s", {"chunk_s": float("inf")}),
        ("start_s", {"start_s": -0.5}),
        ("start_s", {"start_s": 1800.0}),  # at the session end, nothing is left by default
        ("sample_rate_hz", {"sample_rate_hz": float("nan")}),
        ("sample_rate_hz", {"sample_rate_hz": "fast"}),
        ("start_s", {"start_s": "soon"}),
        ("dtype", {"dtype": np.int16}),
        ("dtype", {"dtype": "no-such-dtype"}),
    ],
)
def test_bad_stream_arguments_are_input_errors(field, kwargs):
    arguments = {"sample_rate_hz": 50_000, **kwargs}
    with pytest.raises(InputError) as caught:
        stream_samples(make_prescription(), **arguments)
    assert caught.value.problems[0].path == field
