"""The paper's state-inference variants written out naively: PELT segments before the EM and the
merging after it (flickers, weak boundaries).

Reference: ``schmitfe/EI-Clustering``, ``analysis/active_set.py`` (``detect_population_states``
with ``segmentation="pelt"``, ``make_pelt_features``, ``get_segments_pelt``,
``refine_changepoints_l2``, ``merge_active_set_segments``, ``remove_short_aba_flickers``,
``merge_unsupported_boundaries``, ``best_mask_for_segment_mean``), with the defaults of
``scripts/plot_figure3_dwell_times.py``. Plain Python, no project code:

- features: per population the 5-95 % range, the noise 1.4826 MAD(diff) / sqrt 2, signal =
  max(range - 2 noise, 0), weight = signal^2 / (signal^2 + noise^2 + 1e-12); features = (y -
  median) / (q95 - q05) (all entries) * sqrt(weight);
- change points: optimal partitioning (dynamic programming over all admissible last change
  points, no pruning) of sum over segments of the squared deviations from the segment mean plus
  ``penalty`` per change point; change points at multiples of ``jump``, segments >= ``min_size``;
  ties: the earliest last change point;
- refinement: each change point in turn moves within ``jump`` to the position of least
  cost(left, b) + cost(b, right) (the first on ties);
- merging: segment cost = length * (sum nll of its mean under its set + penalty); flickers
  A-B-A of <= min_duration samples and <= max_hamming differences absorbed if cost(with A) -
  cost(with B) <= beta, left to right, repeated until nothing changes; then at most max_iter
  times the boundary of least gain = length * best cost of the joined mean - the two costs is
  removed if the gain < beta.

Sums over populations are plain Python sums in index order (for Q < 8 the same value as numpy's).
"""
from __future__ import annotations

import math
import statistics

import numpy as np

from tests.reference import active_set_naive as base


def features(y, smooth_width=1):
    t_len, q = len(y), len(y[0])
    cols = [[row[c] for row in y] for c in range(q)]
    if 1 < smooth_width <= t_len:  # box average, centred as np.convolve(mode="same")
        w = smooth_width
        half = (w - 1) // 2 if w % 2 else w // 2
        cols = [[sum(col[j] for j in range(i - half, i - half + w) if 0 <= j < t_len) / w
                 for i in range(t_len)] for col in cols]
    weights = []
    for col in cols:
        spread = base.quantile(col, 0.95) - base.quantile(col, 0.05)
        if t_len > 1:
            d = [col[i + 1] - col[i] for i in range(t_len - 1)]
            centre = statistics.median(d)
            noise = 1.4826 * statistics.median([abs(v - centre) for v in d]) / math.sqrt(2.0)
        else:
            noise = 0.0
        signal = max(spread - 2.0 * noise, 0.0)
        w = signal ** 2 / (signal ** 2 + noise ** 2 + 1e-12)
        weights.append(min(max(w, 0.0), 1.0) if math.isfinite(w) else 0.0)
    flat = [v for col in cols for v in col]
    scale = base.quantile(flat, 0.95) - base.quantile(flat, 0.05)
    if not math.isfinite(scale) or scale <= 1e-12:
        scale = 1.0
    med = base.quantile(flat, 0.5)
    return [[(cols[c][i] - med) / scale * math.sqrt(weights[c]) for c in range(q)] for i in range(t_len)]


def sq_cost(f, a, b):
    total = 0.0
    for c in range(len(f[0])):
        vals = [f[i][c] for i in range(a, b)]
        mean = sum(vals) / len(vals)
        total += sum((v - mean) ** 2 for v in vals)
    return total


def pelt(f, penalty, min_size, jump):
    """Interior change points of the optimal partition (module docstring)."""
    n = len(f)
    ends = [k for k in range(0, n, jump) if k >= min_size] + [n]
    best = {0: (0.0, [])}
    for s in ends:
        options = [(best[t][0] + sq_cost(f, t, s) + penalty, t) for t in [0] + ends
                   if t in best and t < s and t <= s - min_size]
        cost, t = min(options, key=lambda o: (o[0], o[1]))
        best[s] = (cost, best[t][1] + ([t] if t > 0 else []))
    return best[n][1]


def refine(f, bkps, radius, min_size):
    out = list(bkps) + [len(f)]
    for i in range(len(out) - 1):
        left = out[i - 1] if i else 0
        right = out[i + 1]
        lo, hi = max(left + min_size, out[i] - radius), min(right - min_size, out[i] + radius)
        if hi >= lo:
            costs = [sq_cost(f, left, b) + sq_cost(f, b, right) for b in range(lo, hi + 1)]
            out[i] = lo + costs.index(min(costs))
    return out[:-1]


def pelt_bounds(y, penalty=10.0, min_size=1, jump=2, refine_on=True, smooth_width=1):
    if len(y) < max(min_size, 2):  # no partition possible: one segment
        return [0, len(y)]
    f = features(y, smooth_width)
    bkps = pelt(f, penalty, min_size, jump)
    if refine_on and jump > 1 and bkps:
        bkps = refine(f, bkps, jump, min_size)
    return [0] + bkps + [len(y)]


def _penalty(q, k, o):
    return o["lambda_active"] * k + o["lambda_comb"] * (
        math.lgamma(q + 1) - math.lgamma(k + 1) - math.lgamma(q - k + 1))


def _mean(z, a, b):
    return list(np.nanmean(np.array(z[a:b]), axis=0))


def seg_cost(z, a, b, mask, p, o):
    x, k = _mean(z, a, b), sum(mask)
    per = sum(base.nll(v, p["mu1"][k], p["var1"][k]) if m else base.nll(v, p["mu0"][k], p["var0"][k])
              for v, m in zip(x, mask, strict=True))
    return (b - a) * (per + _penalty(len(mask), k, o))


def best_set(x, p, k_max, o):
    q = len(x)
    best, best_cost = [False] * q, math.inf
    for k in range(min(k_max, q) + 1):
        low = [base.nll(v, p["mu0"][k], p["var0"][k]) for v in x]
        high = [base.nll(v, p["mu1"][k], p["var1"][k]) for v in x]
        active = base.smallest_k([h - lo for h, lo in zip(high, low, strict=True)], k)
        if 0 < k < q:
            on = [x[i] for i in range(q) if i in active]
            off = [x[i] for i in range(q) if i not in active]
            if sum(on) / len(on) - sum(off) / len(off) < o["min_separation"]:
                continue
            cost = sum(low) + sum(high[i] - low[i] for i in range(q) if i in active)
        else:
            cost = sum(high) if k == q and k > 0 else sum(low)
        cost += _penalty(q, k, o)
        if cost < best_cost:
            best, best_cost = [i in active for i in range(q)], cost
    return best, best_cost


def merge_after_em(z, segments, p, k_max, o):
    """``segments`` [(start, stop, mask)] after the merging (module docstring)."""
    segs = base.merge(segments)
    changed = True
    while changed:
        changed = False
        out, i = [], 0
        while i < len(segs):
            if 0 < i < len(segs) - 1:
                (_, _, prev), (a, b, cur), (_, stop, nxt) = segs[i - 1], segs[i], segs[i + 1]
                if (prev == nxt and b - a <= o["min_flicker_duration"]
                        and sum(u != v for u, v in zip(cur, prev, strict=True)) <= o["flicker_max_hamming"]
                        and seg_cost(z, a, b, prev, p, o) - seg_cost(z, a, b, cur, p, o) <= o["beta_merge"]):
                    out[-1] = (out[-1][0], stop, prev)
                    i += 2
                    changed = True
                    continue
            out.append(segs[i])
            i += 1
        segs = out
    for _ in range(o["merge_max_iter"]):
        if len(segs) <= 1:
            break
        gains = []
        for i in range(len(segs) - 1):
            (a, m, ma), (_, b, mb) = segs[i], segs[i + 1]
            mask, per = best_set(_mean(z, a, b), p, k_max, o)
            gains.append(((b - a) * per - seg_cost(z, a, m, ma, p, o) - seg_cost(z, m, b, mb, p, o), i, mask))
        gain, i, mask = min(gains, key=lambda g: (g[0], g[1]))
        if gain >= o["beta_merge"]:
            break
        segs = base.merge(segs[:i] + [(segs[i][0], segs[i + 1][1], mask)] + segs[i + 2:])
    return base.merge(segs)


VARIANT_DEFAULTS = dict(segmentation="fixed", pelt_penalty=10.0, pelt_min_size=1, pelt_jump=2,
                        pelt_refine=True, pelt_smooth_width=1, merge_after_em=False, beta_merge=0.0,
                        min_flicker_duration=0, flicker_max_hamming=2, merge_max_iter=10)


def infer(y, **options):
    """As ``active_set_naive.infer`` with the variants' options (module docstring)."""
    o = {**base.DEFAULTS, **VARIANT_DEFAULTS, **options}
    t_len, q = len(y), len(y[0])
    flat = [v for row in y for v in row]
    spread = base.quantile(flat, 0.95) - base.quantile(flat, 0.05)
    scale = spread if spread >= 1e-12 else 1.0
    median = base.quantile(flat, 0.5)
    z = [[(v - median) / scale for v in row] for row in y]
    if o["segmentation"] == "pelt":
        bounds = pelt_bounds(y, o["pelt_penalty"], o["pelt_min_size"], o["pelt_jump"],
                             o["pelt_refine"], o["pelt_smooth_width"])
    else:
        bounds = list(range(0, t_len, o["width"])) + [t_len]
    pairs = list(zip(bounds[:-1], bounds[1:], strict=True))
    x = [_mean(z, a, b) for a, b in pairs]
    lengths = [float(b - a) for a, b in pairs]
    k_max = q if o["max_active"] is None else min(o["max_active"], q)
    if spread < 1e-12:
        segments = [(a, b, [False] * q) for a, b in pairs]
    else:
        fits = [base.fit(x, lengths, k_max, start, o)
                for start in (base.threshold_start(x, k_max), base.gap_start(x, k_max, o["min_separation"]))]
        masks, _, params = min(fits, key=lambda f: f[1])
        segments = [(a, b, m) for (a, b), m in zip(pairs, masks, strict=True)]
        if o["merge_after_em"]:
            segments = merge_after_em(z, segments, params, k_max, o)
    segments = base.merge(segments)
    if o["canonical"]:
        segments = base.merge([(a, b, base.canonical(y, a, b, m, o)) for a, b, m in segments])
    return segments
