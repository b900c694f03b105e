"""Bad protocol input is refused with an InputError naming the field path, the value and the
expectation; good input becomes frozen models; prescriptions override protocol defaults."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from pydantic import ValidationError

from builders import (
    asymmetric_pulse,
    carrier,
    channel_dict,
    frequency_modulation,
    make_prescription,
    make_protocol,
    protocol_dict,
    pulse_train,
)
from stimwise.errors import FieldProblem, InputError, StimwiseError
from stimwise.protocol.io import (
    MAX_FILE_BYTES,
    load_model_file,
    parse_document,
    read_document,
    validate_model,
)
from stimwise.protocol.models import Channel, Electrode, Envelope, Protocol, PulseTrain
from stimwise.protocol.prescription import Prescription

# Pydantic puts the tag of a discriminated union into the location
# ("waveform.pulse_train.pulse.biphasic_symmetric.phase_width_us"). The checks below ask that the
# document's own keys appear in order, so they hold whether or not the tags are shown.
TAGS = {"pulse_train", "carrier", "monophasic", "biphasic_symmetric", "biphasic_asymmetric"}


def doc_path(problem: FieldProblem) -> list[str]:
    """The problem's path as document keys, discriminator tags dropped."""
    return [part for part in problem.path.split(".") if part not in TAGS]


def refuse(data: object) -> InputError:
    """Validate ``data`` as a Protocol, expecting an InputError; return it."""
    with pytest.raises(InputError) as caught:
        validate_model(Protocol, data, source="case.yaml")
    error = caught.value
    assert error.problems, "an InputError must name at least one problem"
    assert error.source == "case.yaml"
    assert "case.yaml" in str(error)
    return error


def problem_at(error: InputError, *path: str) -> FieldProblem:
    """The first problem whose document path is ``path``."""
    for problem in error.problems:
        if doc_path(problem) == list(path):
            return problem
    raise AssertionError(f"no problem at {'.'.join(path)}: {[p.path for p in error.problems]}")


def base() -> dict:
    return protocol_dict()


def with_change(change) -> dict:
    data = copy.deepcopy(base())
    change(data)
    return data


# =========================================================================== the valid baseline


def test_builder_document_is_a_valid_protocol():
    protocol = validate_model(Protocol, base())
    assert isinstance(protocol.waveform, PulseTrain)
    assert protocol.channels[0].label == "A"
    assert protocol.envelope == Envelope()


def test_input_error_is_a_value_error_with_exit_code_two_and_a_json_form():
    error = refuse(with_change(lambda d: d["waveform"].update(frequency_hz=0)))
    assert isinstance(error, ValueError)
    assert isinstance(error, StimwiseError)
    assert error.exit_code == 2
    payload = error.to_dict()
    assert payload["error"] == "invalid_input"
    assert payload["source"] == "case.yaml"
    json.dumps(payload)  # serialisable as is
    assert str(error).startswith("Invalid input in case.yaml (1 problem): ")


# =========================================================================== field errors


def test_unknown_top_level_field_is_named_as_a_typo():
    data = base()
    data["mechansim"] = data.pop("mechanism")
    error = refuse(data)
    typo = problem_at(error, "mechansim")
    assert typo.value == data["mechansim"]
    assert "no such field" in typo.expected and "spelling" in typo.expected
    missing = problem_at(error, "mechanism")
    assert "required" in missing.expected


def test_unknown_nested_field_is_named_with_its_full_path():
    error = refuse(with_change(lambda d: d["waveform"]["pulse"].update(phase_widht_us=300)))
    problem = problem_at(error, "waveform", "pulse", "phase_widht_us")
    assert problem.value == 300
    assert "no such field" in problem.expected
    assert "phase_widht_us" in str(error)


def test_missing_top_level_field_says_it_is_required():
    error = refuse(with_change(lambda d: d.pop("session")))
    problem = problem_at(error, "session")
    assert problem.value is None
    assert problem.expected == "a value (this field is required)"
    assert len(error.problems) == 1


def test_missing_nested_field_names_its_path():
    error = refuse(with_change(lambda d: d["waveform"]["pulse"].pop("phase_width_us")))
    problem = problem_at(error, "waveform", "pulse", "phase_width_us")
    assert "required" in problem.expected


def test_negative_phase_width_is_refused_with_its_value():
    error = refuse(with_change(lambda d: d["waveform"]["pulse"].update(phase_width_us=-200)))
    problem = problem_at(error, "waveform", "pulse", "phase_width_us")
    assert problem.value == -200
    assert "greater than 0" in problem.expected
    assert "got -200" in str(error)


def test_zero_frequency_is_refused():
    error = refuse(with_change(lambda d: d["waveform"].update(frequency_hz=0)))
    problem = problem_at(error, "waveform", "frequency_hz")
    assert problem.value == 0
    assert "greater than 0" in problem.expected


def test_text_where_a_number_belongs_is_refused():
    error = refuse(with_change(lambda d: d["intensity"].update(max_amplitude_ma="thirty")))
    problem = problem_at(error, "intensity", "max_amplitude_ma")
    assert problem.value == "thirty"
    assert "number" in problem.expected


def test_unknown_waveform_kind_lists_the_kinds_expected():
    error = refuse(with_change(lambda d: d["waveform"].update(kind="sawtooth")))
    problem = problem_at(error, "waveform")
    assert "'sawtooth'" in problem.expected
    assert "pulse_train" in problem.expected and "carrier" in problem.expected


def test_pulse_longer_than_its_period_names_both_durations():
    # 2 × 200 µs = 400 µs at 5000 Hz (period 200 µs)
    error = refuse(with_change(lambda d: d["waveform"].update(frequency_hz=5000)))
    (problem,) = error.problems
    assert doc_path(problem)[0] == "waveform"
    assert "400 µs" in problem.expected
    assert "pulse period 200 µs" in problem.expected
    assert "5000 Hz" in problem.expected


def test_pulse_exactly_as_long_as_its_period_is_refused():
    # 2 × 250 µs = 500 µs = the period at 2000 Hz: no time left between pulses
    data = protocol_dict(waveform=pulse_train(frequency_hz=2000))
    data["waveform"]["pulse"]["phase_width_us"] = 250
    error = refuse(data)
    assert "must be shorter than the pulse period" in error.problems[0].expected


def test_burst_longer_than_its_period_is_refused():
    # 7 pulses at 100 Hz = 70 ms > 1/20 Hz = 50 ms
    data = protocol_dict(waveform=pulse_train(pulses_per_burst=7, burst_frequency_hz=20))
    error = refuse(data)
    (problem,) = error.problems
    assert doc_path(problem)[0] == "waveform"
    assert "burst of 7 pulses at 100 Hz" in problem.expected
    assert "0.07 s" in problem.expected and "0.05 s" in problem.expected


@pytest.mark.parametrize("low", [100, 150])
def test_frequency_modulation_low_not_below_high_is_refused(low):
    data = protocol_dict(
        waveform=pulse_train(frequency_hz=100, modulations=[frequency_modulation(low, 6)])
    )
    error = refuse(data)
    (problem,) = error.problems
    assert doc_path(problem)[0] == "waveform"
    assert f"low_frequency_hz ({low})" in problem.expected
    assert "frequency_hz (100)" in problem.expected


def test_frequency_modulation_period_without_one_slow_pulse_is_refused():
    # period 0.1 s at a low rate of 4 Hz holds 0.4 pulses
    data = protocol_dict(waveform=pulse_train(modulations=[frequency_modulation(4, 0.1)]))
    assert "at least one pulse" in refuse(data).problems[0].expected


def test_burst_and_frequency_modulation_together_are_refused():
    data = protocol_dict(
        waveform=pulse_train(
            pulses_per_burst=7, burst_frequency_hz=2, modulations=[frequency_modulation(4, 6)]
        )
    )
    assert "not both" in refuse(data).problems[0].expected


def test_two_modulations_of_one_parameter_are_refused():
    data = protocol_dict(
        waveform=pulse_train(
            modulations=[frequency_modulation(4, 6), frequency_modulation(2, 6, "sine")]
        )
    )
    assert "repeated: ['frequency']" in refuse(data).problems[0].expected


def test_asymmetric_second_phase_shorter_than_leading_is_refused():
    data = protocol_dict(waveform=pulse_train(pulse=asymmetric_pulse(400, 200)))
    error = refuse(data)
    (problem,) = error.problems
    assert doc_path(problem)[:2] == ["waveform", "pulse"]
    assert "second_phase_width_us (200" in problem.expected


def test_carrier_burst_rate_not_below_the_carrier_is_refused():
    # burst at 1000 Hz on a 1000 Hz carrier (0.5 ms bursts fit the 1 ms period)
    data = protocol_dict(
        waveform=carrier(carrier_frequency_hz=1000, burst_frequency_hz=1000, burst_duration_ms=0.5)
    )
    error = refuse(data)
    (problem,) = error.problems
    assert doc_path(problem)[0] == "waveform"
    assert "burst.burst_frequency_hz (1000) must be below the carrier frequency" in problem.expected


def test_carrier_amplitude_modulation_faster_than_the_carrier_is_refused():
    am = {"shape": "sine", "period_s": 0.0001, "low_fraction": 0.5}  # 10 kHz on 2.5 kHz
    data = protocol_dict(waveform=carrier(carrier_frequency_hz=2500, amplitude_modulation=am))
    expected = refuse(data).problems[0].expected
    assert "amplitude_modulation rate 10000 Hz must be below the carrier (2500 Hz)" in expected


def test_carrier_sweep_faster_than_its_lowest_frequency_is_refused():
    # sweep 5000 → 2500 Hz: the lowest carrier is 2500 Hz; sweep every 0.2 ms = 5000 Hz
    sweep = {"stop_frequency_hz": 2500, "period_s": 0.0002}
    data = protocol_dict(waveform=carrier(carrier_frequency_hz=5000, sweep=sweep))
    expected = refuse(data).problems[0].expected
    assert "sweep rate 5000 Hz must be below the carrier (2500 Hz)" in expected


def test_carrier_burst_longer_than_its_period_is_refused():
    data = protocol_dict(
        waveform=carrier(carrier_frequency_hz=2500, burst_frequency_hz=50, burst_duration_ms=30)
    )
    expected = refuse(data).problems[0].expected
    assert "burst_duration_ms (30) exceeds the burst period (20 ms)" in expected


def test_carrier_burst_shorter_than_one_cycle_is_refused():
    data = protocol_dict(
        waveform=carrier(carrier_frequency_hz=2000, burst_frequency_hz=50, burst_duration_ms=0.4)
    )
    assert "shorter than one carrier cycle" in refuse(data).problems[0].expected


def test_ramps_longer_than_on_time_are_refused():
    data = protocol_dict(envelope={"on_s": 2, "off_s": 10, "ramp_up_s": 2, "ramp_down_s": 1})
    error = refuse(data)
    (problem,) = error.problems
    assert doc_path(problem) == ["envelope"]
    assert "ramp_up_s + ramp_down_s (3 s) must fit within on_s (2 s)" in problem.expected


def test_off_time_without_on_time_is_refused():
    error = refuse(protocol_dict(envelope={"off_s": 50}))
    (problem,) = error.problems
    assert doc_path(problem) == ["envelope"]
    assert "off_s needs on_s" in problem.expected


def test_electrode_area_zero_is_refused_at_its_path():
    data = protocol_dict(channels=[channel_dict("A", (25.0, 0.0))])
    error = refuse(data)
    problem = error.problems[0]
    assert doc_path(problem) == ["channels", "0", "electrodes", "1", "area_cm2"]
    assert problem.value == 0
    assert "greater than 0" in problem.expected


def test_unknown_body_site_is_refused_with_examples_of_valid_names():
    data = protocol_dict(
        channels=[channel_dict("A", (25.0, 25.0), sites=("left_lower_back", "moon"))]
    )
    error = refuse(data)
    problem = error.problems[0]
    assert doc_path(problem) == ["channels", "0", "electrodes", "1", "site"]
    assert problem.value == "moon"
    assert "unknown body site 'moon'" in problem.expected
    assert "lumbar_midline" in problem.expected


def test_channel_with_a_single_electrode_is_refused():
    data = protocol_dict(channels=[channel_dict("A", (25.0,))])
    problem = refuse(data).problems[0]
    assert doc_path(problem) == ["channels", "0", "electrodes"]
    assert "at least 2" in problem.expected


def test_duplicate_channel_labels_are_refused():
    data = protocol_dict(channels=[channel_dict("A"), channel_dict("A")])
    error = refuse(data)
    (problem,) = error.problems
    # a whole-protocol rule: reported at the document (or at channels)
    assert problem.path in {"(document)", "channels"}
    assert "channel labels must be unique: ['A', 'A']" in problem.expected


def test_carrier_offset_on_a_pulse_train_is_refused():
    data = protocol_dict(channels=[channel_dict("A", carrier_frequency_offset_hz=100)])
    (problem,) = refuse(data).problems
    assert problem.path in {"(document)", "channels", "channels.0.carrier_frequency_offset_hz"}
    assert "only meaningful for a carrier" in problem.expected
    assert "['A']" in problem.expected


def test_carrier_offset_below_one_kilohertz_is_refused():
    data = protocol_dict(
        waveform=carrier(carrier_frequency_hz=1000),
        channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=-100)],
    )
    (problem,) = refuse(data).problems
    assert "channel 'B': carrier with offset falls to 900 Hz" in problem.expected


def test_every_bad_field_is_reported_at_once():
    def break_three(d):
        d["waveform"]["frequency_hz"] = 0
        d["intensity"]["max_amplitude_ma"] = -5
        d["session"]["duration_min"] = 0

    error = refuse(with_change(break_three))
    paths = {tuple(doc_path(p)) for p in error.problems}
    assert ("waveform", "frequency_hz") in paths
    assert ("intensity", "max_amplitude_ma") in paths
    assert ("session", "duration_min") in paths
    assert "(3 problems)" in str(error)


def test_long_values_are_shortened_in_the_message():
    error = refuse(with_change(lambda d: d.update(modality="X" * 500)))
    assert "..." in str(error)
    assert len(str(error)) < 500


def test_bad_electrode_is_the_only_problem_reported():
    # pydantic also reports "Tuple should have at least 2 items after validation, not 1" for the
    # containers of a failing item; those would mislead (2 electrodes were given) and are dropped
    data = protocol_dict(channels=[channel_dict("A", (25.0, 0.0))])
    assert len(refuse(data).problems) == 1


@pytest.mark.parametrize("bound", [float("nan"), float("inf")])
def test_non_finite_evidence_range_bounds_are_refused(bound):
    ranges = {
        "frequency_hz": {
            "min": bound,
            "max": 120,
            "sources": [{"source": "abc", "confidence": "C"}],
        }
    }
    error = refuse(protocol_dict(ranges=ranges))
    assert doc_path(error.problems[0]) == ["ranges", "frequency_hz", "min"]


# =========================================================================== parse errors


def test_malformed_yaml_names_line_and_column():
    text = "id: x\nname: [unclosed\nmodality: TENS\n"
    with pytest.raises(InputError) as caught:
        parse_document(text, "bad.yaml")
    (problem,) = caught.value.problems
    assert problem.path.startswith("(line ") and ", column " in problem.path
    assert problem.expected == "well-formed YAML"
    assert caught.value.source == "bad.yaml"


def test_yaml_tab_indentation_error_points_at_its_line():
    text = "id: x\nwaveform:\n\tkind: pulse_train\n"
    with pytest.raises(InputError) as caught:
        parse_document(text, "tabs.yaml")
    assert caught.value.problems[0].path == "(line 3, column 1)"


def test_malformed_json_names_line_and_column():
    text = '{\n  "id": "x",\n  "name": ,\n}'
    with pytest.raises(InputError) as caught:
        parse_document(text, "bad.json")
    (problem,) = caught.value.problems
    assert problem.path == "(line 3, column 11)"
    assert problem.expected == "well-formed JSON"
    assert "Expecting value" in problem.value


def test_json_and_yaml_documents_parse_to_the_same_protocol(tmp_path):
    data = base()
    (tmp_path / "p.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    from_json = load_model_file(Protocol, tmp_path / "p.json")
    from_yaml = load_model_file(Protocol, str(tmp_path / "p.yaml"))
    assert from_json == from_yaml == validate_model(Protocol, data)


@pytest.mark.parametrize(
    ("text", "type_name"),
    [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int"), ("", "NoneType")],
)
def test_non_mapping_document_is_refused(tmp_path, text, type_name):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    (problem,) = caught.value.problems
    assert problem.path == "(document)"
    assert problem.value == type_name
    assert problem.expected == "a mapping of fields"


def test_non_mapping_data_is_refused_by_validate_model():
    with pytest.raises(InputError) as caught:
        validate_model(Protocol, [1, 2, 3])
    assert caught.value.problems[0].path == "(document)"


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    (problem,) = caught.value.problems
    assert problem.path == "file"
    assert problem.value == str(path)
    assert "existing" in problem.expected


def test_directory_is_refused_as_a_file(tmp_path):
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, tmp_path)
    assert caught.value.problems[0].path == "file"


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x80")
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    (problem,) = caught.value.problems
    assert problem.path == "file"
    assert problem.value == "binary data"
    assert problem.expected == "UTF-8 text"


def test_control_characters_in_valid_utf8_are_refused_as_yaml(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"id: a\x00b\n")
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    assert caught.value.problems[0].expected == "well-formed YAML"


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("#" * (MAX_FILE_BYTES + 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_document(path)
    (problem,) = caught.value.problems
    assert problem.path == "file"
    assert str(MAX_FILE_BYTES) in problem.expected


def test_field_errors_from_a_file_carry_the_file_name(tmp_path):
    data = with_change(lambda d: d["waveform"].update(frequency_hz=-1))
    path = tmp_path / "neg.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    assert caught.value.source == str(path)
    assert doc_path(caught.value.problems[0]) == ["waveform", "frequency_hz"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("id: x\ncreated: 2020-02-30\n", id="impossible-date"),
        pytest.param("id: !!int abc\n", id="bad-int-tag"),
        pytest.param("id: !!timestamp xyz\n", id="bad-timestamp-tag"),
        pytest.param("id: " + "1" * 5000 + "\n", id="yaml-int-over-4300-digits"),
        pytest.param('{"id": ' + "1" * 5000 + "}", id="json-int-over-4300-digits"),
        pytest.param("[" * 5000, id="json-deep-nesting"),
        pytest.param("a: " + "[" * 5000, id="yaml-deep-nesting"),
    ],
)
def test_pathological_documents_are_refused_as_input_errors(text):
    with pytest.raises(InputError):
        parse_document(text, "odd.yaml")


# =========================================================================== frozen models


def test_protocol_and_its_parts_are_frozen():
    protocol = make_protocol()
    with pytest.raises(ValidationError, match="frozen"):
        protocol.id = "other"
    with pytest.raises(ValidationError, match="frozen"):
        protocol.waveform.frequency_hz = 1000
    with pytest.raises(ValidationError, match="frozen"):
        protocol.channels[0].electrodes[0].area_cm2 = 1
    with pytest.raises(TypeError):
        protocol.channels[0].electrodes[0] = None  # tuples, not lists
    assert hash(protocol) == hash(make_protocol())


def test_prescription_is_frozen():
    rx = make_prescription()
    with pytest.raises(ValidationError, match="frozen"):
        rx.max_amplitude_ma = 80


def test_models_strip_whitespace_and_refuse_extras_when_built_directly():
    assert Electrode(site="  lumbar_midline ", area_cm2=9).site == "lumbar_midline"
    with pytest.raises(ValidationError):
        Electrode(site="lumbar_midline", area_cm2=9, colour="blue")


# =========================================================================== prescriptions


def test_prescription_takes_the_protocol_defaults():
    protocol = make_protocol(amplitude_ma=25, duration_min=40)
    rx = Prescription.from_protocol(protocol)
    assert rx.max_amplitude_ma == 25
    assert rx.session_duration_min == 40
    assert rx.channels == protocol.channels
    assert rx.waveform is protocol.waveform
    assert rx.envelope is protocol.envelope


def test_prescription_overrides_amplitude_and_minutes():
    protocol = make_protocol()
    rx = Prescription.from_protocol(protocol, max_amplitude_ma=12.5, session_duration_min=20)
    assert rx.max_amplitude_ma == 12.5
    assert rx.session_duration_min == 20
    assert protocol.intensity.max_amplitude_ma == 30  # the protocol is untouched
    assert protocol.session.duration_min == 30


def test_prescription_area_override_resizes_every_electrode_of_every_channel():
    protocol = make_protocol(
        waveform=carrier(),
        channels=[channel_dict("A", (25.0, 16.0)), channel_dict("B", (50.0, 50.0, 9.0))],
    )
    rx = Prescription.from_protocol(protocol, electrode_area_cm2=4)
    areas = [e.area_cm2 for c in rx.channels for e in c.electrodes]
    assert areas == [4.0] * 5
    assert [e.site for e in rx.channels[1].electrodes] == [
        e.site for e in protocol.channels[1].electrodes
    ]
    assert [c.label for c in rx.channels] == ["A", "B"]
    assert protocol.channels[0].electrodes[1].area_cm2 == 16.0  # untouched


def test_prescription_area_override_applies_to_given_channels():
    protocol = make_protocol()
    replacement = Channel.model_validate(channel_dict("A", (9.0, 9.0)))
    rx = Prescription.from_protocol(protocol, channels=(replacement,), electrode_area_cm2=16)
    assert [e.area_cm2 for e in rx.channels[0].electrodes] == [16.0, 16.0]


def test_prescription_area_override_changes_the_densities():
    from builders import channel_metrics

    rx = make_prescription(make_protocol(), electrode_area_cm2=12)
    # 6 mA r.m.s. / 12 cm² = 0.5 mA/cm²
    assert channel_metrics(rx).current_density_ma_per_cm2 == pytest.approx(0.5, rel=1e-9)


@pytest.mark.parametrize(
    "override",
    [
        {"max_amplitude_ma": 0},
        {"max_amplitude_ma": 250},
        {"session_duration_min": -1},
        {"electrode_area_cm2": 0},
    ],
)
def test_prescription_refuses_out_of_range_overrides(override):
    with pytest.raises(InputError) as caught:
        Prescription.from_protocol(make_protocol(), **override)
    (field,) = override
    paths = [p.path for p in caught.value.problems]
    if field == "electrode_area_cm2":
        assert paths == ["channels.0.electrodes.0.area_cm2", "channels.0.electrodes.1.area_cm2"]
    else:
        assert paths == [field]
    assert caught.value.source == "prescription of test-protocol"


def test_prescription_refuses_duplicate_channel_labels():
    protocol = make_protocol()
    channel = protocol.channels[0]
    with pytest.raises(ValueError):
        Prescription.from_protocol(protocol, channels=(channel, channel))


def test_prescription_refuses_carrier_offset_on_a_pulse_train():
    protocol = make_protocol()
    offset = protocol.channels[0].model_copy(update={"carrier_frequency_offset_hz": 100})
    with pytest.raises(ValueError):
        Prescription.from_protocol(protocol, channels=(offset,))


# --------------------------------------------------------------------------- with_dose


def test_with_dose_is_the_one_way_to_change_a_prescriptions_dose():
    """Issue 13: one way to change a dose (the dose tuner, the prescription editor and the
    self-logged sessions each wrote their own). The leading width scales an asymmetric pulse's
    second phase with it, so the pulse keeps its shape and stays charge-balanced."""
    from stimwise.protocol.library import get_protocol

    rx = Prescription.from_protocol(get_protocol("conventional-tens"))
    pulse = rx.waveform.pulse
    assert pulse.kind == "biphasic_asymmetric"
    changed = rx.with_dose(amplitude_ma=12.0, session_duration_min=20.0, frequency_hz=50.0,
                           phase_width_us=2 * pulse.phase_width_us)
    assert (changed.max_amplitude_ma, changed.session_duration_min) == (12.0, 20.0)
    assert changed.waveform.frequency_hz == 50.0
    assert changed.waveform.pulse.phase_width_us == 2 * pulse.phase_width_us
    assert changed.waveform.pulse.second_phase_width_us == 2 * pulse.second_phase_width_us
    assert changed.waveform.pulse.amplitude_ratio == pytest.approx(pulse.amplitude_ratio)
    assert rx.with_dose() == rx


def test_with_dose_names_a_pulse_parameter_given_for_a_carrier_and_a_bad_value():
    from stimwise.protocol.library import library

    carrier = next(p for p in library().values() if not isinstance(p.waveform, PulseTrain))
    rx = Prescription.from_protocol(carrier)
    with pytest.raises(InputError) as refused:
        rx.with_dose(phase_width_us=200.0, source="proposed dose")
    assert refused.value.problems[0].path == "phase_width_us"
    assert "carrier" in refused.value.problems[0].expected
    with pytest.raises(InputError, match="max_amplitude_ma"):
        rx.with_dose(amplitude_ma=500.0)
