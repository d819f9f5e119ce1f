"""The Python-first API: sweeps.run / sweeps.start from a path, TOML text, a dict or a Client."""

from __future__ import annotations

import time
import tomllib

import numpy as np
import pytest
import xarray as xr

import sweeps
from sweeps.execution.task import TIMING_VARIABLES
from sweeps.store.sweep_store import OK
from tests.conftest import TOY_TOML


def _data(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_vars([v for v in TIMING_VARIABLES if v in ds]).load()


def test_public_api_is_listed():
    assert {"run", "start", "open_results", "load_experiment", "Experiment", "SweepRun"} <= set(sweeps.__all__)
    assert all(hasattr(sweeps, name) for name in sweeps.__all__)


def test_run_takes_a_path_toml_text_or_dict_and_returns_the_dataset(toy_definition, tmp_path):
    path = toy_definition()
    text = path.read_text()
    by_path = sweeps.run(path, tmp_path / "a.zarr", backend="threads", progress=False)
    by_text = sweeps.run(text, tmp_path / "b.zarr", progress=False)
    by_dict = sweeps.run(tomllib.loads(text), tmp_path / "c.zarr", backend=sweeps.LocalThreads(2), progress=False)
    assert isinstance(by_path, xr.Dataset)
    assert (by_path.status == OK).all()
    assert by_path.sizes["R_Eplus"] == 3 and by_path.sizes["seed"] == 2
    xr.testing.assert_identical(_data(by_path), _data(by_text).assign_attrs(by_path.attrs))
    xr.testing.assert_equal(_data(by_path), _data(by_dict))
    assert by_dict.attrs["sweeps_identity"] == by_path.attrs["sweeps_identity"]
    # resuming from a dict on a store made from the file: the same definition
    again = sweeps.run(tomllib.loads(text), tmp_path / "a.zarr", progress=False)
    assert len(again.attrs["runs"]) == 2


def test_dict_definitions_are_validated_naming_the_field():
    doc = tomllib.loads(TOY_TOML.format(extra_parameters="", extra_output=""))
    doc["simulation"]["duration"] = "soon"
    with pytest.raises(sweeps.DefinitionError, match="simulation.duration"):
        sweeps.Experiment.from_dict(doc)
    with pytest.raises(sweeps.DefinitionError, match="definition"):
        sweeps.Experiment.from_dict([1, 2])
    doc["simulation"]["duration"] = "20 ms"
    with pytest.raises(ValueError, match="backend: 'gpu' is not one of"):
        sweeps.run(doc, "x.zarr", backend="gpu")


def test_start_returns_at_once_with_progress_and_the_dataset_so_far(toy_definition, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("TOY_GATE", str(gate))  # the toy model blocks the points with R_Eplus 3
    store = tmp_path / "r.zarr"
    handle = sweeps.start(toy_definition("gate_R_Eplus = 3.0"), store, backend=sweeps.LocalThreads(1))
    try:
        deadline = time.monotonic() + 120
        while not (gate / "entered").exists() or handle.progress.ok < 1:
            assert not handle.done(), handle.result()
            assert time.monotonic() < deadline, "the sweep did not reach the gate"
            time.sleep(0.02)
        assert not handle.done()  # held at the gate: start() did not block
        progress = handle.progress
        assert progress.total == 18 and 1 <= progress.ok <= 12 and progress.todo == 18 - progress.ok
        partial = handle.dataset()
        assert int((partial.status == OK).sum()) == progress.ok
        assert np.isnan(partial.mean_activity_E.sel(R_Eplus=3.0).values).all()
        assert "running" in repr(handle)
    finally:
        (gate / "release").touch()
    ds = handle.result(timeout=300)
    assert handle.done() and (ds.status == OK).all() and handle.summary.complete
    assert str(handle.progress) == "18/18 points ok, 0 failed, 0 to do"


@pytest.mark.distributed
def test_an_existing_client_is_used_as_it_is(toy_definition, tmp_path, dask_scheduler):
    from distributed import Client

    with Client(dask_scheduler) as client:
        ds = sweeps.run(toy_definition(), tmp_path / "r.zarr", client=client, progress=False)
        assert (ds.status == OK).all()
        assert ds.attrs["runs"][-1]["backend"] == f"dask client of {dask_scheduler}"
        assert client.status == "running"  # not closed: the caller keeps using it
        assert client.submit(sum, [1, 2]).result() == 3
