"""The session runtime: one verified plan, one device, one person, one journal.

:class:`SessionRunner` is a state machine (``idle → armed → calibrating → ramping → running ⇄
paused → ramping_down → completed``, and ``aborted`` from anywhere) advanced by :meth:`tick` at a
fixed control rate. The interlocks live here, above every driver, so they are the same whatever
the device:

* only a :class:`~stimwise.safety.plan.VerifiedPlan` is accepted, and with screening caps it is
  verified again against them before anything is delivered;
* the amplitude never exceeds the ceiling (the plan's amplitude, the person's cap and the
  device's range, whichever is lowest) and rises no faster than ``max_slew_ma_per_s``;
* output stops on lead-off, impedance out of range, a link or device error, a missed heartbeat
  from the controlling interface (dead-man), a journal that cannot be written, and the session
  time limit; the emergency stop works from every state.

Every event is appended to the journal before the runner acts on it. The one exception is a
safety stop: the output is zeroed first (``emergency_stop`` never waits) and the reason is
journaled right after, because a journal write could be what failed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from stimwise.device.interface import DeviceError, Stimulator
from stimwise.errors import InputError, SafetyBlockError
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.safety.verify import verify
from stimwise.session.calibration import Calibration
from stimwise.session.journal import SESSION_END, Journal, JournalError
from stimwise.session.prompts import Prompt, Responder
from stimwise.session.record import SessionRecord, record_from_events
from stimwise.session.states import OUTPUT_STATES, TERMINAL, TRANSITIONS, SessionState
from stimwise.waveform.timefunctions import envelope_fraction


@dataclass(frozen=True)
class SessionSettings:
    """Control parameters; the defaults are stimwise choices (confidence U) unless cited."""

    tick_s: float = 0.05
    heartbeat_timeout_s: float = 2.0
    max_slew_ma_per_s: float = 10.0
    step_ma: float | None = None
    """Calibration and habituation step; default 1/40 of the ceiling."""
    calibrate: bool = True
    target_ma: float | None = None
    """Therapeutic level when calibration is skipped."""
    calibration_step_s: float = 1.0
    calibration_series: int = 3
    rest_s: float = 2.0
    status_interval_s: float = 0.5
    max_impedance_ohm: float = 50_000.0
    max_impedance_rise: float = 2.0
    """Abort when a channel's impedance exceeds this multiple of its first reading (a peeling
    electrode concentrates the current on what is left of the contact)."""
    stop_ramp_s: float = 2.0
    device_timeout_s: float = 0.5
    max_overrun_s: float = 900.0
    """Hard limit on calibration, pauses and prompts beyond the planned minutes."""


@dataclass(frozen=True)
class Snapshot:
    """What a user interface shows at one moment."""

    state: SessionState
    applied_ma: float
    target_ma: float | None
    ceiling_ma: float
    running_s: float
    remaining_s: float
    prompt: Prompt | None
    electrodes: tuple[tuple[str, str, float | None], ...]
    reason: str | None


class SessionRunner:
    """Runs one session on one device; see the module docstring for the interlocks."""

    def __init__(
        self,
        plan: VerifiedPlan,
        device: Stimulator,
        journal: Journal,
        responder: Responder,
        *,
        caps: PatientCaps | None = None,
        settings: SessionSettings | None = None,
        patient_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = require_verified(plan)
        if caps is not None:
            report = verify(plan.prescription, caps=caps)
            if report.verdict == "block":
                messages = "; ".join(f.message for f in report.findings if f.severity == "block")
                raise SafetyBlockError(f"the plan exceeds this person's caps: {messages}")
        self.device = device
        self.journal = journal
        self.responder = responder
        self.settings = settings or SessionSettings()
        self.clock = clock
        rx = plan.prescription
        self.labels = tuple(c.label for c in rx.channels)
        device_max = device.capabilities.current_range_ma[1]
        limits = [rx.max_amplitude_ma, device_max]
        if caps is not None and caps.max_amplitude_ma is not None:
            limits.append(caps.max_amplitude_ma)
        self.ceiling_ma = min(limits)
        self.step_ma = self.settings.step_ma or self.ceiling_ma / 40
        self.session_s = rx.session_duration_min * 60
        self.state: SessionState = "idle"
        self.reason: str | None = None
        self.applied_ma = 0.0
        self.target_ma: float | None = (
            None
            if self.settings.calibrate
            else (min(self.settings.target_ma or self.ceiling_ma, self.ceiling_ma))
        )
        self.running_s = 0.0
        self.prompt: Prompt | None = None
        self.answers: dict[str, str] = {}
        self.calibration: Calibration | None = None
        self._commands: queue.Queue[str] = queue.Queue()
        self._lock = threading.RLock()
        self._user_stop_reason: str | None = None
        self._started_s = clock()
        self._last_tick_s = self._started_s
        self._slew_ceiling_ma = 0.0
        self._last_heartbeat_s = self._started_s
        self._last_status_s = self._started_s
        self._step_started_s = self._started_s
        self._stop_from_ma = 0.0
        self._stop_started_s = 0.0
        self._electrodes: tuple[tuple[str, str, float | None], ...] = ()
        self._finished = False
        self.record: SessionRecord | None = None
        self._event_list: list[dict[str, Any]] = []
        self._baseline_impedance_ohm: dict[str, float] = {}
        self._log(
            "session_start",
            protocol_id=rx.protocol.id,
            plan_fingerprint=plan.fingerprint,
            device=device.capabilities.name,
            device_range_ma=list(device.capabilities.current_range_ma),
            patient_id=patient_id,
            ceiling_ma=self.ceiling_ma,
            session_s=self.session_s,
            channels=list(self.labels),
            charge_per_phase_uc_at_max=max(c.charge_per_phase_uc for c in plan.metrics.channels),
            plan_max_amplitude_ma=rx.max_amplitude_ma,
            caps=None if caps is None else caps.model_dump(mode="json"),
            settings=self.settings.__dict__,
        )
        self._ask("nrs_pre")

    # ----------------------------------------------------------------- commands (any thread)

    def heartbeat(self) -> None:
        """The controlling interface is alive; without it for ``heartbeat_timeout_s``, stop."""
        self._last_heartbeat_s = self.clock()

    def command(self, name: str) -> None:
        """Queue ``increase``, ``decrease``, ``pause``, ``resume`` or ``stop``."""
        self._commands.put(name)

    def emergency_stop(self, reason: str = "emergency stop by the user") -> None:
        """Zero the output now, from any state and any thread.

        The reason is noted before the output stops: a device call of the control loop that
        fails *because* of this stop must not be recorded as a device fault instead."""
        self._user_stop_reason = reason
        self._abort(reason)

    # ----------------------------------------------------------------- the control loop

    def run(self, on_tick: Callable[[Snapshot], None] | None = None) -> SessionRecord:
        """Tick in real time until the session ends; return its record."""
        try:
            while not self._finished:
                snapshot = self.tick()
                if on_tick is not None:
                    on_tick(snapshot)
                time.sleep(self.settings.tick_s)
        except BaseException:
            # Whatever happens here (Ctrl-C included), the output is stopped first.
            self._abort("session interrupted")
            raise
        assert self.record is not None
        return self.record

    def tick(self) -> Snapshot:
        """Advance one control step."""
        with self._lock:
            try:
                self._tick()
            except JournalError as error:
                self._abort(f"journal failure: {error}", journal=False)
                raise
        return self.snapshot()

    def snapshot(self) -> Snapshot:
        return Snapshot(
            state=self.state,
            applied_ma=self.applied_ma,
            target_ma=self.target_ma,
            ceiling_ma=self.ceiling_ma,
            running_s=self.running_s,
            remaining_s=max(self.session_s - self.running_s, 0.0),
            prompt=self.prompt,
            electrodes=self._electrodes,
            reason=self.reason,
        )

    def _tick(self) -> None:
        now = self.clock()
        dt = now - self._last_tick_s
        self._last_tick_s = now
        # One tick may raise the amplitude by at most one slew step, however often it applies.
        self._slew_ceiling_ma = self.applied_ma + self.settings.max_slew_ma_per_s * min(
            dt, self.settings.tick_s
        )
        if self._finished:
            return
        self._device_events()
        if self.state not in TERMINAL:
            self._interlocks(now)
        if self.state not in TERMINAL:
            self._commands_due()
        self._prompt_due()
        if self.state not in TERMINAL:
            self._advance(now, dt)
        if self.state in TERMINAL and self.prompt is None:
            self._finish()

    # ----------------------------------------------------------------- interlocks

    def _interlocks(self, now: float) -> None:
        if (
            self.state != "idle"
            and now - self._last_heartbeat_s > self.settings.heartbeat_timeout_s
        ):
            self._abort(
                f"no heartbeat from the controlling interface for "
                f"{now - self._last_heartbeat_s:.1f} s (dead-man)"
            )
            return
        if now - self._started_s > self.session_s + self.settings.max_overrun_s:
            self._abort("session time limit exceeded")
            return
        if (
            self.state in OUTPUT_STATES
            and now - self._last_status_s >= self.settings.status_interval_s
        ):
            self._last_status_s = now
            self._check_electrodes()

    def _check_electrodes(self) -> None:
        try:
            status = self.device.status(self.settings.device_timeout_s)
        except DeviceError as error:
            self._abort(f"device status failed: {error}")
            return
        self._electrodes = tuple((c.label, c.electrode, c.impedance_ohm) for c in status.channels)
        for c in status.channels:
            if c.electrode == "lead_off":
                self._abort(f"lead-off on channel {c.label}")
                return
            if c.impedance_ohm is None:
                continue
            baseline = self._baseline_impedance_ohm.setdefault(c.label, c.impedance_ohm)
            limit = min(
                self.settings.max_impedance_ohm, baseline * self.settings.max_impedance_rise
            )
            if c.impedance_ohm > limit:
                self._abort(
                    f"impedance {c.impedance_ohm:.0f} Ω on channel {c.label} is above "
                    f"{limit:.0f} Ω (first reading {baseline:.0f} Ω)"
                )
                return
        if status.state == "fault" or status.errors:
            self._abort(f"device reports: {'; '.join(status.errors) or status.state}")

    def _device_events(self) -> None:
        for event in self.device.events.drain():
            self._log(
                "device_event",
                kind=event.kind,
                message=event.message,
                device_t_s=event.t_s,
                detail=dict(event.detail),
            )
            if event.kind == "fault" and self.state not in TERMINAL:
                self._abort(f"device fault: {event.message}")

    # ----------------------------------------------------------------- commands and prompts

    def _commands_due(self) -> None:
        while True:
            try:
                name = self._commands.get_nowait()
            except queue.Empty:
                return
            self._log("user_command", command=name, state=self.state)
            handler = {
                "increase": self._increase,
                "decrease": self._decrease,
                "pause": self._pause,
                "resume": self._resume,
                "stop": self._request_stop,
            }.get(name)
            if handler is None:
                self._log("command_refused", command=name, reason="unknown command")
            else:
                handler()

    def _increase(self) -> None:
        if self.state != "running" or self.target_ma is None:
            self._log("command_refused", command="increase", reason=f"not running ({self.state})")
            return
        new = min(self.target_ma + self.step_ma, self.ceiling_ma)
        if new <= self.target_ma:
            self._log(
                "command_refused",
                command="increase",
                reason="at the ceiling",
                ceiling_ma=self.ceiling_ma,
            )
            return
        self._log("habituation_increase", from_ma=self.target_ma, to_ma=new)
        self.target_ma = new

    def _decrease(self) -> None:
        if self.target_ma is None:
            return
        new = max(self.target_ma - self.step_ma, 0.0)
        self._log("decrease", from_ma=self.target_ma, to_ma=new)
        self.target_ma = new

    def _pause(self) -> None:
        if self.state in ("ramping", "running"):
            self._set_state("paused", "paused by the user")
            self._apply(0.0)

    def _resume(self) -> None:
        if self.state == "paused":
            self._set_state("ramping", "resumed by the user")

    def _request_stop(self) -> None:
        if self.state in ("ramping", "running", "paused"):
            self._stop_from_ma = self.applied_ma
            self._stop_started_s = self.clock()
            self._set_state("ramping_down", "stopped by the user")
        elif self.state in ("idle", "armed", "calibrating"):
            self._apply(0.0)
            self._set_state("completed", "stopped by the user before stimulation")
            self._ask("nrs_post")

    def _ask(self, kind: str, amplitude_ma: float = 0.0) -> None:
        self.prompt = Prompt(kind, amplitude_ma)  # type: ignore[arg-type]
        self._log("prompt", kind=kind, amplitude_ma=amplitude_ma)

    def _prompt_due(self) -> None:
        if self.prompt is None:
            return
        answer = self.responder.answer(self.prompt)
        if answer is None:
            return
        prompt = self.prompt
        if answer not in prompt.answers:
            self._log(
                "response_refused", kind=prompt.kind, answer=answer, expected=list(prompt.answers)
            )
            return
        self._log("response", kind=prompt.kind, answer=answer, amplitude_ma=prompt.amplitude_ma)
        self.prompt = None
        self.answers[prompt.kind] = answer
        self._on_answer(prompt, answer)

    def _on_answer(self, prompt: Prompt, answer: str) -> None:
        if prompt.kind == "nrs_pre":
            self._ask("skin_pre")
        elif prompt.kind == "skin_pre":
            if answer == "not_ok":
                self._set_state("completed", "skin check failed before stimulation")
                return
            self._arm()
        elif prompt.kind in ("sensation", "comfort", "motor") and self.calibration is not None:
            self.calibration.record(answer)
            self._step_started_s = self.clock()
        elif prompt.kind == "nrs_post":
            self._ask("skin_post")

    # ----------------------------------------------------------------- the state machine

    def _arm(self) -> None:
        timeout = self.settings.device_timeout_s
        try:
            self._log("command", command="connect")
            self.device.connect(timeout_s=max(timeout, 2.0))
            self._log("command", command="configure", plan_fingerprint=self.plan.fingerprint)
            self.device.configure(self.plan, timeout_s=timeout)
            self._log("command", command="arm")
            self.device.arm(timeout_s=timeout)
        except DeviceError as error:
            self._abort(f"device could not be armed: {error}")
            return
        self._set_state("armed", "device configured and armed")
        self._last_heartbeat_s = self.clock()
        self._log("command", command="start")
        try:
            self.device.start(timeout_s=timeout)
        except DeviceError as error:
            self._abort(f"device could not start: {error}")
            return
        if self.settings.calibrate:
            level = self.plan.prescription.protocol.intensity.level
            self.calibration = Calibration(
                level=level,
                ceiling_ma=self.ceiling_ma,
                step_ma=self.step_ma,
                series=self.settings.calibration_series,
            )
            self._step_started_s = self.clock()
            self._set_state("calibrating", f"ascending method of limits ({level} level)")
        else:
            self._set_state("ramping", f"therapeutic level {self.target_ma:g} mA given")

    def _advance(self, now: float, dt: float) -> None:
        match self.state:
            case "calibrating":
                self._calibrate(now)
            case "ramping" | "running":
                self._stimulate(dt)
            case "paused":
                self._apply(0.0)
            case "ramping_down":
                ramp_s = max(self.plan.prescription.envelope.ramp_down_s, self.settings.stop_ramp_s)
                fraction = 1.0 - (now - self._stop_started_s) / ramp_s
                self._apply(max(self._stop_from_ma * fraction, 0.0))
                if fraction <= 0:
                    self._complete(self.reason or "session stopped")

    def _calibrate(self, now: float) -> None:
        cal = self.calibration
        assert cal is not None
        if cal.done:
            self.target_ma = cal.target_ma
            self._log(
                "calibration_result",
                sensation_threshold_ma=cal.sensation_threshold_ma,
                series_ma=cal.thresholds_ma,
                motor_threshold_ma=cal.motor_threshold_ma,
                target_ma=cal.target_ma,
                ceiling_reached=cal.ceiling_reached,
            )
            self._apply(0.0)
            self._set_state("ramping", f"therapeutic level {cal.target_ma:g} mA")
            return
        self._apply(cal.amplitude_ma())
        held_s = now - self._step_started_s
        if cal.phase == "rest":
            if held_s >= self.settings.rest_s:
                cal.end_rest()
                self._step_started_s = now
        elif self.prompt is None and held_s >= self.settings.calibration_step_s:
            next_prompt = cal.prompt()
            if next_prompt is not None:
                self._ask(next_prompt.kind, next_prompt.amplitude_ma)

    def _stimulate(self, dt: float) -> None:
        self.running_s += dt
        envelope = self.plan.prescription.envelope
        fraction = float(envelope_fraction(envelope, np.array([self.running_s]), self.session_s)[0])
        target = self.target_ma or 0.0
        self._apply(target * fraction)
        if (
            self.state == "ramping"
            and self.applied_ma >= target * fraction - 1e-9
            and (self.running_s >= envelope.ramp_up_s)
        ):
            self._set_state("running", "at the therapeutic level")
        if self.running_s >= self.session_s:
            self._stop_from_ma = self.applied_ma
            self._stop_started_s = self.clock()
            self._set_state("ramping_down", "planned session time reached")

    def _complete(self, reason: str) -> None:
        self._set_state("completed", reason)
        self._ask("nrs_post")

    def _set_state(self, new: SessionState, reason: str) -> None:
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"invalid session transition {self.state} -> {new}")
        self._log("state", from_state=self.state, to_state=new, reason=reason)
        self.state = new
        self.reason = reason

    # ----------------------------------------------------------------- output

    def _apply(self, desired_ma: float) -> None:
        """Send a new amplitude if it changed, within the ceiling and the slew limit."""
        allowed = min(max(desired_ma, 0.0), self.ceiling_ma)
        if self.state not in OUTPUT_STATES:
            allowed = 0.0
        allowed = min(allowed, max(self._slew_ceiling_ma, self.applied_ma))
        if abs(allowed - self.applied_ma) < max(self.ceiling_ma * 1e-3, 1e-6):
            return
        amplitudes = dict.fromkeys(self.labels, round(allowed, 6))
        self._log("update", amplitude_ma=round(allowed, 6), state=self.state)
        try:
            self.device.update(amplitudes, timeout_s=self.settings.device_timeout_s)
        except (DeviceError, InputError) as error:
            self._abort(f"device did not apply the amplitude: {error}")
            return
        self.applied_ma = allowed

    def _abort(self, reason: str, *, journal: bool = True) -> None:
        """Stop the output first, then record why (fail closed)."""
        self.device.emergency_stop()
        with self._lock:
            reason = self._user_stop_reason or reason
            was_terminal = self.state in TERMINAL
            self.applied_ma = 0.0
            if journal and not was_terminal:
                try:
                    self._log("emergency_stop", reason=reason, state=self.state)
                    self._log("state", from_state=self.state, to_state="aborted", reason=reason)
                except JournalError:
                    pass
            if not was_terminal:
                self.state = "aborted"
                self.reason = reason
                self.prompt = None
            if not journal:
                self._finished = True

    def _finish(self) -> None:
        try:
            self.device.stop(timeout_s=self.settings.device_timeout_s)
        except DeviceError as error:
            self.device.emergency_stop()
            self._log("device_event", kind="fault", message=f"stop failed: {error}")
        closing = {
            "type": SESSION_END,
            "outcome": self.state,
            "reason": self.reason,
            "t_mono_s": self.clock(),
            "t_wall": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        record = record_from_events([*self._event_list, closing])
        self._log(
            SESSION_END,
            outcome=self.state,
            reason=self.reason,
            record=record.model_dump(mode="json"),
        )
        self.record = record
        self._finished = True
        self.journal.close()

    @property
    def finished(self) -> bool:
        return self._finished

    def _log(self, event_type: str, **fields: Any) -> None:
        self._event_list.append(self.journal.append(event_type, **fields))
