"""The RehaStim 2's serial line: pyserial at 460800 baud 8E1 and one reader thread.

The device is an FTDI USB-serial port (fact sheet §1); a pty path from the emulator works the
same way. This module moves bytes and nothing else: framing, numbering and timeouts belong to
:mod:`~stimwise.device.sciencemode2.link`. The reader blocks in pyserial's ``read`` with a short
timeout (it sleeps in ``select``, it never spins) and hands every chunk to a callback. End of file
or a read or write error means the cable was pulled or the device switched off: the transport
reports the loss once and stops reading.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import serial

from stimwise.device.interface import DeviceError

BAUD_RATE = 460_800
READ_TIMEOUT_S = 0.05
"""How long one ``read`` may sleep: bounds how late the reader notices a ``close``."""
WRITE_TIMEOUT_S = 0.1
"""A write that cannot complete in this time fails (a frame is at most ~130 bytes, 3 ms)."""

try:  # pyserial lets termios.error out of a refused tcsetattr; Windows has no termios
    import termios

    _TERMIOS_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # pragma: no cover - not POSIX
    _TERMIOS_ERRORS = ()


class SerialTransport:
    """One serial port with a reader thread.

    Parameters
    ----------
    port
        Serial device or pty path (``/dev/ttyUSB0``, ``/dev/pts/7``).
    on_bytes
        Called from the reader thread with every chunk received; keep it short.
    on_lost
        Called once, from the reader thread, when reading fails (end of file, I/O error); not
        called for :meth:`close`. A failed :meth:`write` raises instead: the caller decides.
    """

    def __init__(
        self,
        port: str,
        *,
        on_bytes: Callable[[bytes], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self.port = port
        self._on_bytes = on_bytes
        self._on_lost = on_lost
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.low_latency = False
        """Whether the driver could ask for the 1 ms FTDI latency timer the spec recommends."""
        self.even_parity = True
        """Whether the port runs the spec's even parity (see :meth:`open`)."""

    def open(self) -> None:
        """Open the port at 460800 8E1 and start reading; ``DeviceError`` if it cannot be opened.

        pyserial discards input that arrived before the open, so the first Init the host sees is
        the device's next one (it repeats every 500 ms). A Linux pty cannot carry parity and,
        once opened before, refuses even parity: the port is then opened without it and
        :attr:`even_parity` says so (a wrong parity on a real line would fail every CRC).
        """
        try:
            self._serial = self._open_serial(serial.PARITY_EVEN)
        except _TERMIOS_ERRORS:
            self._serial = self._open_serial(serial.PARITY_NONE)
            self.even_parity = False
        try:  # the FTDI driver maps ASYNC_LOW_LATENCY to its 1 ms latency timer; a pty refuses
            self._serial.set_low_latency_mode(True)
            self.low_latency = True
        except (ValueError, OSError, AttributeError):
            self.low_latency = False
        self._thread = threading.Thread(
            target=self._read_loop, name=f"rehastim2-reader {self.port}", daemon=True
        )
        self._thread.start()

    def _open_serial(self, parity: str) -> serial.Serial:
        try:
            return serial.Serial(
                self.port,
                BAUD_RATE,
                bytesize=serial.EIGHTBITS,
                parity=parity,
                stopbits=serial.STOPBITS_ONE,
                timeout=READ_TIMEOUT_S,
                write_timeout=WRITE_TIMEOUT_S,
            )
        except (serial.SerialException, OSError, ValueError) as error:
            raise DeviceError(f"cannot open the RehaStim 2 port {self.port!r}: {error}") from None

    def write(self, frame: bytes) -> None:
        """Write one frame with a single call (pSM-style receivers stop at a chunk ending in 0F);
        ``DeviceError`` when the port is closed or the write fails."""
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
