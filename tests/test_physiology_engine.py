"""Physiology engine: fibre geometry, rest, solver exactness and threshold invariants.

The NEURON/PyFibers comparison itself lives in ``benchmarks/validate_neuron.py``; these tests pin
down what can be checked without it: published geometry, the discretisation (block Thomas against a
dense solve, a passive cable against its closed form), exact scaling laws and the orderings every
excitable-fibre model must show.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from stimwise.errors import InputError
from stimwise.physiology import solver
from stimwise.physiology.conductors import PointSource
from stimwise.physiology.fibers import KIND_PASSIVE, build_fiber, mrg_geometry
from stimwise.physiology.geometry import straight_fiber_points_mm
from stimwise.physiology.parameters import model_parameters
from stimwise.physiology.stimulus import Stimulus
from stimwise.physiology.threshold import find_thresholds

COARSE = 1e-2  # bracket for ordering tests (the differences tested are far larger)


def potentials(fiber, distance_mm=1.0, sigma=0.2):
    source = PointSource(sigma, (0.0, 0.0, distance_mm))
    return source.potential_mv_per_ma(straight_fiber_points_mm(fiber))


def threshold(fiber, stim, distance_mm=1.0, sigma=0.2, rel_tol=COARSE):
    result = find_thresholds([fiber], [potentials(fiber, distance_mm, sigma)], stim,
                             rel_tol=rel_tol)
    return result


@pytest.fixture(scope="module")
def mrg10():
    return build_fiber("mrg", 10.0)


@pytest.fixture(scope="module")
def pulse01():
    return Stimulus.pulse("monophasic", 0.1)


# --------------------------------------------------------------------------- geometry and rest


def test_interpolated_geometry_is_close_to_the_published_discrete_table():
    """ASCENT fits vs McIntyre 2002 Table 1 (+2 um of McIntyre 2004): within 7 %, the FLUT
    length within 18 % (the fit's known worst point is 2 um)."""
    table = model_parameters("mrg")["discrete_table"]
    for i, d in enumerate(table["diameter_um"]):
        geo = mrg_geometry(d)
        for key in ("node_to_node_um", "axon_diameter_um", "node_diameter_um", "lamellae"):
            assert geo[key] == pytest.approx(table[key][i], rel=0.07), (d, key)
        assert geo["paranode2_length_um"] == pytest.approx(table["paranode2_length_um"][i],
                                                           rel=0.18)


@pytest.mark.parametrize(("diameter", "sections"), [(5.7, 859), (10.0, 375), (14.0, 309)])
def test_mrg_section_counts_match_the_reference_grid(diameter, sections):
    """fibre-model-validation.md §4/§7: 40 mm gives 859 (5.7 um) ... 309 (14 um) sections."""
    fiber = build_fiber("mrg", diameter, 40.0)
    assert fiber.n_sections == sections
    assert fiber.n_nodes % 2 == 1
    assert (fiber.n_sections - 1) % 11 == 0
    assert fiber.section_z_mm[fiber.node_sections[fiber.n_nodes // 2]] == 0.0


def test_c_fibre_grid_matches_the_reference():
    fiber = build_fiber("c", 1.0, 6.0)
    assert fiber.n_sections == 721
    assert fiber.detect_node == math.floor(0.9 * 720)


def test_rest_potentials_settle_where_neuron_does(mrg10):
    """Reference §9: centre node -79.96 mV (MRG), -59.93 mV (Sundt) after the 200 ms pre-run."""
    u, x, _ = solver.rest_state(mrg10)
    centre = mrg10.node_sections[mrg10.n_nodes // 2]
    assert u[centre] - x[centre] == pytest.approx(-79.96, abs=0.005)
    c = build_fiber("c", 1.0, 6.0)
    u, x, _ = solver.rest_state(c)
    assert u[360] - x[360] == pytest.approx(-59.93, abs=0.005)


# --------------------------------------------------------------------------- solver exactness


def test_block_thomas_solves_the_documented_system_exactly():
    """The kernel against a dense numpy solve of the same 2x2-block system, random values."""
    rng = np.random.default_rng(3)
    n, nm = 9, 3
    positive = lambda *shape: rng.uniform(0.1, 5.0, shape)  # noqa: E731
    ga, gp = positive(n, nm), positive(n, nm)
    ga[-1] = gp[-1] = 0.0
    gx, cx, gm, b1 = positive(n, nm), positive(n, nm), positive(n, nm), rng.normal(size=(n, nm))
    amp, ve = positive(nm), rng.normal(size=(n, nm))
    x_old = rng.normal(size=(n, nm))
    u, x = np.zeros((n, nm)), x_old.copy()
    scratch = [np.empty((n, nm)) for _ in range(5)]
    idt, s_now, s_old = 1.0 / 0.01, 0.7, -0.3
    solver._solve(idt, s_now, s_old, amp, ve, ga, gp, gx, cx, u, x, gm, b1, *scratch)
    for m in range(nm):
        a = np.zeros((2 * n, 2 * n))
        rhs = np.zeros(2 * n)
        for i in range(n):
            left = (ga[i - 1, m], gp[i - 1, m]) if i else (0.0, 0.0)
            c = cx[i, m] * idt
            a[2 * i, 2 * i] = gm[i, m] + left[0] + ga[i, m]
            a[2 * i, 2 * i + 1] = a[2 * i + 1, 2 * i] = -gm[i, m]
            a[2 * i + 1, 2 * i + 1] = gm[i, m] + left[1] + gp[i, m] + gx[i, m] + c
            if i + 1 < n:
                a[2 * i, 2 * i + 2] = a[2 * i + 2, 2 * i] = -ga[i, m]
                a[2 * i + 1, 2 * i + 3] = a[2 * i + 3, 2 * i + 1] = -gp[i, m]
            e = amp[m] * ve[i, m]
            rhs[2 * i] = b1[i, m]
            rhs[2 * i + 1] = (gx[i, m] + c) * e * s_now + c * (x_old[i, m] - e * s_old) - b1[i, m]
        dense = np.linalg.solve(a, rhs)
        np.testing.assert_allclose(u[:, m], dense[0::2], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(x[:, m], dense[1::2], rtol=1e-10, atol=1e-10)


def test_passive_cable_in_a_uniform_field_matches_the_closed_form():
    """A uniform passive unmyelinated cable with sealed ends in a constant field E: at steady
    state v(z) = -E lambda sinh(z/lambda) / cosh(L / (2 lambda))."""
    c = build_fiber("c", 1.0, 3.0)
    n = c.n_sections
    passive = dataclasses.replace(
        c, kind=np.full(n, KIND_PASSIVE, dtype=np.int8), ra_ohm_cm=np.full(n, 100.0),
        cm_uf_per_cm2=np.ones(n), g_leak_s_per_cm2=np.full(n, 1e-4))
    z_um = passive.section_z_mm * 1e3
    field_mv_per_um = 1e-3
    ve = field_mv_per_um * z_um  # per mA; amplitude 1 mA
    samples = np.ones(20_000)  # 200 ms at 0.01 ms: 20 membrane time constants
    v = solver.membrane_potential_after(passive, ve, 1.0, samples, 0.01) - passive.rest_mv
    rm, ri, d_cm = 1e4, 100.0, 1e-4
    lam_um = math.sqrt(rm * d_cm / (4 * ri)) * 1e4
    half = passive.length_um.sum() / 2
    expected = -field_mv_per_um * lam_um * np.sinh(z_um / lam_um) / np.cosh(half / lam_um)
    assert np.abs(v - expected).max() < 0.01 * np.abs(expected).max()


def test_early_stop_never_changes_an_outcome(mrg10):
    """Members stopped at rest give the same firing and AP times as full-length runs."""
    stim = Stimulus.pulse("biphasic", 0.2, duration_ms=6.0)
    ve = potentials(mrg10)
    amps = np.array([0.03, 0.06, 0.07, 0.075, 0.08, 0.1, 0.5])
    kwargs = {"samples": stim.samples, "dt_ms": stim.dt_ms}
    early = solver.simulate([mrg10], [ve], np.zeros(7, int), amps, **kwargs)
    full = solver.simulate([mrg10], [ve], np.zeros(7, int), amps, rest_tolerance_mv=-1.0,
                           **kwargs)
    assert early.fired.any() and not early.fired.all()
    np.testing.assert_array_equal(early.fired, full.fired)
    np.testing.assert_array_equal(early.ap_time_ms, full.ap_time_ms)
    assert early.section_steps < full.section_steps


def test_batch_members_do_not_influence_each_other(mrg10):
    """A member's outcome is the same alone and in a batch of other fibres of other sizes."""
    other = build_fiber("mrg", 6.0, 20.0)
    stim = Stimulus.pulse("monophasic", 0.1, duration_ms=3.0)
    ves = [potentials(mrg10), potentials(other, 1.5)]
    alone = solver.simulate([mrg10], ves[:1], np.array([0]), np.array([0.125]),
                            stim.samples, stim.dt_ms)
    mixed = solver.simulate([other, mrg10], ves[::-1], np.array([0, 1, 0, 1]),
                            np.array([0.3, 0.125, 0.9, 0.2]), stim.samples, stim.dt_ms)
    assert alone.fired[0] == mixed.fired[1]
    assert alone.ap_time_ms[0] == mixed.ap_time_ms[1]
    assert alone.initiation_node[0] == mixed.initiation_node[1]


# --------------------------------------------------------------------------- thresholds


def test_threshold_scales_exactly_with_the_potential(mrg10, pulse01):
    """Doubling the conductivity halves every potential, so the threshold doubles exactly."""
    low = threshold(mrg10, pulse01, sigma=0.2, rel_tol=1e-3)
    high = threshold(mrg10, pulse01, sigma=0.4, rel_tol=1e-3)
    assert high.threshold_ma[0] == pytest.approx(2 * low.threshold_ma[0], rel=1e-12)
    assert (low.upper_ma[0] - low.lower_ma[0]) / low.upper_ma[0] < 1e-3


def test_threshold_orderings(mrg10, pulse01):
    """Larger fibres, longer pulses and closer sources need less current; biphasic more."""
    base = threshold(mrg10, pulse01).threshold_ma[0]
    assert 0.02 < base < 1.0
    assert threshold(build_fiber("mrg", 14.0), pulse01).threshold_ma[0] < base
    assert threshold(build_fiber("mrg", 5.7, 20.0), pulse01).threshold_ma[0] > base
    assert threshold(mrg10, Stimulus.pulse("monophasic", 0.5)).threshold_ma[0] < base
    assert threshold(mrg10, pulse01, distance_mm=2.0).threshold_ma[0] > base
    assert threshold(mrg10, Stimulus.pulse("biphasic", 0.1)).threshold_ma[0] > base
    result = threshold(mrg10, pulse01)
    assert result.initiation_node[0] == mrg10.n_nodes // 2
    assert result.warnings == [[]]


def test_warming_lowers_the_mrg_threshold_for_short_pulses(pulse01):
    """Faster Na activation (Q10 2.2) at 37 C than at 27 C lowers the 0.1 ms threshold in this
    model (by about a quarter for 10 degrees); the change stays below 50 %."""
    warm = threshold(build_fiber("mrg", 10.0, temperature_c=37.0), pulse01).threshold_ma[0]
    cool = threshold(build_fiber("mrg", 10.0, temperature_c=27.0), pulse01).threshold_ma[0]
    assert warm < cool < 1.5 * warm


@pytest.mark.slow
def test_c_fibre_needs_far_more_current_than_a_myelinated_one():
    stim = Stimulus.pulse("monophasic", 0.5, duration_ms=25.0)
    c = build_fiber("c", 1.0, 4.0)
    c_thr = threshold(c, stim, rel_tol=0.05).threshold_ma[0]
    a_thr = threshold(build_fiber("mrg", 10.0), Stimulus.pulse("monophasic", 0.5)).threshold_ma[0]
    assert c_thr > 10 * a_thr


# --------------------------------------------------------------------------- hazards


def test_HAZ031_virtual_anode_block_cannot_mislead_the_upward_scan(mrg10):
    """Reference pitfall A (10 um, 1 mm, 0.5 ms): far above threshold the flanking anodes block
    the action potential. The upward scan returns the low, centrally initiated threshold."""
    stim = Stimulus.pulse("monophasic", 0.5)
    ve = potentials(mrg10)
    result = find_thresholds([mrg10], [ve], stim, rel_tol=COARSE)
    thr = result.threshold_ma[0]
    assert result.initiation_node[0] == mrg10.n_nodes // 2
    blocked = solver.simulate([mrg10], [ve], np.array([0]), np.array([25 * thr]), stim.samples,
                              stim.dt_ms)
    assert not blocked.fired[0]  # a search starting up here would have gone astray


def test_HAZ031_end_excitation_is_reported_not_silent():
    fiber = build_fiber("mrg", 10.0, 10.0)
    end = straight_fiber_points_mm(fiber)[fiber.node_sections[0]]  # above the passive end
    source = PointSource(0.2, (end[0], 0.0, 0.3))
    ve = source.potential_mv_per_ma(straight_fiber_points_mm(fiber))
    result = find_thresholds([fiber], [ve], Stimulus.pulse("monophasic", 0.1), rel_tol=COARSE)
    text = " ".join(result.warnings[0])
    assert "end excitation" in text and "off-centre" in text


def test_HAZ032_a_diverging_integration_is_flagged_and_never_a_threshold(mrg10, pulse01):
    """Potentials so large that the arithmetic overflows: the member is flagged as diverged,
    and the search returns NaN with a warning instead of a number."""
    ve = potentials(mrg10) * 1e305
    run = solver.simulate([mrg10], [ve], np.array([0, 0]), np.array([1e-3, 1.0]),
                          pulse01.samples, pulse01.dt_ms)
    assert run.diverged.all() and not run.fired.any()
    result = find_thresholds([mrg10], [ve], pulse01, guesses_ma=[1e-3])
    assert np.isnan(result.threshold_ma[0])
    assert any("diverged" in w for w in result.warnings[0])


def test_HAZ032_a_broken_parameter_set_is_an_error_not_a_number(mrg10):
    params = mrg10.channel_parameters.copy()
    params[5] = np.nan  # a Q10 factor
    broken = dataclasses.replace(mrg10, channel_parameters=params)
    with pytest.raises(solver.SimulationError):
        solver.rest_state(broken)


def test_sundt_rates_stay_finite_at_extreme_polarisation():
    """Under strong anodes a C fibre's sections reach several volts; the rates must stay
    finite (the closed forms give inf/inf beyond a few volts) so a threshold search goes on."""
    from stimwise.physiology.channels import sundt_rates

    params = build_fiber("c", 1.0, 3.0).channel_parameters
    for v in (-1e5, -2e4, -5e3, -300.0, 0.0, 300.0, 5e3, 1e5):
        assert np.isfinite(sundt_rates(v, params)).all(), v
    # at -60 mV: Borg-Graham n by hand, f = F / (R T), q10 3^((37 - 30)/10)
    f = 96.48 / (8.315 * 310.16)
    alpha, beta = math.exp(-5 * 28 * -f), math.exp(-5 * 0.4 * 28 * -f)
    expected = (1 / (1 + alpha), beta / (3**0.7 * 0.03 * (1 + alpha)))
    np.testing.assert_allclose(sundt_rates(-60.0, params)[4:6], expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: build_fiber("mrg", 0.01), "diameter_um"),  # mm typed as um
        (lambda: build_fiber("mrg", -3.0), "diameter_um"),
        (lambda: build_fiber("c", 10.0), "diameter_um"),
        (lambda: PointSource(200.0, (0, 0, 1)), "conductivity_s_per_m"),  # mS/m
        (lambda: Stimulus.pulse("monophasic", 100.0, duration_ms=200.0), "pulse_width_ms"),  # us
        (lambda: Stimulus.pulse("monophasic", 2.0, duration_ms=1.0), "pulse_width_ms"),
        (lambda: Stimulus.pulse("square", 0.1), "waveform"),
    ],
)
def test_HAZ033_implausible_units_are_refused_naming_the_field(call, field):
    with pytest.raises(InputError) as error:
        call()
    assert error.value.problems[0].path == field


def test_stimulus_from_a_pulse_train_keeps_phases_and_charge_balance():
    from stimwise.protocol.models import PulseTrain

    train = PulseTrain.model_validate({
        "pulse": {"kind": "biphasic_asymmetric", "phase_width_us": 200,
                  "second_phase_width_us": 800},
        "frequency_hz": 100, "burst": {"pulses_per_burst": 3, "burst_frequency_hz": 20}})
    stim = Stimulus.from_train(train, duration_ms=60.0)
    assert stim.samples.min() == -1.0 and stim.samples.max() == pytest.approx(0.25)
    assert stim.samples.sum() == pytest.approx(0.0, abs=1e-9)
    assert np.count_nonzero(stim.samples == -1.0) == 4 * 200  # 3 in the burst, 1 of the next


def test_HAZ031_an_action_potential_lost_well_below_threshold_is_reported():
    """Synthetic outcomes: at 0.1 mA an AP starts (node 5) but never reaches the detection node,
    while 0.3 mA excites; the search keeps the detection criterion and says so."""
    from stimwise.physiology.threshold import _Search, _site_warnings

    search = _Search(0, 0.1)
    search.record([0.05, 0.1, 0.3], np.array([False, False, True]), np.array([-1, 5, 7]),
                  np.array([np.nan, np.nan, 1.0]), rel_tol=1e-3)
    assert (search.lower, search.upper) == (0.1, 0.3)
    _site_warnings(build_fiber("mrg", 10.0, 10.0), search)
    assert any("did not reach the detection node" in w for w in search.notes)


def test_strength_duration_fits_recover_their_own_laws():
    from stimwise.physiology.strength_duration import fit_lapicque, fit_weiss

    widths = np.array([0.02, 0.05, 0.1, 0.2, 0.5, 1.0])
    weiss = fit_weiss(widths, 0.04 * (1 + 0.3 / widths))
    assert (weiss.rheobase_ma, weiss.chronaxie_ms) == pytest.approx((0.04, 0.3), rel=1e-9)
    tau = 0.2
    lapicque = fit_lapicque(widths, 0.05 / -np.expm1(-widths / tau))
    assert lapicque.rheobase_ma == pytest.approx(0.05, rel=1e-5)
    assert lapicque.chronaxie_ms == pytest.approx(tau * math.log(2), rel=1e-5)
    assert lapicque.max_relative_residual < 1e-5


def test_a_threshold_does_not_depend_on_what_it_is_batched_with(mrg10, pulse01):
    other = build_fiber("mrg", 6.0, 20.0)
    alone = find_thresholds([mrg10], [potentials(mrg10)], pulse01)
    batched = find_thresholds([other, mrg10, other], [potentials(other, 1.5), potentials(mrg10),
                                                      potentials(other, 2.5)], pulse01)
    assert batched.threshold_ma[1] == alone.threshold_ma[0]
    assert batched.lower_ma[1] == alone.lower_ma[0]
    assert batched.n_simulations[1] == alone.n_simulations[0]


def test_more_candidates_per_round_reach_the_same_bracket_in_fewer_rounds(mrg10, pulse01):
    rounds = []
    ve = potentials(mrg10)
    one = find_thresholds([mrg10], [ve], pulse01, progress=lambda d, t: rounds.append(1))
    four = find_thresholds([mrg10], [ve], pulse01, candidates_per_round=4)
    assert four.n_simulations[0] > one.n_simulations[0] == len(rounds)
    assert four.lower_ma[0] <= one.threshold_ma[0] and one.lower_ma[0] <= four.threshold_ma[0]
    with pytest.raises(InputError):
        find_thresholds([mrg10], [ve], pulse01, candidates_per_round=0)


def test_prescribed_pulse_shapes_order_as_their_anodic_phases(mrg10):
    """A single pulse of a stimwise train: monophasic < asymmetric (low, long anodic phase) <
    symmetric biphasic (full anodic phase), all cathodic first; the monophasic train pulse is
    sampled exactly like ``Stimulus.pulse``."""
    from stimwise.protocol.models import PulseTrain

    def train_stimulus(pulse):
        train = PulseTrain.model_validate({"pulse": pulse, "frequency_hz": 50})
        return Stimulus.from_train(train, duration_ms=10.0)

    mono = train_stimulus({"kind": "monophasic", "phase_width_us": 100})
    np.testing.assert_array_equal(mono.samples, Stimulus.pulse("monophasic", 0.1).samples)
    asym = train_stimulus({"kind": "biphasic_asymmetric", "phase_width_us": 100,
                           "second_phase_width_us": 400})
    sym = train_stimulus({"kind": "biphasic_symmetric", "phase_width_us": 100})
    thresholds = [threshold(mrg10, s).threshold_ma[0] for s in (mono, asym, sym)]
    assert thresholds == sorted(thresholds)
    assert thresholds[2] > 1.05 * thresholds[0]
