"""Export a sweep store to NetCDF (``sweeps export STORE OUT.nc``), for tools that do not read Zarr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sweeps.store.results import open_results

__all__ = ["to_netcdf"]


def _netcdf_attr(value: Any) -> Any:
    """An attribute value NetCDF can hold: numbers, text, flat arrays; JSON text for the rest."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str | int | float | np.number):
        return value
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return np.asarray(value)
    return json.dumps(value, sort_keys=True)


def to_netcdf(store: str | Path, path: str | Path) -> Path:
    """Write the whole store as one NetCDF-4 file (h5netcdf); nested attributes become JSON text.

    Returns
    -------
    Path
        The file written.
    """
    ds = open_results(store)
    ds.attrs = {k: _netcdf_attr(v) for k, v in ds.attrs.items()}
    for var in ds.variables.values():
        var.attrs = {k: _netcdf_attr(v) for k, v in var.attrs.items()}
        var.encoding = {}  # Zarr encodings (chunks, codecs) do not apply to NetCDF
    path = Path(path)
    ds.to_netcdf(path, engine="h5netcdf")
    return path
