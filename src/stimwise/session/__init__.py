"""Session runtime: state machine, interlocks, calibration, crash-safe journal and record."""
