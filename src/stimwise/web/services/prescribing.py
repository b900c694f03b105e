"""The prescription editor's back end: build, verify, draw and store a prescription.

A draft names a library protocol, the electrode placement (from a recommendation or typed in),
the dose and, for home use, the ranges the person may adjust. It becomes a
:class:`~stimwise.protocol.prescription.Prescription` that ``safety.verify()`` judges with the
caps of the patient's current screening.

Safety by construction:

* only a prescription whose verification made a ``VerifiedPlan`` is stored, and what is stored is
  the plan's own prescription (HAZ-065); a blocked draft raises :class:`SafetyBlockError` and
  nothing is written;
* home-use locked ranges are verified at every corner of the range box (each combination of each
  range's ends), with the screening's caps; a corner that is blocked, a range that does not hold
  the prescribed value, or home use the screening does not allow, refuses the draft (HAZ-066).
  Checking the corners is sufficient for the monotone limits (charge, current density and energy
  rise with amplitude, phase width and duration; power with frequency) [U: stimwise's reasoning];
* the screening must be the latest one, current and eligible (HAZ-069, see
  :func:`stimwise.web.services.clinical.require_current_screening`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import product
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import StrictModel, TextFloat, TextInt
from stimwise.protocol.body_sites import SITE_NAMES
from stimwise.protocol.io import validate_model
from stimwise.protocol.library import library, library_ids
from stimwise.protocol.models import Channel, PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.protocol.site_names import find_sites, site_label
from stimwise.records.access import Actor, require
from stimwise.records.database import Database
from stimwise.records.inputs import (
    HOME_AMPLITUDE_RULE,
    LockedRanges,
    PrescriptionIn,
    ValueSpan,
    home_amplitude_ceiling_ma,
    home_amplitude_problem,
    home_amplitude_rule_text,
)
from stimwise.records.repository import add_prescription, list_prescriptions
from stimwise.records.review import default_review_on, review_problem
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import prescription_fingerprint
from stimwise.safety.report import SafetyReport
from stimwise.safety.verify import verify
from stimwise.web.services.audit import audited_read
from stimwise.web.services.clinical import ScreeningView, require_current_screening
from stimwise.web.services.waveform_data import waveform_views

ProtocolId = Literal[tuple(library_ids())]  # type: ignore[valid-type]
RANGED = ("amplitude_ma", "frequency_hz", "phase_width_us", "session_duration_min")


def _body_site_selector(name: str) -> str:
    """One body site for an electrode, chosen (``left_calf``) or typed ("R calf", "left calf");
    a typed name is matched only when it means exactly one site (never a guessed side, HAZ-159),
    and a larger area ("left leg") is refused: an electrode sits on one site."""
    if name in SITE_NAMES:
        return name
    match = find_sites(name)
    if len(match.selectors) == 1 and match.selectors[0] in SITE_NAMES:
        return match.selectors[0]
    options = [s for s in (*match.selectors, *match.suggestions) if s in SITE_NAMES]
    hint = f"; did you mean {' or '.join(map(site_label, options[:4]))}?" if options else ""
    why = match.problem or f"{name!r} is an area, not one site"
    raise ValueError(f"one body site, e.g. 'Left calf' or 'R calf' ({why}{hint})")


BodySite = Annotated[str, AfterValidator(_body_site_selector)]


class ChannelDraft(StrictModel):
    """One channel: an active electrode and its return electrode."""

    label: str = Field(min_length=1, max_length=40, title="Channel name")
    active_site: BodySite = Field(title="Active electrode",
                                  description="Body site of the active electrode.")
    return_site: BodySite = Field(title="Return electrode",
                                  description="Body site of the return electrode.")
    area_cm2: TextFloat = Field(gt=0, le=1000, title="Electrode area (cm²)",
                            description="Conductive area of each of the two electrodes.")


class PrescriptionDraft(StrictModel):
    """What the editor submits; every number in the unit its name says."""

    intake_id: TextInt = Field(ge=1, title="Screening",
                               description="The screening this prescription rests on.")
    protocol_id: ProtocolId = Field(title="Protocol")
    channels: tuple[ChannelDraft, ...] = Field(min_length=1, max_length=8, title="Electrodes")
    max_amplitude_ma: TextFloat = Field(gt=0, le=200, title="Amplitude ceiling (mA)",
                                    description="Peak current of the leading phase.")
    session_duration_min: TextFloat = Field(gt=0, le=480, title="Session length (min)")
    frequency_hz: TextFloat | None = Field(default=None, gt=0, le=100_000, title="Pulse rate (Hz)",
                                       description="Pulse rate (pulse trains only).")
    phase_width_us: TextFloat | None = Field(default=None, gt=0, le=100_000,
                                         title="Phase width (µs)",
                                         description="Leading phase width (pulse trains only).")
    home_use: bool = Field(default=False, title="For home use (within the locked ranges)")
    amplitude_ma_min: TextFloat | None = Field(default=None, ge=0,
                                               title="Home: lowest amplitude (mA)")
    amplitude_ma_max: TextFloat | None = Field(
        default=None, ge=0, title="Home: highest amplitude (mA)",
        description=f"Required for home use: {HOME_AMPLITUDE_RULE}.")
    frequency_hz_min: TextFloat | None = Field(default=None, ge=0,
                                               title="Home: lowest rate (Hz)")
    frequency_hz_max: TextFloat | None = Field(default=None, ge=0,
                                               title="Home: highest rate (Hz)")
    phase_width_us_min: TextFloat | None = Field(default=None, ge=0,
                                             title="Home: shortest phase width (µs)")
    phase_width_us_max: TextFloat | None = Field(default=None, ge=0,
                                             title="Home: longest phase width (µs)")
    session_duration_min_min: TextFloat | None = Field(default=None, ge=0,
                                                   title="Home: shortest session (min)")
    session_duration_min_max: TextFloat | None = Field(default=None, ge=0,
                                                   title="Home: longest session (min)")
    valid_from: date = Field(title="First day")
    valid_to: date | None = Field(default=None, title="Last day")
    review_on: date = Field(
        title="Review on", description="When you review this prescription: after the first day, "
        "not in the past, within 12 weeks (stimwise.records.review).")


def draft_label(path: str) -> str:
    """The words of a draft field for a person: ``channels.0.active_site`` -> "Channel 1:
    Active electrode", ``amplitude_ma_max`` -> "Home: highest amplitude (mA)"."""
    head, _, rest = path.partition(".")
    if head == "channels" and rest:
        index, _, name = rest.partition(".")
        info = ChannelDraft.model_fields.get(name)
        where = f"Channel {int(index) + 1}" if index.isdigit() else "Channels"
        return f"{where}: {info.title}" if info is not None and info.title else where
    info = PrescriptionDraft.model_fields.get(head)
    return info.title if info is not None and info.title else head.replace("_", " ")


@dataclass(frozen=True)
class Evaluation:
    """A draft turned into a prescription and judged: the safety report, the home-use problems
    and the waveform views."""

    prescription: Prescription
    report: SafetyReport
    screening: ScreeningView
    locked_ranges: LockedRanges | None
    range_problems: tuple[FieldProblem, ...]
    review_problems: tuple[FieldProblem, ...] = ()

    @property
    def storable(self) -> bool:
        return self.report.plan is not None and not self.problems

    @property
    def problems(self) -> tuple[FieldProblem, ...]:
        """Everything besides the safety verification that stops it being stored."""
        return (*self.range_problems, *self.review_problems)

    @property
    def home_amplitude_ceiling_ma(self) -> float:
        """The highest top the home amplitude range may have (:data:`HOME_AMPLITUDE_RULE`)."""
        return home_amplitude_ceiling_ma(self.prescription, self.screening.screening.caps)

    def views(self) -> dict:
        return waveform_views(self.prescription)

    def to_dict(self) -> dict:
        return {
            "verdict": self.report.verdict,
            "storable": self.storable,
            "safety": self.report.to_dict(),
            "range_problems": [
                {"path": p.path, "value": p.value, "expected": p.expected}
                for p in self.range_problems
            ],
            "problems": [
                {"path": p.path, "label": draft_label(p.path), "value": p.value,
                 "expected": p.expected}
                for p in self.problems
            ],
            "home_amplitude_ceiling_ma": self.home_amplitude_ceiling_ma,
            "home_amplitude_rule": home_amplitude_rule_text(self.home_amplitude_ceiling_ma),
            "intake_id": self.screening.intake_id,
            "screening_assessed_on": self.screening.intake.assessed_on.isoformat(),
        }


# --------------------------------------------------------------------------- drafts


def draft_values(
    view: ScreeningView, protocol_id: str | None, channels: tuple | None = None
) -> dict:
    """Editor values for a protocol's defaults (on the given channels, e.g. a recommendation's),
    starting today with the default review date."""
    today = datetime.now(UTC).date()
    protocols = library()
    protocol = protocols.get(protocol_id or "") or protocols[library_ids()[0]]
    chosen = channels or protocol.channels
    waveform = protocol.waveform
    pulse = isinstance(waveform, PulseTrain)
    cap = view.screening.caps.max_amplitude_ma
    amplitude = min(protocol.intensity.max_amplitude_ma, cap or float("inf"))
    return {
        "intake_id": view.intake_id,
        "protocol_id": protocol.id,
        "channels": [
            {"label": c.label, "active_site": c.electrodes[0].site,
             "return_site": c.electrodes[1].site, "area_cm2": c.electrodes[0].area_cm2}
            for c in chosen
        ],
        "max_amplitude_ma": amplitude,
        "session_duration_min": protocol.session.duration_min,
        "frequency_hz": waveform.frequency_hz if pulse else None,
        "phase_width_us": waveform.pulse.phase_width_us if pulse else None,
        "valid_from": today.isoformat(),
        "review_on": default_review_on(today, None, today).isoformat(),
    }


def build_prescription(draft: PrescriptionDraft) -> Prescription:
    """The draft as a validated prescription (an :class:`InputError` names the draft field)."""
    protocol = library()[draft.protocol_id]
    channels = tuple(
        validate_model(Channel, {
            "label": c.label,
            "electrodes": [{"site": c.active_site, "area_cm2": c.area_cm2},
                           {"site": c.return_site, "area_cm2": c.area_cm2}],
        }, source=f"channels.{index}")
        for index, c in enumerate(draft.channels)
    )
    return Prescription.from_protocol(
        protocol, channels=channels, max_amplitude_ma=draft.max_amplitude_ma,
        session_duration_min=draft.session_duration_min,
    ).with_dose(frequency_hz=draft.frequency_hz, phase_width_us=draft.phase_width_us,
                source="prescription")


def _locked_ranges(draft: PrescriptionDraft) -> LockedRanges | None:
    spans = {}
    for name in RANGED:
        low, high = getattr(draft, f"{name}_min"), getattr(draft, f"{name}_max")
        if low is None and high is None:
            continue
        if low is None or high is None:
            missing = f"{name}_min" if low is None else f"{name}_max"
            raise InputError(FieldProblem(missing, None, "both ends of the range, or neither"))
        if low > high:
            raise InputError(FieldProblem(f"{name}_min", low, f"at most {name}_max ({high:g})"))
        spans[name] = ValueSpan(min=low, max=high)
    if not spans:
        return None
    if "amplitude_ma" not in spans:
        raise InputError(FieldProblem("amplitude_ma_max", None,
                                      "an amplitude range whenever any range is locked"))
    return LockedRanges(**spans)


def _prescribed(rx: Prescription, name: str) -> float:
    if name == "amplitude_ma":
        return rx.max_amplitude_ma
    if name == "session_duration_min":
        return rx.session_duration_min
    waveform = rx.waveform
    return waveform.frequency_hz if name == "frequency_hz" else waveform.pulse.phase_width_us


def range_problems(rx: Prescription, locked: LockedRanges | None, view: ScreeningView,
                   home_use: bool) -> list[FieldProblem]:
    """Why these home-use ranges may not be stored (empty: they may)."""
    problems: list[FieldProblem] = []
    screening = view.screening
    if home_use:
        if not screening.home_use_allowed:
            problems.append(FieldProblem("home_use", True,
                                         "clinic use only: the screening does not allow home use"))
        sites = {e.site for c in rx.channels for e in c.electrodes}
        barred = sorted(sites & set(screening.home_use_forbidden_sites))
        if barred:
            problems.append(FieldProblem("home_use", True,
                                         f"no electrode on sites barred from home use: {barred}"))
        if locked is None:
            problems.append(FieldProblem("amplitude_ma_max", None,
                                         "locked ranges for a home-use prescription"))
    if locked is None:
        return problems
    spans = {name: span for name in RANGED if (span := getattr(locked, name)) is not None}
    if ({"frequency_hz", "phase_width_us"} & set(spans)
            and not isinstance(rx.waveform, PulseTrain)):
        name = next(n for n in ("frequency_hz", "phase_width_us") if n in spans)
        return [*problems, FieldProblem(f"{name}_min", spans[name].min,
                                        "no range: this protocol is a carrier")]
    top = spans["amplitude_ma"].max
    ceiling = home_amplitude_ceiling_ma(rx, screening.caps)
    if expected := home_amplitude_problem(top, ceiling):
        problems.append(FieldProblem("amplitude_ma_max", top, expected))
    for name, span in spans.items():
        if name == "amplitude_ma":
            continue  # the prescribed amplitude is a ceiling, not a value the range must hold
        value = _prescribed(rx, name)
        if not span.min <= value <= span.max:
            problems.append(FieldProblem(f"{name}_max", span.max,
                                         f"a range holding the prescribed {value:g}"))
    if problems:
        return problems
    for corner in product(*[[(n, "min", s.min), (n, "max", s.max)] for n, s in spans.items()]):
        dose = {name: value for name, _, value in corner}
        try:
            report = verify(rx.with_dose(**dose, source="proposed dose"), caps=screening.caps)
        except InputError as error:
            where = corner[-1]
            return [FieldProblem(f"{where[0]}_{where[1]}", where[2],
                                 "a dose that is a valid prescription ("
                                 f"{error.problems[0].describe()})")]
        if report.plan is None:
            name, end, value = max(corner, key=lambda c: c[1] == "max")
            reasons = "; ".join(f"[{f.rule_id}] {f.message}" for f in report.blocking)
            shown = ", ".join(f"{n} {v:g}" for n, _, v in corner)
            return [FieldProblem(f"{name}_{end}", value,
                                 f"ranges whose every corner passes verification; at {shown}: "
                                 f"{reasons}")]
    return problems


def evaluate(db: Database, actor: Actor, pseudonym: str, draft: PrescriptionDraft,
             *, today: date | None = None) -> Evaluation:
    """Build and verify the draft against the current screening (nothing is stored)."""
    require(actor, "write_clinical", pseudonym)
    view = require_current_screening(db, actor, pseudonym, draft.intake_id, today=today)
    rx = build_prescription(draft)
    locked = _locked_ranges(draft)
    report = verify(rx, caps=view.screening.caps)
    problems = range_problems(rx, locked, view, draft.home_use)
    review = review_problem(draft.review_on, draft.valid_from, draft.valid_to,
                            today or datetime.now(UTC).date())
    return Evaluation(rx, report, view, locked, tuple(problems),
                      () if review is None else (review,))


def save(db: Database, actor: Actor, pseudonym: str, draft: PrescriptionDraft,
         *, today: date | None = None) -> tuple[int, Evaluation]:
    """Store the draft if and only if it verifies; returns the prescription id.

    Raises
    ------
    SafetyBlockError
        The verification blocked it (nothing stored).
    InputError
        Invalid draft, stale screening, or home-use ranges that may not be stored.
    """
    evaluation = evaluate(db, actor, pseudonym, draft, today=today)
    if evaluation.problems:
        raise InputError(list(evaluation.problems), source="prescription")
    plan = evaluation.report.require_plan()
    data = PrescriptionIn(
        prescription=plan.prescription,
        caps=evaluation.screening.screening.caps,
        locked_ranges=evaluation.locked_ranges,
        home_use=draft.home_use,
        valid_from=draft.valid_from,
        valid_to=draft.valid_to,
        review_on=draft.review_on,
        prescribed_by=actor.username,
    )
    with db.transaction() as session:
        row = add_prescription(session, actor, pseudonym, data)
        return row.id, evaluation


@dataclass(frozen=True)
class StoredPrescription:
    """A stored prescription re-verified now with the caps stored with it."""

    id: int
    prescription: Prescription
    report: SafetyReport
    fingerprint_matches: bool

    def views(self) -> dict:
        return waveform_views(self.prescription)


def stored_prescription(db: Database, actor: Actor, pseudonym: str,
                        prescription_id: int) -> StoredPrescription:
    """One of the patient's prescriptions with a fresh safety report (an audited read)."""

    def read(session):
        return [row for row in list_prescriptions(session, actor, pseudonym)
                if row.id == prescription_id]

    rows = audited_read(db, actor, pseudonym, "prescription", read)
    if not rows:
        raise InputError(FieldProblem("prescription_id", prescription_id,
                                      f"the id of one of {pseudonym}'s prescriptions"))
    row = rows[0]
    rx = validate_model(Prescription, row.prescription, source="stored prescription")
    caps = None if row.caps is None else validate_model(PatientCaps, row.caps, "stored caps")
    return StoredPrescription(row.id, rx, verify(rx, caps=caps),
                              prescription_fingerprint(rx) == row.fingerprint)
