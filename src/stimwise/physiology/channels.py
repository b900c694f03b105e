"""Voltage-gated channels of the node of Ranvier (MRG) and of the Sundt C fibre, as Numba functions.

Equations and constants are the published ones: MRG node (McIntyre, Richardson & Grill 2002,
J Neurophysiol 87:995-1006, appendix: fast Na m^3 h, persistent Na mp^3, slow K s, with the
rate functions and Q10 factors of its NEURON model AXNODE), and the Sundt et al. 2015 C fibre (Na of
Traub & Miles 1991 with activation/inactivation shifted by -6/+6 mV; Borg-Graham 1987 delayed
rectifier n^3 l). The singular points of the x/(1 - exp(-x)) rate forms and the clamps beyond
+-150 mV follow the NEURON model files so that stimwise integrates the very same functions.

Channel parameter vectors (one per fibre, see ``fibers.py``):
MRG  ``[g_naf, g_nap, g_ks, e_na, e_k, q10 factor Na activation, Na inactivation, K]``
Sundt ``[g_na, g_k, e_na, e_k, m shift, h shift, q10 factor Na, K, T (C), vhalf n, vhalf l,
a0 n, a0 l, zeta n, zeta l, gm n, gm l]``.
"""

from __future__ import annotations

import math

from numba import njit

KIND_MRG_NODE = 1
KIND_SUNDT = 2
FARADAY = 9.648e4  # C/mol, as in the Borg-Graham model file
GAS_CONSTANT = 8.315  # J/(mol K)


@njit(cache=True, inline="always", error_model="numpy")
def _exp0(x: float) -> float:
    """exp(x) with exp(x < -100) = 0, as the AXNODE model file does."""
    return 0.0 if x < -100.0 else math.exp(x)


@njit(cache=True, inline="always", error_model="numpy")
def _up(x: float, a: float, b: float, c: float, clamp: float) -> float:
    """a (x + b) / (1 - exp(-(x + b) / c)) with its limit a c at x = -b (rising rate)."""
    if abs((x + b) / c) < 1e-6:
        return a * c
    if x < -150.0:
        return clamp
    return a * (x + b) / (1.0 - _exp0(-(x + b) / c))


@njit(cache=True, inline="always", error_model="numpy")
def _down(x: float, a: float, b: float, c: float, clamp: float) -> float:
    """a (-(x + b)) / (1 - exp((x + b) / c)) with its limit a c at x = -b (falling rate)."""
    if abs((x + b) / c) < 1e-6:
        return a * c
    if x > 150.0:
        return clamp
    return a * (-(x + b)) / (1.0 - _exp0((x + b) / c))


@njit(cache=True, error_model="numpy")
def mrg_rates(v: float, q_act: float, q_inact: float, q_k: float) -> tuple:
    """(inf, tau) of mp, m, h, s at ``v`` (mV) for the MRG node (tau in ms)."""
    a = q_act * _up(v, 0.01, 27.0, 10.2, 0.00086725)
    b = q_act * _down(v, 0.00025, 34.0, 10.0, 1.5855e-05)
    mp_inf, mp_tau = a / (a + b), 1.0 / (a + b)
    a = q_act * _up(v, 1.86, 21.4, 10.3, 0.15733)
    b = q_act * _down(v, 0.086, 25.7, 9.16, 0.0057268)
    m_inf, m_tau = a / (a + b), 1.0 / (a + b)
    a = q_inact * _down(v, 0.062, 114.0, 11.0, 0.0032594)
    b = q_inact * (0.0014054 if v < -150.0 else 2.3 / (1.0 + _exp0(-(v + 31.8) / 13.4)))
    h_inf, h_tau = a / (a + b), 1.0 / (a + b)
    # slow K uses Traub's convention v - vtraub with vtraub = -80 mV
    a = q_k * (3.3484e-05 if v < -150.0 else 0.3 / (_exp0((v + 80.0 - 27.0) / -5.0) + 1.0))
    b = q_k * (3.3484e-06 if v < -150.0 else 0.03 / (_exp0((v + 80.0 + 10.0) / -1.0) + 1.0))
    s_inf, s_tau = a / (a + b), 1.0 / (a + b)
    return mp_inf, mp_tau, m_inf, m_tau, h_inf, h_tau, s_inf, s_tau


@njit(cache=True, inline="always", error_model="numpy")
def _exprel(x: float, y: float) -> float:
    """x / (exp(x / y) - 1) with its limit near x = 0 (Traub & Miles rate form)."""
    if abs(x / y) < 1e-6:
        return y * (1.0 - x / y / 2.0)
    return x / (math.exp(x / y) - 1.0)


@njit(cache=True, error_model="numpy")
def sundt_rates(v: float, p) -> tuple:
    """(inf, tau) of Na m, h and K n, l at ``v`` (mV) for the Sundt C fibre; ``p`` as above."""
    q_na, q_k, celsius = p[6], p[7], p[8]
    vm = v + 65.0 + p[4]
    a = q_na * 0.32 * _exprel(13.1 - vm, 4.0)
    b = q_na * 0.28 * _exprel(vm - 40.1, 5.0)
    m_inf, m_tau = a / (a + b), 1.0 / (a + b)
    vh = v + 65.0 + p[5]
    a = q_na * 0.128 * math.exp((17.0 - vh) / 18.0)
    b = q_na * 4.0 / (math.exp((40.0 - vh) / 5.0) + 1.0)
    if math.isinf(a):  # beyond -12 V: the limits, where the closed form gives inf/inf
        h_inf, h_tau = 1.0, 0.0
    else:
        h_inf, h_tau = a / (a + b), 1.0 / (a + b)
    f = 1.0e-3 * FARADAY / (GAS_CONSTANT * (273.16 + celsius))
    n_inf, n_tau = _borg_graham(p[13] * (v - p[9]) * f, p[15], q_k * p[11])
    l_inf, l_tau = _borg_graham(p[14] * (v - p[10]) * f, p[16], q_k * p[12])
    return m_inf, m_tau, h_inf, h_tau, n_inf, n_tau, l_inf, l_tau


@njit(cache=True, inline="always", error_model="numpy")
def _borg_graham(x: float, gm: float, rate: float) -> tuple:
    """(inf, tau) = (1 / (1 + e^x), e^(gm x) / (rate (1 + e^x))), finite for any x.

    The closed form is used wherever it is finite (identical to the model file); beyond some
    volts of polarisation it would give inf/inf, and the algebraically equal
    tau = 1 / (rate (e^(-gm x) + e^((1 - gm) x))) is used instead.
    """
    alpha = math.exp(x)
    tau = math.exp(gm * x) / (rate * (1.0 + alpha))
    if not math.isfinite(tau):
        tau = 1.0 / (rate * (math.exp(-gm * x) + math.exp((1.0 - gm) * x)))
    return 1.0 / (1.0 + alpha), tau


@njit(cache=True, error_model="numpy")
def gate_rates(kind: int, v: float, p) -> tuple:
    """(inf, tau) of the four gates of a channel set of ``kind``."""
    if kind == KIND_MRG_NODE:
        return mrg_rates(v, p[5], p[6], p[7])
    return sundt_rates(v, p)


@njit(cache=True, error_model="numpy")
def channel_conductance(kind: int, g0: float, g1: float, g2: float, g3: float, p) -> tuple:
    """(total conductance S/cm^2, sum of g E in mA/cm^2) of the gated channels.

    The ionic current is sum g (v - E) = G v - sum g E, linear in v for frozen gates, which is
    how NEURON's fixed step linearises it.
    """
    if kind == KIND_MRG_NODE:
        g_na = p[0] * g1 * g1 * g1 * g2 + p[1] * g0 * g0 * g0
        g_k = p[2] * g3
        return g_na + g_k, g_na * p[3] + g_k * p[4]
    g_na = p[0] * g0 * g0 * g0 * g1
    g_k = p[1] * g2 * g2 * g2 * g3
    return g_na + g_k, g_na * p[2] + g_k * p[3]
