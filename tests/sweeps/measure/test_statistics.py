"""Statistics on recorded data against slow NumPy references; within vs across correlations end to end."""
from __future__ import annotations

import numpy as np
import pytest

from binnet_core import NeuronRecorder, PopulationActivityRecorder
from binnet_core.clustered import ClusteredEINetwork
from binnet_core.recorders import MomentRecorder
from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.analysis.datasets import select, summarize
from sweeps.measure.measurements import measure
from sweeps.measure.recording import WIRING_KEYS, Recording
from tests.reference.naive_measurements import (
    naive_pair_category_correlations,
    naive_variance_split,
)

PARAMS = {"N_E": 400, "N_I": 100, "Q": 4, "R_Eplus": 3.0}


@pytest.fixture(scope="module")
def recorded():
    """A 500-neuron clustered network sampled 300 times: every neuron's state and field."""
    net = ClusteredEINetwork(PARAMS, seed=3)
    net.run(net.ms_to_steps(50.0))
    interval = net.ms_to_steps(2.0)
    everything = NeuronRecorder(np.arange(net.N), interval)
    moments, activity = MomentRecorder(interval), PopulationActivityRecorder(interval)
    net.run(300 * interval, recorders=[everything, moments, activity])
    return net, everything, moments, activity


def test_moment_recorder_matches_full_matrices(recorded):
    _, everything, moments, _ = recorded
    fields = everything.field.astype(np.float64)  # recorded in the network's float32
    np.testing.assert_allclose(moments.state_mean, everything.state.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(moments.field_mean, fields.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(moments.field_variance, fields.var(axis=0), rtol=1e-8, atol=1e-12)
    assert fields.var(axis=0).min() > 0  # the fields really fluctuate


def test_moment_recorder_needs_a_sample():
    with pytest.raises(RuntimeError, match="no sample"):
        _ = MomentRecorder(5).field_variance


def test_measured_statistics_match_naive_on_recorded_network(recorded):
    net, everything, moments, activity = recorded
    pops = list(net.populations)
    populations = np.repeat(np.arange(len(pops)), [p.N for p in pops])
    rng = np.random.default_rng(0)
    sampled = np.sort(np.concatenate([rng.choice(np.arange(*p.view), 6, replace=False) for p in pops]))
    rec = Recording(
        population_names=tuple(p.name for p in pops),
        population_sizes=np.array([p.N for p in pops]),
        population_types=tuple(p.cell_type for p in pops),
        population_clusters=np.array([p.cluster for p in pops]),
        sample_interval_ms=2.0, duration_ms=600.0,
        activity=activity.values.astype(np.float32), up_transitions=np.zeros(len(pops), np.int64),
        neuron_activity=moments.state_mean, field_mean=moments.field_mean,
        field_variance=moments.field_variance, sampled_neurons=sampled,
        sampled_populations=populations[sampled],
        sampled_states=everything.state[:, sampled],
        sampled_fields=everything.field[:, sampled].astype(np.float32),
        wiring=dict.fromkeys(WIRING_KEYS, 0),
    )
    out = measure(rec)
    for quantity, full in (("states", everything.state), ("fields", everything.field)):
        temporal, quenched = naive_variance_split(full, populations, len(pops))
        np.testing.assert_allclose(out[f"{quantity}_var_temporal"], temporal, rtol=1e-7)
        np.testing.assert_allclose(out[f"{quantity}_var_quenched"], quenched, rtol=1e-7)
        series = getattr(rec, f"sampled_{quantity}")
        categories, blocks = naive_pair_category_correlations(
            series, rec.sampled_populations, rec.population_types, rec.population_clusters)
        for t, label in enumerate(("E-E", "I-I", "E-I")):
            for r, relation in enumerate(("within", "across")):
                value, n = categories[(label, relation)]
                assert out[f"corr_{quantity}_pairs"][t, r] == n
                assert out[f"corr_{quantity}"][t, r] == pytest.approx(value, abs=1e-6)
        for (a, b), value in blocks.items():
            assert out[f"corr_matrix_{quantity}"][a, b] == pytest.approx(value, abs=1e-6)


# Within- vs across-cluster state correlations of the reference network, end to end.
#
# A sweep of the reference network (N = 10,000, Q = 20) at R_Eplus = 7.25 (metastable
# switching) and R_Eplus = 1 (unclustered), 8 networks each (fewer make the percentile
# interval of the mean too narrow to compare: its coverage for n networks is about
# P(|t_{n-1}| < 1.96 sqrt((n - 1) / n)), 0.81 for n = 4, 0.89 for n = 8), runs into a real
# store; the E-E state correlations are summarized over networks with bootstrap intervals.
DEFINITION = """\
[experiment]
name = "regimes"
model = "clustered_ei"
seed = 5

[parameters]
N_E = 8000
N_I = 2000
Q = 20

[sweep]
R_Eplus = [1.0, 7.25]
replicates = 8

[simulation]
duration = "3 s"
warmup = "200 ms"
sample_interval = "10 ms"

[output]
keep_traces = false
correlation_neurons = 10
"""


@pytest.mark.slow
def test_within_exceeds_across_only_when_clustered(tmp_path):
    path = tmp_path / "regimes.toml"
    path.write_text(DEFINITION)
    assert run_sweep(load_experiment(path), tmp_path / "s.zarr", LocalThreads(2)).complete
    ds = select(open_results(tmp_path / "s.zarr"), pair_type="E-E")
    s = summarize(ds, "corr_states", over="network", n_boot=1000, seed=0)
    clustered = s.sel(R_Eplus=7.25)
    assert float(clustered.lower.sel(relation="within")) > float(clustered.upper.sel(relation="across"))
    flat = s.sel(R_Eplus=1.0)
    w, a = flat.sel(relation="within"), flat.sel(relation="across")
    assert float(w.lower) <= float(a.upper) and float(a.lower) <= float(w.upper)  # overlap
