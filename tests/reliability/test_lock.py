"""Two drivers on one store; a stale lock of a dead driver is taken over."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sweeps.errors import StoreLockedError
from sweeps.store.lock import StoreLock
from tests.reliability.conftest import (
    N_POINTS,
    SLOW,
    ok_count,
    run_cli,
    run_cli_in_process,
    stop,
    sweeps_cli,
    toy,
    wait_for_file,
    wait_for_points,
)


def test_second_driver_is_refused_naming_the_first_then_takes_over_its_stale_lock(tmp_path, reference, reliability):
    # the first driver finishes the points with R_Eplus 1 and 2, then is held inside its run
    # (the toy model's gate) until it is killed: the second driver always meets a live holder
    definition, store = toy(tmp_path / "toy.toml", f"{SLOW}\ngate_R_Eplus = 3.0"), tmp_path / "r.zarr"
    lock, gate = Path(f"{store}.lock"), tmp_path / "gate"
    gate.mkdir()
    first = sweeps_cli("run", definition, "--store", store, "--threads", "1", env={"TOY_GATE": str(gate)})
    try:
        wait_for_file(gate / "entered", first)
        wait_for_points(store, first, minimum=1)  # finished points are written while it waits
        held = lock.read_text()
        second = run_cli("run", definition, "--store", store, "--threads", "1")
        assert second.returncode == 2, second
        (line,) = second.stderr.splitlines()
        assert line.startswith(f"error: store is in use by pid {first.pid} on host {socket.gethostname()} since ")
        assert lock.read_text() == held  # the first driver's lock is untouched
        assert first.poll() is None  # still held at the gate
        first.send_signal(signal.SIGKILL)  # the first driver dies, its lock stays behind
        first.wait(timeout=30)
    finally:
        stop(first)
    done = ok_count(store)
    assert 0 < done < N_POINTS and str(first.pid) in lock.read_text()
    resumed = run_cli("run", definition, "--store", store, "--threads", "2")  # no TOY_GATE: no gate
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


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_concurrent_takeovers_of_a_stale_lock_have_exactly_one_winner(tmp_path, reliability):
    """Many drivers see the same dead holder at once: exactly one takes the lock over."""
    dead, contenders, rounds = _dead_pid(), 8, 150
    barrier = threading.Barrier(contenders)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between almost every bytecode: interleave acquires
    try:
        for r in range(rounds):
            store = tmp_path / f"r{r}.zarr"
            Path(f"{store}.lock").write_text(json.dumps({"host": socket.gethostname(), "pid": dead, "since": f"t{r}"}))
            winners, refused = [], []

            def contend(store=store, winners=winners, refused=refused):
                lock = StoreLock(store)
                barrier.wait()
                try:
                    lock.acquire()
                except StoreLockedError:
                    refused.append(lock)
                else:
                    winners.append(lock)

            threads = [threading.Thread(target=contend) for _ in range(contenders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(winners) == 1 and len(refused) == contenders - 1, f"round {r}: {len(winners)} winners"
            assert json.loads(Path(f"{store}.lock").read_text()) == winners[0].info
            winners[0].release()
            assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(f"r{r}.")) == []
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.parametrize("kind", ["empty", "junk", "json-list", "directory"])
def test_a_malformed_lock_is_refused_with_the_command_that_clears_it(kind, tmp_path, reliability):
    reliability.bad_input()
    definition, store = toy(tmp_path / "toy.toml", ""), tmp_path / "r.zarr"
    lock = Path(f"{store}.lock")
    if kind == "directory":
        lock.mkdir()
    else:
        lock.write_text({"empty": "", "junk": "{garbage", "json-list": "[1, 2]"}[kind])
    refused = run_cli_in_process("run", definition, "--store", store, "--threads", "1")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    (line,) = refused.stderr.splitlines()
    assert f"lock file {lock} is" in line and f"sweeps unlock {store}" in line and "keep taking" not in line
    assert not store.exists()
    cleared = run_cli_in_process("unlock", store)
    assert cleared.returncode == 0 and "removed" in cleared.stdout, cleared.stderr
    assert not lock.exists()
    with StoreLock(store):
        pass


def _foreign_lock(lock: Path, renewed_ago: float, lease: float = 600.0) -> None:
    import time

    lock.write_text(json.dumps({"host": "node-17.cluster", "pid": 4242, "since": "2026-01-01T00:00:00+00:00",
                                "token": "f" * 32, "lease_seconds": lease, "renewed": time.time() - renewed_ago}))


def test_a_lock_of_a_job_on_another_host_expires_with_its_lease(tmp_path, reliability):
    store = tmp_path / "r.zarr"
    lock = Path(f"{store}.lock")
    _foreign_lock(lock, renewed_ago=30)  # a live job elsewhere: refused, with when its lease ends
    with pytest.raises(StoreLockedError, match=r"pid 4242 on host node-17.cluster .*lease expires in 57\d s"):
        StoreLock(store).acquire()
    refused = run_cli_in_process("unlock", store)
    assert refused.returncode == 2 and "sweeps unlock --force" in refused.stderr and lock.exists()
    _foreign_lock(lock, renewed_ago=601)  # that job died 10 minutes ago: its lease ran out
    with StoreLock(store) as mine:
        assert json.loads(lock.read_text())["token"] == mine.info["token"]
    assert not lock.exists()
    _foreign_lock(lock, renewed_ago=601)
    assert run_cli_in_process("unlock", store).returncode == 0 and not lock.exists()
    _foreign_lock(lock, renewed_ago=0)
    forced = run_cli_in_process("unlock", store, "--force")
    assert forced.returncode == 0 and "forced" in forced.stdout and not lock.exists()


def test_the_holder_renews_its_lease_while_it_runs(tmp_path, reliability):
    import time

    store = tmp_path / "r.zarr"
    lock = Path(f"{store}.lock")
    with StoreLock(store, lease_seconds=0.3) as mine:
        first = json.loads(lock.read_text())["renewed"]
        time.sleep(0.8)
        now = json.loads(lock.read_text())
        assert now["token"] == mine.info["token"] and now["renewed"] > first
        assert time.time() - now["renewed"] < 0.3  # never expired while held
        with pytest.raises(StoreLockedError):  # still ours: another driver is refused
            StoreLock(store).acquire()
    assert not lock.exists()


def test_unlock_refuses_the_lock_of_a_live_driver_on_this_host(tmp_path, reliability):
    store = tmp_path / "r.zarr"
    with StoreLock(store):
        refused = run_cli("unlock", store)
        assert refused.returncode == 2 and f"in use by pid {__import__('os').getpid()}" in refused.stderr
    assert run_cli("unlock", store).stdout.strip() == f"{store} is not locked"
