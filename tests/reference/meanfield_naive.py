"""A two-population Gaussian mean field solved with scipy: an independent reference for the
package's solver (``m = Phi(m)`` with the fixed in-degree variance ``K J^2 m (1 - m)``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import optimize, special

from binnet_core.clustered import connection_parameters, validate_parameters


def _rates(m, K, J, theta):
    mu = (K * J) @ m - theta
    var = (K * J**2) @ (m * (1.0 - m))
    return 0.5 * special.erfc(-mu / np.sqrt(2.0 * np.maximum(var, 1e-300)))


def gaussian_fixed_point(K, J, theta, initial=None, tol=1e-12) -> np.ndarray:
    """Solve ``m = Phi(m)`` with ``sigma^2 = (K J^2) @ (m (1 - m))`` (fixed in-degree).

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

    The variance is ``K J^2 m (1 - m)`` whatever the connection type (the solver this
    package had first). Exact for ``R_Eplus = 1`` (no clusters); for clustered networks it
    is the homogeneous solution. :func:`fixed_points` with ``focus_count=0`` gives the
    homogeneous states with the connection type's own variance.
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
