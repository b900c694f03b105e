"""The smallest possible host for the emulator tests: a protocol's codec over the pty slave, with
timeouts everywhere (``RawClient``), and a subprocess runner with a hard timeout for clients that
have none of their own (``ClientProcess``)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from stimwise.device.frames import DecodedFrame, FrameDecoder, FrameError


class RawClient:
    """Send frames and wait for answers over a pty, with a protocol's codec.

    Parameters
    ----------
    encode
        ``encode(packet_number, command, data) -> bytes``.
    decoder
        A fresh streaming decoder of the protocol.
    ack_of
        Request command → its answer's command.
    packet_modulo
        Packet numbers wrap at this value.
    """

    def __init__(
        self,
        port: str,
        *,
        encode: Callable[[int, int, bytes], bytes],
        decoder: FrameDecoder,
        ack_of: Mapping[int, int],
        packet_modulo: int,
    ) -> None:
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.encode = encode
        self.decoder = decoder
        self.ack_of = ack_of
        self.packet_modulo = packet_modulo
        self.inbox: list[DecodedFrame | FrameError] = []
        self.packet_number = 0

    def close(self) -> None:
        os.close(self.fd)

    def send(self, command: int, data: bytes = b"") -> int:
        number = self.packet_number
        self.packet_number = (number + 1) % self.packet_modulo
        os.write(self.fd, self.encode(number, command, data))
        return number

    def receive(self, timeout_s: float = 1.0) -> DecodedFrame | FrameError | None:
        deadline = time.monotonic() + timeout_s
        while not self.inbox:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            self.inbox += self.decoder.feed(os.read(self.fd, 4096))
        return self.inbox.pop(0)

    def wait_for(self, command: int, timeout_s: float = 1.0) -> DecodedFrame:
        deadline = time.monotonic() + timeout_s
        while (item := self.receive(deadline - time.monotonic())) is not None:
            if isinstance(item, DecodedFrame) and item.command == command:
                return item
        raise AssertionError(f"no {command!r} within {timeout_s} s")

    def request(self, command: int, data: bytes = b"", timeout_s: float = 1.0) -> DecodedFrame:
        number = self.send(command, data)
        ack = self.wait_for(self.ack_of[command], timeout_s)
        assert ack.packet_number == number
        return ack


class ClientProcess:
    """A client script in a subprocess, killed if it outlives its hard timeout; its last stdout
    line is ``RESULT <json>``."""

    def __init__(self, script: Path, *args: str, timeout_s: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.deadline = time.monotonic() + timeout_s
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.put(line)
        self.lines.put("")

    def wait_line(self, prefix: str) -> str:
        while True:
            line = self.lines.get(timeout=max(0.0, self.deadline - time.monotonic()))
            if line.startswith(prefix) or not line:
                return line

    def result(self) -> dict:
        try:
            line = self.wait_line("RESULT ")
            self.process.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        finally:
            self.process.kill()
            _, stderr = self.process.communicate()
        assert line, f"the client ended without a result: {stderr[-2000:]}"
        return json.loads(line.removeprefix("RESULT "))


@contextlib.contextmanager
def emulator_cli(run: Callable[..., None], link: Path, **options: object) -> Iterator[io.StringIO]:
    """Run an ``emulate`` command function in a thread until the block ends; yield its output
    once the link to its port exists."""
    out = io.StringIO()
    stop = threading.Event()
    runner = threading.Thread(target=run, kwargs={"link": link, "out": out, "stop": stop} | options)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while not link.is_symlink() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield out
    finally:
        stop.set()
        runner.join(timeout=5)
    assert not link.exists()  # removed on the way out


def first_line_then_sigterm(
    command: list[str], link: Path, meanwhile: Callable[[], None] | None = None
) -> str:
    """Start an emulator command, return its first output line, run ``meanwhile`` (if given),
    end the command with SIGTERM and check that it exits 0 and removes its link."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()  # type: ignore[union-attr]
        assert link.is_symlink()
        if meanwhile is not None:
            meanwhile()
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()
    assert not link.exists()
    return first_line
