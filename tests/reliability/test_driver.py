"""The driver dies (signal, SIGKILL, crash between data and status writes)."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.store.sweep_store import OK, TODO, SweepStore
from tests.conftest import subprocess_env
from tests.reliability.conftest import (
    N_POINTS,
    ok_count,
    ok_points_without_data,
    stop,
    sweeps_cli,
    toy,
    wait_for_points,
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "kill-driver"])
def test_interrupted_driver_resumes_only_the_rest(sig, tmp_path, reference, reliability):
    definition, store = toy(tmp_path / "toy.toml"), tmp_path / "r.zarr"
    proc = sweeps_cli("run", definition, "--store", store, "--threads", "1")
    try:
        wait_for_points(store, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    lock = tmp_path / "r.zarr.lock"
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert lock.exists()  # stale: the next run takes it over
    else:
        assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
        assert "run the same command to resume" in err
        assert not lock.exists()
    done = ok_count(store)
    assert 2 <= done < N_POINTS
    assert ok_points_without_data(store) == 0
    summary = run_sweep(load_experiment(definition), store, LocalThreads(2))
    assert (summary.already_ok, summary.executed, summary.complete) == (done, N_POINTS - done, True)
    reliability.assert_nothing_lost(reference, store)


CRASH_BETWEEN_DATA_AND_STATUS = """\
import os, sys
from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.store.sweep_store import SweepStore

original = SweepStore._write_rows
status_writes = 0

def crash_before_second_status_write(self, name, indices, rows):
    global status_writes
    if name == "status":
        status_writes += 1
        if status_writes == 2:  # the data of this batch are on disk, its status is not
            print(sorted(int(i) for i in indices), flush=True)
            os._exit(137)
    return original(self, name, indices, rows)

SweepStore._write_rows = crash_before_second_status_write
run_sweep(load_experiment(sys.argv[1]), sys.argv[2], LocalThreads(1), flush_seconds=0.0)
"""


def test_crash_between_data_and_status_write_reruns_the_point(tmp_path, reference, reliability):
    definition = toy(tmp_path / "toy.toml", extra_output="points_per_chunk = 2")
    store = tmp_path / "r.zarr"
    crashed = subprocess.run([sys.executable, "-c", CRASH_BETWEEN_DATA_AND_STATUS, str(definition), str(store)],
                             env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137, crashed.stderr
    orphans = [int(i) for i in crashed.stdout.strip("[]\n").split(",")]
    status = SweepStore.open(store).status().ravel()
    data = open_results(store).mean_activity_E.values.ravel()
    assert orphans and (status[orphans] == TODO).all()
    assert not np.isnan(data[orphans]).any()  # their data were written...
    done = int(np.sum(status == OK))
    assert done >= 1 and ok_points_without_data(store) == 0
    summary = run_sweep(load_experiment(definition), store, LocalThreads(2))  # ...but they rerun
    assert (summary.already_ok, summary.executed, summary.complete) == (done, N_POINTS - done, True)
    reliability.assert_nothing_lost(reference, store)
