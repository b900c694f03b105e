"""A serial line with one reader thread: pyserial, the settings a device's protocol asks for.

Real stimulators are USB-serial ports (an FTDI chip for the RehaStim 2, a USB CDC virtual port for
the RehaMove P24); an emulator's pty path works the same way. This module moves bytes and nothing
else: framing, numbering and timeouts belong to :mod:`~stimwise.device.framed_link`. The reader
blocks in pyserial's ``read`` with a short timeout (it sleeps in ``select``, it never spins) and
hands every chunk to a callback. End of file or a read or write error means the cable was pulled
or the device switched off: the transport reports the loss once and stops reading.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

import serial

from stimwise.device.interface import DeviceError

READ_TIMEOUT_S = 0.05
"""How long one ``read`` may sleep: bounds how late the reader notices a ``close``."""
WRITE_TIMEOUT_S = 0.5
"""A write that cannot complete in this time fails. Frames take milliseconds at most; pyserial
counts the whole call, so a thread descheduled mid-write on a loaded machine must not turn a
completed write into a failure (a silent device is found by the link's answer timeouts)."""

try:  # pyserial lets termios.error out of a refused tcsetattr; Windows has no termios
    import termios

    _TERMIOS_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # pragma: no cover - not POSIX
    _TERMIOS_ERRORS = ()


@dataclass(frozen=True)
class SerialSettings:
    """The line settings a device's protocol specifies.

    Attributes
    ----------
    baud_rate, parity, stop_bits, rtscts
        As pyserial takes them (``serial.PARITY_EVEN``, ``serial.STOPBITS_TWO`` ...).
    low_latency
        Ask for ``ASYNC_LOW_LATENCY`` (the FTDI driver maps it to its 1 ms latency timer).
    """

    baud_rate: int
    parity: str = serial.PARITY_NONE
    stop_bits: float = serial.STOPBITS_ONE
    rtscts: bool = False
    low_latency: bool = False


class SerialTransport:
    """One serial port with a reader thread.

    Parameters
    ----------
    port
        Serial device or pty path (``/dev/ttyUSB0``, ``/dev/ttyACM0``, ``/dev/pts/7``).
    settings
        See :class:`SerialSettings`.
    name
        The device's name, for error messages and the reader thread's name.
    on_bytes
        Called from the reader thread with every chunk received; keep it short.
    on_lost
        Called once, from the reader thread, when reading fails (end of file, I/O error); not
        called for :meth:`close`. A failed :meth:`write` raises instead: the caller decides.
    """

    def __init__(
        self,
        port: str,
        settings: SerialSettings,
        *,
        name: str,
        on_bytes: Callable[[bytes], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self.port = port
        self.settings = settings
        self.name = name
        self._on_bytes = on_bytes
        self._on_lost = on_lost
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.low_latency = False
        """Whether the low-latency request was accepted (see :class:`SerialSettings`)."""
        self.parity_applied = True
        """Whether the port runs the settings' parity (see :meth:`open`)."""

    @property
    def notes(self) -> list[str]:
        """What the port could not do as the protocol asks (for an ``info`` event)."""
        notes = []
        if self.settings.low_latency and not self.low_latency:
            notes.append(
                f"{self.port} did not accept the low-latency request; on a real FTDI port set "
                "its latency timer to 1 ms to keep answers fast"
            )
        if not self.parity_applied:
            notes.append(
                f"{self.port} refused parity {self.settings.parity} (a pty cannot carry it): "
                "opened without parity"
            )
        return notes

    def open(self) -> None:
        """Open the port and start reading; ``DeviceError`` if it cannot be opened.

        pyserial discards input that arrived before the open. A Linux pty cannot carry parity
        and, once opened before, refuses it: the port is then opened without parity and
        :attr:`parity_applied` says so (a wrong parity on a real line would fail every
        checksum).
        """
        try:
            self._serial = self._open_serial(self.settings.parity)
        except _TERMIOS_ERRORS:
            self._serial = self._open_serial(serial.PARITY_NONE)
            self.parity_applied = False
        if self.settings.low_latency:
            try:
                self._serial.set_low_latency_mode(True)
                self.low_latency = True
            except (ValueError, OSError, AttributeError):
                self.low_latency = False
        self._thread = threading.Thread(
            target=self._read_loop, name=f"{self.name} reader {self.port}", daemon=True
        )
        self._thread.start()

    def _open_serial(self, parity: str) -> serial.Serial:
        settings = self.settings
        try:
            return serial.Serial(
                self.port,
                settings.baud_rate,
                bytesize=serial.EIGHTBITS,
                parity=parity,
                stopbits=settings.stop_bits,
                rtscts=settings.rtscts,
                timeout=READ_TIMEOUT_S,
                write_timeout=WRITE_TIMEOUT_S,
            )
        except (serial.SerialException, OSError, ValueError) as error:
            raise DeviceError(f"cannot open the {self.name} port {self.port!r}: {error}") from None

    def write(self, frame: bytes) -> None:
        """Write one frame with a single call (some receivers stop reading at a chunk that ends a
        frame); ``DeviceError`` when the port is closed or the write fails."""
        port = self._serial
        if port is None or self._closing.is_set():
            raise DeviceError(f"the port {self.port!r} is closed")
        try:
            port.write(frame)
        except (serial.SerialException, OSError) as error:
            raise DeviceError(f"writing to {self.port!r} failed: {error}") from None

    def close(self) -> None:
        """Stop the reader and close the port; idempotent, never raises."""
        self._closing.set()
        port = self._serial
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError, AttributeError):
                port.cancel_read()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _read_loop(self) -> None:
        port = self._serial
        assert port is not None  # started by open()
        while not self._closing.is_set():
            try:
                chunk = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError) as error:
                # TypeError: pyserial's fd was cleared by a close racing this read
                if not self._closing.is_set():
                    self._on_lost(f"reading from {self.port!r} failed: {error}")
                return
            if chunk:
                self._on_bytes(chunk)
