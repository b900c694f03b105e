"""A RehaStim 2 (ScienceMode2) emulator on a pseudo-terminal, for tests and demos without hardware.

Built on the shared :class:`~stimwise.device.pty_emulator.PtyEmulator` (the pty, the event loop,
answer latency, link faults, the pulse-log file). What is the RehaStim 2's: the device logic in
:mod:`~stimwise.device.sciencemode2.firmware` (Init until a host answers, modes, validation,
watchdog), the virtual output in :mod:`~stimwise.device.sciencemode2.pulses`, and its own faults
(StimulationError −1, −2, −3).

With ``watchdog_policy="enforce"`` a reset is silent to pyScienceMode: it never notices the Init
that follows and keeps sending commands, which are then ignored. Use ``warn`` for pSM sessions
(its keep-alive gaps reach about 1.6 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from stimwise.device.frames import DecodedFrame, FrameDecoder, FrameError
from stimwise.device.pty_emulator import (
    EmulatorEvent,
    Outgoing,
    PtyEmulator,
    PtyEmulatorConfig,
)
from stimwise.device.sciencemode2.codec import FrameDecoder as Sm2FrameDecoder
from stimwise.device.sciencemode2.codec import command_name
from stimwise.device.sciencemode2.firmware import Firmware, Policy, WatchdogPolicy
from stimwise.device.sciencemode2.payloads import StimulationErrorCode, StimulationMode
from stimwise.device.sciencemode2.pulses import PulseTimeline
from stimwise.errors import FieldProblem, InputError

__all__ = ["EmulatorConfig", "EmulatorEvent", "Policy", "RehaStim2Emulator", "WatchdogPolicy"]


@dataclass(frozen=True)
class EmulatorConfig(PtyEmulatorConfig):
    """How the emulated RehaStim 2 behaves; defaults follow the spec except where noted.

    Attributes
    ----------
    policy
        ``lenient`` (default) clamps out-of-range parameters and records a warning; ``strict``
        answers them with −2 as the firmware would.
    watchdog_timeout_ms, watchdog_policy
        No valid packet for this long → ``enforce``: stop, reset modes, send Init again;
        ``warn``: only record it (needed for pyScienceMode, whose gaps reach 1.6 s).
    init_interval_ms
        Init repetition time until the host answers InitAck 0.
    busy_when_pending
        Answer −8 to a command that arrives while an earlier Ack is still unsent.
    protocol_version
        What Init announces.

    The link's own settings (``ack_latency_ms``, ``ack_jitter_ms``, ``pulse_log_path``,
    ``seed``) are :class:`~stimwise.device.pty_emulator.PtyEmulatorConfig`'s.
    """

    policy: Policy = "lenient"
    watchdog_timeout_ms: float = 1200.0
    watchdog_policy: WatchdogPolicy = "enforce"
    init_interval_ms: float = 500.0
    busy_when_pending: bool = False
    protocol_version: int = 1

    def problems(self) -> list[FieldProblem]:
        return [
            FieldProblem(name, value, expected)
            for name, value, expected, ok in (
                ("policy", self.policy, "strict or lenient", self.policy in ("strict", "lenient")),
                (
                    "watchdog_policy",
                    self.watchdog_policy,
                    "enforce or warn",
                    self.watchdog_policy in ("enforce", "warn"),
                ),
                (
                    "watchdog_timeout_ms",
                    self.watchdog_timeout_ms,
                    "> 0",
                    self.watchdog_timeout_ms > 0,
                ),
                ("init_interval_ms", self.init_interval_ms, "> 0", self.init_interval_ms > 0),
                (
                    "protocol_version",
                    self.protocol_version,
                    "0 to 255",
                    0 <= self.protocol_version <= 255,
                ),
            )
            if not ok
        ] + super().problems()


class RehaStim2Emulator(PtyEmulator):
    """An emulated RehaStim 2 on a pty. Use as a context manager, or ``start()`` and ``close()``.

    Parameters
    ----------
    config
        Behaviour; see :class:`EmulatorConfig`.
    link_path, on_event
        See :class:`~stimwise.device.pty_emulator.PtyEmulator`.
    """

    thread_name: ClassVar[str] = "rehastim2-emulator"
    expected_baud: ClassVar[int] = 460_800
    checksum_index: ClassVar[int] = 2
    """The CRC byte after its 81 escape."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        link_path: Path | None = None,
        on_event: Callable[[EmulatorEvent], None] | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        super().__init__(self.config, link_path=link_path, on_event=on_event)
        self._firmware = Firmware(
            record=self._record,
            policy=self.config.policy,
            watchdog_timeout_s=self.config.watchdog_timeout_ms / 1000,
            watchdog_policy=self.config.watchdog_policy,
            version=self.config.protocol_version,
        )
        self._next_init_s: float | None = None

    # ------------------------------------------------------------------ observation

    @property
    def connected(self) -> bool:
        """Whether a host has completed the handshake (and no watchdog reset followed)."""
        with self._lock:
            return self._firmware.connected

    @property
    def mode(self) -> StimulationMode:
        with self._lock:
            return self._firmware.mode

    @property
    def timeline(self) -> PulseTimeline:
        return self._firmware.timeline

    # ------------------------------------------------------------------ fault injection

    def inject_electrode_error(self, channel: int) -> None:
        """Electrode error on ``channel`` (1–8): StimulationError −2, stimulation stops."""
        if not 1 <= channel <= 8:
            raise InputError(FieldProblem("channel", channel, "a channel number from 1 to 8"))
        self._stimulation_error(
            StimulationErrorCode.ELECTRODE, f"electrode error on channel {channel}"
        )

    def inject_emergency_switch(self) -> None:
        """Emergency switch pressed: StimulationError −1, stimulation stops."""
        self._stimulation_error(StimulationErrorCode.EMERGENCY_SWITCH, "emergency switch")

    def inject_module_error(self) -> None:
        """Stimulation module error: StimulationError −3, stimulation stops."""
        self._stimulation_error(StimulationErrorCode.MODULE, "stimulation module error")

    def inject_reset(self) -> None:
        """The device resets (a power glitch): stimulation stops, the host's connection and the
        channel list are lost, and Init is sent again every ``init_interval_ms``."""
        with self._lock:
            self._firmware.reset(time.monotonic(), "reset (injected power glitch)")
        self._wake()

    def _stimulation_error(self, error: StimulationErrorCode, reason: str) -> None:
        with self._lock:
            self._send(self._firmware.stimulation_error(error, time.monotonic(), reason))
        self._wake()

    # ------------------------------------------------------------------ the device

    def _new_decoder(self) -> FrameDecoder:
        return Sm2FrameDecoder()

    def _command_name(self, command: int) -> str:
        return command_name(command)

    def _receive(self, item: DecodedFrame | FrameError, now_s: float) -> list[Outgoing]:
        busy = self.config.busy_when_pending and self._answer_pending()
        return list(self._firmware.receive(item, now_s, busy))

    def _thawed(self, now_s: float) -> None:
        self._firmware.restart_watchdog(now_s)

    def _timers(self, now_s: float) -> list[float]:
        """The watchdog, and Init every ``init_interval_ms`` until a host answers."""
        deadlines = []
        firmware = self._firmware
        deadline = firmware.watchdog_deadline_s()
        if deadline is not None and deadline <= now_s:
            firmware.watchdog_expired(now_s)
            deadline = firmware.watchdog_deadline_s()
        if deadline is not None:
            deadlines.append(deadline)
        if firmware.connected:
            self._next_init_s = None
        else:
            if self._next_init_s is None or self._next_init_s <= now_s:
                self._send(firmware.init_packet())
                self._next_init_s = now_s + self.config.init_interval_ms / 1000
            deadlines.append(self._next_init_s)
        return deadlines
