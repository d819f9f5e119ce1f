"""The points of one round of an adaptive sweep: a pure function of earlier rounds' data.

Round 0 is the coarse lattice.  Every later round ranks the refinable cells implied by the
points chosen so far (:meth:`~sweeps.adaptive.lattice.Lattice.cells`) and refines them in
rank order, taking each cell's split points not chosen yet, while the round stays within its
``limit`` (the batch, or what is left of the budget); it stops at the first cell that does
not fit, so the round chosen with a smaller limit is a prefix of the round chosen with a
larger one (a store resumed with a larger budget completes its last round to what an
uninterrupted run would have chosen).  The theory rounds (``1..theory_rounds`` with
``theory_seeding``) refine only the cells the theory marks (a bifurcation line crosses them;
all cells if none is marked).  Rank: the larger :func:`~sweeps.adaptive.loss.data_losses`,
ties by the lattice index of the cell's lower corner (then its upper corner).  The inputs are the chosen points and values of earlier
rounds only, so the choice does not depend on the backend, the workers or the order the
points ran in.
"""

from __future__ import annotations

import numpy as np

from sweeps.adaptive.lattice import Lattice
from sweeps.adaptive.loss import data_losses, theory_marks

__all__ = ["choose_round"]


def choose_round(lattice: Lattice, round_number: int, chosen: np.ndarray, values: np.ndarray, limit: int,
                 phase: np.ndarray | None = None, theory_rounds: int = 0,
                 level: float | None = None) -> np.ndarray:
    """Flat store-order lattice indices of the points round ``round_number`` chooses, in order.

    Parameters
    ----------
    lattice : Lattice
    round_number : int
        0 for the coarse lattice.
    chosen : ndarray of bool
        Lattice points chosen in earlier rounds (store order, lattice shape).
    values : ndarray of float
        The adaptive variable averaged over replicates, NaN where not simulated (store order).
    limit : int
        Most points to choose (round 0 ignores it: the coarse lattice is chosen whole).
    phase : ndarray, optional
        The theory's prediction at every lattice point (store order), for the theory rounds.
    theory_rounds : int
        Rounds ``1..theory_rounds`` refine only the cells ``phase`` marks (if any).
    level : float, optional
        A boundary value of the variable: cells whose values do not reach it lose their data
        term (:func:`~sweeps.adaptive.loss.data_losses`).

    Returns
    -------
    ndarray of int64
        Empty when nothing is left to refine or nothing fits.
    """
    if round_number == 0:
        return lattice.store_indices(lattice.coarse_positions())
    taken = lattice.sorted_view(np.asarray(chosen, bool)).copy()
    cells = lattice.cells(taken)
    if not cells or limit <= 0:
        return np.empty(0, np.int64)
    losses = data_losses(cells, lattice.sorted_view(np.asarray(values, np.float64)), level)
    candidates = range(len(cells))
    if phase is not None and round_number <= theory_rounds:
        marks = theory_marks(cells, lattice.sorted_view(phase))
        if marks.any():  # a theory round refines only the cells a bifurcation line crosses
            candidates = np.flatnonzero(marks).tolist()
    ties = [(lattice.lattice_index(c.lo), lattice.lattice_index(c.hi)) for c in cells]
    rank = sorted(candidates, key=lambda k: (-losses[k], ties[k]))
    picked: list[tuple[int, ...]] = []
    for k in rank:
        new = lattice.new_points(cells[k], taken)
        if len(picked) + len(new) > limit:
            break
        for point in new:
            taken[point] = True
        picked.extend(new)
    return lattice.store_indices(picked) if picked else np.empty(0, np.int64)
