"""A whole session from Python code: :func:`run_session`, for scripts and notebooks.

The same :class:`~stimwise.session.runtime.SessionRunner` as ``stimwise session run`` and the web
console, with every interlock, the journal and the record; only the interface differs: no display
and no keys, the script itself is the controlling interface (its heartbeat is the control loop),
and a :class:`~stimwise.session.prompts.Responder` answers the session's questions.

Two rules keep this entry point from becoming a way round the safety gate or the person:

* it takes only a :class:`~stimwise.safety.plan.VerifiedPlan` (made by
  :func:`stimwise.safety.verify`), checked again by the runner before anything is delivered;
  with a person's screening the plan must have been verified for that person and within that
  screening's caps (the runner's own checks);
* a simulated person (:meth:`ScriptedResponder.typical`) answers the calibration questions only
  on the simulator that this function opens itself (``device="sim"``); for a real stimulator, or
  any stimulator object passed in, ``person`` must be given explicitly, so that a script never
  lets made-up answers set the current on someone's skin (HAZ-179).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from stimwise.arguments import check_type
from stimwise.clinical.screening import Screening
from stimwise.device.interface import Stimulator
from stimwise.device.registry import open_device, resolve
from stimwise.errors import FieldProblem, InputError
from stimwise.safety.plan import VerifiedPlan
from stimwise.session.journal import Journal
from stimwise.session.prompts import Responder, ScriptedResponder
from stimwise.session.runtime import SessionRunner, SessionSettings, Snapshot

if TYPE_CHECKING:
    from stimwise.session.record import SessionRecord

__all__ = ["SIMULATOR_SPEC", "run_session"]

SIMULATOR_SPEC = "sim"
"""The device spec of the simulated stimulator (:mod:`stimwise.device.registry`)."""


def run_session(
    plan: VerifiedPlan,
    device: str | Stimulator = SIMULATOR_SPEC,
    *,
    journal_path: str | os.PathLike[str],
    person: Responder | None = None,
    screening: Screening | None = None,
    settings: SessionSettings | None = None,
    on_tick: Callable[[Snapshot], None] | None = None,
) -> SessionRecord:
    """Run one session of ``plan`` on ``device`` until it ends; return its record.

    Pre-session pain and skin questions, calibration by the ascending method of limits,
    ramps, stimulation for the prescribed minutes, post-session questions; every interlock of
    the runtime applies (ceiling, slew limit, lead-off, impedance, device faults, time limit).
    It runs in real time: a prescription of 0.1 min stimulates for 6 s, plus calibration.

    Parameters
    ----------
    plan
        What :func:`stimwise.verify` returned as ``report.plan`` (or ``report.require_plan()``).
    device
        A device spec (``"sim"``, ``"rehastim2:PORT"``, ``"p24:PORT"``; ``stimwise devices
        list``) or an unconnected :class:`~stimwise.device.interface.Stimulator`.
    journal_path
        A new file for the crash-safe JSON-lines journal of every event (an existing, non-empty
        file is refused: a journal is never appended to).
    person
        Who answers the questions. By default, and only with ``device="sim"``, a simulated
        person who feels the current from 20 % of the plan's amplitude, finds 40 % strong but
        comfortable and twitches from 60 %. Any other device needs one given explicitly.
    screening
        The person's screening (:func:`stimwise.screen`): the session then applies its caps and
        is that person's, and ``plan`` must have been verified with ``screening.caps``. Without
        it the run is not patient-specific (research or demonstration), as the journal records.
    settings
        Control parameters (:class:`~stimwise.session.runtime.SessionSettings`); e.g.
        ``SessionSettings(calibrate=False, target_ma=12)`` skips calibration.
    on_tick
        Called with a :class:`~stimwise.session.runtime.Snapshot` at every control step
        (about 20 per second), e.g. to show progress.

    Returns
    -------
    SessionRecord
        What the device reported as delivered: outcome, reason, stimulation time, amplitudes,
        calibration and the pain ratings.

    Raises
    ------
    ArgumentTypeError
        ``plan`` is not a VerifiedPlan (verify the prescription first), or another argument
        has the wrong type.
    UnverifiedPlanError
        ``plan`` was not made by ``verify()`` or was changed since, or it was verified for
        someone other than the screened person.
    SafetyBlockError
        The screening does not allow stimulation, or the plan exceeds its caps.
    InputError
        No ``person`` for a device other than ``"sim"`` (HAZ-179), an unknown device spec, or a
        journal file that already holds a session.

    Examples
    --------
    Three seconds of conventional TENS on the simulator, at 12 mA without calibration (the
    protocol's 5 s ramp is still rising when the three seconds end):

    >>> import tempfile, pathlib
    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(
    ...     sw.load_protocol("conventional-tens"), session_duration_min=0.05)
    >>> plan = sw.verify(rx).require_plan()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> record = sw.run_session(
    ...     plan, "sim", journal_path=folder / "session.jsonl",
    ...     settings=sw.SessionSettings(calibrate=False, target_ma=12))
    >>> record.outcome, round(record.stimulation_s), record.max_amplitude_ma < 12
    ('completed', 3, True)

    A prescription is not a plan:

    >>> sw.run_session(rx, journal_path=folder / "other.jsonl")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: run_session() expects plan to be a VerifiedPlan, got
    Prescription ...; verify it first: stimwise.verify(prescription).require_plan()
    """
    check_type(plan, VerifiedPlan, function="run_session", name="plan",
               hint="verify it first: stimwise.verify(prescription).require_plan()")
    check_type(journal_path, (str, os.PathLike), function="run_session", name="journal_path")
    check_type(screening, Screening, function="run_session", name="screening", allow_none=True,
               hint="screen the person first with stimwise.screen(intake)")
    check_type(settings, SessionSettings, function="run_session", name="settings",
               allow_none=True)
    if isinstance(device, str):
        simulator = resolve(device, field="device")[0].scheme == SIMULATOR_SPEC
    else:
        check_type(device, Stimulator, function="run_session", name="device",
                   hint="pass a device spec such as 'sim' or a Stimulator")
        simulator = False
    if person is None:
        if not simulator:  # HAZ-179
            raise InputError(FieldProblem(
                "person", None,
                "a Responder relaying the real person's answers: a simulated person answers "
                "only on the simulator that run_session opens itself (device='sim')",
            ))
        person = ScriptedResponder.typical(plan.prescription.max_amplitude_ma)
    check_type(person, Responder, function="run_session", name="person")
    caps = None if screening is None else screening.require_eligible()
    stimulator = open_device(device, field="device") if isinstance(device, str) else device
    journal = Journal(journal_path)
    try:
        runner = SessionRunner(
            plan, stimulator, journal, person, caps=caps, settings=settings,
            patient_id=None if screening is None else screening.patient_id,
        )
    except BaseException:
        journal.close()  # refused before anything was written
        raise

    def tick(snapshot: Snapshot) -> None:
        runner.heartbeat()  # this loop is the controlling interface: alive while it runs
        if on_tick is not None:
            on_tick(snapshot)

    runner.heartbeat()
    return runner.run(on_tick=tick)
