"""Opening a store as an xarray Dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sweeps.errors import StoreError
from sweeps.store.sweep_store import THEORY_ATTR, THEORY_GROUP

if TYPE_CHECKING:  # xarray only where it is used (creation, open_results)
    import xarray as xr



def open_results(path: str | Path) -> xr.Dataset:
    """Open a sweep store as a lazily loaded (dask-backed) :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str or Path
        The store written by :func:`sweeps.run_sweep` / ``sweeps run``.

    Returns
    -------
    xarray.Dataset
        Dimensions: the swept parameters (and ``seed``) plus ``population``, ``cluster`` and
        ``time``; ``units`` and ``long_name`` on every variable; ``status`` tells which points
        are done (1).
    """
    import xarray as xr

    if not Path(path, "zarr.json").exists():
        raise StoreError(f"{path} is not a sweeps store (no zarr.json)")
    ds = xr.open_zarr(path, consolidated=False, zarr_format=3)
    theory = Path(path, THEORY_GROUP, "zarr.json")
    if theory.is_file():  # what the theory covers: kept apart from the store's own attributes
        try:
            info = json.loads(theory.read_bytes()).get("attributes", {}).get(THEORY_ATTR)
        except (OSError, ValueError, AttributeError):
            info = None
        ds.attrs.pop(THEORY_ATTR, None)
        if info is not None:
            ds.attrs[THEORY_ATTR] = info
    return ds

