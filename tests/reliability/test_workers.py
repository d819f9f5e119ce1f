"""SIGKILL one of two real ``dask worker`` processes in the middle of a sweep."""

from __future__ import annotations

import collections
import signal
import threading

import pytest

from sweeps import Scheduler, load_experiment, run_sweep
from sweeps.store.sweep_store import SweepStore
from tests.conftest import dask_cluster
from tests.reliability.conftest import N_POINTS, ok_count, toy, wait_for_points


@pytest.mark.distributed
def test_killed_worker_mid_sweep_loses_nothing(tmp_path, reference, reliability, monkeypatch):
    store = tmp_path / "r.zarr"
    written = collections.Counter()
    original = SweepStore.write

    def counting_write(self, batch):
        written.update(int(i) for i in batch.index[batch.ok])
        return original(self, batch)

    monkeypatch.setattr(SweepStore, "write", counting_write)
    directory = tmp_path / "dask"
    directory.mkdir()
    with dask_cluster(directory) as (address, workers):
        at_kill = []

        def kill_one_worker():
            wait_for_points(store, minimum=2)
            workers[0].send_signal(signal.SIGKILL)
            at_kill.append(ok_count(store))

        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        summary = run_sweep(load_experiment(toy(tmp_path / "toy.toml")), store, Scheduler(address), flush_seconds=0.2)
        killer.join()
        assert workers[0].poll() == -signal.SIGKILL
        assert workers[1].poll() is None  # the survivor finished the sweep
    assert at_kill[0] < N_POINTS  # killed mid-sweep
    assert (summary.executed, summary.ok, summary.complete) == (N_POINTS, N_POINTS, True)
    assert sorted(written) == list(range(N_POINTS)) and set(written.values()) == {1}  # each written once
    reliability.assert_nothing_lost(reference, store)
