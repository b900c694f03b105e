"""``stimwise devices list``: the device registry as a table or one JSON document."""

from __future__ import annotations

from dataclasses import asdict

from rich.table import Table

from stimwise.device.interface import Capabilities
from stimwise.device.registry import drivers


def devices_document() -> dict[str, object]:
    """Every registered driver with its spec and capabilities (lists sorted, units in names)."""
    return {
        "devices": [
            {
                "scheme": entry.scheme,
                "usage": entry.usage,
                "description": entry.description,
                "capabilities": _capabilities_json(entry.load_capabilities()),
            }
            for entry in drivers()
        ]
    }


def device_table() -> Table:
    table = Table(title="stimulators (give the spec to --device)")
    for column in ("spec", "device", "can deliver"):
        table.add_column(column, overflow="fold")
    for entry in drivers():
        caps = entry.load_capabilities()
        (i_low, i_high), (w_low, w_high) = caps.current_range_ma, caps.pulse_width_range_us
        f_low, f_high = caps.frequency_range_hz
        shapes = ", ".join(sorted(k.replace("_", " ") for k in caps.pulse_kinds))
        lines = (
            f"{caps.channels} channels",
            f"{i_low:g}–{i_high:g} mA in {caps.current_step_ma:g} mA steps",
            f"phases {w_low:g}–{w_high:g} µs",
            f"{f_low:.3g}–{f_high:.4g} Hz, timed by the {caps.timing}",
            shapes + (", carriers" if caps.carriers else ""),
        )
        table.add_row(entry.usage, f"{caps.name}\n[dim]{entry.description}[/]", "\n".join(lines))
    return table


def _capabilities_json(caps: Capabilities) -> dict[str, object]:
    document = asdict(caps)
    document["pulse_kinds"] = sorted(caps.pulse_kinds)
    return document
