"""Grid expansion: point index <-> coordinates, per-point parameters and seeds.

The grid is the cartesian product of the experiment's dimensions in order (plain axes, zipped
axes sharing one dimension, and the replicate dimensions last: ``network`` and ``init``, or the
older ``seed``).  Points are numbered in C order (the last dimension varies fastest).  A
point's seeds come from the root seed and its replicate indices only (:mod:`sweeps.spec.seeds`), so
results never depend on which worker runs a point, in which order, with how many workers, or
on the grid's shape.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sweeps.spec.seeds import PointSeeds, point_seeds
from sweeps.spec.types import DimensionKind

__all__ = ["RUN_AXES", "Grid"]

#: Swept names that set how a point runs, not model parameters (not passed to the builder).
RUN_AXES = ("focus_count",)
#: Replicate dimension kinds: ``seed`` (``replicates = n``) is a network index like ``network``.
NETWORK_KINDS, INIT_KINDS = (DimensionKind.NETWORK, DimensionKind.SEED), (DimensionKind.INIT,)


class _Dimension(Protocol):
    name: str
    values: dict[str, tuple]
    size: int
    kind: DimensionKind


class GridShape:
    """``shape`` and ``dims`` of anything with a ``dimensions`` sequence (Grid, Experiment)."""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)


@dataclass(frozen=True)
class Grid(GridShape):
    """The points of a sweep.

    Parameters
    ----------
    dimensions : sequence of Dimension
        Objects with ``name``, ``values`` (parameter -> tuple), ``size`` and ``kind``.
    fixed : dict
        Parameters common to all points.
    root_seed : int
        The experiment's root seed.
    """

    dimensions: tuple[_Dimension, ...]
    fixed: dict[str, Any]
    root_seed: int

    @classmethod
    def from_experiment(cls, experiment) -> Grid:
        """The grid of an :class:`~sweeps.spec.definition.Experiment`."""
        return cls(tuple(experiment.dimensions), dict(experiment.parameters), experiment.seed)

    def __len__(self) -> int:
        return math.prod(self.shape)

    def coords(self, index: int) -> tuple[int, ...]:
        """Integer position of point ``index`` along every dimension (C order)."""
        if not 0 <= index < len(self):
            raise IndexError(f"point index {index} out of range for a grid of {len(self)} points")
        return tuple(int(i) for i in np.unravel_index(index, self.shape))

    def index(self, coords: Sequence[int]) -> int:
        """Inverse of :meth:`coords`."""
        return int(np.ravel_multi_index(tuple(coords), self.shape))

    def _swept(self, index: int) -> dict[str, Any]:
        values_at = {}
        for dim, i in zip(self.dimensions, self.coords(index), strict=True):
            for name, values in dim.values.items():
                values_at[name] = values[i]
        return values_at

    def parameters(self, index: int) -> dict[str, Any]:
        """Model parameters of point ``index``: fixed parameters plus the swept values."""
        params = {k: v for k, v in self.fixed.items() if k not in RUN_AXES}
        params.update((k, v) for k, v in self._swept(index).items() if k not in RUN_AXES)
        return params

    def run_options(self, index: int) -> dict[str, Any]:
        """Swept or fixed values of :data:`RUN_AXES` at point ``index`` (e.g. ``focus_count``)."""
        options = {k: v for k, v in self.fixed.items() if k in RUN_AXES}
        options.update((k, v) for k, v in self._swept(index).items() if k in RUN_AXES)
        return options

    def _replicate(self, index: int, kinds: tuple[DimensionKind, ...]) -> int:
        for dim, i in zip(self.dimensions, self.coords(index), strict=True):
            if dim.kind in kinds:
                return i
        return 0

    def network(self, index: int) -> int:
        """Network index of point ``index`` (along ``network`` or ``seed``; 0 if absent)."""
        return self._replicate(index, NETWORK_KINDS)

    def init(self, index: int) -> int:
        """Initial-condition index of point ``index`` (along ``init``; 0 if absent)."""
        return self._replicate(index, INIT_KINDS)

    def seeds(self, index: int) -> PointSeeds:
        """Seeds of point ``index`` from the root seed and its network and init indices."""
        return point_seeds(self.root_seed, self.network(index), self.init(index))

    def build_key(self, index: int) -> tuple:
        """Points with equal keys share one built network (same parameters and network)."""
        return (tuple(sorted((k, repr(v)) for k, v in self.parameters(index).items())), self.network(index))

    def _build_coordinate(self, dim) -> np.ndarray:
        """Per position along ``dim``: the first position with the same network (same build)."""
        if dim.kind in INIT_KINDS:
            return np.zeros(dim.size, np.int64)
        if dim.kind in NETWORK_KINDS:
            return np.arange(dim.size, dtype=np.int64)
        model = [values for name, values in dim.values.items() if name not in RUN_AXES]
        first: dict[tuple, int] = {}
        return np.array([first.setdefault(tuple(repr(v[i]) for v in model), i) for i in range(dim.size)], np.int64)

    def network_groups(self, indices) -> list[list[int]]:
        """``indices`` grouped by :meth:`build_key`, groups in order of their first point.

        Vectorized over the points (a million points group in well under a second).
        """
        indices = np.asarray(list(indices) if not isinstance(indices, np.ndarray | range) else indices, np.int64)
        if indices.size == 0:
            return []
        if not self.dimensions:
            return [indices.tolist()]
        coords = np.unravel_index(indices, self.shape)
        keys = np.ravel_multi_index(tuple(self._build_coordinate(d)[c] for d, c in zip(self.dimensions, coords, strict=True)),
                                    self.shape)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        groups = np.split(indices[order], np.cumsum(np.bincount(inverse))[:-1])
        return [groups[g].tolist() for g in np.argsort(first, kind="stable")]

    def _is_replicate(self, dim) -> bool:
        return dim.kind in NETWORK_KINDS + INIT_KINDS

    def cross_points(self) -> list[int]:
        """The first point of the grid and, for each swept dimension, its other values alone.

        Replicate dimensions stay at 0; every other dimension takes each of its values while
        all others stay at their first value: ``1 + sum(size - 1)`` points instead of the
        product, e.g. 199 for a 100 x 100 grid.
        """
        points = [0]
        for axis, dim in enumerate(self.dimensions):
            if self._is_replicate(dim):
                continue
            coords = np.zeros((dim.size - 1, len(self.dimensions)), np.int64)
            coords[:, axis] = np.arange(1, dim.size)
            points += [int(i) for i in np.ravel_multi_index(tuple(coords.T), self.shape)]
        return points

    def n_parameter_points(self) -> int:
        """Number of points with every replicate dimension at 0 (:meth:`parameter_points`)."""
        return math.prod(1 if self._is_replicate(d) else d.size for d in self.dimensions)

    def parameter_points(self) -> list[int]:
        """Every point with the replicate dimensions at 0: each parameter set once."""
        ranges = [range(1) if self._is_replicate(d) else range(d.size) for d in self.dimensions]
        return [self.index(c) for c in itertools.product(*ranges)]

    def corner_points(self) -> list[int]:
        """Every corner of the grid: each swept dimension at its smallest or largest value.

        A numeric axis takes its minimum and maximum, a zipped or non-numeric one its first
        and last entries; replicate dimensions stay at 0.
        """
        ends = []
        for dim in self.dimensions:
            if self._is_replicate(dim):
                ends.append([0])
                continue
            values = next(iter(dim.values.values())) if len(dim.values) == 1 else ()
            if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                ends.append(sorted({int(np.argmin(values)), int(np.argmax(values))}))
            else:
                ends.append(sorted({0, dim.size - 1}))
        return [self.index(c) for c in itertools.product(*ends)]

    def build_parameter_points(self) -> list[int]:
        """One point per distinct set of model parameters (replicates and run options at 0)."""
        positions = [np.unique(self._build_coordinate(d)) if d.kind not in NETWORK_KINDS + INIT_KINDS else np.zeros(1, np.int64)
                     for d in self.dimensions]
        return [self.index(c) for c in itertools.product(*(p.tolist() for p in positions))]

    def n_builds(self) -> int:
        """Number of network builds of the whole grid (``len(network_groups(all points))``).

        Inits share their network's build; a dimension of run options only (``focus_count``)
        too.  Counted from the dimensions, without visiting the points.
        """
        return math.prod(len(np.unique(self._build_coordinate(d))) for d in self.dimensions)

    def label(self, index: int, replicate: bool = True) -> str:
        """A short human-readable description, e.g. ``R_Eplus=3.0, network=1``."""
        parts = []
        for dim, i in zip(self.dimensions, self.coords(index), strict=True):
            if dim.kind in NETWORK_KINDS + INIT_KINDS and replicate:
                parts.append(f"{dim.name}={i}")
            parts.extend(f"{name}={values[i]}" for name, values in dim.values.items())
        return ", ".join(parts)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))
