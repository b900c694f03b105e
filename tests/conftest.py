"""Shared test set-up: makes ``tests/builders.py`` importable and offers its defaults as fixtures.

Builders are plain functions in ``tests/builders.py`` (``from builders import make_protocol``);
the fixtures below are only the two most common defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import builders  # noqa: E402


@pytest.fixture
def tens_protocol():
    """Conventional TENS: 30 mA, 200 µs/phase symmetric biphasic, 100 Hz, 2 × 25 cm² electrodes."""
    return builders.make_protocol()


@pytest.fixture
def tens_prescription(tens_protocol):
    """The protocol defaults of :func:`tens_protocol` as a prescription."""
    return builders.make_prescription(tens_protocol)
