"""The public face (issue 13): ``import stimwise as sw`` gives a researcher's names lazily, every
package declares ``__all__`` (agreeing with its ``.pyi`` stub), entry points refuse wrong types by
name, and the issue's five-line script works."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import stimwise
from stimwise.errors import ArgumentTypeError, InputError, SafetyBlockError

SRC = Path(stimwise.__file__).parent
REPO = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "scipy", "numba", "matplotlib", "sqlalchemy", "fastapi", "pydantic", "yaml")
"""What ``import stimwise`` must not import (the issue names the first six; pydantic and PyYAML
are cheap but not needed either)."""

LAZY_PACKAGES = (
    "stimwise",
    "stimwise.analysis",
    "stimwise.cli",
    "stimwise.clinical",
    "stimwise.device",
    "stimwise.interop",
    "stimwise.physiology",
    "stimwise.records",
    "stimwise.session",
    "stimwise.waveform",
    "stimwise.web",
)
EAGER_PACKAGES = ("stimwise.export", "stimwise.protocol", "stimwise.safety")
"""Packages whose ``__init__`` imported their names before issue 13 and still does (light, and
their names ``verify`` and ``library`` are also module names, which only an eager import binds
reliably)."""


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter from the repository root (the five-line script
    reads ``examples/patients``)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_stimwise_imports_nothing_heavy():
    loaded = json.loads(_run(
        "import json, sys, stimwise; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    ))
    assert loaded == []


def test_the_cli_package_and_the_session_limits_stay_light():
    """``stimwise --help`` imports ``stimwise.cli`` and ``stimwise.session.limits``: their
    package ``__init__`` files must not pull the runtime (numpy) in."""
    loaded = json.loads(_run(
        "import json, sys, stimwise.cli, stimwise.session.limits, stimwise.device, "
        "stimwise.records, stimwise.web, stimwise.physiology, stimwise.analysis; "
        f"print(json.dumps([m for m in {HEAVY[:6]!r} if m in sys.modules]))"
    ))
    assert loaded == []


def test_a_name_is_imported_on_first_use_only():
    out = _run(
        "import sys, stimwise as sw; a = 'stimwise.safety.verify' in sys.modules; "
        "sw.verify; print(a, 'stimwise.safety.verify' in sys.modules, 'verify' in vars(sw))"
    )
    assert out.split() == ["False", "True", "True"]  # cached on the package after first use


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'stimwise' has no attribute 'verfiy'"):
        stimwise.verfiy  # noqa: B018


def _package(name: str):
    return importlib.import_module(name)


@pytest.mark.parametrize("name", LAZY_PACKAGES + EAGER_PACKAGES)
def test_every_name_in_all_resolves(name):
    package = _package(name)
    assert package.__all__ == sorted(package.__all__) or name in EAGER_PACKAGES
    for public in package.__all__:
        assert getattr(package, public) is not None, f"{name}.{public}"
    assert set(package.__all__) <= set(dir(package))


def _stub_names(path: Path) -> tuple[dict[str, str], list[str]]:
    """Public name -> 'module:attribute' and ``__all__`` of a ``.pyi`` stub."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    declared: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Assign) and node.targets[0].id == "__all__":  # type: ignore[attr-defined]
            declared = [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    return imported, declared


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_the_stub_and_the_lazy_table_agree(name):
    package = _package(name)
    stub = Path(package.__file__).with_suffix(".pyi")
    imported, declared = _stub_names(stub)
    assert declared == package.__all__
    assert sorted(imported) == package.__all__
    for public, target in imported.items():
        module, _, attribute = target.partition(":")
        assert getattr(package, public) is getattr(importlib.import_module(module), attribute), (
            f"{name}.{public}: the stub says {target}"
        )


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_no_lazy_name_is_also_a_module_of_its_package(name):
    """Importing ``stimwise.session.runtime`` sets the package attribute ``runtime`` to the
    module; a lazy name of the same spelling would then never be looked up (see _lazy.py)."""
    package = _package(name)
    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert set(package.__all__) & modules == set()


def test_every_package_declares_all():
    packages = [
        info.name for info in pkgutil.walk_packages([str(SRC)], prefix="stimwise.")
        if info.ispkg and info.name.count(".") == 1
    ]
    assert len(packages) >= 13
    missing = [name for name in packages if "__all__" not in _package(name).__dict__
               and "__all__" not in dir(_package(name))]
    assert missing == []
    assert set(LAZY_PACKAGES + EAGER_PACKAGES) == {"stimwise", *packages}


def _public_objects():
    for name in LAZY_PACKAGES + EAGER_PACKAGES:
        package = _package(name)
        for public in package.__all__:
            value = getattr(package, public)
            if inspect.isclass(value) or inspect.isfunction(value):
                yield f"{name}.{public}", value


@pytest.mark.parametrize(("qualified", "value"), list(_public_objects()),
                         ids=[q for q, _ in _public_objects()])
def test_every_public_function_and_class_has_a_runnable_example(qualified, value):
    doc = inspect.getdoc(value) or ""
    assert "Examples\n--------" in doc, f"{qualified} has no numpydoc Examples section"
    assert ">>> " in doc.split("Examples\n--------", 1)[1], f"{qualified}: no example to run"


def test_the_five_line_script_of_the_issue():
    """Issue 13, done when: a five-line script loads a protocol, verifies it, screens an example
    intake and computes a fibre threshold."""
    out = _run(
        "import stimwise as sw\n"
        "p = sw.load_protocol('conventional-tens')\n"
        "report = sw.verify(p)\n"
        "s = sw.screen(sw.load_intake('examples/patients/crps-allodynia.yaml'))\n"
        "t = sw.fiber_threshold('mrg', diameter_um=10, distance_mm=1, pulse_width_ms=0.1)\n"
        "print(report.verdict, report.plan is not None, s.decision, round(t.threshold_ma, 3))\n"
    )
    assert out.split() == ["pass", "True", "eligible_with_precautions", "0.122"]


# --------------------------------------------------------------------------- type checks


@pytest.mark.parametrize(
    ("call", "function", "hint"),
    [
        (lambda sw: sw.verify("conventional-tens"), "verify",
         "load it first with stimwise.load_protocol('conventional-tens')"),
        (lambda sw: sw.verify(sw.load_protocol("burst-tens"), caps=sw.screen(
            sw.load_intake(sw.example_patient_path("crps-allodynia")))), "verify",
         "a screening's caps are screening.caps"),
        (lambda sw: sw.compute_metrics({"id": "x"}), "compute_metrics",
         "make one with stimwise.Prescription.from_protocol"),
        (lambda sw: sw.plot_prescription(sw.verify(sw.load_protocol("burst-tens"))),
         "plot_prescription", "report.plan.prescription"),
        (lambda sw: sw.sample_window(sw.verify(sw.load_protocol("burst-tens")).plan,
                                     sample_rate_hz=1e5, duration_s=0.1),
         "sample_window", "plan.prescription"),
        (lambda sw: sw.Prescription.from_protocol("burst-tens"), "Prescription.from_protocol",
         "stimwise.load_protocol('burst-tens')"),
        (lambda sw: sw.screen("examples/patients/pacemaker.yaml"), "screen",
         "stimwise.load_intake('examples/patients/pacemaker.yaml')"),
        (lambda sw: sw.recommend({"patient_id": "x"}), "recommend",
         "stimwise.Intake.model_validate(data)"),
        (lambda sw: sw.recommend(sw.load_intake(sw.example_patient_path("pacemaker")),
                                 screening=sw.example_patient_path("pacemaker")),
         "recommend", "stimwise.screen(intake)"),
        (lambda sw: sw.load_intake(42), "load_intake", None),
        (lambda sw: sw.load_protocol(None), "load_protocol", None),
        (lambda sw: sw.run_session(sw.Prescription.from_protocol(sw.load_protocol("burst-tens")),
                                   journal_path="j.jsonl"), "run_session",
         "stimwise.verify(prescription).require_plan()"),
        (lambda sw: sw.save_figure("figure", "f.png"), "save_figure", "plot function"),
        (lambda sw: sw.open_device(5), "open_device", "a device spec such as 'sim'"),
    ],
    ids=["verify-id", "verify-screening-as-caps", "metrics-dict", "plot-report", "sample-plan",
         "from-protocol-id", "screen-path", "recommend-dict", "recommend-screening-path",
         "load-intake-int", "load-protocol-none", "run-session-prescription", "save-str",
         "open-device-int"],
)
def test_entry_points_refuse_wrong_types_by_name_and_say_what_to_do(call, function, hint):
    import stimwise as sw

    with pytest.raises(ArgumentTypeError) as caught:
        call(sw)
    message = str(caught.value)
    assert message.startswith(f"{function}() expects ")
    assert hint is None or hint in message
    assert isinstance(caught.value, InputError) and isinstance(caught.value, TypeError)


@pytest.mark.parametrize("name", ["diameter_um", "distance_mm", "pulse_width_ms",
                                  "temperature_c", "rel_tol"])
@pytest.mark.parametrize("value", ["10", None, True, float("nan")])
def test_fiber_threshold_names_an_argument_that_is_not_a_number(name, value):
    import stimwise as sw

    with pytest.raises(InputError) as caught:
        sw.fiber_threshold("mrg", **{name: value})
    assert caught.value.problems[0].path == name


def test_an_argument_type_error_is_an_input_error_for_the_cli_and_the_api():
    import stimwise as sw

    with pytest.raises(InputError) as caught:
        sw.verify(3)
    problem = caught.value.problems[0]
    assert (problem.path, problem.value) == ("prescription", 3)
    assert caught.value.to_dict()["problems"][0]["expected"] == "a Prescription or a Protocol"


def test_verify_takes_a_protocol_as_its_default_prescription():
    """Issue 13: ``verify(protocol)`` failed with AttributeError 'max_amplitude_ma'."""
    import stimwise as sw

    protocol = sw.load_protocol("nmes-strengthening")
    from_protocol = sw.verify(protocol)
    from_prescription = sw.verify(sw.Prescription.from_protocol(protocol))
    assert from_protocol.require_plan().fingerprint == from_prescription.require_plan().fingerprint
    assert from_protocol.to_dict() == from_prescription.to_dict()
    assert sw.compute_metrics(protocol) == sw.compute_metrics(
        sw.Prescription.from_protocol(protocol))


def test_the_public_names_are_the_package_functions_themselves():
    """One function per job: the public face re-exports, it does not wrap."""
    import stimwise as sw
    from stimwise.clinical.screening import screen
    from stimwise.protocol.library import get_protocol
    from stimwise.safety.verify import verify

    assert (sw.verify, sw.screen, sw.load_protocol) == (verify, screen, get_protocol)


# --------------------------------------------------------------------------- HAZ-178, HAZ-179


def test_HAZ178_recommend_refuses_the_screening_of_another_person_or_assessment():
    import stimwise as sw

    crps = sw.load_intake(sw.example_patient_path("crps-allodynia"))
    pacemaker = sw.load_intake(sw.example_patient_path("pacemaker"))
    with pytest.raises(InputError, match="screening of DEMO-PACE-04") as caught:
        sw.recommend(crps, screening=sw.screen(pacemaker))
    assert caught.value.problems[0].path == "screening"
    later = crps.model_copy(update={"assessed_on": crps.assessed_on + timedelta(days=1)})
    with pytest.raises(InputError, match=f"assessed on {later.assessed_on.isoformat()}"):
        sw.recommend(crps, screening=sw.screen(later))
    assert sw.recommend(crps, screening=sw.screen(crps)).recommendations  # its own: fine


def test_HAZ179_a_simulated_person_never_answers_for_a_real_stimulator(tmp_path):
    import stimwise as sw

    plan = sw.verify(sw.Prescription.from_protocol(
        sw.load_protocol("conventional-tens"), session_duration_min=0.05)).require_plan()
    for device in ("p24:/dev/ttyUSB0", "rehastim2:/dev/ttyUSB0", sw.open_device("sim")):
        with pytest.raises(InputError, match="a simulated person answers only on the simulator"):
            sw.run_session(plan, device, journal_path=tmp_path / "j.jsonl")
    assert not (tmp_path / "j.jsonl").exists()  # refused before a journal was opened


def test_run_session_runs_a_verified_plan_on_the_simulator_and_journals_it(tmp_path):
    import stimwise as sw
    from stimwise.session import read_journal

    plan = sw.verify(sw.Prescription.from_protocol(
        sw.load_protocol("conventional-tens"), session_duration_min=0.05)).require_plan()
    ticks = []
    record = sw.run_session(plan, journal_path=tmp_path / "s.jsonl", on_tick=ticks.append,
                            settings=sw.SessionSettings(calibrate=False, target_ma=12))
    assert record.outcome == "completed" and 2.5 < record.stimulation_s < 3.5
    assert record.patient_id is None and len(ticks) > 20
    contents = read_journal(tmp_path / "s.jsonl")
    assert contents.problems == () and contents.events[0]["patient_specific"] is False


def test_run_session_with_a_screening_is_that_persons_and_refuses_a_plan_not_theirs(tmp_path):
    import stimwise as sw
    from stimwise.errors import PlanBindingError

    intake = sw.load_intake(sw.example_patient_path("crps-allodynia"))
    screening = sw.screen(intake)
    best = sw.recommend(intake, screening).recommendations[0].prescription
    short = best.model_copy(update={"session_duration_min": 0.05})
    unbound = sw.verify(short).require_plan()
    with pytest.raises(PlanBindingError):
        sw.run_session(unbound, journal_path=tmp_path / "a.jsonl", screening=screening)
    plan = sw.verify(short, caps=screening.caps).require_plan()
    record = sw.run_session(plan, journal_path=tmp_path / "b.jsonl", screening=screening,
                            settings=sw.SessionSettings(calibrate=False, target_ma=2))
    assert record.outcome == "completed" and record.patient_id == intake.patient_id


def test_run_session_refuses_a_person_whose_screening_does_not_allow_stimulation(tmp_path):
    import stimwise as sw

    screening = sw.screen(sw.load_intake(sw.example_patient_path("pacemaker")))
    plan = sw.verify(sw.load_protocol("conventional-tens"), caps=screening.caps).plan
    assert plan is not None  # the caps alone do not block this protocol...
    with pytest.raises(SafetyBlockError, match="needs specialist clearance"):
        sw.run_session(plan, journal_path=tmp_path / "j.jsonl", screening=screening)


def test_json_schemas_keep_docstring_prose_but_not_examples():
    from stimwise.cli.schemas import schema_document

    text = json.dumps(schema_document("protocol"))
    assert ">>>" not in text and "Examples" not in text
    assert "A surface electrode: where it sits and its conductive area." in text


def test_the_readme_script_loads_verifies_screens_recommends_and_computes_a_threshold(
        monkeypatch):
    """The "From Python" block of the README runs as written (issue 13: a five-line script)."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(root)
    names: dict = {}
    exec(compile(block, "README.md", "exec"), names)  # our own README, as written
    assert names["report"].verdict == "pass"
    assert names["screening"].decision == "eligible_with_precautions"
    assert names["plan"].prescription == names["best"].prescription
    assert 0.05 < names["threshold"].threshold_ma < 1.0  # 10 µm MRG, 1 mm, 100 µs
