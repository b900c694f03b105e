"""Exact metrics from a waveform description and bounded-memory sample synthesis."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ChannelMetrics": ".metrics",
        "PlanMetrics": ".metrics",
        "compute_metrics": ".metrics",
        "plot_prescription": ".plot",
        "SampleChunk": ".sampler",
        "default_sample_rate_hz": ".sampler",
        "minimum_sample_rate_hz": ".sampler",
        "sample_window": ".sampler",
        "stream_samples": ".sampler",
    },
)
