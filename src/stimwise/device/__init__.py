"""Stimulators: the device-independent interface, the simulated stimulator, real drivers,
codecs and emulators."""
