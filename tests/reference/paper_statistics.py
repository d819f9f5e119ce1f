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
