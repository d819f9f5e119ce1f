"""The Zarr store: schema first, region writes, status after data, provenance, lock, mismatch."""

from __future__ import annotations

import json
import math
import pickle
import socket

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweeps.errors import StoreError
from sweeps.execution.task import (
    TIMING_VARIABLES,
    PointBatch,
    PointResult,
    run_batch,
    run_points,
)
from sweeps.plan import SweepPlan
from sweeps.spec.definition import load_experiment
from sweeps.store.chunks import point_chunks
from sweeps.store.results import open_results
from sweeps.store.sweep_store import FAILED, OK, TODO, SweepStore, identity_differences
from tests.reference.points import batch_results, simulate_point


def make_store(definition_path, store_path):
    experiment = load_experiment(definition_path)
    return experiment, SweepStore.create(store_path, SweepPlan.build(experiment))


def test_schema_is_complete_before_any_point(toy_definition, store_path):
    experiment, store = make_store(toy_definition(), store_path)
    ds = open_results(store_path)
    assert dict(ds.sizes) == {"R_Eplus": 3, "g": 3, "seed": 2, "time": 10, "population": 4, "cluster": 2,
                                "population_other": 4, "pair_type": 3, "relation": 2}
    assert list(ds.R_Eplus.values) == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(ds.g.values, [1.0, 1.1, 1.2])
    assert ds.time.attrs["units"] == "ms" and ds.time.values[-1] == 20.0
    assert list(ds.population.values) == ["E0", "E1", "I0", "I1"]
    assert list(ds.population_type.values) == ["E", "E", "I", "I"]
    for name in ("activity", "mean_activity_E", "synapse_count", "build_seconds"):
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"]
        assert ds[name].chunks is not None  # lazily loaded (dask)
    assert ds.activity.dims == ("R_Eplus", "g", "seed", "time", "population")
    assert (ds.status.values == TODO).all()
    assert np.isnan(ds.mean_activity_E.values).all() and np.isnan(ds.synapse_count.values).all()  # CF _FillValue -1
    assert not (store_path / "activity" / "c").exists()  # no data chunk written yet
    attrs = store.attrs
    assert attrs["sweeps_definition"] == experiment.text
    assert attrs["sweeps_definition_sha256"] == experiment.sha256
    assert attrs["host"] == socket.gethostname() and attrs["created"]
    assert {"numpy", "dask", "zarr", "xarray"} <= set(attrs["versions"])
    assert "git_commit" in attrs


@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.integers(1, 50))
def test_point_chunks_are_contiguous_blocks_of_whole_points(shape, per_chunk):
    chunks = point_chunks(shape, per_chunk)
    assert all(1 <= c <= s for c, s in zip(chunks, shape, strict=True))
    assert math.prod(chunks) <= max(per_chunk, 1)
    keys = [tuple(c // k for c, k in zip(np.unravel_index(i, shape), chunks, strict=True)) for i in range(math.prod(shape))]
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs) == len(set(runs))  # each chunk is one run of consecutive point indices


def test_writes_touch_only_their_points_and_status_comes_last(toy_definition, store_path, monkeypatch):
    experiment, store = make_store(toy_definition(extra_output="points_per_chunk = 4"), store_path)
    assert store.chunks == (1, 2, 2)
    order = []
    original = SweepStore._write_rows

    def spy(self, name, indices, rows):
        order.append(name)
        return original(self, name, indices, rows)

    monkeypatch.setattr(SweepStore, "_write_rows", spy)
    values = simulate_point(experiment, 5)
    store.write([PointResult(5, values, None, 0.1), PointResult(6, None, "ValueError: boom", 0.1)])
    assert order[-1] == "status" and set(order[:-2]) == set(store.variables)
    ds = open_results(store_path)
    status = ds.status.values.ravel()
    assert status[5] == OK and status[6] == FAILED and (np.delete(status, [5, 6]) == TODO).all()
    assert ds.error.values.ravel()[6] == "ValueError: boom"
    act = ds.mean_activity_E.values.ravel()
    assert act[5] == values["mean_activity_E"]
    assert np.isnan(np.delete(act, 5)).all()
    np.testing.assert_array_equal(ds.activity.values.reshape(18, 10, 4)[5], values["activity"])
    assert store.pending() == [i for i in range(18) if i != 5]
    assert store.errors() == {6: "ValueError: boom"}


def test_point_batch_round_trip_equals_the_per_point_results(toy_definition, store_path):
    experiment, store = make_store(toy_definition(), store_path)
    dtypes = SweepPlan.build(experiment).dtypes
    results = run_points(SweepPlan.build(experiment), [4, 1, 7])
    results.insert(1, PointResult(9, None, "ValueError: boom", 0.5))  # a failure before ok points
    batch = pickle.loads(pickle.dumps(PointBatch.from_results(results, dtypes)))  # as from a worker
    halves = PointBatch.concat([PointBatch.from_results(results[:2], dtypes), PointBatch.from_results(results[2:], dtypes)])
    for columns in (batch, halves):
        assert columns.ok.tolist() == [True, False, True, True]
        again = batch_results(columns)
        assert [(r.index, r.error, r.seconds) for r in again] == [(r.index, r.error, r.seconds) for r in results]
        for r, a in zip(results, again, strict=True):
            assert (a.values is None) == (r.values is None)
            for name, value in (r.values or {}).items():  # bit-identical, in the store's dtype
                assert a.values[name].dtype == dtypes[name]
                assert a.values[name].tobytes() == np.asarray(value, dtypes[name]).tobytes(), name
    task = run_batch(SweepPlan.build(experiment), [4, 1, 7])  # the task: the same columns (timings aside)
    for name, column in task.values.items():
        if name not in TIMING_VARIABLES:
            assert column.tobytes() == batch.values[name].tobytes(), name
    store.write(batch)
    ds = open_results(store_path)
    assert ds.status.values.ravel()[[4, 9, 1, 7]].tolist() == [OK, FAILED, OK, OK]
    for k, index in enumerate([1, 4, 7]):
        np.testing.assert_array_equal(ds.activity.values.reshape(18, 10, 4)[index], results[[2, 0, 3][k]].values["activity"])


def test_mismatched_definition_names_the_difference(toy_definition, store_path, tmp_path):
    make_store(toy_definition(), store_path)
    other = tmp_path / "other.toml"
    other.write_text(toy_definition().read_text().replace("R_Eplus = [1.0, 2.0, 3.0]", "R_Eplus = [1.0, 2.0, 4.0]"))
    store = SweepStore.open(store_path)

    def differences(path):
        return identity_differences(store.identity, json.loads(json.dumps(load_experiment(path).identity())))

    assert differences(toy_definition()) == []  # same definition: nothing differs
    assert differences(other) == ["sweep.R_Eplus: store has [1.0, 2.0, 3.0], definition has [1.0, 2.0, 4.0]"]


def test_open_results_rejects_non_store(tmp_path):
    with pytest.raises(StoreError, match="not a sweeps store"):
        open_results(tmp_path)


def test_store_in_a_directory_that_does_not_exist_yet(toy_definition, tmp_path):
    from sweeps.cli import main

    store = tmp_path / "results" / "nested" / "toy.zarr"  # as `results/` in a fresh clone
    assert main(["run", str(toy_definition()), "--store", str(store)]) == 0
    assert SweepStore.open(store, mode="r").status().size == 18
