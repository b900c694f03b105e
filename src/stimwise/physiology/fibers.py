"""Fibre models as per-section arrays: the MRG double cable and the unmyelinated Sundt C fibre.

A :class:`Fiber` is plain data (NumPy arrays, one entry per compartment) so that the batched solver
can stack many fibres into flat structure-of-arrays buffers. Every compartment is one NEURON-style
section with one segment (``nseg = 1``): an axoplasm unknown and a periaxonal unknown joined by the
membrane, the periaxon joined to the outside (the extracellular potential) through the myelin. The
definitions follow NEURON's ``extracellular`` mechanism as used by PyFibers, so that thresholds
can be compared with it one to one (``docs/physiology.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stimwise.errors import FieldProblem, InputError
from stimwise.physiology.parameters import model_parameters

__all__ = [
    "KIND_MRG_NODE",
    "KIND_PASSIVE",
    "KIND_SUNDT",
    "MODELS",
    "Fiber",
    "build_fiber",
    "mrg_geometry",
]

KIND_PASSIVE = 0
KIND_MRG_NODE = 1
KIND_SUNDT = 2
MODELS = ("mrg", "c")


@dataclass(eq=False)
class Fiber:
    """One straight fibre, described compartment by compartment (lengths in um unless named).

    Attributes hold NEURON's section parameters: ``length_um``, ``diam_um``, axial resistivity
    ``ra_ohm_cm``, membrane ``cm_uf_per_cm2``, leak ``g_leak_s_per_cm2``/``e_leak_mv``,
    periaxonal ``xraxial_mohm_per_cm``, myelin ``xg_s_per_cm2``/``xc_uf_per_cm2`` and ``kind``
    (passive, MRG node channels or Sundt channels).

    Examples
    --------
    >>> from stimwise.physiology import build_fiber
    >>> fiber = build_fiber("mrg", 10.0)
    >>> fiber.model, fiber.n_nodes, round(fiber.total_length_mm)  # whole internodes of ~40 mm
    ('mrg', 35, 38)
    """

    model: str
    diameter_um: float
    temperature_c: float
    rest_mv: float
    length_um: np.ndarray
    diam_um: np.ndarray
    ra_ohm_cm: np.ndarray
    cm_uf_per_cm2: np.ndarray
    g_leak_s_per_cm2: np.ndarray
    e_leak_mv: np.ndarray
    xraxial_mohm_per_cm: np.ndarray
    xg_s_per_cm2: np.ndarray
    xc_uf_per_cm2: np.ndarray
    kind: np.ndarray
    node_sections: np.ndarray
    description: str
    channel_parameters: np.ndarray = field(repr=False)

    @property
    def n_sections(self) -> int:
        return int(self.length_um.size)

    @property
    def n_nodes(self) -> int:
        return int(self.node_sections.size)

    @property
    def detect_node(self) -> int:
        """Index into ``node_sections`` of the detection node, floor(0.9 (n_nodes - 1))."""
        return math.floor(0.9 * (self.n_nodes - 1))

    @property
    def section_z_mm(self) -> np.ndarray:
        """Centre of every section along the axis (mm), the middle node at 0."""
        ends = np.cumsum(self.length_um)
        centres = ends - self.length_um / 2.0
        middle = self.node_sections[self.n_nodes // 2]
        return (centres - centres[middle]) * 1e-3

    @property
    def total_length_mm(self) -> float:
        return float(self.length_um.sum() * 1e-3)


def _quadratic(coefficients: list[float], d: float) -> float:
    q2, q1, q0 = coefficients
    return q2 * d * d + q1 * d + q0


def mrg_geometry(diameter_um: float) -> dict[str, float]:
    """MRG geometry at ``diameter_um`` from the ASCENT interpolation fits (data/mrg.yaml)."""
    fits = model_parameters("mrg")["geometry_interpolation"]
    d = diameter_um
    if d >= fits["node_to_node_breakpoint_um"]:
        node_to_node = _quadratic(fits["node_to_node_um_large"], d)
    else:
        slope, offset = fits["node_to_node_um_small_linear"]
        node_to_node = slope * d + offset
    return {
        "node_to_node_um": node_to_node,
        "paranode2_length_um": _quadratic(fits["paranode2_length_um"], d),
        "lamellae": _quadratic(fits["lamellae"], d),
        "node_diameter_um": _quadratic(fits["node_diameter_um"], d),
        "axon_diameter_um": _quadratic(fits["axon_diameter_um"], d),
    }


def _periaxonal_mohm_per_cm(rho_ohm_cm: float, inner_diameter_um: float, space_um: float) -> float:
    """Resistance per length of the periaxonal annulus: rho / (pi ((r + s)^2 - r^2))."""
    r = inner_diameter_um / 2.0
    # rho [ohm cm] * 1e4 um/cm / area [um^2] = ohm/um; * 1e4 -> ohm/cm; * 1e-6 -> Mohm/cm
    return rho_ohm_cm * 1e2 / (math.pi * ((r + space_um) ** 2 - r * r))


def _node_count(length_um: float, period_um: float) -> int:
    """PyFibers' rule: floor(length / period) + 1 nodes, reduced by one when even."""
    count = math.floor(length_um / period_um) + 1
    return count - 1 if count % 2 == 0 else count


def _check_range(name: str, value: float, low: float, high: float, what: str) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise InputError(FieldProblem(name, value, f"{what} between {low:g} and {high:g}"))


def build_fiber(
    model: str, diameter_um: float, length_mm: float = 40.0, temperature_c: float = 37.0
) -> Fiber:
    """Build a straight ``"mrg"`` or ``"c"`` fibre of about ``length_mm`` at ``temperature_c``.

    One passive end node at each end (as PyFibers' default) and an odd node count so that a node
    sits at the middle.

    Examples
    --------
    >>> from stimwise.physiology import build_fiber
    >>> build_fiber("c", 1.0, length_mm=6.0).model
    'c'
    >>> build_fiber("mrg", 30.0)
    Traceback (most recent call last):
    ...
    stimwise.errors.InputError: Invalid input (1 problem): diameter_um: got 30.0; expected an MRG
    fibre diameter (um) between 2 and 16
    """
    if model not in MODELS:
        raise InputError(FieldProblem("fiber", model, f"one of {', '.join(MODELS)}"))
    _check_range("temperature_c", temperature_c, 5.0, 45.0, "a temperature (C)")
    if model == "mrg":
        low, high = model_parameters("mrg")["geometry_interpolation"]["valid_diameter_um"]
        _check_range("diameter_um", diameter_um, low, high, "an MRG fibre diameter (um)")
        _check_range("length_mm", length_mm, 2.0, 200.0, "a fibre length (mm)")
        return _build_mrg(float(diameter_um), float(length_mm), float(temperature_c))
    low, high = model_parameters("sundt")["valid_diameter_um"]
    _check_range("diameter_um", diameter_um, low, high, "a C fibre diameter (um)")
    _check_range("length_mm", length_mm, 0.5, 100.0, "a fibre length (mm)")
    return _build_sundt(float(diameter_um), float(length_mm), float(temperature_c))


def _build_mrg(d: float, length_mm: float, temperature_c: float) -> Fiber:
    p = model_parameters("mrg")
    geo = mrg_geometry(d)
    fixed, el, ch, end = p["fixed_geometry"], p["electrical"], p["node_channels"], p[
        "passive_end_node"]
    rho = el["axoplasm_resistivity_ohm_cm"]
    rest = float(p["rest_potential_mv"])
    nl = geo["lamellae"]
    xc = el["myelin_capacitance_per_lamella_uf_per_cm2"] / (2.0 * nl)
    xg = el["myelin_conductance_per_lamella_s_per_cm2"] / (2.0 * nl)
    node_d, axon_d = geo["node_diameter_um"], geo["axon_diameter_um"]
    node_len, mysa_len = fixed["node_length_um"], fixed["paranode1_length_um"]
    flut_len = geo["paranode2_length_um"]
    stin_len = (geo["node_to_node_um"] - node_len - 2 * mysa_len - 2 * flut_len) / 6.0
    s_mysa, s_other = fixed["periaxonal_space_mysa_um"], fixed["periaxonal_space_flut_stin_um"]
    cm_in = el["internode_capacitance_uf_per_cm2"]
    # One period: node, MYSA, FLUT, 6 STIN, FLUT, MYSA. Internodal sections have the fibre's
    # outer diameter with Ra, cm and leak scaled by the axon's diameter (McIntyre 2002).
    node = (node_len, node_d, rho, el["node_capacitance_uf_per_cm2"], ch["g_leak_s_per_cm2"],
            ch["e_leak_mv"], _periaxonal_mohm_per_cm(rho, node_d, s_mysa),
            el["node_shunt_s_per_cm2"], 0.0, KIND_MRG_NODE)
    mysa = (mysa_len, d, rho / (node_d / d) ** 2, cm_in * node_d / d,
            el["mysa_leak_s_per_cm2"] * node_d / d, el["leak_reversal_mv"],
            _periaxonal_mohm_per_cm(rho, node_d, s_mysa), xg, xc, KIND_PASSIVE)

    def internode(length: float) -> tuple:
        return (length, d, rho / (axon_d / d) ** 2, cm_in * axon_d / d,
                el["flut_stin_leak_s_per_cm2"] * axon_d / d, el["leak_reversal_mv"],
                _periaxonal_mohm_per_cm(rho, axon_d, s_other), xg, xc, KIND_PASSIVE)

    period = [mysa, internode(flut_len)] + [internode(stin_len)] * 6 + [
        internode(flut_len), mysa]
    n_nodes = _node_count(length_mm * 1e3, geo["node_to_node_um"])
    rows = []
    for k in range(n_nodes):
        if k in (0, n_nodes - 1):
            rows.append((node_len, node_d, end["axial_resistivity_ohm_cm"],
                         end["capacitance_uf_per_cm2"], end["leak_s_per_cm2"], rest,
                         node[6], node[7], 0.0, KIND_PASSIVE))
        else:
            rows.append(node)
        if k < n_nodes - 1:
            rows.extend(period)
    q = ch
    channel_parameters = np.array([
        q["g_naf_s_per_cm2"], q["g_nap_s_per_cm2"], q["g_ks_s_per_cm2"], q["e_na_mv"],
        q["e_k_mv"],
        q["q10_na_activation"] ** ((temperature_c - q["t_ref_na_c"]) / 10.0),
        q["q10_na_inactivation"] ** ((temperature_c - q["t_ref_na_c"]) / 10.0),
        q["q10_k"] ** ((temperature_c - q["t_ref_k_c"]) / 10.0),
    ])
    description = (
        f"MRG double cable (McIntyre, Richardson & Grill 2002), ASCENT-interpolated geometry "
        f"(Musselman et al. 2021) at {d:g} um: {n_nodes} nodes, {len(rows)} sections, "
        f"node-to-node {geo['node_to_node_um']:.1f} um, {temperature_c:g} C, passive end nodes"
    )
    return _fiber_from_rows("mrg", d, temperature_c, rest, rows, channel_parameters, description)


def _build_sundt(d: float, length_mm: float, temperature_c: float) -> Fiber:
    p = model_parameters("sundt")
    rest = float(p["rest_potential_mv"])
    dz = p["section_length_um"]
    n_nodes = _node_count(length_mm * 1e3, dz)
    end = p["passive_end_node"]
    active = (dz, d, p["axial_resistivity_ohm_cm"], p["membrane_capacitance_uf_per_cm2"],
              p["leak_s_per_cm2"], rest, 1.0e9, p["node_shunt_s_per_cm2"], 0.0, KIND_SUNDT)
    passive = (dz, d, end["axial_resistivity_ohm_cm"], end["capacitance_uf_per_cm2"],
               end["leak_s_per_cm2"], rest, 1.0e9, p["node_shunt_s_per_cm2"], 0.0, KIND_PASSIVE)
    rows = [passive] + [active] * (n_nodes - 2) + [passive]
    na, k = p["sodium"], p["potassium"]
    channel_parameters = np.array([
        na["g_s_per_cm2"], k["g_s_per_cm2"], na["e_mv"], k["e_mv"], na["m_shift_mv"],
        na["h_shift_mv"], na["q10"] ** ((temperature_c - na["t_ref_c"]) / 10.0),
        k["q10"] ** ((temperature_c - k["t_ref_c"]) / 10.0), temperature_c,
        k["vhalf_n_mv"], k["vhalf_l_mv"], k["a0_n_per_ms"], k["a0_l_per_ms"], k["zeta_n"],
        k["zeta_l"], k["gm_n"], k["gm_l"],
    ])
    description = (
        f"unmyelinated C fibre (Sundt, Gamper & Jaffe 2015) at {d:g} um: {n_nodes} sections of "
        f"{dz:g} um, {temperature_c:g} C, passive end sections"
    )
    return _fiber_from_rows("c", d, temperature_c, rest, rows, channel_parameters, description)


def _fiber_from_rows(
    model: str, d: float, temperature_c: float, rest: float, rows: list[tuple],
    channel_parameters: np.ndarray, description: str,
) -> Fiber:
    cols = list(zip(*rows, strict=True))
    arrays = [np.asarray(c, dtype=np.float64) for c in cols[:9]]
    kind = np.asarray(cols[9], dtype=np.int8)
    period = 11 if model == "mrg" else 1
    node_sections = np.arange(0, len(rows), period, dtype=np.int64)
    return Fiber(model, d, temperature_c, rest, *arrays, kind, node_sections, description,
                 channel_parameters)
