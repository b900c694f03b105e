"""ScienceMode2 session layer: the handshake, the §4 recovery and the Watchdog keep-alive.

Built on the shared :class:`~stimwise.device.framed_link.FramedLink` (numbering, Ack matching,
resends, the keep-alive thread, the frame audit). What is ScienceMode2's (spec §2.3, §4, §5;
fact sheet §11):

* **Line.** 460800 baud, 8E1, FTDI latency timer at 1 ms (spec §2).
* **Handshake.** The device sends Init every 500 ms; the host answers InitAck 0 echoing the
  Init's packet number and confirms with one mode query. An Init *after* that means the device
  reset (its watchdog, or power): the link reports it and refuses further requests.
* **Numbering.** Host packets are numbered 0–255, wrapping; an answer is the request's Ack or
  UnknownCommand.
* **Recovery (§4).** No answer within 100 ms → GetStimulationMode (the probe); a −1 (transfer
  error) or −8 (busy) answer gets one resend. If neither the command nor the mode query is
  answered, the link is lost: 100 ms + 90 ms after the request, so within 200 ms of a reply
  falling due.
* **Keep-alive.** Watchdog whenever nothing was sent for 400 ms (the device resets after 1.2 s of
  silence), turned into a mode query when nothing was received for 1 s, so a dead device is
  noticed even while the host is idle. After a loss the thread stops: a device that is alive but
  unreachable then stops itself by its watchdog.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import ClassVar

import serial

from stimwise.device.framed_link import FramedLink, LinkTiming
from stimwise.device.frames import DecodedFrame, FrameDecoder
from stimwise.device.interface import DeviceError, DeviceTimeoutError, EventStream
from stimwise.device.sciencemode2.codec import (
    ACK_OF,
    Command,
    Result,
    as_command,
    command_name,
    encode_frame,
)
from stimwise.device.sciencemode2.codec import (
    FrameDecoder as Sm2FrameDecoder,
)
from stimwise.device.sciencemode2.payloads import (
    Ack,
    Init,
    StimulationMode,
    StimulationModeAck,
)
from stimwise.device.serial_transport import SerialSettings
from stimwise.errors import InputError

SERIAL_SETTINGS = SerialSettings(
    baud_rate=460_800,
    parity=serial.PARITY_EVEN,
    stop_bits=serial.STOPBITS_ONE,
    low_latency=True,
)
"""Spec §2: 460800 baud, 8E1, and the FTDI latency timer at 1 ms."""
_RESENDABLE = frozenset({Result.TRANSFER_ERROR, Result.DEVICE_BUSY})
"""Answers that say the command was not executed, so one resend is safe."""


class Sm2Link(FramedLink):
    """One ScienceMode2 connection over one serial port.

    Parameters
    ----------
    port, events, clock, on_lost, idle_probe, timing
        See :class:`~stimwise.device.framed_link.FramedLink`.
    on_device_packet
        Called from the reader thread with every packet the device starts after the handshake
        (StimulationError, an Init that means a reset, anything unknown).
    """

    device_name: ClassVar[str] = "RehaStim 2"
    serial_settings: ClassVar[SerialSettings] = SERIAL_SETTINGS
    packet_modulo: ClassVar[int] = 256
    probe_command: ClassVar[int] = Command.GET_STIMULATION_MODE
    answer_commands: ClassVar[frozenset[int]] = frozenset(
        {*ACK_OF.values(), Command.UNKNOWN_COMMAND}
    )

    def __init__(
        self,
        port: str,
        *,
        events: EventStream,
        clock: Callable[[], float],
        on_device_packet: Callable[[DecodedFrame], None],
        on_lost: Callable[[str], None],
        idle_probe: Callable[[], bool],
        timing: LinkTiming | None = None,
    ) -> None:
        super().__init__(
            port,
            events=events,
            clock=clock,
            on_lost=on_lost,
            idle_probe=idle_probe,
            timing=timing,
        )
        self._on_device_packet = on_device_packet
        self._inits: queue.Queue[DecodedFrame | None] = queue.Queue()

    # ------------------------------------------------------------------ the protocol

    def new_decoder(self) -> FrameDecoder:
        return Sm2FrameDecoder()

    def encode(self, packet_number: int, command: int, data: bytes) -> bytes:
        return encode_frame(packet_number, command, data)

    def answers_to(self, command: int) -> frozenset[int]:
        known = as_command(command)
        ack = None if known is None else ACK_OF.get(known)
        return frozenset() if ack is None else frozenset({ack, Command.UNKNOWN_COMMAND})

    def command_name(self, command: int) -> str:
        return command_name(command)

    def is_unknown_command(self, answer: DecodedFrame) -> bool:
        return answer.command == Command.UNKNOWN_COMMAND

    def not_executed(self, answer: DecodedFrame) -> tuple[str, float] | None:
        result = _result_of(answer)
        if result not in _RESENDABLE:
            return None
        pause_s = self.timing.busy_retry_s if result == Result.DEVICE_BUSY else 0.0
        return f"the device answered {result.name}", pause_s

    def result_ok(self, answer: DecodedFrame) -> bool:
        return _result_of(answer) == Result.OK

    def state_of(self, answer: DecodedFrame) -> StimulationMode | None:
        """The mode in a GetStimulationModeAck, or ``None`` (error result, unreadable, other)."""
        if answer.command != Command.GET_STIMULATION_MODE_ACK:
            return None
        try:
            return StimulationModeAck.decode(answer.data).mode
        except InputError:
            return None

    # ------------------------------------------------------------------ lifecycle

    def open(self, deadline_s: float) -> int:
        """Open the port and do the handshake by ``deadline_s`` (monotonic); return the
        protocol version the device announced.

        Raises
        ------
        DeviceTimeoutError
            No Init, or no answer to the confirming mode query, before the deadline.
        DeviceError
            The port cannot be opened or fails.
        """
        self._open_transport()
        try:
            version = self._handshake(deadline_s)
        except BaseException:
            self.close()
            raise
        self._start_keepalive()
        return version

    def _handshake(self, deadline_s: float) -> int:
        waited_s = deadline_s - time.monotonic()
        while True:
            try:
                init = self._inits.get(timeout=max(0.0, deadline_s - time.monotonic()))
            except queue.Empty:
                init = None
            self._check_usable()  # a loss wakes this wait with None
            if init is None:
                raise DeviceTimeoutError(
                    f"no Init from a RehaStim 2 on {self.port} within {waited_s:.1f} s: is it "
                    "switched on, and is this its serial port?"
                )
            try:
                version = Init.decode(init.data).version
            except InputError:
                continue
            with self._write_lock:  # InitAck echoes the device's number, not ours
                self._write_locked(init.packet_number, Command.INIT_ACK, Ack(Result.OK).encode())
            number = self._send(Command.GET_STIMULATION_MODE)
            try:
                end_s = min(deadline_s, time.monotonic() + self.timing.reply_timeout_s)
                answer = self._await((number,), end_s)
            finally:
                self._forget(number)
            self._check_usable()
            if answer is not None and answer.command == Command.GET_STIMULATION_MODE_ACK:
                self.connected = True
                return version

    def _lose(self, reason: str) -> None:
        super()._lose(reason)
        self._inits.put(None)  # wakes a handshake waiting for Init

    # ------------------------------------------------------------------ requests

    def query_mode(self, deadline_s: float) -> StimulationMode:
        """The device's stimulation mode (GetStimulationMode); raises as ``request`` does."""
        answer = self.probe(deadline_s)
        mode = self.state_of(answer)
        if mode is None:
            raise DeviceError(f"the device answered GetStimulationMode with {answer.data.hex()}")
        return mode

    # ------------------------------------------------------------------ device packets

    def _device_packet(self, frame: DecodedFrame) -> None:
        if frame.command == Command.INIT and not self.connected:
            self._inits.put(frame)
            return
        if frame.command == Command.INIT:
            self.connected = False
        self._on_device_packet(frame)

    def _keep_alive(self) -> None:
        if self.receive_silence_s >= self.timing.probe_interval_s and self._idle_probe():
            return
        self._send(Command.WATCHDOG)


def _result_of(answer: DecodedFrame) -> Result:
    try:
        return Ack.decode(answer.data).result
    except InputError as error:
        raise DeviceError(f"unreadable {command_name(answer.command)}: {error.message}") from None
