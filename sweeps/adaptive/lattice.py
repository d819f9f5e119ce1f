"""The fine lattice of an adaptive sweep and its cells.

The lattice is the grid's swept dimensions at full resolution.  The learner works in *sorted*
positions: along a numeric axis the values in increasing order (a store grown in place keeps
new values at the end of its axis), along a zipped or text axis the store's order.  The
sorted C-order index of a lattice point is its *lattice index*, which breaks every tie.

Cells are boxes of lattice points ``lo <= k <= hi`` (inclusive, sorted positions) whose
corners are chosen.  The coarse lattice (every ``coarse_spacing``-th position of each axis and
the last, :func:`sweeps.spec.adaptive.coarse_lines`) cuts the lattice into the coarse cells.
Refining a cell chooses its *split points*: per axis the positions ``lo, (lo + hi) // 2, hi``
(``lo, hi`` where ``hi - lo < 2``); it then falls into up to ``2^d`` children.  A cell whose
every width is below 2 cannot be refined (its corners are neighbours on the lattice).

The cells are a function of the chosen points alone (:meth:`Lattice.cells`): starting from
the coarse cells, a cell is split when all its split points are chosen.  So the learner keeps
no state between rounds: a store's ``adaptive_round`` array is all it needs to resume.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sweeps.spec.adaptive import coarse_lines
from sweeps.spec.types import DimensionKind

__all__ = ["Cell", "Lattice"]


@dataclass(frozen=True)
class Cell:
    """A box of the lattice: ``lo`` and ``hi`` are inclusive sorted positions per axis."""

    lo: tuple[int, ...]
    hi: tuple[int, ...]

    @property
    def width(self) -> int:
        """The largest extent in lattice steps."""
        return max((h - lo for lo, h in zip(self.lo, self.hi, strict=True)), default=0)

    @property
    def box(self) -> tuple[slice, ...]:
        """The closed box as slices (sorted positions)."""
        return tuple(slice(lo, h + 1) for lo, h in zip(self.lo, self.hi, strict=True))

    @property
    def refinable(self) -> bool:
        return self.width >= 2

    def split_positions(self) -> list[tuple[int, ...]]:
        """Per axis the positions of the split points: ``lo, mid, hi`` (or ``lo, hi``)."""
        return [tuple(sorted({lo, (lo + h) // 2, h})) for lo, h in zip(self.lo, self.hi, strict=True)]

    def children(self) -> list[Cell]:
        """The cells this one falls into when refined."""
        spans = [list(zip(p[:-1], p[1:], strict=True)) or [(p[0], p[0])] for p in self.split_positions()]
        return [Cell(tuple(s[0] for s in combo), tuple(s[1] for s in combo)) for combo in itertools.product(*spans)]


@dataclass(frozen=True, eq=False)
class Lattice:
    """The fine lattice: its shape and, per axis, the store positions in sorted order.

    Parameters
    ----------
    order : tuple of ndarray
        ``order[a][k]`` is the store position of sorted position ``k`` along axis ``a``.
    coarse_spacing : int
        Spacing of the coarse lattice (round 0).
    """

    order: tuple[np.ndarray, ...]
    coarse_spacing: int

    @classmethod
    def of(cls, dimensions, coarse_spacing: int) -> Lattice:
        """The lattice of the grid ``dimensions`` (replicate dimensions left out)."""
        order = []
        for dim in dimensions:
            if dim.kind.is_replicate:
                continue
            values = dim.coordinate()
            numeric = values.dtype.kind in "iuf" and dim.kind == DimensionKind.AXIS
            order.append(np.argsort(values, kind="stable") if numeric else np.arange(dim.size))
        return cls(tuple(np.asarray(o, np.int64) for o in order), coarse_spacing)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(o) for o in self.order)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def sorted_view(self, array: np.ndarray) -> np.ndarray:
        """``array`` (store order over the lattice) in sorted positions."""
        return array[np.ix_(*self.order)] if self.order else array

    def store_indices(self, positions) -> np.ndarray:
        """Flat store-order lattice indices of sorted ``positions`` (an (n, d) array)."""
        positions = np.asarray(positions, np.int64).reshape(-1, len(self.shape))
        store = tuple(o[positions[:, a]] for a, o in enumerate(self.order))
        return np.ravel_multi_index(store, self.shape).astype(np.int64)

    def lattice_index(self, position: tuple[int, ...]) -> int:
        """The sorted C-order index of a position (the tie-breaker)."""
        return int(np.ravel_multi_index(position, self.shape))

    def coarse_cells(self) -> list[Cell]:
        lines = [coarse_lines(n, self.coarse_spacing) for n in self.shape]
        spans = [list(zip(p[:-1], p[1:], strict=True)) or [(p[0], p[0])] for p in lines]
        return [Cell(tuple(s[0] for s in combo), tuple(s[1] for s in combo)) for combo in itertools.product(*spans)]

    def coarse_positions(self) -> list[tuple[int, ...]]:
        """The coarse lattice (round 0), in lattice-index order."""
        lines = [coarse_lines(n, self.coarse_spacing) for n in self.shape]
        return [tuple(c) for c in itertools.product(*lines)]

    def cells(self, chosen: np.ndarray) -> list[Cell]:
        """The leaf cells implied by the chosen points (``chosen``: bool, sorted positions).

        Coarse cells are split recursively while all their split points are chosen; cells
        that cannot be refined are left out.  Ordered by lattice index of ``lo``, then ``hi``.
        """
        leaves, stack = [], self.coarse_cells()
        while stack:
            cell = stack.pop()
            if not cell.refinable:
                continue
            if chosen[np.ix_(*self.split_positions_arrays(cell))].all():
                stack.extend(cell.children())
            else:
                leaves.append(cell)
        return sorted(leaves, key=lambda c: (self.lattice_index(c.lo), c.hi))

    @staticmethod
    def split_positions_arrays(cell: Cell) -> list[np.ndarray]:
        return [np.asarray(p, np.int64) for p in cell.split_positions()]

    def new_points(self, cell: Cell, chosen: np.ndarray) -> list[tuple[int, ...]]:
        """The split points of ``cell`` not chosen yet, in lattice-index order."""
        return [p for p in itertools.product(*cell.split_positions()) if not chosen[p]]
