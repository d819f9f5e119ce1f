"""Slow, obviously-correct NumPy references for the engine kernels."""

from __future__ import annotations

import numpy as np


def update_sequence(weights, state, thresholds, neurons):
    """Glauber updates of ``neurons`` in order, recomputing ``h = W @ s`` from scratch.

    Returns the states after every update (``len(neurons) x N``) and the final field.
    """
    weights = np.asarray(weights, dtype=np.float64)
    state = np.array(state, dtype=np.int64)
    history = np.empty((len(neurons), state.size), dtype=np.int8)
    for k, i in enumerate(neurons):
        state[i] = 1 if weights[i] @ state > thresholds[i] else 0
        history[k] = state
    return history, weights @ state


def population_rates(initial_state, updates, deltas, views, sample_interval=1):
    """Replay a 1-row diff log step by step; sample population activity."""
    state = np.array(initial_state, dtype=np.int64)
    samples = []
    for step, (unit, delta) in enumerate(zip(updates, deltas)):
        if delta:
            state[unit] = 1 if state[unit] + delta > 0 else 0
        if step % sample_interval == 0:
            samples.append([state[a:b].mean() for a, b in views])
    return np.array(samples)
