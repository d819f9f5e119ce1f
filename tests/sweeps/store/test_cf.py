"""CF conventions of a store and of its NetCDF export: plain xarray reads missing integers as NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr

from sweeps.cli import main


@pytest.fixture(scope="module")
def partial_store(tmp_path_factory):
    """A toy store (18 points) with 6 points done, one axis of text values."""
    from tests.conftest import TOY_TOML

    tmp = tmp_path_factory.mktemp("cf")
    definition = tmp / "toy.toml"
    text = TOY_TOML.format(extra_parameters="", extra_output="").replace(
        "replicates = 2", 'replicates = 2\nconnection_type = ["bernoulli", "fixed_indegree", "poisson"]')
    definition.write_text(text.replace("R_Eplus = [1.0, 2.0, 3.0]", "R_Eplus = [1.0, 2.0]"))
    store = tmp / "results.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("error", zarr.errors.UnstableSpecificationWarning)  # text axes in the v3 string type
        assert main(["run", str(definition), "--store", str(store), "--threads", "1", "--limit", "6"]) == 0
    return store


def test_integer_variables_read_missing_points_as_nan(partial_store):
    import xarray as xr

    ds = xr.open_zarr(partial_store)  # plain xarray, no package helper
    raw = zarr.open_group(str(partial_store), mode="r")
    done = raw["status"][...] == 1
    assert done.sum() == 6 and done.size == 36
    for name in ("synapse_count", "connected_pairs", "single_episodes", "initial_source"):
        stored = raw[name][...]
        assert stored.dtype.kind == "i" and (stored[~done] == -1).all(), name  # the stored values are unchanged
        values = ds[name].values
        assert np.isnan(values[~done]).all(), name
        np.testing.assert_array_equal(values[done], stored[done], err_msg=name)  # exact where present
    assert float(ds.synapse_count.mean()) == pytest.approx(raw["synapse_count"][...][done].mean())
    assert ds.status.dtype == np.int8 and int((ds.status == 0).sum()) == 30  # flags: 0 is todo, not missing


def test_conventions_history_and_string_axes(partial_store):
    import xarray as xr

    ds = xr.open_zarr(partial_store)
    assert ds.attrs["Conventions"] == "CF-1.10"
    history = ds.attrs["history"].splitlines()
    assert "created by binnet-sweeps" in history[0] and len(history) == 2 and " run " in history[1]
    raw = zarr.open_group(str(partial_store), mode="r")
    assert str(raw["connection_type"].metadata.data_type) == str(raw["population"].metadata.data_type)
    assert "fixed_length" not in str(raw["connection_type"].metadata.data_type)
    assert list(ds.connection_type.values) == ["bernoulli", "fixed_indegree", "poisson"]


def test_netcdf_export_keeps_integers_with_a_fill_value(partial_store, tmp_path):
    import xarray as xr

    out = tmp_path / "out.nc"
    assert main(["export", str(partial_store), str(out)]) == 0
    with xr.open_dataset(out, engine="h5netcdf", mask_and_scale=False) as raw:
        assert raw.synapse_count.dtype == np.int64 and raw.synapse_count.attrs["_FillValue"] == -1
        assert raw.attrs["Conventions"] == "CF-1.10" and "exported from" in raw.attrs["history"]
    with xr.open_dataset(out, engine="h5netcdf") as nc, xr.open_zarr(partial_store) as ds:
        np.testing.assert_array_equal(nc.synapse_count.values, ds.synapse_count.values)
        assert float(nc.synapse_count.mean()) == float(ds.synapse_count.mean())
