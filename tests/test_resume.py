"""Resume: interrupted sweeps (partial runs, SIGINT, SIGKILL of the driver) lose nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.store import OK, StoreLockedError, StoreMismatchError, SweepStore
from tests.conftest import subprocess_env
from tests.test_execution import assert_same_data

SLOW = "sleep = 0.02"  # toy model: 20 ms per run() call, ~0.25 s per point


@pytest.fixture
def uninterrupted(toy_definition, tmp_path):
    path = tmp_path / "uninterrupted.zarr"
    assert run_sweep(load_experiment(toy_definition(SLOW)), path, LocalThreads(2)).complete
    return path


def test_partial_run_then_resume_runs_only_the_rest(toy_definition, store_path, uninterrupted):
    experiment = load_experiment(toy_definition(SLOW))
    first = run_sweep(experiment, store_path, LocalThreads(2), limit=7)
    assert (first.executed, first.complete) == (7, False)
    assert len(SweepStore.open(store_path).pending()) == 11
    second = run_sweep(experiment, store_path, LocalThreads(2))
    assert (second.already_ok, second.executed, second.complete) == (7, 11, True)
    third = run_sweep(experiment, store_path, LocalThreads(2))
    assert (third.executed, third.complete) == (0, True)
    assert_same_data(uninterrupted, store_path)
    assert [r["executed"] for r in open_results(store_path).attrs["runs"]] == [7, 11, 0]


def start_driver(definition, store_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweeps", "run", str(definition), "--store", str(store_path), "--threads", "1"],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_some_points(store_path, proc, minimum: int = 2, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (store_path / "status").exists():
            if int(np.sum(SweepStore.open(store_path, mode="r").status() == OK)) >= minimum:
                return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("driver made no progress")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-driver"])
def test_interrupted_driver_resumes_to_identical_data(sig, toy_definition, store_path, uninterrupted):
    definition = toy_definition(SLOW)
    proc = start_driver(definition, store_path)
    try:
        wait_for_some_points(store_path, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "run the same command to resume" in err
        assert not (store_path.parent / f"{store_path.name}.lock").exists()
    else:
        assert proc.returncode == -signal.SIGKILL
    done = int(np.sum(SweepStore.open(store_path).status() == OK))
    assert 2 <= done < 18
    ds = open_results(store_path)
    ok = ds.status.values == OK
    assert not np.isnan(ds.mean_activity_E.values[ok]).any()  # every ok point has its data
    summary = run_sweep(load_experiment(definition), store_path, LocalThreads(2))  # takes over a stale lock
    assert (summary.already_ok, summary.executed, summary.complete) == (done, 18 - done, True)
    assert_same_data(uninterrupted, store_path)


def test_different_definition_is_refused(toy_definition, store_path, tmp_path):
    run_sweep(load_experiment(toy_definition()), store_path, LocalThreads(2), limit=2)
    changed = tmp_path / "changed.toml"
    changed.write_text(toy_definition().read_text().replace('duration = "20 ms"', 'duration = "40 ms"'))
    with pytest.raises(StoreMismatchError, match="simulation.duration: store has '20 ms', definition has '40 ms'"):
        run_sweep(load_experiment(changed), store_path, LocalThreads(2))
    assert len(SweepStore.open(store_path).pending()) == 16  # nothing touched


def test_second_driver_is_refused_while_the_first_runs(toy_definition, store_path):
    definition = toy_definition(SLOW)
    proc = start_driver(definition, store_path)
    try:
        wait_for_some_points(store_path, proc, minimum=1)
        with pytest.raises(StoreLockedError, match=f"pid {proc.pid} on host"):
            run_sweep(load_experiment(definition), store_path, LocalThreads(1))
    finally:
        proc.kill()
        proc.wait()
