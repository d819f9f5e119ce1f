"""What a run leaves for the measurements: the :class:`Recording` of one network, and the
cluster activity and active-cluster states derived from it (plain numpy).

Notation: populations ``p`` with sizes ``N_p``; samples ``t = 1..T`` taken every ``dt`` ms;
``a_p(t)`` the fraction of active neurons of population ``p`` at sample ``t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweeps.measure.raster import Raster
from sweeps.measure.statistics import NO_CLUSTER

__all__ = ["MIN_EPISODE_MS", "WIRING_KEYS", "Recording", "active_clusters", "cluster_activity", "cluster_states",
           "default_off_threshold", "mean_activity", "n_clusters_of", "up_rate"]

WIRING_KEYS = (
    "synapse_count",
    "connected_pairs",
    "density",
    "connectivity_bytes",
    "build_seconds",
    "simulation_seconds",
    "updates_per_second",
)
#: Default shortest single-cluster episode entering the episode statistics (ms).
MIN_EPISODE_MS = 200.0



@dataclass(frozen=True, eq=False)
class Recording:
    """What one simulated network delivers to :func:`measure`.

    Parameters
    ----------
    population_names : tuple of str
        Names of the ``P`` populations, in network order.
    population_sizes : ndarray of int64, shape (P,)
        Number of neurons per population. Neurons are ordered population by population.
    population_types : tuple of str
        Cell type per population: ``"E"``, ``"I"`` or anything else (ignored by E/I figures).
    population_clusters : ndarray of int64, shape (P,)
        Cluster index per population, ``NO_CLUSTER`` (-1) for none.
    sample_interval_ms : float
        Model time between two samples (ms).
    duration_ms : float
        Length of the measured window (ms of model time, warm-up excluded).
    activity : ndarray of float32, shape (T, P)
        Fraction of active neurons per population at each sample.
    up_transitions : ndarray of int64, shape (P,)
        Number of 0 -> 1 flips per population inside the measured window.
    neuron_activity : ndarray of float64, shape (N,)
        Time-averaged state ``m_i`` of every neuron over the samples.
    field_mean, field_variance : ndarray of float64, shape (N,)
        Time mean and time variance of every neuron's input ``h_i`` over the samples.
    sampled_neurons : ndarray of int64, shape (K,)
        Indices of the sampled neurons (a seeded choice per population).
    sampled_populations : ndarray of int64, shape (K,)
        Population index of each sampled neuron.
    sampled_states : ndarray of int8, shape (T, K)
        Binary state of the sampled neurons at each sample.
    sampled_fields : ndarray of float32, shape (T, K)
        Input ``h`` of the sampled neurons at each sample.
    wiring : dict
        Wiring and cost figures with the keys of :data:`WIRING_KEYS`.
    raster : Raster or None
        Up-transition times of the raster neurons (:mod:`sweeps.measure.raster`), when this
        point records one.
    """

    population_names: tuple[str, ...]
    population_sizes: np.ndarray
    population_types: tuple[str, ...]
    population_clusters: np.ndarray
    sample_interval_ms: float
    duration_ms: float
    activity: np.ndarray
    up_transitions: np.ndarray
    neuron_activity: np.ndarray
    field_mean: np.ndarray
    field_variance: np.ndarray
    sampled_neurons: np.ndarray
    sampled_populations: np.ndarray
    sampled_states: np.ndarray
    sampled_fields: np.ndarray
    wiring: dict[str, Any] = field(default_factory=dict)
    raster: Raster | None = None

    def __post_init__(self) -> None:
        n_pop = len(self.population_names)
        n_samples = np.shape(self.activity)[0] if np.ndim(self.activity) == 2 else -1
        n_sampled = np.shape(self.sampled_neurons)[0] if np.ndim(self.sampled_neurons) else -1
        n_neurons = int(np.sum(self.population_sizes))
        expected = {
            "population_types": (n_pop,),
            "population_sizes": (n_pop,),
            "population_clusters": (n_pop,),
            "activity": (n_samples, n_pop),
            "up_transitions": (n_pop,),
            "neuron_activity": (n_neurons,),
            "field_mean": (n_neurons,),
            "field_variance": (n_neurons,),
            "sampled_populations": (n_sampled,),
            "sampled_states": (n_samples, n_sampled),
            "sampled_fields": (n_samples, n_sampled),
        }
        for name, shape in expected.items():
            actual = np.shape(getattr(self, name))
            if actual != shape or -1 in shape:
                raise ValueError(f"Recording.{name}: shape {actual}, expected {shape}")
        if n_samples < 1:
            raise ValueError(f"Recording.activity: need at least one sample, got shape {np.shape(self.activity)}")
        if n_sampled and not 0 <= np.min(self.sampled_populations) <= np.max(self.sampled_populations) < n_pop:
            raise ValueError(f"Recording.sampled_populations: indices must be in [0, {n_pop - 1}]")
        if not (self.sample_interval_ms > 0 and self.duration_ms > 0):
            raise ValueError(
                "Recording.sample_interval_ms and duration_ms must be > 0, got "
                f"{self.sample_interval_ms} and {self.duration_ms}"
            )
        missing = [key for key in WIRING_KEYS if key not in self.wiring]
        if missing:
            raise ValueError(f"Recording.wiring: missing keys {missing}; required {list(WIRING_KEYS)}")

    @property
    def n_samples(self) -> int:
        """Number of samples ``T``."""
        return int(self.activity.shape[0])

    @property
    def n_clusters(self) -> int:
        """Number of clusters: one more than the largest cluster index of an E population."""
        return n_clusters_of(self.population_types, self.population_clusters)

    @property
    def neuron_populations(self) -> np.ndarray:
        """Population index of every neuron, shape (N,)."""
        return np.repeat(np.arange(len(self.population_names)), self.population_sizes)


def n_clusters_of(population_types: Sequence[str], population_clusters: Sequence[int]) -> int:
    """Number of clusters ``C`` of a layout: ``1 + max`` cluster index over E populations.

    Returns 0 when no E population belongs to a cluster.
    """
    clusters = [int(c) for t, c in zip(population_types, population_clusters, strict=True) if t == "E"]
    return max(clusters, default=NO_CLUSTER) + 1

def mean_activity(activity: np.ndarray, sizes: np.ndarray, select: np.ndarray) -> float:
    """Size-weighted mean activity of the selected populations.

    ``M = sum_p N_p <a_p>_t / sum_p N_p`` over the selected ``p``; NaN if none selected.
    """
    weights = np.where(select, sizes, 0).astype(np.float64)
    if weights.sum() == 0:
        return np.nan
    return float(np.mean(activity, axis=0, dtype=np.float64) @ weights / weights.sum())


def up_rate(up_transitions: np.ndarray, sizes: np.ndarray, duration_ms: float) -> np.ndarray:
    """Up transitions per neuron per second of model time: ``r = n_up / (N * D)``.

    Works elementwise on arrays of counts and sizes (NaN where a size is 0).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(up_transitions, np.float64) / (
            np.asarray(sizes, np.float64) * duration_ms / 1000.0
        )


def cluster_activity(recording: Recording) -> np.ndarray:
    """E activity per cluster at each sample, shape (T, C).

    ``A_c(t) = sum_{p in E, cluster c} N_p a_p(t) / sum_{p in E, cluster c} N_p``.
    """
    n_clusters = recording.n_clusters
    is_e = np.array([t == "E" for t in recording.population_types], bool)
    membership = np.zeros((len(is_e), n_clusters))
    rows = np.flatnonzero(is_e & (recording.population_clusters >= 0))
    membership[rows, recording.population_clusters[rows]] = recording.population_sizes[rows]
    totals = membership.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (recording.activity.astype(np.float64) @ membership) / totals


def default_off_threshold(cluster_threshold: float) -> float:
    """The default ``cluster_off_threshold``: two thirds of ``cluster_threshold``."""
    return round(2.0 * cluster_threshold / 3.0, 12)


def active_clusters(per_cluster: np.ndarray, on: float, off: float) -> np.ndarray:
    """Which clusters are active at each sample, with hysteresis.

    Parameters
    ----------
    per_cluster : ndarray, shape (T, C)
        Cluster activity ``A_c(t)``.
    on, off : float
        A cluster becomes active at the first sample with ``A_c(t) > on`` and stays active
        until a sample with ``A_c(t) < off`` (``off <= on``; ``off == on`` is a plain
        threshold).

    Returns
    -------
    ndarray of bool, shape (T, C)
    """
    per_cluster = np.asarray(per_cluster)
    above = per_cluster > on
    below = per_cluster < off
    active = np.empty(per_cluster.shape, bool)
    current = np.zeros(per_cluster.shape[1], bool)
    for t in range(per_cluster.shape[0]):  # T steps over all clusters at once
        current = above[t] | (current & ~below[t])
        active[t] = current
    return active


def cluster_states(active: np.ndarray, sample_interval_ms: float, duration_ms: float) -> dict:
    """Statistics of the set of active clusters over time.

    Parameters
    ----------
    active : ndarray of bool, shape (T, C)
        ``active[t, c]``: cluster ``c`` is active at sample ``t`` (see :func:`active_clusters`).
    sample_interval_ms, duration_ms : float
        Sample spacing ``dt`` and measured window (ms).

    Returns
    -------
    dict
        With ``n(t) = sum_c active[t, c]``:
        ``fraction_none_active = mean_t [n(t) = 0]``, ``fraction_one_active = mean_t [n(t) = 1]``,
        ``fraction_multi_active = mean_t [n(t) >= 2]``, ``mean_active_clusters = mean_t n(t)``;
        ``switch_rate = #{t > 1 : active[t] != active[t-1]} / D`` (D in seconds);
        a single-cluster episode is a maximal run of consecutive samples in which exactly one
        and the same cluster is active; episodes that touch the first or the last sample are
        censored and left out; ``single_dwell_ms = dt * mean run length`` of the complete
        ones (NaN if none) and ``single_episodes`` their number.
    """
    active = np.asarray(active, bool)
    n_active = active.sum(axis=1)
    changes = np.count_nonzero(np.any(active[1:] != active[:-1], axis=1))
    # label each sample by its single active cluster, NO_CLUSTER otherwise; episodes are runs of a label
    single = n_active == 1
    label = np.full(len(n_active), NO_CLUSTER)
    label[single] = np.nonzero(active[single])[1]
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    ends = np.r_[starts[1:], len(label)]
    complete = (label[starts] >= 0) & (starts > 0) & (ends < len(label))
    lengths = (ends - starts)[complete]
    return {
        "fraction_none_active": float(np.mean(n_active == 0)),
        "fraction_one_active": float(np.mean(n_active == 1)),
        "fraction_multi_active": float(np.mean(n_active >= 2)),
        "mean_active_clusters": float(np.mean(n_active)),
        "switch_rate": changes / (duration_ms / 1000.0),
        "single_dwell_ms": float(lengths.mean() * sample_interval_ms) if lengths.size else np.nan,
        "single_episodes": np.int64(lengths.size),
    }



