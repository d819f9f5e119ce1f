"""Theory next to the simulations: the ``[theory]`` table and its store variables.

A definition with::

    [theory]
    focus_counts = [1, 2, 3]      # integers in 0..Q (default [1])

gets, over every swept dimension except ``seed`` and a new dimension ``focus_count``, the
variables its model declares (:class:`~sweeps.models.model.ModelTheory`; for ``clustered_ei``
the mean-field rates, fixed-point counts and stabilities, and the bifurcation ``R_Eplus``, see
:mod:`sweeps.models.clustered_ei`).  A variable that is ``independent_of`` a swept axis is
stored without it; one with an ``extra_dim`` gets that trailing dimension.

``run_sweep`` writes them before the first simulation; ``sweeps theory FILE --store S``
writes only them, through :class:`~sweeps.store.sweep_store.SweepStore`.  They are not part
of the definition's identity: adding a ``[theory]`` table to the definition of an existing
store is allowed.  The attribute ``sweeps_theory`` of the store's empty group ``sweeps_theory``
records the grid sizes the theory covers (and the widths of variables with an extra
dimension), so a store grown in place (:mod:`sweeps.store.growth`) gets theory for its new
points only; other focus counts recompute everything.  Writing the theory never rewrites the
store group's own attributes (identity, definition, provenance): the record is cleared before
and written after the arrays (see :meth:`~sweeps.store.sweep_store.SweepStore.replace_theory`),
so an interruption at any instant leaves a store whose next ``sweeps theory`` redoes the work.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time

import numpy as np
import xarray as xr

from sweeps.models.model import ModelTheory
from sweeps.plan import SweepPlan
from sweeps.spec.grid import RUN_AXES
from sweeps.spec.types import DimensionKind
from sweeps.store.sweep_store import THEORY_ATTR, SweepStore

logger = logging.getLogger(__name__)

__all__ = ["FOCUS_DIM", "SWEPT_FOCUS_DIM", "THEORY_ATTR", "bifurcation_line", "bifurcation_phase", "focus_dim",
           "theory_dataset", "write_theory"]

FOCUS_DIM = "focus_count"
#: the theory's focus dimension when the grid itself has a dimension ``focus_count`` (a swept
#: start option): the theory does not depend on how a point starts, so it is stored along its
#: own focus counts under this name instead of clashing with the grid's.
SWEPT_FOCUS_DIM = "mf_focus_count"


def focus_dim(experiment) -> str:
    """Name of the theory's focus-count dimension for ``experiment`` (see :data:`SWEPT_FOCUS_DIM`)."""
    return SWEPT_FOCUS_DIM if FOCUS_DIM in experiment.dims else FOCUS_DIM


def _model_values(dim) -> dict[str, tuple]:
    """The model parameters along ``dim`` (run options such as ``focus_count`` left out)."""
    return {name: values for name, values in dim.values.items() if name not in RUN_AXES}


def _theory_dims(plan: SweepPlan):
    """The dimensions the theory runs over: every swept dimension that carries model parameters
    and the network/init replicates (broadcast), not ``seed`` and not a dimension of run options
    alone (a swept ``focus_count``: the theory has its own focus dimension)."""
    return [d for d in plan.experiment.dimensions
            if d.kind != DimensionKind.SEED and (d.kind.is_replicate or _model_values(d))]


def _groups(theory: ModelTheory) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Variable names by the swept parameters they do not depend on (declaration order)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for var in theory.variables:
        groups.setdefault(var.independent_of, []).append(var.name)
    return {key: tuple(names) for key, names in groups.items()}


def _group_dims(dims, independent_of: tuple[str, ...]):
    return [d for d in dims if not (d.kind == DimensionKind.AXIS and d.name in independent_of)]


def _parameter_sets(experiment, dims, ranges):
    """Model parameters at every point of the block ``ranges`` (one index range per dimension
    of ``dims``, C order); dimensions without parameter values (networks, inits) are
    broadcast, not enumerated."""
    varying = [(dim, r) for dim, r in zip(dims, ranges, strict=True) if _model_values(dim)]
    sets = []
    for coords in itertools.product(*(r for _, r in varying)):
        params = {k: v for k, v in experiment.parameters.items() if k not in RUN_AXES}
        for (dim, _), i in zip(varying, coords, strict=True):
            for name, values in _model_values(dim).items():
                params[name] = values[i]
        sets.append(params)
    return sets


def _cpus() -> int:
    """CPUs this process may use (the theory is solved before any simulation runs)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _broadcast(values, dims, ranges):
    """``values`` over the parameter dimensions of the block, broadcast to all of ``dims``."""
    block = tuple(len(r) for r in ranges)
    expanded = [len(r) if _model_values(dim) else 1 for dim, r in zip(dims, ranges, strict=True)]
    values = values.reshape(tuple(expanded) + values.shape[1:])
    return np.broadcast_to(values, block + values.shape[len(block):])


def _block(plan: SweepPlan, names: tuple[str, ...], dims, ranges, counts, threads):
    """The variables ``names`` over the block ``ranges`` of ``dims``, and the reasons."""
    sets = _parameter_sets(plan.experiment, dims, ranges)
    result = plan.model.sweep_theory.compute(sets, counts, names, threads)
    return {name: _broadcast(np.asarray(result.arrays[name]), dims, ranges) for name in names}, list(result.reasons)


def theory_dataset(plan: SweepPlan, threads: int | None = None) -> xr.Dataset:
    """Compute the theory variables of ``plan`` (whose experiment has a ``[theory]`` table)
    on ``threads`` threads (default: every CPU this process may use)."""
    theory = plan.model.sweep_theory
    counts = list(plan.experiment.theory.focus_counts)
    dims = _theory_dims(plan)
    fdim = focus_dim(plan.experiment)
    started = time.perf_counter()
    threads = threads or _cpus()
    data, reasons = {}, []
    for independent_of, names in _groups(theory).items():
        group_dims = _group_dims(dims, independent_of)
        arrays, group_reasons = _block(plan, names, group_dims, [range(d.size) for d in group_dims], counts,
                                       threads)
        reasons += group_reasons
        for name, values in arrays.items():
            var = theory.variable(name)
            extra = (var.extra_dim,) if var.extra_dim else ()
            data[name] = (tuple(d.name for d in group_dims) + (fdim,) + extra, values,
                          {"units": var.units, "long_name": var.long_name})
    seconds = time.perf_counter() - started
    focus_coord = {fdim: (fdim, np.asarray(counts),
                          {"long_name": "number of focus (active) clusters of the mean-field state", "units": "1"})}
    attrs = {"focus_counts": counts, "focus_dim": fdim, "points": math.prod(d.size for d in dims),
             "seconds": round(seconds, 3), "reasons": reasons[:100],
             "sizes": {d.name: d.size for d in dims}, "variables": list(data),
             "widths": {name: int(values.shape[-1]) for name, (_, values, _) in data.items()
                        if theory.variable(name).extra_dim}}
    logger.info("theory for %d grid points x %d focus counts in %.2f s", attrs["points"], len(counts), seconds)
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


def write_theory(store: SweepStore, plan: SweepPlan, *, threads: int | None = None) -> xr.Dataset:
    """Write the theory of ``plan`` into ``store`` (the plan must follow the store's axis order).

    A store that has theory for the same focus counts and has grown since (sweeps.store.growth)
    gets theory for its new points only: the existing values are not rewritten. Otherwise
    (no theory yet, other focus counts, theory written by an older version) every variable
    is computed and written, on ``threads`` threads (default: every CPU this process may
    use; the values do not depend on it). Returns the theory variables of the store.
    """
    info = store.theory_info
    dims = _theory_dims(plan)
    counts = list(plan.experiment.theory.focus_counts)
    old = (info or {}).get("sizes")
    fdim = focus_dim(plan.experiment)
    if info is None or info.get("focus_counts") != counts or old is None \
            or set(old) != {d.name for d in dims} or info.get("focus_dim", FOCUS_DIM) != fdim:
        stored_dim = (info or {}).get("focus_dim", FOCUS_DIM)  # the old theory's arrays go
        ds = theory_dataset(plan, threads)
        info = dict(ds.attrs)
        ds.attrs = {}
        store.replace_theory(ds, info, stored_dim)
    else:
        extended = _extend(store, plan, dims, old, counts, info, threads or _cpus())
        if extended is not info:
            store.set_theory_info(extended)
    return store.theory_dataset()


def _extend(store: SweepStore, plan: SweepPlan, dims, old: dict, counts, info: dict, threads: int) -> dict:
    """Theory for the points of a grown store that have none yet; the updated attribute."""
    theory = plan.model.sweep_theory
    started = time.perf_counter()
    if tuple(old[d.name] for d in dims) == tuple(d.size for d in dims):
        return info
    reasons = list(info.get("reasons", []))
    widths = dict(info.get("widths", {}))  # as recorded: a widening interrupted after its resize is redone
    for independent_of, names in _groups(theory).items():
        group_dims = _group_dims(dims, independent_of)
        blocks = _new_blocks(tuple(old[d.name] for d in group_dims), tuple(d.size for d in group_dims))
        computed = [(block, *_block(plan, names, group_dims, block, counts, threads)) for block in blocks]
        for name in names:
            var = theory.variable(name)
            if var.extra_dim and computed:  # more entries than before: a wider extra dimension
                written = widths.get(name, store.theory_width(name))
                widths[name] = max(written, *(a[name].shape[-1] for _, a, _ in computed))
                store.widen_theory(name, widths[name], var.fill, written=written)
        for block, arrays, block_reasons in computed:
            reasons += block_reasons
            region = tuple(slice(r.start, r.stop) for r in block)
            for name, values in arrays.items():
                var = theory.variable(name)
                if var.extra_dim:
                    width = store.theory_width(name)
                    pad = [(0, 0)] * (values.ndim - 1) + [(0, width - values.shape[-1])]
                    values = np.pad(values, pad, constant_values=var.fill)
                store.write_theory_block(name, region, values)
    seconds = time.perf_counter() - started
    logger.info("theory for the new points of a grown grid in %.2f s", seconds)
    return dict(info, points=math.prod(d.size for d in dims), sizes={d.name: d.size for d in dims}, widths=widths,
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
    fdim = SWEPT_FOCUS_DIM if SWEPT_FOCUS_DIM in bif.dims else FOCUS_DIM
    counts = list(bif[fdim].values)
    n = focus_count if focus_count is not None else (1 if 1 in counts else counts[0])
    line = bif.sel({fdim: n})
    extra = {d: 0 for d in line.dims if d != other}
    line = line.isel(extra)
    values = np.asarray(line.values, dtype=float)
    positions = np.asarray(line[other].values)
    if not np.any(np.isfinite(values)) or not math.isfinite(float(np.nanmax(values))):
        return None
    return (values, positions) if x == "R_Eplus" else (positions, values)


def bifurcation_phase(ds: xr.Dataset, experiment) -> np.ndarray:
    """Per lattice point (the swept dimensions, store order): how many of the theory's focus
    counts have their bifurcation at or below the point's ``R_Eplus``.

    ``R_Eplus >= mf_bifurcation_R_Eplus`` (a NaN bifurcation: never) summed over the focus
    counts; the value changes exactly where a bifurcation line crosses the lattice.  Used by
    the theory rounds of an adaptive sweep (:mod:`sweeps.adaptive.loss`).
    """
    lattice = [d for d in experiment.dimensions if not d.kind.is_replicate]
    bif = ds["mf_bifurcation_R_Eplus"]
    bif = bif.isel({d.name: 0 for d in experiment.dimensions if d.kind.is_replicate and d.name in bif.dims})
    r_eplus = next(d for d in lattice if d.name == "R_Eplus")
    crossed = (xr.DataArray(np.asarray(r_eplus.coordinate(), float), dims=("R_Eplus",)) >= bif)
    phase = crossed.sum(focus_dim(experiment))
    template = xr.DataArray(np.zeros(tuple(d.size for d in lattice), np.int64), dims=tuple(d.name for d in lattice))
    phase, _ = xr.broadcast(phase.drop_vars(list(phase.coords)), template)
    return np.asarray(phase.transpose(*template.dims).values, np.int64)
