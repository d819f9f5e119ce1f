"""Store creation interrupted or crashed, stores of other versions, clean opening with xarray."""

from __future__ import annotations

import dataclasses
import shutil
import warnings

import numpy as np
import pytest
import xarray as xr
import zarr.storage

from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.errors import StoreError, StoreMismatchError
from sweeps.measure.registry import VariableSpec
from sweeps.plan import SweepPlan
from sweeps.store.sweep_store import OK, SweepStore
from tests.reliability.conftest import toy


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
    n_writes = len(_creation_writes(tmp_path, monkeypatch))
    experiment = load_experiment(toy(tmp_path / "toy.toml", ""))
    plan = SweepPlan.build(experiment)
    original = zarr.storage.LocalStore.set
    for stop_at in sorted({1, n_writes // 3, n_writes // 2, n_writes - 3, n_writes - 2}):
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
        if not crash:
            assert not store.exists(), f"interrupted at write {stop_at} of {n_writes}: a half store is left"
            continue
        with pytest.raises(StoreError, match="incomplete sweeps store|not a readable sweeps store") as refused:
            SweepStore.open(store)
        if "incomplete" in str(refused.value):  # (with no group written yet, a run starts afresh)
            with pytest.raises(StoreError, match="incomplete sweeps store"):
                run_sweep(experiment, store, LocalThreads(1))


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


def test_ctrl_c_with_local_threads_keeps_the_points_that_finished(tmp_path, monkeypatch, reference, reliability):
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
