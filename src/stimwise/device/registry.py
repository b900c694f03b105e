"""The one place that turns a device spec (``sim``, ``rehastim2:PORT``, ``p24:PORT``) into a
:class:`~stimwise.device.interface.Stimulator`.

The command line (``session run --device``, ``serve --device``), the web console and Python code
all open devices here, so that no layer above ``device/`` names a driver module. A driver
registers a :class:`DriverEntry`: its scheme, a one-line description, whether it needs a port, and
where its class and its :class:`~stimwise.device.interface.Capabilities` live. Both are given as
``"module:attribute"`` and imported only when used, so listing the drivers or checking a spec
opens nothing and loads no serial library.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import cast

from stimwise.arguments import check_type
from stimwise.device.interface import Capabilities, Stimulator
from stimwise.errors import FieldProblem, InputError
from stimwise.extras import require_extra

__all__ = [
    "DriverEntry",
    "drivers",
    "open_device",
    "register",
    "resolve",
]


@dataclass(frozen=True)
class DriverEntry:
    """One registered driver.

    Attributes
    ----------
    scheme
        What a spec starts with: ``sim``, or ``rehastim2`` in ``rehastim2:/dev/ttyUSB0``.
    description
        One line for ``stimwise devices list``.
    needs_port
        ``True`` when the spec must name a port (``SCHEME:PORT``), ``False`` when it is the
        bare scheme.
    driver
        ``"module:Class"``; the class is called with the port (or with nothing).
    capabilities
        ``"module:NAME"`` of the driver's :class:`Capabilities`.
    extra
        The optional dependencies the driver needs (``"devices"``: pyserial), checked when a
        spec names it, so that a missing one stops a command before anything starts.

    Examples
    --------
    >>> from stimwise.device.registry import drivers
    >>> sim = drivers()[0]
    >>> sim.scheme, sim.usage, sim.needs_port
    ('sim', 'sim', False)
    >>> sim.load_capabilities().channels > 0
    True
    """

    scheme: str
    description: str
    needs_port: bool
    driver: str
    capabilities: str
    extra: str | None = None

    @property
    def usage(self) -> str:
        """How a spec for this driver is written (``p24:PORT``)."""
        return f"{self.scheme}:PORT" if self.needs_port else self.scheme

    def load_capabilities(self) -> Capabilities:
        return cast(Capabilities, _load(self.capabilities))

    def open(self, port: str = "") -> Stimulator:
        """A new, unconnected driver instance (nothing is opened until ``connect``)."""
        if self.extra is not None:
            require_extra(self.extra, f"the {self.scheme} driver")
        factory = _load(self.driver)
        return cast(Stimulator, factory(port) if self.needs_port else factory())


_DRIVERS: dict[str, DriverEntry] = {}
_NOT_STIMULATORS = {
    "i24": "the Hasomed I24 measures EMG and bioimpedance over ScienceMode4; it has no "
    "stimulation commands (use p24:PORT for the P24 stimulator)",
}
"""Schemes people may try that name a device stimwise cannot stimulate with, and why."""


def register(entry: DriverEntry) -> None:
    """Add ``entry``; a scheme may be registered once."""
    if entry.scheme in _DRIVERS:
        raise ValueError(f"the device scheme {entry.scheme!r} is registered already")
    _DRIVERS[entry.scheme] = entry


def drivers() -> tuple[DriverEntry, ...]:
    """Every registered driver, in registration order.

    Examples
    --------
    >>> from stimwise.device import drivers
    >>> [entry.usage for entry in drivers()]
    ['sim', 'rehastim2:PORT', 'p24:PORT']
    """
    return tuple(_DRIVERS.values())


def resolve(spec: str, field: str = "--device") -> tuple[DriverEntry, str]:
    """The driver and port a spec names, without opening anything.

    Raises
    ------
    InputError
        ``field`` names the option the spec came from; the message lists every known spec.
    """
    scheme, colon, port = spec.partition(":")
    entry = _DRIVERS.get(scheme)
    if entry is not None and (port.strip() if entry.needs_port else not colon):
        if entry.extra is not None:
            require_extra(entry.extra, f"the {entry.scheme} driver")
        return entry, port
    known = ", ".join(repr(e.usage) for e in _DRIVERS.values())
    why = _NOT_STIMULATORS.get(scheme)
    if why is not None:
        expected = f"a stimulator ({why}); one of {known}"
    elif entry is not None:
        expected = f"{entry.usage!r} ({entry.description}); known devices: {known}"
    else:
        expected = f"one of {known}"
    raise InputError(FieldProblem(field, spec, expected))


def open_device(spec: str, field: str = "--device") -> Stimulator:
    """A new driver for ``spec`` (``sim``, ``rehastim2:PORT``, ``p24:PORT``); nothing is opened
    until its ``connect``. ``InputError`` (exit code 2) names every known spec otherwise.

    Examples
    --------
    >>> import stimwise as sw
    >>> device = sw.open_device("sim")  # nothing is opened until device.connect()
    >>> device.capabilities.channels
    8
    >>> sw.open_device("rehastim3:/dev/ttyUSB0")
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): --device: got 'rehastim3:/dev/ttyUSB0';
    expected one of 'sim', 'rehastim2:PORT', 'p24:PORT'
    """
    check_type(spec, str, function="open_device", name="spec",
               hint="a device spec such as 'sim' or 'p24:/dev/ttyUSB0'")
    entry, port = resolve(spec, field)
    return entry.open(port)


def _load(target: str) -> object:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


register(
    DriverEntry(
        scheme="sim",
        description="the default: an electrode-skin load, a pulse log and fault injection",
        needs_port=False,
        driver="stimwise.device.simulated:SimulatedStimulator",
        capabilities="stimwise.device.simulated:DEFAULT_CAPABILITIES",
    )
)
register(
    DriverEntry(
        scheme="rehastim2",
        description="Hasomed RehaStim 2 over ScienceMode2: its serial port, or the pty of "
        "`stimwise emulate rehastim2`",
        needs_port=True,
        driver="stimwise.device.sciencemode2.driver:RehaStim2",
        capabilities="stimwise.device.sciencemode2.mapping:CAPABILITIES",
        extra="devices",
    )
)
register(
    DriverEntry(
        scheme="p24",
        description="Hasomed RehaMove P24 over ScienceMode4: its USB serial port, or the pty of "
        "`stimwise emulate p24`",
        needs_port=True,
        driver="stimwise.device.sciencemode4.driver:RehaMoveP24",
        capabilities="stimwise.device.sciencemode4.mapping:CAPABILITIES",
        extra="devices",
    )
)
