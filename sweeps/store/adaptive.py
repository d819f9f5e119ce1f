"""The adaptive sweep's part of a store: the round of every lattice point and its status.

An adaptive store (``[sweep.adaptive]``) is an ordinary store over the fine lattice (the swept
dimensions) times the replicate dimensions, plus the array ``adaptive_round`` over the
lattice dimensions: the round in which a lattice point was chosen, ``-1`` (read as NaN by
xarray) if never.  Its points start as ``unsampled``
(:attr:`~sweeps.store.status.Status.UNSAMPLED`); choosing a lattice point writes its round
first and then sets the status of its replicate points to ``todo``, so an interruption
between the two writes is repaired by :func:`reconcile` (a point with a round is chosen).
Because the replicate dimensions come last, the grid points of lattice point ``L`` are
``L * R .. L * R + R - 1`` with ``R`` the number of replicate points.
"""

from __future__ import annotations

import math

import numpy as np

from sweeps.errors import StoreError
from sweeps.store.status import Status
from sweeps.store.sweep_store import ROUND_VARIABLE, SweepStore

__all__ = ["lattice_values", "mark_round", "read_rounds", "reconcile", "replicates"]


def replicates(store: SweepStore, n_lattice: int) -> int:
    """Grid points per lattice point (the product of the replicate dimensions)."""
    return math.prod(store.shape[n_lattice:])


def read_rounds(store: SweepStore) -> np.ndarray:
    """The round of every lattice point (lattice shape, int16; -1: never chosen)."""
    try:
        return np.asarray(store.group[ROUND_VARIABLE][...], dtype=np.int16)
    except KeyError:
        raise StoreError(f"{store.path} has no {ROUND_VARIABLE} array: it was not created by an adaptive "
                         "definition ([sweep.adaptive]); use a new store path") from None


def _write_status(store: SweepStore, status: np.ndarray) -> None:
    store._array("status")[...] = status


def reconcile(store: SweepStore, rounds: np.ndarray) -> int:
    """Make the status agree with the rounds: chosen points not yet run are todo, the others
    unsampled (after an interruption between the two writes of :func:`mark_round`, a grown
    lattice, or a status chunk reset by ``sweeps status --verify``).  Returns the points changed."""
    status = store.status()
    chosen = np.repeat(rounds.ravel() >= 0, replicates(store, rounds.ndim)).reshape(status.shape)
    fixed = status.copy()
    fixed[chosen & (status == Status.UNSAMPLED)] = Status.TODO
    fixed[~chosen & (status == Status.TODO)] = Status.UNSAMPLED
    changed = int(np.count_nonzero(fixed != status))
    if changed:
        _write_status(store, fixed)
    return changed


def mark_round(store: SweepStore, lattice_indices, round_number: int) -> None:
    """Record ``lattice_indices`` (flat, C order over the lattice) as chosen in ``round_number``,
    then set their replicate points to todo."""
    array = store.group[ROUND_VARIABLE]
    rounds = np.asarray(array[...], dtype=np.int16)
    indices = np.asarray(lattice_indices, dtype=np.int64)
    if indices.size == 0:
        return
    if np.any(rounds.ravel()[indices] >= 0):
        raise StoreError(f"{store.path}: lattice points {indices[rounds.ravel()[indices] >= 0][:5].tolist()} "
                         "were chosen before")
    flat = rounds.ravel()
    flat[indices] = round_number
    array[...] = flat.reshape(rounds.shape)
    reconcile(store, flat.reshape(rounds.shape))


def lattice_values(store: SweepStore, variable: str, n_lattice: int) -> np.ndarray:
    """``variable`` averaged over the replicates of each lattice point, ok points only (NaN
    where none is ok); lattice shape, float64."""
    values = np.asarray(store.group[variable][...], dtype=np.float64)
    ok = store.status() == Status.OK
    values = np.where(ok, values, np.nan).reshape(store.shape[:n_lattice] + (-1,))
    counts = np.sum(np.isfinite(values), axis=-1)
    sums = np.nansum(values, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
