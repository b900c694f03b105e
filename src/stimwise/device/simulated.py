"""The simulated stimulator: stimwise's default device, safe to drive from any session.

It behaves like a real driver behind :class:`~stimwise.device.interface.Stimulator` — explicit
steps, a link with latency and timeouts, refusals of what it cannot represent — and adds what a
bench cannot give safely: an electrode–skin load with a compliance voltage
(:mod:`stimwise.device.electrode_model`), a log of what was delivered
(:mod:`stimwise.device.pulse_log`) and fault injection.

States::

    disconnected -connect-> connected -configure-> configured -arm-> armed -start-> stimulating
    stop / emergency_stop -> stopped (arm again to restart)
    over-current, link loss -> fault (configure again once the cause is gone)
    a stop at the device (device_stop) -> stopped
    device reset, close -> disconnected

Choices of this simulator (stimwise's, confidence U):

* The device fires the plan's waveform at the amplitude last set; ramps and the on/off envelope
  are the session's, sent as ``update`` calls.
* ``update`` floors amplitudes to the current step (never rounds up) and also refuses amplitudes
  above the verified plan's maximum: defence in depth under the session's own caps (HAZ-004).
  It checks first that the configured plan is still the one ``verify()`` sealed; a plan edited
  after ``configure`` stops the output (HAZ-081).
* ``stop`` and faults zero the requested amplitudes, so a later ``start`` begins at zero.
* It follows the reporting contract of :mod:`stimwise.device.interface`: every change of output
  is an ``applied`` event with the delivered (floored, clipped) mA of every channel, and a fault
  that stops a command in flight is on the event stream before that command raises.
* ``emergency_stop`` acts like a hardware line: it bypasses the link, so it is immediate and works
  while the link is lost.
* Every fault stops output first and reports afterwards (HAZ-023). A channel is latched off until
  the next ``configure`` when any of its electrodes leads off (even a return electrode whose
  share the others could take) or when the r.m.s. current density on its most crowded contact
  exceeds the larger of IEC 60601-2-10's 2 mA/cm² and the density the plan was verified with
  (HAZ-024: density rises as a peeling electrode's contact shrinks).
* ``configure`` applies fresh electrodes: contact is full again and latches are cleared.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TypeVar

import numpy as np

from stimwise.device.electrode_model import (
    DEFAULT_SKIN,
    ChannelContact,
    ChannelLoad,
    SkinConstants,
)
from stimwise.device.interface import (
    ANY_STATE,
    CONFIGURABLE_STATES,
    OUTPUT_STATES,
    Capabilities,
    ChannelStatus,
    DeviceError,
    DeviceRefusalError,
    DeviceState,
    DeviceStatus,
    DeviceTimeoutError,
    EventKind,
    Stimulator,
)
from stimwise.device.pulse_log import ChannelOutput, PulseLog
from stimwise.errors import FieldProblem, InputError, UnverifiedPlanError
from stimwise.protocol.models import AsymmetricBiphasicPulse, PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.safety.limits import limits
from stimwise.safety.plan import VerifiedPlan, require_verified

DEFAULT_CAPABILITIES = Capabilities(
    name="stimwise simulated stimulator",
    channels=8,
    current_range_ma=(0.0, 100.0),
    current_step_ma=0.01,
    pulse_width_range_us=(1.0, 1_000_000.0),
    pulse_width_step_us=1.0,
    frequency_range_hz=(0.01, 100_000.0),
    pulse_kinds=frozenset({"monophasic", "biphasic_symmetric", "biphasic_asymmetric"}),
    carriers=True,
    timing="device",
    compliance_voltage_v=120.0,
)
"""Stimwise choices (U): 8 channels and every waveform stimwise can describe, 0–100 mA in 10 µA
steps (microcurrent needs them), 120 V compliance (TENS/NMES outputs typically offer 100–150 V)."""

DEFAULT_COMMAND_LATENCY_S = 0.003
"""Simulated link round trip of every command but ``emergency_stop`` (U: a few ms, like USB
serial)."""

IEC_DENSITY_LIMIT_ID = "IEC60601-2-10.current-density"
"""The 2 mA/cm² r.m.s. figure (limits.yaml, [C]; its r.m.s. reading U) the density trip uses."""

_T = TypeVar("_T")


def _outside(name: str, value: float, bounds: tuple[float, float], unit: str) -> list[str]:
    low, high = bounds
    if low <= value <= high:
        return []
    return [f"{name} {value:g} {unit} is outside the device's range {low:g}–{high:g} {unit}"]


def capability_refusals(prescription: Prescription, caps: Capabilities) -> list[str]:
    """Every reason a device with ``caps`` cannot represent ``prescription`` (empty: it can)."""
    reasons = []
    if len(prescription.channels) > caps.channels:
        reasons.append(
            f"the plan has {len(prescription.channels)} channels; {caps.name} has {caps.channels}"
        )
    reasons += _outside(
        "max_amplitude_ma", prescription.max_amplitude_ma, caps.current_range_ma, "mA"
    )
    wave = prescription.waveform
    if isinstance(wave, PulseTrain):
        reasons += _pulse_train_refusals(wave, caps)
        frequencies = [("frequency_hz", wave.frequency_hz)]
        if wave.burst is not None:
            frequencies.append(("burst_frequency_hz", wave.burst.burst_frequency_hz))
        if wave.frequency_modulation is not None:
            frequencies.append(("low_frequency_hz", wave.frequency_modulation.low_frequency_hz))
    else:
        if not caps.carriers:
            reasons.append(f"{caps.name} cannot deliver carrier waveforms")
        offsets = [c.carrier_frequency_offset_hz for c in prescription.channels]
        frequencies = [
            ("lowest carrier frequency", wave.lowest_carrier_hz + min(offsets)),
            ("highest carrier frequency", wave.highest_carrier_hz + max(offsets)),
        ]
        if wave.burst is not None:
            frequencies.append(("burst_frequency_hz", wave.burst.burst_frequency_hz))
    for name, frequency_hz in frequencies:
        reasons += _outside(name, frequency_hz, caps.frequency_range_hz, "Hz")
    return reasons


def _pulse_train_refusals(train: PulseTrain, caps: Capabilities) -> list[str]:
    pulse = train.pulse
    reasons = []
    if pulse.kind not in caps.pulse_kinds:
        reasons.append(f"pulse kind {pulse.kind!r} is not one of {sorted(caps.pulse_kinds)}")
    nominal = [("phase_width_us", pulse.phase_width_us)]
    if isinstance(pulse, AsymmetricBiphasicPulse):
        nominal.append(("second_phase_width_us", pulse.second_phase_width_us))
    step = caps.pulse_width_step_us
    for name, width_us in nominal:
        if abs(width_us / step - round(width_us / step)) > 1e-6:
            reasons.append(f"{name} {width_us:g} µs is not a multiple of the {step:g} µs step")
    widths = list(nominal)
    pwm = next((m for m in train.modulations if m.parameter == "pulse_width"), None)
    if pwm is not None:
        widths.append(("shortest modulated phase width", pulse.phase_width_us * pwm.low_fraction))
    for name, width_us in widths:
        reasons += _outside(name, width_us, caps.pulse_width_range_us, "µs")
    return reasons


@dataclass
class _Channel:
    """Mutable per-channel state of the simulator (guarded by the device lock)."""

    output: ChannelOutput
    load: ChannelLoad
    rms_ma_per_ma: float
    density_limit_ma_per_cm2: float
    requested_ma: float = 0.0
    delivered_ma: float = 0.0
    latched: str | None = None
    clipped_ma: float | None = None


_Report = tuple[EventKind, str, dict[str, object]]


class SimulatedStimulator(Stimulator):
    """A stimulator in software with an electrode–skin load, a pulse log and fault injection.

    Parameters
    ----------
    capabilities
        What it can deliver; ``configure`` refuses plans outside them.
    skin
        Specific electrode–skin constants of every electrode.
    command_latency_s
        Link round trip of each command; a command whose timeout is shorter raises
        :class:`DeviceTimeoutError` after waiting the timeout.
    clock
        Seconds, monotonic: stamps the pulse log and the device times in events. Tests inject a
        manual clock; latency and timeouts are always real waits.
    """

    def __init__(
        self,
        *,
        capabilities: Capabilities = DEFAULT_CAPABILITIES,
        skin: SkinConstants = DEFAULT_SKIN,
        command_latency_s: float = DEFAULT_COMMAND_LATENCY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._caps = capabilities
        self._skin = skin
        self._latency_s = command_latency_s
        self._clock = clock
        self._idle = threading.Event()  # never set: waits on it are interruptible sleeps
        self.log = PulseLog(clock)
        self._state: DeviceState = "disconnected"
        self._plan: VerifiedPlan | None = None
        self._channels: dict[str, _Channel] = {}
        self._device_faults: list[str] = []
        self._link_lost = False
        self._epoch = 0
        self._origin_s = 0.0

    # ------------------------------------------------------------------ the interface

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    def connect(self, timeout_s: float = 2.0) -> None:
        self._command("connect", timeout_s, frozenset({"disconnected"}), self._apply_connect)

    def _apply_connect(self, t_s: float) -> None:
        self._enter("connected", "connected")

    def configure(self, plan: VerifiedPlan, timeout_s: float = 1.0) -> None:
        """Load ``plan`` at zero amplitude with fresh electrodes; disarms an armed device.

        Raises
        ------
        UnverifiedPlanError
            ``plan`` is not an intact :class:`VerifiedPlan` (HAZ-004).
        DeviceRefusalError
            With every reason the capabilities cannot represent the plan; nothing changes.
        DeviceError
            While stimulating (stop first) or before ``connect``.
        """
        plan = require_verified(plan)
        reasons = capability_refusals(plan.prescription, self._caps)
        if reasons:
            raise DeviceRefusalError(reasons)
        channels = self._build_channels(plan)

        def apply(t_s: float) -> None:
            self._halt(t_s)
            self._plan, self._channels, self._device_faults = plan, channels, []
            self._enter("configured", f"loaded {plan!r} at zero amplitude")

        self._command("configure", timeout_s, CONFIGURABLE_STATES, apply)

    def _build_channels(self, plan: VerifiedPlan) -> dict[str, _Channel]:
        rx = plan.prescription
        iec_limit = limits()[IEC_DENSITY_LIMIT_ID].limit or 0.0
        channels = {}
        for spec in rx.channels:
            metrics = plan.metrics.channel(spec.label)
            channels[spec.label] = _Channel(
                output=ChannelOutput.of(rx.waveform, spec),
                load=ChannelLoad.of(spec, self._skin),
                rms_ma_per_ma=metrics.rms_current_ma / rx.max_amplitude_ma,
                density_limit_ma_per_cm2=max(iec_limit, metrics.current_density_ma_per_cm2),
            )
        return channels

    def arm(self, timeout_s: float = 1.0) -> None:
        self._command("arm", timeout_s, frozenset({"configured", "stopped"}), self._apply_arm)

    def _apply_arm(self, t_s: float) -> None:
        self._enter("armed", "armed: ready to fire, nothing delivered")

    def start(self, timeout_s: float = 1.0) -> None:
        self._command("start", timeout_s, frozenset({"armed"}), self._apply_start)

    def _apply_start(self, t_s: float) -> None:
        self._origin_s = t_s
        self._enter("stimulating", "output started")
        self._report(self._settle(t_s), "start", t_s)

    def update(self, amplitudes_ma: Mapping[str, float], timeout_s: float = 0.5) -> None:
        """Set the amplitudes of the channels named (others keep theirs), all or none.

        Allowed when armed (takes effect at ``start``) or stimulating. Values are floored to the
        current step so the device never delivers more than asked.

        Raises
        ------
        InputError
            Every unknown label and every value that is not a number of mA within both the
            device's range and the verified plan's maximum, each with its path
            (``amplitudes_ma['A']``), value and expectation; nothing is applied.
        UnverifiedPlanError
            The configured plan was changed after verification: the output is stopped.
        DeviceError
            In any other state, or when a stop or fault overtook the command in flight.
        """
        wanted = dict(amplitudes_ma)

        def apply(t_s: float) -> None:
            step = self._caps.current_step_ma
            for label, value in wanted.items():
                self._channels[label].requested_ma = round(
                    math.floor(value / step + 1e-9) * step, 9
                )
            self._report(self._settle(t_s), "update", t_s)

        self._command(
            "update", timeout_s, OUTPUT_STATES, apply, lambda: self._check_amplitudes(wanted)
        )

    def _check_amplitudes(self, wanted: Mapping[str, object]) -> None:
        low, device_high = self._caps.current_range_ma
        assert self._plan is not None  # update is only allowed once a plan is loaded
        try:  # the plan must still be the verified one (HAZ-081): if not, stop the output
            plan_high = require_verified(self._plan).prescription.max_amplitude_ma
        except UnverifiedPlanError:
            self._stop_now(self._clock(), "the configured plan changed after verification")
            raise
        high = min(device_high, plan_high)
        problems = []
        for label, value in wanted.items():
            path = f"amplitudes_ma[{label!r}]"
            if label not in self._channels:
                problems.append(
                    FieldProblem(path, label, f"a channel of the plan: {sorted(self._channels)}")
                )
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                problems.append(
                    FieldProblem(
                        path,
                        value,
                        f"a number of mA from {low:g} to {high:g} (the verified plan's maximum "
                        f"{plan_high:g} mA and the device's range {low:g}–{device_high:g} mA)",
                    )
                )
        if problems:
            raise InputError(problems, source="update")

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop output and zero the amplitudes; idempotent. A stimulating or armed device goes
        to ``stopped``; any other state stays as it is (a fault stays until ``configure``)."""
        self._command("stop", timeout_s, ANY_STATE, lambda t_s: self._stop_now(t_s, "stop"))

    def emergency_stop(self) -> None:
        """Zero every output at this instant (the pulse log ends here); never raises, never waits
        for the link. A broken injected clock is replaced by ``time.monotonic`` rather than
        leaving the output on."""
        with self._lock:
            try:
                t_s = self._clock()
            except Exception:  # the emergency stop must not fail on a bad clock
                t_s = time.monotonic()
            self._stop_now(t_s, "emergency stop")

    def _stop_now(self, t_s: float, reason: str) -> None:
        self._halt(t_s)
        if self._state in OUTPUT_STATES:
            self._enter("stopped", reason)
        self._report([], reason, t_s)

    def status(self, timeout_s: float = 0.5) -> DeviceStatus:
        return self._command("status", timeout_s, ANY_STATE, self._status_now)

    def _status_now(self, t_s: float) -> DeviceStatus:
        channels = tuple(
            ChannelStatus(
                label=label,
                electrode=ch.load.state,
                impedance_ohm=None if ch.load.is_open else ch.load.resistance_ohm,
                amplitude_ma=ch.delivered_ma,
            )
            for label, ch in self._channels.items()
        )
        errors = list(self._device_faults)
        for label, ch in self._channels.items():
            if ch.latched is not None:
                errors.append(f"channel {label!r}: output latched off ({ch.latched})")
            if ch.clipped_ma is not None:
                errors.append(
                    f"channel {label!r}: compliance reached: delivered {ch.clipped_ma:.2f} mA "
                    f"of {ch.requested_ma:.2f} mA"
                )
        return DeviceStatus(self._state, channels, tuple(errors))

    def close(self) -> None:
        """Emergency-stop, forget the plan and disconnect; never raises."""
        self.emergency_stop()
        with self._lock:
            self._plan, self._channels = None, {}
            self._enter("disconnected", "closed")

    # ------------------------------------------------------------------ inspection

    def electrode_report(self, channel: str) -> ChannelContact:
        """The simulator's view of a channel's load (no link involved): impedances, voltage and
        the peak and r.m.s. current density under each electrode's remaining contact."""
        with self._lock:
            return self._contact(channel, self._channel(channel))

    def pulses(self, channel: str, t0_s: float = -math.inf, t1_s: float = math.inf) -> np.ndarray:
        """Onsets of the pulses delivered on ``channel`` in [t0_s, t1_s) (see :class:`PulseLog`)."""
        return self.log.pulses(channel, t0_s, t1_s)

    def last_pulse_time_s(self, channel: str | None = None) -> float | None:
        """End of the last delivered pulse on ``channel`` (or any), cut at its segment's end."""
        return self.log.last_pulse_time_s(channel)

    def delivered_charge_uc(self, channel: str) -> float:
        """∫|i|dt delivered on ``channel`` so far (µC)."""
        return self.log.delivered_charge_uc(channel)

    # ------------------------------------------------------------------ fault injection

    def lead_off(self, channel: str, electrode: int | None = None) -> None:
        """An electrode (index; ``None``: the channel's lead, every electrode) loses contact.

        The channel's output stops and stays latched off until the next ``configure``."""
        with self._lock:
            ch = self._channel(channel)
            indices = self._electrode_indices(ch, electrode)
            t_s = self._clock()
            ch.load = ch.load.with_contact(indices, 0.0)
            ch.latched = "lead off"
            reports = self._settle(t_s)
            where = "lead" if electrode is None else f"electrode {electrode}"
            reports += [
                self._electrode_event(channel, ch, f"{where} lost contact"),
                _fault(
                    "lead_off",
                    f"channel {channel!r}: {where} off; channel output stopped",
                    channel=channel,
                    output="channel_stopped",
                ),
            ]
            self._report(reports, "lead off", t_s)

    def partial_peel(self, channel: str, area_fraction: float, electrode: int = 0) -> None:
        """Electrode ``electrode`` (0: the active one) keeps ``area_fraction`` (0–1] of its
        contact; 1 restores it. Impedance and current density are reported; a compliance clip
        or a density trip follow from the model."""
        if not 0 < area_fraction <= 1:
            raise InputError(
                FieldProblem("area_fraction", area_fraction, "a fraction in (0, 1]; 0 is lead_off"),
                source="partial_peel",
            )
        with self._lock:
            ch = self._channel(channel)
            indices = self._electrode_indices(ch, electrode)
            t_s = self._clock()
            ch.load = ch.load.with_contact(indices, area_fraction)
            reports = self._settle(t_s)
            message = f"electrode {electrode} at {area_fraction:.0%} contact"
            self._report([self._electrode_event(channel, ch, message), *reports], "peel", t_s)

    def communication_loss(self, lost: bool = True) -> None:
        """Lose (or restore) the link. While lost, every command times out; losing it stops the
        output (the device's watchdog) and puts a connected device into ``fault``."""
        with self._lock:
            t_s = self._clock()
            self._link_lost = lost
            if not lost:
                hint = "; configure() again to leave the fault" if self._state == "fault" else ""
                self.events.emit("info", f"link restored{hint}")
                return
            self._fail(t_s, "link_lost", "communication lost: output stopped by the watchdog")

    def over_current(self) -> None:
        """The output stage detects an over-current: every output stops, state ``fault``."""
        with self._lock:
            self._fail(self._clock(), "over_current", "over-current detected: output stopped")

    def device_stop(self, reason: str = "stopped at the device (its own stop button)") -> None:
        """The device stops its output by itself without a fault (a stop button on the device,
        a battery cut-off): output zero, state ``stopped``, reported as a ``state`` event and
        its ``applied`` event, as the interface's reporting contract asks (HAZ-101)."""
        with self._lock:
            self._stop_now(self._clock(), reason)

    def device_reset(self) -> None:
        """The device resets: output stops at once, the plan is lost, state ``disconnected``."""
        with self._lock:
            t_s = self._clock()
            self._halt(t_s)
            self._plan, self._channels = None, {}
            reports = [_fault("device_reset", "device reset: output stopped, plan lost")]
            self._enter("disconnected", "device reset")
            self._report(reports, "device reset", t_s)

    # ------------------------------------------------------------------ internals

    def _command(
        self,
        name: str,
        timeout_s: float,
        allowed: frozenset[DeviceState],
        apply: Callable[[float], _T],
        validate: Callable[[], None] | None = None,
    ) -> _T:
        """Check order and input, wait the link's latency (never longer than ``timeout_s``),
        then apply under the lock unless a stop or fault intervened meanwhile."""
        with self._lock:
            link_lost = self._link_lost
            if not link_lost:
                self._require_state(name, allowed)
                if validate is not None:
                    validate()
            epoch = self._epoch
        if link_lost or self._latency_s > timeout_s:
            self._idle.wait(max(timeout_s, 0.0))
            why = "the link is lost" if link_lost else f"it answers after {self._latency_s:g} s"
            raise DeviceTimeoutError(f"{name}(): no answer within {timeout_s:g} s; {why}")
        self._idle.wait(self._latency_s)
        with self._lock:
            if self._link_lost:
                raise DeviceTimeoutError(f"{name}(): the link was lost before the device answered")
            if self._epoch != epoch or self._state not in allowed:
                raise DeviceError(
                    f"{name}() was not applied: the output was stopped (state {self._state}) "
                    "while the command was in flight"
                )
            return apply(self._clock())


    def _channel(self, label: str) -> _Channel:
        if label not in self._channels:
            raise InputError(
                FieldProblem(
                    "channel", label, f"a channel of the loaded plan: {sorted(self._channels)}"
                )
            )
        return self._channels[label]

    @staticmethod
    def _electrode_indices(ch: _Channel, electrode: int | None) -> list[int]:
        count = len(ch.load.areas_cm2)
        if electrode is None:
            return list(range(count))
        if not 0 <= electrode < count:
            raise InputError(
                FieldProblem("electrode", electrode, f"an electrode index from 0 to {count - 1}")
            )
        return [electrode]

    def _halt(self, t_s: float) -> None:
        """Zero every output at ``t_s`` and invalidate commands in flight."""
        self.log.end_all(t_s)
        for ch in self._channels.values():
            ch.requested_ma = ch.delivered_ma = 0.0
            ch.clipped_ma = None
        self._epoch += 1

    def _fail(self, t_s: float, code: str, message: str) -> None:
        """Stop every output first, then report the fault and the state."""
        self._halt(t_s)
        self._device_faults.append(message)
        reports = [_fault(code, message)]
        if self._state != "disconnected":
            self._enter("fault", message)
        self._report(reports, code, t_s)

    def _settle(self, t_s: float) -> list[_Report]:
        """Bring each channel's output in line with its request, its load and the state; change
        the output here and return what to report, so reports always follow the change."""
        reports: list[_Report] = []
        for label, ch in self._channels.items():
            target = self._target_ma(label, ch, reports)
            if target != ch.delivered_ma:
                if target > 0:
                    self.log.begin(label, ch.output, t_s, target, self._origin_s)
                else:
                    self.log.end(label, t_s)
                ch.delivered_ma = target
        return reports

    def _target_ma(self, label: str, ch: _Channel, reports: list[_Report]) -> float:
        previous_clip, ch.clipped_ma = ch.clipped_ma, None
        if self._state != "stimulating" or ch.latched is not None:
            return 0.0
        delivered = ch.load.deliverable_ma(
            ch.requested_ma, ch.output.phases, self._caps.compliance_voltage_v
        )
        density = ch.load.highest_density_ma_per_cm2(delivered * ch.rms_ma_per_ma)
        if density > ch.density_limit_ma_per_cm2:
            ch.latched = "current density"
            reports.append(
                _fault(
                    "current_density",
                    f"channel {label!r}: r.m.s. current density {density:.2f} mA/cm² on the "
                    f"remaining contact exceeds {ch.density_limit_ma_per_cm2:.2f} mA/cm²; "
                    "channel output stopped",
                    channel=label,
                    output="channel_stopped",
                    rms_density_ma_per_cm2=density,
                )
            )
            return 0.0
        clipped = delivered if delivered < ch.requested_ma else None
        if clipped is not None and clipped != previous_clip:
            reports.append(
                _fault(
                    "compliance",
                    f"channel {label!r}: compliance reached: delivered {delivered:.2f} mA of "
                    f"{ch.requested_ma:.2f} mA",
                    channel=label,
                    output="clipped",
                    delivered_ma=delivered,
                    requested_ma=ch.requested_ma,
                )
            )
        ch.clipped_ma = clipped
        return delivered

    def _contact(self, label: str, ch: _Channel) -> ChannelContact:
        return ch.load.contact(
            label, ch.output.phases, ch.requested_ma, ch.delivered_ma, ch.rms_ma_per_ma
        )

    def _electrode_event(self, label: str, ch: _Channel, what: str) -> _Report:
        contact = self._contact(label, ch)
        return ("electrode", f"channel {label!r}: {what}; {contact.summary}", asdict(contact))

    def _report(self, reports: list[_Report], reason: str, t_s: float) -> None:
        """Emit what happened, then what is applied now (the output already changed)."""
        for kind, message, detail in reports:
            self.events.emit(kind, message, t_device_s=t_s, **detail)
        delivered = {label: ch.delivered_ma for label, ch in self._channels.items()}
        shown = ", ".join(f"{label} {ma:.2f} mA" for label, ma in delivered.items()) or "none"
        self.events.emit(
            "applied",
            f"{reason}: delivering {shown}",
            t_device_s=t_s,
            reason=reason,
            delivered_ma=delivered,
            requested_ma={label: ch.requested_ma for label, ch in self._channels.items()},
        )


def _fault(code: str, message: str, **detail: object) -> _Report:
    """A fault report: ``code`` names it, ``output`` says what happened to the output."""
    return ("fault", message, {"code": code, "output": "stopped", **detail})
