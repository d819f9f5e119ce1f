"""Mean-field theory next to the simulations: the ``[theory]`` table and its store variables.

A definition with::

    [theory]
    focus_counts = [1, 2, 3]      # integers in 0..Q (default [1])

gets, over every swept dimension except ``seed`` and a new dimension ``focus_count``:

- ``mf_rate_E_focus``, ``mf_rate_E_other``, ``mf_rate_I_focus``, ``mf_rate_I_other``: the
  rates of the stable fixed point with the highest focus-E rate (NaN where none is stable);
- ``mf_fixed_points``, ``mf_stable_points``: how many fixed points, how many stable (-1
  where the search did not converge; the reasons are in the store attribute
  ``sweeps_theory``);
- ``mf_point_E_focus``, ``mf_point_stable``: the focus-E rate and stability (1, 0; -1 none)
  of every fixed point, along a dimension ``mf_point`` (in increasing focus-E rate);
- ``mf_bifurcation_R_Eplus``: the smallest R_Eplus with more than one fixed point, over the
  swept dimensions other than the R_Eplus axis (NaN where none below Q).

``run_sweep`` writes them before the first simulation; ``sweeps theory FILE --store S``
writes only them. They are not part of the definition's identity: adding a ``[theory]``
table to the definition of an existing store is allowed. The attribute records the grid
sizes the theory covers, so a store grown in place (:mod:`sweeps.store.growth`) gets theory for
its new points only; other focus counts recompute everything.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import xarray as xr

from sweeps.spec.types import DimensionKind

logger = logging.getLogger(__name__)

__all__ = [ "theory_dataset", "write_theory",
           "THEORY_ATTR", "FOCUS_DIM"]

THEORY_ATTR = "sweeps_theory"
FOCUS_DIM = "focus_count"


def _theory_dims(experiment):
    return [d for d in experiment.dimensions if d.kind != DimensionKind.SEED]


def _bifurcation_dims(dims):
    return [d for d in dims if not (d.kind == DimensionKind.AXIS and d.name == "R_Eplus")]


def _parameter_sets(experiment, dims, ranges):
    """Model parameters at every point of the block ``ranges`` (one index range per dimension
    of ``dims``, C order); dimensions without parameter values (networks, inits) are
    broadcast, not enumerated. Returns ``(sets, parameter-dimension shape)``."""
    varying = [(dim, r) for dim, r in zip(dims, ranges, strict=True) if dim.values]
    shape = tuple(len(r) for _, r in varying)
    sets = []
    for coords in itertools.product(*(r for _, r in varying)):
        params = dict(experiment.parameters)
        for (dim, _), i in zip(varying, coords, strict=True):
            for name, values in dim.values.items():
                params[name] = values[i]
        sets.append(params)
    return sets, shape


def _cpus() -> int:
    """CPUs this process may use (the theory is solved before any simulation runs)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _broadcast(values, dims, ranges, lead: int):
    """``values`` over the parameter dimensions of the block, broadcast to all of ``dims``."""
    block = tuple(len(r) for r in ranges)
    expanded = [len(r) if dim.values else 1 for dim, r in zip(dims, ranges, strict=True)]
    values = values.reshape(tuple(expanded) + values.shape[lead:])
    return np.broadcast_to(values, block + values.shape[len(block):])


def _point_block(experiment, dims, ranges, counts, threads):
    """Theory arrays (``name -> ndarray``) of the grid points in the block and the reasons."""
    from binnet_core.meanfield_table import GROUPS, theory_table

    sets, _ = _parameter_sets(experiment, dims, ranges)
    table = theory_table(sets, counts, threads=threads)
    arrays = {f"mf_rate_{group}": table.rates[..., g] for g, group in enumerate(GROUPS)}
    arrays |= {"mf_fixed_points": table.fixed_points, "mf_stable_points": table.stable_points,
               "mf_point_E_focus": table.all_focus_E, "mf_point_stable": table.all_stable}
    return {name: _broadcast(a, dims, ranges, 1) for name, a in arrays.items()}, table.reasons


def _bifurcation_block(experiment, dims, ranges, counts, threads):
    from binnet_core.meanfield_table import bifurcation_table

    sets, _ = _parameter_sets(experiment, dims, ranges)
    return _broadcast(bifurcation_table(sets, counts, threads=threads), dims, ranges, 1)


_ATTRS = {
    "mf_fixed_points": ("number of mean-field fixed points (-1: no convergence)"),
    "mf_stable_points": ("number of stable mean-field fixed points (-1: no convergence)"),
    "mf_point_E_focus": "mean-field focus-E rate of every fixed point",
    "mf_point_stable": "fixed point stable (1), unstable (0), none (-1)",
    "mf_bifurcation_R_Eplus": "mean-field bifurcation R_Eplus (first multistability)",
}
_POINT_FILL = {"mf_point_E_focus": np.nan, "mf_point_stable": -1}


def _long_name(name: str) -> str:
    if name.startswith("mf_rate_"):
        cell, which = name[len("mf_rate_"):].split("_")
        return (f"mean-field {cell} rate of the {which} clusters "
                "(stable state with the highest focus-E rate)")
    return _ATTRS[name]


def theory_dataset(experiment, threads: int | None = None) -> xr.Dataset:
    """Compute the theory variables of ``experiment`` (which must have a ``[theory]`` table)
    on ``threads`` threads (default: every CPU this process may use)."""
    counts = list(experiment.theory.focus_counts)
    dims = _theory_dims(experiment)
    names = tuple(d.name for d in dims)
    started = time.perf_counter()
    threads = threads or _cpus()
    arrays, reasons = _point_block(experiment, dims, [range(d.size) for d in dims], counts,
                                   threads)
    data = {}
    for name, values in arrays.items():
        extra = ("mf_point",) if name in _POINT_FILL else ()
        data[name] = (names + (FOCUS_DIM,) + extra, values, {"units": "1",
                                                             "long_name": _long_name(name)})
    bif_dims = _bifurcation_dims(dims)
    bif = _bifurcation_block(experiment, bif_dims, [range(d.size) for d in bif_dims], counts,
                             threads)
    data["mf_bifurcation_R_Eplus"] = (tuple(d.name for d in bif_dims) + (FOCUS_DIM,), bif, {
        "units": "1", "long_name": _long_name("mf_bifurcation_R_Eplus")})
    seconds = time.perf_counter() - started
    focus_coord = {FOCUS_DIM: (FOCUS_DIM, np.asarray(counts),
                               {"long_name": "number of focus (active) clusters", "units": "1"})}
    attrs = {"focus_counts": counts, "points": math.prod(d.size for d in dims),
             "seconds": round(seconds, 3), "reasons": reasons[:100],
             "sizes": {d.name: d.size for d in dims}}
    logger.info("mean-field theory for %d grid points x %d focus counts in %.2f s",
                attrs["points"], len(counts), seconds)
    return xr.Dataset(data, coords=focus_coord, attrs=attrs)


def _new_blocks(old, new):
    """Index ranges of blocks that together hold each point of grid ``new`` outside ``old``
    exactly once (a grid grows by appending values at the end of its dimensions)."""
    blocks = []
    for d in range(len(new)):
        if new[d] > old[d]:
            blocks.append([range(old[k]) for k in range(d)] + [range(old[d], new[d])]
                          + [range(new[k]) for k in range(d + 1, len(new))])
    return blocks


def write_theory(path, experiment, *, threads: int | None = None) -> xr.Dataset:
    """Write the theory of ``experiment`` into the existing store at ``path``.

    A store that has theory for the same focus counts and has grown since (sweeps.store.growth)
    gets theory for its new points only: the existing values are not rewritten. Otherwise
    (no theory yet, other focus counts, theory written by an older version) every variable
    is computed and written, on ``threads`` threads (default: every CPU this process may
    use; the values do not depend on it). Returns the theory variables of the store.
    """
    import zarr

    from sweeps.store.sweep_store import consolidate

    group = zarr.open_group(str(path), mode="r+", zarr_format=3)
    info = group.attrs.get(THEORY_ATTR)
    dims = _theory_dims(experiment)
    counts = list(experiment.theory.focus_counts)
    old = (info or {}).get("sizes")
    unchanged = False
    if info is None or info.get("focus_counts") != counts or old is None \
            or set(old) != {d.name for d in dims}:
        stale = [n for n in group.array_keys() if n.startswith("mf_")
                 or (n == FOCUS_DIM and FOCUS_DIM not in {d.name for d in dims})]
        for name in stale:
            del group[name]
        ds = theory_dataset(experiment, threads)
        info = dict(ds.attrs)
        ds.attrs = {}
        ds.to_zarr(Path(path), mode="a", consolidated=False, zarr_format=3)
    else:
        extended = _extend(group, experiment, dims, old, counts, info, threads or _cpus())
        info, unchanged = extended, extended is info
    if not unchanged:
        group.attrs[THEORY_ATTR] = json.loads(json.dumps(info))
        consolidate(path)
    ds = xr.open_zarr(path, consolidated=False, zarr_format=3)
    return ds[[name for name in ds.data_vars if name.startswith("mf_")]]


def _extend(group, experiment, dims, old: dict, counts, info: dict, threads: int) -> dict:
    """Theory for the points of a grown store that have none yet; the updated attribute."""
    started = time.perf_counter()
    old_shape = tuple(old[d.name] for d in dims)
    new_shape = tuple(d.size for d in dims)
    if old_shape == new_shape:
        return info
    reasons = list(info.get("reasons", []))
    computed = [(block, *_point_block(experiment, dims, block, counts, threads))
                for block in _new_blocks(old_shape, new_shape)]
    stored = group["mf_point_E_focus"].shape[-1]
    wanted = max([stored] + [a["mf_point_E_focus"].shape[-1] for _, a, _ in computed])
    for name, fill in _POINT_FILL.items():
        if wanted > stored:  # more fixed points than before: a wider mf_point dimension
            array = group[name]
            array.resize(array.shape[:-1] + (wanted,))
            array[..., stored:] = fill
    for block, arrays, block_reasons in computed:
        reasons += block_reasons
        region = tuple(slice(r.start, r.stop) for r in block)
        for name, values in arrays.items():
            if name in _POINT_FILL:
                pad = [(0, 0)] * (values.ndim - 1) + [(0, wanted - values.shape[-1])]
                values = np.pad(values, pad, constant_values=_POINT_FILL[name])
            group[name][region] = values
    bif_dims = _bifurcation_dims(dims)
    for block in _new_blocks(tuple(old[d.name] for d in bif_dims), tuple(d.size for d in bif_dims)):
        region = tuple(slice(r.start, r.stop) for r in block)
        group["mf_bifurcation_R_Eplus"][region] = _bifurcation_block(experiment, bif_dims, block,
                                                                     counts, threads)
    seconds = time.perf_counter() - started
    logger.info("mean-field theory for the new points of a grown grid in %.2f s", seconds)
    return dict(info, points=math.prod(new_shape), sizes={d.name: d.size for d in dims},
                reasons=reasons[:100], seconds=round(info.get("seconds", 0.0) + seconds, 3))


def bifurcation_line(ds: xr.Dataset, x: str, y: str, focus_count: int | None = None):
    """``(xs, ys)`` of the bifurcation line to draw over a phase diagram of ``x`` and ``y``.

    One of the axes must be ``R_Eplus``; the other a dimension of ``mf_bifurcation_R_Eplus``.
    Other dimensions take their first value. None if the store has no such line.
    """
    if "mf_bifurcation_R_Eplus" not in ds or "R_Eplus" not in (x, y):
        return None
    other = y if x == "R_Eplus" else x
    bif = ds["mf_bifurcation_R_Eplus"]
    if other not in bif.dims:
        return None
    counts = list(bif[FOCUS_DIM].values)
    n = focus_count if focus_count is not None else (1 if 1 in counts else counts[0])
    line = bif.sel({FOCUS_DIM: n})
    extra = {d: 0 for d in line.dims if d != other}
    line = line.isel(extra)
    values = np.asarray(line.values, dtype=float)
    positions = np.asarray(line[other].values)
    if not np.any(np.isfinite(values)) or not math.isfinite(float(np.nanmax(values))):
        return None
    return (values, positions) if x == "R_Eplus" else (positions, values)
