"""Scenario 6: two drivers on one store; a stale lock of a dead driver is taken over."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sweeps.store import StoreLock, StoreLockedError
from tests.reliability.conftest import (
    N_POINTS,
    ok_count,
    run_cli,
    stop,
    sweeps_cli,
    toy,
    wait_for_points,
)


def test_second_driver_is_refused_naming_the_first_then_takes_over_its_stale_lock(tmp_path, reference, reliability):
    definition, store = toy(tmp_path / "toy.toml"), tmp_path / "r.zarr"
    lock = Path(f"{store}.lock")
    first = sweeps_cli("run", definition, "--store", store, "--threads", "1")
    try:
        wait_for_points(store, first, minimum=1)
        held = lock.read_text()
        second = run_cli("run", definition, "--store", store, "--threads", "1")
        assert second.returncode == 2
        (line,) = second.stderr.splitlines()
        assert line.startswith(f"error: store is in use by pid {first.pid} on host {socket.gethostname()} since ")
        assert lock.read_text() == held  # the first driver's lock is untouched
        first.send_signal(signal.SIGKILL)  # the first driver dies, its lock stays behind
        first.wait(timeout=30)
    finally:
        stop(first)
    done = ok_count(store)
    assert done < N_POINTS and str(first.pid) in lock.read_text()
    resumed = run_cli("run", definition, "--store", store, "--threads", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"taking over stale lock {lock} of dead pid {first.pid}" in resumed.stderr
    assert f"executed {N_POINTS - done} points" in resumed.stdout
    assert not lock.exists()
    reliability.assert_nothing_lost(reference, store)


def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(tmp_path, reliability):
    store = tmp_path / "r.zarr"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_file = tmp_path / "r.zarr.lock"
        lock_file.write_text(f'{{"host": "{socket.gethostname()}", "pid": {live.pid}, "since": "t0"}}')
        with pytest.raises(StoreLockedError, match=f"pid {live.pid} on host {socket.gethostname()}"):
            StoreLock(store).acquire()
    finally:
        stop(live)
    # live.pid is now dead: its lock is stale and taken over
    with StoreLock(store) as lock:
        assert lock.path.exists()
        with pytest.raises(StoreLockedError):
            StoreLock(store).acquire()  # held by us (alive)
    assert not lock.path.exists()


def test_lock_of_another_host_is_never_taken_over(tmp_path, reliability):
    lock_file = tmp_path / "r.zarr.lock"
    lock_file.write_text('{"host": "elsewhere", "pid": 1, "since": "t0"}')
    with pytest.raises(StoreLockedError, match="pid 1 on host elsewhere"):
        StoreLock(tmp_path / "r.zarr").acquire()
    assert lock_file.exists()
