"""The safety gate as a type: only ``verify()`` makes a plan, an edited plan reaches no output,
no non-finite value enters a model, and a plan is bound to the person it was verified for.

Hazards HAZ-013 and HAZ-080 … HAZ-083 (docs/safety/hazards.md). Each test tries one way
around the gate that Python offers and checks that nothing is delivered, streamed or exported.
"""

from __future__ import annotations

import copy
import gc
import math
import pickle

import pytest
from pydantic import ValidationError

from builders import channel_dict, make_prescription
from fake_device import FakeStimulator
from stimwise.clinical.examples import example_patient_path
from stimwise.clinical.intake import Intake
from stimwise.clinical.screening import screen
from stimwise.device.simulated import SimulatedStimulator
from stimwise.errors import InputError, PlanBindingError, UnverifiedPlanError
from stimwise.export.files import export_samples
from stimwise.protocol.io import load_model_file
from stimwise.protocol.prescription import Prescription
from stimwise.safety import PatientCaps, VerifiedPlan, require_verified, verify
from stimwise.safety import plan as plan_module
from stimwise.session.journal import Journal, read_journal
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings

PERSON = ScriptedResponder(sensation_threshold_ma=5, comfortable_ma=12, motor_threshold_ma=20)


def tens_plan(**kwargs) -> VerifiedPlan:
    return verify(make_prescription(**kwargs)).require_plan()


def transthoracic_rx() -> Prescription:
    """Electrodes on both sides of the chest at 20 mA: blocked for everyone (HAZ-016)."""
    return make_prescription(
        channels=[channel_dict("A", sites=["left_chest", "right_chest"])], amplitude_ma=20.0
    )


def forged_plan(prescription: Prescription) -> VerifiedPlan:
    """What ``VerifiedPlan.__new__`` made before: an object of the class that verify() never
    issued. It has no attribute at all to carry a report or a prescription (``prescription``
    is here only to say which plan the forger meant)."""
    with pytest.raises(AttributeError):
        object.__setattr__(object.__new__(VerifiedPlan), "_report", verify(prescription))
    return object.__new__(VerifiedPlan)


def connected_sim() -> SimulatedStimulator:
    device = SimulatedStimulator(command_latency_s=0.0)
    device.connect()
    return device


def refused_everywhere(plan: object, tmp_path) -> None:
    """Every output refuses ``plan`` and nothing is delivered or written."""
    with pytest.raises(UnverifiedPlanError):
        require_verified(plan)
    device = connected_sim()
    with pytest.raises(UnverifiedPlanError):
        device.configure(plan)  # type: ignore[arg-type]
    assert device.status().state == "connected"
    assert device.last_pulse_time_s() is None
    with pytest.raises(UnverifiedPlanError):
        export_samples(plan, tmp_path / "x.csv", sample_rate_hz=20_000, duration_s=0.1)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UnverifiedPlanError):
        SessionRunner(plan, FakeStimulator(), Journal(tmp_path / "j.jsonl"), PERSON)  # type: ignore[arg-type]
    assert read_journal(tmp_path / "j.jsonl").events == ()


# --------------------------------------------------------------------------- HAZ-080 forged


def test_HAZ080_the_constructor_and_new_refuse():
    report = verify(make_prescription())
    with pytest.raises(UnverifiedPlanError):
        VerifiedPlan(report.plan.prescription, report)  # type: ignore[call-arg]
    with pytest.raises(UnverifiedPlanError):
        VerifiedPlan.__new__(VerifiedPlan)


def test_HAZ080_a_blocked_transthoracic_plan_made_by_hand_reaches_no_output(tmp_path):
    assert verify(transthoracic_rx()).verdict == "block"
    forged = forged_plan(transthoracic_rx())
    refused_everywhere(forged, tmp_path)
    with pytest.raises(UnverifiedPlanError):
        forged.prescription  # noqa: B018 (the property refuses too)
    assert "not issued by verify()" in repr(forged)


def test_HAZ080_a_hand_made_plan_with_a_passing_report_is_refused_too(tmp_path):
    passing = verify(make_prescription())
    forged = object.__new__(VerifiedPlan)
    with pytest.raises(AttributeError):  # no slot to put a passing report in
        object.__setattr__(forged, "_report", passing)
    refused_everywhere(forged, tmp_path)
    with pytest.raises(UnverifiedPlanError):
        forged.report  # noqa: B018 (the report is read from the seal, which it has not)


def test_HAZ080_a_plan_cannot_be_pickled_and_crafted_pickles_give_nothing_usable(tmp_path):
    plan = tens_plan()
    with pytest.raises(UnverifiedPlanError, match="cannot be pickled"):
        pickle.dumps(plan)
    blocked = verify(transthoracic_rx())

    class Bare:  # unpickles as object.__new__(VerifiedPlan)
        def __reduce__(self):
            return (object.__new__, (VerifiedPlan,))

    class WithState:  # ... and then tries to set the report (BUILD)
        def __reduce__(self):
            return (object.__new__, (VerifiedPlan,), (None, {"_report": blocked}))

    bare = pickle.loads(pickle.dumps(Bare()))
    assert type(bare) is VerifiedPlan
    refused_everywhere(bare, tmp_path)
    with pytest.raises(AttributeError):
        pickle.loads(pickle.dumps(WithState()))


def test_HAZ080_copies_are_the_sealed_plan_itself():
    plan = tens_plan()
    assert copy.copy(plan) is plan
    assert copy.deepcopy(plan) is plan
    assert require_verified(copy.deepcopy({"plan": plan})["plan"]) is plan


def test_HAZ080_subclasses_and_class_assignment_are_refused():
    with pytest.raises(TypeError, match="cannot be subclassed"):
        type("Sub", (VerifiedPlan,), {})

    class LookAlike:
        __slots__ = ("__weakref__", "report")

    impostor = LookAlike()
    with pytest.raises(TypeError, match="layout differs"):
        impostor.__class__ = VerifiedPlan  # and were it allowed, it would hold no seal


def test_HAZ080_a_plan_has_no_attributes_to_set():
    plan = tens_plan()
    for name in ("_report", "prescription", "patient_id", "anything"):
        with pytest.raises(AttributeError):
            setattr(plan, name, None)
    with pytest.raises(AttributeError):
        del plan._report


def test_HAZ080_seals_go_with_their_plans():
    gc.collect()
    before = len(plan_module._SEALS)
    for _ in range(200):
        verify(make_prescription())
    gc.collect()
    assert len(plan_module._SEALS) == before
    kept = [tens_plan() for _ in range(3)]
    assert len(plan_module._SEALS) == before + 3
    assert all(require_verified(p) is p for p in kept)


# ------------------------------------------------------------------------- HAZ-013, HAZ-081 edited


def test_HAZ013_HAZ081_an_edit_anywhere_in_the_prescription_is_detected():
    plan = tens_plan()
    object.__setattr__(plan.prescription, "max_amplitude_ma", 90.0)
    with pytest.raises(UnverifiedPlanError, match="changed after verification"):
        require_verified(plan)

    plan = tens_plan()
    plan.prescription.protocol.waveform.pulse.__dict__["phase_width_us"] = 900.0
    with pytest.raises(UnverifiedPlanError, match="changed after verification"):
        require_verified(plan)

    plan = tens_plan()
    electrode = plan.prescription.channels[0].electrodes[0]
    object.__setattr__(electrode, "area_cm2", 0.5)  # a tiny electrode: a burn risk
    with pytest.raises(UnverifiedPlanError):
        require_verified(plan)


def test_HAZ081_an_edited_report_is_detected():
    plan = tens_plan()
    channel = plan.metrics.channels[0]
    object.__setattr__(channel, "current_density_ma_per_cm2", 1e6)  # the simulator's trip level
    with pytest.raises(UnverifiedPlanError, match="safety report changed"):
        require_verified(plan)


def test_HAZ081_the_plan_holds_its_own_copy_of_what_was_verified():
    rx = make_prescription()
    plan = verify(rx).require_plan()
    assert plan.prescription == rx and plan.prescription is not rx
    object.__setattr__(rx, "max_amplitude_ma", 90.0)  # the caller's object, not the plan's
    assert require_verified(plan).prescription.max_amplitude_ma == 30.0


def test_HAZ081_the_simulator_refuses_an_update_after_the_plan_was_edited_and_stops():
    plan = tens_plan()  # 30 mA
    device = connected_sim()
    device.configure(plan)
    device.arm()
    device.start()
    device.update({"A": 10.0})
    assert device.status().channels[0].amplitude_ma == 10.0
    with pytest.raises(InputError, match="verified plan's maximum 30 mA"):
        device.update({"A": 31.0})
    object.__setattr__(plan.prescription, "max_amplitude_ma", 90.0)
    with pytest.raises(UnverifiedPlanError):
        device.update({"A": 90.0})
    status = device.status()
    assert status.state == "stopped"
    assert status.channels[0].amplitude_ma == 0.0


def test_HAZ081_the_session_aborts_when_its_plan_is_edited_mid_session(tmp_path):
    plan = tens_plan(session_duration_min=1.0)
    device = FakeStimulator()
    clock = [100.0]
    runner = SessionRunner(
        plan, device, Journal(tmp_path / "s.jsonl", clock=lambda: clock[0]), PERSON,
        settings=SessionSettings(calibrate=False, target_ma=10.0), clock=lambda: clock[0],
    )
    while runner.state != "running":
        clock[0] += 0.05
        runner.heartbeat()
        runner.tick()
    object.__setattr__(plan.prescription, "max_amplitude_ma", 90.0)
    clock[0] += 0.05
    runner.heartbeat()
    runner.tick()
    assert runner.state == "aborted"
    assert "changed after verification" in (runner.reason or "")
    assert device.emergency_stops >= 1 and runner.applied_ma == 0.0


def test_HAZ081_an_export_stops_when_its_plan_is_edited_and_publishes_nothing(tmp_path):
    plan = tens_plan()
    out = tmp_path / "w.npz"
    from stimwise.export import files

    original = files.stream_samples

    def edit_after_first_chunk(*args, **kwargs):
        for index, chunk in enumerate(original(*args, **kwargs)):
            if index == 1:
                object.__setattr__(plan.prescription, "max_amplitude_ma", 90.0)
            yield chunk

    files.stream_samples = edit_after_first_chunk
    try:
        with pytest.raises(UnverifiedPlanError):
            export_samples(plan, out, sample_rate_hz=20_000, duration_s=30.0)
    finally:
        files.stream_samples = original
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- HAZ-082 non-finite


BAD_NUMBERS = [math.nan, math.inf, -math.inf, -1.0, 0.0]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["max_amplitude_ma", "session_duration_min"])
def test_HAZ082_model_copy_cannot_put_a_bad_number_into_a_prescription(field, value):
    rx = make_prescription()
    with pytest.raises(ValidationError) as caught:
        rx.model_copy(update={field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_HAZ082_nor_into_a_nested_pulse_or_a_protocol(value):
    rx = make_prescription()
    pulse = rx.protocol.waveform.pulse
    with pytest.raises(ValidationError):
        pulse.model_copy(update={"phase_width_us": value})
    with pytest.raises(ValidationError):
        rx.protocol.intensity.model_copy(update={"max_amplitude_ma": value})
    with pytest.raises(ValidationError):
        type(rx).model_construct(**{**dict(rx), "max_amplitude_ma": value})


def test_HAZ082_a_copy_without_changes_is_the_model_and_a_good_change_is_validated():
    rx = make_prescription()
    assert rx.model_copy() is rx
    lower = rx.model_copy(update={"max_amplitude_ma": 20})
    assert lower.max_amplitude_ma == 20.0 and isinstance(lower, Prescription)
    with pytest.raises(ValidationError, match="Extra inputs"):
        rx.model_copy(update={"max_amplitude_a": 0.02})


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "90", True])
@pytest.mark.parametrize(
    "where",
    ["max_amplitude_ma", "session_duration_min", "pulse.phase_width_us", "electrode.area_cm2"],
)
def test_HAZ082_verify_refuses_a_value_forced_past_validation(where, value):
    rx = make_prescription()
    target = {
        "max_amplitude_ma": rx,
        "session_duration_min": rx,
        "pulse.phase_width_us": rx.protocol.waveform.pulse,
        "electrode.area_cm2": rx.channels[0].electrodes[0],
    }[where]
    object.__setattr__(target, where.rsplit(".", 1)[-1], value)
    with pytest.raises(InputError) as caught:
        verify(rx)
    assert caught.value.problems[0].path.endswith(where.rsplit(".", 1)[-1])


def test_HAZ082_verify_refuses_forced_caps_and_non_finite_loads():
    caps = PatientCaps(max_amplitude_ma=20)
    object.__setattr__(caps, "max_amplitude_ma", math.nan)
    with pytest.raises(InputError, match="max_amplitude_ma"):
        verify(make_prescription(), caps=caps)
    for load in (math.nan, math.inf, -500.0, 0.0, True, "500"):
        with pytest.raises(InputError, match="load"):
            verify(make_prescription(), load_ohm=load)
    with pytest.raises(InputError, match="extra_loads_ohm"):
        verify(make_prescription(), extra_loads_ohm=(2000.0, math.nan))
    with pytest.raises(InputError, match="a Prescription"):
        verify({"max_amplitude_ma": 30})  # type: ignore[arg-type]


def test_HAZ082_an_intake_copy_cannot_hold_a_non_number_either():
    intake = load_model_file(Intake, example_patient_path("crps-allodynia"))
    for value in (math.nan, -1, 121, True, "54"):
        with pytest.raises(ValidationError):
            intake.model_copy(update={"age_years": value})


# --------------------------------------------------------------------------- HAZ-083 bound


def test_HAZ083_a_plan_verified_with_a_screening_is_bound_to_that_person():
    intake = load_model_file(Intake, example_patient_path("crps-allodynia"))
    screening = screen(intake)
    assert screening.caps.patient_id == intake.patient_id
    rx = make_prescription(channels=[channel_dict("A", sites=["left_calf", "left_ankle"])])
    plan = verify(rx, caps=screening.caps).require_plan()
    assert plan.patient_id == intake.patient_id and plan.patient_specific
    assert require_verified(plan, patient_id=intake.patient_id) is plan
    with pytest.raises(PlanBindingError, match=f"verified for {intake.patient_id}"):
        require_verified(plan, patient_id="P-OTHER")


def test_HAZ083_a_plan_without_caps_is_not_patient_specific():
    plan = tens_plan()
    assert plan.patient_id is None and not plan.patient_specific
    assert "not patient-specific" in repr(plan)
    assert require_verified(plan) is plan  # a research or demonstration run
    with pytest.raises(PlanBindingError, match="not patient-specific"):
        require_verified(plan, patient_id="P001")
    anonymous_caps = PatientCaps(max_amplitude_ma=40)
    assert not verify(make_prescription(), caps=anonymous_caps).require_plan().patient_specific


def test_HAZ083_a_session_for_a_person_needs_a_plan_verified_for_them(tmp_path):
    unbound = tens_plan()
    theirs = verify(make_prescription(), caps=PatientCaps(patient_id="P002")).require_plan()
    mine = verify(make_prescription(), caps=PatientCaps(patient_id="P001")).require_plan()
    for plan in (unbound, theirs):
        with pytest.raises(PlanBindingError):
            SessionRunner(plan, FakeStimulator(), Journal(tmp_path / "a.jsonl"), PERSON,
                          patient_id="P001")
    assert read_journal(tmp_path / "a.jsonl").events == ()
    with pytest.raises(PlanBindingError):  # caps of one person, plan of another
        SessionRunner(mine, FakeStimulator(), Journal(tmp_path / "b.jsonl"), PERSON,
                      caps=PatientCaps(patient_id="P002"))
    runner = SessionRunner(mine, FakeStimulator(), Journal(tmp_path / "c.jsonl"), PERSON,
                           patient_id="P001", caps=PatientCaps(patient_id="P001"))
    runner.emergency_stop()
    start = read_journal(tmp_path / "c.jsonl").events[0]
    assert (start["patient_id"], start["plan_patient_id"], start["patient_specific"]) == (
        "P001", "P001", True)


def test_HAZ083_a_run_without_a_person_is_journaled_as_not_patient_specific(tmp_path):
    runner = SessionRunner(tens_plan(), FakeStimulator(), Journal(tmp_path / "s.jsonl"), PERSON)
    runner.emergency_stop()
    start = read_journal(tmp_path / "s.jsonl").events[0]
    assert start["patient_id"] is None
    assert start["plan_patient_id"] is None and start["patient_specific"] is False


def test_HAZ083_caps_name_a_person_by_pseudonym_only():
    with pytest.raises(ValidationError):
        PatientCaps(patient_id="Jane Doe")
    assert PatientCaps(patient_id="P001").patient_id == "P001"


def _mutable_parts(tp, seen: set, path: str) -> list[str]:
    """Paths inside type ``tp`` that hold a mutable container or a non-frozen model."""
    import dataclasses
    import typing

    from pydantic import BaseModel

    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _mutable_parts(typing.get_args(tp)[0], seen, path)
    if origin in (list, dict, set, bytearray) or tp in (list, dict, set, bytearray):
        return [path]
    if origin is not None:
        return [bad for i, arg in enumerate(typing.get_args(tp))
                for bad in _mutable_parts(arg, seen, f"{path}[{i}]")]
    if not isinstance(tp, type) or tp in seen:
        return []
    seen.add(tp)
    if issubclass(tp, BaseModel):
        frozen = [] if tp.model_config.get("frozen") else [f"{path} (not frozen)"]
        return frozen + [bad for name, field in tp.model_fields.items()
                         for bad in _mutable_parts(field.annotation, seen, f"{path}.{name}")]
    if dataclasses.is_dataclass(tp):
        from stimwise.waveform.metrics import PlanMetrics

        names = {"PlanMetrics": PlanMetrics, "VerifiedPlan": VerifiedPlan}
        hints = typing.get_type_hints(tp, localns=names)
        frozen = [] if tp.__dataclass_params__.frozen else [f"{path} (not frozen)"]
        return frozen + [bad for f in dataclasses.fields(tp) if f.name != "plan"
                         for bad in _mutable_parts(hints[f.name], seen, f"{path}.{f.name}")]
    return []


def test_HAZ081_everything_a_plan_carries_is_frozen_all_the_way_down():
    from stimwise.safety.report import SafetyReport

    assert _mutable_parts(Prescription, set(), "prescription") == []
    assert _mutable_parts(SafetyReport, set(), "report") == []
