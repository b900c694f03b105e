"""Live sessions driven from a browser: one session runtime per patient, in a worker thread.

The web console never controls the stimulator itself. It starts a
:class:`~stimwise.session.runtime.SessionRunner` (the same runtime as ``stimwise session run``)
on a plan that ``safety.verify()`` makes again from the stored, verified prescription, and passes
the page's commands, answers and heartbeats to it. Every interlock stays in the runtime:

* the amplitude ceiling (plan, caps and device range; for a home session the top of the locked
  amplitude range is added to the caps, so the runtime's ceiling is the locked range);
* the dead-man rule: without a heartbeat from the page for ``heartbeat_timeout_s`` the runtime
  aborts the output (a frozen tab or a silently lost network); a socket that closes stops the
  output at once (:meth:`LiveSession.console_lost`);
* the emergency stop from every state.

One live session per patient at a time, driven by one console (HAZ-074), and held in the
records database so that it holds across several web workers (:mod:`live_lease`, HAZ-117).
When the runtime ends, its journal (in the data folder) is imported into the record with
:func:`stimwise.records.sessions.import_journal` (idempotent; the record is the journal's).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from stimwise.errors import FieldProblem, InputError, SafetyBlockError, StimwiseError
from stimwise.protocol.io import validate_model
from stimwise.protocol.prescription import Prescription
from stimwise.records import repository as r
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.models import PrescriptionRecord
from stimwise.records.patient_status import (
    ProgrammeNotOfferedError,
    clinic_refusal,
    programme_refusal,
)
from stimwise.records.sessions import import_journal, list_sessions
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import VerifiedPlan
from stimwise.safety.verify import verify
from stimwise.session.journal import Journal
from stimwise.session.limits import SETTING_BOUNDS
from stimwise.session.prompts import Prompt, Responder
from stimwise.session.runtime import SessionRunner, SessionSettings, Snapshot
from stimwise.web.services import live_lease
from stimwise.web.services.audit import audited_read
from stimwise.web.wording import console_state, protocol_name

logger = logging.getLogger(__name__)

COMMANDS = ("increase", "decrease", "pause", "resume", "stop")
TARGET_MA = SETTING_BOUNDS["target_ma"]
"""What a page may send as a therapeutic level (then checked against the plan)."""
"""Commands the page may send; the runtime refuses those that do not fit its state."""
COMMAND_LABELS = {
    "increase": "+ mA", "decrease": "− mA", "pause": "Pause", "resume": "Resume", "stop": "Stop",
}
"""The console's button for each command, so a refusal names what the person pressed."""
REFUSAL_EVENTS = ("command_refused", "response_refused")
"""Journal events in which the runtime says it did not act on what the console sent."""


def refusal_message(event: dict[str, Any]) -> str:
    """The sentence the console shows for a refusal that the runtime journalled: what was
    pressed, and the runtime's own reason (a refused command is never silent, issue 17)."""
    if event.get("type") == "response_refused":
        expected = ", ".join(str(a) for a in event.get("expected") or ())
        return f"Your answer {event.get('answer')!s} was not taken: expected one of {expected}."
    command = str(event.get("command"))
    label = COMMAND_LABELS.get(command, command)
    reason = event.get("reason") or "the session did not accept it now"
    if event.get("ceiling_ma") is not None:
        reason = f"{reason} ({float(event['ceiling_ma']):.2f} mA)"
    return f"{label} was not applied: {reason}."


class RefusalWatchingJournal(Journal):
    """The session's journal, which also hands each refusal the runtime writes to the console:
    the runtime's journal is its one account of what it did and did not do, so the page shows
    exactly the reasons the record keeps."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.refusals: queue.Queue[str] = queue.Queue()

    def append(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = super().append(event_type, **fields)
        if event_type in REFUSAL_EVENTS:
            self.refusals.put(refusal_message(event))
        return event


class ConsoleBusyError(StimwiseError):
    """A second console for a patient whose session is already driven by another one."""

    exit_code = 1


@dataclass(frozen=True)
class PrescriptionChoice:
    """A stored prescription the console may run."""

    id: int
    protocol_id: str
    protocol_name: str
    max_amplitude_ma: float
    session_duration_min: float
    home_use: bool
    locked_amplitude_ma: tuple[float, float] | None
    valid_from: date
    valid_to: date | None

    @property
    def label(self) -> str:
        dose = f"{self.max_amplitude_ma:g} mA, {self.session_duration_min:g} min"
        home = " · home use" if self.home_use else ""
        return f"#{self.id} {self.protocol_name} ({dose}){home}"

    @property
    def plain_label(self) -> str:
        """What the person's own console lists: the programme and its length in words."""
        return f"{self.protocol_name}, {self.session_duration_min:g} minutes"


@dataclass(frozen=True)
class SessionSummary:
    id: int
    started_at: datetime
    outcome: str
    reason: str | None
    max_amplitude_ma: float
    stimulation_s: float


def _choice(row: PrescriptionRecord) -> PrescriptionChoice:
    locked = row.locked_ranges["amplitude_ma"] if row.locked_ranges else None
    return PrescriptionChoice(
        id=row.id,
        protocol_id=row.protocol_id,
        protocol_name=protocol_name(row.prescription["protocol"]["name"]),
        max_amplitude_ma=float(row.prescription["max_amplitude_ma"]),
        session_duration_min=float(row.prescription["session_duration_min"]),
        home_use=bool(row.home_use),
        locked_amplitude_ma=None if locked is None else (locked["min"], locked["max"]),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def runnable_prescriptions(
    db: Database, actor: Actor, pseudonym: str, *, home: bool, today: date | None = None
) -> list[PrescriptionChoice]:
    """The patient's prescriptions valid today, newest first (for a home session only those
    for home use with locked ranges); the read is audited."""
    today = today or datetime.now(UTC).date()
    choices = audited_read(db, actor, pseudonym, "prescriptions", lambda s: [
        _choice(row) for row in r.list_prescriptions(s, actor, pseudonym, valid_on=today)])
    if home:
        choices = [c for c in choices if c.home_use and c.locked_amplitude_ma is not None]
    return list(reversed(choices))


def start_refusal(db: Database, actor: Actor, pseudonym: str, *, home: bool) -> str | None:
    """Why no session of ``pseudonym`` may start now because of their status (``None``: it
    may): a home session needs an active person (HAZ-170), a clinic session one who is not
    discharged (HAZ-171)."""
    with db.reading() as session:
        patient = r.get_patient(session, actor, pseudonym)
        if home:
            return programme_refusal(session, patient, datetime.now(UTC))
        return clinic_refusal(patient)


def recent_sessions(db: Database, actor: Actor, pseudonym: str, limit: int = 10):
    """The patient's latest delivered sessions, newest first (audited read)."""
    rows = audited_read(
        db, actor, pseudonym, "sessions", lambda s: list_sessions(s, actor, pseudonym)
    )
    return [
        SessionSummary(row.id, row.started_at, row.outcome, row.reason, row.max_amplitude_ma,
                       row.stimulation_s)
        for row in reversed(rows[-limit:])
    ]


@dataclass(frozen=True)
class StartRequest:
    """What the page sends to start: a stored prescription and, optionally, a therapeutic level
    (no level: the runtime calibrates with the person's answers)."""

    prescription_id: int
    target_ma: float | None = None


def start_request(message: dict[str, Any]) -> StartRequest:
    """Validate the page's ``start`` message; :class:`InputError` names the field."""
    problems = []
    rx_id = message.get("prescription_id")
    if isinstance(rx_id, str) and rx_id.isdigit():
        rx_id = int(rx_id)
    if not isinstance(rx_id, int) or isinstance(rx_id, bool) or rx_id < 1:
        problems.append(FieldProblem("prescription_id", rx_id, "the id of a stored prescription"))
    target = message.get("target_ma")
    if target in ("", None):
        target = None
    else:
        try:
            target = float(TARGET_MA.parse(target))
        except ValueError:
            problems.append(FieldProblem("target_ma", target, TARGET_MA.expected))
    if problems:
        raise InputError(problems, source="start")
    return StartRequest(rx_id, target)  # type: ignore[arg-type]


def _stored_prescription(
    db: Database, actor: Actor, pseudonym: str, prescription_id: int, today: date
) -> PrescriptionRecord:
    with db.reading() as session:
        rows = r.list_prescriptions(session, actor, pseudonym, valid_on=today)
    row = next((row for row in rows if row.id == prescription_id), None)
    if row is None:
        raise InputError(FieldProblem(
            "prescription_id", prescription_id, f"a prescription of {pseudonym} valid today"))
    return row


def home_caps(caps: PatientCaps | None, locked_max_ma: float) -> PatientCaps:
    """The screening's caps with the top of the locked amplitude range as amplitude cap: the
    runtime's ceiling for a home session is the locked range."""
    base = caps or PatientCaps(source="home-use locked ranges")
    ceiling = min(base.max_amplitude_ma or locked_max_ma, locked_max_ma)
    return base.model_copy(update={"max_amplitude_ma": ceiling})


def verified_plan(
    row: PrescriptionRecord, pseudonym: str, *, home: bool, target_ma: float | None
) -> tuple[VerifiedPlan, PatientCaps]:
    """Verify the stored prescription again (the only way to a plan), for ``pseudonym`` — whose
    prescription it is — with the caps stored with it, and check a home session's level
    against the locked range (HAZ-075). The plan is bound to the person (HAZ-083)."""
    prescription = validate_model(Prescription, row.prescription, source="prescription")
    stored = (
        PatientCaps(source="no screening caps stored with the prescription")
        if row.caps is None
        else validate_model(PatientCaps, row.caps, source="caps")
    )
    if stored.patient_id not in (None, pseudonym):
        raise SafetyBlockError(
            f"the caps stored with this prescription are {stored.patient_id}'s, not "
            f"{pseudonym}'s; prescribe it again"
        )
    caps = stored.model_copy(update={"patient_id": pseudonym})
    plan = verify(prescription, caps=caps).require_plan()
    if plan.fingerprint != row.fingerprint:
        raise SafetyBlockError(
            "the stored prescription no longer verifies to the plan that was prescribed "
            "(fingerprint differs); prescribe it again"
        )
    if not home:
        if target_ma is not None and not 0 < target_ma <= prescription.max_amplitude_ma:
            expected = f"above 0 and at most {prescription.max_amplitude_ma:g} mA"
            raise InputError(FieldProblem("target_ma", target_ma, expected))
        return plan, caps
    if not row.home_use or not row.locked_ranges:
        raise InputError(FieldProblem(
            "prescription_id", row.id, "a prescription for home use with locked ranges"))
    low, high = (row.locked_ranges["amplitude_ma"][k] for k in ("min", "max"))
    if target_ma is None or not low <= target_ma <= high:
        raise InputError(FieldProblem(
            "target_ma", target_ma, f"a level within the locked range {low:g}–{high:g} mA"))
    return plan, home_caps(caps, high)


class PromptBoundResponder(Responder):
    """Answers from the page, each tied to the question it answers: an answer that reaches the
    runtime after the question changed (e.g. a stop replaced the pre-session pain question
    with the post-session one) is dropped, never applied to the new question."""

    def __init__(self) -> None:
        self._answers: queue.Queue[tuple[str, str]] = queue.Queue()

    def put(self, kind: str, value: str) -> None:
        self._answers.put((kind, value))

    def answer(self, prompt: Prompt) -> str | None:
        while True:
            try:
                kind, value = self._answers.get_nowait()
            except queue.Empty:
                return None
            if kind == prompt.kind:
                return value


@dataclass
class LiveSession:
    """One running session of one patient, driven by one console."""

    pseudonym: str
    actor: Actor
    prescription_id: int
    home: bool
    runner: SessionRunner
    responder: PromptBoundResponder
    journal_path: Path
    console_id: str
    refusals: queue.Queue[str] = field(default_factory=queue.Queue)
    lease_holder: str = ""
    thread: threading.Thread | None = None
    session_id: int | None = None
    store_problem: str | None = None
    stored: threading.Event = field(default_factory=threading.Event)

    # ------------------------------------------------------------ from the console
    def heartbeat(self) -> None:
        self.runner.heartbeat()

    def command(self, name: str) -> None:
        if name not in COMMANDS:
            raise InputError(FieldProblem("command", name, f"one of {', '.join(COMMANDS)}"))
        self.runner.command(name)

    def emergency_stop(self) -> None:
        self.runner.emergency_stop("emergency stop from the web console")

    def answer(self, kind: str, value: str) -> None:
        """The person's answer to the open question ``kind``."""
        prompt = self.runner.prompt
        if prompt is None or prompt.kind != kind:
            open_kind = "none" if prompt is None else prompt.kind
            raise InputError(FieldProblem("kind", kind, f"the open question ({open_kind})"))
        if value not in prompt.answers:
            raise InputError(FieldProblem("value", value, f"one of {', '.join(prompt.answers)}"))
        self.responder.put(kind, value)

    def console_lost(self) -> None:
        """The controlling socket closed: stop the output now (fail closed)."""
        if not self.runner.finished:
            self.runner.emergency_stop("the console was closed or lost its connection")

    # ------------------------------------------------------------ to the console
    @property
    def finished(self) -> bool:
        return self.stored.is_set()

    def view(self) -> dict[str, Any]:
        return snapshot_view(self.runner.snapshot(), self.runner.step_ma)

    def new_refusals(self) -> list[str]:
        """The refusals journalled since the last call (each shown once)."""
        found = []
        while True:
            try:
                found.append(self.refusals.get_nowait())
            except queue.Empty:
                return found


def snapshot_view(snapshot: Snapshot, step_ma: float) -> dict[str, Any]:
    """A snapshot as the JSON the page draws."""
    prompt = snapshot.prompt
    return {
        "type": "snapshot",
        "state": snapshot.state,
        "state_words": console_state(snapshot.state),
        "applied_ma": round(snapshot.applied_ma, 3),
        "target_ma": None if snapshot.target_ma is None else round(snapshot.target_ma, 3),
        "ceiling_ma": round(snapshot.ceiling_ma, 3),
        "step_ma": round(step_ma, 3),
        "running_s": round(snapshot.running_s, 1),
        "remaining_s": round(snapshot.remaining_s, 1),
        "reason": snapshot.reason,
        "prompt": None if prompt is None else {
            "kind": prompt.kind,
            "question": prompt.question,
            "answers": list(prompt.answers),
            "amplitude_ma": round(prompt.amplitude_ma, 3),
        },
        "electrodes": [
            {"channel": label, "electrode": state,
             "impedance_ohm": None if ohm is None else round(ohm)}
            for label, state, ohm in snapshot.electrodes
        ],
    }


class LiveRegistry:
    """The live sessions of one application, one per patient (kept in ``app.state``)."""

    def __init__(
        self,
        db: Database,
        device_spec: str,
        journal_dir: Path,
        settings: SessionSettings | None = None,
    ) -> None:
        self.db = db
        self.device_spec = device_spec
        self.journal_dir = journal_dir
        self.settings = settings
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()

    def current(self, pseudonym: str) -> LiveSession | None:
        with self._lock:
            return self._sessions.get(pseudonym)

    def start(
        self, actor: Actor, pseudonym: str, request: StartRequest, *, home: bool, console_id: str
    ) -> LiveSession:
        """Start a session on a re-verified stored prescription (refused while another console
        drives a session of this patient)."""
        if home:
            require(actor, "write_own", pseudonym)
        else:
            require(actor, "write_clinical", pseudonym)
        refusal = start_refusal(self.db, actor, pseudonym, home=home)
        if refusal is not None:
            raise ProgrammeNotOfferedError(refusal)
        today = datetime.now(UTC).date()
        row = _stored_prescription(self.db, actor, pseudonym, request.prescription_id, today)
        plan, caps = verified_plan(row, pseudonym, home=home, target_ma=request.target_ma)
        with self._lock:
            running = self._sessions.get(pseudonym)
            holder = live_lease.holder_id(console_id)
            if (running is not None and not running.finished) or not live_lease.take(
                    self.db, pseudonym, holder):
                raise ConsoleBusyError(
                    f"a session of {pseudonym} is already running on another console")
            try:
                live = self._launch(actor, pseudonym, row, plan, caps, request, home, console_id)
            except BaseException:
                live_lease.release(self.db, pseudonym, holder)
                raise
            live.lease_holder = holder
            self._sessions[pseudonym] = live
            threading.Thread(target=self._keep_lease, args=(live,), daemon=True,
                             name=f"live-lease-{pseudonym}").start()
        return live

    def _keep_lease(self, live: LiveSession) -> None:
        """Renew the lease while the session runs; a lease lost to another worker (this one
        stalled past its expiry) stops this session at once: never two at a time."""
        while not live.stored.wait(live_lease.LEASE_TTL_S / 3):
            try:
                kept = live_lease.renew(self.db, live.pseudonym, live.lease_holder)
            except Exception as error:  # the database is gone: fail closed
                logger.error("live session lease not renewed: %s", type(error).__name__)
                kept = False
            if not kept and not live.runner.finished:
                live.runner.emergency_stop("the session's hold on this person was lost")

    def _launch(self, actor, pseudonym, row, plan, caps, request, home, console_id) -> LiveSession:
        from stimwise.device.registry import open_device

        base = self.settings or SessionSettings()
        settings = SessionSettings(**{
            **base.__dict__,
            "calibrate": request.target_ma is None,
            "target_ma": request.target_ma,
        })
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.journal_dir / pseudonym / f"{stamp}-{plan.prescription.protocol.id}.jsonl"
        responder = PromptBoundResponder()
        device = open_device(self.device_spec)
        journal = RefusalWatchingJournal(path)
        runner = SessionRunner(plan, device, journal, responder, caps=caps,
                               settings=settings, patient_id=pseudonym)
        runner.heartbeat()
        live = LiveSession(pseudonym, actor, row.id, home, runner, responder, path, console_id,
                           refusals=journal.refusals)
        live.thread = threading.Thread(
            target=self._run, args=(live,), name=f"live-session-{pseudonym}", daemon=True)
        live.thread.start()
        return live

    def _run(self, live: LiveSession) -> None:
        try:
            live.runner.run()
        except StimwiseError as error:  # the runtime has already stopped the output
            logger.warning("live session ended by %s", type(error).__name__)
        except Exception as error:  # run() stopped the output first; keep the server up
            logger.error("live session failed: %s", type(error).__name__)
        finally:
            live.runner.device.close()
            self._store(live)

    def _store(self, live: LiveSession) -> None:
        """Import the journal into the record (idempotent)."""
        # A home session is stored by the server on the patient's behalf (patients may not write
        # clinical records): the journal is the one this server's runtime wrote for the patient's
        # own home prescription (HAZ-078).
        writer = live.actor
        if writer.role != "clinician":
            writer = Actor(f"home-session:{writer.username}", "clinician")
        try:
            with self.db.transaction() as session:
                result = import_journal(session, writer, live.journal_path, live.pseudonym)
                live.session_id = result.session.id
        except StimwiseError as error:
            live.store_problem = str(error)
            logger.warning("live session journal not stored: %s", type(error).__name__)
        finally:
            try:
                live_lease.release(self.db, live.pseudonym, live.lease_holder)
            finally:
                live.stored.set()

    def stop_all(self) -> None:
        """Emergency-stop every live session (application shutdown)."""
        with self._lock:
            sessions = list(self._sessions.values())
        for live in sessions:
            live.console_lost()


_REGISTRY_LOCK = threading.Lock()


def registry_of(app) -> LiveRegistry:
    """The application's registry, created on first use. ``app.state.live_journal_dir`` and
    ``app.state.live_session_settings`` may override the journal folder (default: the user
    data folder's ``session-journals``) and the runtime's settings (tests use short steps)."""
    state = app.state
    with _REGISTRY_LOCK:
        registry = getattr(state, "live_registry", None)
        if registry is None:
            from stimwise.settings import data_dir

            folder = getattr(state, "live_journal_dir", None) or data_dir() / "session-journals"
            registry = LiveRegistry(
                state.db, state.settings.device, Path(folder),
                getattr(state, "live_session_settings", None),
            )
            state.live_registry = registry
    return registry
