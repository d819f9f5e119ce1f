"""Slow, obviously correct reference implementations of some measurements (plain loops)."""
from __future__ import annotations

import math

import numpy as np

R_MAX = 1.0 - 1e-6  # the clip of |r| before Fisher's z (sweeps.measure.statistics.FISHER_EPS)


def naive_active_clusters(per_cluster, on, off):
    """Cluster by cluster, sample by sample version of ``sweeps.measure.measurements.active_clusters``."""
    per_cluster = np.asarray(per_cluster)
    active = np.zeros(per_cluster.shape, bool)
    for c in range(per_cluster.shape[1]):
        is_on = False
        for t in range(per_cluster.shape[0]):
            if per_cluster[t, c] > on:
                is_on = True
            elif per_cluster[t, c] < off:
                is_on = False
            active[t, c] = is_on
    return active


def naive_cluster_states(active, dt_ms, duration_ms):
    """Loop-by-loop version of ``sweeps.measure.measurements.cluster_states``."""
    active = [tuple(bool(v) for v in row) for row in np.asarray(active)]
    counts = [sum(row) for row in active]
    changes = sum(1 for a, b in zip(active, active[1:], strict=False) if a != b)
    episodes = []  # (cluster, first sample, last sample)
    for t, row in enumerate(active):
        cluster = row.index(True) if sum(row) == 1 else None
        if cluster is None:
            continue
        if episodes and episodes[-1][0] == cluster and episodes[-1][2] == t - 1:
            episodes[-1] = (cluster, episodes[-1][1], t)
        else:
            episodes.append((cluster, t, t))
    complete = [last - first + 1 for _, first, last in episodes
                if first > 0 and last < len(active) - 1]
    n = len(active)
    return {
        "fraction_none_active": sum(c == 0 for c in counts) / n,
        "fraction_one_active": sum(c == 1 for c in counts) / n,
        "fraction_multi_active": sum(c >= 2 for c in counts) / n,
        "mean_active_clusters": sum(counts) / n,
        "switch_rate": changes / (duration_ms / 1000.0),
        "single_dwell_ms": (sum(complete) / len(complete) * dt_ms) if complete else math.nan,
        "single_episodes": len(complete),
    }


def _naive_r(a, b):
    """Pearson r of two non-constant series, clipped at 1 - 1e-6, or None if one is constant."""
    if a.min() == a.max() or b.min() == b.max():
        return None
    return min(max(np.corrcoef(a, b)[0, 1], -R_MAX), R_MAX)


def naive_pair_category_correlations(series, populations, types, clusters):
    """Pair-by-pair Fisher-z means by (type pair, relation), with pair counts.

    ``populations[k]`` is neuron k's population; ``types``/``clusters`` per population.
    Returns ``{("E-E", "within"): (r, n), ...}`` for the categories that have pairs, and a dict
    ``{(pop_a, pop_b): r}`` over ordered population pairs (the cluster-pair matrix).
    """
    series = np.asarray(series, np.float64)
    z_by_category, z_by_block = {}, {}
    k = series.shape[1]
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            r = _naive_r(series[:, i], series[:, j])
            if r is None:
                continue
            pa, pb = int(populations[i]), int(populations[j])
            z_by_block.setdefault((pa, pb), []).append(math.atanh(r))
            if j < i or not types[pa] or not types[pb] or clusters[pa] < 0 or clusters[pb] < 0:
                continue
            ta, tb = sorted((types[pa], types[pb]))  # "E" < "I": labels E-E, E-I, I-I
            relation = "within" if clusters[pa] == clusters[pb] else "across"
            z_by_category.setdefault((f"{ta}-{tb}", relation), []).append(math.atanh(r))
    categories = {key: (math.tanh(sum(z) / len(z)), len(z)) for key, z in z_by_category.items()}
    blocks = {key: math.tanh(sum(z) / len(z)) for key, z in z_by_block.items()}
    return categories, blocks


def naive_variance_split(values, populations, n_populations):
    """Temporal and quenched variance per population from the full matrix ``values[t, i]``."""
    values = np.asarray(values, np.float64)
    temporal, quenched = [], []
    for p in range(n_populations):
        x = values[:, np.asarray(populations) == p]
        temporal.append(float(np.mean([np.var(x[:, i]) for i in range(x.shape[1])])))
        quenched.append(float(np.var([np.mean(x[:, i]) for i in range(x.shape[1])])))
    return np.array(temporal), np.array(quenched)


def naive_long_episodes(active, dt_ms, min_ms):
    """(start, end) sample ranges of single-cluster runs lasting at least ``min_ms``."""
    active = [tuple(bool(v) for v in row) for row in np.asarray(active)]
    runs = []  # [cluster, start, end)
    for t, row in enumerate(active):
        cluster = row.index(True) if sum(row) == 1 else None
        if cluster is not None and runs and runs[-1][0] == cluster and runs[-1][2] == t:
            runs[-1][2] = t + 1
        elif cluster is not None:
            runs.append([cluster, t, t + 1])
    return [(a, b) for _, a, b in runs if (b - a) * dt_ms >= min_ms - 1e-9]


def naive_block_correlations(series, groups, n_groups):
    """Pair-by-pair ``sweeps.measure.statistics.block_correlations``: (z_sum, count) per block.

    Float64 ``np.corrcoef`` of every ordered pair ``i != j``; pairs with a constant series left out.
    """
    series = np.asarray(series, np.float64)
    z_sum = np.zeros((n_groups, n_groups))
    count = np.zeros((n_groups, n_groups), np.int64)
    for i in range(series.shape[1]):
        for j in range(series.shape[1]):
            r = None if i == j else _naive_r(series[:, i], series[:, j])
            if r is not None:
                z_sum[groups[i], groups[j]] += math.atanh(r)
                count[groups[i], groups[j]] += 1
    return z_sum, count


def naive_binary_r(a, b):
    """Pearson r of two non-constant 0/1 series from integer counts (exact up to two roundings)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    t, na, nb, both = len(a), int(a.sum()), int(b.sum()), int((a & b).sum())
    return (t * both - na * nb) / math.sqrt((na * (t - na)) * (nb * (t - nb)))
