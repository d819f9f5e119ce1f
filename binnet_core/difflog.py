"""Diff logs: every update recorded as ``(neuron, delta)``; states and traces rebuilt from it.

Logs are 2-D arrays of shape ``(rows, steps)``: column ``s`` holds the updates of step ``s``
(one row for a single network). Neuron ids are stored as ``int32``, so networks of more
than 65,535 neurons are logged correctly. A sample is taken after the updates of every step
``s`` with ``s % sample_interval == 0``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _replay(initial_state, group_of, n_groups, updates, deltas, stride, keep_states):
    steps = updates.shape[1]
    n_samples = (steps - 1) // stride + 1 if steps > 0 else 0
    state = initial_state.copy()
    counts = np.zeros(n_groups, dtype=np.int64)
    for unit in range(state.size):
        counts[group_of[unit]] += state[unit]
    states = np.zeros((n_samples if keep_states else 0, state.size), dtype=np.uint8)
    totals = np.zeros((n_samples, n_groups), dtype=np.int64)
    sample = 0
    for step in range(steps):
        for row in range(updates.shape[0]):
            delta = deltas[row, step]
            if delta == 0:
                continue
            unit = updates[row, step]
            new = 1 if state[unit] + delta > 0 else 0
            counts[group_of[unit]] += new - state[unit]
            state[unit] = new
        if step % stride == 0:
            if keep_states:
                states[sample, :] = state
            totals[sample, :] = counts
            sample += 1
    return states, totals


def _as_log(updates, deltas):
    update_arr = np.asarray(updates, dtype=np.int64)
    delta_arr = np.asarray(deltas, dtype=np.int8)
    if update_arr.ndim == 1:
        update_arr = update_arr[None, :]
    if delta_arr.ndim == 1:
        delta_arr = delta_arr[None, :]
    if update_arr.ndim != 2 or delta_arr.shape != update_arr.shape:
        raise ValueError(
            f"updates and deltas must be 1-D or 2-D arrays of one shape, got {update_arr.shape} "
            f"and {delta_arr.shape}"
        )
    return update_arr, delta_arr


def _check_ids(update_arr, n):
    if update_arr.size and (update_arr.min() < 0 or update_arr.max() >= n):
        raise ValueError(f"updates must hold neuron ids in [0, {n - 1}]")


def _stride(sample_interval):
    stride = int(sample_interval)
    if stride < 1:
        raise ValueError(f"sample_interval must be an integer >= 1, got {sample_interval!r}")
    return stride


def reconstruct_states(initial_state, updates, deltas, *, sample_interval=1):
    """Network states (uint8, ``samples x N``) rebuilt from a diff log."""
    state = np.asarray(initial_state, dtype=np.int8).ravel()
    update_arr, delta_arr = _as_log(updates, deltas)
    _check_ids(update_arr, state.size)
    group_of = np.zeros(state.size, dtype=np.int64)
    states, _ = _replay(state, group_of, 1, update_arr, delta_arr, _stride(sample_interval), True)
    return states


def population_rates(initial_state, updates, deltas, views, *, sample_interval=1):
    """Fraction of active neurons per population (float32, ``samples x P``).

    ``views`` lists ``(start, end)`` of each population.
    """
    state = np.asarray(initial_state, dtype=np.int8).ravel()
    update_arr, delta_arr = _as_log(updates, deltas)
    _check_ids(update_arr, state.size)
    n_groups = len(views)
    group_of = np.full(state.size, n_groups, dtype=np.int64)  # extra group: neurons outside
    sizes = np.zeros(n_groups, dtype=np.float64)
    for k, (start, end) in enumerate(views):
        group_of[start:end] = k
        sizes[k] = max(1, end - start)
    _, totals = _replay(state, group_of, n_groups + 1, update_arr, delta_arr,
                        _stride(sample_interval), False)
    return (totals[:, :n_groups] / sizes).astype(np.float32)


def onset_events(updates, deltas):
    """Onsets (0->1 flips) as ``(times, neuron_ids)``: float64 step indices and int64 ids."""
    update_arr, delta_arr = _as_log(updates, deltas)
    mask = delta_arr > 0
    per_step, steps = update_arr.shape
    times = np.repeat(np.arange(steps, dtype=np.int64), per_step)
    flat_mask = mask.reshape(-1, order="F")
    return (times[flat_mask].astype(np.float64),
            update_arr.reshape(-1, order="F")[flat_mask].astype(np.int64))
