"""NetCDF export (``sweeps export``): the store's data, units and attributes, JSON for nested ones."""

from __future__ import annotations

import json

from sweeps.cli import main


def test_export_writes_netcdf_with_the_stores_data(toy_definition, store_path, tmp_path, capsys):
    import numpy as np
    import xarray as xr

    from sweeps.store.results import open_results

    definition = toy_definition(extra_parameters="fail_g = 1.2")  # a failed point: its error text too
    assert main(["run", str(definition), "--store", str(store_path), "--threads", "2", "--limit", "9"]) == 1
    out = tmp_path / "out.nc"
    assert main(["export", str(store_path), str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out}"
    with xr.open_dataset(out, engine="h5netcdf") as nc:
        ds = open_results(store_path).load()
        assert set(nc.data_vars) == set(ds.data_vars) and dict(nc.sizes) == dict(ds.sizes)
        for name in ds.data_vars:
            np.testing.assert_array_equal(nc[name].values.astype(ds[name].dtype), ds[name].values, err_msg=name)
        assert nc.activity.attrs["units"] == ds.activity.attrs["units"]
        assert nc.attrs["sweeps_definition"] == ds.attrs["sweeps_definition"]
        assert json.loads(nc.attrs["runs"]) == ds.attrs["runs"]
    assert main(["export", str(tmp_path / "nothing.zarr"), str(out)]) == 2
