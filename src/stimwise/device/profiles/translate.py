"""A prescription in the terms of the person's own device, and its verification.

For a :class:`~stimwise.protocol.prescription.Prescription` and a :class:`DeviceProfile` this
chooses the device programme that comes closest, the settings to use, what the device cannot
match and how close it gets, the intensity guidance, the placement with the device's pads, and
runs the settings through :func:`stimwise.safety.verify` at the device's **worst-case** output:

* the documented maximum output current, when a source states it;
* otherwise, for a device whose maker declares IEC 60601-2-10, the largest peak current the
  standard's r.m.s. limit allows at these settings (``IEC60601-2-10.rms-current``, limits.yaml
  [C]), capped at the 200 mA stimwise's model holds (said so when it binds);
* otherwise the worst case is unknown and the settings are **not verified** (fail closed): no
  instruction sheet calls them verified.

The worst case, not the prescribed amplitude, is verified because a home unit's intensity is set
by sensation and the current of a level is rarely published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from stimwise.device.profiles.models import DeviceProfile, Programme, SettingRange
from stimwise.errors import InputError
from stimwise.protocol.body_sites import sites_text
from stimwise.protocol.io import validate_model
from stimwise.protocol.models import (
    AsymmetricBiphasicPulse,
    MonophasicPulse,
    PulseTrain,
    SymmetricBiphasicPulse,
)
from stimwise.protocol.prescription import Prescription
from stimwise.safety.caps import PatientCaps
from stimwise.safety.limits import limits
from stimwise.safety.report import SafetyReport
from stimwise.safety.verify import verify
from stimwise.waveform.metrics import DEFAULT_LOAD_OHM, compute_metrics

MODEL_MAX_AMPLITUDE_MA = 200.0
"""The highest amplitude a stimwise prescription holds (``Prescription.max_amplitude_ma``)."""

Match = Literal["exact", "closest", "as_prescribed_if_offered", "set_by_device", "unknown"]
Status = Literal["verified", "blocked", "not_verifiable"]


@dataclass(frozen=True)
class Setting:
    """One setting as prescribed and as the device can give it."""

    parameter: str
    unit: str
    prescribed: float | None
    device: float | None
    match: Match
    note: str

    @property
    def difference_percent(self) -> float | None:
        if self.prescribed in (None, 0) or self.device is None:
            return None
        return 100.0 * (self.device - self.prescribed) / self.prescribed


@dataclass(frozen=True)
class WorstCase:
    amplitude_ma: float | None
    basis: str


@dataclass(frozen=True)
class DeviceInstructions:
    """The prescription in the device's terms, with its verification."""

    profile: DeviceProfile
    prescription: Prescription
    programme: Programme | None
    settings: tuple[Setting, ...]
    intensity_guidance: tuple[str, ...]
    placement: tuple[str, ...]
    mismatches: tuple[str, ...]
    worst_case: WorstCase
    status: Status
    status_reason: str
    report: SafetyReport | None = None
    device_prescription: Prescription | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def setting(self, parameter: str) -> Setting | None:
        return next((s for s in self.settings if s.parameter == parameter), None)

    def to_dict(self) -> dict:
        report = self.report
        return {
            "profile": {"id": self.profile.id, "name": self.profile.name},
            "protocol_id": self.prescription.protocol.id,
            "programme": None if self.programme is None else {
                "id": self.programme.id, "name": self.programme.name},
            "settings": [
                {"parameter": s.parameter, "unit": s.unit, "prescribed": s.prescribed,
                 "device": s.device, "match": s.match, "difference_percent":
                 None if s.difference_percent is None else round(s.difference_percent, 1),
                 "note": s.note}
                for s in self.settings
            ],
            "session_minutes": self.prescription.session_duration_min,
            "sessions_per_week": self.prescription.protocol.session.sessions_per_week,
            "sessions_per_day": self.prescription.protocol.session.sessions_per_day,
            "intensity_guidance": list(self.intensity_guidance),
            "placement": list(self.placement),
            "mismatches": list(self.mismatches),
            "worst_case": {"amplitude_ma": self.worst_case.amplitude_ma,
                           "basis": self.worst_case.basis},
            "verification": {
                "status": self.status,
                "reason": self.status_reason,
                "verdict": None if report is None else report.verdict,
                "findings": [] if report is None else [
                    {"rule_id": f.rule_id, "severity": f.severity, "message": f.message}
                    for f in report.findings
                ],
            },
            "unknown": self.profile.unknowns(),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- programme choice


def _pattern(prescription: Prescription) -> str:
    waveform = prescription.waveform
    if not isinstance(waveform, PulseTrain):
        return "carrier"
    if waveform.burst is not None:
        return "burst"
    if waveform.modulations:
        return "modulated"
    return "continuous"


def _targets(prescription: Prescription) -> dict[str, float]:
    waveform = prescription.waveform
    assert isinstance(waveform, PulseTrain)
    targets = {"frequency_hz": waveform.frequency_hz,
               "phase_width_us": waveform.pulse.phase_width_us}
    if waveform.burst is not None:
        targets["burst_frequency_hz"] = waveform.burst.burst_frequency_hz
    return targets


def _achieve(setting: SettingRange | None, target: float) -> tuple[float | None, Match]:
    if setting is None or (not setting.known and not setting.adjustable):
        return None, "unknown"
    if not setting.known:
        return target, "as_prescribed_if_offered"
    value = setting.closest(target)
    if value is None:
        return None, "unknown"
    return value, "exact" if math.isclose(value, target, rel_tol=1e-9) else "closest"


def _score(programme: Programme, targets: dict[str, float], pattern: str) -> float:
    score = 0.0 if programme.pattern == pattern else (0.5 if programme.pattern == "unknown"
                                                       else 2.0)
    for name, target in targets.items():
        value, match = _achieve(getattr(programme, name), target)
        if value is None:
            score += 1.0
        else:
            score += abs(math.log(max(value, 1e-9) / target))
            if match == "as_prescribed_if_offered":
                score += 0.05
    return score


def choose_programme(profile: DeviceProfile, prescription: Prescription) -> Programme | None:
    """The programme of the prescription's modality that comes closest to its settings."""
    modality = prescription.protocol.modality
    wanted = {"TENS": "TENS", "NMES": "NMES", "MENS": "MENS"}.get(modality)
    candidates = [p for p in profile.programmes if p.modality == wanted]
    if not candidates or not isinstance(prescription.waveform, PulseTrain):
        return None
    targets, pattern = _targets(prescription), _pattern(prescription)
    return min(candidates, key=lambda p: (_score(p, targets, pattern), p.id))


# --------------------------------------------------------------------------- settings

SETTING_LABELS = {"frequency_hz": ("pulse rate", "Hz"), "phase_width_us": ("pulse width", "µs"),
           "burst_frequency_hz": ("burst rate", "Hz")}


def _settings(programme: Programme, prescription: Prescription) -> list[Setting]:
    settings = []
    for name, target in _targets(prescription).items():
        unit = SETTING_LABELS[name][1]
        setting = getattr(programme, name)
        value, match = _achieve(setting, target)
        if setting is not None and setting.known and not setting.adjustable and match != "unknown":
            match = "exact" if match == "exact" else "set_by_device"
        notes = {
            "exact": f"set {value:g} {unit}" if setting and setting.adjustable
            else f"this programme gives {value:g} {unit}" if value is not None else "",
            "closest": f"the nearest the programme offers ({setting.describe(unit)})"
            if setting else "",
            "set_by_device": f"fixed by the programme ({setting.describe(unit)}); "
            "it cannot be changed" if setting else "",
            "as_prescribed_if_offered": f"set {target:g} {unit} if your device offers it "
            "(its range is not published); check the display shows it",
            "unknown": "the device's value is not published",
        }
        settings.append(Setting(name, unit, target, value, match, notes[match]))
    minutes = prescription.session_duration_min
    timer = programme.timer_min
    value, match = _achieve(timer, minutes)
    settings.append(Setting(
        "session_minutes", "min", minutes, value if value is not None else minutes,
        match if value is not None else "as_prescribed_if_offered",
        f"timer {value:g} min" if value is not None and timer.known
        else f"stop after {minutes:g} minutes (use a timer if the device has none)"))
    return settings


# --------------------------------------------------------------------------- worst case


def _pulse(profile: DeviceProfile, prescription: Prescription, width_us: float):
    """The pulse the device gives: its documented shape, or the prescribed one where unknown."""
    original = prescription.waveform.pulse  # type: ignore[union-attr]
    shape = profile.pulse_shape
    if shape == "biphasic_symmetric" or (
            shape == "unknown" and isinstance(original, SymmetricBiphasicPulse)):
        return SymmetricBiphasicPulse(phase_width_us=width_us)
    if shape == "monophasic":
        return MonophasicPulse(phase_width_us=width_us)
    if isinstance(original, AsymmetricBiphasicPulse):
        ratio = original.second_phase_width_us / original.phase_width_us
        return AsymmetricBiphasicPulse(phase_width_us=width_us,
                                       second_phase_width_us=width_us * ratio)
    return SymmetricBiphasicPulse(phase_width_us=width_us)


def _device_prescription(profile: DeviceProfile, prescription: Prescription,
                         settings: list[Setting], amplitude_ma: float) -> Prescription:
    values = {s.parameter: s.device for s in settings}
    original = prescription.waveform
    assert isinstance(original, PulseTrain)
    burst = original.burst
    if burst is not None and values.get("burst_frequency_hz"):
        burst = burst.model_copy(update={"burst_frequency_hz": values["burst_frequency_hz"]})
    waveform = PulseTrain(
        pulse=_pulse(profile, prescription, float(values["phase_width_us"])),
        frequency_hz=float(values["frequency_hz"]), burst=burst,
        modulations=original.modulations,
    )
    pad = profile.smallest_pad_cm2
    channels = [c.model_dump() for c in prescription.channels]
    if pad is not None:
        for channel in channels:
            for electrode in channel["electrodes"]:
                electrode["area_cm2"] = pad
    protocol = prescription.protocol.model_copy(update={"waveform": waveform})
    return validate_model(Prescription, {
        "protocol": protocol.model_dump(), "channels": channels,
        "max_amplitude_ma": amplitude_ma,
        "session_duration_min": prescription.session_duration_min,
    }, source=f"settings of {profile.id}")


def _standard_bound_ma(trial: Prescription) -> float:
    """The largest peak amplitude whose worst-second r.m.s. stays within the IEC 60601-2-10
    band limit for these settings (r.m.s. is proportional to amplitude)."""
    metrics = compute_metrics(trial, DEFAULT_LOAD_OHM)
    limit = limits()["IEC60601-2-10.rms-current"]
    frequency = trial.waveform.frequency_hz  # type: ignore[union-attr]
    allowed = limit.band_limit(frequency)
    rms_per_ma = max(c.rms_current_ma for c in metrics.channels) / trial.max_amplitude_ma
    return allowed / rms_per_ma


def worst_case(profile: DeviceProfile, prescription: Prescription,
               settings: list[Setting]) -> WorstCase:
    """The highest current the device could deliver at these settings, and on what basis."""
    output = profile.max_output
    if output.current_ma.value is not None:
        return WorstCase(min(output.current_ma.value, MODEL_MAX_AMPLITUDE_MA),
                         f"documented maximum output {output.describe()} "
                         f"({output.current_ma.source})")
    if profile.declares_iec_60601_2_10:
        trial = _device_prescription(profile, prescription, settings, 1.0)
        bound = _standard_bound_ma(trial)
        basis = (f"maximum output not published; the maker declares IEC 60601-2-10, whose "
                 f"r.m.s. limit allows at most {bound:.0f} mA peak at these settings")
        if bound > MODEL_MAX_AMPLITUDE_MA:
            basis += f" (judged at {MODEL_MAX_AMPLITUDE_MA:g} mA, the most stimwise models)"
        return WorstCase(min(bound, MODEL_MAX_AMPLITUDE_MA), basis)
    return WorstCase(None, "neither the maximum output nor conformity with IEC 60601-2-10 is "
                           "stated in any source stimwise holds")


# --------------------------------------------------------------------------- guidance


def _intensity_guidance(profile: DeviceProfile, prescription: Prescription,
                        ceiling_ma: float) -> list[str]:
    level = prescription.protocol.intensity.level
    feel = {"subsensory": "so low that you feel nothing or barely anything",
            "sensory": "to a clear but comfortable tingling, with no muscle twitch and no pain",
            "motor": "until you see a visible muscle twitch that is still comfortable"}[level]
    lines = [f"Start at the lowest setting and raise the intensity slowly {feel}."]
    known = sorted((p for p in profile.intensity.level_current
                    if p.current_ma <= ceiling_ma + 1e-9), key=lambda p: p.level)
    if profile.intensity.unit == "mA":
        lines.append(f"Your device shows the current in mA: never go above {ceiling_ma:g} mA, "
                     "your prescribed maximum.")
    elif known:
        top = known[-1]
        lines.append(f"Never go above level {top.level:g} ({top.current_ma:g} mA at "
                     f"{top.load_ohm:g} Ω): your prescribed maximum is {ceiling_ma:g} mA.")
    else:
        lines.append(
            f"Your prescribed maximum is {ceiling_ma:g} mA, but the current of this device's "
            "levels is not published: go by the feeling above, never by a number.")
    ramp = prescription.protocol.envelope.ramp_up_s
    if ramp >= 10:
        lines.append(f"Take about {ramp:g} seconds to reach that level; do not jump to it.")
    lines.append("Turn it down or stop at once if it stings, burns, spreads into painful skin or "
                 "your pain, colour or swelling gets worse.")
    return lines


def _placement(profile: DeviceProfile, prescription: Prescription) -> list[str]:
    lines = []
    pad = profile.smallest_pad_cm2
    for index, channel in enumerate(prescription.channels, start=1):
        size = (f"{pad:g} cm² pads" if pad is not None
                else f"{channel.electrodes[0].area_cm2:g} cm² pads (or the pads sold with "
                     "your device)")
        lines.append(f"Channel {index} ({channel.label}): "
                     f"{sites_text([e.site for e in channel.electrodes], ' and ')}; {size}.")
    return lines


def _mismatches(profile: DeviceProfile, prescription: Prescription,
                programme: Programme | None, settings: list[Setting]) -> list[str]:
    problems = []
    channels = profile.channels.value
    if channels is not None and len(prescription.channels) > channels:
        problems.append(f"the prescription uses {len(prescription.channels)} channels; this "
                        f"device has {channels:g}")
    if programme is None:
        problems.append(f"no {prescription.protocol.modality} programme of this device can be "
                        "matched")
    if programme is not None and programme.pattern not in (_pattern(prescription), "unknown"):
        problems.append(f"the programme is {programme.pattern}, the prescription "
                        f"{_pattern(prescription)}")
    for s in settings:
        if s.match in ("closest", "set_by_device") and s.difference_percent not in (None, 0.0):
            problems.append(f"{SETTING_LABELS.get(s.parameter, (s.parameter,))[0]}: {s.device:g} "
                            f"{s.unit} instead of {s.prescribed:g} {s.unit} "
                            f"({s.difference_percent:+.0f} %)")
        elif s.match == "unknown":
            problems.append(f"{SETTING_LABELS.get(s.parameter, (s.parameter,))[0]}: not published "
                            "for this device")
    if profile.closed:
        problems.append("a closed device: it sets its own waveform, only intensity and "
                        "start/stop are yours")
    return problems


# --------------------------------------------------------------------------- entry point


def translate(prescription: Prescription, profile: DeviceProfile, *,
              caps: PatientCaps | None = None,
              ceiling_ma: float | None = None,
              programme_id: str | None = None) -> DeviceInstructions:
    """The prescription in ``profile``'s terms, verified at the device's worst-case output.

    Parameters
    ----------
    caps
        The person's caps from screening; the worst case is verified against them.
    ceiling_ma
        The highest amplitude the person may use at home (the locked range's top); the
        prescription's maximum when not given.
    programme_id
        Use this programme of the device (a self-logged session names the one used) instead
        of choosing the closest.
    """
    ceiling = prescription.max_amplitude_ma if ceiling_ma is None else ceiling_ma
    if profile.closed:
        programme = None
    elif programme_id is not None:
        programme = profile.programme(programme_id)
    else:
        programme = choose_programme(profile, prescription)
    settings = [] if programme is None else _settings(programme, prescription)
    guidance = _intensity_guidance(profile, prescription, ceiling)
    placement = _placement(profile, prescription)
    mismatches = _mismatches(profile, prescription, programme, settings)
    common = {"profile": profile, "prescription": prescription, "programme": programme,
              "settings": tuple(settings), "intensity_guidance": tuple(guidance),
              "placement": tuple(placement), "mismatches": tuple(mismatches),
              "notes": profile.notes}
    missing = [s for s in settings if s.device is None]
    if programme is None or missing:
        reason = ("closed device: its waveform is set by the device and not published"
                  if profile.closed else
                  "no programme matches" if programme is None else
                  "not published: " + ", ".join(SETTING_LABELS[s.parameter][0] for s in missing))
        return DeviceInstructions(**common, worst_case=WorstCase(None, reason),
                                  status="not_verifiable",
                                  status_reason=f"cannot be verified: {reason}")
    worst = worst_case(profile, prescription, settings)
    if worst.amplitude_ma is None:
        return DeviceInstructions(**common, worst_case=worst, status="not_verifiable",
                                  status_reason=f"cannot be verified: {worst.basis}")
    try:
        device_rx = _device_prescription(profile, prescription, settings, worst.amplitude_ma)
    except InputError as error:
        return DeviceInstructions(**common, worst_case=worst, status="not_verifiable",
                                  status_reason=f"cannot be verified: {error.message}")
    report = verify(device_rx, caps=caps)
    status: Status = "blocked" if report.verdict == "block" else "verified"
    reason = (f"verified at the worst case ({worst.amplitude_ma:.0f} mA): {report.verdict}"
              if status == "verified" else
              "blocked at the worst case: " + "; ".join(
                  f.message for f in report.findings if f.severity == "block"))
    return DeviceInstructions(**common, worst_case=worst, status=status, status_reason=reason,
                              report=report, device_prescription=device_rx)
