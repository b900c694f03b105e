"""Safety rules: each turns a prescription and its exact metrics into findings.

A rule never decides the verdict itself; it reports what it measured, the limit, the rule id and
the source, and :mod:`stimwise.safety.verify` combines them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from stimwise.protocol.current_path import path_hazards
from stimwise.protocol.models import CarrierTrain, MonophasicPulse, PulseTrain
from stimwise.protocol.prescription import Prescription
from stimwise.protocol.site_names import site_words
from stimwise.safety.caps import LEVEL_ORDER, PatientCaps
from stimwise.safety.limits import Limit
from stimwise.safety.report import Finding
from stimwise.waveform.metrics import ChannelMetrics, PlanMetrics

ChannelRule = Callable[[ChannelMetrics, Prescription, dict[str, Limit]], Iterator[Finding]]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


# --------------------------------------------------------------------------- per channel, per load


def rms_current(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    limit = lim["IEC60601-2-10.rms-current"]
    if m.load_ohm != 500.0:
        return
    allowed = limit.band_limit(m.output_frequency_hz)
    if m.rms_current_ma > allowed:
        yield Finding.from_limit(
            limit,
            f"r.m.s. current {_fmt(m.rms_current_ma)} mA exceeds {allowed:g} mA allowed at "
            f"{_fmt(m.output_frequency_hz)} Hz into 500 Ω",
            measured=m.rms_current_ma,
            limit_value=allowed,
            channel=m.channel,
            load_ohm=m.load_ohm,
        )


def dc_current(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    iec = lim["IEC60601-2-10.dc-current"]
    dc_ma = abs(m.dc_current_ua) / 1000
    if dc_ma > iec.limit:
        yield Finding.from_limit(
            iec,
            f"d.c. component {_fmt(dc_ma)} mA exceeds {iec.limit:g} mA",
            measured=dc_ma,
            channel=m.channel,
        )
    warn = lim["dc-component"]
    if abs(m.dc_current_ua) > warn.limit:
        yield Finding.from_limit(
            warn,
            f"net d.c. current of {_fmt(m.dc_current_ua)} µA flows through the skin; plan skin "
            "checks before and after each session (monophasic output precautions)",
            measured=m.dc_current_ua,
            channel=m.channel,
        )
    elif _is_monophasic(rx):
        # Polarity reversal cancels the d.c. over whole reversal periods, but within each
        # interval the skin still sees pulsed d.c. of one polarity.
        interval_dc_ua = m.charge_per_phase_uc * m.pulses_per_second
        yield Finding.from_limit(
            warn,
            f"monophasic output: {_fmt(interval_dc_ua)} µA of one polarity flows between "
            "polarity reversals; plan skin checks before and after each session",
            measured=interval_dc_ua,
            channel=m.channel,
        )


def _is_monophasic(rx: Prescription) -> bool:
    return isinstance(rx.waveform, PulseTrain) and isinstance(rx.waveform.pulse, MonophasicPulse)


def energy(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    limit = lim["IEC60601-2-10.energy-per-pulse"]
    candidates = [("pulse", m.energy_per_pulse_mj)]
    waveform = rx.waveform
    is_burst_carrier = isinstance(waveform, CarrierTrain) and waveform.burst is not None
    if is_burst_carrier and waveform.burst.burst_duration_ms / 1000 < limit.max_pulse_duration_s:
        candidates.append(("burst", m.energy_per_burst_mj))
    for name, value in candidates:
        if value is not None and value > limit.limit:
            yield Finding.from_limit(
                limit,
                f"energy per {name} {_fmt(value)} mJ into {m.load_ohm:g} Ω exceeds "
                f"{limit.limit:g} mJ",
                measured=value,
                channel=m.channel,
                load_ohm=m.load_ohm,
            )


def peak_voltage(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    limit = lim["IEC60601-2-10.peak-voltage"]
    if m.peak_voltage_v > limit.limit:
        yield Finding.from_limit(
            limit,
            f"{_fmt(m.peak_current_ma)} mA into {m.load_ohm:g} Ω needs {_fmt(m.peak_voltage_v)} V, "
            f"above the {limit.limit:g} V a compliant stimulator may apply",
            measured=m.peak_voltage_v,
            channel=m.channel,
            load_ohm=m.load_ohm,
        )


def power_density(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    limit = lim["FDA.power-density"]
    if m.power_density_w_per_cm2 >= limit.limit:
        yield Finding.from_limit(
            limit,
            f"average power density {_fmt(m.power_density_w_per_cm2)} W/cm² on the "
            f"{_fmt(m.smallest_electrode_area_cm2)} cm² electrode into {m.load_ohm:g} Ω reaches "
            "the "
            f"{limit.limit:g} W/cm² thermal-burn limit",
            measured=m.power_density_w_per_cm2,
            channel=m.channel,
            load_ohm=m.load_ohm,
        )


def current_density(
    m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]
) -> Iterator[Finding]:
    limit = lim["IEC60601-2-10.current-density"]
    if m.load_ohm == 500.0 and m.current_density_ma_per_cm2 > limit.limit:
        yield Finding.from_limit(
            limit,
            f"r.m.s. current density {_fmt(m.current_density_ma_per_cm2)} mA/cm² on the "
            f"{_fmt(m.smallest_electrode_area_cm2)} cm² electrode exceeds {limit.limit:g} mA/cm²: "
            "use larger electrodes or watch the skin closely",
            measured=m.current_density_ma_per_cm2,
            channel=m.channel,
        )


def shannon(m: ChannelMetrics, rx: Prescription, lim: dict[str, Limit]) -> Iterator[Finding]:
    limit = lim["shannon-k"]
    if m.load_ohm == 500.0 and m.shannon_k >= limit.limit:
        yield Finding.from_limit(
            limit,
            f"Shannon k = {m.shannon_k:.2f} ≥ {limit.limit:g} (implant-derived criterion, not "
            "validated for skin; suggests charge is concentrated on too small a contact area)",
            measured=m.shannon_k,
            channel=m.channel,
        )


CHANNEL_RULES: tuple[ChannelRule, ...] = (
    rms_current,
    dc_current,
    energy,
    peak_voltage,
    power_density,
    current_density,
    shannon,
)

# --------------------------------------------------------------------------- per prescription


def charge_balance(
    rx: Prescription, metrics: PlanMetrics, lim: dict[str, Limit]
) -> Iterator[Finding]:
    if not isinstance(rx.waveform, PulseTrain) or _is_monophasic(rx):
        return
    limit = lim["charge-balance"]
    first = metrics.channels[0]
    imbalance = first.net_charge_per_pulse_uc / first.charge_per_phase_uc  # larger phase
    if imbalance > limit.limit:
        yield Finding.from_limit(
            limit,
            f"biphasic pulse is not charge-balanced: net {_fmt(first.net_charge_per_pulse_uc)} µC "
            f"per pulse is {imbalance:.1%} of the larger phase's "
            f"{_fmt(first.charge_per_phase_uc)} µC",
            measured=imbalance,
        )


def session_length(
    rx: Prescription, metrics: PlanMetrics, lim: dict[str, Limit]
) -> Iterator[Finding]:
    minutes = rx.session_duration_min
    cap = lim["session-length.cap"]
    long = lim["session-length.long"]
    if minutes > cap.limit:
        yield Finding.from_limit(
            cap, f"session of {minutes:g} min exceeds the {cap.limit:g} min cap", measured=minutes
        )
    elif minutes > long.limit:
        yield Finding.from_limit(
            long,
            f"session of {minutes:g} min is longer than any trial session in the evidence "
            f"({long.limit:g} min)",
            measured=minutes,
        )


def muscle_duty_cycle(
    rx: Prescription, metrics: PlanMetrics, lim: dict[str, Limit]
) -> Iterator[Finding]:
    if rx.protocol.intensity.level != "motor" or rx.protocol.modality != "NMES":
        return
    limit = lim["FDA-PMS.duty-cycle"]
    envelope = rx.envelope
    if envelope.on_s is None:
        yield Finding.from_limit(
            limit,
            "continuous muscle stimulation without relaxation periods is appropriate only for "
            "spasm relaxation; add an on/off cycle",
            measured="continuous",
            limit_value="on ≥ 1 s, off ≥ 1 s",
        )
        return
    for name, value in (("on_s", envelope.on_s), ("off_s", envelope.off_s)):
        if value < limit.limit:
            yield Finding.from_limit(
                limit,
                f"envelope.{name} = {value:g} s is shorter than the {limit.limit:g} s of "
                "stimulation and of relaxation each cycle needs",
                measured=value,
            )


def _range_values(rx: Prescription) -> dict[str, float]:
    waveform = rx.waveform
    values = {"amplitude_ma": rx.max_amplitude_ma, "session_duration_min": rx.session_duration_min}
    if isinstance(waveform, PulseTrain):
        values["frequency_hz"] = waveform.frequency_hz
        values["phase_width_us"] = waveform.pulse.phase_width_us
    else:
        values["carrier_frequency_hz"] = waveform.carrier_frequency_hz
    return values


def evidence_ranges(
    rx: Prescription, metrics: PlanMetrics, lim: dict[str, Limit]
) -> Iterator[Finding]:
    limit = lim["evidence-range"]
    ranges = rx.protocol.ranges
    for name, value in _range_values(rx).items():
        allowed = getattr(ranges, name)
        if allowed is None or allowed.contains(value):
            continue
        sources = "; ".join(f"{c.source} [{c.confidence}]" for c in allowed.sources)
        yield Finding.from_limit(
            limit,
            f"{name} = {value:g} lies outside {allowed.min:g}–{allowed.max:g}, the range of "
            f"this protocol's evidence",
            measured=value,
            limit_value=f"{allowed.min:g}–{allowed.max:g}",
            source=sources,
        )


_PATH_LIMIT_IDS = {
    "transthoracic": "placement.transthoracic",
    "transcranial": "placement.transcranial",
}


def placement(rx: Prescription, metrics: PlanMetrics, lim: dict[str, Limit]) -> Iterator[Finding]:
    """Sites and current paths that are forbidden for everyone, whatever the screening says."""
    banned = lim["placement.forbidden-site"]
    for channel in rx.channels:
        for electrode in channel.electrodes:
            if electrode.site in (banned.sites or ()):
                yield Finding.from_limit(
                    banned,
                    f"electrode on {electrode.site}: no one may be stimulated there",
                    measured=electrode.site,
                    limit_value="not this site",
                    channel=channel.label,
                )
        for hazard in path_hazards(e.site for e in channel.electrodes):
            yield Finding.from_limit(
                lim[_PATH_LIMIT_IDS[hazard.kind]],
                f"{hazard.kind} current path between {hazard.sites[0]} and {hazard.sites[1]}: "
                f"{hazard.explanation}",
                measured=" + ".join(hazard.sites),
                limit_value="no such path",
                channel=channel.label,
            )


PLAN_RULES = (charge_balance, session_length, muscle_duty_cycle, evidence_ranges, placement)

# --------------------------------------------------------------------------- patient caps


def patient_caps(rx: Prescription, caps: PatientCaps, lim: dict[str, Limit]) -> Iterator[Finding]:
    """Caps from screening: amplitude, intensity level, session length and forbidden sites."""
    if caps.max_amplitude_ma is not None and rx.max_amplitude_ma > caps.max_amplitude_ma:
        yield Finding.from_limit(
            lim["patient.max-amplitude"],
            f"amplitude {rx.max_amplitude_ma:g} mA exceeds this person's cap of "
            f"{caps.max_amplitude_ma:g} mA",
            measured=rx.max_amplitude_ma,
            limit_value=caps.max_amplitude_ma,
            source=caps.source,
        )
    level = rx.protocol.intensity.level
    if caps.max_level is not None and LEVEL_ORDER[level] > LEVEL_ORDER[caps.max_level]:
        yield Finding.from_limit(
            lim["patient.max-level"],
            f"intensity level {level!r} is above this person's cap {caps.max_level!r}",
            measured=level,
            limit_value=caps.max_level,
            source=caps.source,
        )
    minutes = rx.session_duration_min
    if caps.max_session_duration_min is not None and minutes > caps.max_session_duration_min:
        yield Finding.from_limit(
            lim["patient.max-session"],
            f"session of {minutes:g} min exceeds this person's cap of "
            f"{caps.max_session_duration_min:g} min",
            measured=minutes,
            limit_value=caps.max_session_duration_min,
            source=caps.source,
        )
    for channel in rx.channels:
        for electrode in channel.electrodes:
            site_level = caps.site_max_level.get(electrode.site)
            if site_level is not None and LEVEL_ORDER[level] > LEVEL_ORDER[site_level]:
                yield Finding.from_limit(
                    lim["patient.site-max-level"],
                    f"intensity level {level!r} is above this person's cap {site_level!r} at "
                    f"the {site_words(electrode.site)}",
                    measured=level,
                    limit_value=site_level,
                    channel=channel.label,
                    source=caps.source,
                )
            reason = caps.forbidden_sites.get(electrode.site)
            if reason is not None:
                yield Finding.from_limit(
                    lim["patient.forbidden-site"],
                    f"an electrode on the {site_words(electrode.site)} is forbidden for this "
                    f"person: {reason}",
                    measured=electrode.site,
                    limit_value="not this site",
                    channel=channel.label,
                    source=caps.source,
                )
