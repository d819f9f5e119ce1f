"""Gaussian mean-field theory of binary networks.

For populations ``k`` receiving ``K_kl = p_kl N_l`` inputs of weight ``J_kl`` from
population ``l``, the stationary activities solve::

    m_k = 1/2 erfc(-mu_k / sqrt(2 sigma_k^2))
    mu_k = sum_l K_kl J_kl m_l - theta_k
    sigma_k^2 = sum_l K_kl J_kl^2 m_l (1 - m_l)

where ``theta_k`` already includes the external drive.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import optimize, special

from binnet_core.clustered import connection_parameters, validate_parameters

__all__ = ["gaussian_fixed_point", "unclustered_fixed_point"]


def _rates(m, K, J, theta):
    mu = (K * J) @ m - theta
    var = (K * J**2) @ (m * (1.0 - m))
    return 0.5 * special.erfc(-mu / np.sqrt(2.0 * np.maximum(var, 1e-300)))


def gaussian_fixed_point(K, J, theta, initial=None, tol=1e-12) -> np.ndarray:
    """Solve the Gaussian mean-field equations for the population activities.

    Parameters
    ----------
    K, J : (P, P) arrays
        Mean number of inputs and weight from population ``l`` (column) onto ``k`` (row).
    theta : (P,) array
        Effective thresholds.
    initial : (P,) array, optional
        Starting activities (default 0.1 each).

    Returns
    -------
    numpy.ndarray
        The activities ``m`` (each in [0, 1]) with ``|m - F(m)| < 1e-9``.
    """
    K, J, theta = (np.asarray(a, dtype=np.float64) for a in (K, J, theta))
    starts = [np.full(theta.size, 0.1) if initial is None else np.asarray(initial, float)]
    starts += [np.full(theta.size, v) for v in (0.01, 0.05, 0.2, 0.5)]
    for start in starts:
        solution = optimize.root(lambda m: m - _rates(np.clip(m, 0, 1), K, J, theta), start,
                                 method="hybr", tol=tol)
        m = np.clip(solution.x, 0.0, 1.0)
        if np.max(np.abs(m - _rates(m, K, J, theta))) < 1e-9:
            return m
    raise RuntimeError("mean-field iteration did not converge from any starting point")


def unclustered_fixed_point(parameters: Mapping) -> np.ndarray:
    """Mean activities ``[m_E, m_I]`` of the clustered E/I model treated as two populations.

    Exact for ``R_Eplus = 1`` (no clusters); for clustered networks it is the homogeneous
    (all clusters equal) solution.
    """
    p = validate_parameters(parameters)
    cp = connection_parameters(p)
    q = p["Q"]
    sizes = np.array([p["N_E"], p["N_I"]], dtype=np.float64)
    p_block = (cp.p_plus + (q - 1) * cp.p_minus) / q  # mean over the Q source clusters
    j_mean = (cp.p_plus * cp.j_plus + (q - 1) * cp.p_minus * cp.j_minus) / (q * p_block)
    K = p_block * sizes[None, :]
    theta = np.array([cp.theta_E, cp.theta_I])
    return gaussian_fixed_point(K, j_mean, theta)
