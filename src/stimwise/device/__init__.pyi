"""Type stub of :mod:`stimwise.device`'s lazy names (see ``__init__.py``)."""

from stimwise.device.interface import Capabilities, DeviceError, Stimulator
from stimwise.device.registry import DriverEntry, drivers, open_device

__all__ = [
    "Capabilities",
    "DeviceError",
    "DriverEntry",
    "Stimulator",
    "drivers",
    "open_device",
]
