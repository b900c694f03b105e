"""ScienceMode4 session layer on the shared :class:`~stimwise.device.framed_link.FramedLink`.

What is ScienceMode4's (P24 instructions for use; C library; ``docs/reference/sciencemode4.md``):

* **Line.** 3 000 000 baud, 8N2, RTS/CTS (a USB CDC port ignores the rate; a pty accepts it).
* **No handshake.** The P24 sends nothing by itself; the link is up once the port is open, and
  the driver's first requests (device id, versions, status) prove the device answers.
* **Numbering.** Packet numbers are 6 bits (0–63, wrapping); an answer is the request's
  ``..._ACK``, or General_error / Unknown_cmd with the request's number.
* **Recovery.** No answer within the reply timeout (plus the command's documented execution
  time: Ml_init switches both modules' high voltage on, 2 × 40 ms) → Get_stim_status (the probe);
  a transfer error gets one resend; neither answered → the link is lost.
* **Keep-alive.** Whenever nothing was sent for ``keepalive_interval_s`` (0.5 s by default) the
  driver's state check runs: Ml_get_current_data while the mid level runs — the device stops by
  itself after 2 s without it or an Ml_update — and Get_stim_status otherwise, so a dead device
  is noticed while idle too.
"""

from __future__ import annotations

from typing import ClassVar

import serial

from stimwise.device.framed_link import FramedLink
from stimwise.device.frames import DecodedFrame, FrameDecoder
from stimwise.device.interface import DeviceError
from stimwise.device.sciencemode4.codec import (
    ACK_OF,
    PACKET_NUMBERS,
    Command,
    Result,
    as_command,
    command_name,
    encode_frame,
)
from stimwise.device.sciencemode4.codec import FrameDecoder as Sm4FrameDecoder
from stimwise.device.sciencemode4.payloads import GetStimStatusAck, ResultAck, StimStatus
from stimwise.device.serial_transport import SerialSettings
from stimwise.errors import InputError

SERIAL_SETTINGS = SerialSettings(
    baud_rate=3_000_000, parity=serial.PARITY_NONE, stop_bits=serial.STOPBITS_TWO, rtscts=True
)
"""Instructions for use, table 1."""
EXECUTION_S = {
    Command.ML_INIT: 0.08,
    Command.ML_STOP: 0.04,
    Command.LL_INIT: 0.04,
    Command.LL_STOP: 0.04,
}
"""How long a command switching the high voltage takes on the device (C library: Ml_init
"2 × 40 ms", the others 40 ms), added to the reply timeout."""


class P24Link(FramedLink):
    """One ScienceMode4 connection over one serial port (see the module docstring)."""

    device_name: ClassVar[str] = "RehaMove P24"
    serial_settings: ClassVar[SerialSettings] = SERIAL_SETTINGS
    packet_modulo: ClassVar[int] = PACKET_NUMBERS
    probe_command: ClassVar[int] = Command.GET_STIM_STATUS
    answer_commands: ClassVar[frozenset[int]] = frozenset(
        {*ACK_OF.values(), Command.GENERAL_ERROR, Command.UNKNOWN_CMD}
    )

    def open(self) -> None:
        """Open the port and start the keep-alive; ``DeviceError`` if it cannot be opened."""
        self._open_transport()
        self.connected = True
        self._start_keepalive()

    # ------------------------------------------------------------------ the protocol

    def new_decoder(self) -> FrameDecoder:
        return Sm4FrameDecoder()

    def encode(self, packet_number: int, command: int, data: bytes) -> bytes:
        return encode_frame(packet_number, command, data)

    def answers_to(self, command: int) -> frozenset[int]:
        known = as_command(command)
        ack = None if known is None else ACK_OF.get(known)
        return frozenset() if ack is None else frozenset({ack, *_ERROR_ANSWERS})

    def command_name(self, command: int) -> str:
        return command_name(command)

    def reply_timeout_s(self, command: int) -> float:
        known = as_command(command)
        extra_s = 0.0 if known is None else EXECUTION_S.get(known, 0.0)
        return self.timing.reply_timeout_s + extra_s

    def is_unknown_command(self, answer: DecodedFrame) -> bool:
        return answer.command == Command.UNKNOWN_CMD

    def not_executed(self, answer: DecodedFrame) -> tuple[str, float] | None:
        if result_of(answer) != Result.TRANSFER_ERROR:
            return None
        return f"the device answered {command_name(answer.command)} TRANSFER_ERROR", 0.0

    def result_ok(self, answer: DecodedFrame) -> bool:
        return answer.command not in _ERROR_ANSWERS and result_of(answer) == Result.SUCCESSFUL

    def state_of(self, answer: DecodedFrame) -> StimStatus | None:
        """The level in a Get_stim_status_ack, or ``None`` (error result, unreadable, other)."""
        if answer.command != Command.GET_STIM_STATUS_ACK:
            return None
        try:
            ack = GetStimStatusAck.decode(answer.data)
        except InputError:
            return None
        return ack.stim_status if ack.result == Result.SUCCESSFUL else None

    # ------------------------------------------------------------------ requests

    def stim_status(self, deadline_s: float) -> StimStatus:
        """The active level (Get_stim_status); raises as ``request`` does."""
        answer = self.probe(deadline_s)
        status = self.state_of(answer)
        if status is None:
            raise DeviceError(
                f"the device answered Get_stim_status with {command_name(answer.command)} "
                f"{answer.data.hex(' ')}"
            )
        return status

    def _device_packet(self, frame: DecodedFrame) -> None:
        """The P24 starts no packet of its own: anything else is logged and ignored."""
        self._events.emit("info", f"ignored {command_name(frame.command)} from the device")

    def _keep_alive(self) -> None:
        self._idle_probe()


_ERROR_ANSWERS = frozenset({Command.GENERAL_ERROR, Command.UNKNOWN_CMD})


def result_of(answer: DecodedFrame) -> Result:
    """The result byte that starts every P24 answer."""
    try:
        return ResultAck.decode(answer.data).result
    except InputError as error:
        raise DeviceError(f"unreadable {command_name(answer.command)}: {error.message}") from None
