"""Change-point state inference (ruptures PELT, the non-default method) on traces with known states."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr

from sweeps.analysis.states import (
    Pelt,
    change_points,
    cluster_traces,
    dwell_times,
    hysteresis_segments,
    infer_states,
)
from sweeps.measure.recording import cluster_activity
from tests.sweeps.measure.test_measurements import make_recording

pytest.importorskip("ruptures")

# (active set, samples): none, {0}, {0, 2}, {1}, none
PLAN = [((), 50), ((0,), 80), ((0, 2), 40), ((1,), 100), ((), 30)]


def planted_trace(rng, noise=0.03, on=0.5, off=0.05, n_clusters=3):
    rows = []
    for active, length in PLAN:
        level = np.full(n_clusters, off)
        level[list(active)] = on
        rows.append(np.tile(level, (length, 1)))
    trace = np.concatenate(rows)
    return trace + noise * rng.standard_normal(trace.shape)


def test_pelt_recovers_planted_states_and_dwell_times():
    trace = planted_trace(np.random.default_rng(0))
    seg = infer_states(trace, Pelt(threshold=0.3))
    assert seg.labels() == ["none", "0", "0+2", "1", "none"]
    np.testing.assert_array_equal(seg.start, np.cumsum([0] + [n for _, n in PLAN[:-1]]))
    assert seg.end[-1] == len(trace)
    dwell = dwell_times(seg, 10.0)
    assert list(dwell) == ["0", "0+2", "1"]  # the censored first and last segments are left out
    np.testing.assert_allclose(dwell["0"], [800.0])
    np.testing.assert_allclose(dwell["1"], [1000.0])
    everything = dwell_times(seg, 10.0, include_censored=True)
    np.testing.assert_allclose(everything["none"], [500.0, 300.0])


def test_a_cluster_hovering_at_the_threshold_is_one_state_for_pelt():
    """At a plain threshold the hysteresis-free rule flickers; PELT sees one mean level."""
    rng = np.random.default_rng(1)
    trace = np.full((400, 2), 0.05)
    trace[100:300, 0] = 0.33  # active, but noisy samples dip below 0.3
    trace += 0.03 * rng.standard_normal(trace.shape)
    pelt = infer_states(trace, Pelt(threshold=0.3))
    assert pelt.labels() == ["none", "0", "none"]
    assert abs(pelt.start[1] - 100) <= 2 and abs(pelt.start[2] - 300) <= 2
    plain = hysteresis_segments(trace, on=0.3, off=0.3)
    assert len(plain) > 20  # flickers
    assert len(hysteresis_segments(trace, on=0.3, off=0.2)) < len(plain)


def test_penalty_scales_with_the_noise_not_the_units():
    trace = planted_trace(np.random.default_rng(2))
    planted = np.cumsum([n for _, n in PLAN[:-1]])
    np.testing.assert_array_equal(change_points(trace), planted)
    np.testing.assert_array_equal(change_points(trace * 10.0), planted)
    noise = 0.05 + 0.03 * np.random.default_rng(4).standard_normal((400, 3))
    assert change_points(noise).size == 0 and change_points(noise * 100).size == 0
    assert len(infer_states(trace, Pelt(threshold=0.3, penalty=1e6))) == 1


def test_level_changes_inside_one_state_are_merged():
    trace = np.full((200, 2), 0.05)
    trace[50:, 0] = 0.5
    trace[120:, 0] = 0.8  # still cluster 0 only: a change point, not a new state
    trace += 0.02 * np.random.default_rng(5).standard_normal(trace.shape)
    assert list(change_points(trace)) == [50, 120]
    seg = infer_states(trace, "pelt")
    assert seg.labels() == ["none", "0"] and list(seg.start) == [0, 50]


def test_cluster_traces_from_a_dataset_match_cluster_activity():
    rng = np.random.default_rng(3)
    rec = make_recording(rng.random((7, 3)), sizes_e=10, sizes_i=5, activity_i=0.2)
    rec_sizes = rec.population_sizes
    ds = xr.Dataset(
        {"activity": (("network", "time", "population"), rec.activity[None].repeat(2, axis=0))},
        coords={"population": list(rec.population_names),
                "population_type": ("population", list(rec.population_types)),
                "population_cluster": ("population", rec.population_clusters),
                "population_size": ("population", rec_sizes),
                "cluster": np.arange(3), "time": np.arange(7) * 10.0})
    traces = cluster_traces(ds)
    assert traces.dims == ("network", "time", "cluster")
    np.testing.assert_allclose(traces.isel(network=1), cluster_activity(rec), rtol=1e-6)
    with pytest.raises(ValueError, match="keep_traces"):
        cluster_traces(ds.drop_vars("activity"))


def test_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match=r"shape \(T, C\)"):
        infer_states(np.zeros(5), "pelt")
    with pytest.raises(ValueError, match=r"Pelt.penalty: must be a finite number > 0"):
        infer_states(np.zeros((5, 2)), Pelt(penalty=0))
    monkeypatch.setitem(sys.modules, "ruptures", None)
    with pytest.raises(ImportError, match=r"\.\[states\]"):
        infer_states(np.zeros((5, 2)), "pelt")
