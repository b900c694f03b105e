"""Batched backward-Euler solver of the double-cable equations (Numba kernels).

Every compartment ``i`` has two unknowns: the axoplasm potential ``u`` and the periaxonal potential
``x`` (membrane potential ``v = u - x``). With the gates frozen over a step, as NEURON's fixed step
does, backward Euler gives one linear system per fibre and step, block-tridiagonal with 2x2 blocks.
Written in ``(u, x)`` and with the periaxonal equation replaced by (periaxon KCL - axoplasm KCL) the
blocks are symmetric and the couplings to the neighbours are diagonal:

    [Gm + ga_l + ga_r,   -Gm                      ] [u_i]   [-ga 0 ] [u_j]   [b1]
    [-Gm,   Gm + gp_l + gp_r + Gx + Cx/dt         ] [x_i] + [0 -gp ] [x_j] = [b2]

with ``Gm = Cm/dt + G_ion``, ``b1 = Cm/dt v_old + sum g E`` and
``b2 = (Gx + Cx/dt) e + Cx/dt (x_old - e_old) - b1`` where ``e`` is the extracellular potential
(NEURON's ``e_extracellular``) of this step and ``e_old`` that of the previous one. Conductances are
in uS, capacitances in nF, potentials in mV, time in ms. The system is solved by block Thomas
elimination; then the gates are advanced with the new potentials (``cnexp``:
``g += (1 - exp(-dt/tau)) (inf - g)``), exactly NEURON's order of operations.

State is structure-of-arrays ``[section, member]`` with the batch member innermost, so one loop over
members per compartment is branch free (vectorisable, and the layout a GPU kernel would use).
Members can be different fibres: shorter ones are padded with isolated dummy compartments.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from stimwise.errors import StimwiseError
from stimwise.physiology.channels import channel_conductance, gate_rates
from stimwise.physiology.fibers import KIND_MRG_NODE, KIND_PASSIVE, Fiber

FAST = {"nsz", "arcp", "contract"}
DETECT_MV = -30.0
REST_SETTLE_MS = 200.0  # NEURON/PyFibers pre-run: t from -200 ms to 0 ...
REST_SETTLE_DT_MS = 5.0  # ... with dt = 5 ms
REST_TOLERANCE_MV = 2.0  # sub-threshold stop: every node within 2 mV of rest ...
RISING_MARGIN_MV = 0.2
MIN_GROUP = 4  # ... and none above rest + 0.2 mV still depolarising


class SimulationError(StimwiseError):
    """The integration blew up (non-finite or absurd potentials): never reported as a number."""

    exit_code = 3


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _assemble(idt, u, x, c_nf, g_leak, ge_leak, gm, b1):
    n, nm = u.shape
    for i in range(n):
        for m in range(nm):
            c = c_nf[i, m] * idt
            gm[i, m] = c + g_leak[i, m]
            b1[i, m] = c * (u[i, m] - x[i, m]) + ge_leak[i, m]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _add_channels(u, x, node_sec, node_kind, node_area, params, gates, gm, b1, vnode):
    nn, nm = node_sec.shape
    for j in range(nn):
        for m in range(nm):
            i = node_sec[j, m]
            if i < 0:
                continue
            v = u[i, m] - x[i, m]
            vnode[j, m] = v
            kind = node_kind[j, m]
            if kind == KIND_PASSIVE:
                continue
            g, ge = channel_conductance(kind, gates[0, j, m], gates[1, j, m], gates[2, j, m],
                                        gates[3, j, m], params[:, m])
            gm[i, m] += g * node_area[j, m]
            b1[i, m] += ge * node_area[j, m]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _solve(idt, s_now, s_old, amp, ve, ga, gp, gx, cx_nf, u, x, gm, b1, w11, w12, w22, z1, z2):
    n, nm = u.shape
    for i in range(n):
        for m in range(nm):
            g = gm[i, m]
            cx = cx_nf[i, m] * idt
            e_scale = amp[m] * ve[i, m]
            r1 = b1[i, m]
            r2 = (gx[i, m] + cx) * e_scale * s_now + cx * (x[i, m] - e_scale * s_old) - r1
            a11 = g + ga[i, m]
            a22 = g + gp[i, m] + gx[i, m] + cx
            a12 = -g
            if i > 0:
                p = ga[i - 1, m]
                q = gp[i - 1, m]
                a11 += p - p * p * w11[i - 1, m]
                a22 += q - q * q * w22[i - 1, m]
                a12 -= p * q * w12[i - 1, m]
                r1 += p * z1[i - 1, m]
                r2 += q * z2[i - 1, m]
            inv_det = 1.0 / (a11 * a22 - a12 * a12)
            c11 = a22 * inv_det
            c12 = -a12 * inv_det
            c22 = a11 * inv_det
            w11[i, m] = c11
            w12[i, m] = c12
            w22[i, m] = c22
            z1[i, m] = c11 * r1 + c12 * r2
            z2[i, m] = c12 * r1 + c22 * r2
    for m in range(nm):
        u[n - 1, m] = z1[n - 1, m]
        x[n - 1, m] = z2[n - 1, m]
    for i in range(n - 2, -1, -1):
        for m in range(nm):
            t1 = ga[i, m] * u[i + 1, m]
            t2 = gp[i, m] * x[i + 1, m]
            u[i, m] = z1[i, m] + w11[i, m] * t1 + w12[i, m] * t2
            x[i, m] = z2[i, m] + w12[i, m] * t1 + w22[i, m] * t2


TABLE_V_MIN_MV = -250.0
TABLE_STEP_MV = 0.01
TABLE_SIZE = 50_001  # -250 ... +250 mV


@njit(cache=True, error_model="numpy")
def rate_table(kind, params, dt):
    """Gate update coefficients on a 0.01 mV grid: per voltage ``(inf, 1 - exp(-dt/tau))`` of
    the four gates, interleaved so that one voltage's eight numbers share a cache line.

    Linear interpolation on this grid differs from the closed forms by < 1e-6 (the rate
    functions vary on a scale of millivolts); it replaces ~12 exponentials per channel
    compartment and step by two reads. Outside the grid the closed forms are used.
    """
    table = np.empty((TABLE_SIZE, 8))
    for n in range(TABLE_SIZE):
        r = gate_rates(kind, TABLE_V_MIN_MV + n * TABLE_STEP_MV, params)
        for g in range(4):
            table[n, 2 * g] = r[2 * g]
            table[n, 2 * g + 1] = -math.expm1(-dt / r[2 * g + 1])
    return table


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _gates_and_detection(k, dt, u, x, node_sec, node_kind, params, gates, vnode, detect,
                         fired, fire_step, init_node, init_step, init_v, tables, member_table):
    nn, nm = node_sec.shape
    use_tables = tables.shape[0] > 0
    for j in range(nn):
        for m in range(nm):
            i = node_sec[j, m]
            if i < 0:
                continue
            kind = node_kind[j, m]
            if kind == KIND_PASSIVE:
                continue
            v = u[i, m] - x[i, m]
            pos = (v - TABLE_V_MIN_MV) / TABLE_STEP_MV
            if use_tables and 0.0 <= pos < TABLE_SIZE - 1:
                n0 = int(pos)
                w = pos - n0
                t = tables[member_table[m]]
                for g in range(4):
                    inf = t[n0, 2 * g] + w * (t[n0 + 1, 2 * g] - t[n0, 2 * g])
                    fac = t[n0, 2 * g + 1] + w * (t[n0 + 1, 2 * g + 1] - t[n0, 2 * g + 1])
                    gates[g, j, m] += fac * (inf - gates[g, j, m])
            else:
                r = gate_rates(kind, v, params[:, m])
                for g in range(4):
                    inf = r[2 * g]
                    gates[g, j, m] += -math.expm1(-dt / r[2 * g + 1]) * (inf - gates[g, j, m])
            if vnode[j, m] < DETECT_MV <= v:
                if init_node[m] < 0 or (init_step[m] == k and v > init_v[m]):
                    init_node[m] = j
                    init_step[m] = k
                    init_v[m] = v
                if j == detect[m] and fire_step[m] < 0:
                    fired[m] = True
                    fire_step[m] = k


@njit(cache=True, fastmath=FAST, error_model="numpy")
def advance(k0, k1, dt, samples, amp, ve, c_nf, g_leak, ge_leak, ga, gp, gx, cx_nf,
            node_sec, node_kind, node_area, params, detect, u, x, gates,
            fired, fire_step, init_node, init_step, init_v, scratch, tables, member_table):
    """Advance every member from step ``k0`` to ``k1`` (exclusive); stop early when all fired."""
    idt = 1.0 / dt
    gm, b1, w11, w12, w22, z1, z2 = (scratch[0], scratch[1], scratch[2], scratch[3], scratch[4],
                                     scratch[5], scratch[6])
    vnode = scratch[7][: node_sec.shape[0]]
    for k in range(k0, k1):
        s_now = samples[k]
        s_old = samples[k - 1] if k > 0 else 0.0
        _assemble(idt, u, x, c_nf, g_leak, ge_leak, gm, b1)
        _add_channels(u, x, node_sec, node_kind, node_area, params, gates, gm, b1, vnode)
        _solve(idt, s_now, s_old, amp, ve, ga, gp, gx, cx_nf, u, x, gm, b1, w11, w12, w22, z1, z2)
        _gates_and_detection(k, dt, u, x, node_sec, node_kind, params, gates, vnode, detect,
                             fired, fire_step, init_node, init_step, init_v, tables, member_table)
        if fired.all():
            return k + 1
    return k1


@njit(cache=True)
def steady_gates(node_kind, params, v_rest):
    """Gate values at steady state for ``v_rest`` (NEURON's ``finitialize``), [4, nodes]."""
    nn = node_kind.size
    gates = np.zeros((4, nn))
    for j in range(nn):
        if node_kind[j] != KIND_PASSIVE:
            r = gate_rates(node_kind[j], v_rest, params)
            for g in range(4):
                gates[g, j] = r[2 * g]
    return gates


# --------------------------------------------------------------------------- fibre tables


@dataclass(frozen=True)
class FiberTable:
    """The solver's constant arrays of one fibre (per section, in uS/nF), padded to ``n``."""

    c_nf: np.ndarray
    g_leak: np.ndarray
    ge_leak: np.ndarray
    ga: np.ndarray
    gp: np.ndarray
    gx: np.ndarray
    cx_nf: np.ndarray
    node_sec: np.ndarray
    node_kind: np.ndarray
    node_area: np.ndarray
    params: np.ndarray


def fiber_table(fiber: Fiber, n: int | None = None, n_nodes: int | None = None) -> FiberTable:
    """Convert a fibre's section parameters into solver units, padded to ``n`` sections."""
    n = n or fiber.n_sections
    n_nodes = n_nodes or fiber.n_nodes
    ns = fiber.n_sections
    area = math.pi * fiber.diam_um * fiber.length_um  # um^2
    s_per_cm2_to_us = area * 1e-2  # 1 S/cm^2 on 1 um^2 = 1e-2 uS
    uf_per_cm2_to_nf = area * 1e-5
    half_r = 1e-2 * fiber.ra_ohm_cm * (fiber.length_um / 2) / (math.pi * fiber.diam_um**2 / 4)
    half_rx = 1e-4 * fiber.xraxial_mohm_per_cm * fiber.length_um / 2  # Mohm

    def padded(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n, fill)
        out[: values.size] = values
        return out

    coupling = np.zeros(ns)
    coupling[:-1] = 1.0 / (half_r[:-1] + half_r[1:])
    p_coupling = np.zeros(ns)
    p_coupling[:-1] = 1.0 / (half_rx[:-1] + half_rx[1:])
    g_leak = fiber.g_leak_s_per_cm2 * s_per_cm2_to_us
    node_sec = np.full(n_nodes, -1, dtype=np.int64)
    node_sec[: fiber.n_nodes] = fiber.node_sections
    node_kind = np.zeros(n_nodes, dtype=np.int8)
    node_kind[: fiber.n_nodes] = fiber.kind[fiber.node_sections]
    node_area = np.zeros(n_nodes)
    node_area[: fiber.n_nodes] = s_per_cm2_to_us[fiber.node_sections]
    params = np.zeros(17)
    params[: fiber.channel_parameters.size] = fiber.channel_parameters
    return FiberTable(
        c_nf=padded(fiber.cm_uf_per_cm2 * uf_per_cm2_to_nf, 1.0),
        g_leak=padded(g_leak, 0.0),
        ge_leak=padded(g_leak * fiber.e_leak_mv, 0.0),
        ga=padded(coupling, 0.0),
        gp=padded(p_coupling, 0.0),
        gx=padded(fiber.xg_s_per_cm2 * s_per_cm2_to_us, 1.0),
        cx_nf=padded(fiber.xc_uf_per_cm2 * uf_per_cm2_to_nf, 0.0),
        node_sec=node_sec,
        node_kind=node_kind,
        node_area=node_area,
        params=params,
    )


_REST_STATES: weakref.WeakKeyDictionary[Fiber, tuple[np.ndarray, np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def rest_state(fiber: Fiber) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(axoplasm mV, periaxon mV, gates) of ``fiber`` after NEURON-style 200 ms settling,
    computed once per fibre object (kept while the fibre lives)."""
    state = _REST_STATES.get(fiber)
    if state is None:
        state = _REST_STATES[fiber] = settle_rest_state(fiber)
    return state


def settle_rest_state(fiber: Fiber) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NEURON/PyFibers rest: ``finitialize(v_rest)`` then 40 backward-Euler steps of 5 ms."""
    table = fiber_table(fiber)
    steps = round(REST_SETTLE_MS / REST_SETTLE_DT_MS)
    u = np.full((fiber.n_sections, 1), fiber.rest_mv)
    x = np.zeros((fiber.n_sections, 1))
    gates = steady_gates(table.node_kind, table.params, fiber.rest_mv)[:, :, None].copy()
    batch = _Members([table], np.zeros((fiber.n_sections, 1)), np.zeros(1), np.zeros(1, np.int64))
    _run_chunk(batch, u, x, gates, np.zeros(steps), 0, steps, REST_SETTLE_DT_MS,
               np.array([fiber.detect_node]), _Outcome(1))
    _check_finite(u, x)
    return u[:, 0].copy(), x[:, 0].copy(), gates[:, :, 0].copy()


# --------------------------------------------------------------------------- batches


class _Members:
    """Stacked constant arrays of a batch: column ``m`` is member ``m``."""

    def __init__(self, tables: list[FiberTable], ve: np.ndarray, amp: np.ndarray,
                 table_index: np.ndarray):
        def stack(name: str) -> np.ndarray:
            return np.ascontiguousarray(
                np.stack([getattr(t, name) for t in tables], axis=-1)[..., table_index])

        self.c_nf, self.g_leak, self.ge_leak = stack("c_nf"), stack("g_leak"), stack("ge_leak")
        self.ga, self.gp, self.gx, self.cx_nf = (stack("ga"), stack("gp"), stack("gx"),
                                                 stack("cx_nf"))
        self.node_sec, self.node_kind = stack("node_sec"), stack("node_kind")
        self.node_area, self.params = stack("node_area"), stack("params")
        self.ve = np.ascontiguousarray(ve)
        self.amp = np.ascontiguousarray(amp, dtype=np.float64)
        self.member_table = np.zeros(self.amp.size, dtype=np.int64)

    def keep(self, mask: np.ndarray) -> None:
        for name, value in vars(self).items():
            setattr(self, name, np.ascontiguousarray(value[..., mask]))


class _Outcome:
    """Per-member detection results."""

    def __init__(self, n: int):
        self.fired = np.zeros(n, dtype=np.bool_)
        self.fire_step = np.full(n, -1, dtype=np.int64)
        self.init_node = np.full(n, -1, dtype=np.int64)
        self.init_step = np.full(n, -1, dtype=np.int64)
        self.init_v = np.full(n, -np.inf)
        self.diverged = np.zeros(n, dtype=np.bool_)

    def keep(self, mask: np.ndarray) -> None:
        for name, value in vars(self).items():
            setattr(self, name, value[mask].copy())


NO_TABLES = np.zeros((0, 2, 8))


def _run_chunk(batch: _Members, u, x, gates, samples, k0, k1, dt, detect, out: _Outcome,
               tables: np.ndarray = NO_TABLES) -> int:
    n, nm = u.shape
    scratch = np.empty((8, max(n, batch.node_sec.shape[0]), nm))
    return advance(k0, k1, dt, samples, batch.amp, batch.ve, batch.c_nf, batch.g_leak,
                   batch.ge_leak, batch.ga, batch.gp, batch.gx, batch.cx_nf, batch.node_sec,
                   batch.node_kind, batch.node_area, batch.params, detect, u, x, gates,
                   out.fired, out.fire_step, out.init_node, out.init_step, out.init_v, scratch,
                   tables, batch.member_table)


@lru_cache(maxsize=16)
def _cached_rate_table(kind: int, params: tuple[float, ...], dt: float) -> np.ndarray:
    return rate_table(kind, np.asarray(params), dt)


def _rate_tables(fibers: list[Fiber], dt: float) -> tuple[np.ndarray, np.ndarray]:
    """One coefficient table per distinct channel set: (tables, table index per fibre)."""
    keys, index = [], []
    for fiber in fibers:
        kinds = fiber.kind[fiber.kind != KIND_PASSIVE]
        kind = int(kinds[0]) if kinds.size else KIND_MRG_NODE  # an all-passive fibre: unused
        key = (kind, tuple(fiber.channel_parameters.tolist()), dt)
        if key not in keys:
            keys.append(key)
        index.append(keys.index(key))
    return np.stack([_cached_rate_table(*key) for key in keys]), np.asarray(index)


def _check_finite(u: np.ndarray, x: np.ndarray) -> None:
    if not (np.isfinite(u).all() and np.isfinite(x).all()):
        raise SimulationError("the cable integration diverged (non-finite potentials)")


@dataclass(frozen=True)
class SimulationResult:
    """Outcome per batch member (in the order given)."""

    fired: np.ndarray  # bool: an upward -30 mV crossing at the detection node
    ap_time_ms: np.ndarray  # time of that crossing (NaN when not fired)
    initiation_node: np.ndarray  # first active node to cross -30 mV (-1: none)
    steps_run: np.ndarray  # time steps each member was integrated
    section_steps: int  # sum over members of real sections x steps (the work done)
    diverged: np.ndarray  # bool: the integration became non-finite (never fired; no outcome)


def simulate(
    fibers: list[Fiber],
    ve_mv_per_ma: list[np.ndarray],
    member_fiber: np.ndarray,
    amplitudes_ma: np.ndarray,
    samples: np.ndarray,
    dt_ms: float,
    rest_tolerance_mv: float = REST_TOLERANCE_MV,
    chunk_steps: int = 100,
) -> SimulationResult:
    """Integrate members ``m`` (fibre ``member_fiber[m]`` at ``amplitudes_ma[m]``) from rest.

    The extracellular potential of member ``m`` at step ``k`` is
    ``amplitudes_ma[m] * samples[k] * ve_mv_per_ma[fibre]`` (NEURON's ``e_extracellular`` set before
    each step). A member stops when it fires at its detection node, or -- once the stimulus is
    over -- when every active node is within ``rest_tolerance_mv`` of its rest potential and no
    node above rest is still depolarising (checked every ``chunk_steps``): from there the
    membrane only relaxes (an action potential needs a depolarisation of 15-20 mV or more, or a
    rebound from a deep hyperpolarisation), so continuing could not change the outcome. The tests
    check that thresholds are identical with and without this early stop.
    """
    member_fiber = np.asarray(member_fiber, dtype=np.int64)
    amplitudes_ma = np.asarray(amplitudes_ma, dtype=np.float64)
    groups = _size_groups(np.array([fibers[f].n_sections for f in member_fiber]))
    parts = [
        (members, _simulate_group(fibers, ve_mv_per_ma, member_fiber[members],
                                  amplitudes_ma[members], samples, dt_ms, rest_tolerance_mv,
                                  chunk_steps))
        for members in groups
    ]
    fired = np.zeros(member_fiber.size, dtype=np.bool_)
    ap_time = np.full(member_fiber.size, np.nan)
    init = np.full(member_fiber.size, -1, dtype=np.int64)
    steps = np.zeros(member_fiber.size, dtype=np.int64)
    diverged = np.zeros(member_fiber.size, dtype=np.bool_)
    for members, part in parts:
        fired[members], ap_time[members] = part.fired, part.ap_time_ms
        init[members], steps[members] = part.initiation_node, part.steps_run
        diverged[members] = part.diverged
    return SimulationResult(fired, ap_time, init, steps,
                            sum(part.section_steps for _, part in parts), diverged)


def _size_groups(n_sections: np.ndarray) -> list[np.ndarray]:
    """Members split into batches of similar fibre size, so padding wastes < ~20 % of the work.

    Per-member cost stops falling beyond about four members per batch, so a group is closed
    once it has at least ``MIN_GROUP`` members and the next fibre is 20 % shorter than its
    longest.
    """
    order = np.argsort(-n_sections, kind="stable")
    groups, current = [], [order[0]]
    for m in order[1:]:
        if len(current) >= MIN_GROUP and n_sections[m] < 0.8 * n_sections[current[0]]:
            groups.append(np.array(current))
            current = []
        current.append(m)
    groups.append(np.array(current))
    return groups


def _simulate_group(
    fibers: list[Fiber],
    ve_mv_per_ma: list[np.ndarray],
    member_fiber: np.ndarray,
    amplitudes_ma: np.ndarray,
    samples: np.ndarray,
    dt_ms: float,
    rest_tolerance_mv: float = REST_TOLERANCE_MV,
    chunk_steps: int = 100,
) -> SimulationResult:
    """One padded batch: every member is integrated over the longest fibre's sections."""
    used, member_fiber = np.unique(member_fiber, return_inverse=True)
    fibers = [fibers[f] for f in used]
    ve_mv_per_ma = [ve_mv_per_ma[f] for f in used]
    n = max(f.n_sections for f in fibers)
    nn = max(f.n_nodes for f in fibers)
    tables = [fiber_table(f, n, nn) for f in fibers]
    ve = np.zeros((n, len(fibers)))
    rest_u, rest_x, rest_g = np.zeros((n, len(fibers))), np.zeros((n, len(fibers))), np.zeros(
        (4, nn, len(fibers)))
    for f, fiber in enumerate(fibers):
        ve[: fiber.n_sections, f] = ve_mv_per_ma[f]
        u0, x0, g0 = rest_state(fiber)
        rest_u[: fiber.n_sections, f], rest_x[: fiber.n_sections, f] = u0, x0
        rest_g[:, : fiber.n_nodes, f] = g0
    batch = _Members(tables, ve[:, member_fiber], amplitudes_ma, member_fiber)
    rate_tables, fiber_rate_table = _rate_tables(fibers, dt_ms)
    batch.member_table = fiber_rate_table[member_fiber]
    u = np.ascontiguousarray(rest_u[:, member_fiber])
    x = np.ascontiguousarray(rest_x[:, member_fiber])
    gates = np.ascontiguousarray(rest_g[..., member_fiber])
    v_rest_nodes = np.take_along_axis(u - x, np.maximum(batch.node_sec, 0), axis=0)
    detect = np.array([fibers[f].detect_node for f in member_fiber], dtype=np.int64)
    real_sections = np.array([fibers[f].n_sections for f in member_fiber])
    active_nodes = batch.node_kind != KIND_PASSIVE
    out = _Outcome(member_fiber.size)
    total = member_fiber.size
    alive = np.arange(total)
    final = _Outcome(total)
    steps_run = np.zeros(total, dtype=np.int64)
    v_nodes_before = v_rest_nodes
    nonzero = np.flatnonzero(samples)
    stimulus_end = int(nonzero[-1]) + 1 if nonzero.size else 0
    k = 0
    n_steps = samples.size
    while k < n_steps and alive.size:
        k_stop = _run_chunk(batch, u, x, gates, samples, k, min(n_steps, k + chunk_steps),
                            dt_ms, detect, out, rate_tables)
        steps_run[alive] += k_stop - k
        k = k_stop
        out.diverged = ~(np.isfinite(u).all(axis=0) & np.isfinite(x).all(axis=0))
        out.fired &= ~out.diverged
        done = out.fired | out.diverged
        v_nodes = np.take_along_axis(u - x, np.maximum(batch.node_sec, 0), axis=0)
        if k >= stimulus_end:
            deviation = np.where(active_nodes, np.abs(v_nodes - v_rest_nodes), 0.0)
            rising = active_nodes & (v_nodes > v_rest_nodes + RISING_MARGIN_MV) & (
                v_nodes > v_nodes_before)
            done |= (deviation.max(axis=0) < rest_tolerance_mv) & ~rising.any(axis=0)
        v_nodes_before = v_nodes
        if k >= n_steps:
            done[:] = True
        if done.any():
            for name in vars(final):
                getattr(final, name)[alive[done]] = getattr(out, name)[done]
            keep = ~done
            alive = alive[keep]
            if alive.size:
                batch.keep(keep)
                out.keep(keep)
                detect, active_nodes = detect[keep], active_nodes[:, keep]
                v_rest_nodes = v_rest_nodes[:, keep]
                v_nodes_before = v_nodes_before[:, keep]
                u, x = np.ascontiguousarray(u[:, keep]), np.ascontiguousarray(x[:, keep])
                gates = np.ascontiguousarray(gates[..., keep])
    ap_time = np.where(final.fired, (final.fire_step + 1) * dt_ms, np.nan)
    return SimulationResult(
        fired=final.fired,
        ap_time_ms=ap_time,
        initiation_node=final.init_node,
        steps_run=steps_run,
        section_steps=int((steps_run * real_sections).sum()),
        diverged=final.diverged,
    )


def _one_member(fiber: Fiber, ve_mv_per_ma: np.ndarray, amplitude_ma: float, dt_ms: float):
    """Batch of one member at rest that keeps integrating after an action potential."""
    batch = _Members([fiber_table(fiber)], np.asarray(ve_mv_per_ma, dtype=float)[:, None],
                     np.array([amplitude_ma]), np.zeros(1, np.int64))
    rate_tables, index = _rate_tables([fiber], dt_ms)
    batch.member_table = index
    u0, x0, g0 = rest_state(fiber)
    out = _Outcome(1)
    out.fire_step[:] = 0  # a member that "has fired" is never stopped by the kernel
    return batch, u0[:, None].copy(), x0[:, None].copy(), g0[:, :, None].copy(), out, rate_tables


def membrane_potential_after(
    fiber: Fiber, ve_mv_per_ma: np.ndarray, amplitude_ma: float, samples: np.ndarray,
    dt_ms: float,
) -> np.ndarray:
    """Membrane potential (mV) of every section after integrating ``samples`` from rest
    (no early stop): for plots of the polarisation along a fibre and for tests."""
    batch, u, x, gates, out, tables = _one_member(fiber, ve_mv_per_ma, amplitude_ma, dt_ms)
    _run_chunk(batch, u, x, gates, np.asarray(samples, dtype=float), 0, len(samples), dt_ms,
               np.array([fiber.detect_node]), out, tables)
    _check_finite(u, x)
    return (u - x)[:, 0]


def node_potential_history(
    fiber: Fiber, ve_mv_per_ma: np.ndarray, amplitude_ma: float, samples: np.ndarray,
    dt_ms: float, every_steps: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """(t_ms, v) with the membrane potential of every node (columns) every ``every_steps``
    steps from rest (rows; no early stop): where an action potential starts and how it runs."""
    batch, u, x, gates, out, tables = _one_member(fiber, ve_mv_per_ma, amplitude_ma, dt_ms)
    samples = np.asarray(samples, dtype=float)
    times, rows = [0.0], [(u - x)[fiber.node_sections, 0]]
    for k in range(0, samples.size, every_steps):
        k1 = min(samples.size, k + every_steps)
        _run_chunk(batch, u, x, gates, samples, k, k1, dt_ms, np.array([fiber.detect_node]),
                   out, tables)
        _check_finite(u, x)
        times.append(k1 * dt_ms)
        rows.append((u - x)[fiber.node_sections, 0])
    return np.asarray(times), np.asarray(rows)
