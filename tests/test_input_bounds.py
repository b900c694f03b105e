"""Every boundary validates: numbers where a unit is meant, dates that record the past, the
command line, session settings, file sizes, YAML alias expansion and export lengths.

Hazards HAZ-084 … HAZ-087 (docs/safety/hazards.md).
"""

from __future__ import annotations

import math
import typing
from datetime import timedelta
from types import UnionType

import pytest
import yaml
from typer.models import ArgumentInfo, OptionInfo
from typer.testing import CliRunner

from builders import make_prescription, protocol_dict
from intake_builders import base_intake, intake_from
from stimwise.cli.main import app
from stimwise.clinical.instruments import load_responses
from stimwise.errors import InputError
from stimwise.export.files import MAX_EXPORT_SECONDS, MAX_EXPORT_VALUES, export_samples
from stimwise.numbers import Bounds, parse_number
from stimwise.protocol.base import latest_today
from stimwise.protocol.io import MAX_FILE_BYTES, load_model_file, parse_document, validate_model
from stimwise.protocol.models import Protocol
from stimwise.safety import verify
from stimwise.session.runtime import SessionSettings
from stimwise.waveform.plot import plot_prescription
from stimwise.waveform.sampler import stream_samples

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def refused(result, option: str) -> None:
    """Exit 2, one message naming the option, no traceback."""
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    )


# --------------------------------------------------------------------------- HAZ-084 types, dates


def protocol_problems(**changes) -> list[tuple[str, object]]:
    document = protocol_dict()
    document["intensity"] = {**document["intensity"], **changes.pop("intensity", {})}
    document.update(changes)
    with pytest.raises(InputError) as caught:
        validate_model(Protocol, document)
    return [(p.path, p.value) for p in caught.value.problems]


@pytest.mark.parametrize("value", [True, False, "2_0", "20", "nan", None, [20]])
def test_HAZ084_an_amplitude_must_be_a_number_not_a_boolean_or_text(value):
    assert protocol_problems(intensity={"max_amplitude_ma": value}) == [
        ("intensity.max_amplitude_ma", value)
    ]


def test_HAZ084_whole_numbers_and_floats_are_still_numbers():
    document = protocol_dict(amplitude_ma=20)
    assert validate_model(Protocol, document).intensity.max_amplitude_ma == 20.0
    text = yaml.safe_dump(document)
    assert validate_model(Protocol, parse_document(text, "p.yaml")).intensity.max_amplitude_ma == 20


@pytest.mark.parametrize("text", ["max_amplitude_ma: true", "max_amplitude_ma: 2_0",
                                  "max_amplitude_ma: .nan", "max_amplitude_ma: '20'"])
def test_HAZ084_yaml_booleans_underscores_nan_and_quoted_numbers_are_refused(text, tmp_path):
    document = yaml.safe_dump(protocol_dict()).replace("max_amplitude_ma: 30.0", text)
    path = tmp_path / "p.yaml"
    path.write_text(document)
    with pytest.raises(InputError, match=r"intensity\.max_amplitude_ma"):
        load_model_file(Protocol, path)


@pytest.mark.parametrize("text, value", [("024", 24), ("+7", 7), ("1.0e+1", 10.0), (".5", 0.5),
                                         ("0x14", "0x14"), ("1:20", "1:20"), ("2_0", "2_0"),
                                         ("1e1", "1e1"), ("09", "09")])
def test_HAZ084_yaml_numbers_are_plain_decimals_never_octal_hex_or_sexagesimal(text, value):
    assert parse_document(f"a: {text}", "n.yaml") == {"a": value}
    with pytest.raises(InputError, match="plain decimal"):
        parse_document("a: !!int 0x14", "n.yaml")


@pytest.mark.parametrize("text", ["1e3", "1.5e3", "09", "1e+3", "-2E5", "007", "12"])
def test_HAZ084_text_that_pyyaml_writes_unquoted_is_read_back_as_text(text):
    """Found by tests/test_loader_fuzz.py: an id "1e3" written by yaml.safe_dump came back as
    the number 1000.0. What PyYAML writes as text must read back as the same text."""
    written = yaml.safe_dump({"id": text, "n": 2.5, "k": 7})
    assert parse_document(written, "round.yaml") == {"id": text, "n": 2.5, "k": 7}


def test_HAZ084_the_web_intake_form_reads_numbers_as_strictly():
    from stimwise.clinical.intake import Intake
    from stimwise.web.services.intake_form import read_form

    assert read_form(Intake, {"age_years": ["54"]})[0]["age_years"] == 54
    assert read_form(Intake, {"age_years": ["5_4"]})[0]["age_years"] == "5_4"  # then refused


@pytest.mark.parametrize("text", ["2_0", "nan", "inf", "0x14", "٢"])
def test_HAZ084_numbers_typed_into_web_forms_are_read_strictly(text):
    from stimwise.records.inputs import DiaryEntryIn
    from stimwise.web.services.live_session import start_request
    from stimwise.web.services.prescribing import PrescriptionDraft

    with pytest.raises(InputError) as caught:
        validate_model(PrescriptionDraft, {"max_amplitude_ma": text})
    assert "max_amplitude_ma" in {p.path for p in caught.value.problems}
    with pytest.raises(InputError, match="pain_current_nrs"):
        validate_model(DiaryEntryIn, {"recorded_at": "2026-01-01T08:00:00+00:00",
                                      "pain_current_nrs": text})
    with pytest.raises(InputError, match="target_ma"):
        start_request({"prescription_id": 1, "target_ma": text})
    assert start_request({"prescription_id": "3", "target_ma": "2.5"}).target_ma == 2.5


def test_HAZ084_a_count_is_a_whole_number():
    document = protocol_dict()
    document["session"] = {**document["session"], "sessions_per_day": 1.5}
    with pytest.raises(InputError, match=r"session\.sessions_per_day"):
        validate_model(Protocol, document)
    document["session"]["sessions_per_day"] = True
    with pytest.raises(InputError, match=r"session\.sessions_per_day"):
        validate_model(Protocol, document)


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_HAZ084_a_format_version_is_a_whole_number(value):
    """Found by benchmarks/fuzz_inputs.py: ``schema_version: true`` was read as format 1."""
    with pytest.raises(InputError) as caught:
        intake_from(base_intake(schema_version=value))
    assert [p.path for p in caught.value.problems] == ["schema_version"]
    document = protocol_dict()
    document["schema_version"] = value
    with pytest.raises(InputError, match="schema_version"):
        validate_model(Protocol, document)


@pytest.mark.parametrize("value", [True, "54", 54.0, "5_4"])
def test_HAZ084_an_intake_age_is_a_whole_number(value):
    with pytest.raises(InputError) as caught:
        intake_from(base_intake(age_years=value))
    assert [p.path for p in caught.value.problems] == ["age_years"]


def test_HAZ084_an_assessment_cannot_lie_in_the_future():
    with pytest.raises(InputError) as caught:
        intake_from(base_intake(assessed_on="2099-01-01"))
    problem = caught.value.problems[0]
    assert (problem.path, problem.value) == ("assessed_on", "2099-01-01")
    assert "on or before" in problem.expected
    tomorrow_somewhere = latest_today()
    assert intake_from(base_intake(assessed_on=tomorrow_somewhere.isoformat()))
    with pytest.raises(InputError):
        intake_from(base_intake(assessed_on=(tomorrow_somewhere + timedelta(days=1)).isoformat()))


def test_HAZ084_answers_cannot_be_dated_in_the_future():
    answers = {"responses": [{"instrument": "pain_nrs", "answered_on": "2099-01-01",
                              "answers": {"pain_now": 5, "pain_average": 5, "pain_worst": 6}}]}
    with pytest.raises(InputError, match="answered_on"):
        load_responses(answers)


# --------------------------------------------------------------------------- HAZ-085 options


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e400", "2_0", "0x14", "٢٠",
                                  "true", "", " ", "1,5", "20mA"])
def test_HAZ085_only_plain_finite_decimals_are_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_HAZ085_bounds_read_text_and_numbers_alike():
    ma = Bounds("mA", gt=0, le=200)
    assert ma.parse("20") == 20.0 and ma.parse(" 1e1 ") == 10.0 and ma.parse(7) == 7
    for value in (0, -1, 201, math.nan, math.inf, True, "20", None):
        assert ma.problem("x", value) is not None  # a setting is a number, never text
    for text in ("2_0", "nan", "201", "0"):
        with pytest.raises(ValueError, match="a finite number of mA > 0 and ≤ 200"):
            ma.parse(text)
    whole = Bounds("", ge=0, le=10, integer=True)
    assert whole.parse("7") == 7 and whole.problem("x", 7.0) is not None


def _numeric(annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType, tuple):
        return any(_numeric(a) for a in typing.get_args(annotation) if a is not type(None))
    return annotation in (int, float)


def _commands(typer_app, prefix=()):
    for info in typer_app.registered_commands:
        yield (*prefix, info.name or info.callback.__name__), info.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance, (*prefix, group.name))


def test_HAZ085_every_numeric_option_of_every_command_is_bounded():
    unbounded, checked = [], 0
    for path, callback in _commands(app):
        hints = typing.get_type_hints(getattr(callback, "__wrapped__", callback),
                                      include_extras=True)
        for name, hint in hints.items():
            if typing.get_origin(hint) is not typing.Annotated:
                continue
            base, *extras = typing.get_args(hint)
            infos = [e for e in extras if isinstance(e, OptionInfo | ArgumentInfo)]
            if not infos or not _numeric(base):
                continue
            checked += 1
            if not isinstance(getattr(infos[0].parser, "bounds", None), Bounds):
                unbounded.append(f"{' '.join(path)} {name}")
    assert checked >= 70  # the audit really walked the commands
    assert unbounded == []


@pytest.mark.parametrize("value", ["nan", "-inf", "-1", "0", "2_0", "1e400", "201"])
def test_HAZ085_session_run_refuses_a_bad_target_before_anything_runs(value, tmp_path):
    journal = tmp_path / "s.jsonl"
    result = invoke("session", "run", "conventional-tens", "--auto", "--target-ma", value,
                    "--journal", str(journal))
    refused(result, "--target-ma")
    assert not journal.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "61"])
def test_HAZ085_a_nan_calibration_step_no_longer_stalls_a_session(value, tmp_path):
    result = invoke("session", "run", "conventional-tens", "--auto", "--calibration-step-s",
                    value, "--journal", str(tmp_path / "s.jsonl"))
    refused(result, "--calibration-step-s")


def test_HAZ085_a_target_above_the_prescribed_amplitude_is_refused(tmp_path):
    result = invoke("session", "run", "conventional-tens", "--auto", "--amplitude-ma", "20",
                    "--target-ma", "25", "--journal", str(tmp_path / "s.jsonl"))
    refused(result, "--target-ma")
    assert "at most the prescribed amplitude (20 mA)" in result.output


@pytest.mark.parametrize(
    "args, option",
    [
        (["check", "conventional-tens", "--amplitude-ma", "inf"], "--amplitude-ma"),
        (["check", "conventional-tens", "--minutes", "nan"], "--minutes"),
        (["check", "conventional-tens", "--load-ohm", "nan"], "--load-ohm"),
        (["check", "conventional-tens", "--electrode-area-cm2", "-4"], "--electrode-area-cm2"),
        (["waveform", "export", "conventional-tens", "--out", "x.csv", "--sample-rate-hz",
          "nan"], "--sample-rate-hz"),
        (["waveform", "export", "conventional-tens", "--out", "x.csv", "--seconds", "-inf"],
         "--seconds"),
        (["waveform", "plot", "conventional-tens", "--out", "x.png", "--seconds", "nan"],
         "--seconds"),
        (["model", "threshold", "--diameter-um", "nan"], "--diameter-um"),
        (["model", "strength-duration", "--pulse-widths-ms", "0.1,nan"], "--pulse-widths-ms"),
        (["diary", "add", "P001", "--pain", "true"], "--pain"),
        (["nof1", "plan", "--a", "x", "--b", "y", "--start", "2026-01-01", "--out", "p.json",
          "--pairs", "3.5"], "--pairs"),
        (["serve", "--port", "1e3"], "--port"),
        (["emulate", "rehastim2", "--watchdog-ms", "inf"], "--watchdog-ms"),
        (["prescription", "add", "P001", "conventional-tens", "--home-range-ma", "2_0:nan"],
         "--home-range-ma"),
    ],
)
def test_HAZ085_numeric_options_across_the_cli_are_refused_with_exit_2(args, option, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(invoke(*args), option)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "settings",
    [
        {"calibration_step_s": math.nan},
        {"target_ma": -1.0},
        {"target_ma": math.inf},
        {"tick_s": 0.0},
        {"stop_ramp_s": 0.0},
        {"calibration_series": 2.5},
        {"calibrate": "yes"},
        {"max_slew_ma_per_s": True},
        {"rest_s": "1.0"},
    ],
)
def test_HAZ085_session_settings_refuse_non_finite_and_out_of_range_values(settings):
    with pytest.raises(InputError) as caught:
        SessionSettings(**settings)
    assert caught.value.problems[0].path == f"settings.{next(iter(settings))}"


def test_HAZ085_a_diary_csv_with_nan_or_underscores_is_refused(tmp_path):
    plan = tmp_path / "plan.json"
    assert invoke("nof1", "plan", "--a", "x", "--b", "y", "--start", "2026-01-01",
                  "--out", str(plan)).exit_code == 0
    for bad in ("nan", "1_0", "11", "inf"):
        diary = tmp_path / "diary.csv"
        diary.write_text(f"date,pain_nrs\n2026-01-01,{bad}\n")
        refused(invoke("nof1", "analyse", str(plan), "--diary", str(diary)), "line 2")
    diary.write_bytes(b"date,pain_nrs\n2026-01-01,\xff\xfe\n")
    refused(invoke("nof1", "analyse", str(plan), "--diary", str(diary)), "UTF-8")


# --------------------------------------------------------------------------- HAZ-086 exhaustion


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
       for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
)


def test_HAZ086_billion_laughs_yaml_is_refused_before_it_expands(tmp_path):
    assert len(BILLION_LAUGHS.encode()) < 500
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(InputError) as caught:
        load_model_file(Protocol, path)
    problem = caught.value.problems[0]
    assert "aliases are expanded" in str(problem.value)
    assert "at most 1,000,000 values" in problem.expected


def test_HAZ086_an_alias_that_refers_to_itself_is_refused():
    with pytest.raises(InputError, match="refers to itself"):
        parse_document("a: &a [1, *a]\n", "loop.yaml")


def test_HAZ086_deeply_nested_yaml_is_refused_at_the_depth_limit():
    """Found by benchmarks/fuzz_inputs.py: 5,000 opening brackets recursed until Python's limit
    (seconds of work, a hang under load) before being refused."""
    from stimwise.protocol.io import MAX_YAML_DEPTH

    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(InputError, match=f"nested more than {MAX_YAML_DEPTH} deep"):
        parse_document(deep, "deep.yaml")
    just_fits = "a: " + "[" * (MAX_YAML_DEPTH - 2) + "]" * (MAX_YAML_DEPTH - 2) + "\n"
    assert parse_document(just_fits, "fits.yaml")["a"] is not None


def test_HAZ086_ordinary_aliases_as_pyyaml_writes_them_still_load():
    shared = {"site": "left_calf", "area_cm2": 25.0}
    text = yaml.safe_dump({"x": shared, "y": shared})
    assert "&id001" in text and "*id001" in text
    assert parse_document(text, "shared.yaml") == {"x": shared, "y": shared}


@pytest.mark.parametrize("kind", ["protocol", "intake", "answers"])
def test_HAZ086_a_file_above_the_size_limit_is_refused_before_it_is_read(kind, tmp_path):
    path = tmp_path / f"{kind}.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk, no memory
    args = {"protocol": ["check", str(path)], "intake": ["screen", str(path)],
            "answers": ["instruments", "score", str(path)]}[kind]
    result = invoke(*args)
    refused(result, f"{MAX_FILE_BYTES} bytes")


def test_HAZ086_journals_and_bundles_above_their_limits_are_refused_unread(tmp_path):
    from stimwise.cli.interop import MAX_BUNDLE_BYTES
    from stimwise.session.journal import MAX_JOURNAL_BYTES

    journal, bundle = tmp_path / "big.jsonl", tmp_path / "big.json"
    for path, size in ((journal, MAX_JOURNAL_BYTES), (bundle, MAX_BUNDLE_BYTES)):
        with path.open("wb") as handle:
            handle.truncate(size + 1)
    refused(invoke("session", "recover", str(journal)), f"{MAX_JOURNAL_BYTES} bytes")
    refused(invoke("fhir", "import", str(bundle), "--db", f"sqlite:///{tmp_path / 'x.db'}"),
            f"{MAX_BUNDLE_BYTES} bytes")
    assert journal.stat().st_size == MAX_JOURNAL_BYTES + 1  # recover appended nothing


def test_HAZ086_binary_and_deeply_nested_files_are_input_errors(tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    nested = tmp_path / "n.json"
    nested.write_text("[" * 200_000 + "]" * 200_000)
    for path in (binary, nested):
        with pytest.raises(InputError):
            load_model_file(Protocol, path)


# --------------------------------------------------------------------------- HAZ-087 exports


@pytest.fixture(scope="module")
def plan():
    return verify(make_prescription()).require_plan()


@pytest.mark.parametrize("seconds", [1e308, 1e20, MAX_EXPORT_SECONDS + 1])
def test_HAZ087_an_export_beyond_the_longest_session_is_refused(plan, seconds, tmp_path):
    with pytest.raises(InputError, match="duration_s"):
        export_samples(plan, tmp_path / "x.wav", sample_rate_hz=20_000, duration_s=seconds)
    assert list(tmp_path.iterdir()) == []


def test_HAZ087_an_export_beyond_the_value_cap_is_refused(plan, tmp_path):
    rate = 20_000.0
    longest_s = MAX_EXPORT_VALUES / rate  # one channel
    with pytest.raises(InputError, match="values per export"):
        export_samples(plan, tmp_path / "x.npz", sample_rate_hz=rate, duration_s=longest_s * 1.01)
    assert list(tmp_path.iterdir()) == []


def test_HAZ087_the_cli_export_of_1e308_seconds_is_exit_2_without_traceback(tmp_path):
    out = tmp_path / "x.wav"
    for seconds in ("1e308", "1e20"):
        result = invoke("waveform", "export", "conventional-tens", "--out", str(out),
                        "--seconds", seconds)
        refused(result, "duration_s")
        assert "at most 28800 s (the longest session)" in result.output
    assert list(tmp_path.iterdir()) == []


def test_HAZ087_a_stream_of_1e308_seconds_is_an_input_error_not_an_overflow():
    with pytest.raises(InputError, match="duration_s"):
        stream_samples(make_prescription(), sample_rate_hz=20_000, duration_s=1e308)


def test_HAZ087_plots_are_bounded_in_span_and_rate():
    rx = make_prescription()  # 30 min session
    with pytest.raises(InputError, match="envelope_seconds"):
        plot_prescription(rx, envelope_seconds=1e308)
    with pytest.raises(InputError, match="sample_rate_hz"):
        plot_prescription(rx, sample_rate_hz=1e9)

