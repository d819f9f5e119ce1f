"""Statistics of recorded neurons: pair correlations by relation, variance split, episodes.

Pure numpy on arrays of one simulated network. Conventions follow the reference analysis of
the clustered E/I model: Pearson correlations of a pair's time series, averaged in Fisher-z
space (``z = artanh r`` with ``|r|`` clipped at ``1 - 1e-6``; the average is reported as
``tanh(mean z)``); a pair is *within* when both neurons belong to the same cluster (an E
and an I population of one cluster included) and *across* otherwise; neurons outside any
cluster and series that are constant over the window are left out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Clip of ``|r|`` before ``artanh`` (as in the reference analysis: FISHER_EPS = 1e-6).
FISHER_EPS = 1e-6
#: Lengths assumed for chunk sizing before a layout is known.
#: Cluster index of a population in no cluster (``population_cluster``, ``Recording.population_clusters``).
NO_CLUSTER = -1
RELATIONS = ("within", "across")


def fisher_z(r: np.ndarray) -> np.ndarray:
    """``artanh(r)`` with ``|r|`` clipped at ``1 - FISHER_EPS``."""
    return np.arctanh(np.clip(r, -1.0 + FISHER_EPS, 1.0 - FISHER_EPS))


def pair_types(cell_types) -> tuple[tuple[str, str], ...]:
    """Unordered cell-type pairs of a model: same type first, then mixed (``E-E, I-I, E-I``).

    Types are taken in order of first appearance; empty or None types are left out.
    """
    kinds = list(dict.fromkeys(t for t in cell_types if t))
    same = [(a, a) for a in kinds]
    mixed = [(a, b) for i, a in enumerate(kinds) for b in kinds[i + 1:]]
    return tuple(same + mixed)


def pair_type_labels(cell_types) -> tuple[str, ...]:
    """Labels of :func:`pair_types`, e.g. ``("E-E", "I-I", "E-I")``."""
    return tuple(f"{a}-{b}" for a, b in pair_types(cell_types))


def category_of_blocks(cell_types, clusters) -> np.ndarray:
    """Category of every population pair, shape (P, P), ``-1`` for none.

    Category ``k * 2 + r`` for pair type ``k`` of :func:`pair_types` and relation ``r``
    (0 within, 1 across); populations without a type or cluster (``-1``) belong to none.
    """
    types = list(pair_types(cell_types))
    n = len(cell_types)
    out = np.full((n, n), NO_CLUSTER, np.int64)
    for a in range(n):
        for b in range(n):
            if not cell_types[a] or not cell_types[b] or clusters[a] < 0 or clusters[b] < 0:
                continue
            key = (cell_types[a], cell_types[b])
            k = types.index(key) if key in types else types.index(key[::-1])
            out[a, b] = 2 * k + (0 if clusters[a] == clusters[b] else 1)
    return out


@dataclass(frozen=True)
class BlockCorrelations:
    """Fisher-z sums and pair counts per block of groups (ordered pairs, ``i != j``).

    Every unordered pair is counted twice over the whole matrix (as ``(i, j)`` and
    ``(j, i)``), so means are unaffected and pair counts are half the ordered counts.
    """

    z_sum: np.ndarray  # (G, G) float64
    count: np.ndarray  # (G, G) int64, ordered pairs


def block_correlations(series: np.ndarray, groups: np.ndarray, n_groups: int) -> BlockCorrelations:
    """Sum of ``artanh r_ij`` and number of pairs for every block of groups.

    Parameters
    ----------
    series : ndarray, shape (T, K)
        One time series per sampled neuron.
    groups : ndarray of int, shape (K,)
        Group (population) of each neuron, in ``0..n_groups-1``.
    n_groups : int
        Number of groups ``G``.
    """
    groups = np.asarray(groups, np.int64)
    order = np.argsort(groups, kind="stable")
    groups = groups[order]
    x = np.asarray(series, np.float64)[:, order]
    x = x - x.mean(axis=0)
    norm = np.sqrt(np.einsum("tk,tk->k", x, x))
    valid = norm > 1e-12 * max(1.0, float(np.abs(series).max(initial=0.0))) * np.sqrt(len(x))
    x[:, valid] /= norm[valid]
    x[:, ~valid] = 0.0  # r = 0 with every other series: artanh 0 adds nothing
    n_valid = np.bincount(groups[valid], minlength=n_groups)
    count = np.outer(n_valid, n_valid) - np.diag(n_valid)
    z_sum = np.zeros((n_groups, n_groups))
    present = np.flatnonzero(np.bincount(groups, minlength=n_groups))
    bounds = np.searchsorted(groups, np.r_[present, n_groups])
    rows = np.ascontiguousarray(x.T)  # one row per neuron: each group a contiguous block
    # r of each group's rows against its own and every later group's rows, one matrix product
    # per group: the K x K matrix is never held and artanh runs on half of it
    for i, a in enumerate(present):
        lo, hi = bounds[i], bounds[i + 1]
        z = fisher_z(rows[lo:hi] @ rows[lo:].T)
        z[:, : hi - lo][np.diag_indices(hi - lo)] = 0.0
        sums = np.add.reduceat(z.sum(axis=0), bounds[i:-1] - lo)
        z_sum[a, present[i:]] = sums
        z_sum[present[i:], a] = sums
    return BlockCorrelations(z_sum, count)


def category_means(blocks: BlockCorrelations, category: np.ndarray, n_categories: int):
    """Fisher-z mean correlation and number of (unordered) pairs per category.

    Returns
    -------
    (r, pairs) : ndarray of float64 and int64, shape (n_categories,)
        ``r = tanh(mean z)`` over the pairs of the category (NaN without pairs).
    """
    z_sum = np.zeros(n_categories)
    count = np.zeros(n_categories, np.int64)
    keep = category >= 0
    np.add.at(z_sum, category[keep], blocks.z_sum[keep])
    np.add.at(count, category[keep], blocks.count[keep])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.tanh(z_sum / count)
    return r, count // 2


def block_means(blocks: BlockCorrelations) -> np.ndarray:
    """``tanh(mean z)`` per block of groups (NaN for blocks without pairs)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.tanh(blocks.z_sum / blocks.count)


def block_plain_stats(series: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain mean and median of the Pearson ``r`` of the pairs of every block of groups.

    The reference's cluster-pair matrices (``_cluster_pair_correlation_stats``: ``np.mean`` and
    ``np.median`` of r, no Fisher z), over every pair of distinct sampled neurons (constant
    series left out). Shape (G, G) each, symmetric, NaN where a block has no pair.
    """
    groups = np.asarray(groups, np.int64)
    x = np.asarray(series, np.float64)
    x = x - x.mean(axis=0)
    norm = np.sqrt(np.einsum("tk,tk->k", x, x))
    valid = norm > 1e-12 * max(1.0, float(np.abs(series).max(initial=0.0))) * np.sqrt(len(x))
    rows = [np.ascontiguousarray((x[:, (groups == g) & valid] / norm[(groups == g) & valid]).T)
            for g in range(n_groups)]
    mean = np.full((n_groups, n_groups), np.nan)
    median = np.full((n_groups, n_groups), np.nan)
    for a in range(n_groups):
        if not len(rows[a]):
            continue
        for b in range(a, n_groups):
            r = rows[a] @ rows[b].T
            values = r[np.triu_indices(len(r), 1)] if a == b else r.ravel()
            if values.size:
                mean[a, b] = mean[b, a] = values.mean()
                median[a, b] = median[b, a] = np.median(values)
    return mean, median


def variance_split(mean: np.ndarray, variance: np.ndarray, groups: np.ndarray, n_groups: int):
    """Temporal and quenched variance per group from per-neuron time moments.

    ``temporal_g = mean_{i in g} Var_t x_i`` and ``quenched_g = Var_{i in g} (mean_t x_i)``;
    they add up to the variance of ``x`` over time and neurons of the group. NaN for an
    empty group.
    """
    mean = np.asarray(mean, np.float64)
    size = np.bincount(groups, minlength=n_groups).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        temporal = np.bincount(groups, np.asarray(variance, np.float64), n_groups) / size
        group_mean = np.bincount(groups, mean, n_groups) / size
        quenched = np.bincount(groups, (mean - group_mean[groups]) ** 2, n_groups) / size
    return temporal, quenched


@dataclass(frozen=True)
class Runs:
    """Maximal runs of one label over samples: ``[start, end)`` sample ranges and labels."""

    start: np.ndarray
    end: np.ndarray
    label: np.ndarray


def single_cluster_runs(active: np.ndarray) -> Runs:
    """Runs of samples in which exactly one and the same cluster is active.

    ``active`` has shape (T, C); runs touching the first or last sample are included.
    """
    active = np.asarray(active, bool)
    single = active.sum(axis=1) == 1
    label = np.full(len(active), -1)
    label[single] = np.nonzero(active[single])[1]
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]]) if len(label) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(label)].astype(int)
    keep = label[starts] >= 0
    return Runs(starts[keep], ends[keep], label[starts[keep]])


def inner_runs(runs: Runs, n_samples: int) -> Runs:
    """The runs that touch neither end of the window (``Figure4_HighState.py``,
    ``--exclude-edge-episodes``: an episode cut by the window has no known length)."""
    keep = (runs.start > 0) & (runs.end < n_samples)
    return Runs(runs.start[keep], runs.end[keep], runs.label[keep])


def long_runs(runs: Runs, sample_interval_ms: float, min_duration_ms: float) -> Runs:
    """The runs lasting at least ``min_duration_ms`` (``length * dt``)."""
    keep = (runs.end - runs.start) * sample_interval_ms >= min_duration_ms - 1e-9
    return Runs(runs.start[keep], runs.end[keep], runs.label[keep])


def episode_category_means(series, groups, n_groups, category, n_categories, runs: Runs):
    """Category correlations inside episodes, averaged over episodes in z-space.

    Each episode (a run of samples) gives a Fisher-z mean per category over its pairs (series
    centred on the episode; pairs constant inside it left out); the result is
    ``tanh(mean over episodes of those z means)`` per category, counting the episodes where the
    category has pairs, and the number of such episodes.
    """
    z_sum = np.zeros(n_categories)
    n_episodes = np.zeros(n_categories, np.int64)
    for start, end in zip(runs.start, runs.end, strict=True):
        r, pairs = category_means(
            block_correlations(series[start:end], groups, n_groups), category, n_categories
        )
        has = pairs > 0
        z_sum[has] += fisher_z(r[has])
        n_episodes += has
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.tanh(z_sum / n_episodes), n_episodes


def _standardized(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns centred and scaled to unit norm, and which are not constant."""
    x = x - x.mean(axis=0)
    norm = np.sqrt(np.einsum("tk,tk->k", x, x))
    valid = norm > 1e-12 * max(1.0, float(np.abs(x).max(initial=0.0))) * np.sqrt(len(x))
    out = np.zeros_like(x)
    out[:, valid] = x[:, valid] / norm[valid]
    return out, valid


@dataclass(frozen=True)
class ActiveEpisodeStatistics:
    """Statistics of single-cluster episodes centred on the active cluster (means over episodes).

    ``corr_within``/``corr_across``: Fisher-z mean r of E pairs inside the active cluster / of
    an active-cluster E neuron with an E neuron of another cluster, ``tanh`` of the mean over
    episodes of the per-episode z means. ``var_*``: temporal and quenched variance of the series
    of the active E population and the mean over the inactive E populations, means over episodes.
    """

    corr_within: float
    corr_across: float
    var_temporal_active: float
    var_temporal_inactive: float
    var_quenched_active: float
    var_quenched_inactive: float


def active_episode_statistics(series, groups, group_types, group_clusters, runs: Runs) -> ActiveEpisodeStatistics:
    """The reference's per-episode statistics (``analysis/high_state.py``: ``episode_statistics``
    with the pairs ``active_within`` / ``active_across`` and ``variance_decomposition`` per
    population, active vs the mean of the inactive ones) over the sampled neurons.

    ``groups``: population of each column of ``series``; ``group_types``/``group_clusters``: the
    cell type and cluster of every population; ``runs``: the episodes, labelled by cluster.
    """
    series = np.asarray(series, np.float64)
    groups = np.asarray(groups, np.int64)
    e_pops = {int(c): g for g, (t, c) in enumerate(zip(group_types, group_clusters, strict=True)) if t == "E" and c >= 0}
    excit = np.isin(groups, list(e_pops.values()))
    sums = np.zeros(6)
    counts = np.zeros(6)
    for start, end, label in zip(runs.start, runs.end, runs.label, strict=True):
        if int(label) not in e_pops:
            continue
        active_pop = e_pops[int(label)]
        x, valid = _standardized(series[start:end])
        inside = (groups == active_pop) & valid
        others = excit & (groups != active_pop) & valid
        a = x[:, inside]
        r_within = (a.T @ a)[np.triu_indices(a.shape[1], 1)]
        r_across = (a.T @ x[:, others]).ravel()
        values = [np.mean(fisher_z(r)) if r.size else np.nan for r in (r_within, r_across)]
        segment = series[start:end]
        temporal = {g: float(np.mean(np.var(segment[:, groups == g], axis=0))) for g in e_pops.values()
                    if np.any(groups == g)}
        quenched = {g: float(np.var(np.mean(segment[:, groups == g], axis=0))) for g in temporal}
        inactive = [g for g in temporal if g != active_pop]
        values += [temporal.get(active_pop, np.nan), np.mean([temporal[g] for g in inactive]) if inactive else np.nan,
                   quenched.get(active_pop, np.nan), np.mean([quenched[g] for g in inactive]) if inactive else np.nan]
        values = np.asarray(values, np.float64)
        has = np.isfinite(values)
        sums[has] += values[has]
        counts[has] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return ActiveEpisodeStatistics(float(np.tanh(means[0])), float(np.tanh(means[1])), *map(float, means[2:]))
