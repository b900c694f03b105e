"""The session runtime: one verified plan, one device, one person, one journal.

:class:`SessionRunner` is a state machine (``idle → armed → calibrating → ramping → running ⇄
paused → ramping_down → completed``, and ``aborted`` from anywhere) advanced by :meth:`tick` at a
fixed control rate. The interlocks live here, above every driver, so they are the same whatever
the device:

* only a :class:`~stimwise.safety.plan.VerifiedPlan` is accepted, and with screening caps it is
  verified again against them before anything is delivered; for a named person the plan must
  have been verified for that person (a plan verified without caps is *not patient-specific*:
  allowed only for a run without a person, and journaled as such), and it is re-checked at
  every tick while output is possible (an edited plan aborts the session);
* the amplitude never exceeds the ceiling (the plan's amplitude, the person's cap and the
  device's range, whichever is lowest) and rises no faster than ``max_slew_ma_per_s``;
* output stops on lead-off, impedance out of range, a link or device error, a missed heartbeat
  from the controlling interface (dead-man), a journal that cannot be written, and the session
  time limit; the emergency stop works from every state;
* the amplitudes sent are the device's own: floored to its current step
  (``Capabilities.current_step_ma``), so what the session asks is what the device can deliver,
  and a ramp reaches its level exactly (HAZ-104).

Every event is appended to the journal before the runner acts on it. The one exception is a
safety stop: the output is zeroed first (``emergency_stop`` never waits) and the reason is
journaled right after, because a journal write could be what failed.

What the device reports is journaled as soon as it is known: the device's event stream is drained
at every control step, after every device call and right after a stop, following the reporting
contract of :mod:`stimwise.device.interface`. So a fault that arrives while a command is in flight
is journaled with its cause and named to the user instead of the failed command (HAZ-100); a stop
the device makes by itself ends the session at once (HAZ-101); and the record counts only what
the device reported as delivered (HAZ-102, :mod:`stimwise.session.record`).

Every way a session ends — completion, a stop, a refusal by the device, a fault, an interlock,
the emergency stop, an interruption (Ctrl-C, SIGTERM through :meth:`SessionRunner.interrupt`, an
exception in the control loop) — zeroes the output first and closes the journal with a
``session_end`` event carrying the outcome, the reason in words and an :data:`EndCause` (HAZ-103);
only a journal that cannot be written stays without one (``stimwise session recover`` closes it).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from stimwise.device.interface import DeviceError, DeviceRefusalError, Stimulator
from stimwise.errors import InputError, SafetyBlockError, UnverifiedPlanError
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan, require_verified
from stimwise.safety.verify import verify
from stimwise.session.calibration import Calibration
from stimwise.session.device_reports import DeviceReports
from stimwise.session.journal import SESSION_END, Journal, JournalError
from stimwise.session.limits import SessionSettings
from stimwise.session.outcomes import (
    CommandRefusal,
    EndCause,
    increase_refusal,
    state_in_words,
)
from stimwise.session.prompts import Prompt, Responder
from stimwise.session.record import SessionRecord, record_from_events
from stimwise.session.states import OUTPUT_STATES, TERMINAL, TRANSITIONS, SessionState
from stimwise.waveform.timefunctions import envelope_fraction

__all__ = ["SessionRunner", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """What a user interface shows at one moment.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> from stimwise.session import Journal, SessionRunner
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "session.jsonl")
    >>> person = sw.ScriptedResponder.typical(30)
    >>> runner = SessionRunner(plan, sw.open_device("sim"), journal, person)
    >>> snapshot = runner.snapshot()
    >>> snapshot.state, snapshot.prompt.kind, snapshot.remaining_s
    ('idle', 'nrs_pre', 1800.0)
    >>> runner.emergency_stop(); _ = runner.tick()  # ends the session, closes its journal
    """

    state: SessionState
    applied_ma: float
    target_ma: float | None
    ceiling_ma: float
    running_s: float
    remaining_s: float
    prompt: Prompt | None
    electrodes: tuple[tuple[str, str, float | None], ...]
    reason: str | None
    delivered_ma: float = 0.0
    """The highest channel amplitude the device last reported as delivered (its ``applied``
    events); ``applied_ma`` is what the session last asked for."""
    refusal: CommandRefusal | None = None
    """The latest command the runtime refused, with the reason to show the person (``None``
    until one is refused); its ``seq`` tells a new refusal from one already shown."""


class SessionRunner:
    """Runs one session on one device; see the module docstring for the interlocks.

    Examples
    --------
    :func:`stimwise.run_session` drives a runner until the session ends; a user interface drives it
    itself, calling :meth:`tick` at the control rate and :meth:`heartbeat` while it is alive:

    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> from stimwise.session import Journal, SessionRunner
    >>> plan = sw.verify(sw.load_protocol("conventional-tens")).require_plan()
    >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "session.jsonl")
    >>> person = sw.ScriptedResponder.typical(30)
    >>> runner = SessionRunner(plan, sw.open_device("sim"), journal, person)
    >>> runner.ceiling_ma  # the lowest of the plan's amplitude, the caps and the device range
    30.0
    >>> runner.emergency_stop()  # from any state and any thread: the output is zeroed first
    >>> runner.tick().state, runner.record.outcome
    ('aborted', 'aborted')
    """

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
        self.plan = require_verified(plan, patient_id=patient_id)
        if caps is not None:
            if caps.patient_id is not None:
                require_verified(plan, patient_id=caps.patient_id)
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
        device_caps = device.capabilities
        self.device_step_ma = max(device_caps.current_step_ma, 1e-6)
        limits = [rx.max_amplitude_ma, device_caps.current_range_ma[1]]
        if caps is not None and caps.max_amplitude_ma is not None:
            limits.append(caps.max_amplitude_ma)
        self._limit_ma = min(limits)
        self.ceiling_ma = self._deliverable(self._limit_ma)
        """The highest amplitude the device can deliver within every limit (on its grid)."""
        wanted_step_ma = self.settings.step_ma or self.ceiling_ma / 40
        self.step_ma = round(
            max(1, round(wanted_step_ma / self.device_step_ma)) * self.device_step_ma, 9
        )
        self.session_s = rx.session_duration_min * 60
        self.state: SessionState = "idle"
        self.reason: str | None = None
        self.end_cause: EndCause | None = None
        """Why the session ended, as a code (see :data:`EndCause`); ``None`` while it runs."""
        self.applied_ma = 0.0
        self.refusal: CommandRefusal | None = None
        self.target_ma: float | None = (
            None
            if self.settings.calibrate
            else self._deliverable(min(self.settings.target_ma or self.ceiling_ma, self.ceiling_ma))
        )
        self.running_s = 0.0
        self.prompt: Prompt | None = None
        self.answers: dict[str, str] = {}
        self.calibration: Calibration | None = None
        self._commands: queue.Queue[str] = queue.Queue()
        self._lock = threading.RLock()
        self._user_stop: tuple[str, EndCause] | None = None
        self._stop_cause: EndCause = "completed"
        self._started_s = clock()
        self._last_tick_s = self._started_s
        self._last_rise_s = self._started_s
        self._last_heartbeat_s = self._started_s
        self._last_status_s = self._started_s
        self._step_started_s = self._started_s
        self._stop_from_ma = 0.0
        self._stop_started_s = 0.0
        self._electrodes: tuple[tuple[str, str, float | None], ...] = ()
        self._finished = False
        self.record: SessionRecord | None = None
        self._event_list: list[dict[str, Any]] = []
        self._reports = DeviceReports(device, self._log)
        self._baseline_impedance_ohm: dict[str, float] = {}
        self._log(
            "session_start",
            protocol_id=rx.protocol.id,
            plan_fingerprint=plan.fingerprint,
            device=device.capabilities.name,
            device_range_ma=list(device.capabilities.current_range_ma),
            patient_id=patient_id,
            plan_patient_id=plan.patient_id,
            patient_specific=plan.patient_specific,
            ceiling_ma=self.ceiling_ma,
            device_current_step_ma=self.device_step_ma,
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
        self._user_stop = (reason, "emergency_stop")
        self._abort(reason, "emergency_stop")

    def interrupt(self, reason: str) -> None:
        """End the session now because its controlling program is being stopped (Ctrl-C,
        SIGTERM): the output is zeroed at once, from any thread (a signal handler may start one
        to call this), and the control loop then closes the journal (cause ``interrupted``)."""
        self._user_stop = (reason, "interrupted")
        self._abort(reason, "interrupted")

    # ----------------------------------------------------------------- the control loop

    def run(self, on_tick: Callable[[Snapshot], None] | None = None) -> SessionRecord:
        """Tick in real time until the session ends; return its record.

        Whatever interrupts the loop (Ctrl-C as ``KeyboardInterrupt``, an error in ``on_tick``
        or in the runtime) stops the output first, closes the journal with a ``session_end``
        (cause ``interrupted``) and is then raised again; :attr:`record` holds the record."""
        try:
            while not self._finished:
                snapshot = self.tick()
                if on_tick is not None:
                    on_tick(snapshot)
                time.sleep(self.settings.tick_s)
        except JournalError:
            raise  # the output is stopped (tick) and nothing more can be written
        except BaseException as error:
            self._end_after(error)
            raise
        assert self.record is not None
        return self.record

    def _end_after(self, error: BaseException) -> None:
        """Stop the output, then close the journal, after ``error`` left the control loop."""
        if isinstance(error, KeyboardInterrupt):
            reason = "interrupted by Ctrl-C (keyboard interrupt)"
        else:
            reason = f"interrupted by an error in the control program ({type(error).__name__})"
        self._abort(reason, "interrupted")
        with self._lock, contextlib.suppress(JournalError):
            if not self._finished:
                self._finish()

    def tick(self) -> Snapshot:
        """Advance one control step."""
        with self._lock:
            try:
                self._tick()
            except JournalError as error:
                self._abort(f"journal failure: {error}", "journal_failure", journal=False)
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
            delivered_ma=self.delivered_ma,
            refusal=self.refusal,
        )

    def _tick(self) -> None:
        now = self.clock()
        dt = now - self._last_tick_s
        self._last_tick_s = now
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
                f"{now - self._last_heartbeat_s:.1f} s (dead-man)",
                "interlock",
            )
            return
        if now - self._started_s > self.session_s + self.settings.max_overrun_s:
            self._abort("session time limit exceeded", "interlock")
            return
        if self.state in OUTPUT_STATES:
            try:  # a plan edited since verification: nothing more is delivered
                require_verified(self.plan)
            except UnverifiedPlanError as error:
                self._abort(str(error), "interlock")
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
            self._abort(f"device status failed: {error}", "device_fault")
            return
        if self._device_events():
            return
        self._electrodes = tuple((c.label, c.electrode, c.impedance_ohm) for c in status.channels)
        for c in status.channels:
            if c.electrode == "lead_off":
                self._abort(f"lead-off on channel {c.label}", "interlock")
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
                    f"{limit:.0f} Ω (first reading {baseline:.0f} Ω)",
                    "interlock",
                )
                return
        if status.state == "fault" or status.errors:
            self._abort(
                f"device reports: {'; '.join(status.errors) or status.state}", "device_fault"
            )
        elif status.state != "stimulating":
            self._abort(
                f"the device stopped the output by itself: it reports {status.state}, not "
                "stimulating",
                "device_stop",
            )

    @property
    def delivered_ma(self) -> float:
        """The highest channel amplitude the device last reported as delivered."""
        return self._reports.delivered_ma

    def _device_events(self) -> bool:
        """Journal what the device reported and end the session on a fault or on a stop the
        device made by itself; True when the session was aborted."""
        problem = self._reports.drain()
        if problem is None or self.state in TERMINAL:
            return False
        self._abort(*problem)
        return True

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
                self._refuse(
                    name, "unknown command; expected increase, decrease, pause, resume or stop"
                )
            else:
                handler()
            if self.state in TERMINAL:
                return

    def _refuse(self, command: str, reason: str, **fields: Any) -> None:
        """Journal a refused command and keep it for the interface to show (``refusal``)."""
        seq = 1 if self.refusal is None else self.refusal.seq + 1
        self.refusal = CommandRefusal(seq, command, reason)
        self._log("command_refused", command=command, reason=reason, state=self.state, **fields)

    def _increase(self) -> None:
        if self.state != "running" or self.target_ma is None:
            self._refuse("increase", increase_refusal(self.state))
            return
        new = self._deliverable(min(self.target_ma + self.step_ma, self.ceiling_ma))
        if new <= self.target_ma:
            self._refuse(
                "increase",
                f"already at the ceiling of {self.ceiling_ma:g} mA, the most this plan, this "
                "person's caps and the device allow",
                ceiling_ma=self.ceiling_ma,
            )
            return
        self._log("habituation_increase", from_ma=self.target_ma, to_ma=new)
        self.target_ma = new

    def _decrease(self) -> None:
        if self.target_ma is None:
            self._refuse("decrease", "there is no level to lower yet: calibration sets it first")
            return
        if self.target_ma <= 0:
            self._refuse("decrease", "the level is already 0 mA")
            return
        new = self._deliverable(max(self.target_ma - self.step_ma, 0.0))
        self._log("decrease", from_ma=self.target_ma, to_ma=new)
        self.target_ma = new

    def _pause(self) -> None:
        if self.state not in ("ramping", "running"):
            now_words = state_in_words(self.state)
            self._refuse("pause", f"only stimulation can be paused; the session is {now_words}")
            return
        self._set_state("paused", "paused by the user")
        self._apply(0.0)

    def _resume(self) -> None:
        if self.state != "paused":
            self._refuse("resume", f"the session is not paused; it is {state_in_words(self.state)}")
            return
        self._set_state("ramping", "resumed by the user")

    def _request_stop(self) -> None:
        if self.state in ("ramping", "running", "paused"):
            self._begin_ramp_down("stopped by the user", "stopped")
        elif self.state in ("idle", "armed", "calibrating"):
            self._apply(0.0)
            self._end("completed", "stopped by the user before stimulation", "stopped")
            self._ask("nrs_post")
        else:
            self._refuse("stop", f"the session is already {state_in_words(self.state)}")

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
                self._end("completed", "skin check failed before stimulation", "skin_check")
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
        if self.ceiling_ma <= 0:
            self._abort(
                f"the {self.device.capabilities.name} delivers current in steps of "
                f"{self.device_step_ma:g} mA: nothing up to the ceiling of {self._limit_ma:g} mA "
                "can be delivered",
                "refused",
            )
            return
        try:
            self._log("command", command="connect")
            self.device.connect(timeout_s=max(timeout, 2.0))
            self._log("command", command="configure", plan_fingerprint=self.plan.fingerprint)
            self.device.configure(self.plan, timeout_s=timeout)
            self._log("command", command="arm")
            self.device.arm(timeout_s=timeout)
        except DeviceRefusalError as error:
            self._abort(
                "the device refused the plan before anything was delivered: "
                + "; ".join(error.reasons),
                "refused",
            )
            return
        except DeviceError as error:
            self._abort(f"device could not be armed: {error}", "device_fault")
            return
        if self._device_events():
            return
        self._set_state("armed", "device configured and armed")
        self._last_heartbeat_s = self.clock()
        self._log("command", command="start")
        try:
            self.device.start(timeout_s=timeout)
        except DeviceError as error:
            self._abort(f"device could not start: {error}", "device_fault")
            return
        self._reports.expect_output = True
        self._last_rise_s = self.clock()
        if self._device_events():
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
                # Nothing to ramp down (the envelope already did, e.g. at the planned end):
                # done at once rather than a whole ramp's time at zero output.
                if self.state == "ramping_down" and (fraction <= 0 or self._stop_from_ma <= 0):
                    self._complete(self.reason or "session stopped")

    def _calibrate(self, now: float) -> None:
        cal = self.calibration
        assert cal is not None
        if cal.done:
            self.target_ma = self._deliverable(cal.target_ma or 0.0)
            self._log(
                "calibration_result",
                sensation_threshold_ma=cal.sensation_threshold_ma,
                series_ma=cal.thresholds_ma,
                motor_threshold_ma=cal.motor_threshold_ma,
                target_ma=self.target_ma,
                ceiling_reached=cal.ceiling_reached,
            )
            self._apply(0.0)
            if self.state == "calibrating":
                self._set_state("ramping", f"therapeutic level {self.target_ma:g} mA")
            return
        self._apply(cal.amplitude_ma())
        if self.state != "calibrating":
            return
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
        # The level on the device's grid: the ramp ends exactly there (HAZ-104).
        level_ma = self._deliverable(min(self.target_ma or 0.0, self.ceiling_ma) * fraction)
        self._apply(level_ma)
        if self.state not in ("ramping", "running"):
            return
        if (
            self.state == "ramping"
            and self.applied_ma >= level_ma
            and self.running_s >= envelope.ramp_up_s
        ):
            self._set_state("running", "at the therapeutic level")
        if self.running_s >= self.session_s:
            self._begin_ramp_down("planned session time reached", "completed")

    def _begin_ramp_down(self, reason: str, cause: EndCause) -> None:
        self._stop_from_ma = self.applied_ma
        self._stop_started_s = self.clock()
        self._stop_cause = cause
        self._set_state("ramping_down", reason)

    def _complete(self, reason: str) -> None:
        self._end("completed", reason, self._stop_cause)
        self._ask("nrs_post")

    def _end(self, state: SessionState, reason: str, cause: EndCause) -> None:
        self._reports.expect_output = False
        self._set_state(state, reason)
        self.end_cause = cause

    def _set_state(self, new: SessionState, reason: str) -> None:
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"invalid session transition {self.state} -> {new}")
        self._log("state", from_state=self.state, to_state=new, reason=reason)
        self.state = new
        self.reason = reason

    # ----------------------------------------------------------------- output

    def _deliverable(self, amplitude_ma: float) -> float:
        """``amplitude_ma`` floored to the device's current step: what it can deliver, never
        more than asked (1e-9: 2.9999999997 steps are 3)."""
        steps = math.floor(amplitude_ma / self.device_step_ma + 1e-9)
        return round(max(steps, 0) * self.device_step_ma, 9)

    def _apply(self, desired_ma: float) -> None:
        """Send a new amplitude if it changed on the device's grid, within the ceiling and the
        rise limit (``max_slew_ma_per_s``; at least one device step once enough time passed)."""
        allowed = min(max(desired_ma, 0.0), self.ceiling_ma)
        if self.state not in OUTPUT_STATES:
            allowed = 0.0
        now = self.clock()
        if allowed > self.applied_ma:
            rate = self.settings.max_slew_ma_per_s
            budget_ma = min(
                rate * (now - self._last_rise_s),
                max(rate * self.settings.tick_s, self.device_step_ma),
            )
            allowed = min(allowed, self.applied_ma + budget_ma)
        allowed = self._deliverable(allowed)
        if abs(allowed - self.applied_ma) < 1e-9:
            return
        amplitudes = dict.fromkeys(self.labels, allowed)
        self._log("update", amplitude_ma=allowed, state=self.state)
        try:
            self.device.update(amplitudes, timeout_s=self.settings.device_timeout_s)
        except UnverifiedPlanError as error:
            self._abort(f"the plan failed its safety check: {error}", "interlock")
        except (DeviceError, InputError) as error:
            self._abort(f"device did not apply the amplitude: {error}", "device_fault")
            return
        if allowed > self.applied_ma:
            self._last_rise_s = now
        self.applied_ma = allowed
        self._device_events()

    def _abort(self, reason: str, cause: EndCause, *, journal: bool = True) -> None:
        """Stop the output first, then journal what the device reported meanwhile, then why.

        A device fault found in that report is the real cause of a failed device command
        (HAZ-100): it replaces the command's symptom as the reason, which is kept as
        ``symptom``. A user's emergency stop or interruption noted before wins over both."""
        self._reports.expect_output = False
        self.device.emergency_stop()
        with self._lock:
            was_terminal = self.state in TERMINAL
            self.applied_ma = 0.0
            symptom = None
            if journal and not was_terminal:
                with contextlib.suppress(JournalError):
                    problem = self._reports.drain()
                    if problem is not None and cause == "device_fault":
                        symptom, (reason, cause) = reason, problem
            if self._user_stop is not None:
                reason, cause = self._user_stop
            if journal and not was_terminal:
                extra = {} if symptom is None else {"symptom": symptom}
                with contextlib.suppress(JournalError):
                    self._log("emergency_stop", reason=reason, cause=cause, state=self.state,
                              **extra)
                    self._log("state", from_state=self.state, to_state="aborted", reason=reason)
            if not was_terminal:
                self.state = "aborted"
                self.reason = reason
                self.end_cause = cause
                self.prompt = None
            elif self.prompt is not None and journal:
                # Over already, waiting for the after-session questions: they go unanswered,
                # so that the session closes now (Ctrl-C, SIGTERM, a lost console).
                with contextlib.suppress(JournalError):
                    self._log("prompt_unanswered", kind=self.prompt.kind, reason=reason)
                self.prompt = None
            if not journal:
                self._finished = True

    def _finish(self) -> None:
        """Stop the device, journal its last reports, then close the journal with the record."""
        self._reports.expect_output = False
        stop_failure = None
        try:
            self.device.stop(timeout_s=self.settings.device_timeout_s)
        except DeviceError as error:
            self.device.emergency_stop()
            stop_failure = f"stop failed: {error}"
        self._reports.drain()
        if stop_failure is not None:
            self._log(
                "device_event",
                kind="fault",
                message=stop_failure,
                detail={"code": "stop_failed", "output": "emergency stop sent"},
            )
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
            cause=self.end_cause,
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
