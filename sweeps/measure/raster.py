"""Spike rasters of a few neurons: the times of their up-transitions (0 -> 1 flips).

A binary neuron "spikes" when it switches on. The raster neurons are chosen one of two ways:
``raster_neurons = k``: of a population ``p`` of ``N_p`` neurons starting at neuron ``s_p``,
``k_p = min(k, N_p)`` evenly spaced ones, ``s_p + floor(j N_p / k_p)`` for ``j = 0..k_p-1``;
``raster_stride = s``: every neuron whose id is a multiple of ``s`` (the reference's
``--raster-stride`` / ``--raster-neuron-step``). Either depends on the population sizes only,
so every point of a sweep shares the ``raster_neuron`` coordinate.

The events come from the engine's diff log (one ``(neuron, delta)`` entry per update,
``delta = +1`` for a 0 -> 1 flip): an up-transition at the ``u``-th update of the measured
window (``u = 1, 2, ...``) happens at time ``u / updates_per_ms`` ms after the warm-up, the
convention of the sample times (sample ``t`` after ``t * interval`` updates). The store
keeps a fixed shape: ``raster_times[raster_neuron, raster_event]``, the first
``raster_events`` event times per neuron in increasing order, NaN after the last, and
``raster_count[raster_neuron]``, the number of events in the window (all of them, also
those past the cap).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Raster", "RasterCollector", "raster_neurons", "raster_table"]


def raster_neurons(population_sizes: Sequence[int], per_population: int = 0,
                   stride: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The raster neurons and the population of each (int64 arrays): ``per_population``
    evenly spaced ids per population, or (``stride > 0``) every id that is a multiple of
    ``stride``; neither: none."""
    ids, pops, start = [], [], 0
    for p, size in enumerate(int(s) for s in population_sizes):
        if stride > 0:
            ids.append(np.arange(-(-start // stride) * stride, start + size, stride, dtype=np.int64))
            pops.append(np.full(ids[-1].size, p, np.int64))
            start += size
            continue
        k = min(int(per_population), size)
        ids.append(start + (np.arange(k, dtype=np.int64) * size) // max(k, 1))
        pops.append(np.full(k, p, np.int64))
        start += size
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids), np.concatenate(pops)


@dataclass(frozen=True)
class Raster:
    """Up-transition times of the raster neurons in one measured window.

    Attributes
    ----------
    times : ndarray of float32, shape (K, cap)
        Event times (ms after the warm-up), the first ``cap`` per neuron, NaN after the last.
    counts : ndarray of int64, shape (K,)
        Number of events per neuron in the window (also those beyond ``cap``).
    """

    times: np.ndarray
    counts: np.ndarray


def raster_table(slots: np.ndarray, updates: np.ndarray, n_neurons: int, cap: int,
                 updates_per_ms: float) -> Raster:
    """Fixed-shape raster from events ``(slot, update)`` in time order.

    ``slots[e]`` is the raster position of event ``e``'s neuron, ``updates[e]`` its update
    number in the window (1-based); time = ``updates / updates_per_ms``.
    """
    slots = np.asarray(slots, np.int64)
    updates = np.asarray(updates, np.int64)
    counts = np.bincount(slots, minlength=n_neurons).astype(np.int64)
    times = np.full((n_neurons, cap), np.nan, np.float32)
    order = np.argsort(slots, kind="stable")  # by neuron, time order kept inside a neuron
    slots, updates = slots[order], updates[order]
    first = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(slots.size) - first[slots]
    keep = rank < cap
    times[slots[keep], rank[keep]] = (updates[keep] / updates_per_ms).astype(np.float32)
    return Raster(times, counts)


class RasterCollector:
    """Collects the up-transitions of chosen neurons from successive diff logs of one window.

    Parameters
    ----------
    neurons : ndarray of int64
        Raster neuron ids (``K``).
    n_total : int
        Neurons in the network.
    """

    def __init__(self, neurons: np.ndarray, n_total: int):
        self.neurons = np.asarray(neurons, np.int64)
        self._slot = np.full(n_total, -1, np.int64)
        self._slot[self.neurons] = np.arange(self.neurons.size)
        self._slots: list[np.ndarray] = []
        self._updates: list[np.ndarray] = []
        self._done = 0  # updates of the window consumed so far

    def add(self, ids: np.ndarray, deltas: np.ndarray) -> None:
        """Add the next ``len(ids)`` updates of the window (the diff log of one block)."""
        ids = np.asarray(ids).ravel()
        deltas = np.asarray(deltas).ravel()
        slot = self._slot[ids]
        hit = np.flatnonzero((deltas > 0) & (slot >= 0))
        self._slots.append(slot[hit])
        self._updates.append(self._done + hit + 1)
        self._done += ids.size

    def raster(self, cap: int, updates_per_ms: float) -> Raster:
        """The collected events as a :class:`Raster` with at most ``cap`` times per neuron."""
        slots = np.concatenate(self._slots) if self._slots else np.zeros(0, np.int64)
        updates = np.concatenate(self._updates) if self._updates else np.zeros(0, np.int64)
        return raster_table(slots, updates, self.neurons.size, cap, updates_per_ms)
