"""A prescription: a protocol bound to concrete electrodes, amplitude and session length."""

from __future__ import annotations

from pydantic import Field, model_validator

from stimwise.arguments import check_type
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.base import Float, StrictModel
from stimwise.protocol.io import validate_model
from stimwise.protocol.models import Channel, Protocol, PulseTrain, check_channels_fit_waveform

DOSE_PARAMETERS = ("amplitude_ma", "frequency_hz", "phase_width_us", "session_duration_min")
"""The dose parameters :meth:`Prescription.with_dose` replaces (those a clinician adjusts, a
person reports from their own device, and the dose tuner searches)."""

__all__ = ["Prescription", "as_prescription"]


class Prescription(StrictModel):
    """What would actually be delivered: the protocol's waveform with this person's dose.

    The safety verification checks these values (not the protocol's defaults) against the limits
    and against the ranges of the protocol's own evidence. Make one with :meth:`from_protocol`.

    Attributes
    ----------
    protocol : Protocol
        The protocol whose waveform and envelope are delivered.
    channels : tuple of Channel
        The electrodes actually placed (1 to 8 channels).
    max_amplitude_ma : float
        The highest peak amplitude any channel may reach (mA, > 0 and at most 200).
    session_duration_min : float
        The length of one session (min, > 0 and at most 480).

    Examples
    --------
    >>> import stimwise as sw
    >>> rx = sw.Prescription.from_protocol(
    ...     sw.load_protocol("conventional-tens"), max_amplitude_ma=25, session_duration_min=20
    ... )
    >>> rx.max_amplitude_ma, rx.session_duration_min
    (25.0, 20.0)
    >>> [channel.label for channel in rx.channels]
    ['left leg', 'right leg']
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

        Parameters
        ----------
        protocol
            A loaded protocol (:func:`stimwise.load_protocol`).
        max_amplitude_ma
            The prescribed maximum amplitude (mA); the protocol's by default.
        electrode_area_cm2
            Resizes every electrode of every channel (the CLI's ``--electrode-area-cm2``).
        session_duration_min
            The session length (min); the protocol's by default.
        channels
            Other electrode placements; the protocol's by default.

        Returns
        -------
        Prescription
            Validated; not yet verified (:func:`stimwise.verify` judges it).

        Raises
        ------
        InputError
            An override out of its range (the message names the field).
        ArgumentTypeError
            ``protocol`` is not a :class:`Protocol` (a library id must be loaded first).

        Examples
        --------
        >>> import stimwise as sw
        >>> tens = sw.load_protocol("conventional-tens")
        >>> rx = sw.Prescription.from_protocol(tens, electrode_area_cm2=16)
        >>> {e.area_cm2 for c in rx.channels for e in c.electrodes}
        {16.0}
        >>> sw.Prescription.from_protocol(tens, max_amplitude_ma=500)
        Traceback (most recent call last):
        ...
        stimwise.errors.InputError: Invalid input in prescription of conventional-tens ...
        """
        check_type(protocol, Protocol, function="Prescription.from_protocol", name="protocol",
                   hint=_load_hint(protocol))
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

    def with_dose(
        self,
        *,
        amplitude_ma: float | None = None,
        session_duration_min: float | None = None,
        frequency_hz: float | None = None,
        phase_width_us: float | None = None,
        source: str = "dose",
    ) -> Prescription:
        """This prescription with the dose parameters given replaced, validated again.

        ``amplitude_ma`` replaces the prescribed maximum amplitude. ``frequency_hz`` and
        ``phase_width_us`` apply to pulse trains only; the width is the leading phase's, and
        an asymmetric pulse's long second phase scales with it (a stimulator's width control
        changes the whole pulse, so its shape and charge balance stay as prescribed).

        Raises
        ------
        InputError
            A pulse parameter for a carrier waveform (named by the parameter), or a dose that
            makes no valid prescription (named by its path, from ``source``).
        """
        data = self.model_dump()
        if amplitude_ma is not None:
            data["max_amplitude_ma"] = amplitude_ma
        if session_duration_min is not None:
            data["session_duration_min"] = session_duration_min
        pulse_dose = {name: value for name, value in (("frequency_hz", frequency_hz),
                                                      ("phase_width_us", phase_width_us))
                      if value is not None}
        if pulse_dose and not isinstance(self.waveform, PulseTrain):
            name, value = next(iter(pulse_dose.items()))
            raise InputError(FieldProblem(
                name, value, "no value: this protocol is a carrier, not a pulse train"),
                source=source)
        waveform = data["protocol"]["waveform"]
        if frequency_hz is not None:
            waveform["frequency_hz"] = frequency_hz
        if phase_width_us is not None:
            pulse = waveform["pulse"]
            if pulse.get("second_phase_width_us") is not None:
                pulse["second_phase_width_us"] *= phase_width_us / pulse["phase_width_us"]
            pulse["phase_width_us"] = phase_width_us
        return validate_model(Prescription, data, source=source)

    @property
    def waveform(self):
        return self.protocol.waveform

    @property
    def envelope(self):
        return self.protocol.envelope


def as_prescription(value: object, *, function: str, name: str = "prescription") -> Prescription:
    """``value`` as a prescription: a :class:`Prescription` as it is, a
    :class:`~stimwise.protocol.models.Protocol` as its defaults
    (:meth:`Prescription.from_protocol` with no overrides).

    The one place that decides what public functions taking a prescription (``verify``,
    ``compute_metrics``, ``sample_window``, ``plot_prescription``) accept.

    Parameters
    ----------
    value
        What the caller passed.
    function, name
        The public function and argument, for the error message.

    Raises
    ------
    ArgumentTypeError
        Anything else, with what to call instead.

    Examples
    --------
    >>> import stimwise as sw
    >>> from stimwise.protocol.prescription import as_prescription
    >>> rx = as_prescription(sw.load_protocol("burst-tens"), function="demo")
    >>> rx.max_amplitude_ma == sw.load_protocol("burst-tens").intensity.max_amplitude_ma
    True
    >>> as_prescription("burst-tens", function="demo")
    Traceback (most recent call last):
    ...
    stimwise.errors.ArgumentTypeError: demo() expects prescription to be a Prescription or a \
Protocol, got str 'burst-tens'; load it first with stimwise.load_protocol('burst-tens')
    """
    if isinstance(value, Protocol):
        return Prescription.from_protocol(value)
    check_type(value, (Prescription, Protocol), function=function, name=name,
               hint=_load_hint(value))
    return value  # type: ignore[return-value]


def _load_hint(value: object) -> str:
    """What to call to get a protocol or prescription from what was passed instead."""
    kind = type(value).__name__
    if isinstance(value, str) or kind.endswith("Path"):
        return f"load it first with stimwise.load_protocol({str(value)!r})"
    if kind == "VerifiedPlan":
        return "a verified plan's prescription is plan.prescription"
    if kind == "SafetyReport":
        return "the report's prescription is report.plan.prescription (when it did not block)"
    return "make one with stimwise.Prescription.from_protocol(stimwise.load_protocol(...))"
