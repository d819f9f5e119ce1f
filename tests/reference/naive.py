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


def poisson_mean_field(p, w, sizes, theta, start=(0.1, 0.1)):
    """Gaussian mean field with Poisson contact counts, homogeneous blocks.

    ``p[k, l]`` and ``w[k, l]``: mean contacts per pair and weight from population ``l`` onto
    ``k``; ``m_k = erfc(-mu_k / sqrt(2 sigma_k^2)) / 2`` with ``mu_k = sum_l p w N_l m_l - theta_k``,
    ``sigma_k^2 = sum_l (p + p^2) w^2 N_l m_l - p^2 w^2 N_l m_l^2``.
    """
    from scipy import optimize, special

    p, w = np.asarray(p, float), np.asarray(w, float)
    n, theta = np.asarray(sizes, float), np.asarray(theta, float)

    def rates(m):
        mu = (p * w * n) @ m - theta
        var = ((p + p**2) * w**2 * n) @ m - (p**2 * w**2 * n) @ m**2
        return 0.5 * special.erfc(-mu / np.sqrt(2.0 * var))

    m = optimize.fsolve(lambda m: m - rates(m), np.asarray(start, float), xtol=1e-13)
    assert np.allclose(m, rates(m), atol=1e-12)
    return m
