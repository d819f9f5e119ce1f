"""Test helpers: one grid point run on its own, and a batch split back into points."""

from __future__ import annotations

import numpy as np

from sweeps.execution.task import run_points
from sweeps.plan import SweepPlan
from sweeps.store.batch import PointBatch, PointResult


def simulate_point(experiment, index: int) -> dict[str, np.ndarray]:
    """Build, simulate and measure grid point ``index`` alone; raises on failure."""
    (result,) = run_points(SweepPlan.build(experiment), [index])
    if not result.ok:
        raise RuntimeError(result.error)
    return result.values


def batch_results(batch: PointBatch) -> list[PointResult]:
    """``batch`` as per-point results (the inverse of ``PointBatch.from_results``)."""
    rows = np.cumsum(batch.ok) - 1
    return [PointResult(int(i), None if e else {n: v[rows[k]] for n, v in batch.values.items()}, e or None, float(s))
            for k, (i, s, e) in enumerate(zip(batch.index, batch.seconds, batch.error, strict=True))]
