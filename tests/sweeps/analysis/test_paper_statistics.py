"""The paper's statistics: the project against the reference's formulas written out naively
(tests/reference/paper_statistics.py) on the same arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from sweeps.analysis.datasets import summarize
from sweeps.measure.measurements import measure
from tests.reference import paper_statistics as ref
from tests.sweeps.measure.test_measurements import make_recording


def _correlation_dataset(rng, n_networks=6, n_inits=4):
    """Per-init correlations (each the tanh of a Fisher mean over pairs, as stored), with a
    failed init (NaN) and network-to-network spread larger than init-to-init spread."""
    pair_r = np.tanh(rng.normal(0.1, 0.05, (2, n_networks, 1, 1)) + rng.normal(0, 0.02, (2, n_networks, n_inits, 50)))
    per_init = np.array([[[math.tanh(ref.fisher_mean(pair_r[x, n, i])) for i in range(n_inits)]
                          for n in range(n_networks)] for x in range(2)])
    per_init[0, 2, 1] = np.nan
    ds = xr.Dataset({"corr_states": (("x", "network", "init"), per_init,
                                     {"aggregation": "fisher_z", "units": "1"})})
    return ds, pair_r, per_init


@pytest.mark.parametrize("seed", [0, 7])
def test_summarize_default_is_the_reference_interval(seed):
    """Figure4.py: z-mean over pairs per init, mean over a network's inits, percentile
    bootstrap of the network means: the same bounds as `summarize` (same draws)."""
    ds, pair_r, _ = _correlation_dataset(np.random.default_rng(seed))
    out = summarize(ds, "corr_states", over=("network", "init"), n_boot=1000, seed=3)
    assert out.attrs["method"] == "network"
    for x in range(2):
        networks = []
        for n in range(pair_r.shape[1]):
            inits = [ref.fisher_mean(pair_r[x, n, i]) for i in range(pair_r.shape[2])
                     if not (x == 0 and n == 2 and i == 1)]
            networks.append(ref.network_mean(inits))
        mean, lower, upper = ref.series_stats(networks, 1000, np.random.default_rng(3))
        assert float(out["mean"][x]) == pytest.approx(mean, abs=1e-12)
        assert float(out["lower"][x]) == pytest.approx(lower, abs=1e-12)
        assert float(out["upper"][x]) == pytest.approx(upper, abs=1e-12)


def test_hierarchical_interval_is_an_option_and_wider():
    """Resampling the inits inside each drawn network adds their spread a second time."""
    x = np.random.default_rng(1).normal(0.0, 1.0, (50, 10, 4))  # trials x networks x inits
    ds = xr.Dataset({"x": (("trial", "network", "init"), x)})
    paper = summarize(ds, "x", over=("network", "init"), n_boot=1000, seed=0)
    nested = summarize(ds, "x", over=("network", "init"), n_boot=1000, seed=0, method="hierarchical")
    assert nested.attrs["method"] == "hierarchical" and paper.attrs["method"] == "network"
    np.testing.assert_allclose(nested["mean"], paper["mean"])
    ratio = float(((nested["upper"] - nested["lower"]) / (paper["upper"] - paper["lower"])).mean())
    assert 1.2 < ratio < 1.6  # sqrt(2) in expectation for independent inits
    with pytest.raises(ValueError, match="method"):
        summarize(ds, "x", method="two-level")


def test_cluster_pair_matrices_plain_mean_and_median_match_the_reference():
    """pipelines/figure_helpers.py _cluster_pair_correlation_stats: np.mean and np.median of r
    per block of populations (no Fisher z), besides the stored z-mean."""
    rng = np.random.default_rng(5)
    n_samples, k, n_clusters = 60, 24, 2
    pops = rng.integers(0, 2 * n_clusters, k)
    common = rng.standard_normal((n_samples, 2 * n_clusters))
    fields = rng.standard_normal((n_samples, k)) + 1.5 * common[:, pops]
    states = rng.integers(0, 2, (n_samples, k))
    states[:, 0] = 1  # a constant series: left out
    rec = make_recording(np.zeros((n_samples, n_clusters)), states=states, fields=fields, sampled_populations=pops)
    out = measure(rec)
    for quantity, series in (("states", rec.sampled_states), ("fields", rec.sampled_fields)):
        mean, median = ref.cluster_pair_stats(series, pops, 2 * n_clusters)
        np.testing.assert_allclose(out[f"corr_matrix_{quantity}_mean"], mean, atol=1e-6)
        np.testing.assert_allclose(out[f"corr_matrix_{quantity}_median"], median, atol=1e-6)
    # on strongly correlated inputs the three differ: z-mean > plain mean
    z_mean = out["corr_matrix_fields"]
    assert np.nanmean(z_mean - out["corr_matrix_fields_mean"]) > 0


def test_single_cluster_episodes_match_figure4_highstate():
    """Figure4_HighState.py: episodes of one active cluster lasting >= 200 ms, the window's first
    and last segment left out; per episode the pairs inside the active cluster and the variance
    split of the active vs the inactive E clusters (analysis/high_state.py)."""
    from sweeps.measure.recording import active_clusters
    from tests.sweeps.measure.test_measurements import trace_from_sets

    rng = np.random.default_rng(4)
    # edge episode of cluster 0 (left out), cluster 1 300 ms, short cluster 0 (100 ms), two
    # active, cluster 2 250 ms, none, cluster 0 to the end (left out)
    sets = ([(0,)] * 25 + [()] * 3 + [(1,)] * 30 + [()] * 2 + [(0,)] * 10 + [(0, 2)] * 3 + [(2,)] * 25
            + [()] * 4 + [(0,)] * 22)
    trace = trace_from_sets(sets, 3)
    t = len(sets)
    pops = np.repeat(np.arange(6), [4, 5, 3, 2, 2, 2])  # E0, E1, E2 (3 sampled), I0, I1, I2
    common = rng.standard_normal((t, 6))
    fields = rng.standard_normal((t, pops.size)) + 1.2 * common[:, pops]
    states = (fields > 0.3).astype(np.int8)
    states[:, 9] = 0  # a constant series (E2): left out of the pairs
    rec = make_recording(trace, states=states, fields=fields, sampled_populations=pops)
    out = measure(rec)
    episodes = ref.single_cluster_episodes(active_clusters(trace, 0.3, 0.2), 10.0, 200.0)
    assert [(a, b) for a, b, _ in episodes] == [(28, 58), (73, 98)] and int(out["long_episodes"]) == 2
    assert float(out["long_episode_total_ms"]) == pytest.approx(550.0)
    for quantity, series in (("states", rec.sampled_states), ("fields", rec.sampled_fields)):
        expected = ref.active_episode_stats(series, pops, {0: 0, 1: 1, 2: 2}, episodes)
        got = out[f"episode_corr_{quantity}_active"]
        assert got[0] == pytest.approx(expected["corr_within"], abs=1e-6)
        assert got[1] == pytest.approx(expected["corr_across"], abs=1e-6)
        for part in ("temporal", "quenched"):
            for role in ("active", "inactive"):
                key = f"var_{part}_{role}"
                assert float(out[f"episode_{quantity}_{key}"]) == pytest.approx(expected[key], rel=1e-6), (quantity, key)
    included = measure(rec, episode_edges="include")
    assert int(included["long_episodes"]) == 4  # the two cut by the window count too


def test_sampled_neuron_default_is_the_measured_one():
    """docs/STATISTICS.md (benchmarks/sampled_neurons_se.py): 100 per population keeps the
    standard error of the E-E within-cluster correlation below 5 % at the Figure 4 point
    (10, the former default: 14-19 %)."""
    from sweeps.measure.measurements import REGISTRY

    assert REGISTRY.resolve_options({})["correlation_neurons"] == 100
