"""Execution backends: identical results everywhere, failures recorded, retries, bounded window."""

from __future__ import annotations

import concurrent.futures
import threading

import numpy as np
import pytest

from sweeps import LocalProcesses, LocalThreads, Scheduler, load_experiment, open_results, run_sweep
from sweeps.execution.task import TIMING_VARIABLES
from tests.reference.points import simulate_point


def data_variables(path) -> dict[str, np.ndarray]:
    """Every stored variable except wall-time figures, loaded."""
    ds = open_results(path)
    return {name: ds[name].values for name in ds.data_vars if name not in TIMING_VARIABLES}


def assert_same_data(a, b) -> None:
    va, vb = data_variables(a), data_variables(b)
    assert va.keys() == vb.keys()
    for name in va:
        assert va[name].dtype == vb[name].dtype, name
        np.testing.assert_array_equal(va[name], vb[name], err_msg=name)  # NaN == NaN, bit for bit


@pytest.fixture
def baseline(toy_definition, tmp_path):
    """The toy sweep run once with one thread."""
    path = tmp_path / "baseline.zarr"
    summary = run_sweep(load_experiment(toy_definition()), path, LocalThreads(1))
    assert summary.complete and summary.executed == 18
    return path


def test_threads_and_processes_give_identical_data(toy_definition, tmp_path, baseline):
    experiment = load_experiment(toy_definition())
    threads = tmp_path / "threads.zarr"
    processes = tmp_path / "processes.zarr"
    assert run_sweep(experiment, threads, LocalThreads(3)).complete
    assert run_sweep(experiment, processes, LocalProcesses(2)).complete
    assert_same_data(baseline, threads)
    assert_same_data(baseline, processes)
    ds = open_results(threads)
    assert (ds.status.values == 1).all()
    assert (ds.build_seconds.values > 0).all() and (ds.updates_per_second.values > 0).all()
    assert not np.isnan(ds.activity.values).any()


@pytest.mark.distributed
def test_dask_scheduler_with_two_workers_gives_identical_data(toy_definition, tmp_path, baseline, dask_scheduler):
    from distributed import Client

    path = tmp_path / "dask.zarr"
    summary = run_sweep(load_experiment(toy_definition()), path, Scheduler(dask_scheduler))
    assert summary.complete and summary.executed == 18
    assert_same_data(baseline, path)
    with Client(dask_scheduler) as client:
        plugins_ran = client.run(lambda: "binnet_core" in __import__("sys").modules)
    assert len(plugins_ran) == 2 and all(plugins_ran.values())


class FlakyThreads(LocalThreads):
    """Threads whose first attempt of some points fails as if the worker had died."""

    def __init__(self, lost: set[int], threads: int = 2, window: int | None = None):
        super().__init__(threads, window)
        self.lost = set(lost)
        self.submitted: list[int] = []
        self.outstanding = 0
        self.max_outstanding = 0
        self._lock = threading.Lock()

    def submit(self, fn, experiment, indices):
        (index,) = indices  # threads run one point per task
        self.submitted.append(index)
        with self._lock:
            self.outstanding += 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)
        if index in self.lost:
            self.lost.discard(index)
            future = concurrent.futures.Future()
            future.set_exception(ConnectionError(f"worker running point {index} was lost"))
        else:
            future = super().submit(fn, experiment, indices)
        future.add_done_callback(self._done)
        return future

    def _done(self, future):
        with self._lock:
            self.outstanding -= 1


def test_lost_tasks_are_resubmitted(toy_definition, tmp_path, baseline):
    executor = FlakyThreads(lost={0, 7, 17})
    path = tmp_path / "flaky.zarr"
    summary = run_sweep(load_experiment(toy_definition()), path, executor)
    assert summary.complete and summary.executed == 18
    assert sorted(executor.submitted) == sorted(list(range(18)) + [0, 7, 17])
    assert_same_data(baseline, path)


def test_lost_tasks_fail_after_the_retries(toy_definition, tmp_path):
    path = tmp_path / "flaky.zarr"
    summary = run_sweep(load_experiment(toy_definition()), path, FlakyThreads(lost={4}), retries=0)
    assert (summary.ok, summary.failed) == (17, 1)
    message = open_results(path).error.values.ravel()[4]
    assert message == "ConnectionError: worker running point 4 was lost (after 1 attempts)"


def test_tasks_in_flight_are_bounded_by_the_window(toy_definition, tmp_path):
    executor = FlakyThreads(lost=set(), threads=2, window=3)
    assert run_sweep(load_experiment(toy_definition()), tmp_path / "w.zarr", executor).complete
    assert executor.max_outstanding == 3


ENGINE_TOML = """\
[experiment]
name = "engine"
model = "clustered_ei"
seed = 99
[parameters]
N_E = 400
N_I = 100
Q = 4
[sweep]
R_Eplus = [1.0, 2.5]
kappa = [0.0, 1.0]
replicates = 2
[simulation]
duration = "200 ms"
warmup = "50 ms"
sample_interval = "5 ms"
"""


@pytest.mark.distributed
def test_real_engine_identical_on_threads_processes_and_scheduler(tmp_path, dask_scheduler):
    definition = tmp_path / "engine.toml"
    definition.write_text(ENGINE_TOML)
    experiment = load_experiment(definition)
    paths = [tmp_path / f"{name}.zarr" for name in ("threads", "processes", "scheduler")]
    for path, executor in zip(paths, (LocalThreads(2), LocalProcesses(2), Scheduler(dask_scheduler)), strict=True):
        assert run_sweep(experiment, path, executor).complete
    for path in paths[1:]:
        assert_same_data(paths[0], path)
    ds = open_results(paths[0])
    assert ds.population.size == 8 and ds.time.size == 40
    assert (ds.synapse_count.values > 0).all()
    assert ds.mean_activity_E.std() > 0  # points differ from each other


def test_quickstart_runs_with_the_real_engine(tmp_path):
    from pathlib import Path

    from sweeps.cli import main

    quickstart = Path(__file__).resolve().parents[3] / "experiments" / "quickstart.toml"
    assert main(["run", str(quickstart), "--store", str(tmp_path / "q.zarr"), "--threads", "2"]) == 0
    ds = open_results(tmp_path / "q.zarr")
    assert (ds.status.values == 1).all()
    assert dict(ds.sizes)["R_Eplus"] == 3 and dict(ds.sizes)["g"] == 3


def test_point_counts_up_transitions_of_the_measured_window_only(toy_definition):

    values = simulate_point(load_experiment(toy_definition()), 0)
    assert values["up_rate_E"] > 0 and values["up_rate_I"] > 0
    assert np.all(values["population_up_rate"] >= 0)


class _GrowingPool(LocalThreads):
    """Threads that hold every task until released; ``workers`` is what the backend reports."""

    def __init__(self):
        super().__init__(threads=32)
        self.workers = 1
        self.release = threading.Event()
        self.submitted = 0
        self.lock = threading.Lock()

    def nthreads(self) -> int:
        return self.workers

    def submit(self, fn, *args):
        with self.lock:
            self.submitted += 1

        def held():
            self.release.wait()
            return fn(*args)

        return super().submit(held)


def _wait_until(condition, what: str, timeout: float = 120.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_in_flight_window_follows_the_workers_present(toy_definition, tmp_path):
    """An adaptive cluster that grows gets a larger window (4 tasks per worker thread)."""
    pool = _GrowingPool()
    experiment = load_experiment(toy_definition())
    runner = threading.Thread(target=run_sweep, args=(experiment, tmp_path / "r.zarr", pool),
                              kwargs={"flush_seconds": 0.05})
    runner.start()
    try:
        _wait_until(lambda: pool.submitted == 8, "the first window of 8 tasks")  # max(8, 4 x 1 worker)
        assert pool.submitted == 8  # nothing finishes while held: no more tasks yet
        pool.workers = 4  # the cluster grew: window 16
        _wait_until(lambda: pool.submitted == 16, "the window did not grow with the workers")
    finally:
        pool.release.set()
        runner.join()
    assert pool.submitted == 18 and (open_results(tmp_path / "r.zarr").status.values == 1).all()


class KillerPoint(LocalThreads):
    """Every task holding point ``killer`` loses its worker (a segfault or OOM in that point);
    tasks group many points (like the Dask backends with tiny points)."""

    task_seconds = 1e9  # group as many points per task as allowed

    def __init__(self, killer: int):
        super().__init__(2)
        self.killer = killer
        self.kills = 0
        self.largest_task = 1

    def submit(self, fn, experiment, indices):
        self.largest_task = max(self.largest_task, len(indices))
        if self.killer in indices:
            self.kills += 1
            future = concurrent.futures.Future()
            future.set_exception(ConnectionError(f"worker died (signal 11) running points {indices}"))
            return future
        return super().submit(fn, experiment, indices)


def test_a_point_that_kills_its_worker_fails_alone_after_a_bounded_number_of_attempts(toy_definition, tmp_path):
    executor = KillerPoint(killer=15)
    path = tmp_path / "killer.zarr"
    summary = run_sweep(load_experiment(toy_definition()), path, executor, retries=2)
    assert executor.largest_task > 1  # the killer was grouped with other points
    assert executor.kills == 3  # the first attempt and two retries: three workers in total, no more
    assert (summary.ok, summary.failed) == (17, 1)
    ds = open_results(path)
    assert (ds.status.values.ravel() == np.where(np.arange(18) == 15, 2, 1)).all()
    assert ds.error.values.ravel()[15] == "ConnectionError: worker died (signal 11) running points [15] (after 3 attempts)"
