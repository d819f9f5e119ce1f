"""Slow, obviously correct reference implementations of some measurements (plain loops)."""
from __future__ import annotations

import math

import numpy as np

R_MAX = 1.0 - 1e-9  # the cap of |r| documented in sweeps.measurements.pair_correlations


def naive_active_clusters(per_cluster, on, off):
    """Cluster by cluster, sample by sample version of ``sweeps.measurements.active_clusters``."""
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
    """Loop-by-loop version of ``sweeps.measurements.cluster_states``."""
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


def naive_pair_correlations(series, clusters):
    """Pair-by-pair version of ``sweeps.measurements.pair_correlations`` (np.corrcoef)."""
    series = np.asarray(series, np.float64)
    within, across = [], []
    k = series.shape[1]
    for i in range(k):
        for j in range(i + 1, k):
            a, b = series[:, i], series[:, j]
            if clusters[i] < 0 or clusters[j] < 0 or a.min() == a.max() or b.min() == b.max():
                continue
            r = min(max(np.corrcoef(a, b)[0, 1], -R_MAX), R_MAX)
            (within if clusters[i] == clusters[j] else across).append(math.atanh(r))
    return tuple(math.tanh(sum(z) / len(z)) if z else math.nan for z in (within, across))
