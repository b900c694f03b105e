"""Clinical layer: intake, screening, instruments and protocol recommendation."""
