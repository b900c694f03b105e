"""Stimulators: the device-independent interface, the one registry that opens a device from its
spec (:mod:`.registry`), the simulated stimulator, real drivers (ScienceMode2, ScienceMode4) and
their codecs and emulators.

Layers above ``device/`` use only :mod:`.interface` and :mod:`.registry` (and, for
``stimwise emulate``, the emulator modules)."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Capabilities": ".interface",
        "DeviceError": ".interface",
        "Stimulator": ".interface",
        "DriverEntry": ".registry",
        "drivers": ".registry",
        "open_device": ".registry",
    },
)
