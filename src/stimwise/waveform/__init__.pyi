"""Type stub of :mod:`stimwise.waveform`'s lazy names (see ``__init__.py``)."""

from stimwise.waveform.metrics import ChannelMetrics, PlanMetrics, compute_metrics
from stimwise.waveform.plot import plot_prescription
from stimwise.waveform.sampler import (
    SampleChunk,
    default_sample_rate_hz,
    minimum_sample_rate_hz,
    sample_window,
    stream_samples,
)

__all__ = [
    "ChannelMetrics",
    "PlanMetrics",
    "SampleChunk",
    "compute_metrics",
    "default_sample_rate_hz",
    "minimum_sample_rate_hz",
    "plot_prescription",
    "sample_window",
    "stream_samples",
]
