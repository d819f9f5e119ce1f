"""The round loop of an adaptive sweep: choose a round, run it, repeat within the budget.

The learner (:func:`sweeps.adaptive.choose_round`) decides which lattice points a round
simulates from the data of earlier rounds; this module runs them through the driver's
ordinary machinery (``run_points``: the executor's window of tasks and the writer thread,
the same for local threads, processes, a Dask scheduler or a SLURM/PBS cluster).  The
executor stays up between rounds: a round is submitted as soon as it is chosen, so workers
wait at most for the last tasks of the round before (one batch).

Resuming: the rounds come from the store's ``adaptive_round``.  The last stored round is
chosen again from the data of the rounds before it; if the budget has grown, the points it
now adds (the longer prefix, see :mod:`sweeps.adaptive.learner`) join that round.  Its
unfinished points run, and the loop continues.  So an interrupted run, or a run resumed with
a larger budget, chooses the same points as one uninterrupted run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sweeps.adaptive.lattice import Lattice
from sweeps.adaptive.learner import choose_round
from sweeps.store.adaptive import lattice_values, mark_round, read_rounds, reconcile, replicates
from sweeps.store.sweep_store import SweepStore

if TYPE_CHECKING:
    from sweeps.plan import SweepPlan

__all__ = ["AdaptiveProgress", "run_rounds"]

logger = logging.getLogger(__name__)


@dataclass
class AdaptiveProgress:
    """Where an adaptive store stands: rounds chosen, lattice points chosen and the budget;
    ``finished`` once a run found nothing more to choose (budget used, or nothing to refine)."""

    rounds: int
    chosen: int
    budget: int | None  # None: the store's definition could not be read (e.g. its model is not importable)
    lattice: int
    finished: bool = False

    def __str__(self) -> str:
        budget = f"{self.chosen}/{self.budget} lattice points of the budget" if self.budget is not None \
            else f"{self.chosen} lattice points"
        return f"{self.rounds} rounds, {budget} ({self.chosen / self.lattice:.1%} of {self.lattice})"


def progress(store: SweepStore, experiment, finished: bool = False) -> AdaptiveProgress:
    """The :class:`AdaptiveProgress` of ``store`` for the budget of ``experiment`` (None: unknown)."""
    rounds = read_rounds(store)
    lattice = int(rounds.size)
    budget = experiment.adaptive.budget.of(lattice) if experiment is not None else None
    return AdaptiveProgress(int(rounds.max(initial=-1)) + 1, int(np.count_nonzero(rounds >= 0)), budget, lattice,
                            finished)


def _phase(store: SweepStore, plan: SweepPlan) -> np.ndarray | None:
    settings = plan.experiment.adaptive
    if not settings.theory_seeding:
        return None
    from sweeps.theory.compute import bifurcation_phase

    return bifurcation_phase(store.theory_dataset(), plan.experiment)


def run_rounds(plan: SweepPlan, store: SweepStore, run_points: Callable[[list[int]], bool],
               limit: int | None = None) -> AdaptiveProgress:
    """Choose and run rounds until the budget is used or nothing is left to refine.

    Parameters
    ----------
    plan, store
        The run's plan and its (adaptive) store.
    run_points : callable
        Runs grid points (C-order indices) and writes them; returns False when the run was
        cancelled or interrupted (no further round is chosen).
    limit : int, optional
        Most grid points to run in this call (the round loop stops when it is used up).

    Returns
    -------
    AdaptiveProgress
        ``finished`` unless the run stopped early (cancelled, interrupted or ``limit``).
    """
    settings = plan.experiment.adaptive
    lattice = Lattice.of(plan.experiment.dimensions, settings.coarse_spacing)
    n_axes = len(lattice.shape)
    reps = replicates(store, n_axes)
    budget = settings.budget.of(lattice.size)
    phase = _phase(store, plan)
    rounds = read_rounds(store)
    reconcile(store, rounds)
    left = limit

    def choose(number: int) -> np.ndarray:
        earlier = (rounds >= 0) & (rounds < number)
        values = np.where(earlier, lattice_values(store, settings.variable, n_axes), np.nan)
        room = min(settings.batch, budget - int(np.count_nonzero(earlier)))
        return choose_round(lattice, number, earlier, values, room, phase, settings.theory_rounds
                            if settings.theory_seeding else 0, settings.level)

    def run_pending() -> bool:
        nonlocal left
        pending = store.pending()
        if left is not None:
            pending = pending[:left]
            left -= len(pending)
        return run_points(pending) and (left is None or left > 0)

    number = int(rounds.max(initial=-1))
    if number >= 0:  # resume: the last round again, completed if the budget grew
        stored = set(np.flatnonzero(rounds.ravel() == number).tolist())
        again = choose(number)
        extra = [int(i) for i in again if int(i) not in stored]
        if extra and stored <= set(again.tolist()):
            logger.info("round %d: %d more lattice points (larger budget)", number, len(extra))
            mark_round(store, extra, number)
            rounds = read_rounds(store)
        elif not stored <= set(again.tolist()):
            logger.warning("round %d: the stored points are not what the learner chooses from the stored data "
                           "(points of earlier rounds failed or were rerun); continuing from the stored points", number)
    if not run_pending():
        return progress(store, plan.experiment)
    while True:
        number += 1
        points = choose(number)
        if points.size == 0:
            return progress(store, plan.experiment, finished=True)
        mark_round(store, points, number)
        rounds = read_rounds(store)
        logger.info("round %d: %d lattice points (%d simulations); %d/%d of the budget", number, points.size,
                    points.size * reps, int(np.count_nonzero(rounds >= 0)), budget)
        if not run_pending():
            return progress(store, plan.experiment)
