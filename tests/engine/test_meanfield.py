"""Clustered mean-field theory: formulas, fixed points, stability, bifurcations, simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from binnet_core import PopulationActivityRecorder
from binnet_core import meanfield as mf
from binnet_core.clustered import ClusteredEINetwork, connection_parameters, validate_parameters
from binnet_core.meanfield import _kernels as kernels
from binnet_core.meanfield import bifurcation_table, theory_table
from binnet_core.meanfield.systems import reduced_system
from tests.reference.meanfield_naive import unclustered_fixed_point

CASES = [
    {"R_Eplus": 7.25, "kappa": 0.0},
    {"R_Eplus": 7.25, "kappa": 1.0},
    {"R_Eplus": 10.0, "kappa": 0.5, "R_j": 0.8},
    {"R_Eplus": 4.0, "kappa": 0.0, "connection_type": "bernoulli"},  # p_in = 1.2 > 1
    {"R_Eplus": 6.0, "kappa": 0.3, "connection_type": "fixed_indegree", "Q": 10},
]


def test_unclustered_limit_equals_the_two_population_solver():
    # The same coefficients with the variance K J^2 m (1 - m) of the previous solver.
    params = {"R_Eplus": 1.0, "kappa": 0.5}
    p = validate_parameters(params)
    cp = connection_parameters(p)
    sizes = np.array([p["N_E"], p["N_I"]])[None, :] / p["Q"]
    coef = np.empty((3, 2, 2, 2))
    for same, (prob, w) in enumerate(((cp.p_plus, cp.j_plus), (cp.p_minus, cp.j_minus))):
        coef[0, same] = prob * w * sizes
        coef[1, same] = prob * w**2 * sizes
        coef[2, same] = -prob * w**2 * sizes
    system = mf.ClusterSystem(Q=p["Q"], coef=coef, theta=np.array([cp.theta_E, cp.theta_I]),
                              tau=np.array([10.0, 5.0]))
    expected = unclustered_fixed_point(params)
    for n in (0, 1, 3):
        (point,) = mf.system_fixed_points(system, n)
        np.testing.assert_allclose(point.rates[[0, 2 * p["Q"] - 1]], expected, rtol=1e-9)
        assert point.stable


def test_published_unclustered_reference_values():
    p = validate_parameters({"R_Eplus": 1.0})
    A, _, _, theta, _ = mf.full_system(mf.cluster_system(p))
    q = p["Q"]
    aggregated = np.array([[A[0, :q].sum(), A[0, q:].sum()], [A[q, :q].sum(), A[q, q:].sum()]])
    np.testing.assert_allclose(aggregated, math.sqrt(0.3 * 8000) * np.array([[1, -1.2], [1, -1]]))
    np.testing.assert_allclose(theta[[0, q]], [-0.470, -0.176], atol=5e-4)
    (point,) = mf.fixed_points({"R_Eplus": 1.0, "connection_type": "poisson"}, 0)
    np.testing.assert_allclose(point.rates[[0, q]], [0.03993, 0.06262], atol=5e-6)


def test_variance_coefficients_match_contact_count_moments():
    # B = (Var K + E[K]^2) w^2 n and C = -E[K]^2 w^2 n from the exact count distributions.
    p, w, n = 2.3, 0.7, 50.0
    passes = 3  # ceil(2.3) Bernoulli(2.3/3) draws: Var K = 3 q (1 - q)
    q = p / passes
    for kind, var_k in (("poisson", p), ("bernoulli", passes * q * (1 - q))):
        b, c = mf.variance_coefficients(p, w, n, kind)
        assert b == pytest.approx((var_k + p**2) * w**2 * n)
        assert c == pytest.approx(-(p**2) * w**2 * n)
    b, c = mf.variance_coefficients(0.4, w, n, "bernoulli")
    assert b == pytest.approx(0.4 * w**2 * n)
    b, c = mf.variance_coefficients(0.4, w, n, "fixed_indegree")
    assert b == -c == pytest.approx(0.4 * n * (1 - 1 / n) * w**2)


@pytest.mark.parametrize("params", CASES)
def test_reduced_fixed_points_are_fixed_points_of_the_full_system(params):
    q = validate_parameters(params)["Q"]
    system = mf.cluster_system(params)
    for n in (0, 1, 2, q - 1, q):
        points = mf.fixed_points(params, n)
        assert points.reason is None
        assert points, "the homogeneous low state always exists"
        for point in points:
            rates = point.rates
            assert np.max(np.abs(mf.transfer(system, rates) - rates)) < 1e-10
        focus = [pt.rates[0] for pt in points]
        assert focus == sorted(focus)
        # the homogeneous state (every cluster alike) is a state of every focus count
        assert any(abs(pt.rates[0] - pt.rates[q - 1]) < 1e-9 for pt in points)
        assert len(set(np.round(focus, 9))) == len(focus)


@pytest.mark.parametrize("params", CASES[:3])
def test_analytic_jacobian_equals_finite_differences(params):
    system = mf.cluster_system(params)
    rng = np.random.default_rng(1)
    m = rng.uniform(0.02, 0.9, 2 * system.Q)
    _, _, _, _, tau = mf.full_system(system)
    h = 1e-6
    numeric = np.empty((m.size, m.size))
    for j in range(m.size):
        up, down = m.copy(), m.copy()
        up[j] += h
        down[j] -= h
        numeric[:, j] = (mf.transfer(system, up) - mf.transfer(system, down)) / (2 * h)
    numeric = (numeric - np.eye(m.size)) / tau[:, None]
    np.testing.assert_allclose(mf.jacobian(system, m), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("params", CASES[:3])
def test_slope_of_the_response_curve_equals_finite_differences(params):
    """The implicit-function slope g'(v) that locates the extrema of g (kernels._slope)."""
    red, theta, _, _, _ = reduced_system(mf.cluster_system(params), 1)
    work = kernels._work()
    h = 1e-6  # central differences: truncation ~h^2, rounding ~1e-16 / h = 1e-10
    for v in (0.05, 0.3, 0.6, 0.9):
        y = np.full(3, 0.05)
        assert kernels._inner(v, y, red, theta, work)[1]
        slope = kernels._slope(work)
        up, down = y.copy(), y.copy()  # the same branch of the other rates
        numeric = (kernels._inner(v + h, up, red, theta, work)[0]
                   - kernels._inner(v - h, down, red, theta, work)[0]) / (2 * h)
        assert slope == pytest.approx(numeric, abs=1e-8)


@pytest.mark.parametrize("params", [{"R_Eplus": 7.25, "kappa": 0.0}, {"R_Eplus": 6.5, "kappa": 1.0}])
def test_extrema_from_the_slope_equal_a_golden_section_search(params):
    """Every interior extremum of the scanned g: the slope vanishes there (to rounding), it is
    as extreme as the golden section's (within 1e-13: the other rates are solved to a residual
    of 1e-14) and near it (the golden section cannot resolve v closer than sqrt(1e-13 / g''),
    about 1e-6, where g is that flat)."""
    red, theta, _, _, _ = reduced_system(mf.cluster_system(params), 1)
    work = kernels._work()
    grid = np.linspace(0.0, 1.0, 61)
    gy = np.empty((grid.size, 3))
    gv = np.empty(grid.size)
    y = np.full(3, 0.05)
    for i, v in enumerate(grid):
        gv[i] = kernels._inner(v, y, red, theta, work)[0]
        gy[i] = y
    found = 0
    for i in range(1, grid.size - 1):
        left, right = gv[i] - gv[i - 1], gv[i + 1] - gv[i]
        if left * right < 0:
            is_max = left > 0
            v, g, y, ok = kernels._extremum(grid[i - 1:i + 2], gy[i - 1:i + 2], red, theta,
                                            is_max, work)
            assert ok and kernels._inner(v, y, red, theta, work)[1]
            assert abs(kernels._slope(work)) < 1e-12
            v_golden, g_golden, _, ok = kernels._golden(grid[i - 1], grid[i + 1], gy[i], red,
                                                        theta, is_max, work)
            assert ok and abs(v - v_golden) < 1e-6
            assert (g >= g_golden - 1e-13) if is_max else (g <= g_golden + 1e-13)
            found += 1
    assert found == 2  # a maximum and a minimum: three fixed points


def test_tables_do_not_depend_on_threads_chunks_or_duplicates():
    """theory_table solves chunks of distinct systems on threads: the same arrays as one
    system at a time."""
    sets = [{"R_Eplus": r, "kappa": k} for r in (2.0, 5.0, 7.25, 12.0) for k in (0.0, 1.0)]
    sets += sets[::3]
    counts = [0, 1, 3, 20]
    one_by_one = [theory_table([p], counts) for p in sets]
    for threads, chunk in ((1, 4096), (3, 2), (2, 4096)):
        table = theory_table(sets, counts, threads=threads, chunk=chunk)
        for s, single in enumerate(one_by_one):
            for field in ("rates", "fixed_points", "stable_points"):
                np.testing.assert_array_equal(getattr(table, field)[s], getattr(single, field)[0])
            k = single.all_focus_E.shape[-1]
            np.testing.assert_array_equal(table.all_focus_E[s, :, :k], single.all_focus_E[0])
            np.testing.assert_array_equal(table.all_stable[s, :, :k], single.all_stable[0])
    assert (table.fixed_points == 3).any() and (table.stable_points == 2).any()


def test_bifurcation_table_equals_single_searches_on_threads():
    sets = [{"kappa": 0.0, "R_Eplus": 3.0}, {"kappa": 1.0}, {"kappa": 0.0, "R_Eplus": 9.0},
            {"kappa": 0.5, "R_j": 0.8}]
    table = bifurcation_table(sets, [1, 2], threads=2)
    expected = [[mf.bifurcation(p, n) for n in (1, 2)] for p in sets]
    np.testing.assert_array_equal(table, expected)
    assert table[0, 0] == table[2, 0]  # R_Eplus is ignored


@pytest.mark.parametrize("params", CASES)
def test_stability_from_symmetry_blocks_equals_full_eigenvalues(params):
    system = mf.cluster_system(params)
    q = system.Q
    checked = 0
    for n in (1, 2, q):
        for point in mf.fixed_points(params, n):
            full = np.linalg.eigvals(mf.jacobian(system, point.rates)).real.max()
            assert point.max_real_eigenvalue == pytest.approx(full, rel=1e-6, abs=1e-9)
            assert point.stable == (full < 0)
            checked += 1
    assert checked >= 3


def test_high_and_low_states_of_the_reference_network():
    points = mf.fixed_points({"R_Eplus": 7.25, "kappa": 0.0}, 1)
    stable = [pt for pt in points if pt.stable]
    assert len(points) == 3 and len(stable) == 2
    assert stable[0].rates[0] < 0.1 < 0.9 < stable[1].rates[0]
    assert not points[1].stable


@pytest.mark.parametrize("R_j, kappa, expected", [
    (0.75, 0.0, 5.04), (0.75, 0.5, 5.41), (0.75, 1.0, 6.32),
    (0.5, 0.0, 2.63), (0.5, 0.5, 2.67), (0.5, 1.0, 2.72),
])
def test_bifurcation_reference_values(R_j, kappa, expected):
    value = mf.bifurcation({"R_j": R_j, "kappa": kappa}, 1)
    assert value == pytest.approx(expected, abs=0.005)
    below = mf.fixed_points({"R_j": R_j, "kappa": kappa, "R_Eplus": value - 2e-4}, 1)
    above = mf.fixed_points({"R_j": R_j, "kappa": kappa, "R_Eplus": value}, 1)
    assert len(below) == 1 and len(above) > 1


@pytest.mark.parametrize("windows, expected", [
    ([(4.33, 4.37), (6.0, 20.0)], 4.33),   # narrower than the scan step, between two values
    ([(2.03, 2.5), (6.0, 20.0)], 2.03),    # multistable, then not, then again
])
def test_bifurcation_finds_the_first_window_without_assuming_monotonicity(monkeypatch, windows,
                                                                         expected):
    def synthetic(parameters, r, n):
        inside = any(lo <= r < hi for lo, hi in windows)
        near = min(abs(r - 0.5 * (lo + hi)) for lo, hi in windows)  # smallest near a window
        return (3 if inside else 1), near, kernels.OK

    monkeypatch.setattr("binnet_core.meanfield.solvers._count_at", synthetic)
    value = mf.bifurcation({"kappa": 0.0}, 1)
    assert expected <= value <= expected + 2e-4


def _sampled_response(params, n, steps=1000, interpolated=10_000):
    """The reference's effective response curve: focus-E rate in, Phi_Ef out, sampled at
    ``steps + 1`` points and linearly interpolated to ``interpolated`` points."""
    red, theta, _, _, _ = reduced_system(mf.cluster_system(params), n)
    y, work = np.full(3, 0.05), kernels._work()
    v = np.linspace(0.0, 1.0, steps + 1)
    out = np.array([kernels._inner(x, y, red, theta, work)[0] + x for x in v])
    fine = np.linspace(0.0, 1.0, interpolated)
    return fine, np.interp(fine, v, out)


def _reference_crossings(x, y, tol=1e-3):
    """The reference's crossing rule: |x - y| <= tol counts, nearby crossings keep the last."""
    diff = x - y
    crossings = []
    for idx in range(1, len(diff)):
        cross = None
        if abs(diff[idx]) <= tol:
            cross = y[idx]
        elif abs(diff[idx - 1]) <= tol:
            cross = y[idx - 1]
        elif diff[idx - 1] * diff[idx] < 0:
            w = diff[idx - 1] / (diff[idx - 1] - diff[idx])
            cross = y[idx - 1] + w * (y[idx] - y[idx - 1])
        if cross is not None:
            if crossings and abs(cross - crossings[-1]) <= tol:
                crossings[-1] = cross
            else:
                crossings.append(cross)
    return crossings


def test_sampled_crossings_of_the_reference_differ_from_exact_fixed_points():
    params = {"R_j": 0.75, "kappa": 1.0}
    exact = mf.bifurcation(params, 1)
    below = dict(params, R_Eplus=exact - 0.1)
    # Below the bifurcation the curve runs within 1e-3 of the diagonal without crossing
    # it: the sampled rule reports a clustered state that does not exist.
    assert len(mf.fixed_points(below, 1)) == 1
    assert len(_reference_crossings(*_sampled_response(below, 1))) > 1
    # Above it, a stable and an unstable fixed point closer than 1e-3 merge into one.
    above = dict(params, R_Eplus=exact + 0.002)
    exact_points = mf.fixed_points(above, 1)
    assert len(exact_points) == 3
    assert exact_points[2].rates[0] - exact_points[1].rates[0] < 0.05
    sampled = _reference_crossings(*_sampled_response(above, 1))
    assert len(sampled) == 2
    # and the low state is shifted by far more than the exact residual allows
    assert abs(sampled[0] - exact_points[0].rates[0]) > 1e-3


@pytest.mark.parametrize("params, focus_count, field", [
    ({"R_Eplus": 20.0}, 1, "R_Eplus"),
    ({"R_Eplus": 5.0}, 21, "focus_count"),
    ({"R_Eplus": 5.0}, -1, "focus_count"),
    ({"R_Eplus": 5.0}, 1.5, "focus_count"),
    ({"R_Eplus": 5.0, "kappa": math.nan}, 1, "kappa"),
    ({"R_Eplus": 5.0, "g": math.inf}, 1, "g"),
])
def test_bad_input_names_the_field(params, focus_count, field):
    with pytest.raises(ValueError, match=field):
        mf.fixed_points(params, focus_count)
    if field != "R_Eplus":
        with pytest.raises(ValueError, match=field):
            mf.bifurcation(params, focus_count)


def test_non_convergence_is_reported_not_hidden(monkeypatch):
    def failing(coef, theta, tau, q, focus, n_grid, roots, max_real, count, status):
        count[:] = 0
        status[:] = kernels.INNER_FAILED

    def failing_count(red, theta, n_grid, y_start):
        return 0, math.nan, kernels.INNER_FAILED

    monkeypatch.setattr(kernels, "analyse_many", failing)
    monkeypatch.setattr(kernels, "count_only", failing_count)
    points = mf.fixed_points({"R_Eplus": 5.0}, 1)
    assert points == [] and "did not converge" in points.reason
    assert math.isnan(mf.bifurcation({"kappa": 0.0}, 1))


# -- against simulation ----------------------------------------------------------------

def _focus_activity(params, initial, seed, t0=20.0, t1=120.0):
    net = ClusteredEINetwork(dict(params, initial_activity=list(initial)), seed=seed)
    rec = PopulationActivityRecorder(net.ms_to_steps(1.0))
    net.run(net.ms_to_steps(t1), recorders=[rec])
    times = np.arange(1, rec.values.shape[0] + 1) * 1.0
    return times, rec.values[:, 0], (times > t0) & (times <= t1)


@pytest.mark.slow
@pytest.mark.parametrize("R_Eplus, kappa, tolerance", [(7.25, 0.0, 0.05), (10.0, 0.0, 0.05),
                                                       (7.25, 1.0, 0.15)])
def test_simulation_stays_at_the_high_focus_state(R_Eplus, kappa, tolerance):
    params = {"N_E": 8000, "N_I": 2000, "R_Eplus": R_Eplus, "kappa": kappa}
    high = max((pt for pt in mf.fixed_points(params, 1) if pt.stable), key=lambda pt: pt.rates[0])
    for seed in (1, 2):
        _, focus, window = _focus_activity(params, high.rates, seed)
        assert focus[window].mean() == pytest.approx(high.rates[0], abs=tolerance)


@pytest.mark.slow
def test_cluster_decays_far_below_the_bifurcation():
    params = {"N_E": 8000, "N_I": 2000, "R_Eplus": 2.0, "kappa": 0.0}
    (low,) = mf.fixed_points(params, 1)
    initial = low.rates.copy()
    initial[0] = 0.9
    times, focus, _ = _focus_activity(params, initial, seed=1, t1=100.0)
    assert focus[times <= 100.0].min() < 0.1


@pytest.mark.parametrize("connection_type", ["poisson", "bernoulli", "fixed_indegree"])
def test_numpy_homogeneous_states_equal_the_compiled_solver(connection_type):
    from binnet_core.meanfield.homogeneous import homogeneous_fixed_points

    compared = 0
    for kappa in (0.0, 0.5, 1.0):
        for p0 in (0.2, 0.25, 0.3):  # the connectivities of the shipped experiments
            for r_eplus in (1.0, 4.0, 7.25, 12.0):
                params = {"R_Eplus": r_eplus, "R_j": 0.8, "kappa": kappa, "p0_ee": p0, "p0_ie": p0,
                          "p0_ei": p0, "p0_ii": p0, "connection_type": connection_type}
                expected, got = mf.fixed_points(params, focus_count=0), homogeneous_fixed_points(params)
                assert expected.reason is None
                assert len(got) == len(expected), params
                for a, b in zip(expected, got, strict=True):
                    np.testing.assert_allclose(b.rates, a.rates, rtol=0, atol=1e-10)
                    assert (b.stable, b.focus_count) == (a.stable, 0)
                    assert b.max_real_eigenvalue == pytest.approx(a.max_real_eigenvalue, rel=1e-6, abs=1e-9)
                compared += len(expected)
    assert compared >= 36  # at least one state per parameter set
