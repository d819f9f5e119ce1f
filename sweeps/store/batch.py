"""What a task returns and the store writes: the results of several points, column by column."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sweeps.measure.registry import NO_ERROR

__all__ = ["PointBatch", "PointResult"]


@dataclass(frozen=True)
class PointResult:
    """Outcome of one grid point: measured ``values`` or an ``error`` message."""

    index: int
    values: dict[str, np.ndarray] | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, eq=False)
class PointBatch:
    """Outcomes of several grid points in columns (what a task returns, what the store writes).

    Parameters
    ----------
    index : ndarray of int64, shape (n,)
        Point indices (C order of the grid), each at most once.
    seconds : ndarray of float64, shape (n,)
        Compute seconds per point.
    error : tuple of str, length n
        Error message per point, ``""`` for a point that is ok.
    values : dict of str to ndarray
        Per variable, the values of the ok points stacked along a new first axis, in the order
        of ``index`` (shape ``(number ok, *inner)``).
    """

    index: np.ndarray
    seconds: np.ndarray
    error: tuple[str, ...]
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.index)

    @functools.cached_property
    def ok(self) -> np.ndarray:
        """Boolean mask of the ok points."""
        return np.array([not e for e in self.error], dtype=bool)

    @classmethod
    def from_results(cls, results: list[PointResult], dtypes: dict[str, np.dtype]) -> PointBatch:
        """Stack per-point results; each variable of ``dtypes`` is converted to its dtype once."""
        good = [r.values for r in results if r.ok]
        return cls(
            index=np.array([r.index for r in results], np.int64),
            seconds=np.array([r.seconds for r in results], np.float64),
            error=tuple(r.error or NO_ERROR for r in results),
            values={name: np.stack([np.asarray(v[name], dtype) for v in good]) if good
                    else np.empty((0,), dtype) for name, dtype in dtypes.items()},
        )

    @classmethod
    def failed(cls, indices, message: str, dtypes: dict[str, np.dtype]) -> PointBatch:
        """Every point of ``indices`` failed with ``message`` (e.g. a task lost with its worker)."""
        return cls.from_results([PointResult(int(i), None, message, 0.0) for i in indices], dtypes)

    @classmethod
    def concat(cls, batches: list[PointBatch]) -> PointBatch:
        """One batch of all points of ``batches`` (non-empty list), in order."""
        if len(batches) == 1:
            return batches[0]
        names = batches[0].values
        return cls(
            index=np.concatenate([b.index for b in batches]),
            seconds=np.concatenate([b.seconds for b in batches]),
            error=tuple(e for b in batches for e in b.error),
            values={name: np.concatenate([b.values[name] for b in batches if len(b.values[name])]
                                         or [batches[0].values[name]]) for name in names},
        )
