"""Grids that grow in place.

Running a definition on an existing store whose only changes are *added* values on existing
axes (anywhere in the axis) or more networks/inits (``networks``, ``inits``, ``replicates``)
grows the store: every array along a grown dimension is resized, the new coordinate values
are appended at the end of the store's axis, and only the new points (status todo) run.
Existing chunks are not rewritten, so existing data stay bit-identical; since a point's seeds
depend on its coordinates only (:mod:`sweeps.spec.seeds`), the grown grid holds exactly what a
fresh run of the new definition would hold, in the store's axis order (sort with
``ds.sortby("kappa")`` if needed).

Anything else (a removed value, another fixed parameter, a new or reordered dimension, a
changed zip, other simulation settings) is refused with :class:`StoreMismatchError` naming
what differs; the store is left untouched.

Growth resizes the arrays first and records the new identity last: a growth interrupted
midway is completed by the next run (resizing to the same shape is idempotent).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np

from sweeps.errors import StoreError, StoreMismatchError
from sweeps.plan import SweepPlan
from sweeps.spec.types import DimensionKind
from sweeps.store.provenance import utc_now
from sweeps.store.sweep_store import SweepStore, identity_differences

__all__ = ["grow_to", "open_store", "plan_growth"]

logger = logging.getLogger(__name__)

_FIELD = {DimensionKind.NETWORK: "sweep.networks", DimensionKind.INIT: "sweep.inits", DimensionKind.SEED: "sweep.replicates"}


def _json(value):
    return json.loads(json.dumps(value, sort_keys=True))


def _refuse(store: SweepStore, what: str) -> StoreMismatchError:
    return StoreMismatchError(f"{store.path} was created from a different definition: {what}; only added "
                              "axis values or more networks/inits can grow a store; use a new store path")


def plan_growth(store: SweepStore, experiment):
    """The experiment in the store's order and the growth ``{dim: (old size, new size)}``.

    Raises
    ------
    StoreMismatchError
        If the definition differs in anything but added axis values or replicate counts.
    """
    stored, current = store.identity, _json(experiment.identity())
    diffs = identity_differences({k: v for k, v in stored.items() if k != "sweep"},
                                 {k: v for k, v in current.items() if k != "sweep"})
    if diffs:
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        raise _refuse(store, "; ".join(diffs[:3]) + more)
    dims, growth = [], {}
    for dim in experiment.dimensions:
        old, new = stored["sweep"].get(dim.name), current["sweep"][dim.name]
        if dim.kind == DimensionKind.AXIS:
            missing = [v for v in old if v not in new]
            if missing:
                raise _refuse(store, f"sweep.{dim.name}: the store's values {missing} are not in the definition")
            by_json = {json.dumps(_json(v)): v for v in dim.values[dim.name]}
            ordered = [by_json[json.dumps(v)] for v in old] + [v for v in dim.values[dim.name] if _json(v) not in old]
            dims.append(dataclasses.replace(dim, values={dim.name: tuple(ordered)}, size=len(ordered)))
        elif dim.kind == DimensionKind.ZIP:
            if old != new:
                raise _refuse(store, f"sweep.zip {dim.name}: zipped values cannot change (store {old}, definition {new})")
            dims.append(dim)
        else:
            if new < old:
                raise _refuse(store, f"{_FIELD.get(dim.kind, dim.name)}: {new} is fewer than the store's {old}")
            dims.append(dim)
        # sizes recorded in the identity (written last by a growth), not the arrays' shapes: a
        # growth interrupted after resizing some arrays is redone in full
        recorded = len(old) if dim.kind == DimensionKind.AXIS else dim.size if dim.kind == DimensionKind.ZIP else old
        if dims[-1].size != recorded or dims[-1].size != store.shape[len(dims) - 1]:
            growth[dim.name] = (min(recorded, store.shape[len(dims) - 1]), dims[-1].size)
    return dataclasses.replace(experiment, dimensions=tuple(dims)), growth


def _grow_arrays(store: SweepStore, ordered, growth: dict[str, tuple[int, int]]) -> None:
    group = store.group
    for _, array in group.arrays():
        dim_names = array.metadata.dimension_names or ()
        if not any(d in growth for d in dim_names):
            continue
        shape = tuple(growth[d][1] if d in growth else n for d, n in zip(dim_names, array.shape, strict=True))
        if shape != array.shape:
            array.resize(shape)
    for dim in ordered.dimensions:
        if dim.name in growth:
            old, new = growth[dim.name]
            group[dim.name][old:new] = np.asarray(dim.coordinate())[old:new]


def grow_to(store: SweepStore, ordered, growth: dict[str, tuple[int, int]]) -> SweepStore:
    """Grow ``store`` to the experiment ``ordered`` (from :func:`plan_growth`); the reopened store."""
    experiment = ordered
    identity = json.dumps(ordered.identity(), sort_keys=True)
    if not growth and identity == json.dumps(store.identity, sort_keys=True):
        return store
    _grow_arrays(store, ordered, growth)
    attrs = store.attrs
    record = {"time": utc_now(), "grown": {d: list(sizes) for d, sizes in growth.items()},
              "definition_sha256": experiment.sha256}
    store.group.attrs.update({
        "sweeps_identity": identity,
        "sweeps_definition": experiment.text,
        "sweeps_definition_sha256": experiment.sha256,
        "growths": [*attrs.get("growths", []), record],
    })
    logger.info("grew store %s: %s", store.path, record["grown"] or "same points, new definition text")
    return SweepStore.open(store.path)


def open_store(path: str | Path, experiment, plan: SweepPlan | None = None) -> tuple[SweepStore, SweepPlan]:
    """The store at ``path`` for ``experiment`` and the run's plan, building the plan once.

    A missing store is created from the plan (``plan``, the experiment's, when given); an
    existing one must hold the same definition or one that only adds points (it grows, and the
    plan follows the store's axis order: ``plan`` is used when that order is the definition's).

    Raises
    ------
    StoreMismatchError, StoreError
        If the store holds another definition or other variables, or is not a sweeps store.
    """
    path = Path(path)
    if not Path(path, "zarr.json").exists():
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"{path} exists and is not a sweeps store")
        plan = plan if plan is not None else SweepPlan.build(experiment)
        return SweepStore.create(path, plan), plan
    store = SweepStore.open(path)
    store.require_arrays()
    ordered, growth = plan_growth(store, experiment)
    if plan is None or ordered.dimensions != experiment.dimensions:
        plan = SweepPlan.build(ordered)
    names = {s.name for s in plan.variables}
    missing = sorted(names - set(store.variables))
    if missing:
        raise StoreMismatchError(f"{path} was written by a version without the variables {missing}; "
                                 "use a new store path")
    retired = sorted(set(store.variables) - names)
    if retired:
        raise StoreMismatchError(f"{path} was written by a version with the variables {retired}, which "
                                 "this version no longer computes; finish it with that version or use a "
                                 "new store path")
    return grow_to(store, ordered, growth), plan
