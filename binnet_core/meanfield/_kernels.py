# Over 500 lines: one compiled search; its kernels call and inline each other, kept in one module.
"""Compiled kernels of the reduced clustered mean-field system (numba, cached).

The reduced system has four groups, ``0 = E focus, 1 = E other, 2 = I focus, 3 = I other``,
and one rate per group ``x``. Inputs: ``red`` (3, 4, 4) holds the mean (``A``), linear
variance (``B``) and quadratic variance (``C``) coefficients of group ``h`` onto group ``g``
summed over the populations of ``h``; ``theta`` (4,) and ``tau`` (4,) per group; ``diff``
(3, 2, 2) holds the same-cluster minus other-cluster coefficients of one source population
(post type x pre type), which decide the modes that break the symmetry inside a group;
``sizes`` (2,) is the number of focus and of other clusters.

Fixed points are found as in the effective-response-function method: the focus-E rate
``v`` is scanned over ``[0, 1]``; for each ``v`` the other three rates solve their own
equations (Newton, continued along ``v``), and ``g(v) = Phi_Ef(v, y(v)) - v``. Every
interior extremum of ``g`` on the grid is located as the root of its analytic slope (regula
falsi to 1e-12; a golden-section search where the slope does not bracket it), so that two
roots closer than the grid step are still seen; every sign change between consecutive
breakpoints is then refined by regula falsi (Illinois) and polished by Newton on all four
rates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

OK = 0
INNER_FAILED = 1
ROOT_FAILED = 2
TOO_MANY = 3

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_VAR_FLOOR = 1e-100
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _moments(x, red, theta, g):
    """``(mu, var, sigma, pdf(mu / sigma))`` of the input to group ``g``."""
    mu = -theta[g]
    var = 0.0
    for h in range(4):
        mu += red[0, g, h] * x[h]
        var += red[1, g, h] * x[h] + red[2, g, h] * x[h] * x[h]
    var = max(var, _VAR_FLOOR)
    sigma = math.sqrt(var)
    z = mu / sigma
    return mu, var, sigma, _INV_SQRT_2PI * math.exp(-0.5 * z * z)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _transfer_group(x, red, theta, phi, dphi, g):
    """``phi[g] = Phi_g(x)`` and ``dphi[g, h] = d Phi_g / d x_h`` for one group ``g``."""
    mu, var, sigma, pdf = _moments(x, red, theta, g)
    phi[g] = 0.5 * math.erfc(-mu / sigma / _SQRT2)
    for h in range(4):
        dvar = red[1, g, h] + 2.0 * red[2, g, h] * x[h]
        dphi[g, h] = pdf * (red[0, g, h] / sigma - mu * dvar / (2.0 * var * sigma))


@njit(cache=True, nogil=True, error_model="numpy")
def _transfer(x, red, theta, phi, dphi):
    """``phi[g] = Phi_g(x)`` and ``dphi[g, h] = d Phi_g / d x_h`` of the reduced system."""
    for g in range(4):
        _transfer_group(x, red, theta, phi, dphi, g)


@njit(cache=True, nogil=True, error_model="numpy")
def _solve3(a, b0, b1, b2):
    """Solve the 3x3 system ``a @ s = b`` (Cramer's rule, no allocation); NaN if singular."""
    c00 = a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]
    c01 = a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]
    c02 = a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]
    det = a[0, 0] * c00 + a[0, 1] * c01 + a[0, 2] * c02
    if det == 0.0 or not math.isfinite(det):
        return np.nan, np.nan, np.nan
    c10 = a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]
    c11 = a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]
    c12 = a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]
    c20 = a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]
    c21 = a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]
    c22 = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    return ((c00 * b0 + c10 * b1 + c20 * b2) / det,
            (c01 * b0 + c11 * b1 + c21 * b2) / det,
            (c02 * b0 + c12 * b1 + c22 * b2) / det)


@njit(cache=True, nogil=True, error_model="numpy")
def _residual3(x, red, theta, phi, dphi):
    """Max-norm of ``Phi_g(x) - x_g`` over the groups 1..3 (fills ``phi``, ``dphi`` for
    those groups only: the focus-E group is evaluated once the others converged)."""
    for g in range(1, 4):
        _transfer_group(x, red, theta, phi, dphi, g)
    norm = 0.0
    for i in range(1, 4):
        norm = max(norm, abs(phi[i] - x[i]))
    return norm


@njit(cache=True, nogil=True, error_model="numpy")
def _newton3(x, red, theta, tol, max_iter, work):
    """Damped Newton on the groups 1..3 inside [0, 1] (``x`` updated); final residual.

    On return ``phi`` and ``dphi`` of ``work`` (see :func:`_work`) hold ``Phi(x)`` and its
    derivatives for the groups 1..3.
    """
    phi, dphi, jac, trial, step = work[1], work[2], work[3], work[4], work[5]
    norm = _residual3(x, red, theta, phi, dphi)
    at_x = True  # phi and dphi are those of x
    for _ in range(max_iter):
        if norm < tol:
            break
        for i in range(3):
            for j in range(3):
                jac[i, j] = dphi[i + 1, j + 1] - (1.0 if i == j else 0.0)
        step[0], step[1], step[2] = _solve3(jac, x[1] - phi[1], x[2] - phi[2], x[3] - phi[3])
        if not math.isfinite(step[0] + step[1] + step[2]):
            break
        lam = 1.0
        improved = False
        trial[0] = x[0]
        for _ in range(30):
            for i in range(3):
                trial[i + 1] = min(1.0, max(0.0, x[i + 1] + lam * step[i]))
            new_norm = _residual3(trial, red, theta, phi, dphi)
            if new_norm < norm:
                improved = True
                break
            lam *= 0.5
        if not improved:
            at_x = False
            break
        x[:] = trial
        norm = new_norm
    if not at_x:
        norm = _residual3(x, red, theta, phi, dphi)
    return norm


@njit(cache=True, nogil=True)
def _work():
    """Work arrays of :func:`_inner`: ``(x (4,), phi (4,), dphi (4, 4), jac (3, 3),
    trial (4,), step (3,))``."""
    return (np.empty(4), np.empty(4), np.empty((4, 4)), np.empty((3, 3)), np.empty(4),
            np.empty(3))


@njit(cache=True, nogil=True, error_model="numpy")
def _inner(v, y, red, theta, work, tol=1e-14, max_iter=60):
    """Solve rates 1..3 for a fixed focus-E rate ``v`` starting from ``y`` (updated in place).

    Returns ``(g, ok)`` with ``g = Phi_0 - v``. Damped Newton inside [0, 1]; where it stalls,
    relaxation along the dynamics (``y += (Phi(y) - y) / 4``) moves it into the basin of a
    stable solution and Newton restarts; bounded work either way. ``work``: :func:`_work`.
    """
    x, phi, dphi = work[0], work[1], work[2]
    x[0] = v
    x[1:] = y
    norm = _newton3(x, red, theta, tol, max_iter, work)
    for _ in range(3):
        if norm < 1e-11:
            break
        for _ in range(200):
            _residual3(x, red, theta, phi, dphi)
            for i in range(1, 4):
                x[i] += 0.25 * (phi[i] - x[i])
        norm = _newton3(x, red, theta, tol, max_iter, work)
    _transfer_group(x, red, theta, phi, dphi, 0)  # phi and dphi of x complete
    y[:] = x[1:]
    if not norm < 1e-11:
        return np.nan, False
    return phi[0] - v, True


@njit(cache=True, nogil=True, error_model="numpy")
def _slope(work):
    """``dg/dv`` at the point :func:`_inner` solved last (its ``dphi`` is in ``work``).

    The other rates follow ``v`` as ``(D_yy - I) y' = -D_yv`` (implicit function theorem),
    so ``g' = D_vv - 1 + D_vy . y'``.
    """
    dphi, jac = work[2], work[3]
    for i in range(3):
        for j in range(3):
            jac[i, j] = dphi[i + 1, j + 1] - (1.0 if i == j else 0.0)
    s1, s2, s3 = _solve3(jac, -dphi[1, 0], -dphi[2, 0], -dphi[3, 0])
    return dphi[0, 0] - 1.0 + dphi[0, 1] * s1 + dphi[0, 2] * s2 + dphi[0, 3] * s3


@njit(cache=True, nogil=True, error_model="numpy")
def _extremum(v3, y3, red, theta, is_max, work):
    """The extremum of ``g`` around the scan points ``v3`` (3,) with rates ``y3`` (3, 3):
    ``(v, g, y, ok)``.

    The root of the slope ``g'`` (:func:`_slope`) in a bracket ``[v3[0], v3[1]]`` or
    ``[v3[1], v3[2]]`` over which it falls (maximum) or rises (minimum) is refined by Illinois
    regula falsi to 1e-12 in ``v`` (``g`` is then exact to rounding); without such a bracket a
    golden-section search on ``g`` over ``[v3[0], v3[2]]`` takes over.
    """
    sign = 1.0 if is_max else -1.0
    slopes = np.empty(3)
    y = np.empty(3)
    for k in range(3):
        y[:] = y3[k]
        _, ok = _inner(v3[k], y, red, theta, work)
        if not ok:
            return np.nan, np.nan, y, False
        slopes[k] = sign * _slope(work)
    lo = -1
    for k in range(2):
        if slopes[k] > 0.0 and slopes[k + 1] <= 0.0:
            lo = k
            break
    if lo < 0:
        return _golden(v3[0], v3[2], y3[1], red, theta, is_max, work)
    va, sa, vb, sb = v3[lo], slopes[lo], v3[lo + 1], slopes[lo + 1]
    y[:] = y3[lo]
    v, side = va, 0
    for _ in range(60):
        if sb == 0.0:
            v = vb
            break
        v = (va * sb - vb * sa) / (sb - sa)
        _, ok = _inner(v, y, red, theta, work)
        if not ok:
            return np.nan, np.nan, y, False
        sv = sign * _slope(work)
        if sv == 0.0 or vb - va < 1e-12:
            break
        if sv > 0.0:
            va, sa = v, sv
            if side == 1:
                sb *= 0.5
            side = 1
        else:
            vb, sb = v, sv
            if side == -1:
                sa *= 0.5
            side = -1
    g, ok = _inner(v, y, red, theta, work)
    return v, g, y, ok


@njit(cache=True, nogil=True, error_model="numpy")
def _golden(va, vb, y0, red, theta, is_max, work, iters=28):
    """Golden-section search for the extremum of ``g`` on ``[va, vb]``: ``(v, g, y, ok)``.

    28 steps narrow two grid cells (1/30) to 5e-8, so ``g`` is exact to ~1e-15 there.
    """
    sign = -1.0 if is_max else 1.0
    y = y0.copy()
    a, b = va, vb
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    gc, ok1 = _inner(c, y, red, theta, work)
    yc = y.copy()
    gd, ok2 = _inner(d, y, red, theta, work)
    if not (ok1 and ok2):
        return np.nan, np.nan, y, False
    for _ in range(iters):
        if sign * gc < sign * gd:
            b, d, gd = d, c, gc
            c = b - _GOLDEN * (b - a)
            y[:] = yc
            gc, ok = _inner(c, y, red, theta, work)
            yc[:] = y
        else:
            a, c, gc = c, d, gd
            yc[:] = y
            d = a + _GOLDEN * (b - a)
            gd, ok = _inner(d, y, red, theta, work)
        if not ok:
            return np.nan, np.nan, y, False
    v = 0.5 * (a + b)
    g, ok = _inner(v, y, red, theta, work)
    return v, g, y, ok


@njit(cache=True, nogil=True, error_model="numpy")
def _breakpoints(red, theta, n_grid, y_start):
    """Scan ``g`` on a grid plus its refined interior extrema.

    Returns ``(v, g, y, is_extremum, ok)`` sorted by ``v``.
    """
    work = _work()
    grid = np.linspace(0.0, 1.0, n_grid)
    gv = np.empty(n_grid)
    gy = np.empty((n_grid, 3))
    y = y_start.copy()
    for i in range(n_grid):
        if i >= 2:  # secant predictor along the scan: Newton starts closer
            for j in range(3):
                y[j] = min(1.0, max(0.0, 2.0 * gy[i - 1, j] - gy[i - 2, j]))
        g, ok = _inner(grid[i], y, red, theta, work)
        if not ok:
            # restart from a few guesses before giving up (bounded work)
            for guess in (0.01, 0.1, 0.5, 0.9):
                y[:] = guess
                g, ok = _inner(grid[i], y, red, theta, work)
                if ok:
                    break
            if not ok:
                return grid, gv, gy, np.zeros(n_grid, np.bool_), False
        gv[i] = g
        gy[i] = y
    total = n_grid
    ext_v = np.empty(n_grid)
    ext_g = np.empty(n_grid)
    ext_y = np.empty((n_grid, 3))
    ext_at = np.full(n_grid, -1)
    for i in range(1, n_grid - 1):
        left, right = gv[i] - gv[i - 1], gv[i + 1] - gv[i]
        if left * right < 0.0:
            v, g, ye, ok = _extremum(grid[i - 1:i + 2], gy[i - 1:i + 2], red, theta,
                                     left > 0.0, work)
            if not ok:
                return grid, gv, gy, np.zeros(n_grid, np.bool_), False
            ext_v[i], ext_g[i], ext_y[i] = v, g, ye
            ext_at[i] = i
            total += 1
    bv = np.empty(total)
    bg = np.empty(total)
    by = np.empty((total, 3))
    bext = np.zeros(total, np.bool_)
    k = 0
    for i in range(n_grid):
        before = ext_at[i] >= 0 and ext_v[i] < grid[i]
        if before:
            bv[k], bg[k], by[k], bext[k] = ext_v[i], ext_g[i], ext_y[i], True
            k += 1
        bv[k], bg[k], by[k] = grid[i], gv[i], gy[i]
        k += 1
        if ext_at[i] >= 0 and not before:
            bv[k], bg[k], by[k], bext[k] = ext_v[i], ext_g[i], ext_y[i], True
            k += 1
    return bv, bg, by, bext, True


@njit(cache=True, nogil=True, error_model="numpy")
def _refine_root(va, ga, vb, gb, y0, red, theta):
    """Illinois regula falsi for the root of ``g`` in ``[va, vb]``, then a 4D Newton polish.

    Returns ``(x (4,), ok)``.
    """
    work = _work()
    y = y0.copy()
    x = np.empty(4)
    side = 0
    vc = va
    for _ in range(100):
        vc = (va * gb - vb * ga) / (gb - ga)
        gc, ok = _inner(vc, y, red, theta, work)
        if not ok:
            x[:] = np.nan
            return x, False
        if abs(gc) < 1e-13 or abs(vb - va) < 1e-13:
            break
        if (gc > 0.0) == (gb > 0.0):
            vb, gb = vc, gc
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            va, ga = vc, gc
            if side == 1:
                gb *= 0.5
            side = 1
    x[0] = vc
    x[1:] = y
    phi = np.empty(4)
    dphi = np.empty((4, 4))
    for _ in range(3):
        _transfer(x, red, theta, phi, dphi)
        res = phi - x
        if np.max(np.abs(res)) < 1e-15:
            break
        jac = dphi - np.eye(4)
        step = np.linalg.solve(jac, -res)
        if not np.all(np.isfinite(step)):
            break
        trial = x + step
        if np.all(trial >= 0.0) and np.all(trial <= 1.0):
            x[:] = trial
    _transfer(x, red, theta, phi, dphi)
    return x, np.max(np.abs(phi - x)) < 1e-12


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_stable(dd, tau_e, tau_i):
    """All eigenvalues of ``diag(1/tau) (dd - I)`` (2x2) have negative real part; max real part."""
    a = (dd[0, 0] - 1.0) / tau_e
    b = dd[0, 1] / tau_e
    c = dd[1, 0] / tau_i
    d = (dd[1, 1] - 1.0) / tau_i
    tr = a + d
    det = a * d - b * c
    disc = tr * tr - 4.0 * det
    if disc >= 0.0:
        return 0.5 * (tr + math.sqrt(disc))
    return 0.5 * tr


@njit(cache=True, nogil=True, error_model="numpy")
def _max_real_eigenvalue(x, red, theta, tau, diff, sizes):
    """Largest real part over the eigenvalues of the full 2Q Jacobian, by symmetry blocks.

    Group-constant perturbations: the reduced Jacobian (ghost groups of size 0 left out);
    differences between the clusters of one group: a 2x2 E/I block per group with at least
    two clusters, from the same-cluster minus other-cluster coefficients.
    """
    phi = np.empty(4)
    dphi = np.empty((4, 4))
    _transfer(x, red, theta, phi, dphi)
    keep = np.array([0, 2]) if sizes[1] == 0 else np.array([0, 1, 2, 3])
    m = keep.size
    jac = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            jac[i, j] = (dphi[keep[i], keep[j]] - (1.0 if i == j else 0.0)) / tau[keep[i]]
    worst = np.max(np.linalg.eigvals(jac.astype(np.complex128)).real)
    for f in range(2):  # 0: focus group, 1: other group
        if sizes[f] < 2:
            continue
        dd = np.empty((2, 2))
        for a in range(2):
            mu, var, sigma, pdf = _moments(x, red, theta, 2 * a + f)
            for b in range(2):
                rate = x[2 * b + f]
                dvar = diff[1, a, b] + 2.0 * diff[2, a, b] * rate
                dd[a, b] = pdf * (diff[0, a, b] / sigma - mu * dvar / (2.0 * var * sigma))
        worst = max(worst, _pair_stable(dd, tau[0], tau[2]))
    return worst


@njit(cache=True, nogil=True, error_model="numpy")
def analyse(red, theta, tau, diff, sizes, n_grid, y_start, roots, max_real):
    """All fixed points of one reduced system.

    Fills ``roots[k]`` (4 rates) and ``max_real[k]`` (largest real part of the full
    Jacobian's eigenvalues) for ``k < count``. Returns ``(count, near_miss, status)``:
    ``near_miss`` is the smallest ``|g|`` at an interior extremum (inf if none), a measure of
    how close the system is to gaining or losing a pair of fixed points.
    """
    bv, bg, by, bext, ok = _breakpoints(red, theta, n_grid, y_start)
    if not ok:
        return 0, np.nan, INNER_FAILED
    near = np.inf
    for k in range(bv.size):
        if bext[k]:
            near = min(near, abs(bg[k]))
    count = 0
    for k in range(bv.size - 1):
        if (bg[k] > 0.0) != (bg[k + 1] > 0.0):
            if count >= roots.shape[0]:
                return count, near, TOO_MANY
            x, ok = _refine_root(bv[k], bg[k], bv[k + 1], bg[k + 1], by[k], red, theta)
            if not ok:
                return count, near, ROOT_FAILED
            roots[count] = x
            max_real[count] = _max_real_eigenvalue(x, red, theta, tau, diff, sizes)
            count += 1
    return count, near, OK


@njit(cache=True, nogil=True)
def count_only(red, theta, n_grid, y_start):
    """``(count, near_miss, status)`` of :func:`analyse` without refining the fixed points."""
    bv, bg, by, bext, ok = _breakpoints(red, theta, n_grid, y_start)
    if not ok:
        return 0, np.nan, INNER_FAILED
    near = np.inf
    count = 0
    for k in range(bv.size):
        if bext[k]:
            near = min(near, abs(bg[k]))
        if k + 1 < bv.size and (bg[k] > 0.0) != (bg[k + 1] > 0.0):
            count += 1
    return count, near, OK


@njit(cache=True, nogil=True)
def reduced_coefficients(coef, focus, other):
    """``red`` (3, 4, 4) from the per-source coefficients ``coef[kind, same, a, b]``.

    A group receives from its own group one same-cluster source and ``size - 1`` others
    (none from an empty group), and ``size`` other-cluster sources from the other group.
    """
    red = np.empty((3, 4, 4))
    sizes = (focus, other)
    for g in range(4):
        a, fg = g // 2, g % 2
        for h in range(4):
            b, fh = h // 2, h % 2
            size = sizes[fh]
            n_same = min(size, 1) if fg == fh else 0
            for k in range(3):
                red[k, g, h] = n_same * coef[k, 0, a, b] + (size - n_same) * coef[k, 1, a, b]
    return red


_GROUP_TYPE = (0, 0, 1, 1)  # cell type of the groups E focus, E other, I focus, I other


@njit(cache=True, nogil=True)
def _analyse_system(s, coef, theta, tau, q, focus, n_grid, roots, max_real, count, status):
    """:func:`analyse_many` for system ``s``."""
    y_start = np.full(3, 0.05)
    theta4 = np.empty(4)
    tau4 = np.empty(4)
    sizes = np.empty(2, np.int64)
    diff = coef[s, :, 0] - coef[s, :, 1]
    for g in range(4):
        theta4[g] = theta[s, _GROUP_TYPE[g]]
        tau4[g] = tau[s, _GROUP_TYPE[g]]
    for j in range(focus.size):
        n = focus[j] if focus[j] > 0 else q[s]
        swap = n > q[s] - n
        m = q[s] - n if swap else n
        sizes[0], sizes[1] = m, q[s] - m
        red = reduced_coefficients(coef[s], m, q[s] - m)
        c, _, st = analyse(red, theta4, tau4, diff, sizes, n_grid, y_start, roots[s, j],
                           max_real[s, j])
        count[s, j], status[s, j] = c, st
        if swap and c > 0:
            r = roots[s, j, :c].copy()
            mr = max_real[s, j, :c].copy()
            order = np.argsort(r[:, 1], kind="mergesort")
            for k in range(c):
                o = order[k]
                roots[s, j, k, 0], roots[s, j, k, 1] = r[o, 1], r[o, 0]
                roots[s, j, k, 2], roots[s, j, k, 3] = r[o, 3], r[o, 2]
                max_real[s, j, k] = mr[o]


@njit(cache=True, nogil=True)
def analyse_many(coef, theta, tau, q, focus, n_grid, roots, max_real, count, status):
    """:func:`analyse` of every system ``s`` for every focus count ``focus[j]``.

    Inputs per system: ``coef`` (S, 3, 2, 2, 2) as in :func:`reduced_coefficients`,
    ``theta`` and ``tau`` (S, 2) per cell type, ``q`` (S,) cluster counts; ``focus`` (F,).
    Fills ``roots`` (S, F, K, 4), ``max_real`` (S, F, K), ``count`` and ``status`` (S, F).
    Focus count 0 is solved as ``Q`` (homogeneous states). The scanned rate is that of the
    smaller E group: ``n > Q - n`` focus clusters are solved as ``Q - n`` with the groups
    swapped back afterwards (roots sorted by focus-E rate).
    """
    for s in range(coef.shape[0]):
        _analyse_system(s, coef, theta, tau, q, focus, n_grid, roots, max_real, count, status)

