"""Profiles of commercial TENS/EMS/microcurrent units that stimwise does not control.

A profile is data with sources (``data/*.yaml``), validated by :class:`DeviceProfile`: what the
unit offers (programmes, adjustable parameters, intensity scale, channels, maximum output,
electrodes) and where each fact comes from, with the confidence marks of ``shared/reference``.
What no source states is marked unknown, never guessed. The profiles serve two jobs: translating a
prescription into the person's device's terms (:mod:`stimwise.device.profiles.translate`) and
checking a session the person logs themself (:mod:`stimwise.records.self_logged`).
"""

from stimwise.device.profiles.loader import get_profile, profile_ids, profiles
from stimwise.device.profiles.models import DeviceProfile

__all__ = ["DeviceProfile", "get_profile", "profile_ids", "profiles"]
