"""A RehaMove P24 (ScienceMode4) emulator on a pseudo-terminal, for tests and demos without
hardware.

Built on the shared :class:`~stimwise.device.pty_emulator.PtyEmulator` (the pty, the event loop,
answer latency and jitter, lost, corrupted and late frames, hang, unplug, the pulse-log file).
What is the P24's: the device logic in :mod:`~stimwise.device.sciencemode4.firmware` (levels,
validation, the 2 s keep-alive rule), the virtual output in
:mod:`~stimwise.device.sciencemode4.pulses`, and its own faults (an electrode error on a channel,
a device reset).

The real P24 is a USB CDC port (STM32 virtual COM port, 3 000 000 baud, 8N2, RTS/CTS); any
client opens ``emulator.port`` the same way, stimwise's driver or the independent
``science-mode-4`` package.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from stimwise.device.frames import DecodedFrame, FrameDecoder, FrameError
from stimwise.device.pty_emulator import EmulatorEvent, Outgoing, PtyEmulator, PtyEmulatorConfig
from stimwise.device.sciencemode4.codec import FrameDecoder as Sm4FrameDecoder
from stimwise.device.sciencemode4.codec import command_name
from stimwise.device.sciencemode4.firmware import Firmware, Identity
from stimwise.device.sciencemode4.payloads import CHANNELS, ChannelState, StimStatus
from stimwise.device.sciencemode4.pulses import PulseTimeline
from stimwise.errors import FieldProblem, InputError

__all__ = ["EmulatorEvent", "P24Emulator", "P24EmulatorConfig"]


@dataclass(frozen=True)
class P24EmulatorConfig(PtyEmulatorConfig):
    """How the emulated P24 behaves.

    Attributes
    ----------
    keepalive_timeout_ms
        A running mid-level stimulation stops when neither Ml_update nor Ml_get_current_data
        arrives for this long (instructions for use: 2 s).
    device_id
        What Get_device_id answers (10 ASCII characters).

    The link's own settings (``ack_latency_ms``, ``ack_jitter_ms``, ``pulse_log_path``,
    ``seed``) are :class:`~stimwise.device.pty_emulator.PtyEmulatorConfig`'s.
    """

    keepalive_timeout_ms: float = 2000.0
    device_id: str = Identity.device_id

    def problems(self) -> list[FieldProblem]:
        found = []
        if not self.keepalive_timeout_ms > 0:
            found.append(FieldProblem("keepalive_timeout_ms", self.keepalive_timeout_ms, "> 0"))
        if not (len(self.device_id) == 10 and self.device_id.isascii()):
            found.append(FieldProblem("device_id", self.device_id, "10 ASCII characters"))
        return found + super().problems()


class P24Emulator(PtyEmulator):
    """An emulated RehaMove P24 on a pty. Use as a context manager, or ``start()`` and
    ``close()``.

    Parameters
    ----------
    config
        Behaviour; see :class:`P24EmulatorConfig`.
    link_path, on_event
        See :class:`~stimwise.device.pty_emulator.PtyEmulator`.
    """

    thread_name: ClassVar[str] = "p24-emulator"
    expected_baud: ClassVar[int] = 3_000_000
    checksum_index: ClassVar[int] = 6
    """The checksum's high byte, after its 81 escape."""

    def __init__(
        self,
        config: P24EmulatorConfig | None = None,
        *,
        link_path: Path | None = None,
        on_event: Callable[[EmulatorEvent], None] | None = None,
    ) -> None:
        self.config = config or P24EmulatorConfig()
        super().__init__(self.config, link_path=link_path, on_event=on_event)
        self._firmware = Firmware(
            record=self._record,
            keepalive_timeout_s=self.config.keepalive_timeout_ms / 1000,
            identity=Identity(device_id=self.config.device_id),
        )

    # ------------------------------------------------------------------ observation

    @property
    def stim_status(self) -> StimStatus:
        """The active level (what Get_stim_status answers)."""
        with self._lock:
            return self._firmware.status

    @property
    def channel_states(self) -> tuple[ChannelState, ...]:
        with self._lock:
            return tuple(self._firmware.states)

    @property
    def timeline(self) -> PulseTimeline:
        return self._firmware.timeline

    # ------------------------------------------------------------------ fault injection

    def inject_electrode_error(self, channel: int) -> None:
        """Electrode error on ``channel`` (1–8): its output stops (all outputs when Ml_init
        asked to stop on all errors) and Ml_get_current_data reports it."""
        if not 1 <= channel <= CHANNELS:
            raise InputError(FieldProblem("channel", channel, "a channel number from 1 to 8"))
        with self._lock:
            self._firmware.electrode_error(channel, time.monotonic())
        self._wake()

    def inject_reset(self) -> None:
        """The device restarts (a brown-out, a USB glitch): every output stops and no level is
        active; a host notices only when it next asks."""
        with self._lock:
            self._record(time.monotonic(), "fault", "device reset")
            self._firmware.reset(time.monotonic())
        self._wake()

    def close_pty(self) -> None:
        """Unplug the USB cable: the P24 is powered by it, so its output stops at once; the host
        reads end-of-file (see :meth:`PtyEmulator.close_pty`)."""
        with self._lock:
            self._firmware.timeline.stop(time.monotonic())
        super().close_pty()

    # ------------------------------------------------------------------ the device

    def _new_decoder(self) -> FrameDecoder:
        return Sm4FrameDecoder()

    def _command_name(self, command: int) -> str:
        return command_name(command)

    def _receive(self, item: DecodedFrame | FrameError, now_s: float) -> list[Outgoing]:
        return list(self._firmware.receive(item, now_s))

    def _thawed(self, now_s: float) -> None:
        self._firmware.restart_keepalive(now_s)

    def _timers(self, now_s: float) -> list[float]:
        """The mid-level keep-alive rule."""
        firmware = self._firmware
        deadline = firmware.keepalive_deadline_s()
        if deadline is not None and deadline <= now_s:
            firmware.keepalive_expired(now_s)
            deadline = firmware.keepalive_deadline_s()
        return [] if deadline is None else [deadline]
