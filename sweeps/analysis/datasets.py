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

from sweeps.analysis import bootstrap
from sweeps.measure import registry
from sweeps.measure.statistics import fisher_z
from sweeps.store.status import Status

logger = logging.getLogger(__name__)

SEED = "seed"
STATUS = "status"
#: Replicate dims, outermost first: independent networks, then initial conditions of one.
REPLICATE_DIMS = ("network", "init")
#: Older stores name the network replicate dim ``seed``.
_ALIASES = {"network": SEED}
FISHER_Z = "fisher_z"
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
    ``flag_values`` and ``flag_meanings`` (as :mod:`sweeps.store.sweep_store` writes it).
    """
    if STATUS not in ds.data_vars:
        return None
    status = ds[STATUS]
    ok = Status.OK.meaning
    if status.dtype.kind in "USOT":
        return status.astype(str) == ok
    names = _status_names(status)
    if names is None:
        raise ValueError(
            "status: integer codes need the attributes flag_values and flag_meanings "
            f"(dtype {status.dtype}, attrs {sorted(status.attrs)})"
        )
    if ok not in names:
        raise ValueError(f"status: flag_meanings has no {ok!r}; meanings: {sorted(set(names))}")
    return status == int(np.flatnonzero(names == ok)[0])


def _is_numeric(var: xr.DataArray) -> bool:
    return var.dtype.kind in "iufb"


def only_ok(ds: xr.Dataset) -> xr.Dataset:
    """Drop ``status`` and set numeric variables to NaN at points whose status is not ok.

    Non-numeric variables (such as ``error``) and variables not over every point dim (such
    as the mean-field theory, computed without simulation) are kept unchanged. No-op
    without ``status``.
    """
    mask = ok_mask(ds)
    if mask is None:
        return ds
    masked = ds.drop_vars(STATUS)
    return masked.assign({name: var.where(mask) for name, var in masked.data_vars.items()
                          if _is_numeric(var) and set(mask.dims) <= set(var.dims)})


def _matches(coord: xr.DataArray, value: Any, tolerance: float | None) -> np.ndarray:
    """Boolean mask over ``coord``: the grid value nearest to ``value`` (within tolerance)."""
    values = np.asarray(coord.values)
    if values.dtype.kind not in "iuf" or isinstance(value, str):
        mask = np.array([str(v) for v in values.tolist()]) == str(value)  # object or StringDType
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


def is_correlation(var: xr.DataArray) -> bool:
    """True for variables averaged in Fisher-z space (attribute ``aggregation = fisher_z``)."""
    return var.attrs.get("aggregation") == FISHER_Z


def _replicate_dims(ds: xr.Dataset | xr.DataArray, over) -> tuple[str, ...]:
    """Resolve ``over`` (a dim or a tuple, outermost first) against the dims of ``ds``."""
    names = (over,) if isinstance(over, str) else tuple(over)
    if not names:
        raise ValueError("over: give at least one replicate dim, e.g. 'network'")
    resolved = []
    for name in names:
        if name not in ds.dims and _ALIASES.get(name) in ds.dims:
            name = _ALIASES[name]
        if name not in ds.dims:
            allowed = [d for d in point_dims(ds)]
            raise ValueError(f"over: {name!r} is not a dim of the results; allowed: {_allowed(allowed)}")
        resolved.append(name)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"over: repeated dims {resolved}")
    return tuple(resolved)


def average_seeds(ds: xr.Dataset, over=None) -> xr.Dataset:
    """Mean over the replicate dims, ignoring points whose status is not ok.

    Correlations (variables with ``aggregation = fisher_z``) are averaged in z-space:
    ``tanh(mean artanh r)``, with ``|r|`` clipped at ``1 - 1e-6``. Nested replicate dims are
    averaged innermost first (balanced). Non-numeric variables (such as ``status`` and error
    texts) are dropped, attributes kept.

    Parameters
    ----------
    ds : xarray.Dataset
    over : str or tuple of str, optional
        Replicate dims, outermost first. Default: those of ``network``/``seed`` and ``init``
        that ``ds`` has; ``ds`` is returned unchanged when it has none.
    """
    if over is None:
        over = tuple(d for d in (*REPLICATE_DIMS, SEED) if d in ds.dims)
        if not over:
            return ds
    dims = _replicate_dims(ds, over)
    ds = only_ok(ds)
    numeric = [name for name, var in ds.data_vars.items() if _is_numeric(var)]
    dropped = sorted(set(ds.data_vars) - set(numeric))
    if dropped:
        logger.debug("average_seeds: dropping non-numeric variables %s", dropped)
    out = {}
    for name in numeric:
        var = ds[name]
        fisher = is_correlation(var)
        if fisher:
            var = xr.apply_ufunc(fisher_z, var, dask="allowed", keep_attrs=True)
        for dim in reversed(dims):
            if dim in var.dims:
                var = var.mean(dim, keep_attrs=True)
        out[name] = np.tanh(var) if fisher else var
        out[name].attrs = ds[name].attrs
    return xr.Dataset(out, attrs=ds.attrs)


#: the intervals of :func:`summarize`
SUMMARY_METHODS = ("network", "hierarchical")


def summarize(ds: xr.Dataset, var: str, over="network", ci: float = 0.95, n_boot: int = 1000,
              seed: int = 0, fisher: bool | None = None, method: str = "network") -> xr.Dataset:
    """Mean of ``var`` over replicate dims with a bootstrap confidence interval.

    The default interval is the reference paper's (``Figure4.py``: ``_fisher_mean``,
    ``_merge_init_summaries``, ``_series_stats_from_values``): the mean over the inner
    levels (inits) of each network first (in z for correlations), then a percentile bootstrap
    of those network means (networks resampled with replacement, one level).
    ``method="hierarchical"`` resamples the inner units inside each drawn network too (wider).

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset; points whose status is not ok are left out (NaN).
    var : str
        Variable to summarize.
    over : str or tuple of str, default "network"
        Replicate dims, outermost first, e.g. ``("network", "init")``. ``"network"`` also
        finds the replicate dim of stores that call it ``seed``.
    ci : float, default 0.95
        Confidence level of the percentile interval.
    n_boot : int, default 1000
        Bootstrap replicates: networks are resampled with replacement, then the inner units
        of each drawn network (see :mod:`sweeps.analysis.bootstrap`).
    seed : int, default 0
        Seed of the resampling (same seed, same interval).
    method : {"network", "hierarchical"}, default "network"
        ``"network"``: bootstrap of the per-network means (the reference's interval);
        ``"hierarchical"``: networks, then inside each drawn network its inits.
    fisher : bool, optional
        Average in Fisher-z space and transform back with ``tanh``; default: for variables
        with ``aggregation = fisher_z`` (correlations).

    Returns
    -------
    xarray.Dataset
        ``mean``, ``lower``, ``upper`` over the remaining dims, with the variable's ``units``
        and ``long_name``; attributes ``ci``, ``n_boot``, ``over``, ``fisher_z``.
    """
    if var not in ds.data_vars or var == STATUS:
        raise ValueError(f"summarize: unknown variable {var!r}; allowed: "
                         f"{_allowed(v for v in ds.data_vars if v != STATUS)}")
    if not 0 < ci < 1:
        raise ValueError(f"summarize: ci must be in (0, 1), got {ci}")
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 1):
        raise ValueError(f"summarize: n_boot must be an integer >= 1, got {n_boot!r}")
    if method not in SUMMARY_METHODS:
        raise ValueError(f"summarize: method must be one of {', '.join(SUMMARY_METHODS)}, got {method!r}")
    dims = _replicate_dims(ds, over)
    data = only_ok(ds)[var]
    if not _is_numeric(data):
        raise ValueError(f"summarize: {var!r} is not numeric")
    fisher = is_correlation(data) if fisher is None else fisher
    data = data.astype(np.float64).transpose(..., *dims).compute()
    values = fisher_z(data.values) if fisher else data.values
    rest = data.dims[:data.ndim - len(dims)]
    mean = bootstrap.balanced_mean(values, len(dims))
    if method == "network":  # the inner levels averaged per network, then one level resampled
        per_network = bootstrap.balanced_mean(values, len(dims) - 1)
        replicates = bootstrap.bootstrap_means(per_network, 1, n_boot, np.random.default_rng(seed))
    else:
        replicates = bootstrap.bootstrap_means(values, len(dims), n_boot, np.random.default_rng(seed))
    back = np.tanh if fisher else (lambda x: x)
    # percentiles of the replicates in r (as the reference): no tanh of interpolated z values
    lower, upper = bootstrap.percentile_interval(back(replicates), ci)
    coords = {name: coord for name, coord in data.coords.items()
              if not set(coord.dims) & set(dims)}
    attrs = {key: data.attrs[key] for key in ("units", "long_name") if key in data.attrs}
    return xr.Dataset(
        {key: (rest, value, attrs) for key, value in
         (("mean", back(mean)), ("lower", lower), ("upper", upper))},
        coords=coords,
        attrs={"variable": var, "ci": ci, "n_boot": n_boot, "over": list(dims),
               "fisher_z": int(fisher), "method": method},
    )


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
