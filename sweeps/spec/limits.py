"""The ``[limits]`` table: how large a sweep may be before anything runs.

A definition whose arithmetic exceeds a limit is refused before a store exists or a backend
starts, in one line naming the limit and what exceeded it; raise the limit in the definition or
on the command line (``sweeps run FILE limits.core_hours=1e6 --store S``) to run it anyway::

    [limits]
    points = 10000000          # grid points (the product of the dimension sizes)
    point_memory_gb = 16.0     # memory of one point's recording and results (GB = 2^30 bytes;
                               # the connectivity has its own: simulation.ram_budget_gb)
    store_gb = 1000.0          # the store's uncompressed size (GB = 10^9 bytes, as validate prints)
    core_hours = 100000.0      # predicted single-core hours of the whole sweep

``points`` is checked while the definition is read (before the grid is expanded); the others
once the plan is known (:func:`sweeps.execution.cost.check_limits`: ``sweeps validate``,
``sweeps run`` and the Python API).  The limits are not part of a store's identity: a store
created under one limit is resumed under another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from sweeps.errors import DefinitionError
from sweeps.spec.fields import check_keys, optional

__all__ = ["Limits", "parse_limits"]


@dataclass(frozen=True)
class Limits:
    """The ``[limits]`` table (see the module docstring for the meaning of each)."""

    points: int = 10**7
    point_memory_gb: float = 16.0
    store_gb: float = 1000.0
    core_hours: float = 1e5

    def check_points(self, n_points: int, dims: str) -> None:
        """Refuse a grid of more than :attr:`points` points (``dims``: its sizes, for the message)."""
        if n_points > self.points:
            raise DefinitionError("limits.points", f"the grid {dims} has {n_points:.3g} points, more than the "
                                  f"limit of {self.points:.3g} (raise limits.points to run it)")


def parse_limits(table: dict) -> Limits:
    """The ``[limits]`` table: an integer >= 1 for ``points``, finite numbers > 0 for the others."""
    keys = tuple(f.name for f in fields(Limits))
    check_keys("limits", table, keys)
    values = {}
    for key in keys:
        kind = int if key == "points" else (int, float)
        value = optional(table, "limits", key, kind, None)
        if value is None:
            continue
        if not (math.isfinite(value) and value > 0):
            raise DefinitionError(f"limits.{key}", f"must be a finite number > 0, got {value}")
        values[key] = value if key == "points" else float(value)
    return Limits(**values)
