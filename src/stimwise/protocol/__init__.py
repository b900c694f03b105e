"""Models of stimulation: pulses, trains, envelopes, electrodes, protocols and prescriptions."""

from stimwise.protocol.models import (
    AsymmetricBiphasicPulse,
    CarrierBurst,
    CarrierSweep,
    CarrierTrain,
    Channel,
    Citation,
    Electrode,
    Envelope,
    EvidenceRanges,
    Intensity,
    MonophasicPulse,
    Protocol,
    PulseBurst,
    PulseTrain,
    SessionDose,
    SymmetricBiphasicPulse,
    ValueRange,
)
from stimwise.protocol.modulation import (
    AmplitudeModulation,
    FrequencyModulation,
    PulseWidthModulation,
)
from stimwise.protocol.prescription import Prescription

__all__ = [
    "AmplitudeModulation",
    "AsymmetricBiphasicPulse",
    "CarrierBurst",
    "CarrierSweep",
    "CarrierTrain",
    "Channel",
    "Citation",
    "Electrode",
    "Envelope",
    "EvidenceRanges",
    "FrequencyModulation",
    "Intensity",
    "MonophasicPulse",
    "Prescription",
    "Protocol",
    "PulseBurst",
    "PulseTrain",
    "PulseWidthModulation",
    "SessionDose",
    "SymmetricBiphasicPulse",
    "ValueRange",
]
