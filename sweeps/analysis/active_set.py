"""Active-set EM: which populations are active in each segment of an activity trace.

The input is a trace ``y`` of shape (T, Q): the activity of Q populations (by default the
excitatory ones) at T samples. The method, step by step:

1. **Run scaling**, one offset and one scale for the whole trace (no per-population scaling):
   ``z = (y - median(y)) / (q95(y) - q05(y))``, quantiles over all entries (linear
   interpolation). A trace whose range ``q95 - q05`` is below ``1e-12`` is flat: every sample is
   in the all-inactive state.
2. **Segments**: consecutive windows of ``segment_width`` samples (the last one may be shorter);
   ``x_m`` is the mean of ``z`` over segment ``m`` and ``L_m`` its length. The default width is
   one sample, so every sample is classified on its own.
3. **Model**: in a segment with ``k`` active populations the active entries are ``N(mu1_k,
   v1_k)`` and the inactive ones ``N(mu0_k, v0_k)``: two Gaussian states per population whose
   parameters depend on how many populations are active, ``k <= k_max``. The cost of an active
   set ``a`` of size ``k`` is ``C(a) = sum_q nll(x_q | a_q) + lambda_active k + lambda_comb log
   binom(Q, k)`` with ``nll(x; mu, v) = ((x - mu)^2 / v + log v) / 2``.
4. **E-step**: for each ``k`` the best set of size ``k`` holds the ``k`` populations of least
   ``nll1 - nll0`` (ties: see below); for ``0 < k < Q`` it is admissible only if
   the mean of ``x`` over its populations exceeds the mean over the others by at least
   ``min_separation``. Each segment takes the ``k`` of least cost (ties: the smaller ``k``).
   The objective is the sum of these least costs (not weighted by ``L``).
5. **M-step**: for each ``k``, ``mu`` and ``v`` of the active (inactive) entries of the segments
   with ``k`` active populations, weighted by ``L``; ``v >= var_floor``. A ``k`` without such
   entries keeps its previous values, or in the first M-step the mean and variance of all ``x``.
6. **Iteration**: M-step from the current sets, then E-step; stop when no set changes or, from
   the second iteration on, when the objective changes by less than ``tol * max(|previous|,
   1)``; at most ``max_iter`` iterations.
7. **Two starts**, the fit of the lower objective is kept (the first on ties): (a) ``x_q >
   (q25(x) + q75(x)) / 2`` (quantiles over all entries), a segment with more than ``k_max``
   keeping its ``k_max`` largest; (b) per segment, values sorted in decreasing order ``s_1 >=
   s_2 >= ...``, the ``k`` in ``1..min(k_max, Q - 1)`` of the largest gap ``s_k - s_{k+1}`` (the
   first on ties) if that gap exceeds ``min_separation``, else no active population.
8. **Canonical sets** (optional, on by default): neighbouring segments with the same set are
   merged into episodes; ``r_q`` is the mean of the raw trace ``y`` over an episode. With the
   baseline ``b`` = median of ``r`` over the inactive populations (over all if none is inactive)
   and ``s = max(1.4826 MAD, noise_floor, 1e-12)`` (MAD about ``b``, 0 for a single
   population), an active population is kept if ``r_q >= b + z s`` and, unless it is the
   strongest, ``r_q >= similarity * r_strongest``; of those at most ``canonical_max_active``
   of the highest ``r``. Neighbouring episodes with the same kept set are merged.

Options (off by default, as in the paper's dwell-time script): ``segmentation = "pelt"``
replaces the windows of step 2 by the segments between PELT change points
(:mod:`sweeps.analysis.active_set_pelt`; ``x_m`` the segment's mean, ``L_m`` its length);
``merge_after_em`` removes short A-B-A flickers and weak boundaries with the fitted model before
step 8 (:mod:`sweeps.analysis.active_set_merge`).

Ties: activities of binary networks are fractions ``n / N_pop``, so equal values are common and
which of several equal populations is called active changes the segments. They are resolved as
the paper's code resolves them, with the same numpy primitives on the same arrays: the ``k``
smallest ``nll1 - nll0`` by ``np.argpartition(delta, k)[:k]`` (row by row), the ``k_max``
largest of a start by ``np.argsort(x)[-k_max:]``, and the order of an episode's active
populations by ``np.argsort(r_active)[::-1]`` (strongest first). Everything is deterministic
for a given numpy version (no random numbers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sweeps.errors import OptionError

__all__ = ["ActiveSetEM", "ActiveSetFit", "active_set_segments", "bound_means", "canonical_sets",
           "e_step", "fit_active_sets", "gap_start", "m_step", "run_scale", "segment_means",
           "threshold_start"]

FLAT_RANGE = 1e-12
SEGMENTATIONS = ("fixed", "pelt")
_ROWS_PER_BLOCK = 4096  # E-step rows at once: (k_max + 1) x rows x Q floats per array


@dataclass(frozen=True)
class ActiveSetEM:
    """Options of the active-set EM (module docstring; defaults those of the paper's analysis).

    Attributes
    ----------
    max_active : int or None, default None
        ``k_max``, the largest number of populations active at once; None: all of them.
    segment_width : int, default 1
        Samples per segment.
    max_iter : int, default 30
    tol : float, default 1e-6
        Relative change of the objective that ends the iteration.
    lambda_active, lambda_comb : float, default 0 and 0.1
        Penalties per active population and on ``log binom(Q, k)``.
    min_separation : float, default 0.05
        Least difference of the mean scaled activity of the active and the inactive populations.
    var_floor : float, default 1e-4
    canonical : bool, default True
        Reduce each episode's set to its clearly active populations (step 8).
    canonical_max_active : int, default 2
    canonical_z : float, default 3
    canonical_similarity : float, default 0.5
        In [0, 1].
    canonical_noise_floor : float, default 1e-6
    segmentation : {"fixed", "pelt"}, default "fixed"
        "fixed": windows of ``segment_width`` samples (step 2); "pelt": the segments between
        PELT change points (:mod:`sweeps.analysis.active_set_pelt`), ``segment_width`` unused.
    pelt_penalty : float, default 10
    pelt_min_size : int, default 1
    pelt_jump : int, default 2
    pelt_refine : bool, default True
    pelt_smooth_width : int, default 1
        PELT options (:mod:`sweeps.analysis.active_set_pelt`; defaults those of the paper's
        dwell-time script).
    merge_after_em : bool, default False
        Remove flickers and weak boundaries after the EM (:mod:`sweeps.analysis.active_set_merge`).
    beta_merge : float, default 0
    min_flicker_duration : int, default 0
        In samples; 0 removes no flicker.
    flicker_max_hamming : int, default 2
    merge_max_iter : int, default 10
        Options of the merging (:mod:`sweeps.analysis.active_set_merge`).
    """

    max_active: int | None = None
    segment_width: int = 1
    max_iter: int = 30
    tol: float = 1e-6
    lambda_active: float = 0.0
    lambda_comb: float = 0.1
    min_separation: float = 0.05
    var_floor: float = 1e-4
    canonical: bool = True
    canonical_max_active: int = 2
    canonical_z: float = 3.0
    canonical_similarity: float = 0.5
    canonical_noise_floor: float = 1e-6
    segmentation: str = "fixed"
    pelt_penalty: float = 10.0
    pelt_min_size: int = 1
    pelt_jump: int = 2
    pelt_refine: bool = True
    pelt_smooth_width: int = 1
    merge_after_em: bool = False
    beta_merge: float = 0.0
    min_flicker_duration: int = 0
    flicker_max_hamming: int = 2
    merge_max_iter: int = 10

    def __post_init__(self):
        def need(name, ok, what):
            if not ok:
                raise OptionError(f"ActiveSetEM.{name}", f"must be {what}, got {getattr(self, name)!r}")

        def integer(v):
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        need("max_active", self.max_active is None or (integer(self.max_active) and self.max_active >= 1),
             "None or an integer >= 1")
        for name in ("segment_width", "max_iter", "pelt_min_size", "pelt_jump", "pelt_smooth_width"):
            need(name, integer(getattr(self, name)) and getattr(self, name) >= 1, "an integer >= 1")
        for name in ("canonical_max_active", "min_flicker_duration", "flicker_max_hamming",
                     "merge_max_iter"):
            need(name, integer(getattr(self, name)) and getattr(self, name) >= 0, "an integer >= 0")
        for name in ("tol", "lambda_active", "lambda_comb", "min_separation", "canonical_z",
                     "pelt_penalty"):
            v = getattr(self, name)
            need(name, isinstance(v, int | float) and math.isfinite(v) and v >= 0, "a finite number >= 0")
        for name in ("var_floor", "canonical_noise_floor"):
            v = getattr(self, name)
            need(name, isinstance(v, int | float) and math.isfinite(v) and v > 0, "a finite number > 0")
        need("canonical_similarity", isinstance(self.canonical_similarity, int | float)
             and 0 <= self.canonical_similarity <= 1, "a number in [0, 1]")
        for name in ("canonical", "pelt_refine", "merge_after_em"):
            need(name, isinstance(getattr(self, name), bool), "True or False")
        v = self.beta_merge
        need("beta_merge", isinstance(v, int | float) and math.isfinite(v), "a finite number")
        if self.segmentation not in SEGMENTATIONS:
            raise OptionError("ActiveSetEM.segmentation", f"unknown segmentation {self.segmentation!r}",
                              allowed=SEGMENTATIONS)


@dataclass(frozen=True)
class ActiveSetFit:
    """Result of the EM: ``masks`` (M, Q) per segment, parameters per ``k`` (length k_max + 1)."""

    masks: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    var0: np.ndarray
    var1: np.ndarray
    objective: float
    n_iter: int
    converged: bool


def run_scale(y: np.ndarray) -> tuple[np.ndarray, float]:
    """``(z, range)``: the trace scaled as in step 1 and its range ``q95 - q05``."""
    y = np.asarray(y, np.float64)
    lo, hi = np.quantile(y, [0.05, 0.95])
    spread = float(hi - lo)
    scale = spread if math.isfinite(spread) and spread >= FLAT_RANGE else 1.0
    return (y - float(np.median(y))) / scale, spread


def segment_means(z: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, lengths, bounds)`` of consecutive windows of ``width`` samples (step 2).

    The full windows' means as ``np.nanmean`` over each window's rows (bit for bit the
    reference's per-segment means), the last, shorter one separately.
    """
    n, q = z.shape
    bounds = np.r_[np.arange(0, n, width), n].astype(np.int64)
    full = n // width
    x = np.nanmean(z[:full * width].reshape(full, width, q), axis=1)
    if full * width < n:
        x = np.vstack([x, np.nanmean(z[full * width:], axis=0)[None]])
    return x, np.diff(bounds).astype(np.float64), bounds


def _nll(x, mu, var):
    return 0.5 * ((x - mu) ** 2 / var + np.log(var))


def _smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` smallest ``values`` of every row (last axis), 0 <= k <= Q,
    ties as ``np.argpartition`` resolves them."""
    out = np.zeros(values.shape, bool)
    if 0 < k < values.shape[-1]:
        np.put_along_axis(out, np.argpartition(values, k, axis=-1)[..., :k], True, axis=-1)
    elif k > 0:
        out[...] = True
    return out


def threshold_start(x: np.ndarray, k_max: int) -> np.ndarray:
    """Start (a) of step 7."""
    lo, hi = np.quantile(x, [0.25, 0.75])
    masks = x > 0.5 * (lo + hi)
    for row in np.flatnonzero(masks.sum(axis=1) > k_max):
        masks[row] = False
        masks[row, np.argsort(x[row])[-k_max:]] = True
    return masks


def gap_start(x: np.ndarray, k_max: int, min_gap: float) -> np.ndarray:
    """Start (b) of step 7."""
    m, q = x.shape
    top = min(k_max, q - 1)
    if top < 1:
        return np.zeros_like(x, dtype=bool)
    s = -np.sort(-x, axis=1)
    gaps = s[:, :top] - s[:, 1:top + 1]
    best = np.argmax(gaps, axis=1)
    k = np.where(gaps[np.arange(m), best] > min_gap, best + 1, 0)
    # the k largest are unique: the gap after them is > min_gap >= 0
    return x >= np.where(k > 0, s[np.arange(m), np.maximum(k - 1, 0)], np.inf)[:, None]


def m_step(x, lengths, masks, k_max: int, var_floor: float, previous: ActiveSetFit | None):
    """``(mu0, mu1, var0, var1)`` per number of active populations (step 5).

    Vectorised over the segments of each ``k``; the sums are taken over the (segments, Q) block
    of a ``k`` at once, as the reference does, so that equal data give equal parameters.
    """
    k_of = masks.sum(axis=1)
    params = np.full((4, k_max + 1), np.nan)  # mu0, mu1, var0, var1
    for k in np.unique(k_of[k_of <= k_max]):
        rows = k_of == k
        values, active = x[rows], masks[rows]
        for j, state in enumerate((~active, active)):
            w = lengths[rows, None] * state
            total = float(w.sum())
            if total > 0:
                mu = float(np.sum(values * w) / total)
                params[j, k] = mu
                params[2 + j, k] = max(float(np.sum((values - mu) ** 2 * w) / total), var_floor)
    missing = np.isnan(params)
    if previous is None:  # the mean and variance of all x
        fill = np.array([[float(np.mean(x))] * 2 + [max(float(np.var(x)), var_floor)] * 2]).T
    else:  # the previous values
        fill = np.array([previous.mu0, previous.mu1, previous.var0, previous.var1])
    params = np.where(missing, np.broadcast_to(fill, params.shape), params)
    return params[0], params[1], params[2], params[3]


def e_step(x, mu0, mu1, var0, var1, k_max: int, opts: ActiveSetEM) -> tuple[np.ndarray, float]:
    """``(masks, objective)``: the least-cost active set of every segment (step 4)."""
    m, q = x.shape
    ks = np.arange(k_max + 1)
    log_binom = np.array([math.lgamma(q + 1) - math.lgamma(k + 1) - math.lgamma(q - k + 1) for k in ks])
    penalty = opts.lambda_active * ks + opts.lambda_comb * log_binom
    masks = np.zeros((m, q), bool)
    objective = 0.0
    col = (slice(None), None, None)
    for a in range(0, m, _ROWS_PER_BLOCK):
        xb = x[a:a + _ROWS_PER_BLOCK][None]  # (1, rows, Q)
        low = _nll(xb, mu0[col], var0[col])  # (k_max + 1, rows, Q)
        high = _nll(xb, mu1[col], var1[col])
        delta = high - low
        cand = np.stack([_smallest(delta[k], k) for k in ks])
        # sum(low) + sum of delta over the set; all inactive and all active summed directly
        # (so that equal parameters give exactly equal costs: the smaller k wins)
        cost = low.sum(axis=2) + np.where(cand, delta, 0.0).sum(axis=2)
        cost[0] = low[0].sum(axis=1)
        if k_max == q:
            cost[q] = high[q].sum(axis=1)
        cost += penalty[:, None]
        inner = (ks > 0) & (ks < q)
        n_act = np.where(inner, ks, 1)[:, None]
        n_inact = np.where(inner, q - ks, 1)[:, None]
        separation = (np.where(cand, xb, 0.0).sum(axis=2) / n_act
                      - np.where(cand, 0.0, xb).sum(axis=2) / n_inact)
        cost = np.where(inner[:, None] & (separation < opts.min_separation), np.inf, cost)
        best = np.argmin(cost, axis=0)  # the first, i.e. the smaller k, on ties
        rows = np.arange(best.size)
        masks[a:a + best.size] = cand[best, rows]
        objective += float(cost[best, rows].sum())
    return masks, objective


def _fit(x, lengths, k_max, start, opts: ActiveSetEM) -> ActiveSetFit:
    masks = start
    fit = None
    previous_objective = None
    for iteration in range(1, opts.max_iter + 1):
        mu0, mu1, var0, var1 = m_step(x, lengths, masks, k_max, opts.var_floor, fit)
        new, objective = e_step(x, mu0, mu1, var0, var1, k_max, opts)
        changed = bool(np.any(new != masks))
        stop = not changed or (previous_objective is not None and abs(previous_objective - objective)
                               / max(abs(previous_objective), 1.0) < opts.tol)
        masks = new
        fit = ActiveSetFit(masks, mu0, mu1, var0, var1, objective, iteration, stop)
        if stop:
            break
        previous_objective = objective
    return fit


def fit_active_sets(x: np.ndarray, lengths: np.ndarray, opts: ActiveSetEM) -> ActiveSetFit:
    """The better of the two starts (step 7) on segment means ``x`` (M, Q) and ``lengths``."""
    q = x.shape[1]
    k_max = q if opts.max_active is None else min(opts.max_active, q)
    fits = [_fit(x, lengths, k_max, start, opts)
            for start in (threshold_start(x, k_max), gap_start(x, k_max, opts.min_separation))]
    return min(fits, key=lambda f: f.objective)


def _merge_equal(bounds: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.r_[True, np.any(masks[1:] != masks[:-1], axis=1)]
    return np.r_[bounds[:-1][keep], bounds[-1]], masks[keep]


def canonical_sets(y: np.ndarray, bounds: np.ndarray, masks: np.ndarray,
                   opts: ActiveSetEM) -> np.ndarray:
    """Step 8 for episodes ``[bounds[i], bounds[i+1])`` with sets ``masks`` (before merging).

    One episode at a time (only those with an active population), with the numpy reductions
    the reference applies to the same slices, so that equal rates stay exactly equal.
    """
    kept = np.zeros_like(masks)
    everyone = np.arange(masks.shape[1])
    for row in np.flatnonzero(masks.any(axis=1)):
        r = np.nanmean(y[bounds[row]:bounds[row + 1]], axis=0)
        active = np.flatnonzero(masks[row])
        inactive = np.setdiff1d(everyone, active)
        ref = r[inactive] if inactive.size else r
        base = float(np.median(ref))
        mad = float(np.median(np.abs(ref - base))) if ref.size > 1 else 0.0
        sigma = max(1.4826 * mad, opts.canonical_noise_floor, 1e-12)
        active = active[np.argsort(r[active])[::-1]]  # strongest first
        rates = r[active]
        keep = (rates >= base + opts.canonical_z * sigma) & (
            (np.arange(active.size) == 0) | (rates >= opts.canonical_similarity * rates[0]))
        active = active[keep]
        if active.size > opts.canonical_max_active:  # the strongest, ordered afresh
            active = active[np.argsort(r[active])[::-1]][:opts.canonical_max_active]
        kept[row, active] = True
    return kept


def bound_means(z: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, lengths)`` of the segments ``[bounds[i], bounds[i+1])``, ``np.nanmean`` of each."""
    x = np.array([np.nanmean(z[a:b], axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return x.reshape(len(bounds) - 1, z.shape[1]), np.diff(bounds).astype(np.float64)


def active_set_segments(trace: np.ndarray, opts: ActiveSetEM) -> tuple[np.ndarray, np.ndarray]:
    """``(bounds, masks)`` of the final segments of a (T, Q) trace, neighbours differing."""
    y = np.asarray(trace, np.float64)
    z, spread = run_scale(y)
    if opts.segmentation == "pelt":
        from sweeps.analysis.active_set_pelt import pelt_bounds

        bounds = pelt_bounds(y, opts.pelt_penalty, opts.pelt_min_size, opts.pelt_jump,
                             opts.pelt_refine, opts.pelt_smooth_width)
        x, lengths = bound_means(z, bounds)
    else:
        x, lengths, bounds = segment_means(z, opts.segment_width)
    if spread < FLAT_RANGE:
        masks = np.zeros(x.shape, bool)
    else:
        fit = fit_active_sets(x, lengths, opts)
        masks = fit.masks
        if opts.merge_after_em:
            from sweeps.analysis.active_set_merge import merge_after_em

            k_max = x.shape[1] if opts.max_active is None else min(opts.max_active, x.shape[1])
            bounds, masks = merge_after_em(z, bounds, masks, (fit.mu0, fit.mu1, fit.var0, fit.var1),
                                           k_max, opts)
    bounds, masks = _merge_equal(bounds, masks)
    if opts.canonical:
        bounds, masks = _merge_equal(bounds, canonical_sets(y, bounds, masks, opts))
    return bounds, masks
