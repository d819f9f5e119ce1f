"""Measurements on constructed recordings with known answers, and invariants (hypothesis)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sweeps.measure.measurements import measure, variable_specs
from sweeps.measure.recording import WIRING_KEYS, Recording, active_clusters, cluster_states
from sweeps.measure.registry import INNER_DIMS
from sweeps.measure.statistics import is_binary
from tests.reference.naive_measurements import (
    naive_active_clusters,
    naive_cluster_states,
    naive_long_episodes,
    naive_pair_category_correlations,
    naive_variance_split,
)

WIRING = {
    "synapse_count": 1234,
    "connected_pairs": 1200,
    "density": 0.12,
    "connectivity_bytes": 4936,
    "build_seconds": 0.25,
    "simulation_seconds": 1.5,
    "updates_per_second": 8.0e5,
}


def make_recording(activity_e, *, sizes_e=100, sizes_i=25, activity_i=0.05, dt=10.0,
                   up_e=None, up_i=None, neuron_activity=None, states=None, fields=None,
                   sampled_populations=None, field_mean=None, field_variance=None, wiring=None):
    """A clustered layout E0..E{C-1}, I0..I{C-1} with given E activity traces [T, C]."""
    activity_e = np.asarray(activity_e, np.float32)
    n_samples, n_clusters = activity_e.shape
    activity = np.concatenate(
        [activity_e, np.full((n_samples, n_clusters), activity_i, np.float32)], axis=1
    )
    sizes = np.array([sizes_e] * n_clusters + [sizes_i] * n_clusters, np.int64)
    if neuron_activity is None:
        neuron_activity = np.repeat(activity.mean(axis=0), sizes).astype(np.float32)
    if states is None:
        states = np.zeros((n_samples, 0), np.int8)
    states = np.asarray(states)
    k = states.shape[1]
    return Recording(
        population_names=tuple(f"E{c}" for c in range(n_clusters))
        + tuple(f"I{c}" for c in range(n_clusters)),
        population_sizes=sizes,
        population_types=("E",) * n_clusters + ("I",) * n_clusters,
        population_clusters=np.tile(np.arange(n_clusters, dtype=np.int64), 2),
        sample_interval_ms=dt,
        duration_ms=dt * n_samples,
        activity=activity,
        up_transitions=np.r_[up_e if up_e is not None else [0] * n_clusters,
                             up_i if up_i is not None else [0] * n_clusters].astype(np.int64),
        neuron_activity=np.asarray(neuron_activity, np.float64),
        field_mean=np.zeros(sizes.sum()) if field_mean is None else np.asarray(field_mean),
        field_variance=(np.zeros(sizes.sum()) if field_variance is None
                        else np.asarray(field_variance)),
        sampled_neurons=np.arange(k, dtype=np.int64),
        sampled_populations=np.asarray(
            sampled_populations if sampled_populations is not None else np.zeros(k), np.int64),
        sampled_states=states.astype(np.int8),
        sampled_fields=np.asarray(fields if fields is not None else states, np.float32),
        wiring=dict(WIRING if wiring is None else wiring),
    )


def trace_from_sets(active_sets, n_clusters, on=0.5, off=0.02):
    """E activity [T, C]: `on` for the clusters in each sample's active set, `off` elsewhere."""
    trace = np.full((len(active_sets), n_clusters), off)
    for t, clusters in enumerate(active_sets):
        trace[t, list(clusters)] = on
    return trace


# --- cluster states ---------------------------------------------------------------------------

THREE_SWITCHES = [(), (), (0,), (0,), (0,), (1,), (1,), (1,), (1,), ()]


def test_three_switches_known_dwell_times():
    rec = make_recording(trace_from_sets(THREE_SWITCHES, 3), dt=10.0)
    out = measure(rec)
    assert out["switch_rate"] == pytest.approx(3 / 0.1)  # 3 changes in 100 ms
    assert out["single_episodes"] == 2
    assert out["single_dwell_ms"] == pytest.approx((30 + 40) / 2)
    assert out["fraction_none_active"] == pytest.approx(0.3)
    assert out["fraction_one_active"] == pytest.approx(0.7)
    assert out["fraction_multi_active"] == 0.0
    assert out["mean_active_clusters"] == pytest.approx(0.7)


def test_censored_and_multi_cluster_episodes_are_not_single_dwells():
    sets = [(2,), (2,), (), (0,), (0, 1), (1,), (1,), (1,), (), (0,), (0,)]
    out = cluster_states(trace_from_sets(sets, 3) > 0.3, 5.0, 55.0)
    # (2,) at the start and (0,) at the end are censored; (0,) at t=3 and (1,) at t=5..7 count
    assert out["single_episodes"] == 2
    assert out["single_dwell_ms"] == pytest.approx((5 + 15) / 2)
    assert out["fraction_multi_active"] == pytest.approx(1 / 11)
    assert out["mean_active_clusters"] == pytest.approx(10 / 11)
    assert out["switch_rate"] == pytest.approx(6 / 0.055)


def test_threshold_is_strict_at_float32_resolution():
    # 120 of 400 neurons active is stored as float32(0.3), which must not count as above 0.3
    trace = np.array([[120 / 400, 0.0], [0.31, 0.0]], np.float32)
    out = measure(make_recording(trace, sizes_e=400))
    assert out["fraction_none_active"] == 0.5 and out["fraction_one_active"] == 0.5


def test_a_cluster_flickering_at_the_threshold_switches_once():
    flicker = np.tile([[0.32, 0.05], [0.28, 0.05]], (10, 1))  # cluster 0 hovers around 0.3
    out = measure(make_recording(flicker, dt=10.0))  # default: off below 0.2
    assert out["switch_rate"] == 0.0 and out["fraction_one_active"] == 1.0
    plain = measure(make_recording(flicker, dt=10.0), cluster_off_threshold=0.3)
    assert plain["switch_rate"] == pytest.approx(19 / 0.2)  # every sample changes
    dropped = np.vstack([flicker, [[0.1, 0.05]] * 4])
    out = measure(make_recording(dropped, dt=10.0))
    assert out["switch_rate"] == pytest.approx(1 / 0.24) and out["fraction_none_active"] == 4 / 24
    with pytest.raises(ValueError, match="cluster_off_threshold"):
        measure(make_recording(flicker), cluster_off_threshold=0.4)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(0, 4)),
                  elements=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.9])),
       st.sampled_from([0.2, 0.25, 0.3]), st.sampled_from([0.0, 0.1, 0.2]))
def test_active_clusters_match_naive_loop(per_cluster, on, off):
    np.testing.assert_array_equal(active_clusters(per_cluster, on, off),
                                  naive_active_clusters(per_cluster, on, off))


def test_no_active_cluster_gives_nan_dwell():
    out = measure(make_recording(np.full((20, 4), 0.05)))
    assert out["fraction_none_active"] == 1.0 and out["switch_rate"] == 0.0
    assert math.isnan(out["single_dwell_ms"]) and out["single_episodes"] == 0


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 40), st.integers(0, 5))),
       st.floats(0.1, 100.0))
def test_cluster_states_match_naive_loop(active, dt):
    fast = cluster_states(active, dt, dt * len(active))
    slow = naive_cluster_states(active, dt, dt * len(active))
    fractions = ("fraction_none_active", "fraction_one_active", "fraction_multi_active")
    assert sum(fast[k] for k in fractions) == pytest.approx(1.0)
    assert fast["switch_rate"] * dt * len(active) / 1000 <= len(active) - 1 + 1e-9
    assert fast.keys() == slow.keys()
    for key, value in slow.items():
        assert fast[key] == pytest.approx(value, nan_ok=True), key


# --- correlations -----------------------------------------------------------------------------

def corr(out, quantity, pair_type, relation):
    """One entry of corr_<quantity> [pair_type, relation] (layout E.., I..: E-E, I-I, E-I)."""
    return out[f"corr_{quantity}"][("E-E", "I-I", "E-I").index(pair_type),
                                   ("within", "across").index(relation)]


def test_correlation_identical_and_antiphase():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 200)
    # two clusters: sampled neurons in E0, E0, E1, E1
    rec = make_recording(np.zeros((200, 2)), states=np.stack([a, a, 1 - a, a], axis=1),
                         sampled_populations=[0, 0, 1, 1])
    out = measure(rec)
    # within: (a, a) r=1 and (1-a, a) r=-1 -> z average 0; across: a vs 1-a twice, a vs a twice
    assert corr(out, "states", "E-E", "within") == pytest.approx(0.0, abs=1e-12)
    assert corr(out, "states", "E-E", "across") == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(out["corr_states_pairs"], [[2, 4], [0, 0], [0, 0]])
    assert np.isnan(corr(out, "states", "I-I", "within"))
    rec = replace(rec, sampled_states=rec.sampled_states[:, :3], sampled_fields=rec.sampled_fields[:, :3],
                  sampled_neurons=np.arange(3), sampled_populations=np.array([0, 0, 1]))
    out = measure(rec)
    # clipped at 1 - 1e-6
    assert corr(out, "states", "E-E", "within") == pytest.approx(1.0 - 1e-6, rel=0, abs=1e-10)
    assert corr(out, "states", "E-E", "across") == pytest.approx(-1.0 + 1e-6, rel=0, abs=1e-10)


def test_correlation_constant_series_excluded():
    t = np.linspace(0, 6, 50)
    fields = np.stack([np.sin(t), np.full_like(t, 0.1), np.sin(t), -np.sin(t)], axis=1)
    rec = make_recording(np.zeros((50, 2)), states=np.zeros((50, 4)), fields=fields,
                         sampled_populations=[0, 0, 1, 1])
    out = measure(rec)
    assert corr(out, "fields", "E-E", "within") == pytest.approx(-1.0, abs=1e-5)
    assert corr(out, "fields", "E-E", "across") == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(out["corr_fields_pairs"][0], [1, 2])
    assert np.all(out["corr_states_pairs"] == 0) and np.all(np.isnan(out["corr_states"]))


def test_correlation_known_value_by_pair_type():
    rng = np.random.default_rng(7)
    n = 50_000  # standard error of r about 1 / sqrt(n) = 0.0045; 4.5 SE below
    common = rng.standard_normal(n)
    # E0, E0, I0 share `common` (r = 0.5 each); E1 and I1 are independent
    x = np.stack([common + rng.standard_normal(n) for _ in range(3)]
                 + [rng.standard_normal(n) for _ in range(2)], axis=1)
    rec = make_recording(np.zeros((n, 2)), states=np.zeros((n, 5)), fields=x,
                         sampled_populations=[0, 0, 2, 1, 3])
    out = measure(rec)
    assert corr(out, "fields", "E-E", "within") == pytest.approx(0.5, abs=0.02)
    assert corr(out, "fields", "E-I", "within") == pytest.approx(np.tanh(np.arctanh(0.5) * 2 / 3),
                                                                   abs=0.02)  # E0-I0 (x2), E1-I1
    assert corr(out, "fields", "E-E", "across") == pytest.approx(0.0, abs=0.02)
    assert corr(out, "fields", "I-I", "across") == pytest.approx(0.0, abs=0.02)
    matrix = out["corr_matrix_fields"]
    assert matrix[0, 2] == pytest.approx(0.5, abs=0.02) and matrix[0, 0] == pytest.approx(0.5, abs=0.02)
    assert np.isnan(matrix[1, 1])  # one neuron: no pair
    np.testing.assert_allclose(matrix, matrix.T)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 25), st.integers(1, 3), st.integers(0, 9), st.integers(0, 2**32 - 1),
       st.booleans())
def test_correlations_match_naive_loop(n_samples, n_clusters, k, seed, binary):
    rng = np.random.default_rng(seed)
    pops = rng.integers(0, 2 * n_clusters, k)
    fields = (rng.integers(0, 2, (n_samples, k)) if binary else
              rng.standard_normal((n_samples, k)) + rng.standard_normal((n_samples, 1)))
    rec = make_recording(np.zeros((n_samples, n_clusters)), states=rng.integers(0, 2, (n_samples, k)),
                         fields=fields, sampled_populations=pops)
    out = measure(rec)
    for quantity, series in (("states", rec.sampled_states), ("fields", rec.sampled_fields)):
        categories, blocks = naive_pair_category_correlations(
            series, pops, rec.population_types, rec.population_clusters)
        tol = _z_mean_tolerance(series)
        for t, label in enumerate(("E-E", "I-I", "E-I")):
            for r_i, relation in enumerate(("within", "across")):
                r, n = categories.get((label, relation), (math.nan, 0))
                assert out[f"corr_{quantity}_pairs"][t, r_i] == n
                assert out[f"corr_{quantity}"][t, r_i] == pytest.approx(r, nan_ok=True, abs=tol)
        expected = np.full((2 * n_clusters,) * 2, np.nan)
        for (a, b), r in blocks.items():
            expected[a, b] = r
        np.testing.assert_allclose(out[f"corr_matrix_{quantity}"], expected, atol=tol)


def _z_mean_tolerance(series):
    """Largest error of a Fisher-z mean r: 1e-12 on the exact binary path; on the float32 path
    the stated bound on r, gamma_(T+2) with u = 2^-24, carried to z at the largest |r| (a mean
    of z and its tanh are no further off than the worst pair)."""
    if is_binary(series) or np.shape(series)[1] < 2:
        return 1e-12
    series = np.asarray(series, np.float64)
    n = len(series)
    gamma = (n + 2) * 2.0 ** -24 / (1 - (n + 2) * 2.0 ** -24)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(np.corrcoef(series.T).reshape(series.shape[1], -1))
    top = min(np.abs(r - np.eye(len(r))).max(initial=0.0) + gamma, 1 - 1e-6)
    return gamma / (1 - top ** 2) + 1e-12


def test_episode_statistics_and_correlations_match_naive():
    rng = np.random.default_rng(11)
    # cluster 0 for 30 samples (300 ms), none, cluster 1 for 10 (100 ms), cluster 1 for 20
    sets = [(0,)] * 30 + [()] * 5 + [(1,)] * 10 + [(0, 1)] * 3 + [(1,)] * 20 + [()] * 2
    trace = trace_from_sets(sets, 2)
    t, k = len(sets), 8
    pops = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    fields = rng.standard_normal((t, k)) + rng.standard_normal((t, 1))
    states = rng.integers(0, 2, (t, k))
    states[:30, 6:] = 0  # the I1 pair is constant in the first episode: no I-I pair there
    rec = make_recording(trace, states=states, fields=fields, sampled_populations=pops)
    out = measure(rec, min_episode_ms=200.0, episode_edges="include")  # the first run starts the window
    runs = naive_long_episodes(active_clusters(trace, 0.3, 0.2), 10.0, 200.0)
    assert runs == [(0, 30), (48, 68)]  # the second lasts exactly 200 ms
    assert out["long_episodes"] == 2
    assert out["long_episode_total_ms"] == pytest.approx(500.0)
    assert out["long_episode_mean_ms"] == pytest.approx(250.0)
    for quantity, series in (("states", rec.sampled_states), ("fields", rec.sampled_fields)):
        z_sum, n_ep = {}, {}
        for a, b in runs:
            categories, _ = naive_pair_category_correlations(
                series[a:b], pops, rec.population_types, rec.population_clusters)
            for key, (r, _) in categories.items():
                z_sum[key] = z_sum.get(key, 0.0) + math.atanh(r)
                n_ep[key] = n_ep.get(key, 0) + 1
        for ti, label in enumerate(("E-E", "I-I", "E-I")):
            for ri, relation in enumerate(("within", "across")):
                key = (label, relation)
                expected = math.tanh(z_sum[key] / n_ep[key]) if key in n_ep else math.nan
                got = out[f"episode_corr_{quantity}"][ti, ri]
                assert got == pytest.approx(expected, nan_ok=True, abs=1e-6), (quantity, key)
    assert measure(rec, min_episode_ms=400.0)["long_episodes"] == 0
    assert np.all(np.isnan(measure(rec, min_episode_ms=400.0)["episode_corr_fields"]))
    assert measure(rec, min_episode_ms=200.0)["long_episodes"] == 1  # by default (0, 30) is cut: left out


# --- variance, rates, means -------------------------------------------------------------------

def test_variance_split_matches_naive_on_full_matrices():
    rng = np.random.default_rng(3)
    t = 300
    trace = rng.random((t, 2)) * 0.1
    sizes_e, sizes_i = 30, 10
    n = 2 * (sizes_e + sizes_i)
    populations = np.repeat(np.arange(4), [sizes_e, sizes_e, sizes_i, sizes_i])
    states = (rng.random((t, n)) < rng.random(n)).astype(float)  # neurons with own rates
    fields = rng.standard_normal((t, n)) * rng.random(n) + 3 * rng.standard_normal(n)
    rec = make_recording(trace, sizes_e=sizes_e, sizes_i=sizes_i,
                         neuron_activity=states.mean(axis=0), field_mean=fields.mean(axis=0),
                         field_variance=fields.var(axis=0))
    out = measure(rec)
    for quantity, values in (("states", states), ("fields", fields)):
        temporal, quenched = naive_variance_split(values, populations, 4)
        np.testing.assert_allclose(out[f"{quantity}_var_temporal"], temporal, rtol=1e-10)
        np.testing.assert_allclose(out[f"{quantity}_var_quenched"], quenched, rtol=1e-10)
        total = [values[:, populations == p].var() for p in range(4)]
        np.testing.assert_allclose(temporal + quenched, total, rtol=1e-10)
    np.testing.assert_allclose(out["fields_mean"],
                               [fields[:, populations == p].mean() for p in range(4)])


def test_rates_means_and_variances_through_measure():
    trace = np.tile([0.1, 0.5], (8, 1))
    neuron_e = np.r_[np.full(50, 0.0), np.full(50, 0.2), np.full(100, 0.5)]
    neuron_i = np.full(50, 0.05)
    rec = make_recording(trace, sizes_e=100, sizes_i=25, dt=250.0, up_e=[100, 300],
                         up_i=[10, 40], neuron_activity=np.r_[neuron_e, neuron_i])
    out = measure(rec)
    assert out["mean_activity_E"] == pytest.approx(0.3)
    assert out["mean_activity_I"] == pytest.approx(0.05)
    assert out["up_rate_E"] == pytest.approx(400 / 200 / 2.0)  # per neuron per second, 2 s
    assert out["up_rate_I"] == pytest.approx(50 / 50 / 2.0)
    np.testing.assert_allclose(out["population_up_rate"], [0.5, 1.5, 0.2, 0.8])
    np.testing.assert_allclose(out["population_activity"], [0.1, 0.5, 0.05, 0.05], rtol=1e-6)
    np.testing.assert_allclose(out["cluster_activity_mean"], [0.1, 0.5], rtol=1e-6)
    np.testing.assert_allclose(out["cluster_activity_std"], [0, 0], atol=1e-7)
    # E0: half the neurons at m = 0, half at 0.2; E1: all at 0.5; I0, I1: all at 0.05
    np.testing.assert_allclose(out["states_var_quenched"], [0.01, 0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(out["states_var_temporal"], [0.08, 0.25, 0.0475, 0.0475])


def test_cluster_temporal_std():
    trace = np.array([[0.1, 0.0], [0.3, 0.0], [0.5, 0.0], [0.3, 0.0]])
    out = measure(make_recording(trace))
    np.testing.assert_allclose(out["cluster_activity_std"], [np.std([0.1, 0.3, 0.5, 0.3]), 0],
                               rtol=1e-6, atol=1e-8)


def test_mean_activity_is_size_weighted():
    rec = make_recording(np.tile([0.1, 0.5], (3, 1)))
    rec = replace(rec, population_sizes=np.array([100, 300, 25, 25]),
                  neuron_activity=np.zeros(450), field_mean=np.zeros(450),
                  field_variance=np.zeros(450))
    assert measure(rec)["mean_activity_E"] == pytest.approx((10 + 150) / 400)


def test_wiring_passed_through():
    out = measure(make_recording(np.zeros((2, 2))))
    for key in WIRING_KEYS:
        assert out[key] == pytest.approx(WIRING[key])


# --- schema -----------------------------------------------------------------------------------

@pytest.mark.parametrize("keep_traces", [True, False])
def test_measure_matches_variable_specs(keep_traces):
    rng = np.random.default_rng(0)
    states = rng.integers(0, 2, (12, 6))
    rec = make_recording(rng.random((12, 3)) * 0.6, states=states,
                         fields=rng.standard_normal((12, 6)),
                         sampled_populations=[0, 0, 1, 1, 2, 2])
    out = measure(rec, keep_traces=keep_traces)
    specs = variable_specs(rec.population_names, rec.n_clusters, rec.n_samples, keep_traces)
    sizes = {"population": 6, "population_other": 6, "cluster": 3, "time": 12, "pair_type": 3,
             "relation": 2}
    assert list(out) == [s.name for s in specs]
    assert ("activity" in out) == keep_traces
    for spec in specs:
        assert out[spec.name].shape == tuple(sizes[d] for d in spec.dims), spec.name
        assert out[spec.name].dtype == spec.dtype, spec.name


def test_every_variable_has_units_long_name_and_fill():
    specs = variable_specs(["E0", "I0"], 1, 5, True)
    assert len({s.name for s in specs}) == len(specs)
    for spec in specs:
        assert spec.units and spec.long_name, spec.name
        assert set(spec.dims) <= set(INNER_DIMS)
        fill = np.asarray(spec.fill, spec.dtype)
        assert np.isnan(fill) if spec.dtype.kind == "f" else fill == -1


def test_recording_rejects_bad_shapes_and_missing_wiring():
    rec = make_recording(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Recording.neuron_activity"):
        replace(rec, **{"neuron_activity": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match="Recording.sampled_states"):
        replace(rec, **{"sampled_states": np.zeros((3, 0), np.int8)})
    with pytest.raises(ValueError, match="missing keys.*density"):
        replace(rec, **{"wiring": {k: 1 for k in WIRING_KEYS if k != "density"}})
    with pytest.raises(ValueError, match="cluster_threshold"):
        measure(rec, cluster_threshold=1.5)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 4), st.integers(0, 6), st.integers(0, 2**32 - 1),
       st.booleans())
def test_measure_invariants_on_random_recordings(n_samples, n_clusters, k, seed, keep_traces):
    rng = np.random.default_rng(seed)
    sizes_e, sizes_i = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    states = rng.integers(0, 2, (n_samples, k))
    rec = make_recording(rng.random((n_samples, n_clusters)), sizes_e=sizes_e, sizes_i=sizes_i,
                         activity_i=float(rng.random()),
                         neuron_activity=rng.random(n_clusters * (sizes_e + sizes_i)),
                         up_e=rng.integers(0, 100, n_clusters), up_i=rng.integers(0, 100, n_clusters),
                         states=states, fields=rng.standard_normal((n_samples, k)),
                         sampled_populations=rng.integers(0, 2 * n_clusters, k))
    out = measure(rec, keep_traces=keep_traces)
    specs = variable_specs(rec.population_names, n_clusters, n_samples, keep_traces)
    assert [(s.name, s.dtype) for s in specs] == [(n, v.dtype) for n, v in out.items()]
    fractions = out["fraction_none_active"] + out["fraction_one_active"] + out["fraction_multi_active"]
    assert fractions == pytest.approx(1.0)
    assert 0 <= out["mean_active_clusters"] <= n_clusters
    assert np.all((out["cluster_activity_mean"] >= 0) & (out["cluster_activity_mean"] <= 1))
    for p, neurons in enumerate(np.split(rec.neuron_activity, np.cumsum(rec.population_sizes)[:-1])):
        total = out["states_var_temporal"][p] + out["states_var_quenched"][p]
        assert total == pytest.approx(neurons.mean() * (1 - neurons.mean()), abs=1e-9)
    for name in ("corr_states", "corr_fields", "corr_matrix_states", "episode_corr_fields"):
        values = out[name][~np.isnan(out[name])]
        assert np.all((values >= -1) & (values <= 1)), name
    assert out["corr_states_pairs"].sum() <= k * (k - 1) // 2


def test_generic_model_without_cell_types_or_clusters():
    rng = np.random.default_rng(5)
    rec = Recording(
        population_names=("A", "B"), population_sizes=np.array([3, 2]),
        population_types=("", ""), population_clusters=np.array([-1, -1]),
        sample_interval_ms=1.0, duration_ms=5.0,
        activity=rng.random((5, 2)).astype(np.float32), up_transitions=np.array([4, 1]),
        neuron_activity=rng.random(5), field_mean=rng.random(5), field_variance=rng.random(5),
        sampled_neurons=np.arange(2), sampled_populations=np.array([0, 1]),
        sampled_states=rng.integers(0, 2, (5, 2)).astype(np.int8),
        sampled_fields=rng.random((5, 2)).astype(np.float32), wiring=WIRING)
    out = measure(rec)
    assert rec.n_clusters == 0 and out["cluster_activity_mean"].shape == (0,)
    assert out["fraction_none_active"] == 1.0 and out["switch_rate"] == 0.0
    for name in ("mean_activity_E", "up_rate_I", "corr_states", "episode_corr_states"):
        assert np.all(np.isnan(out[name])), name
    assert out["corr_states"].shape == (0, 2)  # no cell types: no pair types
    assert out["corr_matrix_states"].shape == (2, 2)
    np.testing.assert_allclose(out["population_up_rate"], [4 / 3 / 0.005, 1 / 2 / 0.005])
