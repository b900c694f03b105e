"""The ``stimwise`` command: a thin shell over the packages, with no domain logic."""
