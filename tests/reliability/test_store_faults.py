"""A damaged store, an unwritable store path, a disk that fills up."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import zarr

from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.errors import StoreError, StoreWriteError
from sweeps.plan import SweepPlan
from sweeps.store.sweep_store import OK, SweepStore
from tests.reference.points import simulate_point
from tests.reliability.conftest import (
    N_POINTS,
    ok_count,
    ok_points_without_data,
    run_cli,
    run_cli_in_process,
    stop,
    sweeps_cli,
    toy,
    wait_for_points,
)


def test_verify_finds_a_truncated_and_a_removed_chunk_and_the_next_run_repairs_them(tmp_path, reference, reliability):
    definition = toy(tmp_path / "toy.toml", "", extra_output="points_per_chunk = 4")  # chunks of (1, 2, 2) points
    store = tmp_path / "r.zarr"
    assert run_sweep(load_experiment(definition), store, LocalThreads(2)).complete
    truncated = store / "activity" / "c" / "1" / "0" / "0" / "0" / "0"  # points 6..9
    truncated.write_bytes(truncated.read_bytes()[:7])
    removed = store / "mean_activity_E" / "c" / "2" / "1" / "0"  # points 16, 17
    removed.unlink()
    checked = run_cli_in_process("status", store, "--verify")
    assert checked.returncode == 1, checked.stderr
    assert "verify: 6 ok points had damaged chunks and are todo again: [6, 7, 8, 9, 16, 17]" in checked.stdout
    assert "6 todo, 12 ok, 0 failed" in checked.stdout
    assert not Path(f"{store}.lock").exists()
    repaired = run_cli_in_process("run", definition, "--store", store, "--threads", "2")
    assert repaired.returncode == 0, repaired.stderr
    assert "executed 6 points (6 ok, 0 failed)" in repaired.stdout
    assert SweepStore.open(store).verify() == []
    reliability.assert_nothing_lost(reference, store)


def test_store_whose_creation_was_interrupted_is_a_clear_error(tmp_path, reliability):
    definition = toy(tmp_path / "toy.toml", "")
    store = tmp_path / "r.zarr"
    assert run_cli_in_process("run", definition, "--store", store, "--limit", "1").returncode == 0  # --limit 1: did its share
    shutil.rmtree(store / "status")  # as if the driver died while writing the schema
    for command in (("run", definition, "--store", store), ("status", store)):
        result = run_cli_in_process(*command)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"error: {store} is an incomplete sweeps store (its creation was interrupted, or it was made by a "
            f"version without the creation marker): remove it (rm -r {store}) and run again"]


def test_disk_full_mid_run_keeps_finished_points_and_writes_nothing_more(tmp_path, reference, reliability, monkeypatch):
    """A patched writer: after the third status chunk every file write fails (disk full)."""
    from zarr.storage import LocalStore

    definition = toy(tmp_path / "toy.toml", extra_output="points_per_chunk = 2")
    store = tmp_path / "r.zarr"
    disk = {"status_writes": 0, "full": False}
    writes_after_failure = []
    original_set, original_write = LocalStore.set, SweepStore.write

    async def filling_set(self, key, value):
        if disk["full"]:
            raise OSError(28, "No space left on device")
        await original_set(self, key, value)
        if key.startswith("status/c"):
            disk["status_writes"] += 1
            disk["full"] = disk["status_writes"] >= 3

    def spy_write(self, results):
        if disk["full"]:
            writes_after_failure.append(results)
        return original_write(self, results)

    monkeypatch.setattr(LocalStore, "set", filling_set)
    monkeypatch.setattr(SweepStore, "write", spy_write)
    with pytest.raises(StoreWriteError, match="No space left on device") as info:
        run_sweep(load_experiment(definition), store, LocalThreads(2), flush_seconds=0.0)
    monkeypatch.undo()
    assert len(writes_after_failure) == 1  # the failed batch is not retried (no second error)
    assert info.value.__context__ is None or not isinstance(info.value.__context__, StoreWriteError)
    done = ok_count(store)
    assert 1 <= done < N_POINTS and ok_points_without_data(store) == 0
    assert not Path(f"{store}.lock").exists()
    summary = run_sweep(load_experiment(definition), store, LocalThreads(2))
    assert (summary.executed, summary.complete) == (N_POINTS - done, True)
    reliability.assert_nothing_lost(reference, store)


def test_failed_status_write_leaves_the_point_not_done(tmp_path, reliability, monkeypatch):
    from sweeps.store.batch import PointResult

    experiment = load_experiment(toy(tmp_path / "toy.toml", ""))
    store = SweepStore.create(tmp_path / "r.zarr", SweepPlan.build(experiment))
    values = simulate_point(experiment, 0)
    original = zarr.Array.__setitem__

    def failing(self, key, value):
        if self.basename == "status":
            raise OSError(28, "No space left on device")
        return original(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", failing)
    with pytest.raises(StoreError, match="No space left on device"):
        store.write([PointResult(0, values, None, 0.1)])
    monkeypatch.undo()
    assert 0 in SweepStore.open(tmp_path / "r.zarr").pending()  # data may be there, but it is not marked done


def test_store_under_a_file_is_a_clear_error(tmp_path, reliability):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    result = run_cli_in_process("run", toy(tmp_path / "toy.toml", ""), "--store", not_a_directory / "r.zarr")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: cannot create lock file {not_a_directory / 'r.zarr.lock'}: {not_a_directory} is not a directory"]
    nested = run_cli_in_process("run", toy(tmp_path / "toy.toml", ""), "--store", not_a_directory / "sub" / "r.zarr")
    assert nested.returncode == 2
    assert nested.stderr.splitlines() == [
        f"error: cannot create lock file {not_a_directory / 'sub' / 'r.zarr.lock'}: Not a directory"]
    assert not_a_directory.is_file() and not_a_directory.read_text() == ""


@contextlib.contextmanager
def tmpfs(size: str, *options: str):
    """A fresh tmpfs of ``size`` mounted on a temporary directory (unmounted on exit)."""
    directory = Path(tempfile.mkdtemp(prefix="sweeps-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(directory)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        directory.rmdir()
        pytest.skip(f"cannot mount a tmpfs ({mounted.stderr.strip()}); the patched-writer tests cover this")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)
        directory.rmdir()


def test_read_only_store_path_is_a_clear_error_and_changes_nothing(tmp_path, reliability):
    definition = toy(tmp_path / "toy.toml", "")
    with tmpfs("4m") as disk:
        store = disk / "r.zarr"
        first = run_cli_in_process("run", definition, "--store", store, "--threads", "2", "--limit", "5")
        assert first.returncode == 0, first.stderr  # --limit 5: did its share
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        before = sorted((p.relative_to(disk), p.stat().st_mtime_ns) for p in disk.rglob("*"))
        again = run_cli_in_process("run", definition, "--store", store, "--threads", "2")
        assert again.returncode == 2
        assert again.stderr.splitlines() == [f"error: cannot create lock file {store}.lock: Read-only file system"]
        new = run_cli_in_process("run", definition, "--store", disk / "new.zarr")
        assert new.returncode == 2 and "Read-only file system" in new.stderr and len(new.stderr.splitlines()) == 1
        assert sorted((p.relative_to(disk), p.stat().st_mtime_ns) for p in disk.rglob("*")) == before
        assert ok_count(store) == 5 and ok_points_without_data(store) == 0


def test_disk_full_mid_run_is_a_clear_error_and_the_rerun_completes(tmp_path, reference, reliability):
    definition = toy(tmp_path / "toy.toml", extra_output="points_per_chunk = 2")
    with tmpfs("8m") as disk:
        store = disk / "r.zarr"
        proc = sweeps_cli("run", definition, "--store", store, "--threads", "1")
        try:
            wait_for_points(store, proc, minimum=2)
            filler = disk / "filler"
            with open(filler, "wb") as f:  # fill the disk while the driver runs
                with contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * 2**16)
                        f.flush()
                        os.fsync(f.fileno())
            _, err = proc.communicate(timeout=120)
        finally:
            stop(proc)
        assert proc.returncode == 1, err
        assert "No space left on device" in err
        assert "Traceback" not in err
        assert "points written so far are kept, rerun to resume" in err
        done = ok_count(store)
        assert 2 <= done < N_POINTS
        assert ok_points_without_data(store) == 0  # nothing reported done that is not on disk
        assert not Path(f"{store}.lock").exists()
        filler.unlink()
        rerun = run_cli("run", definition, "--store", store, "--threads", "2")
        assert rerun.returncode == 0, rerun.stderr
        assert f"executed {N_POINTS - done} points" in rerun.stdout
        assert np.all(SweepStore.open(store).status() == OK)
        reliability.assert_nothing_lost(reference, store)


@pytest.mark.parametrize(("size", "fill", "message"), [
    ("4k", True, "error: cannot write lock file {store}.lock: No space left on device"),
    ("100k", False, "error: cannot create store {store}: [Errno 28] No space left on device"),
], ids=["no-room-for-the-lock", "no-room-for-the-schema"])
def test_disk_full_before_any_work_leaves_nothing_behind(size, fill, message, tmp_path, reference, reliability):
    definition = toy(tmp_path / "toy.toml", "")
    with tmpfs(size) as disk:
        if fill:
            with open(disk / "filler", "wb", buffering=0) as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 4096)
        store = disk / "r.zarr"
        result = run_cli_in_process("run", definition, "--store", store, "--threads", "2")
        assert result.returncode == 2
        assert result.stderr.splitlines() == [message.format(store=store)]
        assert sorted(p.name for p in disk.iterdir()) == (["filler"] if fill else [])  # no half store, no lock
        (disk / "filler").unlink(missing_ok=True)
        subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)
        rerun = run_cli_in_process("run", definition, "--store", store, "--threads", "2")
        assert rerun.returncode == 0, rerun.stderr
        reliability.assert_nothing_lost(reference, store)
