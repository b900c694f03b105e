"""Fuzzing the protocol loaders: whatever comes in, the result is a valid Protocol or an
InputError, never any other exception (a user mistake never shows a traceback)."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from builders import (
    asymmetric_pulse,
    carrier,
    channel_dict,
    frequency_modulation,
    monophasic_pulse,
    protocol_dict,
    pulse_train,
)
from stimwise.errors import InputError
from stimwise.protocol.io import load_model_file, parse_document, validate_model
from stimwise.protocol.models import Protocol

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- the contract


def load_text(text: str) -> Protocol | InputError:
    """Parse and validate text as a protocol; return the protocol or the InputError.

    Any other exception propagates and fails the test."""
    try:
        return validate_model(Protocol, parse_document(text, "fuzz.yaml"), source="fuzz.yaml")
    except InputError as error:
        return error


def load_data(data: object) -> Protocol | InputError:
    try:
        return validate_model(Protocol, data, source="fuzz")
    except InputError as error:
        return error


def check_outcome(outcome: Protocol | InputError) -> None:
    """An InputError must be printable in one paragraph and serialisable; a Protocol round-trips."""
    if isinstance(outcome, InputError):
        assert outcome.problems
        message = str(outcome)
        assert message.startswith("Invalid input")
        assert "\n" not in message.split(": ", 1)[0]
        json.dumps(outcome.to_dict())
        for problem in outcome.problems:
            assert isinstance(problem.path, str) and problem.path
            assert isinstance(problem.expected, str) and problem.expected
        return
    assert isinstance(outcome, Protocol)
    dumped = outcome.model_dump(mode="json")
    again = validate_model(Protocol, dumped)
    assert json.dumps(again.model_dump(mode="json")) == json.dumps(dumped)


# --------------------------------------------------------------------------- valid seeds


def seed_documents() -> list[dict]:
    """Valid documents covering every waveform branch (mutated by the tests below)."""
    ranges = {
        "frequency_hz": {"min": 80, "max": 120, "sources": [{"source": "test", "confidence": "U"}]}
    }
    return [
        protocol_dict(ranges=ranges, evidence=[{"source": "test source", "confidence": "C-s"}]),
        protocol_dict(waveform=pulse_train(pulses_per_burst=7, burst_frequency_hz=2)),
        protocol_dict(waveform=pulse_train(modulations=[frequency_modulation(4, 6, "sine")])),
        protocol_dict(
            waveform=pulse_train(
                pulse=asymmetric_pulse(200, 800, ratio=0.125, leading_polarity="alternating")
            ),
            envelope={"on_s": 10, "off_s": 50, "ramp_up_s": 2, "ramp_down_s": 1},
        ),
        protocol_dict(
            waveform=pulse_train(
                pulse=monophasic_pulse(1000, polarity_reversal_interval_s=1), frequency_hz=2
            ),
            amplitude_ma=0.3,
        ),
        protocol_dict(
            waveform=carrier(carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=10)
        ),
        protocol_dict(
            waveform=carrier(
                carrier_frequency_hz=4000,
                amplitude_modulation={"shape": "triangle", "period_s": 2, "low_fraction": 0.2},
            ),
            channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
        ),
        protocol_dict(
            waveform=carrier(
                shape="square",
                carrier_frequency_hz=4096,
                sweep={"stop_frequency_hz": 32768, "period_s": 0.05},
            )
        ),
    ]


SEEDS = seed_documents()


def test_every_seed_document_is_valid():
    for document in SEEDS:
        assert isinstance(load_data(document), Protocol)


# --------------------------------------------------------------------------- strategies

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["pulse_train", "carrier", "biphasic_symmetric", "monophasic", "lumbar_midline", "A", ""]
    ),
)

json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)

structural_text = st.lists(
    st.sampled_from(
        [*"{}[]:,-#&*!|>'\"\n\t ?%@`.0123456789eE+", "id", "kind", "true", "null", "~", "  "]
    ),
    max_size=120,
).map("".join)


def _paths(node: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path (keys and indices) to a node inside nested dicts and lists."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(document: dict, path: tuple):
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@st.composite
def mutated_documents(draw) -> dict:
    """A seed document with one to three random mutations.

    Numeric perturbations (the most frequent) hit the range and cross-field checks; the other
    operations drop, add, retype or duplicate any node."""
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(
            st.sampled_from(
                [
                    "numeric",
                    "numeric",
                    "numeric",
                    "drop",
                    "add",
                    "scalar",
                    "wrong_type",
                    "duplicate",
                ]
            )
        )
        paths = [p for p in _paths(document) if p]
        if operation == "numeric":
            numeric = [
                p
                for p in paths
                if p != ("schema_version",) and _is_number(_parent(document, p)[p[-1]])
            ]
            paths = numeric or paths
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        key = path[-1]
        if operation == "drop":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif operation == "add":
            target = parent if isinstance(parent, dict) else document
            name = draw(
                st.one_of(
                    st.text(min_size=1, max_size=12),
                    st.sampled_from(
                        ["kind", "on_s", "off_s", "burst", "sweep", "modulations", "label"]
                    ),
                )
            )
            target[name] = draw(json_like)
        elif operation == "scalar":
            parent[key] = draw(scalars)
        elif operation == "wrong_type":
            parent[key] = draw(
                st.sampled_from([[], {}, [1, 2], {"x": 1}, "text", True, None, "1e3", "30 mA"])
            )
        elif operation == "numeric":
            value = parent[key]
            if _is_number(value):
                factor = draw(
                    st.sampled_from(
                        [2, 0.5, 10, 0.1, 3, 0.9, 1.1, 100, 0, -1, 1e-9, 1e300, math.inf, math.nan]
                    )
                )
                parent[key] = value * factor
            else:
                parent[key] = draw(st.floats(allow_nan=True, allow_infinity=True))
        else:  # duplicate a list item (channels, electrodes, modulations) or wrap a value
            if isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            else:
                parent[key] = [copy.deepcopy(parent[key])] * 2
    return document


# --------------------------------------------------------------------------- loaders


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_a_protocol_or_an_input_error(text):
    check_outcome(load_text(text))


@FUZZ
@given(text=structural_text)
def test_yaml_and_json_punctuation_soup_is_a_protocol_or_an_input_error(text):
    check_outcome(load_text(text))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_bytes_decoded_as_text_are_a_protocol_or_an_input_error(raw):
    check_outcome(load_text(raw.decode("latin-1")))
    check_outcome(load_text(raw.decode("utf-8", errors="replace")))


@pytest.fixture(scope="module")
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@FUZZ
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".yaml", ".json", ".yml", ""]))
def test_arbitrary_file_bytes_are_a_protocol_or_an_input_error(scratch_dir, raw, suffix):
    path = scratch_dir / f"fuzz{suffix}"
    path.write_bytes(raw)
    try:
        outcome = load_model_file(Protocol, path)
    except InputError as error:
        outcome = error
    check_outcome(outcome)


@FUZZ
@given(data=json_like)
def test_nested_json_like_data_is_a_protocol_or_an_input_error(data):
    check_outcome(load_data(data))
    check_outcome(load_text(json.dumps(data)))


@FUZZ
@given(data=st.dictionaries(st.sampled_from(sorted(SEEDS[0])), json_like, max_size=12))
def test_random_values_under_protocol_keys_are_a_protocol_or_an_input_error(data):
    check_outcome(load_data(data))


@FUZZ
@given(document=mutated_documents())
def test_mutated_protocol_is_a_protocol_or_an_input_error(document):
    check_outcome(load_data(document))


@FUZZ
@given(document=mutated_documents(), as_json=st.booleans())
def test_mutated_protocol_file_text_gives_the_same_outcome_as_its_data(document, as_json):
    text = json.dumps(document) if as_json else yaml.safe_dump(document, allow_unicode=True)
    from_text = load_text(text)
    from_data = load_data(document)
    check_outcome(from_text)
    assert type(from_text) is type(from_data)
    if isinstance(from_data, Protocol):
        assert from_text.model_dump_json() == from_data.model_dump_json()
    else:
        # YAML dumping sorts keys, so the same problems may come in another order.
        assert sorted(p.path for p in from_text.problems) == sorted(
            p.path for p in from_data.problems
        )


@FUZZ
@given(document=mutated_documents())
def test_dropping_a_required_key_names_it(document):
    # Drop one required top-level key on top of the random mutations: the error names it.
    required = [
        "id",
        "name",
        "modality",
        "goal",
        "mechanism",
        "waveform",
        "intensity",
        "channels",
        "session",
    ]
    present = [k for k in required if k in document]
    assume(present)
    key = present[len(document) % len(present)]
    del document[key]
    outcome = load_data(document)
    assert isinstance(outcome, InputError)
    assert key in [p.path for p in outcome.problems]


# --------------------------------------------------------------------------- known leaks

yaml_scalar_constructors = st.one_of(
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(
        "{} {}".format,
        st.sampled_from(["!!int", "!!float", "!!timestamp", "!!bool", "!!binary", "!!str"]),
        st.text(alphabet="abcxyz0123456789-.:", min_size=1, max_size=10),
    ),
)


@settings(max_examples=200, deadline=None)
@given(scalar=yaml_scalar_constructors)
def test_yaml_scalars_with_constructors_are_a_protocol_or_an_input_error(scalar):
    check_outcome(load_text(f"id: test\ncreated: {scalar}\n"))
