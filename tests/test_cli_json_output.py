"""Every ``--json`` document is strict JSON: an unknown number is ``null``, never ``NaN``."""

from __future__ import annotations

import json
import math

import numpy as np

from stimwise.cli.output import json_ready, print_json


def test_non_finite_numbers_and_numpy_scalars_become_json_values(capsys):
    document = {"mean": float("nan"), "spread": [np.float64("inf"), np.float32(2.5)],
                "count": np.int64(3), "nested": ({"low": -math.inf},), "name": "nan"}
    assert json_ready(document) == {"mean": None, "spread": [None, 2.5], "count": 3,
                                    "nested": [{"low": None}], "name": "nan"}
    print_json(document)
    printed = json.loads(capsys.readouterr().out, parse_constant=lambda c: c)
    assert printed["mean"] is None and printed["spread"] == [None, 2.5]


def test_numpy_arrays_are_written_as_lists():
    assert json_ready({"values": np.array([1.0, np.nan])}) == {"values": [1.0, None]}
