"""A prescription: a protocol bound to concrete electrodes, amplitude and session length."""

from __future__ import annotations

from pydantic import Field, model_validator

from stimwise.protocol.base import Float, StrictModel
from stimwise.protocol.io import validate_model
from stimwise.protocol.models import Channel, Protocol, check_channels_fit_waveform


class Prescription(StrictModel):
    """What would actually be delivered: the protocol's waveform with this person's dose.

    The safety verification checks these values (not the protocol's defaults) against the limits
    and against the ranges of the protocol's own evidence.
    """

    protocol: Protocol
    channels: tuple[Channel, ...] = Field(min_length=1, max_length=8)
    max_amplitude_ma: Float = Field(gt=0, le=200)
    session_duration_min: Float = Field(gt=0, le=480)

    @model_validator(mode="after")
    def _channels_fit_waveform(self) -> Prescription:
        check_channels_fit_waveform(self.channels, self.protocol.waveform)
        return self

    @classmethod
    def from_protocol(
        cls,
        protocol: Protocol,
        *,
        max_amplitude_ma: float | None = None,
        electrode_area_cm2: float | None = None,
        session_duration_min: float | None = None,
        channels: tuple[Channel, ...] | None = None,
    ) -> Prescription:
        """Take the protocol's defaults, replacing those given.

        ``electrode_area_cm2`` resizes every electrode of every channel (the CLI's
        ``--electrode-area-cm2``). Invalid overrides raise :class:`InputError`."""
        chosen = channels if channels is not None else protocol.channels
        channel_data = [c.model_dump() for c in chosen]
        if electrode_area_cm2 is not None:
            for channel in channel_data:
                for electrode in channel["electrodes"]:
                    electrode["area_cm2"] = electrode_area_cm2
        data = {
            "protocol": protocol,
            "channels": channel_data,
            "max_amplitude_ma": (
                protocol.intensity.max_amplitude_ma
                if max_amplitude_ma is None
                else max_amplitude_ma
            ),
            "session_duration_min": (
                protocol.session.duration_min
                if session_duration_min is None
                else session_duration_min
            ),
        }
        return validate_model(cls, data, source=f"prescription of {protocol.id}")

    @property
    def waveform(self):
        return self.protocol.waveform

    @property
    def envelope(self):
        return self.protocol.envelope
