"""Exact metrics from a waveform description and bounded-memory sample synthesis."""
