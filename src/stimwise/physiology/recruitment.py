"""Recruitment: thresholds of every fibre of a population under one placement and waveform.

The full model builds each fibre (MRG or C cable), samples the layered conductor's potential at
its sections and runs the batched threshold search of :mod:`stimwise.physiology.threshold`.
Recruitment curves are the fraction of each class whose threshold lies at or below an amplitude.
Thresholds are those of ONE pulse (the first of a train): summation over the pulses of a train or
burst, accommodation and habituation are not modelled.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.conductors.electrodes import ElectrodePair, ElectrodeShape, bipolar_pair
from stimwise.physiology.conductors.layered import LayeredHalfSpace
from stimwise.physiology.fibers import Fiber, build_fiber
from stimwise.physiology.geometry import straight_fiber_points_mm
from stimwise.physiology.population import FiberPopulation, fiber_classes
from stimwise.physiology.stimulus import Stimulus
from stimwise.physiology.threshold import find_thresholds
from stimwise.protocol.models import PulseTrain

Progress = Callable[[int, int], None]

TAIL_MS = {"mrg": 5.0, "c": 15.0}
"""Simulated time after the pulse ends, long enough for the action potential to reach the
detection node from the excitation site (U: from the fibres' conduction velocities, ≥ 10 m/s for
the myelinated and ≥ 0.5 m/s for the C fibres over their paths here)."""

DELAY_MS = 0.1
DT_MS = 0.001
"""Backward Euler at 1 µs, the step the engine is validated at against NEURON."""


@dataclass(frozen=True)
class Placement:
    """One bipolar channel on one person: the tissue stack and the two electrodes."""

    conductor: LayeredHalfSpace
    active_area_cm2: float
    return_area_cm2: float
    gap_mm: float = 20.0
    shape: ElectrodeShape = "disc"

    @functools.cached_property
    def channel(self) -> ElectrodePair:
        return bipolar_pair(
            self.conductor,
            self.active_area_cm2,
            self.return_area_cm2,
            gap_mm=self.gap_mm,
            shape=self.shape,
        )

    @property
    def half_extent_mm(self) -> float:
        return self.channel.active.half_extent_x_mm

    def describe(self) -> dict:
        return {
            "layers": [layer.model_dump(exclude_none=True) for layer in self.conductor.layers],
            "active_area_cm2": self.active_area_cm2,
            "return_area_cm2": self.return_area_cm2,
            "gap_mm": self.gap_mm,
            "shape": self.shape,
        }


@dataclass(frozen=True)
class StimulusRecipe:
    """How to make the unit stimulus for a fibre model: a single rectangular pulse
    (``monophasic`` / ``biphasic``, cathodic first) or the first pulse of a stimwise
    :class:`PulseTrain` (``train``), with its leading phase ``pulse_width_ms`` long."""

    kind: Literal["monophasic", "biphasic", "train"]
    pulse_width_ms: float
    train: PulseTrain | None = None

    def __post_init__(self) -> None:
        if not (0.001 <= self.pulse_width_ms <= 10.0):
            raise InputError(
                FieldProblem("pulse_width_ms", self.pulse_width_ms, "a width from 0.001 to 10 ms")
            )
        if (self.kind == "train") != (self.train is not None):
            raise InputError(FieldProblem("train", self.kind, "a PulseTrain exactly for 'train'"))

    @classmethod
    def from_train(cls, train: object) -> StimulusRecipe:
        """The recipe of a protocol's waveform; kHz carriers are refused (not modelled)."""
        if not isinstance(train, PulseTrain):
            raise InputError(
                FieldProblem(
                    "waveform.kind",
                    getattr(train, "kind", type(train).__name__),
                    "a pulse train (recruitment of kHz carrier waveforms is not modelled)",
                )
            )
        return cls("train", train.pulse.phase_width_us / 1000.0, train)

    def with_pulse_width(self, pulse_width_ms: float) -> StimulusRecipe:
        if self.train is None:
            return StimulusRecipe(self.kind, pulse_width_ms)
        pulse = self.train.pulse.model_copy(update={"phase_width_us": pulse_width_ms * 1000.0})
        if getattr(pulse, "second_phase_width_us", np.inf) < pulse.phase_width_us:
            pulse = pulse.model_copy(update={"second_phase_width_us": pulse.phase_width_us})
        return StimulusRecipe(
            "train", pulse_width_ms, self.train.model_copy(update={"pulse": pulse})
        )

    @property
    def pulse_duration_ms(self) -> float:
        if self.train is None:
            return self.pulse_width_ms * (2 if self.kind == "biphasic" else 1)
        return self.train.pulse.pulse_duration_us / 1000.0

    def stimulus(self, model: str) -> Stimulus:
        duration = DELAY_MS + self.pulse_duration_ms + TAIL_MS[model]
        if self.train is None:
            return Stimulus.pulse(
                self.kind, self.pulse_width_ms, dt_ms=DT_MS, delay_ms=DELAY_MS, duration_ms=duration
            )
        return Stimulus.from_train(self.train, duration_ms=duration, dt_ms=DT_MS, delay_ms=DELAY_MS)

    def shape_key(self) -> dict:
        """Everything but the leading phase width (the estimator's pulse-width axis)."""
        if self.train is None:
            return {"kind": self.kind}
        pulse = self.train.pulse.model_dump(mode="json", exclude={"phase_width_us"})
        return {"kind": "train", "pulse": pulse}

    def label(self) -> str:
        name = self.kind if self.train is None else self.train.pulse.kind
        return f"{name}, leading phase {self.pulse_width_ms * 1000:g} µs"


def stable_hash(document: object) -> str:
    """Hex digest of a JSON-able document (sorted keys): cache keys for tables and profiles."""
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def build_fibers(population: FiberPopulation) -> list[Fiber]:
    """One cable per fibre; fibres of equal model, diameter and length share one object."""
    cache: dict[tuple, Fiber] = {}
    fibers = []
    for model, d, length in zip(
        population.model, population.diameter_um, population.length_mm, strict=True
    ):
        key = (str(model), round(float(d), 6), round(float(length), 6))
        if key not in cache:
            cache[key] = build_fiber(key[0], key[1], length_mm=key[2])
        fibers.append(cache[key])
    return fibers


def fiber_potentials(
    population: FiberPopulation, placement: Placement, fibers: list[Fiber]
) -> list[np.ndarray]:
    """Potential (mV per mA of the channel) at every section of every fibre, in one call."""
    paths = [
        straight_fiber_points_mm(fiber, (float(cx), 0.0, float(z)))
        for fiber, cx, z in zip(fibers, population.centre_x_mm, population.depth_mm, strict=True)
    ]
    values = placement.channel.potential_mv_per_ma(np.concatenate(paths))
    return np.split(values, np.cumsum([len(p) for p in paths])[:-1])


def full_thresholds(
    population: FiberPopulation,
    placement: Placement,
    recipe: StimulusRecipe,
    *,
    progress: Progress | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Threshold (mA, magnitude) of every fibre with the full cable model; NaN = not excited
    up to the search's ceiling. ``progress(done, total)`` after every batch."""
    thresholds = np.full(len(population), np.nan)
    fibers = build_fibers(population)
    potentials = fiber_potentials(population, placement, fibers)
    done = 0
    for model in dict.fromkeys(population.model.tolist()):
        stimulus = recipe.stimulus(model)
        indices = np.flatnonzero(population.model == model)
        for start in range(0, indices.size, batch_size):
            batch = indices[start : start + batch_size]
            result = find_thresholds(
                [fibers[i] for i in batch], [potentials[i] for i in batch], stimulus
            )
            thresholds[batch] = result.threshold_ma
            done += batch.size
            if progress is not None:
                progress(done, len(population))
    return thresholds


@dataclass(frozen=True)
class Neuropathy:
    """A raised threshold and/or a lost fraction of large fibres (model inputs, not a diagnosis).

    Sensory strength–duration thresholds rise in proportion to axonal loss (J Neurol Neurosurg
    Psychiatry 1984;47:184–9; clinical-facts.md §6, C): ``threshold_factor`` multiplies every
    surviving fibre's threshold, and ``large_fiber_loss_fraction`` of the large myelinated
    fibres (A-beta, A-alpha), drawn at random with ``seed``, can no longer be recruited.
    """

    threshold_factor: float = 1.0
    large_fiber_loss_fraction: float = 0.0
    seed: int = 0

    LARGE_CLASSES = ("abeta", "aalpha")

    def __post_init__(self) -> None:
        problems = []
        if not (1.0 <= self.threshold_factor <= 20.0):
            problems.append(
                FieldProblem("neuropathy_threshold_factor", self.threshold_factor, "1 to 20")
            )
        if not (0.0 <= self.large_fiber_loss_fraction <= 1.0):
            problems.append(
                FieldProblem("large_fiber_loss_fraction", self.large_fiber_loss_fraction, "0 to 1")
            )
        if problems:
            raise InputError(problems)

    @property
    def active(self) -> bool:
        return self.threshold_factor != 1.0 or self.large_fiber_loss_fraction > 0.0

    def apply(self, population: FiberPopulation, thresholds_ma: np.ndarray) -> np.ndarray:
        """Thresholds of the affected person: raised, and +inf for the lost fibres."""
        out = np.asarray(thresholds_ma, dtype=float) * self.threshold_factor
        rng = np.random.default_rng(self.seed)
        for class_id in self.LARGE_CLASSES:
            members = np.flatnonzero(population.class_id == class_id)
            n_lost = round(self.large_fiber_loss_fraction * members.size)
            out[rng.choice(members, size=n_lost, replace=False)] = np.inf
        return out

    def describe(self) -> dict:
        return {
            "threshold_factor": self.threshold_factor,
            "large_fiber_loss_fraction": self.large_fiber_loss_fraction,
            "source": "J Neurol Neurosurg Psychiatry 1984;47:184-9 (clinical-facts.md §6): "
            "sensory thresholds rise in proportion to axonal loss",
        }


@dataclass(frozen=True)
class RecruitmentCurves:
    """Fraction of each class recruited at each amplitude (a model prediction, not a dose)."""

    amplitudes_ma: np.ndarray
    thresholds_ma: dict[str, np.ndarray]
    fractions: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        fractions = {
            cid: fraction_recruited(t, self.amplitudes_ma) for cid, t in self.thresholds_ma.items()
        }
        object.__setattr__(self, "fractions", fractions)

    def fraction_at(self, amplitude_ma: float) -> dict[str, float]:
        return {
            cid: float(fraction_recruited(t, np.array([amplitude_ma]))[0])
            for cid, t in self.thresholds_ma.items()
        }

    def amplitude_for_fraction(self, fraction: float) -> dict[str, float | None]:
        """Lowest amplitude recruiting ``fraction`` of each class (None: never reached)."""
        out: dict[str, float | None] = {}
        for cid, t in self.thresholds_ma.items():
            finite = np.sort(np.where(np.isnan(t), np.inf, t))
            k = max(int(np.ceil(fraction * finite.size)) - 1, 0)
            value = finite[k] if finite.size else np.inf
            out[cid] = float(value) if np.isfinite(value) else None
        return out

    def to_dict(self) -> dict:
        return {
            "amplitudes_ma": self.amplitudes_ma.round(4).tolist(),
            "fraction_recruited": {c: f.round(4).tolist() for c, f in self.fractions.items()},
        }


def fraction_recruited(thresholds_ma: np.ndarray, amplitudes_ma: np.ndarray) -> np.ndarray:
    """Share of fibres whose threshold is ≤ each amplitude (NaN/inf thresholds never fire)."""
    t = np.sort(np.where(np.isnan(thresholds_ma), np.inf, thresholds_ma))
    if t.size == 0:
        return np.zeros(len(amplitudes_ma))
    return np.searchsorted(t, amplitudes_ma, side="right") / t.size


def recruitment_curves(
    population: FiberPopulation,
    thresholds_ma: np.ndarray,
    amplitudes_ma: np.ndarray | None = None,
) -> RecruitmentCurves:
    """Curves per class over ``amplitudes_ma`` (default: 200 log-spaced points spanning the
    finite thresholds)."""
    thresholds_ma = np.asarray(thresholds_ma, dtype=float)
    if amplitudes_ma is None:
        finite = thresholds_ma[np.isfinite(thresholds_ma)]
        low, high = (finite.min() / 1.5, finite.max() * 1.5) if finite.size else (0.1, 100.0)
        amplitudes_ma = np.geomspace(low, high, 200)
    per_class = {cid: thresholds_ma[population.class_id == cid] for cid in population.class_ids()}
    return RecruitmentCurves(np.asarray(amplitudes_ma, dtype=float), per_class)


def class_labels() -> dict[str, str]:
    return {cid: spec.label for cid, spec in fiber_classes().items()}
