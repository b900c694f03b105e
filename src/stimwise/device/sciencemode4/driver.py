"""The Hasomed RehaMove P24 behind the :class:`~stimwise.device.interface.Stimulator` interface.

The device times the pulses itself on the mid level: ``configure`` maps the plan
(:mod:`.mapping`), ``arm`` enters the mid level (Ml_init, high voltage on, every channel stopped
on any channel's error), ``start`` sends the first Ml_update with every current at zero, and
every ``update`` is one Ml_update carrying every channel's point list, so it is atomic on the
wire. The layers: :mod:`.link` (ScienceMode4 on the shared
:mod:`~stimwise.device.framed_link`) and the shared
:class:`~stimwise.device.linked_driver.LinkedStimulator` (one command at a time, stop first and
report afterwards, state checks, the plan re-checked at every update, the ``applied`` record).

States (as every driver's)::

    disconnected -connect-> connected -configure-> configured -arm-> armed -start-> stimulating
    stop / emergency_stop -> stopped (arm again: Ml_init)
    electrode or pulse error, device reset or stop, link loss, a failed command -> fault
    (configure again; connect again after a loss)
    close -> disconnected

Choices of this driver (stimwise's):

* **Keep-alive and checks.** While stimulating, the keep-alive thread (after 0.1 s without a
  transmission), ``status`` and every ``update`` (before it is sent) ask Ml_get_current_data:
  it keeps the device going (it stops by itself 2 s after the last one or the last Ml_update)
  and reports each channel's state. An electrode, pulse-timeout or low-current error faults the
  driver with the channel's label; a channel that stopped without an error, or an answer "not
  initialised" (the device reset or left the mid level), faults it too. So an update never
  restarts a channel the device stopped, and the record says a stopped channel delivers for at
  most one check interval. Otherwise Get_stim_status checks the level.
* **Currents** are floored to 0.5 mA (never more than asked), capped by the verified plan's
  maximum and the device's 130 mA; the ``applied`` events carry these quantised values.
* **Electrodes.** ``status`` says ``lead_off`` for a channel the device reported an electrode
  error on, ``ok`` for a channel delivering current without one, ``unknown`` otherwise; the
  device never reports impedance.
* **Connect** reads the device id and versions and stops whatever level a previous program left
  active. The low level (host-timed single pulses) is in the codec, the link and the emulator;
  this driver runs sessions on the mid level.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stimwise.device.frames import DecodedFrame
from stimwise.device.interface import (
    CONFIGURABLE_STATES,
    Capabilities,
    DeviceError,
    DeviceTimeoutError,
    ElectrodeState,
)
from stimwise.device.linked_driver import LinkedStimulator
from stimwise.device.sciencemode4.codec import Command, Result, command_name
from stimwise.device.sciencemode4.link import P24Link, result_of
from stimwise.device.sciencemode4.mapping import CAPABILITIES, MidLevelPlan, map_prescription
from stimwise.device.sciencemode4.payloads import (
    ChannelState,
    GetDeviceIdAck,
    GetExtendedVersionAck,
    MlGetCurrentData,
    MlGetCurrentDataAck,
    MlInit,
    StimStatus,
)
from stimwise.errors import InputError
from stimwise.safety.plan import VerifiedPlan, require_verified

_CHANNEL_FAULTS = {
    ChannelState.ELECTRODE_ERROR: (
        "electrode",
        "an electrode error (an electrode is not sufficiently connected to the skin)",
    ),
    ChannelState.PULSE_TIMEOUT_ERROR: (
        "pulse_timeout",
        "a pulse timeout (the pulse could not run in its time frame)",
    ),
    ChannelState.PULSE_LOW_CURRENT_ERROR: (
        "low_current",
        "a low-current error (the device could not drive the set current into the load)",
    ),
}
_LEVEL_STOPS = {
    StimStatus.LOW_LEVEL_INITIALIZED: Command.LL_STOP,
    StimStatus.MID_LEVEL_INITIALIZED: Command.ML_STOP,
    StimStatus.MID_LEVEL_RUNNING: Command.ML_STOP,
}


@dataclass(frozen=True)
class CurrentData:
    """What Ml_get_current_data reported: the result and, per device channel, whether it runs
    and its state (``None`` for a code the protocol does not define)."""

    result: Result
    active: tuple[bool, ...]
    states: tuple[ChannelState | None, ...]


class RehaMoveP24(LinkedStimulator[P24Link, MidLevelPlan]):
    """A RehaMove P24 on its USB serial port (or the emulator's pty).

    Parameters
    ----------
    port
        ``/dev/ttyACM0``, ``COM5``, or ``P24Emulator.port``. Nothing is opened until
        :meth:`connect`.
    timeout_s
        How long an answer may take before the driver asks for the device's level (plus the
        execution time of Ml_init and the stops); the level query gets 90 % of it, so a silent
        device is declared lost within about 2 × ``timeout_s`` of an answer falling due.
    clock
        Monotonic seconds stamped into the frame log (``clock_s``).
    keepalive_interval_s
        Longest transmit silence before the keep-alive's state check: well under the device's
        2 s, and short, because it bounds how long the record may say a channel delivers
        after the device stopped it by itself.
    """

    stop_command = Command.ML_STOP
    stopped_state = StimStatus.NO_LEVEL
    running_state = StimStatus.MID_LEVEL_RUNNING
    check_before_update = True
    loss_output = (
        "stop sent; if it cannot arrive, the device stops the output by itself 2 s after the "
        "last Ml_update or Ml_get_current_data it received"
    )

    keepalive_interval_s = 0.1

    def __init__(self, port: str, **timing: Any) -> None:
        """See :class:`RehaMoveP24` (and ``LinkedStimulator`` for ``timing``)."""
        super().__init__(port, **timing)
        self._channel_states: dict[str, ChannelState | None] = {}
        self.device_id: str | None = None

    # ------------------------------------------------------------------ the interface

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def connect(self, timeout_s: float = 2.0) -> None:
        """Open the port, read the device id and versions, and stop any active level.

        Raises
        ------
        DeviceTimeoutError
            The device does not answer within ``timeout_s``.
        DeviceError
            The port cannot be opened, the device refuses, or the driver is connected already.
        """
        deadline_s = time.monotonic() + timeout_s
        with self._exclusive("connect", deadline_s):
            self._detach_for_connect()
            link = P24Link(
                self.port,
                events=self.events,
                clock=self._clock,
                on_lost=self._on_link_lost,
                idle_probe=self._idle_probe,
                timing=self._timing,
            )
            link.open()
            try:
                found = self._identify(link, deadline_s)
            except BaseException:
                link.close()
                raise
            self._attach(link, found)

    def configure(self, plan: VerifiedPlan, timeout_s: float = 1.0) -> None:
        """Load ``plan``: Ml_stop, so that nothing runs; currents are zero.

        Raises
        ------
        UnverifiedPlanError
            ``plan`` is not an intact :class:`VerifiedPlan` (HAZ-004).
        DeviceRefusalError
            With every reason the P24 cannot deliver it (HAZ-130); nothing is sent.
        DeviceError
            While stimulating (stop first), before ``connect``, or when the device refuses.
        """
        plan = require_verified(plan)
        mapped = map_prescription(plan.prescription)

        def body(link: P24Link, deadline_s: float, epoch: int) -> None:
            self._request(link, Command.ML_STOP, b"", deadline_s)
            with self._lock:
                self._commit("configure", epoch)
                self._adopt(plan, mapped, mapped.labels)
                self._channel_states = dict.fromkeys(mapped.labels, ChannelState.OK)
            self._emit_applied("configure: mid-level plan loaded", **mapped.describe())
            for note in mapped.notes:
                self.events.emit("info", note)

        self._command("configure", timeout_s, CONFIGURABLE_STATES, body)

    def arm(self, timeout_s: float = 1.0) -> None:
        """Enter the mid level (Ml_init: high voltage on; any channel's error stops every
        channel); nothing is delivered."""

        def body(link: P24Link, deadline_s: float, epoch: int) -> None:
            self._request(
                link,
                Command.ML_INIT,
                MlInit(stop_all_on_error=True).encode(),
                deadline_s,
                effect_state=StimStatus.MID_LEVEL_INITIALIZED,
                epoch=epoch,
            )
            with self._lock:
                self._commit("arm", epoch)
                self._enter("armed", "armed: mid level initialised, nothing delivered")

        self._command("arm", timeout_s, frozenset({"configured", "stopped"}), body)

    # ------------------------------------------------------------------ the device's part

    def _identify(self, link: P24Link, deadline_s: float) -> str:
        """Device id, versions and level; stop a level left active. Returns the connect note."""
        try:
            identity = GetDeviceIdAck.decode(self._ask(link, Command.GET_DEVICE_ID, deadline_s))
            version = GetExtendedVersionAck.decode(
                self._ask(link, Command.GET_EXTENDED_VERSION, deadline_s)
            )
            status = link.stim_status(deadline_s)
        except DeviceTimeoutError as error:
            raise DeviceTimeoutError(
                f"no answer from a RehaMove P24 on {self.port}: is it connected and switched on, "
                f"and is this its port? ({error})"
            ) from None
        except InputError as error:
            raise DeviceError(f"unreadable answer from the device: {error.message}") from None
        stop = _LEVEL_STOPS.get(status)
        if stop is not None:
            answer = link.request(stop, effect_state=StimStatus.NO_LEVEL, deadline_s=deadline_s)
            if answer is not None and (why := self._refused(link, stop, answer)) is not None:
                raise DeviceError(f"the device refused {command_name(stop)}: {why}")
        self.device_id = identity.device_id
        firmware = ".".join(map(str, version.firmware))
        science_mode = ".".join(map(str, version.science_mode))
        stopped = "" if stop is None else f"; stopped its {status.name.lower()} level"
        return (
            f"connected to the P24 {identity.device_id} on {self.port} (firmware {firmware}, "
            f"ScienceMode {science_mode}){stopped}"
        )

    def _output_frame(
        self, plan: MidLevelPlan, currents: Mapping[str, float]
    ) -> tuple[int, bytes]:
        """Ml_update with every channel on: it starts the output, and updates it."""
        return Command.ML_UPDATE, plan.update(currents).encode()

    def _ask(self, link: P24Link, command: Command, deadline_s: float) -> bytes:
        """The data of ``command``'s answer; ``DeviceError`` when the device refuses it."""
        answer = _answered(link.request(command, effect_state=None, deadline_s=deadline_s))
        why = self._refused(link, command, answer)
        if why is not None:
            raise DeviceError(f"the device refused {command_name(command)}: {why}")
        return answer.data

    def _poll_state(self, link: P24Link, deadline_s: float) -> CurrentData | StimStatus:
        if self._expected != StimStatus.MID_LEVEL_RUNNING:
            return link.stim_status(deadline_s)
        answer = link.request(
            Command.ML_GET_CURRENT_DATA,
            MlGetCurrentData().encode(),
            effect_state=None,
            deadline_s=deadline_s,
        )
        try:
            data = MlGetCurrentDataAck.decode(_answered(answer).data)
        except InputError as error:
            raise DeviceError(f"unreadable Ml_get_current_data answer: {error.message}") from None
        return CurrentData(data.result, data.active, data.channel_states)

    def _state_fault(self, state: object) -> tuple[str, str] | None:
        if not isinstance(state, CurrentData):
            return super()._state_fault(state)
        if state.result == Result.NOT_INITIALIZED:
            return (
                "device_reset",
                "the P24 answered Ml_get_current_data 'not initialised': it reset or left the "
                "mid level and stopped the output; configure() again",
            )
        plan = self._loaded()
        faults = []
        for index, label in enumerate(plan.labels):
            channel_state = state.states[index]
            self._channel_states[label] = channel_state
            if channel_state != ChannelState.OK:
                code, what = _CHANNEL_FAULTS.get(
                    channel_state,  # type: ignore[arg-type]
                    ("channel_error", f"an undefined error state {channel_state}"),
                )
                faults.append((code, f"{what} on channel {label} (device channel {index + 1})"))
            elif not state.active[index]:
                faults.append(
                    ("stopped_by_device", f"channel {label} (device channel {index + 1}) stopped "
                     "without an error report")
                )
        if faults:
            faults.sort(key=lambda fault: fault[0] == "stopped_by_device")  # errors first
            causes = "; ".join(message for _, message in faults)
            return faults[0][0], f"the P24 stopped the output: {causes}"
        if state.result != Result.SUCCESSFUL:
            return "device_error", f"the P24 reports {state.result.name} ({state.result.value})"
        return None

    def _refused(self, link: P24Link, command: int, answer: DecodedFrame) -> str | None:
        result = result_of(answer)
        if answer.command in (Command.GENERAL_ERROR, Command.UNKNOWN_CMD):
            return f"{command_name(answer.command)} {result.name} ({result.value})"
        return None if result == Result.SUCCESSFUL else f"{result.name} ({result.value})"

    def _electrode(self, label: str) -> ElectrodeState:
        if self._channel_states.get(label) == ChannelState.ELECTRODE_ERROR:
            return "lead_off"
        delivering = self._state == "stimulating" and self._currents_ma.get(label, 0) > 0
        return "ok" if delivering else "unknown"


def _answered(answer: DecodedFrame | None) -> DecodedFrame:
    if answer is None:  # only a request with an effect state can end without an answer
        raise DeviceError("the device's answer was lost")
    return answer
