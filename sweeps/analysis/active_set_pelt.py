"""PELT segments for the active-set EM (``ActiveSetEM(segmentation="pelt")``).

Instead of fixed windows, the EM classifies the segments between change points found by PELT
on a feature trace derived from the activity ``y`` (T, Q):

1. **Smoothing** (``pelt_smooth_width`` w > 1 only, and T >= w): each population's trace
   convolved with a box of w samples, ``np.convolve(y_q, ones(w) / w, mode="same")``; ``s`` the
   result. (A trace shorter than the box is not smoothed; the paper's code would fail there.)
2. **Population weights**: per population ``range_q = q95(s_q) - q05(s_q)``, the noise
   ``n_q = 1.4826 median|d - median d| / sqrt 2`` of its first differences ``d`` (0 for one
   sample), the signal ``g_q = max(range_q - 2 n_q, 0)`` and the weight ``w_q = g_q^2 / (g_q^2 +
   n_q^2 + 1e-12)`` clipped to [0, 1] (0 where not finite): flat populations count little.
3. **Features**: ``f = (s - median(s)) / (q95(s) - q05(s)) * sqrt(w_q)``, median and quantiles
   over all entries (a range below 1e-12 or not finite: scale 1).
4. **PELT** with the least-squares cost ``C(a, b) = sum_q sum_{a <= t < b} (f_tq - mean_q)^2``
   and ``pelt_penalty`` per change point: the partition minimising ``sum C + penalty * (number
   of change points)``, change points only at multiples of ``pelt_jump``, segments at least
   ``pelt_min_size`` samples long (the last one ends at T). Solved exactly by the ``ruptures``
   library (``Pelt(model="l2")``; extra ``states``). A trace shorter than ``max(pelt_min_size,
   2)`` samples is one segment.
5. **Refinement** (``pelt_refine``, when ``pelt_jump > 1`` and there is a change point): each
   change point in turn, from the first, moves to the position within ``pelt_jump`` samples
   that minimises ``C(left, b) + C(b, right)`` between its (already refined) left and its right
   neighbour, keeping ``pelt_min_size`` samples on each side (the first such position on ties;
   ``C`` from cumulative sums of ``f`` and ``f^2``: ``sum(S2) - sum(S1^2) / length``).

The EM then classifies each segment by its mean of the run-scaled trace, weighted by its length
(:mod:`sweeps.analysis.active_set`).
"""
from __future__ import annotations

import numpy as np

from sweeps.errors import MissingDependencyError

__all__ = ["pelt_bounds", "pelt_features", "refine_breakpoints"]

_EPS = 1e-12


def pelt_features(y: np.ndarray, smooth_width: int = 1) -> np.ndarray:
    """The feature trace of steps 1-3 (module docstring) of a (T, Q) activity trace."""
    y = np.asarray(y, np.float64)
    if 1 < smooth_width <= y.shape[0]:
        box = np.ones(smooth_width) / smooth_width
        s = np.vstack([np.convolve(y[:, q], box, mode="same") for q in range(y.shape[1])]).T
    else:
        s = y.copy()
    spread_q = np.quantile(s, 0.95, axis=0) - np.quantile(s, 0.05, axis=0)
    if s.shape[0] > 1:
        d = np.diff(s, axis=0)
        noise = 1.4826 * np.median(np.abs(d - np.median(d, axis=0)[None]), axis=0) / np.sqrt(2.0)
    else:
        noise = np.zeros(s.shape[1])
    signal = np.maximum(spread_q - 2.0 * noise, 0.0)
    weight = signal ** 2 / (signal ** 2 + noise ** 2 + _EPS)
    weight = np.clip(np.where(np.isfinite(weight), weight, 0.0), 0.0, 1.0)
    scale = float(np.quantile(s, 0.95) - np.quantile(s, 0.05))
    if not np.isfinite(scale) or scale <= _EPS:
        scale = 1.0
    return (s - float(np.median(s))) / scale * np.sqrt(weight)[None]


def refine_breakpoints(f: np.ndarray, breakpoints: np.ndarray, radius: int, min_size: int) -> np.ndarray:
    """Step 5: ``breakpoints`` (interior change points, then T) refined within ``radius``."""
    n = f.shape[0]
    s1 = np.vstack([np.zeros((1, f.shape[1])), np.cumsum(f, axis=0)])
    s2 = np.vstack([np.zeros((1, f.shape[1])), np.cumsum(f * f, axis=0)])

    def cost(a: int, b: int) -> float:
        if b <= a:
            return float("inf")
        total = s1[b] - s1[a]
        return float(np.sum((s2[b] - s2[a]) - total * total / float(b - a)))

    out = [int(b) for b in breakpoints]
    if out[-1] != n:
        out.append(n)
    radius, min_size = max(1, radius), max(1, min_size)
    for i in range(len(out) - 1):
        left = out[i - 1] if i else 0
        right = out[i + 1]
        lo, hi = max(left + min_size, out[i] - radius), min(right - min_size, out[i] + radius)
        if hi >= lo:
            costs = [cost(left, b) + cost(b, right) for b in range(lo, hi + 1)]
            out[i] = lo + int(np.argmin(costs))  # the first minimum
    out[-1] = n
    return np.asarray(out, np.int64)


def pelt_bounds(y: np.ndarray, penalty: float, min_size: int, jump: int, refine: bool,
                smooth_width: int) -> np.ndarray:
    """Segment boundaries ``[0, b_1, ..., T]`` of steps 1-5 (module docstring)."""
    try:
        import ruptures
    except ImportError as err:  # optional extra
        raise MissingDependencyError(
            'ActiveSetEM(segmentation="pelt") needs ruptures: pip install -e ".[states]"') from err
    f = pelt_features(y, smooth_width)
    n = f.shape[0]
    min_size, jump = max(1, int(min_size)), max(1, int(jump))
    if n < min_size or n < 2:
        return np.array([0, n], np.int64)
    found = ruptures.Pelt(model="l2", min_size=min_size, jump=jump).fit(f).predict(pen=float(penalty))
    bkps = np.array(sorted({int(b) for b in found if 0 < int(b) < n}) + [n], np.int64)
    if refine and jump > 1 and bkps.size > 1:
        bkps = refine_breakpoints(f, bkps, jump, min_size)
    return np.r_[0, bkps].astype(np.int64)
