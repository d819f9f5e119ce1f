"""The ``[sweep.adaptive]`` table: refine a fine lattice in rounds instead of running every point.

::

    [sweep.adaptive]
    variable = "mean_active_clusters"  # stored scalar variable whose changes draw the refinement
    budget = "25 %"                    # lattice points to simulate: an integer, "<x> %" or a fraction 0.25
    batch = 40                         # most lattice points chosen per round
    coarse_spacing = 4                 # round 0: every 4th value of each swept axis (and the last)
    theory_seeding = true              # rounds 1..theory_rounds refine where [theory] predicts a change
    theory_rounds = 2                  # default 1 (only with theory_seeding)
    level = 0.5                        # optional: refine where the variable crosses this value

The lattice is the grid's swept dimensions at full resolution; the replicate dimensions
(``networks``, ``inits``, ``replicates``) run at every chosen lattice point.  The budget counts
lattice points (each with all its replicates) and is not part of the definition's identity: a
store resumed with a larger budget continues where it stopped.  The learner is
:mod:`sweeps.adaptive`; the round loop :mod:`sweeps.execution.adaptive`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sweeps.errors import DefinitionError
from sweeps.spec.fields import check_keys, optional, require, typename
from sweeps.spec.types import DimensionKind

__all__ = ["Adaptive", "Budget", "parse_adaptive"]

_KEYS = ("variable", "budget", "batch", "coarse_spacing", "theory_seeding", "theory_rounds", "level")
_PERCENT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*%\s*$")
WHERE = "sweep.adaptive"


@dataclass(frozen=True)
class Budget:
    """Lattice points to simulate: ``points`` (an integer) or ``percent`` of the lattice."""

    points: int | None = None
    percent: float | None = None

    def of(self, lattice_points: int) -> int:
        """The budget in lattice points for a lattice of ``lattice_points`` (percent rounded up)."""
        if self.points is not None:
            return min(self.points, lattice_points)
        return min(lattice_points, math.ceil(self.percent * lattice_points / 100 - 1e-9))

    def __str__(self) -> str:
        return f"{self.points} points" if self.points is not None else f"{self.percent:g} %"


@dataclass(frozen=True)
class Adaptive:
    """The ``[sweep.adaptive]`` settings (see the module docstring)."""

    variable: str
    budget: Budget
    batch: int
    coarse_spacing: int = 4
    theory_seeding: bool = False
    theory_rounds: int = 1
    level: float | None = None  # a boundary value of the variable: refine the cells it crosses

    def identity(self) -> dict:
        """What decides the chosen points (the budget only decides when to stop)."""
        identity = {"variable": self.variable, "batch": self.batch, "coarse_spacing": self.coarse_spacing,
                    "theory_rounds": self.theory_rounds if self.theory_seeding else 0}
        if self.level is not None:  # stores of definitions without a level keep their identity
            identity["level"] = self.level
        return identity


def _positive(table: dict, key: str, default: int | None) -> int:
    value = require(table, WHERE, key, int) if default is None else optional(table, WHERE, key, int, default)
    if value < 1:
        raise DefinitionError(f"{WHERE}.{key}", f"must be an integer >= 1, got {value}")
    return value


def _budget(table: dict) -> Budget:
    if "budget" not in table:
        raise DefinitionError(f"{WHERE}.budget", "missing (lattice points as an integer >= 1, \"<x> %\" or a "
                              "fraction 0 < f <= 1)")
    value = table["budget"]
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise DefinitionError(f"{WHERE}.budget", f"must be >= 1 lattice point, got {value}")
        return Budget(points=value)
    if isinstance(value, float) and 0 < value <= 1:  # a fraction of the lattice
        return Budget(percent=100 * value)
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if match is None or not 0 < float(match.group(1)) <= 100:
        raise DefinitionError(f"{WHERE}.budget", f"must be an integer >= 1 (lattice points), a percentage "
                              f"\"<x> %\" with 0 < x <= 100 or a fraction 0 < f <= 1, got {typename(value)} {value!r}")
    return Budget(percent=float(match.group(1)))


def parse_adaptive(table, dimensions, theory) -> Adaptive | None:
    """The :class:`Adaptive` settings of a ``[sweep.adaptive]`` table (None if absent).

    ``dimensions`` are the grid's dimensions and ``theory`` the ``[theory]`` table (or None):
    the budget must hold the coarse lattice and a round must hold one refinement of a cell.
    Whether ``variable`` is a stored scalar is checked with the plan
    (:func:`sweeps.adaptive.learner.check_variable`).

    Raises
    ------
    DefinitionError
        Naming the ``sweep.adaptive`` field and what is allowed.
    """
    if table is None:
        return None
    if not isinstance(table, dict):
        raise DefinitionError(WHERE, f"must be a table [sweep.adaptive], got {typename(table)}")
    check_keys(WHERE, table, _KEYS)
    variable = require(table, WHERE, "variable", str)
    budget = _budget(table)
    batch = _positive(table, "batch", None)
    spacing = _positive(table, "coarse_spacing", 4)
    seeding = optional(table, WHERE, "theory_seeding", bool, False)
    rounds = optional(table, WHERE, "theory_rounds", int, 1)
    if "theory_rounds" in table and not seeding:
        raise DefinitionError(f"{WHERE}.theory_rounds", "needs theory_seeding = true")
    if rounds < 1:
        raise DefinitionError(f"{WHERE}.theory_rounds", f"must be an integer >= 1, got {rounds}")
    level = table.get("level")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int | float)
                              or not math.isfinite(level)):
        raise DefinitionError(f"{WHERE}.level", f"must be a finite number (a value of the variable), got "
                              f"{typename(level)} {level!r}")
    lattice = [d for d in dimensions if not d.kind.is_replicate]
    if not lattice:
        raise DefinitionError(WHERE, "needs at least one swept axis (the lattice to refine)")
    if seeding:
        if theory is None:
            raise DefinitionError(f"{WHERE}.theory_seeding", "needs a [theory] table (the focus counts whose "
                                  "bifurcation lines seed the first rounds)")
        if not any(d.name == "R_Eplus" and d.kind == DimensionKind.AXIS for d in lattice):
            raise DefinitionError(f"{WHERE}.theory_seeding", "needs R_Eplus swept as an axis (the bifurcation "
                                  "line is an R_Eplus value over the other axes)")
    swept = [d for d in lattice if d.size > 1]
    needed = 3 ** len(swept) - 2 ** len(swept)  # new points of one cell refinement (every axis halved)
    if batch < needed:
        raise DefinitionError(f"{WHERE}.batch", f"must be >= {needed}: one refinement of a cell of a "
                              f"{len(swept)}-axis lattice adds up to {needed} points, got {batch}")
    sizes = [d.size for d in lattice]
    coarse = math.prod(len(coarse_lines(n, spacing)) for n in sizes)
    points = math.prod(sizes)
    if budget.of(points) < coarse:
        raise DefinitionError(f"{WHERE}.budget", f"{budget} is {budget.of(points)} of {points} lattice points, "
                              f"fewer than the {coarse} points of the coarse lattice (coarse_spacing = {spacing}); "
                              "raise the budget or the coarse spacing")
    return Adaptive(variable, budget, batch, spacing, seeding, rounds if seeding else 1,
                    None if level is None else float(level))


def coarse_lines(size: int, spacing: int) -> list[int]:
    """Positions of the coarse lattice along an axis of ``size`` values: ``0, s, 2s, ...`` and the last."""
    lines = list(range(0, size, spacing))
    if lines[-1] != size - 1:
        lines.append(size - 1)
    return lines
