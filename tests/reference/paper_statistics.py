"""The reference paper's statistics, written out naively from their formulas (no project code).

Reference: ``schmitfe/EI-Clustering``.

- ``fisher_mean``: ``Figure4.py`` ``_fisher_mean``: mean of ``artanh r`` over the finite values,
  ``|r|`` clipped at ``1 - 1e-6``.
- ``network_mean``: ``Figure4.py`` ``_merge_init_summaries``: the mean of a network's finite
  init values (z).
- ``series_stats``: ``Figure4.py`` ``_series_stats_from_values``: over the finite network
  values (z): ``tanh(mean)``, and the percentile interval of ``tanh`` of the means of
  ``n_boot`` resamples (indices ``rng.integers(0, n, (n_boot, n))``).
- ``cluster_pair_stats``: ``pipelines/figure_helpers.py`` ``_cluster_pair_correlation_stats``:
  plain mean and median of the Pearson r of the pairs of every block of populations (distinct
  neurons; constant series left out), here over every pair instead of a random sample.
"""
from __future__ import annotations

import math

import numpy as np

FISHER_EPS = 1e-6


def fisher_mean(values) -> float:
    finite = [float(v) for v in np.ravel(values) if math.isfinite(v)]
    if not finite:
        return math.nan
    total = 0.0
    for v in finite:
        v = min(max(v, -1.0 + FISHER_EPS), 1.0 - FISHER_EPS)
        total += 0.5 * math.log((1 + v) / (1 - v))
    return total / len(finite)


def network_mean(init_values) -> float:
    finite = [float(v) for v in init_values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def series_stats(network_values, n_boot: int, rng: np.random.Generator, ci: float = 0.95,
                 transform=math.tanh) -> tuple[float, float, float]:
    """(mean, lower, upper) of the network values (z for correlations, ``transform`` back)."""
    arr = np.array([v for v in network_values if math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan, math.nan
    mean = transform(float(sum(arr) / arr.size))
    if arr.size == 1:
        return mean, mean, mean
    indices = rng.integers(0, arr.size, size=(n_boot, arr.size))
    boot = [transform(float(sum(arr[row]) / arr.size)) for row in indices]
    lower, upper = np.percentile(boot, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2])
    return mean, float(lower), float(upper)


def pearson(x, y) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def cluster_pair_stats(series, groups, n_groups):
    """(mean, median) of r per block of groups, NaN where a block has no pair."""
    series = np.asarray(series, float)
    columns = [list(series[:, k]) for k in range(series.shape[1])]
    constant = [max(c) == min(c) for c in columns]
    mean = np.full((n_groups, n_groups), np.nan)
    median = np.full((n_groups, n_groups), np.nan)
    for a in range(n_groups):
        for b in range(n_groups):
            values = []
            for i in range(len(columns)):
                for j in range(len(columns)):
                    if groups[i] != a or groups[j] != b or i == j or constant[i] or constant[j]:
                        continue
                    if a == b and j < i:
                        continue  # each unordered pair once inside a population
                    values.append(pearson(columns[i], columns[j]))
            if values:
                mean[a, b] = sum(values) / len(values)
                median[a, b] = float(np.median(values))
    return mean, median


def single_cluster_episodes(active, dt_ms, min_ms, exclude_edges=True):
    """``Figure4_HighState.py`` ``_accepted_segments``: segments with exactly one active
    cluster (K == 1) lasting at least ``min_ms``, the first and last segment of the window left
    out; ``[(start, end, cluster)]``."""
    rows = [tuple(int(v) for v in row) for row in np.asarray(active, bool)]
    segments = []  # [start, end, row]
    for t, row in enumerate(rows):
        if segments and segments[-1][2] == row:
            segments[-1][1] = t + 1
        else:
            segments.append([t, t + 1, row])
    accepted = []
    for k, (start, end, row) in enumerate(segments):
        if sum(row) != 1 or (end - start) * dt_ms < min_ms - 1e-9:
            continue
        if exclude_edges and (k == 0 or k == len(segments) - 1):
            continue
        accepted.append((start, end, row.index(1)))
    return accepted


def variance_decomposition(columns):
    """``analysis/high_state.py`` ``variance_decomposition``: (temporal, quenched)."""
    means = [sum(c) / len(c) for c in columns]
    variances = [sum((v - m) ** 2 for v in c) / len(c) for c, m in zip(columns, means)]
    grand = sum(means) / len(means)
    return sum(variances) / len(variances), sum((m - grand) ** 2 for m in means) / len(means)


def active_episode_stats(series, groups, e_population_of_cluster, episodes):
    """``analysis/high_state.py`` ``episode_statistics`` over all sampled E neurons: per episode
    the Fisher mean of r of the pairs inside the active E population (``active_within``) and of
    an active E neuron with another E population's (``active_across``), and the variance split
    of the active E population against the mean over the inactive ones; means over episodes
    (z for the correlations, then tanh)."""
    series = np.asarray(series, float)
    e_pops = set(e_population_of_cluster.values())
    totals = {key: [] for key in ("within", "across", "t_act", "t_inact", "q_act", "q_inact")}
    for start, end, cluster in episodes:
        active = e_population_of_cluster[cluster]
        cols = {k: list(series[start:end, k]) for k in range(series.shape[1])}
        ok = {k: max(c) != min(c) for k, c in cols.items()}
        inside = [k for k in cols if groups[k] == active and ok[k]]
        others = [k for k in cols if groups[k] in e_pops and groups[k] != active and ok[k]]
        within = [pearson(cols[i], cols[j]) for a, i in enumerate(inside) for j in inside[a + 1:]]
        across = [pearson(cols[i], cols[j]) for i in inside for j in others]
        for key, values in (("within", within), ("across", across)):
            if values:
                totals[key].append(fisher_mean(values))
        split = {}
        for pop in e_pops:
            members = [cols[k] for k in cols if groups[k] == pop]
            if members:
                split[pop] = variance_decomposition(members)
        inactive = [split[p] for p in split if p != active]
        totals["t_act"].append(split[active][0])
        totals["q_act"].append(split[active][1])
        if inactive:
            totals["t_inact"].append(sum(v[0] for v in inactive) / len(inactive))
            totals["q_inact"].append(sum(v[1] for v in inactive) / len(inactive))

    def mean(values):
        return sum(values) / len(values) if values else math.nan

    return {"corr_within": math.tanh(mean(totals["within"])), "corr_across": math.tanh(mean(totals["across"])),
            "var_temporal_active": mean(totals["t_act"]), "var_temporal_inactive": mean(totals["t_inact"]),
            "var_quenched_active": mean(totals["q_act"]), "var_quenched_inactive": mean(totals["q_inact"])}
