"""The model of a commercial device profile (frozen, unknown fields refused, ranges declared).

Every number in a profile is a :class:`Fact`: a value with the id of the source it comes from, or
``value: null`` with a note saying that no source states it. A number without a source is refused
at load time, so a profile cannot carry an invented figure.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from stimwise.protocol.base import StrictChoice, StrictModel
from stimwise.protocol.models import Confidence

SourceKind = Literal["manual", "510k", "label", "product_page", "measurement", "article"]
Modality = Literal["TENS", "NMES", "MENS", "massage"]
PulseShape = Literal["biphasic_symmetric", "biphasic_asymmetric", "monophasic", "unknown"]
Pattern = Literal["continuous", "burst", "modulated", "unknown"]
Control = Literal["buttons", "app", "buttons_and_app", "unknown"]
ProfileId = str


class Source(StrictModel):
    """A manual, label, 510(k) summary or page a profile's facts come from."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,40}$")
    kind: SourceKind
    title: str = Field(min_length=3, max_length=300)
    reference: str = Field(min_length=3, max_length=300, description="URL, 510(k) number, ...")
    confidence: Confidence = Field(
        description="C: read in an authoritative source (510(k) summary); C-s: read only in a "
        "secondary source (manual, vendor page, blog); U: not confirmed; M: measured."
    )


class Fact(StrictModel):
    """One number with its source, or explicitly unknown (``value: null`` and a note why)."""

    value: float | None = Field(default=None, ge=0, le=100_000)
    source: str | None = None
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _sourced_or_unknown(self) -> Fact:
        if self.value is not None and self.source is None:
            raise ValueError("a value needs the id of the source it comes from")
        if self.value is None and not self.note:
            raise ValueError("an unknown value needs a note saying that no source states it")
        return self

    @property
    def known(self) -> bool:
        return self.value is not None


UNKNOWN = Fact(note="not stated in any source stimwise holds")


class SettingRange(StrictModel):
    """What one parameter of a programme can be: a range with a step, a list of values, one fixed
    value (``min == max``), or unknown (nothing given and a note)."""

    min: float | None = Field(default=None, ge=0, le=100_000)
    max: float | None = Field(default=None, ge=0, le=100_000)
    step: float | None = Field(default=None, gt=0, le=100_000)
    values: tuple[float, ...] = Field(default=(), max_length=64)
    adjustable: bool = Field(default=False, description="The person can change it.")
    source: str | None = None
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> SettingRange:
        if (self.min is None) != (self.max is None):
            raise ValueError("give both min and max, or neither")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not exceed max ({self.max:g})")
        if self.values and self.min is not None:
            raise ValueError("give a range (min/max) or a list of values, not both")
        if self.known and self.source is None:
            raise ValueError("a known setting needs the id of the source it comes from")
        if not self.known and not self.note:
            raise ValueError("an unknown setting needs a note saying that no source states it")
        return self

    @property
    def known(self) -> bool:
        return self.min is not None or bool(self.values)

    def choices(self) -> tuple[float, ...] | None:
        """Every value the device offers when the set is finite (a list or a stepped range)."""
        if self.values:
            return tuple(sorted(self.values))
        if self.min is None or self.max is None:
            return None
        if self.min == self.max:
            return (self.min,)
        if self.step is None:
            return None
        count = round((self.max - self.min) / self.step)
        return tuple(self.min + i * self.step for i in range(count + 1))

    def closest(self, target: float) -> float | None:
        """The achievable value nearest to ``target`` (``None`` when unknown)."""
        choices = self.choices()
        if choices is not None:
            return min(choices, key=lambda v: (abs(v - target), v))
        if self.min is None or self.max is None:
            return None
        return min(max(target, self.min), self.max)

    def contains(self, value: float, tolerance: float = 1e-9) -> bool:
        choices = self.choices()
        if choices is not None:
            return any(abs(value - c) <= tolerance * max(1.0, abs(c)) for c in choices)
        if self.min is None or self.max is None:
            return True  # unknown: nothing to hold it against
        return self.min - tolerance <= value <= self.max + tolerance

    def describe(self, unit: str) -> str:
        if self.values:
            return ", ".join(f"{v:g}" for v in sorted(self.values)) + f" {unit}"
        if self.min is None or self.max is None:
            return "unknown"
        if self.min == self.max:
            return f"{self.min:g} {unit} (fixed)"
        step = f" in steps of {self.step:g}" if self.step else ""
        return f"{self.min:g}–{self.max:g} {unit}{step}"


UNKNOWN_SETTING = SettingRange(note="not stated in any source stimwise holds")


class Programme(StrictModel):
    """A mode or preset programme of the device."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$")
    name: str = Field(min_length=1, max_length=120)
    modality: Modality
    pattern: Pattern = "unknown"
    frequency_hz: SettingRange = UNKNOWN_SETTING
    phase_width_us: SettingRange = UNKNOWN_SETTING
    burst_frequency_hz: SettingRange | None = None
    timer_min: SettingRange = UNKNOWN_SETTING
    description: str = Field(min_length=3, max_length=1000)
    source: str | None = None


class LevelCurrent(StrictModel):
    """The current a documented intensity level gives at a stated load."""

    level: float = Field(ge=0, le=1000)
    current_ma: float = Field(ge=0, le=200)
    load_ohm: float = Field(gt=0, le=100_000)
    source: str


class IntensityScale(StrictModel):
    """How the person sets intensity and what the manual says a level means."""

    unit: Literal["level", "mA", "unknown"]
    min_level: Fact = UNKNOWN
    max_level: Fact = UNKNOWN
    meaning: str = Field(
        min_length=3, max_length=1000,
        description="What the manual says a level means (or that it does not say).",
    )
    level_current: tuple[LevelCurrent, ...] = Field(default=(), max_length=200)


class MaxOutput(StrictModel):
    """The device's maximum output per channel, at a stated load where the source gives one."""

    current_ma: Fact = UNKNOWN
    voltage_v: Fact = UNKNOWN
    load_ohm: float | None = Field(default=None, gt=0, le=100_000)
    load_note: str | None = Field(
        default=None, min_length=3, max_length=300,
        description="Where the source states a maximum current without a load: says so.",
    )

    @model_validator(mode="after")
    def _load_for_current(self) -> MaxOutput:
        if self.current_ma.known and self.load_ohm is None and not self.load_note:
            raise ValueError("a maximum current needs the load it was stated at (load_ohm), "
                             "or load_note saying that the source states none")
        return self

    def describe(self) -> str:
        """The maximum current in words, with its load (or that the load is not stated)."""
        current = self.current_ma
        if current.value is None:
            return "not published"
        load = (f"at {self.load_ohm:g} Ω" if self.load_ohm is not None
                else "(the source states no load)")
        return f"{current.value:g} mA {load}"


class ElectrodeSize(StrictModel):
    """An electrode (pad) the device is sold or used with."""

    label: str = Field(min_length=1, max_length=80)
    area_cm2: Fact = UNKNOWN


class Conformity(StrictModel):
    """A standard the maker declares the device meets (e.g. IEC 60601-2-10)."""

    standard: Literal["IEC 60601-2-10"]
    source: str


class DeviceProfile(StrictModel):
    """One commercial unit: what it offers and where each fact comes from."""

    schema_version: Annotated[Literal[1], StrictChoice] = 1
    id: ProfileId = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=3, max_length=120)
    manufacturer: str = Field(min_length=1, max_length=120)
    model: str = Field(min_length=1, max_length=120)
    modalities: tuple[Modality, ...] = Field(min_length=1, max_length=4)
    controls: Control
    closed: bool = Field(
        default=False,
        description="The device sets its own waveform (e.g. calibrates itself); the person only "
        "starts, stops and adjusts intensity.",
    )
    channels: Fact = UNKNOWN
    pulse_shape: PulseShape = "unknown"
    pulse_shape_source: str | None = None
    programmes: tuple[Programme, ...] = Field(default=(), max_length=100)
    intensity: IntensityScale
    max_output: MaxOutput = MaxOutput()
    electrodes: tuple[ElectrodeSize, ...] = Field(default=(), max_length=20)
    conformity: tuple[Conformity, ...] = Field(default=(), max_length=4)
    regulatory: tuple[str, ...] = Field(default=(), max_length=8)
    notes: tuple[str, ...] = Field(default=(), max_length=20)
    sources: tuple[Source, ...] = Field(default=(), max_length=20)
    generic: bool = Field(
        default=False, description="The 'other device' profile: every fact is the person's own."
    )

    @model_validator(mode="after")
    def _sources_resolve(self) -> DeviceProfile:
        known = {s.id for s in self.sources}
        if len(known) != len(self.sources):
            raise ValueError("source ids must be unique")
        if not self.generic and not self.sources:
            raise ValueError("a device profile needs at least one source")
        for path, ref in self._references():
            if ref is not None and ref not in known:
                raise ValueError(f"{path}: source {ref!r} is not among the profile's sources")
        ids = [p.id for p in self.programmes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"programme ids must be unique: {ids}")
        if self.pulse_shape != "unknown" and self.pulse_shape_source is None:
            raise ValueError("a known pulse_shape needs pulse_shape_source")
        return self

    def _references(self):
        yield "pulse_shape_source", self.pulse_shape_source
        yield "channels", self.channels.source
        yield "intensity.min_level", self.intensity.min_level.source
        yield "intensity.max_level", self.intensity.max_level.source
        for i, point in enumerate(self.intensity.level_current):
            yield f"intensity.level_current[{i}]", point.source
        yield "max_output.current_ma", self.max_output.current_ma.source
        yield "max_output.voltage_v", self.max_output.voltage_v.source
        for i, pad in enumerate(self.electrodes):
            yield f"electrodes[{i}]", pad.area_cm2.source
        for i, c in enumerate(self.conformity):
            yield f"conformity[{i}]", c.source
        for p in self.programmes:
            yield f"programmes[{p.id}]", p.source
            for name in ("frequency_hz", "phase_width_us", "timer_min", "burst_frequency_hz"):
                setting = getattr(p, name)
                if setting is not None:
                    yield f"programmes[{p.id}].{name}", setting.source

    def programme(self, programme_id: str) -> Programme | None:
        return next((p for p in self.programmes if p.id == programme_id), None)

    @property
    def smallest_pad_cm2(self) -> float | None:
        areas = [p.area_cm2.value for p in self.electrodes if p.area_cm2.value is not None]
        return min(areas) if areas else None

    def level_current_ma(self, level: float) -> float | None:
        """The documented current of ``level`` (exact entries only; nothing is interpolated)."""
        for point in self.intensity.level_current:
            if point.level == level:
                return point.current_ma
        return None

    @property
    def declares_iec_60601_2_10(self) -> bool:
        return any(c.standard == "IEC 60601-2-10" for c in self.conformity)

    def unknowns(self) -> list[str]:
        """Plain list of what no source states, for the profile's 'unknown' section."""
        missing = []
        if not self.channels.known:
            missing.append("number of channels")
        if self.pulse_shape == "unknown":
            missing.append("pulse shape")
        if not self.max_output.current_ma.known:
            missing.append("maximum output current")
        if not self.max_output.voltage_v.known:
            missing.append("maximum output voltage")
        if not self.intensity.level_current:
            missing.append("the current (mA) of each intensity level")
        if not any(p.area_cm2.known for p in self.electrodes):
            missing.append("electrode sizes")
        for p in self.programmes:
            for name, label in (("frequency_hz", "pulse rate"), ("phase_width_us", "pulse width")):
                if not getattr(p, name).known:
                    missing.append(f"{label} of programme {p.name}")
        return missing
