"""Loading the packaged device profiles (``device/profiles/data/*.yaml``), validated once."""

from __future__ import annotations

from functools import cache
from importlib import resources

from stimwise.device.profiles.models import DeviceProfile
from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.io import parse_document, validate_model

_DATA_PACKAGE = "stimwise.device.profiles.data"
GENERIC_PROFILE_ID = "other-device"


@cache
def profiles() -> dict[str, DeviceProfile]:
    """Every packaged profile by id."""
    found: dict[str, DeviceProfile] = {}
    for entry in sorted(resources.files(_DATA_PACKAGE).iterdir(), key=lambda p: p.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        source = f"device-profiles/{entry.name}"
        profile = validate_model(
            DeviceProfile, parse_document(entry.read_text("utf-8"), source), source
        )
        if profile.id in found:
            raise InputError(FieldProblem("id", profile.id, "a unique profile id"), source)
        found[profile.id] = profile
    return found


def profile_ids() -> list[str]:
    return sorted(profiles())


def get_profile(profile_id: str) -> DeviceProfile:
    """A packaged profile by id, or an :class:`InputError` listing the known ids."""
    known = profiles()
    if profile_id not in known:
        raise InputError(FieldProblem(
            "profile", profile_id, f"a device profile id ({', '.join(sorted(known))})"))
    return known[profile_id]
