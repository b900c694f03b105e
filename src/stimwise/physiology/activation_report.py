"""The gate-control picture of a prescription: which fibres its first channel would recruit.

For a prescription (protocol, electrode areas, amplitude) and a placement (this person's skin and
fat, electrode gap and shape), the report predicts the order and amplitudes at which A-beta
(sensory), A-alpha (motor) and A-delta / C (pain) fibres start to be recruited, and the fraction
of each class recruited at the assumed amplitude. It is a MODEL PREDICTION for explanation and
research: not a diagnosis, not a dose, and never a licence to deliver anything.

The report only describes. It states the amplitude it assumed, runs the safety verification on
the described prescription and flags, without refusing to describe, an amplitude that the safety
gate blocks or that exceeds the protocol's prescribed ceiling (HAZ-036).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.electrodes import ElectrodeShape
from stimwise.physiology.conductors.layered import default_half_space
from stimwise.physiology.population import (
    DEFAULT_CLASSES,
    FiberPopulation,
    fiber_classes,
    sample_population,
)
from stimwise.physiology.recruitment import (
    Neuropathy,
    Placement,
    Progress,
    RecruitmentCurves,
    StimulusRecipe,
    full_thresholds,
    recruitment_curves,
)
from stimwise.protocol.prescription import Prescription

DISCLAIMER = (
    "Model prediction (layered volume conductor + cable models of fibre populations), for "
    "explanation and research: not a diagnosis, not a dose, and not a measurement of this "
    "person. Recruitment fractions are shares of a simulated population, not of a real nerve."
)

ONSET_FRACTION, HALF_FRACTION, FULL_FRACTION = 0.1, 0.5, 0.9
Method = Literal["fast", "full"]


@dataclass(frozen=True)
class PlacementInputs:
    """The person's and the layout's geometry (defaults: cited or stimwise's choices)."""

    skin_mm: float | None = None
    fat_mm: float | None = None
    gap_mm: float = 20.0
    shape: ElectrodeShape = "disc"
    motor_depth_mm: tuple[float, float] | None = None

    def placement(self, prescription: Prescription) -> Placement:
        """The first channel's active (first) and return (second) electrodes, with the
        prescription's conductive areas in cm² (HAZ-037)."""
        channel = prescription.channels[0]
        return self.placement_for_areas(
            channel.electrodes[0].area_cm2, channel.electrodes[1].area_cm2
        )

    def placement_for_areas(self, active_area_cm2: float, return_area_cm2: float) -> Placement:
        conductor = default_half_space(skin_mm=self.skin_mm, fat_mm=self.fat_mm)
        return Placement(conductor, active_area_cm2, return_area_cm2, self.gap_mm, self.shape)

    def depth_overrides(self) -> dict[str, tuple[float, float]]:
        if self.motor_depth_mm is None:
            return {}
        low, high = self.motor_depth_mm
        if not 0 <= low <= high <= 100:
            raise InputError(
                FieldProblem("motor_depth_mm", self.motor_depth_mm, "0 <= low <= high <= 100 mm")
            )
        return {"aalpha": (low, high)}


@dataclass(frozen=True)
class ClassSummary:
    class_id: str
    label: str
    role: str
    onset_ma: float | None
    half_ma: float | None
    most_ma: float | None
    fraction_at_amplitude: float


@dataclass(frozen=True)
class ActivationReport:
    protocol_id: str
    waveform: str
    assumed_amplitude_ma: float
    prescribed_ceiling_ma: float
    safety_verdict: str
    flags: tuple[str, ...]
    placement: dict
    neuropathy: dict | None
    method: str
    n_fibres_per_class: int
    classes: tuple[ClassSummary, ...]
    curves: RecruitmentCurves = field(repr=False)

    @property
    def order(self) -> list[str]:
        """Class ids by onset amplitude (never-recruited classes last)."""
        return [
            c.class_id
            for c in sorted(self.classes, key=lambda c: (c.onset_ma is None, c.onset_ma or 0.0))
        ]

    @property
    def gate_control(self) -> dict:
        fractions = {c.class_id: c.fraction_at_amplitude for c in self.classes}
        pain = [c for c in ("adelta", "c") if c in fractions]
        return {
            "abeta_fraction": fractions.get("abeta"),
            "pain_fraction_adelta_c": float(np.mean([fractions[c] for c in pain]))
            if pain
            else None,
            "motor_fraction": fractions.get("aalpha"),
        }

    def statement(self) -> str:
        g = self.gate_control
        parts = [f"At {self.assumed_amplitude_ma:g} mA the model predicts"]
        if g["abeta_fraction"] is not None:
            parts.append(f"{100 * g['abeta_fraction']:.0f} % of A-beta (sensory)")
        if g["pain_fraction_adelta_c"] is not None:
            parts.append(f"{100 * g['pain_fraction_adelta_c']:.0f} % of A-delta/C (pain)")
        if g["motor_fraction"] is not None:
            parts.append(f"{100 * g['motor_fraction']:.0f} % of A-alpha (motor)")
        return parts[0] + " " + ", ".join(parts[1:]) + " fibres recruited (model prediction)."

    def to_dict(self) -> dict:
        return {
            "kind": "model_prediction",
            "disclaimer": DISCLAIMER,
            "protocol_id": self.protocol_id,
            "waveform": self.waveform,
            "assumed_amplitude_ma": self.assumed_amplitude_ma,
            "prescribed_ceiling_ma": self.prescribed_ceiling_ma,
            "safety_verdict": self.safety_verdict,
            "flags": list(self.flags),
            "placement": self.placement,
            "neuropathy": self.neuropathy,
            "method": self.method,
            "n_fibres_per_class": self.n_fibres_per_class,
            "activation_order": self.order,
            "classes": [vars(c) for c in self.classes],
            "gate_control": self.gate_control,
            "statement": self.statement(),
            "recruitment_curves": self.curves.to_dict(),
        }


def population_thresholds(
    population: FiberPopulation,
    placement: Placement,
    recipe: StimulusRecipe,
    *,
    method: Method,
    depth_overrides_mm: dict[str, tuple[float, float]] | None = None,
    progress: Progress | None = None,
    client: object | None = None,
) -> np.ndarray:
    """Thresholds of every fibre with the fast estimator (tables built on first use) or the full
    model; with a Dask ``client`` the full-model work runs as tasks on its cluster."""
    if method not in ("fast", "full"):
        raise InputError(FieldProblem("estimator", method, "'fast' or 'full'"))
    if method == "full" and client is not None:
        from stimwise.physiology.sweep import SweepJob, run_sweep

        job = SweepJob("population", population, placement, recipe)
        return run_sweep([job], client, progress=progress)[0]
    if method == "full":
        return full_thresholds(population, placement, recipe, progress=progress)
    from stimwise.physiology.estimator import build_tables

    tables = build_tables(
        placement,
        recipe,
        classes=tuple(population.class_ids()),
        depth_overrides_mm=depth_overrides_mm,
        progress=progress,
        client=client,
    )
    return tables.estimate(population, recipe.pulse_width_ms)


def amplitude_flags(prescription: Prescription, assumed_ma: float, verdict: str) -> tuple[str, ...]:
    """Warnings about the amplitude the report assumed (it describes; it never delivers)."""
    flags = []
    ceiling = prescription.protocol.intensity.max_amplitude_ma
    if verdict == "block":
        flags.append(
            "the safety verification BLOCKS this prescription: this report only describes it; "
            "it must not be delivered"
        )
    if assumed_ma > ceiling:
        flags.append(
            f"assumed amplitude {assumed_ma:g} mA exceeds the protocol's prescribed ceiling "
            f"{ceiling:g} mA"
        )
    return tuple(flags)


def activation_report(
    prescription: Prescription,
    *,
    placement_inputs: PlacementInputs | None = None,
    neuropathy: Neuropathy | None = None,
    caps: object | None = None,
    n_per_class: int = 250,
    method: Method = "fast",
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    seed: int = 0,
    progress: Progress | None = None,
    client: object | None = None,
) -> ActivationReport:
    """Predict the recruitment of every class by ``prescription``'s first channel at its
    ``max_amplitude_ma`` (verified with ``caps``; see the module docstring)."""
    from stimwise.safety.verify import verify

    inputs = placement_inputs or PlacementInputs()
    verdict = verify(prescription, caps=caps).verdict
    amplitude = prescription.max_amplitude_ma
    recipe = StimulusRecipe.from_train(prescription.waveform)
    placement = inputs.placement(prescription)
    overrides = inputs.depth_overrides()
    population = sample_population(
        placement.conductor,
        n_per_class,
        classes=classes,
        electrode_half_extent_mm=placement.half_extent_mm,
        depth_overrides_mm=overrides,
        seed=seed,
    )
    thresholds = population_thresholds(
        population,
        placement,
        recipe,
        method=method,
        depth_overrides_mm=overrides,
        progress=progress,
        client=client,
    )
    if neuropathy is not None and neuropathy.active:
        thresholds = neuropathy.apply(population, thresholds)
    finite = thresholds[np.isfinite(thresholds)]
    top = max(float(finite.max()) if finite.size else amplitude, amplitude) * 1.5
    low = min(float(finite.min()) if finite.size else amplitude, amplitude) / 1.5
    curves = recruitment_curves(population, thresholds, np.geomspace(low, top, 200))
    specs = fiber_classes()
    onset = curves.amplitude_for_fraction(ONSET_FRACTION)
    half = curves.amplitude_for_fraction(HALF_FRACTION)
    most = curves.amplitude_for_fraction(FULL_FRACTION)
    at_amplitude = curves.fraction_at(amplitude)
    summaries = tuple(
        ClassSummary(
            cid,
            specs[cid].label,
            specs[cid].role,
            onset[cid],
            half[cid],
            most[cid],
            at_amplitude[cid],
        )
        for cid in population.class_ids()
    )
    return ActivationReport(
        protocol_id=prescription.protocol.id,
        waveform=recipe.label(),
        assumed_amplitude_ma=amplitude,
        prescribed_ceiling_ma=prescription.protocol.intensity.max_amplitude_ma,
        safety_verdict=verdict,
        flags=amplitude_flags(prescription, amplitude, verdict),
        placement=placement.describe(),
        neuropathy=neuropathy.describe() if neuropathy is not None and neuropathy.active else None,
        method=method,
        n_fibres_per_class=n_per_class,
        classes=summaries,
        curves=curves,
    )
