"""One whole session on a P24 emulator in its own process, for ``test_p24_sessions.py``: the
scenarios run side by side, each with its own interpreter, so that one session's threads never
wait for another's (they would share one GIL in threads).

``run_session`` returns plain data: the record's outcome, reason and faults, when the fault was
injected, known and healed, and per channel the charge the journal says was delivered and the
charge in the emulator's pulse log.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stimwise.device.pulse_log import ChannelOutput
from stimwise.device.sciencemode4.driver import RehaMoveP24
from stimwise.device.sciencemode4.emulator import P24Emulator, P24EmulatorConfig
from stimwise.protocol.library import get_protocol
from stimwise.protocol.prescription import Prescription
from stimwise.safety import verify
from stimwise.safety.plan import VerifiedPlan
from stimwise.session.journal import Journal, read_journal
from stimwise.session.prompts import ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings

SESSION_MIN = 0.5
"""30 s planned: long enough that the time a device-side stop goes unseen (one 50 ms keep-alive
check and an answer, longer on a busy machine) stays well under 1 % of the charge."""
TARGETS_MA = {"conventional-tens": 12.0, "nmes-calf-pump": 20.0}
INJECT_AT_S = 20.0
"""Seconds of stimulation (the session's own count) before a fault: after the ramp, and well
before the planned end, however slowly a busy machine runs the session."""
HEAL_AFTER_S = 1.0
"""A transient fault ends after this long: the driver notices it well within."""
DRIVER_TIMEOUT_S = 0.3
"""Answer timeout of the driver here (link lost after 0.57 s of silence): the link-loss bounds
are tested in ``test_p24_driver.py``; these sessions must not take a busy machine's scheduling
delay for a lost link."""
DEVICE_CALL_TIMEOUT_S = 1.0
"""The session's limit on one device call: longer than a loss verdict (0.57 s) that a call may
have to wait for, so that the record names the loss, not the wait."""


def _stop_channel_1(emulator: P24Emulator) -> None:
    with emulator._lock:  # the device stops a channel by itself and says nothing
        emulator.timeline.stop_channel(1, time.monotonic())


FAULTS: dict[str, tuple[Callable[[P24Emulator], None], Callable[[P24Emulator], None] | None]] = {
    "lost-host-frame": (lambda em: em.drop_frames(1, "rx"), None),
    "lost-answer": (lambda em: em.drop_frames(1, "tx"), None),
    "corrupted-answer": (lambda em: em.corrupt_next_frame(), None),
    "late-answers": (lambda em: em.delay_acks(150), lambda em: em.delay_acks(0)),
    "electrode": (lambda em: em.inject_electrode_error(2), None),
    "reset": (lambda em: em.inject_reset(), None),
    "two-frames-lost": (lambda em: em.drop_frames(2, "rx"), None),
    "unplugged": (lambda em: em.close_pty(), None),
    "device-stopped-a-channel": (_stop_channel_1, None),
    "hang": (lambda em: em.set_hung(True), lambda em: em.set_hung(False)),
}


def run_session(protocol_id: str, fault: str | None, folder: str) -> dict[str, Any]:
    """Run one session (``fault`` from :data:`FAULTS`, or none) and report what happened."""
    emulator = P24Emulator(P24EmulatorConfig(ack_latency_ms=2.0)).start()
    try:
        prescription = Prescription.from_protocol(
            get_protocol(protocol_id), session_duration_min=SESSION_MIN
        )
        plan = verify(prescription).require_plan()
        driver = RehaMoveP24(emulator.port, keepalive_interval_s=0.05, timeout_s=DRIVER_TIMEOUT_S)
        journal = Path(folder) / f"{fault or 'clean'}-{protocol_id}.jsonl"
        runner = SessionRunner(
            plan,
            driver,
            Journal(journal),
            ScriptedResponder(sensation_threshold_ma=2, comfortable_ma=5, motor_threshold_ma=9),
            settings=SessionSettings(
                calibrate=False,
                target_ma=TARGETS_MA[protocol_id],
                stop_ramp_s=0.5,
                device_timeout_s=DEVICE_CALL_TIMEOUT_S,
            ),
        )
        times: dict[str, float] = {}
        injector = threading.Thread(
            target=_inject, args=(emulator, runner, fault, times), daemon=True
        )
        if fault is not None:
            injector.start()
        try:
            record = runner.run(on_tick=lambda _: runner.heartbeat())
        finally:
            driver.close()
            if fault is not None:
                injector.join(timeout=5)
            time.sleep(0.05)
        return _report(record, plan, journal, emulator, times)
    finally:
        emulator.close()


def _inject(
    emulator: P24Emulator, runner: SessionRunner, fault: str | None, times: dict[str, float]
) -> None:
    while runner.running_s < INJECT_AT_S and not runner.finished:
        time.sleep(0.01)
    # "ramping" too: the runtime may end a ramp a hair below the level (issue 17)
    if fault is None or runner.finished or runner.state not in ("ramping", "running"):
        return
    inject, heal = FAULTS[fault]
    times["injected_s"] = time.monotonic()
    inject(emulator)
    if heal is not None:
        time.sleep(HEAL_AFTER_S)
        times["healed_s"] = time.monotonic()
        heal(emulator)


def _report(
    record: Any, plan: VerifiedPlan, journal: Path, emulator: P24Emulator, times: dict
) -> dict[str, Any]:
    events = read_journal(journal).events
    labels = tuple(c.label for c in plan.prescription.channels)
    known = _fault_time(events)
    ended_s = events[-1]["t_mono_s"]
    pulses = emulator.pulse_log()
    return {
        "outcome": record.outcome,
        "reason": record.reason,
        "faults": list(record.faults),
        "known_s": known,
        "ended_s": ended_s,
        "recorded_uc": _journal_charge_uc(events, plan, ended_s),
        "delivered_uc": _log_charge_uc(pulses, labels, ended_s),
        "recorded_until_fault_uc": _journal_charge_uc(events, plan, known or ended_s),
        "delivered_until_fault_uc": _log_charge_uc(pulses, labels, known or ended_s),
        "pulse_times_s": [p.t_s for p in pulses],
        **times,
    }


def _fault_time(events: tuple[dict, ...]) -> float | None:
    """When the fault was known: the driver's ``fault`` event, or the session's emergency stop
    when the device call that found it failed first."""
    found = [
        e.get("device_t_s", e["t_mono_s"])
        for e in events
        if e["type"] == "device_event" and e["kind"] == "fault"
    ] + [e["t_mono_s"] for e in events if e["type"] == "emergency_stop"]
    return min(found, default=None)


def _journal_charge_uc(events: tuple[dict, ...], plan: VerifiedPlan, until_s: float) -> dict:
    """Per channel, the charge the journal's ``applied`` events say was delivered up to
    ``until_s``: each delivered amplitude held until the next, times the plan's charge per
    second per mA."""
    rates = {
        channel.label: ChannelOutput.of(plan.prescription.waveform, channel)
        .charge_rate_uc_per_s_per_ma
        for channel in plan.prescription.channels
    }
    applied = [
        (event["device_t_s"], event["detail"]["delivered_ma"])
        for event in events
        if event["type"] == "device_event"
        and event["kind"] == "applied"
        and "delivered_ma" in event["detail"]
    ]
    total = dict.fromkeys(rates, 0.0)
    for (t0, amplitudes), (t1, _) in itertools.pairwise([*applied, (until_s, {})]):
        for label, current_ma in amplitudes.items():
            held_s = max(0.0, min(t1, until_s) - min(t0, until_s))
            total[label] += current_ma * rates[label] * held_s
    return total


def _log_charge_uc(pulses: list, labels: tuple[str, ...], until_s: float) -> dict:
    total = dict.fromkeys(labels, 0.0)
    for pulse in pulses:
        if pulse.t_s < until_s:
            total[labels[pulse.channel - 1]] += pulse.charge_uc
    return total
