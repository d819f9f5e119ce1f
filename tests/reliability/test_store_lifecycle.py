"""Store creation interrupted or crashed, stores of other versions, clean opening with xarray."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import shutil
import signal
import warnings

import numpy as np
import pytest
import xarray as xr
import zarr.storage
from zarr.core.sync import sync

from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.errors import StoreError, StoreMismatchError
from sweeps.measure.registry import VariableSpec
from sweeps.plan import SweepPlan
from sweeps.store.sweep_store import OK, SweepStore
from tests.reliability.conftest import interruption_instants, toy


class Interrupted(Exception):
    """Stands for Ctrl-C inside zarr's writer (a BaseException would stop zarr's event loop thread;
    in the driver, Ctrl-C reaches the main thread, which takes the same clean-up path)."""


def _creation_writes(tmp_path, monkeypatch) -> list[str]:
    """The keys zarr writes while a store is created (in order)."""
    keys = []
    original = zarr.storage.LocalStore.set

    async def counting(self, key, value):
        keys.append(key)
        return await original(self, key, value)

    monkeypatch.setattr(zarr.storage.LocalStore, "set", counting)
    experiment = load_experiment(toy(tmp_path / "toy.toml", ""))
    SweepStore.create(tmp_path / "count.zarr", SweepPlan.build(experiment))
    monkeypatch.undo()
    return keys


@pytest.mark.parametrize("crash", [False, True], ids=["ctrl-c", "crash"])
def test_interrupted_creation_leaves_no_store_that_reads_as_complete(crash, tmp_path, monkeypatch, reliability):
    """Creation is interrupted at its writes (see :func:`interruption_instants`): nothing appears at the store path (the
    store is built in a hidden sibling and renamed into place), and a run then starts afresh."""
    keys = _creation_writes(tmp_path, monkeypatch)
    n_writes = len(keys)
    experiment = load_experiment(toy(tmp_path / "toy.toml", ""))
    plan = SweepPlan.build(experiment)
    original = zarr.storage.LocalStore.set
    for stop_at in interruption_instants(keys, [spec.name for spec in plan.variables]):
        calls = 0

        async def interrupted(self, key, value, stop_at=stop_at):
            nonlocal calls
            calls += 1
            if calls == stop_at:
                raise Interrupted
            return await original(self, key, value)

        store = tmp_path / f"r{stop_at}.zarr"
        monkeypatch.setattr(zarr.storage.LocalStore, "set", interrupted)
        if crash:  # the process dies: nothing cleans up after it
            monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)
        with pytest.raises(Interrupted):
            SweepStore.create(store, plan)
        monkeypatch.undo()
        assert not store.exists(), f"interrupted at write {stop_at} of {n_writes}: a half store is left"
        with pytest.raises(StoreError, match="not a readable sweeps store"):
            SweepStore.open(store)
        left = list(tmp_path.glob(f".{store.name}.creating-*"))
        assert bool(left) == crash, left  # a crash leaves its hidden sibling, Ctrl-C cleans up
    assert run_sweep(experiment, store, LocalThreads(1)).complete  # the next creation clears the sibling
    assert not list(tmp_path.glob(f".{store.name}.creating-*"))


def test_an_interrupted_creation_removes_its_tree_after_the_writes_still_in_flight(tmp_path, monkeypatch, reliability):
    """A signal (SIGTERM from a batch system, Ctrl-C) reaches the creating thread while zarr's
    I/O thread still carries out the write it interrupted, as in ``SIGTERM_AT_WRITE``. Here that
    write is held back (0.3 s), so it lands after an immediate removal would have run; the hidden
    sibling must still be gone once zarr's event loop is idle. (A signal of the test's own,
    SIGUSR1, stands for SIGTERM: pytest's process keeps its handlers.)"""
    keys = _creation_writes(tmp_path, monkeypatch)
    plan = SweepPlan.build(load_experiment(toy(tmp_path / "toy.toml", "")))
    original = zarr.storage.LocalStore.set

    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        for stop_at in sorted({1, len(keys) // 2, len(keys) - 1}):  # first, middle, last write
            calls = 0

            async def signalled(self, key, value, stop_at=stop_at):
                nonlocal calls
                calls += 1
                if calls == stop_at:
                    os.kill(os.getpid(), signal.SIGUSR1)
                    await asyncio.sleep(0.3)  # this write is still in flight when the creator stops
                return await original(self, key, value)

            store = tmp_path / f"f{stop_at}.zarr"
            monkeypatch.setattr(zarr.storage.LocalStore, "set", signalled)
            with pytest.raises(Interrupted):
                SweepStore.create(store, plan)
            monkeypatch.undo()
            sync(_all_tasks_done())  # every write that was in flight has landed
            assert not list(tmp_path.glob(f".{store.name}.creating-*")), f"write {stop_at}: tree recreated"
            assert not store.exists()
    finally:
        signal.signal(signal.SIGUSR1, previous)


async def _all_tasks_done() -> None:
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    if pending:
        await asyncio.wait(pending)


def test_store_of_an_older_version_whose_creation_was_interrupted_names_the_command_that_clears_it(tmp_path, reliability):
    experiment = load_experiment(toy(tmp_path / "toy.toml", ""))
    store = tmp_path / "r.zarr"
    SweepStore.create(store, SweepPlan.build(experiment))
    group = zarr.open_group(str(store), mode="r+", zarr_format=3, use_consolidated=False)
    del group.attrs["sweeps_schema_complete"]  # as an older version left it when killed
    with pytest.raises(StoreError, match=rf"incomplete sweeps store .*remove it \(rm -r {store}\)"):
        run_sweep(experiment, store, LocalThreads(1))


SIGTERM_AT_WRITE = """\
import os, signal, sys
import zarr.storage
from sweeps.cli import main
stop_at, calls = int(sys.argv[1]), 0
original = zarr.storage.LocalStore.set
async def terminating(self, key, value):
    global calls
    calls += 1
    if calls == stop_at:
        os.kill(os.getpid(), signal.SIGTERM)  # as a batch system stops a job
    return await original(self, key, value)
zarr.storage.LocalStore.set = terminating
sys.exit(main(sys.argv[2:]))
"""


def test_sigterm_during_creation_reports_an_interruption_and_leaves_no_half_store(tmp_path, monkeypatch, reliability):
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    n_writes = len(_creation_writes(tmp_path, monkeypatch))
    definition = toy(tmp_path / "toy.toml", "")

    def interrupted(stop_at):  # each into a store of its own: two processes at a time
        store = tmp_path / f"t{stop_at}.zarr"
        return stop_at, store, subprocess.run(
            [sys.executable, "-c", SIGTERM_AT_WRITE, str(stop_at), "run", str(definition), "--store", str(store),
             "--threads", "1"], env=subprocess_env(), capture_output=True, text=True, timeout=300)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(interrupted, sorted({1, n_writes // 4, n_writes // 2, 3 * n_writes // 4, n_writes - 1})))
    for stop_at, store, proc in runs:
        assert proc.returncode == 143, proc.stderr
        assert "interrupted" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert not store.exists(), f"SIGTERM at write {stop_at} of {n_writes}: a half store is left"
        assert not list(tmp_path.glob(f".{store.name}.creating-*"))
        assert not (tmp_path / f"{store.name}.lock").exists()
    assert run_sweep(load_experiment(definition), store, LocalThreads(2)).complete


def test_store_with_a_variable_this_version_no_longer_writes_is_refused_before_any_work(tmp_path, reliability):
    definition, store = toy(tmp_path / "toy.toml", ""), tmp_path / "r.zarr"
    experiment = load_experiment(definition)
    old = VariableSpec("retired_measure", (), "float64", "1", "a measurement of an older version", np.nan)
    SweepStore.create(store, (lambda plan: dataclasses.replace(plan, variables=(*plan.variables, old)))(SweepPlan.build(experiment)))  # an older version
    with pytest.raises(StoreMismatchError, match=r"with the variables \['retired_measure'\], which this version "
                                                 "no longer computes"):
        run_sweep(experiment, store, LocalThreads(1))
    assert (SweepStore.open(store).status() == 0).all()  # nothing ran
    assert not (store / "mean_activity_E" / "c").exists()


def test_plain_xarray_opens_the_store_without_warnings_after_creation_and_after_every_run(tmp_path, reliability):
    definition, store = toy(tmp_path / "toy.toml", ""), tmp_path / "r.zarr"
    experiment = load_experiment(definition)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # creating and writing: no zarr warning (string encodings included)
        SweepStore.create(store, SweepPlan.build(experiment))
        ds = xr.open_zarr(store)
        assert ds.attrs["runs"] == [] and (ds.status.values == 0).all()
        for limit in (3, None):
            run_sweep(experiment, store, LocalThreads(2), limit=limit)
            ds = xr.open_zarr(store)
            assert ds.attrs["runs"][-1]["finished"]  # the consolidated metadata hold the last record
    assert len(ds.attrs["runs"]) == 2 and (ds.status.values == OK).all()
    assert ds.status.attrs["long_name"] and ds.error.attrs["long_name"]
    assert ds.error.dtype.kind in "OTU"  # text, read back as text


def test_run_records_hold_the_software_and_a_resume_with_other_versions_is_recorded_and_warned(
        tmp_path, monkeypatch, caplog, reliability):
    import sweeps.execution.driver
    from sweeps.store.provenance import software

    definition, store = toy(tmp_path / "toy.toml", ""), tmp_path / "r.zarr"
    experiment = load_experiment(definition)
    mine = software()
    with caplog.at_level("WARNING", logger="sweeps.execution.driver"):
        run_sweep(experiment, store, LocalThreads(1), limit=2)
    (first,) = xr.open_zarr(store).attrs["runs"]
    assert first["versions"] == mine["versions"] and first["git_commit"] == mine["git_commit"]
    assert "numpy" in first["versions"] and "software_changes" not in first
    assert "other software" not in caplog.text
    upgraded = {"versions": {**mine["versions"], "numpy": "99.0"}, "git_commit": "feedbeef"}
    monkeypatch.setattr(sweeps.execution.driver, "software", lambda: upgraded)
    with caplog.at_level("WARNING", logger="sweeps.execution.driver"):
        run_sweep(experiment, store, LocalThreads(1), limit=2)
    second = xr.open_zarr(store).attrs["runs"][-1]
    expected = [f"numpy {mine['versions']['numpy']} -> 99.0", f"git {mine['git_commit'] or '-'} -> feedbeef"]
    assert second["software_changes"] == expected and second["versions"]["numpy"] == "99.0"
    assert f"{store} was last run with other software: {'; '.join(expected)}" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sweeps.execution.driver"):
        run_sweep(experiment, store, LocalThreads(1), limit=2)  # same software as the last run
    assert "software_changes" not in xr.open_zarr(store).attrs["runs"][-1] and "other software" not in caplog.text


def test_ctrl_c_with_local_threads_keeps_the_points_that_finished(tmp_path, monkeypatch, reference, reliability,
                                                                  python_sigint):
    import _thread
    import threading
    import time
    from pathlib import Path

    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("TOY_GATE", str(gate))  # points with R_Eplus 3 wait at the gate
    definition, store = toy(tmp_path / "toy.toml", "gate_R_Eplus = 3.0"), tmp_path / "r.zarr"

    def press_ctrl_c():
        while not (gate / "entered").exists():
            time.sleep(0.01)
        _thread.interrupt_main()  # Ctrl-C while the finished points still wait in memory
        (gate / "release").touch()

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):  # a long flush interval: nothing written before Ctrl-C
            run_sweep(load_experiment(definition), store, LocalThreads(1), flush_seconds=3600)
    finally:
        (gate / "release").touch()
        presser.join()
    status = SweepStore.open(store).status()
    assert int((status[:2] == OK).sum()) == 12  # every point with R_Eplus 1 and 2 had finished
    assert (xr.open_zarr(store).attrs["runs"][-1]["interrupted"]) is True
    assert not Path(f"{store}.lock").exists()
    assert run_sweep(load_experiment(definition), store, LocalThreads(2)).complete
    reliability.assert_nothing_lost(reference, store)
