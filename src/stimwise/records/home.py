"""The home programme on record: the prescription valid on a day, and its translation into the
person's own device's terms (:mod:`stimwise.device.profiles.translate`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from stimwise.device.profiles import get_profile
from stimwise.device.profiles.translate import DeviceInstructions, translate
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import validate_model
from stimwise.protocol.prescription import Prescription
from stimwise.records.access import Actor
from stimwise.records.inputs import LockedRanges
from stimwise.records.models import PrescriptionRecord
from stimwise.records.repository import get_patient
from stimwise.safety.caps import PatientCaps


@dataclass(frozen=True)
class HomePrescription:
    """A stored prescription with its caps and home ranges, validated again on reading."""

    row: PrescriptionRecord
    prescription: Prescription
    caps: PatientCaps | None
    locked: LockedRanges | None

    @property
    def home_ceiling_ma(self) -> float:
        """The highest amplitude the person may use at home."""
        ceiling = self.prescription.max_amplitude_ma
        if self.caps is not None and self.caps.max_amplitude_ma is not None:
            ceiling = min(ceiling, self.caps.max_amplitude_ma)
        if self.locked is not None:
            ceiling = min(ceiling, self.locked.amplitude_ma.max)
        return ceiling


def prescription_on(session: Session, actor: Actor, pseudonym: str, day: date
                    ) -> HomePrescription:
    """The prescription valid on ``day`` (the latest one when several are), or an
    :class:`InputError` saying there is none."""
    patient = get_patient(session, actor, pseudonym)
    row = session.scalars(
        select(PrescriptionRecord)
        .where(PrescriptionRecord.patient_id == patient.id,
               PrescriptionRecord.valid_from <= day,
               (PrescriptionRecord.valid_to.is_(None)) | (PrescriptionRecord.valid_to >= day))
        .order_by(PrescriptionRecord.valid_from.desc(), PrescriptionRecord.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise InputError(FieldProblem(
            "prescription", None, f"a prescription of {pseudonym} valid on {day} "
            "(add one with `stimwise prescription add`)"))
    return HomePrescription(
        row=row,
        prescription=validate_model(Prescription, row.prescription, "stored prescription"),
        caps=None if row.caps is None else validate_model(PatientCaps, row.caps, "stored caps"),
        locked=None if row.locked_ranges is None else validate_model(
            LockedRanges, row.locked_ranges, "stored home ranges"),
    )


def home_instructions(session: Session, actor: Actor, pseudonym: str, profile_id: str,
                      day: date) -> DeviceInstructions:
    """The prescription valid on ``day`` in the terms of device ``profile_id``, verified at the
    device's worst case with the person's caps."""
    profile = get_profile(profile_id)
    home = prescription_on(session, actor, pseudonym, day)
    return translate(home.prescription, profile, caps=home.caps,
                     ceiling_ma=home.home_ceiling_ma)
