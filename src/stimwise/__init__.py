"""stimwise: safe, personalised electrical stimulation therapy (TENS, NMES, microcurrent).

stimwise is clinical-decision support and research software. It is **not** a certified medical
device and does not replace a clinician's judgement.

``import stimwise as sw`` gives the names a first script needs; each is imported from its
package the first time it is used, so ``import stimwise`` itself loads no numerical, database or
web library. ``docs/api.md`` lists every name; ``examples/first-steps.ipynb`` uses them.

Examples
--------
Load a protocol, verify it, screen a person, compute a fibre threshold:

>>> import stimwise as sw
>>> protocol = sw.load_protocol("conventional-tens")
>>> report = sw.verify(protocol)
>>> report.verdict
'pass'
>>> screening = sw.screen(sw.load_intake(sw.example_patient_path("crps-allodynia")))
>>> screening.decision
'eligible_with_precautions'
>>> round(sw.fiber_threshold("mrg", diameter_um=10, distance_mm=1).threshold_ma, 3)
0.122
"""

from stimwise._lazy import attach as _attach

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _attach(
    __name__,
    {
        # protocols and prescriptions
        "Protocol": "stimwise.protocol.models",
        "Prescription": "stimwise.protocol.prescription",
        "library": "stimwise.protocol.library",
        "load_protocol": "stimwise.protocol.library:get_protocol",
        # waveforms: exact metrics, samples, plots
        "compute_metrics": "stimwise.waveform.metrics",
        "plot_prescription": "stimwise.waveform.plot",
        "sample_window": "stimwise.waveform.sampler",
        "save_figure": "stimwise.plotting",
        # the safety gate and exports
        "PatientCaps": "stimwise.safety.caps",
        "SafetyReport": "stimwise.safety.report",
        "VerifiedPlan": "stimwise.safety.plan",
        "verify": "stimwise.safety.verify",
        "export_samples": "stimwise.export.files",
        # the person: intake, screening, recommendation
        "Intake": "stimwise.clinical.intake",
        "RecommendationReport": "stimwise.clinical.models",
        "Screening": "stimwise.clinical.screening",
        "example_patient_path": "stimwise.clinical.examples",
        "load_intake": "stimwise.clinical.intake",
        "recommend": "stimwise.clinical.recommend",
        "screen": "stimwise.clinical.screening",
        # the physiology engine
        "FiberThreshold": "stimwise.physiology.single_fiber",
        "fiber_threshold": "stimwise.physiology.single_fiber",
        # devices and sessions
        "ScriptedResponder": "stimwise.session.prompts",
        "SessionRecord": "stimwise.session.record",
        "SessionSettings": "stimwise.session.limits",
        "open_device": "stimwise.device.registry",
        "run_session": "stimwise.session.scripted",
        # errors
        "ArgumentTypeError": "stimwise.errors",
        "InputError": "stimwise.errors",
        "SafetyBlockError": "stimwise.errors",
        "StimwiseError": "stimwise.errors",
        "UnverifiedPlanError": "stimwise.errors",
    },
)
