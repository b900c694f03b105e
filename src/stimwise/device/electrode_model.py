"""The electrode–skin load of one channel: R_s + R_p‖C_p per electrode, scaled by contact area.

Model
-----
Each electrode is a series resistance R_s (gel, electrode and the tissue's share) in series with
the stratum corneum's parallel R_p‖C_p. The constants are specific (per cm²): R = r/A and C = c·A,
so the time constant τ = r_p·c_p is the same for every electrode whatever its area. A channel is
its active electrode in series with its return electrodes in parallel; because every electrode
shares τ, the return group behaves as one electrode of their summed area and the whole channel is
a single R_s + R_p‖C_p with the area factor k = 1/A_active + 1/ΣA_return (1/cm²).

For a rectangular constant-current phase of amplitude I and width w that starts with C_p
discharged, the voltage across the channel at the end of the phase is

    V = I·k·(r_s + r_p·(1 − e^(−w/τ))).

C_p starts discharged when the pulse is charge-balanced or the pulse period is several τ; a
monophasic train at a high rate would charge it further, which this model leaves out.

Peeling shrinks an electrode's effective area to ``contact_fraction`` × its area: the impedance
rises and the same current crowds onto the remaining contact, so the current density rises
(HAZ-024). A return electrode that lifts loses its share to the other returns; an active
electrode (or every return) at zero contact opens the circuit.

The specific constants are stimwise choices (confidence U), picked so that one 25 cm² pad
(2.2 kΩ at low frequency) and a channel of two (4.4 kΩ) both sit inside the 1,000–7,800 Ω that
Nolan 1991 measured across 25 commercial TENS electrodes (clinical-facts.md §3.4, [C]). Smaller
pads read higher: two 4 cm² pads give 27.5 kΩ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from stimwise.device.interface import ElectrodeState
from stimwise.protocol.models import Channel

NOLAN_1991_IMPEDANCE_RANGE_OHM = (1_000.0, 7_800.0)
"""Electrode–skin impedance across 25 commercial TENS electrodes (Nolan 1991 [C])."""

Phase = tuple[float, float]
"""One rectangular phase of a pulse: (fraction of the channel amplitude, width in µs)."""


@dataclass(frozen=True)
class SkinConstants:
    """Specific electrode–skin constants per cm² of contact (stimwise choices, confidence U).

    Defaults: r_s = 5 kΩ·cm² (200 Ω for a 25 cm² pad), r_p = 50 kΩ·cm² (2 kΩ), c_p = 0.04 µF/cm²
    (1 µF), so τ = 2 ms and two 25 cm² pads in series present 4.4 kΩ at low frequency.
    """

    series_ohm_cm2: float = 5_000.0
    parallel_ohm_cm2: float = 50_000.0
    capacitance_uf_per_cm2: float = 0.04

    @property
    def time_constant_s(self) -> float:
        return self.parallel_ohm_cm2 * self.capacitance_uf_per_cm2 * 1e-6


DEFAULT_SKIN = SkinConstants()


@dataclass(frozen=True)
class ElectrodeContact:
    """One electrode as the simulator sees it; densities are ``None`` without contact."""

    site: str
    area_cm2: float
    contact_fraction: float
    effective_area_cm2: float
    peak_density_ma_per_cm2: float | None
    rms_density_ma_per_cm2: float | None


@dataclass(frozen=True)
class ChannelContact:
    """A channel's load and output: impedances, voltage and the density under each electrode."""

    channel: str
    state: ElectrodeState
    impedance_ohm: float | None
    """Low-frequency resistance (as in ``status()``); ``None`` when the circuit is open."""
    phase_impedance_ohm: float | None
    """V/I at the end of the leading phase: what the output drives during a pulse."""
    requested_ma: float
    delivered_ma: float
    electrode_voltage_v: float
    """Highest end-of-phase voltage at the delivered amplitude."""
    electrodes: tuple[ElectrodeContact, ...]

    @property
    def summary(self) -> str:
        """Impedance and the highest peak density, for event messages."""
        if self.impedance_ohm is None:
            return "impedance open, no current path"
        peak = max(e.peak_density_ma_per_cm2 or 0.0 for e in self.electrodes)
        return f"impedance {self.impedance_ohm:.0f} Ω, peak {peak:.2f} mA/cm²"


@dataclass(frozen=True)
class ChannelLoad:
    """The electrodes of one channel (the first is the active one) and how much of each touches
    the skin."""

    sites: tuple[str, ...]
    areas_cm2: tuple[float, ...]
    contact_fractions: tuple[float, ...]
    skin: SkinConstants

    @classmethod
    def of(cls, channel: Channel, skin: SkinConstants) -> ChannelLoad:
        """The channel's electrodes in full contact."""
        sites = tuple(e.site for e in channel.electrodes)
        areas = tuple(e.area_cm2 for e in channel.electrodes)
        return cls(sites, areas, (1.0,) * len(areas), skin)

    def with_contact(self, electrodes: Sequence[int], fraction: float) -> ChannelLoad:
        """The same load with ``electrodes`` (indices) at ``fraction`` of their area."""
        fractions = list(self.contact_fractions)
        for index in electrodes:
            fractions[index] = fraction
        return replace(self, contact_fractions=tuple(fractions))

    @property
    def effective_areas_cm2(self) -> tuple[float, ...]:
        return tuple(a * f for a, f in zip(self.areas_cm2, self.contact_fractions, strict=True))

    @property
    def is_open(self) -> bool:
        """No current path: the active electrode or every return electrode has lost contact."""
        areas = self.effective_areas_cm2
        return areas[0] <= 0 or sum(areas[1:]) <= 0

    @property
    def state(self) -> ElectrodeState:
        if self.is_open or min(self.contact_fractions) <= 0:
            return "lead_off"
        return "ok" if min(self.contact_fractions) >= 1 else "partial"

    @property
    def area_factor_per_cm2(self) -> float:
        """k = 1/A_active + 1/ΣA_return; infinite when the circuit is open."""
        if self.is_open:
            return math.inf
        areas = self.effective_areas_cm2
        return 1 / areas[0] + 1 / sum(areas[1:])

    @property
    def resistance_ohm(self) -> float:
        """Low-frequency resistance k·(r_s + r_p): what a slow impedance check reads."""
        return self.area_factor_per_cm2 * (self.skin.series_ohm_cm2 + self.skin.parallel_ohm_cm2)

    def phase_impedance_ohm(self, width_us: float) -> float:
        """V/I at the end of a rectangular phase of ``width_us`` starting from C_p discharged."""
        charged = 1 - math.exp(-width_us * 1e-6 / self.skin.time_constant_s)
        return self.area_factor_per_cm2 * (
            self.skin.series_ohm_cm2 + self.skin.parallel_ohm_cm2 * charged
        )

    def peak_voltage_v(self, current_ma: float, phases: Sequence[Phase]) -> float:
        """Highest end-of-phase voltage over the pulse's phases at channel amplitude
        ``current_ma``."""
        return max(
            current_ma * fraction * self.phase_impedance_ohm(width) * 1e-3
            for fraction, width in phases
        )

    def deliverable_ma(
        self, requested_ma: float, phases: Sequence[Phase], compliance_v: float | None
    ) -> float:
        """The amplitude a constant-current output delivers before it runs out of voltage.

        The voltage is linear in the current, so the delivered amplitude is the requested one
        scaled down until the highest end-of-phase voltage equals the compliance voltage (a
        stimwise simplification: a real output sags within the phase instead). An open circuit
        delivers nothing.
        """
        if self.is_open:
            return 0.0
        if compliance_v is None or requested_ma <= 0:
            return requested_ma
        needed_v = self.peak_voltage_v(requested_ma, phases)
        return requested_ma if needed_v <= compliance_v else requested_ma * compliance_v / needed_v

    def current_densities_ma_per_cm2(self, current_ma: float) -> tuple[float | None, ...]:
        """Current density under each electrode (``None`` where it has no contact).

        The active electrode carries the whole current; the returns share it in proportion to
        their effective areas, so each return carries current / ΣA_return per cm².
        """
        areas = self.effective_areas_cm2
        returns_cm2 = sum(areas[1:])
        per_area = [areas[0], *([returns_cm2] * (len(areas) - 1))]
        return tuple(
            current_ma / shared if own > 0 and shared > 0 else None
            for own, shared in zip(areas, per_area, strict=True)
        )

    def highest_density_ma_per_cm2(self, current_ma: float) -> float:
        """The density on the most crowded contact (0 when no electrode has contact)."""
        densities = self.current_densities_ma_per_cm2(current_ma)
        return max((d for d in densities if d is not None), default=0.0)

    def contact(
        self,
        label: str,
        phases: Sequence[Phase],
        requested_ma: float,
        delivered_ma: float,
        rms_per_peak: float,
    ) -> ChannelContact:
        """The load with ``delivered_ma`` flowing; ``rms_per_peak`` turns the peak amplitude into
        the r.m.s. current of the waveform (for the r.m.s. densities)."""
        peak = self.current_densities_ma_per_cm2(delivered_ma)
        rms = self.current_densities_ma_per_cm2(delivered_ma * rms_per_peak)
        electrodes = tuple(
            ElectrodeContact(*fields)
            for fields in zip(
                self.sites,
                self.areas_cm2,
                self.contact_fractions,
                self.effective_areas_cm2,
                peak,
                rms,
                strict=True,
            )
        )
        closed = not self.is_open
        return ChannelContact(
            channel=label,
            state=self.state,
            impedance_ohm=self.resistance_ohm if closed else None,
            phase_impedance_ohm=self.phase_impedance_ohm(phases[0][1]) if closed else None,
            requested_ma=requested_ma,
            delivered_ma=delivered_ma,
            electrode_voltage_v=self.peak_voltage_v(delivered_ma, phases) if closed else 0.0,
            electrodes=electrodes,
        )
