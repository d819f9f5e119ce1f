"""Within- vs across-cluster state correlations of the reference network, end to end.

A sweep of the reference network (N = 10,000, Q = 20) at R_Eplus = 7.25 (metastable
switching) and R_Eplus = 1 (unclustered), 8 networks each (fewer make the percentile
interval of the mean too narrow to compare: its coverage for n networks is about
P(|t_{n-1}| < 1.96 sqrt((n - 1) / n)), 0.81 for n = 4, 0.89 for n = 8), runs into a real store; the
E-E state correlations are summarized over networks with bootstrap intervals.
"""
from __future__ import annotations

import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.analysis.datasets import select, summarize

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
