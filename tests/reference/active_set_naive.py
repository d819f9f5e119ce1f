"""The paper's state inference and dwell times, written out naively from their formulas.

Reference: ``schmitfe/EI-Clustering``, ``analysis/active_set.py`` (``detect_population_states``
with ``segmentation="fixed"``, ``active_set_em_multi_init``) and ``analysis/episode_inference.py``
(``canonical_state_key``, ``episode_rows``), with the defaults of
``scripts/plot_figure3_dwell_times.py``. Plain Python loops over lists, no project code and no
vectorisation, except where the outcome hinges on rounding or ties and the reference's numpy
calls decide it: ties among equal values as ``np.argpartition`` (the k smallest) and
``np.argsort`` reversed ("strongest first") resolve them; means of segments and episodes by
``np.nanmean`` of their rows and the M-step sums by ``np.sum`` over the (segments, Q) block of a
k (whether two parameter sets are exactly equal, so that k = 0 and k = Q tie and the smaller k
wins, depends on how they are summed); among equal costs the smaller k wins.

- run scaling: ``z = (y - median) / (q95 - q05)`` over all entries (flat below 1e-12);
- one-sample (``width``) segments, means ``x`` and lengths ``L``;
- per segment and k: the k entries of least ``nll1 - nll0`` active, admissible for 0 < k < Q
  only if mean(active x) - mean(inactive x) >= min_separation; cost ``sum nll + lambda_active k
  + lambda_comb log binom(Q, k)``; least cost wins;
- M-step per k: L-weighted mean and variance of the active / inactive entries (floor
  var_floor), missing k: previous values, first step the mean and variance of all x;
- stop when no set changes or (from the second iteration) the objective changes by less than
  ``tol max(|prev|, 1)``; starts: threshold at the mid-quartile and the largest gap;
- canonical sets: per episode, rates r (raw trace means), baseline = median of the inactive,
  sigma = max(1.4826 MAD, noise_floor, 1e-12); keep active r >= baseline + z sigma and (the
  strongest or r >= similarity * strongest), at most kmax of the highest r;
- dwell summary: segment lengths times dt, first and last left out if more than two.
"""
from __future__ import annotations

import math
import statistics

import numpy as np


def quantile(values, p):
    s = sorted(values)
    pos = p * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def nll(x, mu, var):
    return 0.5 * ((x - mu) ** 2 / var + math.log(var))


def smallest_k(values, k):
    """Indices of the k smallest values (ties as np.argpartition)."""
    if k == 0:
        return set()
    if k == len(values):
        return set(range(k))
    return {int(i) for i in np.argpartition(np.array(values), k)[:k]}


def strongest_first(indices, r):
    """``indices`` ordered by decreasing ``r`` (ties as np.argsort reversed)."""
    return [indices[int(j)] for j in np.argsort(np.array([r[i] for i in indices]))[::-1]]


def threshold_start(x, k_max):
    flat = [v for row in x for v in row]
    theta = 0.5 * (quantile(flat, 0.25) + quantile(flat, 0.75))
    out = []
    for row in x:
        active = [v > theta for v in row]
        if sum(active) > k_max:
            keep = strongest_first(list(range(len(row))), row)[:k_max]
            active = [i in keep for i in range(len(row))]
        out.append(active)
    return out


def gap_start(x, k_max, min_gap):
    out = []
    for row in x:
        q = len(row)
        order = sorted(range(q), key=lambda i: (-row[i], i))
        best_k, best_gap = 0, min_gap
        for k in range(1, min(k_max, q - 1) + 1):
            gap = row[order[k - 1]] - row[order[k]]
            if gap > best_gap:
                best_k, best_gap = k, gap
        top = set(order[:best_k])
        out.append([i in top for i in range(q)])
    return out


def m_step(x, lengths, masks, k_max, var_floor, previous):
    g_mu = float(np.mean(np.array(x)))
    g_var = max(float(np.var(np.array(x))), var_floor)
    params = {"mu0": [], "mu1": [], "var0": [], "var1": []}
    for k in range(k_max + 1):
        rows = [i for i, mask in enumerate(masks) if sum(mask) == k]
        for state, mu_key, var_key in ((False, "mu0", "var0"), (True, "mu1", "var1")):
            # the (rows, Q) block of segments with k active, weights L where the state holds
            values = np.array([x[i] for i in rows]).reshape(len(rows), len(x[0]))
            w = np.array([[lengths[i] if a == state else 0.0 for a in masks[i]] for i in rows])
            w = w.reshape(values.shape)
            total = float(w.sum())
            if total > 0:
                mu = float(np.sum(values * w) / total)
                var = max(float(np.sum((values - mu) ** 2 * w) / total), var_floor)
            elif previous is not None:
                mu, var = previous[mu_key][k], previous[var_key][k]
            else:
                mu, var = g_mu, g_var
            params[mu_key].append(mu)
            params[var_key].append(var)
    return params


def e_step(x, params, k_max, lambda_active, lambda_comb, min_separation):
    masks, objective = [], 0.0
    for row in x:
        q = len(row)
        best_cost, best_mask = math.inf, None
        for k in range(k_max + 1):
            low = [nll(v, params["mu0"][k], params["var0"][k]) for v in row]
            high = [nll(v, params["mu1"][k], params["var1"][k]) for v in row]
            active = smallest_k([h - lo for h, lo in zip(high, low, strict=True)], k)
            if 0 < k < q:
                mean_on = sum(row[i] for i in active) / k
                mean_off = sum(row[i] for i in range(q) if i not in active) / (q - k)
                if mean_on - mean_off < min_separation:
                    continue
            cost = sum(high[i] if i in active else low[i] for i in range(q))
            log_binom = math.lgamma(q + 1) - math.lgamma(k + 1) - math.lgamma(q - k + 1)
            cost += lambda_active * k + lambda_comb * log_binom
            if cost < best_cost:
                best_cost, best_mask = cost, [i in active for i in range(q)]
        masks.append(best_mask)
        objective += best_cost
    return masks, objective


def fit(x, lengths, k_max, start, o):
    masks, params, previous_objective = start, None, None
    for _ in range(o["max_iter"]):
        params = m_step(x, lengths, masks, k_max, o["var_floor"], params)
        new, objective = e_step(x, params, k_max, o["lambda_active"], o["lambda_comb"],
                                o["min_separation"])
        changed = new != masks
        masks = new
        if not changed:
            break
        if previous_objective is not None:
            if abs(previous_objective - objective) / max(abs(previous_objective), 1.0) < o["tol"]:
                break
        previous_objective = objective
    return masks, objective, params


DEFAULTS = dict(max_active=None, width=1, max_iter=30, tol=1e-6, lambda_active=0.0,
                lambda_comb=0.1, min_separation=0.05, var_floor=1e-4, canonical=True,
                canonical_kmax=2, z=3.0, similarity=0.5, noise_floor=1e-6)


def merge(segments):
    """[(start, stop, mask)] with equal neighbours joined."""
    out = []
    for start, stop, mask in segments:
        if out and out[-1][2] == mask:
            out[-1] = (out[-1][0], stop, mask)
        else:
            out.append((start, stop, mask))
    return out


def canonical(y, start, stop, mask, o):
    q = len(mask)
    r = list(np.nanmean(np.array(y[start:stop]), axis=0))
    inactive = [i for i in range(q) if not mask[i]] or list(range(q))
    base = statistics.median([r[i] for i in inactive])
    mad = statistics.median([abs(r[i] - base) for i in inactive]) if len(inactive) > 1 else 0.0
    sigma = max(1.4826 * mad, o["noise_floor"], 1e-12)
    active = strongest_first([i for i in range(q) if mask[i]], r)
    kept = [i for rank, i in enumerate(active)
            if r[i] >= base + o["z"] * sigma and (rank == 0 or r[i] >= o["similarity"] * r[active[0]])]
    if len(kept) > o["canonical_kmax"]:
        kept = strongest_first(kept, r)[:o["canonical_kmax"]]
    return [i in kept for i in range(q)]


def infer(y, **options):
    """Segments ``[(start, stop, mask)]`` of a trace ``y`` (list of rows), equal neighbours merged."""
    o = {**DEFAULTS, **options}
    t_len, q = len(y), len(y[0])
    flat = [v for row in y for v in row]
    spread = quantile(flat, 0.95) - quantile(flat, 0.05)
    scale = spread if spread >= 1e-12 else 1.0
    median = quantile(flat, 0.5)
    z = [[(v - median) / scale for v in row] for row in y]
    bounds = list(range(0, t_len, o["width"])) + [t_len]
    x = [list(np.nanmean(np.array(z[a:b]), axis=0))
         for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    lengths = [float(b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    k_max = q if o["max_active"] is None else min(o["max_active"], q)
    if spread < 1e-12:
        masks = [[False] * q for _ in x]
    else:
        fits = [fit(x, lengths, k_max, start, o)
                for start in (threshold_start(x, k_max), gap_start(x, k_max, o["min_separation"]))]
        masks = min(fits, key=lambda f: f[1])[0]
    segments = merge([(a, b, m) for a, b, m in zip(bounds[:-1], bounds[1:], masks, strict=True)])
    if o["canonical"]:
        segments = merge([(a, b, canonical(y, a, b, m, o)) for a, b, m in segments])
    return segments


def dwell_summary(segments, dt, exclude_edges=True):
    """(n_episodes, n_dwells, mean, sd with ddof 1, median) of the dwell times."""
    dwell = [(b - a) * dt for a, b, _ in segments]
    if exclude_edges and len(dwell) > 2:
        dwell = dwell[1:-1]
    n = len(dwell)
    mean = sum(dwell) / n if n else math.nan
    sd = math.sqrt(sum((d - mean) ** 2 for d in dwell) / (n - 1)) if n > 1 else (0.0 if n else math.nan)
    return len(segments), n, mean, sd, statistics.median(dwell) if n else math.nan
