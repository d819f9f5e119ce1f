"""Analysis helpers on an opened results Dataset (dims: swept parameters, ``seed``, inner dims).

All functions take and return :class:`xarray.Dataset` / :class:`xarray.DataArray` objects and
stay lazy where xarray does; only :func:`best_point` computes its score.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from sweeps import registry

logger = logging.getLogger(__name__)

SEED = "seed"
STATUS = "status"
INNER_DIMS = registry.INNER_DIMS


def _allowed(names) -> str:
    return ", ".join(sorted(str(n) for n in names))


def point_dims(ds: xr.Dataset | xr.DataArray) -> tuple[Hashable, ...]:
    """Dims of ``ds`` that index grid points: every dim except the inner ones."""
    return tuple(d for d in ds.dims if d not in INNER_DIMS)


def _status_names(status: xr.DataArray) -> np.ndarray | None:
    """Meaning per integer code from the CF ``flag_values``/``flag_meanings`` attributes."""
    values, meanings = status.attrs.get("flag_values"), status.attrs.get("flag_meanings")
    if values is None or meanings is None:
        return None
    names = meanings.split() if isinstance(meanings, str) else list(meanings)
    lookup = np.full(int(np.max(values)) + 1, "unknown", dtype=object)
    lookup[np.asarray(values, int)] = names
    return lookup


def status_text(status: xr.DataArray) -> str:
    """Readable status of one point (``"ok"``, ``"failed"``, ...)."""
    value = np.asarray(status.values).item()
    if status.dtype.kind in "USOT":
        return str(value)
    names = _status_names(status)
    return str(names[value]) if names is not None and 0 <= value < len(names) else str(value)


def ok_mask(ds: xr.Dataset) -> xr.DataArray | None:
    """Boolean DataArray over the point dims, True where ``status`` is ok; None without status.

    ``status`` may hold strings (``"ok"``) or integer codes described by the CF attributes
    ``flag_values`` and ``flag_meanings`` (as :mod:`sweeps.store` writes it).
    """
    if STATUS not in ds.data_vars:
        return None
    status = ds[STATUS]
    if status.dtype.kind in "USOT":
        return status.astype(str) == "ok"
    names = _status_names(status)
    if names is None:
        raise ValueError(
            "status: integer codes need the attributes flag_values and flag_meanings "
            f"(dtype {status.dtype}, attrs {sorted(status.attrs)})"
        )
    if "ok" not in names:
        raise ValueError(f"status: flag_meanings has no 'ok'; meanings: {sorted(set(names))}")
    return status == int(np.flatnonzero(names == "ok")[0])


def _is_numeric(var: xr.DataArray) -> bool:
    return var.dtype.kind in "iufb"


def only_ok(ds: xr.Dataset) -> xr.Dataset:
    """Drop ``status`` and set numeric variables to NaN at points whose status is not ok.

    Non-numeric variables (such as ``error``) are kept unchanged. No-op without ``status``.
    """
    mask = ok_mask(ds)
    if mask is None:
        return ds
    masked = ds.drop_vars(STATUS)
    return masked.assign({name: var.where(mask) for name, var in masked.data_vars.items()
                          if _is_numeric(var)})


def _matches(coord: xr.DataArray, value: Any, tolerance: float | None) -> np.ndarray:
    """Boolean mask over ``coord``: the grid value nearest to ``value`` (within tolerance)."""
    values = np.asarray(coord.values)
    if values.dtype.kind not in "iuf" or isinstance(value, str):
        mask = values.astype(str) == str(value)
        if not mask.any():
            raise ValueError(f"{coord.name}={value!r} not on the grid; allowed values: "
                             f"{', '.join(map(str, values))}")
        return mask
    tol = tolerance if tolerance is not None else 1e-6 * max(1.0, float(np.max(np.abs(values))))
    distance = np.abs(values - float(value))
    if not distance.min() <= tol:
        raise ValueError(
            f"{coord.name}={value!r} not on the grid (tolerance {tol:g}); allowed values: "
            f"{', '.join(f'{v:g}' for v in values)}"
        )
    return distance == distance.min()


def select(ds: xr.Dataset, tolerance: float | None = None, **values: Any) -> xr.Dataset:
    """Select grid points by parameter values.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    tolerance : float, optional
        Largest accepted distance between a requested and a grid value. Default
        ``1e-6 * max(1, max |grid values|)``; pass ``numpy.inf`` for plain nearest.
    **values
        ``name=value`` or ``name=[values...]`` for any 1-D coordinate, a dimension coordinate
        (``R_Eplus=7.25``, ``seed=0``, ``population="E3"``) or a coordinate sharing a dim
        (zipped axes: all keys on one dim must agree on the same grid points). Numeric values
        pick the nearest grid value; other values match exactly.

    Returns
    -------
    xarray.Dataset
        A scalar value drops its dim when it leaves exactly one grid point on it.

    Raises
    ------
    ValueError
        Unknown name (lists the allowed ones) or a value not on the grid (lists the values).
    """
    masks: dict[Hashable, np.ndarray] = {}
    scalar: dict[Hashable, bool] = {}
    for name, value in values.items():
        if name not in ds.coords or ds[name].ndim != 1:
            allowed = [c for c in ds.coords if ds[c].ndim == 1]
            raise ValueError(f"select: unknown axis {name!r}; allowed: {_allowed(allowed)}")
        coord = ds[name]
        requested = [value] if np.ndim(value) == 0 else list(value)
        mask = np.logical_or.reduce([_matches(coord, v, tolerance) for v in requested])
        dim = coord.dims[0]
        masks[dim] = masks.get(dim, np.ones_like(mask)) & mask
        scalar[dim] = scalar.get(dim, True) and np.ndim(value) == 0
        if not masks[dim].any():
            keys = [k for k in values if k in ds.coords and ds[k].ndim == 1 and ds[k].dims[0] == dim]
            raise ValueError(f"select: no grid point on {dim!r} matches {keys} together")
    indexers = {
        dim: int(np.flatnonzero(mask)[0]) if scalar[dim] and mask.sum() == 1 else np.flatnonzero(mask)
        for dim, mask in masks.items()
    }
    return ds.isel(indexers)


def average_seeds(ds: xr.Dataset) -> xr.Dataset:
    """Mean over the ``seed`` dim, ignoring points whose status is not ok.

    Non-numeric variables (such as ``status`` and error texts) are dropped, attributes kept.
    Returns ``ds`` unchanged when there is no ``seed`` dim.
    """
    if SEED not in ds.dims:
        return ds
    ds = only_ok(ds)
    numeric = [name for name, var in ds.data_vars.items() if _is_numeric(var)]
    dropped = sorted(set(ds.data_vars) - set(numeric))
    if dropped:
        logger.debug("average_seeds: dropping non-numeric variables %s", dropped)
    return ds[numeric].mean(SEED, keep_attrs=True)


class BestPoint(NamedTuple):
    """Result of :func:`best_point`: grid coordinates and the score there."""

    coords: dict[str, Any]
    value: float


def best_point(
    ds: xr.Dataset,
    score: str | Callable[[xr.Dataset], xr.DataArray],
    maximize: bool = True,
) -> BestPoint:
    """Grid point with the best score (hyper-parameter search over the grid).

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset (possibly after :func:`select` or :func:`average_seeds`).
    score : str or callable
        A variable name, or a function ``ds -> DataArray`` over (a subset of) the point dims,
        e.g. ``lambda ds: -abs(ds.mean_activity_E - 0.1)``. Either is evaluated on the
        Dataset with every point whose status is not ok set to NaN (see :func:`only_ok`).
    maximize : bool, default True
        Largest score wins; False: smallest.

    Returns
    -------
    BestPoint
        ``coords``: the point's value on every dim of the score plus every 1-D coordinate
        along those dims (zipped axes), as Python scalars (a dim without coordinate gives its
        index); ``value``: the score there. NaN scores (and so failed points) are ignored.

    Raises
    ------
    ValueError
        Unknown variable (lists the allowed ones), a score with inner dims, or no valid point.
    """
    if isinstance(score, str) and score not in ds.data_vars:
        raise ValueError(f"best_point: unknown variable {score!r}; allowed: "
                         f"{_allowed(ds.data_vars)}")
    masked = only_ok(ds)
    values = masked[score] if isinstance(score, str) else score(masked)
    inner = [d for d in values.dims if d in INNER_DIMS]
    if inner:
        raise ValueError(f"best_point: score has inner dims {inner}; reduce them first "
                         "(e.g. score=lambda ds: ds.VAR.mean('time'))")
    values = values.astype(np.float64).compute()
    data = values.values
    if data.size == 0 or np.all(np.isnan(data)):
        raise ValueError("best_point: no grid point with a valid (non-NaN, status ok) score")
    flat = np.nanargmax(data) if maximize else np.nanargmin(data)
    index = dict(zip(values.dims, np.unravel_index(flat, data.shape), strict=True))
    at = values.isel(index)
    coords = {str(dim): int(i) for dim, i in index.items()}  # dims without a coordinate
    coords.update({str(name): coord.item() for name, coord in at.coords.items()
                   if values[name].ndim == 1 and values[name].dims[0] in index})
    return BestPoint(coords, float(at))
