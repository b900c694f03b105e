"""Small builders of valid protocols and prescriptions for tests.

Import them in any test module with ``from builders import make_protocol, make_prescription``
(``tests/`` is on ``sys.path``; see ``conftest.py``).

Every builder returns plain data (``*_dict``) or validated models (``make_*``) with sensible
defaults: conventional TENS, 30 mA, 200 µs/phase symmetric biphasic at 100 Hz, one channel of two
25 cm² electrodes on the lower back, 30 min sessions. Give only what a test is about::

    make_protocol()                                            # the default above
    make_protocol(waveform=pulse_train(frequency_hz=80, pulse=asymmetric_pulse(250, 1000)))
    make_protocol(waveform=carrier(shape="sine", carrier_frequency_hz=4000), channels=2)
    make_protocol(envelope={"on_s": 10, "off_s": 50, "ramp_up_s": 2})
    make_prescription(amplitude_ma=40, area_cm2=16)            # protocol built from the same kwargs
    make_prescription(protocol, electrode_area_cm2=9)         # overrides via from_protocol

``waveform``, ``envelope`` and channels may be dicts or models. ``make_protocol`` validates through
``stimwise.protocol.io.validate_model``, so a bad builder input raises ``InputError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from stimwise.protocol.io import validate_model
from stimwise.protocol.models import Channel, Protocol
from stimwise.protocol.prescription import Prescription

DEFAULT_SITES: tuple[tuple[str, str], ...] = (
    ("left_lower_back", "lumbar_midline"),
    ("right_lower_back", "sacral_midline"),
    ("left_thigh_anterior", "left_knee"),
    ("right_thigh_anterior", "right_knee"),
    ("left_forearm_dorsal", "left_wrist"),
    ("right_forearm_dorsal", "right_wrist"),
    ("left_calf", "left_ankle"),
    ("right_calf", "right_ankle"),
)
"""Electrode sites of channels A, B, C ... (benign limb and lower-back sites, one side each)."""

CHANNEL_LABELS = "ABCDEFGH"


def _plain(value: Any) -> Any:
    """A model becomes its JSON-mode dict; dicts and sequences are copied deeply."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- pulses and trains


def symmetric_pulse(
    phase_width_us: float = 200.0,
    *,
    interphase_gap_us: float = 0.0,
    leading_polarity: str = "cathodic",
) -> dict:
    """A symmetric biphasic pulse (charge-balanced by construction)."""
    return {
        "kind": "biphasic_symmetric",
        "phase_width_us": phase_width_us,
        "interphase_gap_us": interphase_gap_us,
        "leading_polarity": leading_polarity,
    }


def asymmetric_pulse(
    phase_width_us: float = 200.0,
    second_phase_width_us: float = 800.0,
    *,
    ratio: float | None = None,
    interphase_gap_us: float = 0.0,
    leading_polarity: str = "cathodic",
) -> dict:
    """An asymmetric biphasic pulse; ``ratio=None`` is the charge-balanced default."""
    pulse: dict = {
        "kind": "biphasic_asymmetric",
        "phase_width_us": phase_width_us,
        "second_phase_width_us": second_phase_width_us,
        "interphase_gap_us": interphase_gap_us,
        "leading_polarity": leading_polarity,
    }
    if ratio is not None:
        pulse["second_phase_amplitude_ratio"] = ratio
    return pulse


def monophasic_pulse(
    phase_width_us: float = 1000.0,
    *,
    polarity: str = "cathodic",
    polarity_reversal_interval_s: float | None = None,
) -> dict:
    """A monophasic pulse, optionally with periodic polarity reversal."""
    pulse: dict = {"kind": "monophasic", "phase_width_us": phase_width_us, "polarity": polarity}
    if polarity_reversal_interval_s is not None:
        pulse["polarity_reversal_interval_s"] = polarity_reversal_interval_s
    return pulse


def pulse_train(
    *,
    pulse: dict | BaseModel | None = None,
    frequency_hz: float = 100.0,
    pulses_per_burst: int | None = None,
    burst_frequency_hz: float | None = None,
    modulations: Sequence[dict | BaseModel] = (),
) -> dict:
    """A pulse-train waveform dict. Give both burst arguments for burst mode."""
    train: dict = {
        "kind": "pulse_train",
        "pulse": _plain(pulse) if pulse is not None else symmetric_pulse(),
        "frequency_hz": frequency_hz,
    }
    if pulses_per_burst is not None or burst_frequency_hz is not None:
        train["burst"] = {
            "pulses_per_burst": pulses_per_burst,
            "burst_frequency_hz": burst_frequency_hz,
        }
    if modulations:
        train["modulations"] = [_plain(m) for m in modulations]
    return train


def frequency_modulation(
    low_frequency_hz: float, period_s: float, shape: str = "alternate"
) -> dict:
    """A frequency sweep between ``low_frequency_hz`` and the train's ``frequency_hz``."""
    return {
        "parameter": "frequency",
        "shape": shape,
        "period_s": period_s,
        "low_frequency_hz": low_frequency_hz,
    }


def carrier(
    *,
    shape: str = "sine",
    carrier_frequency_hz: float = 4000.0,
    sweep: dict | None = None,
    burst_frequency_hz: float | None = None,
    burst_duration_ms: float | None = None,
    amplitude_modulation: dict | None = None,
) -> dict:
    """A kilohertz carrier waveform dict. Give both burst arguments for burst gating."""
    wave: dict = {"kind": "carrier", "shape": shape, "carrier_frequency_hz": carrier_frequency_hz}
    if sweep is not None:
        wave["sweep"] = dict(sweep)
    if burst_frequency_hz is not None or burst_duration_ms is not None:
        wave["burst"] = {
            "burst_frequency_hz": burst_frequency_hz,
            "burst_duration_ms": burst_duration_ms,
        }
    if amplitude_modulation is not None:
        wave["amplitude_modulation"] = dict(amplitude_modulation)
    return wave


# --------------------------------------------------------------------------- placement


def channel_dict(
    label: str = "A",
    areas_cm2: Sequence[float] = (25.0, 25.0),
    *,
    sites: Sequence[str] | None = None,
    carrier_frequency_offset_hz: float = 0.0,
) -> dict:
    """One channel; the first electrode is the active one. Sites default by label (A, B, ...)."""
    if sites is None:
        index = CHANNEL_LABELS.index(label) if label in CHANNEL_LABELS else 0
        pair = DEFAULT_SITES[index % len(DEFAULT_SITES)]
        sites = [pair[i % 2] for i in range(len(areas_cm2))]
    if len(sites) != len(areas_cm2):
        raise ValueError("give one site per electrode area")
    return {
        "label": label,
        "electrodes": [
            {"site": site, "area_cm2": area} for site, area in zip(sites, areas_cm2, strict=True)
        ],
        "carrier_frequency_offset_hz": carrier_frequency_offset_hz,
    }


# --------------------------------------------------------------------------- protocols


def protocol_dict(
    *,
    waveform: dict | BaseModel | None = None,
    envelope: dict | BaseModel | None = None,
    amplitude_ma: float = 30.0,
    area_cm2: float = 25.0,
    channels: int | Sequence[dict | BaseModel] = 1,
    duration_min: float = 30.0,
    **fields: Any,
) -> dict:
    """The raw document of a valid protocol (what a YAML/JSON file would hold).

    * ``waveform``: defaults to ``pulse_train()`` (30 mA conventional TENS shape).
    * ``channels``: a count (channels A, B, ... of two ``area_cm2`` electrodes each) or explicit
      channel dicts/models (then ``area_cm2`` is ignored).
    * ``fields``: any other top-level protocol field (``id``, ``modality``, ``ranges`` ...).
    """
    if isinstance(channels, int):
        chosen = [channel_dict(CHANNEL_LABELS[i], (area_cm2, area_cm2)) for i in range(channels)]
    else:
        chosen = [_plain(c) for c in channels]
    document: dict = {
        "schema_version": 1,
        "id": "test-protocol",
        "name": "Test protocol",
        "modality": "TENS",
        "goal": "pain_modulation",
        "mechanism": "spinal gate control (test fixture)",
        "waveform": _plain(waveform) if waveform is not None else pulse_train(),
        "intensity": {"level": "sensory", "max_amplitude_ma": amplitude_ma},
        "channels": chosen,
        "session": {"duration_min": duration_min},
    }
    if envelope is not None:
        document["envelope"] = _plain(envelope)
    document.update({k: _plain(v) for k, v in fields.items()})
    return document


def make_protocol(**kwargs: Any) -> Protocol:
    """A validated :class:`Protocol`; takes the keyword arguments of :func:`protocol_dict`."""
    return validate_model(Protocol, protocol_dict(**kwargs), source="tests/builders.py")


def make_prescription(
    protocol: Protocol | None = None,
    *,
    max_amplitude_ma: float | None = None,
    electrode_area_cm2: float | None = None,
    session_duration_min: float | None = None,
    prescription_channels: tuple[Channel, ...] | None = None,
    **protocol_kwargs: Any,
) -> Prescription:
    """A :class:`Prescription` via ``Prescription.from_protocol``.

    Without ``protocol`` one is built from ``protocol_kwargs`` (see :func:`protocol_dict`), e.g.
    ``make_prescription(amplitude_ma=40, area_cm2=16)``. The other keywords are the overrides of
    ``from_protocol`` (``prescription_channels`` is its ``channels``)."""
    if protocol is None:
        protocol = make_protocol(**protocol_kwargs)
    elif protocol_kwargs:
        raise TypeError("give either a protocol or protocol keyword arguments, not both")
    return Prescription.from_protocol(
        protocol,
        max_amplitude_ma=max_amplitude_ma,
        electrode_area_cm2=electrode_area_cm2,
        session_duration_min=session_duration_min,
        channels=prescription_channels,
    )


def channel_metrics(prescription: Prescription, load_ohm: float = 500.0, label: str = "A"):
    """The exact :class:`ChannelMetrics` of one channel (``compute_metrics`` at ``load_ohm``)."""
    from stimwise.waveform.metrics import compute_metrics

    return compute_metrics(prescription, load_ohm=load_ohm).channel(label)
