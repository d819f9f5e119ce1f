"""Statistics of recorded neurons: pair correlations by relation, variance split, episodes.

Pure numpy on arrays of one simulated network. Conventions follow the reference analysis of
the clustered E/I model: Pearson correlations of a pair's time series, averaged in Fisher-z
space (``z = artanh r`` with ``|r|`` clipped at ``1 - 1e-6``; the average is reported as
``tanh(mean z)``); a pair is *within* when both neurons belong to the same cluster (an E
and an I population of one cluster included) and *across* otherwise; neurons outside any
cluster and series that are constant over the window are left out.

How the pair correlations are computed (:func:`block_correlations`; kernels in
``sweeps.measure._correlation_kernels``, numba, ``nogil``).  The definitions above are not
touched; only the arithmetic is.  Every pair's r is computed once, block of populations by
block, and feeds all summaries of the block: the Fisher-z sum, the plain mean and the median
(the reference's cluster-pair matrices); the median of a block is one introselect.

* **Binary states: bit-packed AND + popcount, exact counts.**  Each neuron's T samples are
  packed into ``ceil(T / 64)`` uint64 words; the joint count of a pair is the popcount of
  the AND of two rows and ``r = (T n11 - n_i n_j) / sqrt(n_i (T - n_i) n_j (T - n_j))``.
  The numerator and the product under the root are exact integers (below 2^53 for
  ``T < 19,000``), so ``r`` carries two roundings (root, division): it is the correctly
  rounded value to within 2 ulp, the same for every pair that has the same counts.  A
  float64 path (centre, normalise, matrix product) carries about ``T`` roundings, so the
  two differ by at most ``(T + 4) 2^-53`` in r (tested; about 1e-13 at T = 1,000).  A
  float32 matrix product of the 0/1 matrix (exact too, counts < 2^24) took longer than the
  popcounts alone, and online accumulation in the recorder would do the same K^2 / 2 pair
  updates per sample instead of per 64 samples.
* **Continuous inputs: float32 products.**  Series are centred and normalised in float64,
  rounded to float32 and multiplied by BLAS sgemm (a slab of consecutive groups' rows
  against the slab's and every later group's rows; the K x K matrix is never held).  With
  unit rounding ``u = 2^-24`` the error of each r is at most
  ``gamma_(T+2) = (T + 2) u / (1 - (T + 2) u)`` (input rounding plus a T-term dot product
  of unit vectors): 6e-5 at T = 1,000, typically ``sqrt(T) u``; in z at most
  ``gamma / (1 - r^2)``; means and medians of r move by at most ``gamma``.  That is far
  below the sampling error of a mean correlation (the estimator's standard error, ~5 % of
  values of 1e-2..1e-1).  sgemm runs at twice dgemm's rate.  The series are standardised
  64 columns at a time straight into the float32 rows (:func:`unit_rows`; the same values to
  the bit), so no float64 copy of all T x K values is made: at T = 20,000 (Figure 1) its two
  points at 2 s took 12.3-12.9 s of CPU against 17.2-17.5 s with those copies
  (``benchmarks/bench_predictions.py experiments/paper/figure1.toml``, docs/STATISTICS.md).
* **artanh** sums: ``artanh r = 0.5 log((1 + r) / (1 - r))``, so a block's Fisher-z sum is
  ``0.5 log`` of the ratio of the products of ``1 + r`` and ``1 - r`` (r clipped first),
  with one ``log`` per 32 pairs (``_correlation_kernels._z_add``): within ``n 2^-52`` plus a
  few ulp per log of the sum of the n pairs' artanh (tested in extended precision).  Stored
  values moved by at most 3e-16 against one ``log`` per pair
  (``benchmarks/compare_stores.py experiments/quickstart.toml``).
* **Episodes** need only the z sums of every block (``block_correlations(..., medians=False)``):
  no median selections.

Cost at the Figure 4 point (N = 10^4, 10 s, 1,000 samples, the default 100 sampled neurons
per population: 4,000 neurons, 8 M pairs; one thread, CPU seconds, medians of 5,
``benchmarks/bench_measurements.py --seed S --compare-with OLD``, load average 0.4-1.7,
2026-12-03): all statistics 0.27 s, 37 % of the simulation of the same point, for a network
without long episodes (seed 1; 0.41 s, 58 %, with float64 copies of the inputs; 0.54 s before
the chunked logs); 0.61 s, 71 %, for one with three long single-cluster episodes, each of
which repeats the pair correlations over its samples (seed 3; the episodes alone 0.34 s).
Fewer than all pairs (the reference samples pairs) would be cheaper still, but changes the
estimator; the number of sampled neurons per population sets the cost (as its square).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Clip of ``|r|`` before ``artanh`` (as in the reference analysis: FISHER_EPS = 1e-6).
FISHER_EPS = 1e-6
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
    """Pair correlations of the sampled neurons summarised per block of groups, shape (G, G).

    ``z_sum`` and ``count`` run over ordered pairs (``i != j``): every unordered pair is counted
    twice over the whole matrix (as ``(i, j)`` and ``(j, i)``), so means are unaffected and
    pair counts are half the ordered counts.  ``r_mean`` and ``r_median`` are the plain mean
    and median of ``r`` over the block's unordered pairs (NaN without pairs).
    """

    z_sum: np.ndarray  # float64, Fisher-z sums
    count: np.ndarray  # int64, ordered pairs
    r_mean: np.ndarray  # float64
    r_median: np.ndarray  # float64


#: Rows of one float32 product (consecutive groups are joined up to at least this many):
#: slabs of ~100 rows ran ~15 % slower than 250-500 (OpenBLAS, one thread, 4,000 x 1,000).
SLAB_ROWS = 256
#: Columns standardised at a time on the float32 path (:func:`unit_rows`).
COLUMN_CHUNK = 64


def block_correlations(series: np.ndarray, groups: np.ndarray, n_groups: int, *,
                       medians: bool = True) -> BlockCorrelations:
    """Fisher-z sums, pair counts, plain means and medians of ``r_ij`` per block of groups.

    Binary series (bool or integer dtype with values 0 and 1 only) take the exact bit-packed
    path, any other the float32 path; see the module docstring for both and their error.
    Every pair's ``r`` is computed once and feeds all four summaries.

    Parameters
    ----------
    series : ndarray, shape (T, K)
        One time series per sampled neuron.
    groups : ndarray of int, shape (K,)
        Group (population) of each neuron, in ``0..n_groups-1``.
    n_groups : int
        Number of groups ``G``.
    medians : bool
        False leaves ``r_median`` NaN: the selection of every block's median is about a third
        of the cost of short series (the episodes', which need only the z sums).
    """
    series = np.asarray(series)
    groups = np.asarray(groups)
    if series.ndim != 2:
        raise ValueError(f"block_correlations: series must be (T, K), got shape {series.shape}")
    if groups.shape != (series.shape[1],) or (groups.size and groups.dtype.kind not in "iu"):
        raise ValueError(f"block_correlations: groups must be integers of shape ({series.shape[1]},), "
                         f"got {groups.dtype} {groups.shape}")
    n_groups = int(n_groups)
    if n_groups < 0 or (groups.size and not 0 <= groups.min() <= groups.max() < n_groups):
        raise ValueError(f"block_correlations: groups must be in [0, {n_groups - 1}]")
    from sweeps.measure import _correlation_kernels as _k  # numba: imported where it runs

    groups = groups.astype(np.int64)
    n_samples = series.shape[0]
    binary = is_binary(series)
    if binary:
        x = series.astype(bool, copy=False)
        ones = np.count_nonzero(x, axis=0).astype(np.int64)
        valid = (ones > 0) & (ones < n_samples)
        keep = np.flatnonzero(valid)
        keep = keep[np.argsort(groups[keep], kind="stable")]
    else:
        rows, keep = unit_rows(series, groups)
    # only non-constant series enter the kernels, sorted by group: group g is bounds[g]:bounds[g+1]
    n_valid = np.bincount(groups[keep], minlength=n_groups)
    bounds = np.r_[0, np.cumsum(n_valid)].astype(np.int64)
    summary = _BlockSummary.empty(bounds, medians)
    if binary:
        packed = pack_bits(x[:, keep])
        for a in range(n_groups):
            summary.fill_row(a, _k.binary_block_r, packed, ones[keep], n_samples)
    else:
        _float32_rows(rows, summary)
    count = np.outer(n_valid, n_valid) - np.diag(n_valid)
    return BlockCorrelations(summary.z_sum, count, summary.r_mean, summary.r_median)


class _BlockSummary:
    """The (G, G) summaries filled block row by block row from a kernel's r values.

    A kernel writes the r values of the blocks (a, b >= a) into one buffer, with each
    block's z and r sums; medians are taken here by :func:`_median_in_place`.
    """

    def __init__(self, bounds: np.ndarray, z_sum, r_mean, r_median, medians: bool):
        self.bounds, self.medians = bounds, medians
        self.z_sum, self.r_mean, self.r_median = z_sum, r_mean, r_median
        sizes = np.diff(bounds)
        self.values = np.empty(int(sizes.max(initial=0)) * int(sizes.sum()))
        self.z_row, self.r_row = np.zeros(len(sizes)), np.zeros(len(sizes))
        self.ends = np.zeros(len(sizes), np.int64)

    @classmethod
    def empty(cls, bounds: np.ndarray, medians: bool) -> _BlockSummary:
        shape = (len(bounds) - 1,) * 2
        return cls(bounds, np.zeros(shape), np.full(shape, np.nan), np.full(shape, np.nan), medians)

    def fill_row(self, a: int, kernel, *args) -> None:
        """Run ``kernel(*args, bounds, a, limit, values, z_row, r_row, ends)`` for row a."""
        if self.bounds[a + 1] == self.bounds[a]:
            return
        kernel(*args, self.bounds, a, 1.0 - FISHER_EPS, self.values, self.z_row, self.r_row, self.ends)
        start = 0
        for b in range(a, len(self.bounds) - 1):
            end = int(self.ends[b])
            if end > start:
                block = self.values[start:end]
                z = 2.0 * self.z_row[b] if a == b else self.z_row[b]  # ordered pairs
                self.z_sum[a, b] = self.z_sum[b, a] = z
                self.r_mean[a, b] = self.r_mean[b, a] = self.r_row[b] / (end - start)
                if self.medians:
                    self.r_median[a, b] = self.r_median[b, a] = _median_in_place(block)
            start = end


def is_binary(series: np.ndarray) -> bool:
    """True for bool series and integer series whose values are all 0 or 1."""
    series = np.asarray(series)
    if series.dtype == bool:
        return True
    if series.dtype.kind not in "iu":
        return False
    return series.size == 0 or (series.min() >= 0 and series.max() <= 1)


def pack_bits(states: np.ndarray) -> np.ndarray:
    """Binary series (T, K) as bits, one row per neuron: uint64 (K, ceil(T / 64)), zero padded."""
    packed = np.packbits(np.asarray(states, bool).T, axis=1)  # (K, ceil(T / 8)) uint8, big-endian
    pad = -packed.shape[1] % 8
    if pad or packed.shape[1] == 0:
        packed = np.pad(packed, ((0, 0), (0, pad if packed.shape[1] else 8)))
    return np.ascontiguousarray(packed).view(np.uint64)


def _median_in_place(values: np.ndarray) -> float:
    """``np.median(values)`` (the same value), reordering ``values``.

    One introselect at the middle (``ndarray.partition``) and, for an even count, the largest
    value below it: 5x faster than ``np.median`` (which selects two positions) and 7x faster
    than numba's median on blocks of 10^4 values (measured).
    """
    n = values.size
    half = n // 2
    values.partition(half)
    return float(values[half]) if n % 2 else float((values[half] + values[:half].max()) / 2)


def unit_rows(series: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-constant columns of ``series`` (T, K) centred, scaled to unit norm, as float32 rows.

    Returns ``(rows, kept)``: ``rows`` (K', T) float32, one per non-constant column, in the
    stable order of ``groups``; ``kept`` the column of each row.  The values are those of
    :func:`_standardized` of the whole array rounded to float32, to the bit (each column's
    mean and norm are taken on its own), but computed ``COLUMN_CHUNK`` columns at a time: the
    float64 temporaries are T x 64, not T x K (at T = 20,000 and K = 4,000, 10 MB instead of
    three copies of 640 MB).
    """
    n_samples, n_columns = series.shape
    scale = max(1.0, float(series.max(initial=0.0)), -float(series.min(initial=0.0)))
    order = np.argsort(groups, kind="stable")
    rows = np.empty((n_columns, n_samples), np.float32)
    valid = np.zeros(n_columns, bool)
    for lo in range(0, n_columns, COLUMN_CHUNK):
        columns = order[lo:lo + COLUMN_CHUNK]
        x, valid[lo:lo + columns.size] = _standardized(np.array(series[:, columns], np.float64), scale)
        rows[lo:lo + columns.size] = x.T
    kept = np.flatnonzero(valid)
    for i, row in enumerate(kept):  # drop the constant ones in place, keeping the order
        if i != row:
            rows[i] = rows[row]
    return rows[:kept.size], order[kept]


def _float32_rows(rows: np.ndarray, summary: _BlockSummary) -> None:
    """Fill ``summary`` from float32 unit rows (:func:`unit_rows`, sorted by group).

    One sgemm per slab of consecutive groups (rows) against the slab's and every later
    group's neurons (columns): the K x K matrix is never held and each pair is read once.
    """
    from sweeps.measure import _correlation_kernels as _k

    bounds = summary.bounds
    n_groups = bounds.size - 1
    a = 0
    while a < n_groups:
        b = a + 1  # the slab: groups a..b-1
        while b < n_groups and bounds[b] - bounds[a] < SLAB_ROWS:
            b += 1
        lo, hi = bounds[a], bounds[b]
        if hi > lo:
            products = rows[lo:hi] @ rows[lo:].T
            for g in range(a, b):
                summary.fill_row(g, _k.dense_block_r, products, lo)
        a = b


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
            block_correlations(series[start:end], groups, n_groups, medians=False), category, n_categories
        )
        has = pairs > 0
        z_sum[has] += fisher_z(r[has])
        n_episodes += has
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.tanh(z_sum / n_episodes), n_episodes


def _standardized(x: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Columns of float64 ``x`` centred and scaled to unit norm (a new array), and which are not constant.

    A column is constant when its centred norm is below ``1e-12 scale sqrt(T)`` with
    ``scale = max(1, max |x|)`` of ``x`` unless given (the rounding residue of the mean);
    constant columns are returned as zeros.
    """
    if scale is None:
        scale = max(1.0, float(x.max(initial=0.0)), -float(x.min(initial=0.0)))
    x = x - x.mean(axis=0)
    norm = np.sqrt(np.einsum("tk,tk->k", x, x))
    valid = norm > 1e-12 * scale * np.sqrt(len(x))
    np.divide(x, np.where(valid, norm, np.inf), out=x)  # constant columns: x / inf = 0
    return x, valid


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
    groups = np.asarray(groups, np.int64)
    e_pops = {int(c): g for g, (t, c) in enumerate(zip(group_types, group_clusters, strict=True)) if t == "E" and c >= 0}
    excit = np.isin(groups, list(e_pops.values()))
    sums = np.zeros(6)
    counts = np.zeros(6)
    for start, end, label in zip(runs.start, runs.end, runs.label, strict=True):
        if int(label) not in e_pops:
            continue
        active_pop = e_pops[int(label)]
        segment = np.array(series[start:end], np.float64)  # one episode at a time in float64
        x, valid = _standardized(segment)
        inside = (groups == active_pop) & valid
        others = excit & (groups != active_pop) & valid
        a = x[:, inside]
        r_within = (a.T @ a)[np.triu_indices(a.shape[1], 1)]
        r_across = (a.T @ x[:, others]).ravel()
        values = [np.mean(fisher_z(r)) if r.size else np.nan for r in (r_within, r_across)]
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
