"""Merging after the active-set EM (``ActiveSetEM(merge_after_em=True)``): flickers and weak
boundaries.

Input: the run-scaled trace ``z`` (T, Q), segments ``[b_i, b_{i+1})`` with their EM sets and the
EM's parameters ``mu0_k, mu1_k, var0_k, var1_k`` per number ``k`` of active populations. Costs
use the EM's model on a segment's mean ``x = mean(z[a:b])`` (``np.nanmean`` over its rows):

* ``cost(x, a) = sum_q nll(x_q | a_q) + lambda_active k + lambda_comb log binom(Q, k)`` for a set
  ``a`` of size ``k`` (``nll`` of the EM, :mod:`sweeps.analysis.active_set`), and the cost of a
  segment with set ``a`` is ``(b - a_start) * cost(x, a)``;
* the best set of a mean ``x``: for ``k = 0 .. k_max`` the ``k`` populations of least ``nll1 -
  nll0`` (``np.argpartition``), for ``0 < k < Q`` skipped if the mean of ``x`` over them minus the
  mean over the others is below ``min_separation``; the least cost wins (the smaller ``k`` on
  ties).

Steps:

1. neighbours with the same set are joined;
2. **flickers** (``min_flicker_duration`` > 0): repeatedly, from left to right, a segment
   between two segments of the same set ``A`` (an A-B-A pattern) that is at most
   ``min_flicker_duration`` samples long and differs from ``A`` in at most
   ``flicker_max_hamming`` populations is absorbed, together with its right neighbour, into
   its left neighbour (set ``A``) if ``cost(B segment with A) - cost(B segment with B) <=
   beta_merge``; passes repeat until one changes nothing;
3. **weak boundaries**: at most ``merge_max_iter`` times: for every boundary the gain
   ``cost(joined segment with its best set) - cost(left) - cost(right)``; the boundary of
   least gain (the first on ties) is removed, the joined segment taking its best set, if that
   gain is below ``beta_merge``, then equal neighbours are joined; else stop;
4. neighbours with the same set are joined.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["best_set", "merge_after_em", "remove_flickers", "segment_cost"]


def _nll(x, mu, var):
    return 0.5 * ((x - float(mu)) ** 2 / float(var) + np.log(float(var)))


def _penalty(q: int, k: int, opts) -> float:
    return opts.lambda_active * k + opts.lambda_comb * (
        math.lgamma(q + 1) - math.lgamma(k + 1) - math.lgamma(q - k + 1))


def segment_cost(z: np.ndarray, a: int, b: int, mask: np.ndarray, params, opts) -> float:
    """``(b - a) * cost(mean z[a:b], mask)`` (module docstring); ``params = (mu0, mu1, var0, var1)``."""
    mu0, mu1, var0, var1 = params
    x = np.nanmean(z[a:b], axis=0)
    k = int(mask.sum())
    per_bin = float(np.sum(np.where(mask, _nll(x, mu1[k], var1[k]), _nll(x, mu0[k], var0[k]))))
    return float(b - a) * (per_bin + _penalty(mask.size, k, opts))


def best_set(x: np.ndarray, params, k_max: int, opts) -> tuple[np.ndarray, float]:
    """``(mask, cost per sample)`` of the best set of a segment mean ``x`` (module docstring)."""
    mu0, mu1, var0, var1 = params
    q = x.size
    best, best_cost = np.zeros(q, bool), math.inf
    for k in range(min(k_max, q) + 1):
        low, high = _nll(x, mu0[k], var0[k]), _nll(x, mu1[k], var1[k])
        mask = np.zeros(q, bool)
        if k == 0:
            cost = float(np.sum(low))
        elif k == q:
            mask[:] = True
            cost = float(np.sum(high))
        else:
            delta = high - low
            mask[np.argpartition(delta, k)[:k]] = True
            if float(np.mean(x[mask]) - np.mean(x[~mask])) < opts.min_separation:
                continue
            cost = float(np.sum(low) + np.sum(delta[mask]))
        cost += _penalty(q, k, opts)
        if cost < best_cost:
            best, best_cost = mask, cost
    return best, float(best_cost)


def _join_equal(bounds: list[int], masks: list[np.ndarray]) -> tuple[list[int], list[np.ndarray]]:
    out_b, out_m = [bounds[0]], []
    for i, mask in enumerate(masks):
        if out_m and np.array_equal(out_m[-1], mask):
            out_b[-1] = bounds[i + 1]
        else:
            out_m.append(mask)
            out_b.append(bounds[i + 1])
    return out_b, out_m


def remove_flickers(z, bounds: list[int], masks: list[np.ndarray], params, opts):
    """Step 2 (module docstring) on segments ``[bounds[i], bounds[i+1])`` with ``masks``."""
    changed = True
    while changed:
        changed = False
        new_b, new_m = [bounds[0]], []
        i, n = 0, len(masks)
        while i < n:
            if 0 < i < n - 1 and new_m:
                prev, cur, nxt = masks[i - 1], masks[i], masks[i + 1]
                a, b = bounds[i], bounds[i + 1]
                if (np.array_equal(prev, nxt) and b - a <= opts.min_flicker_duration
                        and int(np.sum(cur != prev)) <= opts.flicker_max_hamming
                        and segment_cost(z, a, b, prev, params, opts)
                        - segment_cost(z, a, b, cur, params, opts) <= opts.beta_merge):
                    new_b[-1] = bounds[i + 2]
                    new_m[-1] = prev.copy()
                    i += 2
                    changed = True
                    continue
            new_m.append(masks[i].copy())
            new_b.append(bounds[i + 1])
            i += 1
        bounds, masks = new_b, new_m
    return bounds, masks


def _merge_weak_boundaries(z, bounds, masks, params, k_max, opts):
    # a boundary's gain depends only on its two segments: computed once per pair of segments
    cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def gain_of(i):
        a, m, b = bounds[i], bounds[i + 1], bounds[i + 2]
        key = (a, m, b, masks[i].tobytes(), masks[i + 1].tobytes())
        if key not in cache:
            split = (segment_cost(z, a, m, masks[i], params, opts)
                     + segment_cost(z, m, b, masks[i + 1], params, opts))
            mask, per_bin = best_set(np.nanmean(z[a:b], axis=0), params, k_max, opts)
            cache[key] = (float(b - a) * per_bin - split, mask)
        return cache[key]

    for _ in range(opts.merge_max_iter):
        if len(masks) <= 1:
            break
        best = None
        for i in range(len(masks) - 1):
            gain, mask = gain_of(i)
            if best is None or gain < best[0]:
                best = (gain, i, mask)
        gain, i, mask = best
        if gain >= opts.beta_merge:
            break
        bounds = bounds[:i + 1] + bounds[i + 2:]
        masks = masks[:i] + [mask] + masks[i + 2:]
        bounds, masks = _join_equal(bounds, masks)
    return bounds, masks


def merge_after_em(z: np.ndarray, bounds: np.ndarray, masks: np.ndarray, params, k_max: int,
                   opts) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-4 (module docstring); returns the new ``(bounds, masks)``."""
    z = np.asarray(z, np.float64)
    b, m = _join_equal([int(v) for v in bounds], [row.copy() for row in np.asarray(masks, bool)])
    b, m = remove_flickers(z, b, m, params, opts)
    b, m = _merge_weak_boundaries(z, b, m, params, k_max, opts)
    b, m = _join_equal(b, m)
    return np.asarray(b, np.int64), np.asarray(m, bool).reshape(len(m), masks.shape[1])
