"""Export a sweep store to NetCDF (``sweeps export STORE OUT.nc``), for tools that do not read Zarr."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sweeps.errors import ArgumentError, require_optional
from sweeps.store.provenance import utc_now
from sweeps.store.results import open_results
from sweeps.store.sweep_store import CONVENTIONS

__all__ = ["output_file", "to_netcdf"]


def output_file(path: str | os.PathLike, store: str | os.PathLike | None = None) -> Path:
    """``path`` as a file a command may write (an export, a figure), checked before any work.

    Raises
    ------
    ArgumentError
        ``path`` is a directory, its directory does not exist or cannot be written, or it is
        ``store`` or lies inside it (field ``output``).
    """
    path = Path(path)
    where = path.resolve()
    if store is not None and (where == Path(store).resolve() or Path(store).resolve() in where.parents):
        raise ArgumentError("output", f"{path} is {'the store' if where == Path(store).resolve() else 'inside the store'} "
                            f"{store}; write the file elsewhere")
    if path.is_dir():
        raise ArgumentError("output", f"{path} is a directory; give a file name in it")
    parent = where.parent
    if not parent.is_dir():
        raise ArgumentError("output", f"the directory {path.parent} of {path} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise ArgumentError("output", f"the directory {path.parent} of {path} is not writable")
    return path


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

    Raises
    ------
    MissingDependencyError
        Without the ``netcdf`` extra (h5netcdf).
    ArgumentError
        ``path`` cannot be written or is the store (:func:`output_file`).
    """
    path = output_file(path, store)
    require_optional("h5netcdf", "netcdf", "NetCDF export")
    ds = open_results(store)
    attrs = dict(ds.attrs)
    attrs.setdefault("Conventions", CONVENTIONS)  # stores made before the attribute existed
    history = f"{utc_now()}: exported from {Path(store).resolve()}"
    attrs["history"] = "\n".join(filter(None, [attrs.get("history", ""), history]))
    ds.attrs = {k: _netcdf_attr(v) for k, v in attrs.items()}
    for var in ds.variables.values():
        var.attrs = {k: _netcdf_attr(v) for k, v in var.attrs.items()}
        # Zarr encodings (chunks, codecs) do not apply to NetCDF; an integer variable with a
        # _FillValue (read as float with NaN) is written back as the integer type and its fill value
        keep = ("dtype", "_FillValue") if "_FillValue" in var.encoding and np.dtype(var.encoding.get("dtype", "f8")).kind in "iu" else ()
        var.encoding = {k: var.encoding[k] for k in keep}
    ds.to_netcdf(path, engine="h5netcdf")
    return path
