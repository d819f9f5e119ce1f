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


def connection_parameters(p):
    """The clustered model's blocks written out entry by entry (``binnet_core.clustered``'s
    module docstring), one block at a time in plain Python: ``{"p_plus": [[EE, EI], [IE, II]],
    "p_minus", "j_plus", "j_minus", "theta_E", "theta_I", "external_exc", "external_inh"}``."""
    import math

    N = p["N_E"] + p["N_I"]
    n_E, n_I = p["N_E"] / N, p["N_I"] / N
    j = {"EE": p["V_th"] / math.sqrt(p["p0_ee"] * n_E) / math.sqrt(N),
         "IE": p["V_th"] / math.sqrt(p["p0_ie"] * n_E) / math.sqrt(N)}
    j["EI"] = -p["g"] * j["EE"] * p["p0_ee"] * n_E / (p["p0_ei"] * n_I)
    j["II"] = -j["IE"] * p["p0_ie"] * n_E / (p["p0_ii"] * n_I)
    R_I = 1 + p["R_j"] * (p["R_Eplus"] - 1)
    Q, kappa = p["Q"], p["kappa"]
    out = {"p_plus": [[0.0, 0.0], [0.0, 0.0]], "p_minus": [[0.0, 0.0], [0.0, 0.0]],
           "j_plus": [[0.0, 0.0], [0.0, 0.0]], "j_minus": [[0.0, 0.0], [0.0, 0.0]]}
    for a, post in enumerate("EI"):
        for b, pre in enumerate("EI"):
            name = post + pre
            R = p["R_Eplus"] if name == "EE" else R_I
            R_out = R if Q == 1 else (Q - R) / (Q - 1)
            p0 = p["p0_" + name.lower()]
            out["p_plus"][a][b] = p0 * R ** (1 - kappa)
            out["j_plus"][a][b] = j[name] * R ** kappa
            out["p_minus"][a][b] = p0 * R_out ** (1 - kappa)
            out["j_minus"][a][b] = j[name] * R_out ** kappa
    J_EX = math.sqrt(p["p0_ee"] * p["N_E"])
    J_IX = 0.8 * J_EX
    out["external_exc"], out["external_inh"] = p["m_X"] * J_EX, p["m_X"] * J_IX
    out["theta_E"], out["theta_I"] = p["V_th"] - out["external_exc"], p["V_th"] - out["external_inh"]
    return out
