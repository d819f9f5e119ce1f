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
table to the definition of an existing store is allowed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

logger = logging.getLogger(__name__)

__all__ = ["Theory", "parse_theory", "theory_dataset", "write_theory", "has_theory",
           "THEORY_ATTR", "FOCUS_DIM"]

THEORY_ATTR = "sweeps_theory"
FOCUS_DIM = "focus_count"
_KEYS = ("focus_counts",)
_MODELS = ("clustered_ei",)


@dataclass(frozen=True)
class Theory:
    """The ``[theory]`` table: the focus counts to solve."""

    focus_counts: tuple[int, ...] = (1,)


def parse_theory(table, model: str, parameters: dict, dimensions) -> Theory | None:
    """The :class:`Theory` of a ``[theory]`` table (None if absent); raises DefinitionError."""
    from sweeps.definition import DefinitionError

    if table is None:
        return None
    for key in table:
        if key not in _KEYS:
            raise DefinitionError(f"theory.{key}", f"unknown key; allowed: {', '.join(_KEYS)}")
    if model not in _MODELS:
        raise DefinitionError("theory", f"mean-field theory exists for the models {_MODELS}, "
                                        f"not {model!r}")
    counts = table.get("focus_counts", [1])
    if not isinstance(counts, list) or not counts or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise DefinitionError("theory.focus_counts",
                              f"must be a non-empty list of integers in 0..Q, got {counts!r}")
    if len(set(counts)) != len(counts):
        raise DefinitionError("theory.focus_counts", f"duplicate values in {counts!r}")
    from binnet_core.clustered import DEFAULT_PARAMETERS

    swept_q = [v for d in dimensions for name, values in d.values.items() if name == "Q"
               for v in values]
    q = min(swept_q) if swept_q else parameters.get("Q", DEFAULT_PARAMETERS["Q"])
    if isinstance(q, int) and max(counts) > q:
        raise DefinitionError("theory.focus_counts", f"{max(counts)} is outside 0..Q={q}")
    return Theory(tuple(counts))


def _theory_dims(experiment):
    return [d for d in experiment.dimensions if d.kind != "seed"]


def _parameter_sets(experiment, dims):
    """Model parameters at every point of ``dims`` (C order) and the shape."""
    shape = tuple(d.size for d in dims)
    sets = []
    for coords in np.ndindex(*shape) if shape else [()]:
        params = dict(experiment.parameters)
        for dim, i in zip(dims, coords, strict=True):
            for name, values in dim.values.items():
                params[name] = values[i]
        sets.append(params)
    return sets, shape


def theory_dataset(experiment) -> xr.Dataset:
    """Compute the theory variables of ``experiment`` (which must have a ``[theory]`` table)."""
    from binnet_core.meanfield_table import GROUPS, bifurcation_table, theory_table

    counts = list(experiment.theory.focus_counts)
    dims = _theory_dims(experiment)
    names = tuple(d.name for d in dims)
    sets, shape = _parameter_sets(experiment, dims)
    started = time.perf_counter()
    table = theory_table(sets, counts)
    full = shape + (len(counts),)
    focus_coord = {FOCUS_DIM: (FOCUS_DIM, np.asarray(counts),
                               {"long_name": "number of focus (active) clusters", "units": "1"})}
    data = {}
    for g, group in enumerate(GROUPS):
        cell, which = group.split("_")
        data[f"mf_rate_{group}"] = (names + (FOCUS_DIM,), table.rates[..., g].reshape(full), {
            "units": "1", "long_name": f"mean-field {cell} rate of the {which} clusters "
                                       "(stable state with the highest focus-E rate)"})
    data["mf_fixed_points"] = (names + (FOCUS_DIM,), table.fixed_points.reshape(full), {
        "units": "1", "long_name": "number of mean-field fixed points (-1: no convergence)"})
    data["mf_stable_points"] = (names + (FOCUS_DIM,), table.stable_points.reshape(full), {
        "units": "1", "long_name": "number of stable mean-field fixed points (-1: no convergence)"})
    points = (names + (FOCUS_DIM, "mf_point"))
    k = table.all_focus_E.shape[-1]
    data["mf_point_E_focus"] = (points, table.all_focus_E.reshape(full + (k,)), {
        "units": "1", "long_name": "mean-field focus-E rate of every fixed point"})
    data["mf_point_stable"] = (points, table.all_stable.reshape(full + (k,)), {
        "units": "1", "long_name": "fixed point stable (1), unstable (0), none (-1)"})
    bif_dims = [d for d in dims if not (d.kind == "axis" and d.name == "R_Eplus")]
    bif_sets, bif_shape = _parameter_sets(experiment, bif_dims)
    bif = bifurcation_table(bif_sets, counts).reshape(bif_shape + (len(counts),))
    data["mf_bifurcation_R_Eplus"] = (tuple(d.name for d in bif_dims) + (FOCUS_DIM,), bif, {
        "units": "1", "long_name": "mean-field bifurcation R_Eplus (first multistability)"})
    seconds = time.perf_counter() - started
    attrs = {"focus_counts": counts, "points": len(sets), "seconds": round(seconds, 3),
             "reasons": table.reasons[:100]}
    logger.info("mean-field theory for %d parameter sets x %d focus counts in %.2f s",
                len(sets), len(counts), seconds)
    return xr.Dataset(data, coords=focus_coord, attrs=attrs)


def has_theory(path) -> bool:
    """True when the store at ``path`` holds the theory variables."""
    import zarr

    group = zarr.open_group(str(path), mode="r", zarr_format=3)
    return THEORY_ATTR in group.attrs


def write_theory(path, experiment) -> xr.Dataset:
    """Compute the theory of ``experiment`` and add it to the existing store at ``path``."""
    import json

    import zarr

    ds = theory_dataset(experiment)
    info = dict(ds.attrs)
    ds.attrs = {}
    ds.to_zarr(Path(path), mode="a", consolidated=False, zarr_format=3)
    group = zarr.open_group(str(path), mode="r+", zarr_format=3)
    group.attrs[THEORY_ATTR] = json.loads(json.dumps(info))
    return ds


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
