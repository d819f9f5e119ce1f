"""Gaussian mean-field theory of binary networks and of the clustered E/I model (SPEC 3.6).

Small pure functions compose the theory (as in NNMT's ``binary.py``). For populations
``k, l`` with mean coefficients ``A_kl = p_kl w_kl N_l``, variance coefficients ``B_kl``,
``C_kl`` and effective thresholds ``theta_k`` (external drive included)::

    mu_k      = sum_l A_kl m_l - theta_k                          (mean_input)
    sigma_k^2 = sum_l (B_kl m_l + C_kl m_l^2)                      (input_variance)
    m_k       = 1/2 erfc(-mu_k / (sqrt(2) sigma_k))               (rate)
    tau_k dm_k/dt = -m_k + Phi_k(m)                               (jacobian)

``B`` and ``C`` follow from the contact-count distribution of the connection type
(:func:`variance_coefficients`). The clustered model's coefficients come from
:func:`binnet_core.clustered.connection_parameters`, the same function that wires the
simulated network, so theory and simulation cannot drift apart.

``fixed_points`` returns *every* fixed point of the reduced system of a focus count (the
first ``n`` E clusters and their I partners share one rate, the others another) with its
stability from the full 2Q Jacobian; ``bifurcation`` returns the smallest ``R_Eplus`` in
``[1, Q)`` with more than one fixed point. The compiled search is in
``binnet_core._meanfield_kernels``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from binnet_core import _meanfield_kernels as kernels
from binnet_core.clustered import (
    CONNECTION_TYPES,
    SYNAPSE_CLASSES,
    ConnectionParameters,
    ParameterTable,
    connection_parameters,
    connection_table,
    validate_parameters,
)

__all__ = ["gaussian_fixed_point", "unclustered_fixed_point", "mean_input", "input_variance",
           "rate", "variance_coefficients", "ClusterSystem", "cluster_system", "full_system",
           "transfer", "jacobian", "FixedPoint", "FixedPointList", "fixed_points",
           "system_fixed_points", "bifurcation",
           "STATUS_REASONS"]

#: Reason recorded when a search does not converge, by kernel status code.
STATUS_REASONS = {
    kernels.INNER_FAILED: "the rates of the non-focus groups did not converge for some focus rate",
    kernels.ROOT_FAILED: "a fixed point did not converge to a residual below 1e-12",
    kernels.TOO_MANY: "more fixed points than the search keeps",
}
_MAX_ROOTS = 32
_GRID = 61


# -- pure functions ---------------------------------------------------------------------

def mean_input(A, m, theta) -> np.ndarray:
    """Mean input ``mu = A @ m - theta``."""
    return np.asarray(A) @ m - theta


def input_variance(B, C, m) -> np.ndarray:
    """Input variance ``B @ m + C @ m**2`` (floored at 1e-100, as in the kernels)."""
    return np.maximum(np.asarray(B) @ m + np.asarray(C) @ (np.asarray(m) ** 2), 1e-100)


def rate(mu, var) -> np.ndarray:
    """Gaussian transfer ``1/2 erfc(-mu / sqrt(2 var))``."""
    return 0.5 * special.erfc(-np.asarray(mu) / np.sqrt(2.0 * np.asarray(var)))


def variance_coefficients(p, w, n, connection_type: str):
    """``(B, C)`` of one block: ``p`` contacts per pair on average, weight ``w``, ``n`` sources.

    The formula belongs to the synapse class of ``connection_type``, next to the rule that
    draws the contacts (``variance_coefficients`` of ``PoissonSynapse``,
    ``PairwiseBernoulliSynapse``, ``FixedIndegreeSynapse``): adding a connection rule is one
    synapse class and one entry of ``binnet_core.clustered._SYNAPSE``.
    """
    if connection_type not in CONNECTION_TYPES:
        raise ValueError(f"connection_type must be one of {CONNECTION_TYPES}, got {connection_type!r}")
    synapse = SYNAPSE_CLASSES[connection_type]
    return synapse.variance_coefficients(np.asarray(p, float), np.asarray(w, float),
                                         np.asarray(n, float))


# -- the clustered system ---------------------------------------------------------------

@dataclass(frozen=True)
class ClusterSystem:
    """Mean-field coefficients of the clustered model, per single source population.

    ``coef[kind, same, a, b]``: ``kind`` 0 = mean ``A``, 1 = ``B``, 2 = ``C``; ``same`` 0 for
    a source in the target's own cluster, 1 for another cluster; ``a``/``b`` the post/pre
    cell type (0 = E, 1 = I). ``theta`` and ``tau`` per cell type.
    """

    Q: int
    coef: np.ndarray
    theta: np.ndarray
    tau: np.ndarray


def cluster_system(parameters: Mapping) -> ClusterSystem:
    """The :class:`ClusterSystem` of the parameters ``ClusteredEINetwork`` takes."""
    return _system_of(validate_parameters(parameters))


def _system_of(p: dict) -> ClusterSystem:
    """:func:`cluster_system` of already validated parameters."""
    cp = connection_parameters(p)
    sets = ConnectionParameters(*(np.asarray(getattr(cp, f.name))[None]
                                  for f in dataclasses.fields(cp)))
    coef, theta = _coefficients(sets, np.array([[p["N_E"] / p["Q"], p["N_I"] / p["Q"]]]),
                                np.array([p["connection_type"]], dtype=object))
    return ClusterSystem(Q=p["Q"], coef=coef[0], theta=theta[0],
                         tau=np.array([p["tau_e"], p["tau_i"]], dtype=np.float64))


def _systems_of(table: ParameterTable) -> tuple:
    """``(coef (S, 3, 2, 2, 2), theta (S, 2), tau (S, 2), Q (S,))`` of the validated
    parameter sets of ``table`` (the fields of :class:`ClusterSystem`, all sets at once)."""
    c = table.columns
    q = c["Q"]
    coef, theta = _coefficients(connection_table(table),
                                np.stack([c["N_E"] / q, c["N_I"] / q], axis=-1),
                                c["connection_type"])
    return coef, theta, np.stack([c["tau_e"], c["tau_i"]], axis=-1), q


def _coefficients(cp: ConnectionParameters, sizes, kinds) -> tuple:
    """``(coef (S, 3, 2, 2, 2), theta (S, 2))`` from connection parameters with a leading
    axis over the sets, the cluster sizes ``(S, 2)`` (E, I) and the connection types."""
    sizes = sizes[:, None, :]
    distinct = set(kinds)
    coef = np.empty((len(kinds), 3, 2, 2, 2))
    for same, (prob, weight) in enumerate(((cp.p_plus, cp.j_plus), (cp.p_minus, cp.j_minus))):
        coef[:, 0, same] = prob * weight * sizes
        for kind in distinct:
            at = slice(None) if len(distinct) == 1 else kinds == kind
            coef[at, 1, same], coef[at, 2, same] = variance_coefficients(
                prob[at], weight[at], sizes[at], kind)
    return coef, np.stack([cp.theta_E, cp.theta_I], axis=-1)


def full_system(system: ClusterSystem):
    """``(A, B, C, theta, tau)`` over the 2Q populations ``E0..E{Q-1}, I0..I{Q-1}``."""
    q = system.Q
    kind = np.repeat([0, 1], q)
    same = np.equal.outer(np.tile(np.arange(q), 2), np.tile(np.arange(q), 2))
    mats = [np.where(same, system.coef[k, 0][np.ix_(kind, kind)],
                     system.coef[k, 1][np.ix_(kind, kind)]) for k in range(3)]
    return (*mats, system.theta[kind], system.tau[kind])


def transfer(system: ClusterSystem, m) -> np.ndarray:
    """``Phi(m)`` of the full 2Q system."""
    A, B, C, theta, _ = full_system(system)
    return rate(mean_input(A, m, theta), input_variance(B, C, m))


def jacobian(system: ClusterSystem, m) -> np.ndarray:
    """Analytic Jacobian of ``dm/dt = (Phi(m) - m) / tau`` over the 2Q populations."""
    A, B, C, theta, tau = full_system(system)
    m = np.asarray(m, float)
    mu, var = mean_input(A, m, theta), input_variance(B, C, m)
    sigma = np.sqrt(var)
    pdf = np.exp(-0.5 * (mu / sigma) ** 2) / math.sqrt(2.0 * math.pi)
    dvar = B + 2.0 * C * m[None, :]
    dphi = pdf[:, None] * (A / sigma[:, None] - (mu / (2.0 * var * sigma))[:, None] * dvar)
    return (dphi - np.eye(m.size)) / tau[:, None]


_GROUP_TYPE = np.array([0, 0, 1, 1])   # groups: E focus, E other, I focus, I other


def _reduced(system: ClusterSystem, focus_count: int):
    """Kernel inputs ``(red, theta4, tau4, diff, sizes)`` for ``focus_count`` (1..Q)."""
    q, coef = system.Q, system.coef
    red = kernels.reduced_coefficients(coef, focus_count, q - focus_count)
    return (red, system.theta[_GROUP_TYPE], system.tau[_GROUP_TYPE], coef[:, 0] - coef[:, 1],
            np.array([focus_count, q - focus_count], dtype=np.int64))


# -- fixed points -----------------------------------------------------------------------

@dataclass(frozen=True)
class FixedPoint:
    """One fixed point of the reduced system.

    Attributes
    ----------
    rates : ndarray (2Q,)
        Rates ``E0..E{Q-1}, I0..I{Q-1}``; the focus clusters are the first ``focus_count``.
    stable : bool
        Every eigenvalue of the full 2Q Jacobian has a negative real part.
    max_real_eigenvalue : float
        The largest real part (1/ms).
    focus_count : int
    """

    rates: np.ndarray
    stable: bool
    max_real_eigenvalue: float
    focus_count: int

    @property
    def group_rates(self) -> dict:
        """``{"E_focus", "E_other", "I_focus", "I_other"}`` (NaN for an empty group)."""
        q = self.rates.size // 2
        focus, other = self.focus_count > 0, self.focus_count < q
        r = self.rates
        return {"E_focus": float(r[0]) if focus else math.nan,
                "E_other": float(r[q - 1]) if other else math.nan,
                "I_focus": float(r[q]) if focus else math.nan,
                "I_other": float(r[2 * q - 1]) if other else math.nan}


class FixedPointList(list):
    """A list of :class:`FixedPoint` sorted by focus-E rate; ``reason`` is None unless the
    search did not converge (then the list holds what was found before the failure)."""

    reason: str | None = None


def _check_focus_count(focus_count, q) -> int:
    if isinstance(focus_count, bool) or not float(focus_count).is_integer() \
            or not 0 <= focus_count <= q:
        raise ValueError(f"focus_count must be an integer in 0..Q={q}, got {focus_count!r}")
    return int(focus_count)


@dataclass(frozen=True)
class _Solved:
    """What :func:`kernels.analyse_many` found: ``roots`` (S, F, K, 4), ``max_real``
    (S, F, K), ``count`` and ``status`` (S, F); entries ``k >= count`` are undefined."""

    roots: np.ndarray
    max_real: np.ndarray
    count: np.ndarray
    status: np.ndarray


def _solve_many(coef, theta, tau, q, focus_counts) -> _Solved:
    """Every fixed point of every system (:func:`_systems_of`) and focus count: one compiled
    call (it releases the GIL: threads may solve chunks side by side)."""
    shape = (coef.shape[0], len(focus_counts))
    out = _Solved(roots=np.empty(shape + (_MAX_ROOTS, 4)), max_real=np.empty(shape + (_MAX_ROOTS,)),
                  count=np.zeros(shape, np.int64), status=np.zeros(shape, np.int64))
    kernels.analyse_many(coef, theta, tau, q, np.asarray(focus_counts, dtype=np.int64), _GRID,
                         out.roots, out.max_real, out.count, out.status)
    return out


def _solve(system: ClusterSystem, focus_count: int):
    """``(roots (k, 4), max_real (k,), status)`` of one system and focus count."""
    solved = _solve_many(system.coef[None], system.theta[None], system.tau[None],
                         np.array([system.Q]), [focus_count])
    count = solved.count[0, 0]
    return solved.roots[0, 0, :count], solved.max_real[0, 0, :count], solved.status[0, 0]


def _expand(x, q, n) -> np.ndarray:
    """2Q rates from the four group rates (``n = 0`` or ``Q``: every cluster as the focus)."""
    nf = n if n > 0 else q
    e = np.r_[np.full(nf, x[0]), np.full(q - nf, x[1])]
    i = np.r_[np.full(nf, x[2]), np.full(q - nf, x[3])]
    return np.r_[e, i]


def fixed_points(parameters: Mapping, focus_count: int = 1) -> FixedPointList:
    """Every fixed point of the reduced mean-field system with ``focus_count`` focus clusters.

    Parameters
    ----------
    parameters : mapping
        What :class:`~binnet_core.clustered.ClusteredEINetwork` takes (``kappa`` and
        ``connection_type`` included).
    focus_count : int
        ``0..Q``; 0 and ``Q`` both give the homogeneous states (all clusters equal).

    Returns
    -------
    FixedPointList
        :class:`FixedPoint` objects by increasing focus-E rate; each has a residual of the
        full 2Q system below 1e-10. ``.reason`` explains a search that did not converge.
    """
    return system_fixed_points(cluster_system(parameters), focus_count)


def system_fixed_points(system: ClusterSystem, focus_count: int = 1) -> FixedPointList:
    """:func:`fixed_points` of explicit coefficients (e.g. another variance model)."""
    n = _check_focus_count(focus_count, system.Q)
    roots, max_real, status = _solve(system, n)
    found = FixedPointList()
    for x, worst in zip(roots, max_real):
        rates = _expand(x, system.Q, n)
        if np.max(np.abs(transfer(system, rates) - rates)) >= 1e-10:
            found.reason = "a fixed point's residual in the full 2Q system is not below 1e-10"
            continue
        found.append(FixedPoint(rates=rates, stable=bool(worst < 0), max_real_eigenvalue=worst,
                                focus_count=n))
    if status != kernels.OK:
        found.reason = STATUS_REASONS[status]
    return found


# -- bifurcation ------------------------------------------------------------------------

def _count_at(parameters: dict, r_eplus: float, focus_count: int):
    """``(number of fixed points, near miss, status)`` without refining the fixed points."""
    system = _system_of(dict(parameters, R_Eplus=float(r_eplus)))  # validated, r in [1, upper)
    q = system.Q
    n = focus_count if focus_count > 0 else q
    red, theta, _, _, _ = _reduced(system, min(n, q - n) if n < q else n)
    return kernels.count_only(red, theta, _GRID, np.full(3, 0.05))


def _upper_r_eplus(p) -> float:
    """Largest R_Eplus below which R_Eplus and R_Iplus = 1 + R_j (R_Eplus - 1) stay in
    (0, Q) (what :func:`validate_parameters` allows)."""
    q = p["Q"]
    upper = float(q)
    if p["R_j"] > 0:
        upper = min(upper, 1.0 + (q - 1.0) / p["R_j"])
    elif p["R_j"] < 0:
        upper = min(upper, 1.0 - 1.0 / p["R_j"])
    return upper


def bifurcation(parameters: Mapping, focus_count: int = 1, *, step=0.2, tol=1e-4) -> float:
    """Smallest ``R_Eplus`` in ``[1, Q)`` at which the reduced system has > 1 fixed point.

    ``R_Eplus`` is scanned upward in ``step``; a window of multistability that opens and
    closes between two scan values is caught where the smallest distance of an extremum of
    the response curve from the diagonal has a local minimum (a golden-section search
    there). The first transition is bisected to ``tol``. Nothing assumes that the number of
    fixed points grows with ``R_Eplus``.

    Returns
    -------
    float
        The bifurcation value (the smallest value known to be multistable, within ``tol``
        above the transition), ``NaN`` if none below ``Q`` or if the search did not
        converge.
    """
    base = dict(parameters, R_Eplus=1.0)  # the scanned parameter: a given value is ignored
    p = validate_parameters(base)
    n = _check_focus_count(focus_count, p["Q"])
    if p["Q"] < 2:
        return math.nan
    upper = _upper_r_eplus(p) - 1e-9
    values = np.arange(1.0, upper, step)
    history = []  # (R, near miss) of the scanned values with one fixed point

    def count(r):
        c, near, status = _count_at(p, r, n)
        if status != kernels.OK:
            raise _SearchFailed
        return c, near

    def bisect(lo, hi):
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if count(mid)[0] > 1:
                hi = mid
            else:
                lo = mid
        return hi

    try:
        for r in values:
            c, near = count(r)
            if c > 1:
                return r if not history else bisect(history[-1][0], r)
            history.append((r, near))
            if len(history) >= 3 and history[-2][1] < min(history[-3][1], history[-1][1]):
                lo, hi = history[-3][0], history[-1][0]
                res = optimize.minimize_scalar(lambda x: _near_or_hit(count, x), bounds=(lo, hi),
                                               method="bounded",
                                               options={"xatol": tol, "maxiter": 40})
                if res.fun < 0:
                    return bisect(lo, res.x)
    except _SearchFailed:
        return math.nan
    return math.nan


class _SearchFailed(Exception):
    pass


def _near_or_hit(count, r):
    c, near = count(r)
    return -1.0 if c > 1 else near


# -- the two-population solver ----------------------------------------------------------

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
