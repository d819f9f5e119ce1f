"""How much a cell needs refining: the loss of the adaptive learner.

In the spirit of python-adaptive's losses (a large change between neighbouring samples over
a large extent), for a cell :math:`c` of width :math:`w_c` (largest extent in lattice steps)::

    data(c)   = (max - min of the simulated values in the closed box of c) / (max - min of all
                simulated values)          # 0 where fewer than two values or no spread at all
    loss(c)   = w_c * (data(c) + FLAT)

with the values averaged over the replicates of each lattice point (networks x inits) and
``FLAT = 0.01``: a cell where nothing changes still gets refined once every changing cell
is down to neighbouring points (as python-adaptive's losses keep a share for the extent).
With a ``level`` (``[sweep.adaptive] level``, a value of the variable that marks the boundary
looked for, e.g. 0.5 active clusters), the data term is about the crossing of that level
instead of every change::

    data(c)   = 1 - min |v - level| / (max - min of all simulated values)   if the values v in
                the closed box of c reach the level (min <= level <= max), else 0

A cell the level crosses holds values on both sides, so its nearest value is at most half the
spread away: its data term is between 1/2 and 1, and every crossed cell outranks every cell of
the same width the level does not cross (``w * FLAT``).  Among crossed cells of one width, the
one with a value closest to the level goes first: there the side of the crossing is decided by
the noise of the replicates, and the crossing moves by whole cells between neighbouring points
(a gradual, noisy switch-on).  A sharp step (values far below and far above the level) still
gets 1/2.  Measured with ``benchmarks/bench_adaptive.py``: at 25 % of the lattice this puts the
boundary within one cell in 20 of 20 sets of networks, ranking crossed cells by their spread
in 14 of 20 (docs/ADAPTIVE.md, "Benchmark").
The theory marks a cell where its prediction is not constant over the box's lattice points
(:func:`theory_marks`): a bifurcation line crosses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sweeps.adaptive.lattice import Cell

__all__ = ["FLAT", "data_losses", "theory_marks"]

#: share of the loss a cell keeps for its extent alone
FLAT = 0.01


def _spread(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if finite.size >= 2 else 0.0


def data_losses(cells: Sequence[Cell], values: np.ndarray, level: float | None = None) -> np.ndarray:
    """``loss(c)`` of every cell; ``values`` in sorted positions, NaN where not simulated;
    with ``level``, the data term of the cells whose values reach it (the others have none)."""
    scale = _spread(values)
    losses = np.empty(len(cells))
    for k, cell in enumerate(cells):
        box = values[cell.box]
        if scale <= 0:
            change = 0.0
        elif level is None:
            change = _spread(box) / scale
        elif _reaches(box, level):
            change = 1.0 - float(np.nanmin(np.abs(box - level))) / scale
        else:
            change = 0.0
        losses[k] = cell.width * (change + FLAT)
    return losses


def _reaches(values: np.ndarray, level: float) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size >= 2 and bool(finite.min() <= level <= finite.max())


def theory_marks(cells: Sequence[Cell], phase: np.ndarray) -> np.ndarray:
    """True for every cell over which ``phase`` (the theory's prediction at every lattice
    point, sorted positions) is not constant."""
    marks = np.zeros(len(cells), bool)
    for k, cell in enumerate(cells):
        box = phase[cell.box]
        marks[k] = bool(np.any(box != box.flat[0]))
    return marks
