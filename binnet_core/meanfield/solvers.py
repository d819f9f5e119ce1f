"""Fixed points, stability and bifurcations of the clustered mean-field system.

``fixed_points`` returns *every* fixed point of the reduced system of a focus count (the
first ``n`` E clusters and their I partners share one rate, the others another) with its
stability from the full 2Q Jacobian; ``bifurcation`` returns the smallest ``R_Eplus`` in
``[1, Q)`` with more than one fixed point. The compiled search is in
``binnet_core.meanfield._kernels``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from binnet_core.clustered import validate_parameters
from binnet_core.meanfield import _kernels as kernels
from binnet_core.meanfield.functions import transfer
from binnet_core.meanfield.systems import (
    ClusterSystem,
    cluster_system,
    reduced_system,
    validated_system,
)

__all__ = ["FixedPoint", "FixedPointList", "fixed_points", "system_fixed_points", "bifurcation",
           "STATUS_REASONS"]

#: Reason recorded when a search does not converge, by kernel status code.
STATUS_REASONS = {
    kernels.INNER_FAILED: "the rates of the non-focus groups did not converge for some focus rate",
    kernels.ROOT_FAILED: "a fixed point did not converge to a residual below 1e-12",
    kernels.TOO_MANY: "more fixed points than the search keeps",
}
#: Most fixed points a search keeps per system and focus count.
MAX_ROOTS = 32
#: Scan points of the focus-E rate.
GRID = 61


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


def check_focus_count(focus_count, q) -> int:
    if isinstance(focus_count, bool) or not float(focus_count).is_integer() \
            or not 0 <= focus_count <= q:
        raise ValueError(f"focus_count must be an integer in 0..Q={q}, got {focus_count!r}")
    return int(focus_count)


@dataclass(frozen=True)
class Solved:
    """What :func:`kernels.analyse_many` found: ``roots`` (S, F, K, 4), ``max_real``
    (S, F, K), ``count`` and ``status`` (S, F); entries ``k >= count`` are undefined."""

    roots: np.ndarray
    max_real: np.ndarray
    count: np.ndarray
    status: np.ndarray


def solve_many(coef, theta, tau, q, focus_counts) -> Solved:
    """Every fixed point of every system (:func:`~binnet_core.meanfield.systems.table_systems`) and focus count: one compiled
    call (it releases the GIL: threads may solve chunks side by side)."""
    shape = (coef.shape[0], len(focus_counts))
    out = Solved(roots=np.empty(shape + (MAX_ROOTS, 4)), max_real=np.empty(shape + (MAX_ROOTS,)),
                  count=np.zeros(shape, np.int64), status=np.zeros(shape, np.int64))
    kernels.analyse_many(coef, theta, tau, q, np.asarray(focus_counts, dtype=np.int64), GRID,
                         out.roots, out.max_real, out.count, out.status)
    return out


def _solve(system: ClusterSystem, focus_count: int):
    """``(roots (k, 4), max_real (k,), status)`` of one system and focus count."""
    solved = solve_many(system.coef[None], system.theta[None], system.tau[None],
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
    n = check_focus_count(focus_count, system.Q)
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
    system = validated_system(dict(parameters, R_Eplus=float(r_eplus)))  # validated, r in [1, upper)
    q = system.Q
    n = focus_count if focus_count > 0 else q
    red, theta, _, _, _ = reduced_system(system, min(n, q - n) if n < q else n)
    return kernels.count_only(red, theta, GRID, np.full(3, 0.05))


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
    n = check_focus_count(focus_count, p["Q"])
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
