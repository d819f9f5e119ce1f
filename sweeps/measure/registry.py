"""The measurement registry: one entry per stored variable, declared next to its formula.

A measurement is registered with its name, inner dims, dtype, units, long name and the
function computing it from a measurement context (see :mod:`sweeps.measure.measurements`)::

    @REGISTRY.register("mean_activity_E", (), "float64", "1", "mean fraction of active E neurons")
    def _mean_activity_e(ctx):
        return ...

The store creates its schema from :meth:`Registry.specs` and the inner coordinates from
:func:`inner_coordinates`, so adding a measurement touches only the module that registers
it. Inner dims follow the model's populations: ``population`` and ``population_other``
(population names), ``cluster``, ``time``, ``pair_type`` (unordered pairs of the model's cell
types, e.g. ``E-E, I-I, E-I``) and ``relation`` (``within``, ``across`` a cluster).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.measure.statistics import RELATIONS, pair_type_labels

__all__ = ["INNER_DIMS", "NO_CLUSTER", "NO_ERROR", "Measurement", "Registry", "VariableSpec", "inner_coordinates"]

POPULATION, POPULATION_OTHER, CLUSTER, TIME = "population", "population_other", "cluster", "time"
PAIR_TYPE, RELATION = "pair_type", "relation"
#: Every dim a measurement may have besides the point dims.
INNER_DIMS = (POPULATION, POPULATION_OTHER, CLUSTER, TIME, PAIR_TYPE, RELATION)
#: Lengths assumed for chunk sizing before a layout is known.
#: Cluster index of a population in no cluster (``population_cluster``, ``Recording.population_clusters``).
NO_CLUSTER = -1
#: ``error`` of a point without a failure message (also the fill value of the stored variable).
NO_ERROR = ""
_FILL = {"f": float("nan"), "i": -1, "u": 0, "b": False}


@dataclass(frozen=True)
class VariableSpec:
    """One stored variable: name, inner dims (after the point dims), dtype, CF attributes.

    ``attrs`` holds further attributes as ``(key, value)`` pairs, e.g.
    ``("aggregation", "fisher_z")`` for correlations averaged in z-space.
    """

    name: str
    dims: tuple[str, ...]
    dtype: np.dtype
    units: str
    long_name: str
    fill: Any
    attrs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Measurement:
    """A registered measurement: its :class:`VariableSpec` and its compute function."""

    spec: VariableSpec
    compute: Callable[[Any], Any]
    trace: bool = False  # a time series, stored only with ``keep_traces``


class Registry:
    """Ordered collection of :class:`Measurement` objects."""

    def __init__(self) -> None:
        self._items: dict[str, Measurement] = {}

    def register(self, name: str, dims: Sequence[str], dtype: str, units: str, long_name: str,
                 *, attrs: dict | None = None, trace: bool = False):
        """Decorator registering ``compute(ctx)`` as the measurement ``name``."""
        unknown = [d for d in dims if d not in INNER_DIMS]
        if unknown:
            raise ValueError(f"measurement {name!r}: unknown dims {unknown}; allowed: {INNER_DIMS}")
        if name in self._items:
            raise ValueError(f"measurement {name!r} is registered twice")
        kind = np.dtype(dtype)
        spec = VariableSpec(name, tuple(dims), kind, units, long_name, _FILL[kind.kind],
                            tuple(sorted((attrs or {}).items())))

        def decorate(compute):
            self._items[name] = Measurement(spec, compute, trace)
            return compute

        return decorate

    def specs(self, keep_traces: bool = True) -> list[VariableSpec]:
        """Specs of the stored variables, in registration order."""
        return [m.spec for m in self._items.values() if keep_traces or not m.trace]

    def compute(self, ctx, keep_traces: bool = True) -> dict[str, np.ndarray]:
        """Evaluate every measurement on ``ctx``, cast to its dtype."""
        return {m.spec.name: np.asarray(m.compute(ctx), dtype=m.spec.dtype)
                for m in self._items.values() if keep_traces or not m.trace}

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items.values())


def inner_coordinates(population_names: Sequence[str], cell_types: Sequence[str | None]) -> dict:
    """Coordinates of the inner dims that the store does not derive itself.

    Returns ``{dim: (dim, values, attrs)}`` for ``population_other``, ``pair_type`` and
    ``relation``.
    """
    return {
        POPULATION_OTHER: (POPULATION_OTHER, np.array(list(population_names), dtype=object),
                           {"long_name": "second population of a pair"}),
        PAIR_TYPE: (PAIR_TYPE, np.array(pair_type_labels(cell_types), dtype=object),
                    {"long_name": "cell types of a neuron pair"}),
        RELATION: (RELATION, np.array(RELATIONS, dtype=object),
                   {"long_name": "neuron pair in the same cluster (within) or not (across)"}),
    }


def inner_sizes(population_names: Sequence[str], cell_types: Sequence[str | None]) -> dict[str, int]:
    """Lengths of the dims of :func:`inner_coordinates`."""
    return {dim: len(values) for dim, (_, values, _) in
            inner_coordinates(population_names, cell_types).items()}
