"""Homogeneous fixed points of the clustered model in plain numpy (no compiled kernels).

In a homogeneous state every E cluster has the rate ``m_E`` and every I cluster ``m_I``, so
the 2Q equations reduce to two, with the coefficients of one source population summed over
the clusters (``X_ab = X_same,ab + (Q - 1) X_other,ab`` for ``X`` in ``A, B, C``)::

    m_a = Phi_a(m_E, m_I) = 1/2 erfc(-mu_a / sqrt(2 sigma_a^2)),
    mu_a = A_aE m_E + A_aI m_I - theta_a,   sigma_a^2 = sum_b (B_ab m_b + C_ab m_b^2).

For each ``m_E`` on a grid of [0, 1], ``m_I`` solves the I equation by bisection (all grid
points at once); the roots of ``F(m_E) = Phi_E(m_E, m_I(m_E)) - m_E`` are bracketed by sign
changes on the grid and refined by Brent's method (``m_I`` likewise, to 1e-15). Stability is that of the full 2Q system
(:func:`binnet_core.meanfield.functions.jacobian`). The compiled solver
(:func:`~binnet_core.meanfield.solvers.fixed_points` with ``focus_count=0``) finds the same
states at the shipped connectivities (p0 0.2-0.3, tested); this one needs no compilation, for
callers that want a rate estimate at once (the run-time prediction of a sweep). At sparser
connectivity (p0 0.05-0.1, R_Eplus 1-4, kappa 0.5) it also finds an unstable low-rate state
(m_E 0.001-0.008, residual below 1e-10) that the compiled solver misses; the stable
states agree. The cause: for focus count 0 the compiled solver scans the rate of an empty
focus group and leaves the clusters' common rate to its inner Newton solve, which follows one
branch from its start (a finer scan grid does not help).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import optimize

from binnet_core.meanfield.functions import input_variance, jacobian, mean_input, rate, transfer
from binnet_core.meanfield.solvers import FixedPoint, FixedPointList
from binnet_core.meanfield.systems import ClusterSystem, cluster_system

__all__ = ["homogeneous_fixed_points"]

#: Grid of m_E that brackets the roots, and bisection steps (2^-60 of the unit interval).
GRID_POINTS = 2001
_BISECTIONS = 60


def _aggregated(system: ClusterSystem):
    """``(A, B, C)`` of the two-population reduction, each (2, 2) post x pre (E, I)."""
    same, other = system.coef[:, 0], system.coef[:, 1]
    return same + (system.Q - 1) * other


def _phi(coef, theta, m_e, m_i, post: int) -> np.ndarray:
    m = np.stack([m_e, m_i])  # (2, n)
    mu = mean_input(coef[0, post][None], m, theta[post])[0]
    var = input_variance(coef[1, post][None], coef[2, post][None], m)[0]
    return rate(mu, var)


def _bisect(f, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Roots of ``f`` elementwise in ``[lo, hi]`` where ``f(lo) >= 0 >= f(hi)``."""
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        up = f(mid) >= 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def _root(g, a: float, b: float) -> float:
    """Brent's root of ``g`` in ``[a, b]``; an end where ``g`` vanishes, or (no sign change left
    after rounding) the end with the smaller ``|g|``."""
    ga, gb = g(a), g(b)
    if ga * gb >= 0:
        return a if abs(ga) <= abs(gb) else b
    return optimize.brentq(g, a, b, xtol=1e-15)


def homogeneous_fixed_points(parameters: Mapping) -> FixedPointList:
    """Homogeneous fixed points (every cluster alike) of the clustered mean field.

    Parameters
    ----------
    parameters : mapping
        What :class:`~binnet_core.clustered.ClusteredEINetwork` takes.

    Returns
    -------
    FixedPointList
        By increasing ``m_E``, with ``focus_count = 0``; rates ``E0..E{Q-1}, I0..I{Q-1}``
        and the stability of the full 2Q system. Only states whose residual in the full
        system is below 1e-10 are kept.
    """
    system = cluster_system(parameters)
    coef, theta, q = _aggregated(system), system.theta, system.Q

    def m_i_of(m_e):  # Phi_I(m_E, m_I) - m_I decreases from >= 0 at m_I = 0 to <= 0 at 1
        return _bisect(lambda m_i: _phi(coef, theta, m_e, m_i, 1) - m_i, np.zeros_like(m_e), np.ones_like(m_e))

    def m_i_at(m_e: float) -> float:  # the same root for one m_E, by Brent (10x faster than bisecting)
        return optimize.brentq(lambda m_i: _phi(coef, theta, m_e, m_i, 1) - m_i, 0.0, 1.0, xtol=1e-15)

    grid = np.linspace(0.0, 1.0, GRID_POINTS)
    f = _phi(coef, theta, grid, m_i_of(grid), 0) - grid
    left = np.flatnonzero((f[:-1] > 0) & (f[1:] <= 0) | (f[:-1] < 0) & (f[1:] >= 0))
    roots = [_root(lambda m_e: _phi(coef, theta, m_e, m_i_at(m_e), 0) - m_e, grid[k], grid[k + 1])
             for k in left]
    found = FixedPointList()
    for m_e in roots:
        rates = np.r_[np.full(q, m_e), np.full(q, m_i_at(m_e))]
        if np.max(np.abs(transfer(system, rates) - rates)) >= 1e-10:
            continue
        worst = float(np.max(np.linalg.eigvals(jacobian(system, rates)).real))
        found.append(FixedPoint(rates=rates, stable=worst < 0, max_real_eigenvalue=worst, focus_count=0))
    return found
