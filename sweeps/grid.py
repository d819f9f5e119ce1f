"""Grid expansion: point index <-> coordinates, per-point parameters and seeds.

The grid is the cartesian product of the experiment's dimensions in order (plain axes, zipped
axes sharing one dimension, and the replicate dimension ``seed`` last).  Points are numbered in
C order (the last dimension varies fastest).  Each point's seed is
``numpy.random.SeedSequence(root_seed, spawn_key=(index,))``, so results never depend on which
worker runs a point, in which order, or with how many workers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["Grid", "point_seed"]


class _Dimension(Protocol):
    name: str
    values: dict[str, tuple]
    size: int
    kind: str


def point_seed(root_seed: int, index: int) -> np.random.SeedSequence:
    """The seed of grid point ``index``: ``SeedSequence(root_seed, spawn_key=(index,))``."""
    return np.random.SeedSequence(root_seed, spawn_key=(int(index),))


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
        """The grid of an :class:`~sweeps.definition.Experiment`."""
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

    def parameters(self, index: int) -> dict[str, Any]:
        """Model parameters of point ``index``: fixed parameters plus the swept values."""
        params = dict(self.fixed)
        for dim, i in zip(self.dimensions, self.coords(index), strict=True):
            for name, values in dim.values.items():
                params[name] = values[i]
        return params

    def replicate(self, index: int) -> int:
        """Replicate number of point ``index`` (its position along ``seed``, 0 if absent)."""
        coords = self.coords(index)
        for dim, i in zip(self.dimensions, coords, strict=True):
            if dim.kind == "seed":
                return i
        return 0

    def seed(self, index: int) -> np.random.SeedSequence:
        """Seed of point ``index`` (see :func:`point_seed`)."""
        if not 0 <= index < len(self):
            raise IndexError(f"point index {index} out of range for a grid of {len(self)} points")
        return point_seed(self.root_seed, index)

    def label(self, index: int, replicate: bool = True) -> str:
        """A short human-readable description, e.g. ``R_Eplus=3.0, seed=1``."""
        parts = []
        for dim, i in zip(self.dimensions, self.coords(index), strict=True):
            if dim.kind == "seed" and replicate:
                parts.append(f"seed={i}")
            parts.extend(f"{name}={values[i]}" for name, values in dim.values.items())
        return ", ".join(parts)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))
