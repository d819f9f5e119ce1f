"""Measurements of one simulated network: :class:`Recording` -> stored variables.

``sweeps.simulate`` streams over a run and fills a :class:`Recording` (population
activity at the sample interval, up-transition counts, time-averaged state per neuron,
states and inputs of a few seeded sampled E neurons, wiring and cost figures). Nothing
here needs the states of all neurons at all times. :func:`measure` turns a recording into
the variables of one grid point; :func:`variable_specs` lists the same variables (name,
inner dims, dtype, units, long name, fill value) so the store can create its schema before
any point has run. Everything is plain numpy.

Notation used in the formulas below: populations ``p`` with sizes ``N_p``; samples
``t = 1..T`` taken every ``dt`` ms; ``a_p(t)`` the fraction of active neurons of population
``p`` at sample ``t``; ``D`` the measured window in seconds; ``s_i(t)`` and ``h_i(t)`` the
state and input of neuron ``i`` at sample ``t``; ``m_i`` the time-averaged state of ``i``.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

POPULATION, CLUSTER, TIME = "population", "cluster", "time"
WIRING_KEYS = (
    "synapse_count",
    "connected_pairs",
    "density",
    "connectivity_bytes",
    "build_seconds",
    "simulation_seconds",
    "updates_per_second",
)
_FLOAT_FILL = float("nan")
_INT_FILL = -1
#: Largest |r| entering Fisher's z (z <= 10.7): keeps averages with exactly (anti-)correlated
#: pairs finite and insensitive to rounding; genuine |r| of T-sample series stay below it.
R_MAX = 1.0 - 1e-9


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
        Cluster index per population, ``-1`` for none.
    sample_interval_ms : float
        Model time between two samples (ms).
    duration_ms : float
        Length of the measured window (ms of model time, warm-up excluded).
    activity : ndarray of float32, shape (T, P)
        Fraction of active neurons per population at each sample.
    up_transitions : ndarray of int64, shape (P,)
        Number of 0 -> 1 flips per population inside the measured window.
    neuron_activity : ndarray of float32, shape (N,)
        Time-averaged state of every neuron over the samples.
    sampled_neurons : ndarray of int64, shape (K,)
        Indices of the sampled E neurons (seeded choice).
    sampled_clusters : ndarray of int64, shape (K,)
        Cluster index of each sampled neuron (``-1`` for none).
    sampled_states : ndarray of int8, shape (T, K)
        Binary state of the sampled neurons at each sample.
    sampled_fields : ndarray of float32, shape (T, K)
        Input ``h`` of the sampled neurons at each sample.
    wiring : dict
        Wiring and cost figures with the keys of :data:`WIRING_KEYS`.
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
    sampled_neurons: np.ndarray
    sampled_clusters: np.ndarray
    sampled_states: np.ndarray
    sampled_fields: np.ndarray
    wiring: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_pop = len(self.population_names)
        n_samples = np.shape(self.activity)[0] if np.ndim(self.activity) == 2 else -1
        n_sampled = np.shape(self.sampled_neurons)[0] if np.ndim(self.sampled_neurons) else -1
        expected = {
            "population_types": (n_pop,),
            "population_sizes": (n_pop,),
            "population_clusters": (n_pop,),
            "activity": (n_samples, n_pop),
            "up_transitions": (n_pop,),
            "neuron_activity": (int(np.sum(self.population_sizes)),),
            "sampled_clusters": (n_sampled,),
            "sampled_states": (n_samples, n_sampled),
            "sampled_fields": (n_samples, n_sampled),
        }
        for name, shape in expected.items():
            actual = np.shape(getattr(self, name))
            if actual != shape or -1 in shape:
                raise ValueError(f"Recording.{name}: shape {actual}, expected {shape}")
        if n_samples < 1:
            raise ValueError(f"Recording.activity: need at least one sample, got shape {np.shape(self.activity)}")
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


def n_clusters_of(population_types: Sequence[str], population_clusters: Sequence[int]) -> int:
    """Number of clusters ``C`` of a layout: ``1 + max`` cluster index over E populations.

    Returns 0 when no E population belongs to a cluster.
    """
    clusters = [int(c) for t, c in zip(population_types, population_clusters, strict=True) if t == "E"]
    return max(clusters, default=-1) + 1


@dataclass(frozen=True)
class VariableSpec:
    """One stored variable: name, inner dims (after the point dims), dtype, CF attributes."""

    name: str
    dims: tuple[str, ...]
    dtype: np.dtype
    units: str
    long_name: str
    fill: Any


def _spec(name: str, dims: tuple[str, ...], dtype: str, units: str, long_name: str) -> VariableSpec:
    kind = np.dtype(dtype)
    fill = _FLOAT_FILL if kind.kind == "f" else _INT_FILL
    return VariableSpec(name, dims, kind, units, long_name, fill)


def _point_specs() -> list[VariableSpec]:
    specs = []
    for kind, word in (("E", "excitatory"), ("I", "inhibitory")):
        specs += [
            _spec(f"mean_activity_{kind}", (), "float64", "1",
                  f"mean fraction of active {word} neurons"),
            _spec(f"up_rate_{kind}", (), "float64", "1/s",
                  f"up transitions per {word} neuron per second"),
            _spec(f"temporal_variance_{kind}", (), "float64", "1",
                  f"temporal variance of {word} states"),
            _spec(f"quenched_variance_{kind}", (), "float64", "1",
                  f"quenched variance of {word} time-averaged states"),
        ]
    specs += [
        _spec("fraction_none_active", (), "float64", "1", "fraction of samples with no active cluster"),
        _spec("fraction_one_active", (), "float64", "1", "fraction of samples with one active cluster"),
        _spec("fraction_multi_active", (), "float64", "1",
              "fraction of samples with two or more active clusters"),
        _spec("mean_active_clusters", (), "float64", "1", "mean number of active clusters"),
        _spec("switch_rate", (), "float64", "1/s", "changes of the set of active clusters per second"),
        _spec("single_dwell_ms", (), "float64", "ms",
              "mean dwell time of complete single-cluster episodes"),
        _spec("single_episodes", (), "int64", "1", "number of complete single-cluster episodes"),
    ]
    for quantity, word in (("states", "binary states"), ("fields", "inputs h")):
        for where in ("within", "across"):
            specs.append(_spec(f"corr_{quantity}_{where}", (), "float64", "1",
                               f"mean Pearson correlation of {word}, E pairs {where} clusters"))
    specs += [
        _spec("synapse_count", (), "int64", "1", "number of synapses (contacts)"),
        _spec("connected_pairs", (), "int64", "1", "number of connected neuron pairs"),
        _spec("density", (), "float64", "1", "connection density (connected pairs / possible pairs)"),
        _spec("connectivity_bytes", (), "int64", "B", "memory used by the connectivity"),
        _spec("build_seconds", (), "float64", "s", "wall time to build the network"),
        _spec("simulation_seconds", (), "float64", "s", "wall time to simulate the network"),
        _spec("updates_per_second", (), "float64", "1/s", "neuron updates per second of wall time"),
    ]
    return specs


def variable_specs(
    population_names: Sequence[str], n_clusters: int, n_samples: int, keep_traces: bool
) -> list[VariableSpec]:
    """List every variable :func:`measure` returns, in a fixed order.

    Parameters
    ----------
    population_names : sequence of str
        Population names of the model (length of the ``population`` dim).
    n_clusters : int
        Number of clusters (length of the ``cluster`` dim), see :func:`n_clusters_of`.
    n_samples : int
        Number of samples (length of the ``time`` dim); only used for validation here.
    keep_traces : bool
        Include the ``activity`` trace ``[time, population]``.

    Returns
    -------
    list of VariableSpec
        ``dims`` are the inner dims only; the store prepends the point dims.
    """
    if n_clusters < 0 or n_samples < 1 or not population_names:
        raise ValueError(
            f"variable_specs: need populations, n_clusters >= 0 and n_samples >= 1, got "
            f"{len(population_names)} populations, n_clusters={n_clusters}, n_samples={n_samples}"
        )
    specs = []
    if keep_traces:
        specs.append(_spec("activity", (TIME, POPULATION), "float32", "1",
                           "fraction of active neurons per population"))
    specs += [
        _spec("population_activity", (POPULATION,), "float64", "1",
              "time-averaged fraction of active neurons per population"),
        _spec("population_up_rate", (POPULATION,), "float64", "1/s",
              "up transitions per neuron per second, per population"),
        _spec("cluster_activity_mean", (CLUSTER,), "float64", "1",
              "time-averaged excitatory activity per cluster"),
        _spec("cluster_activity_std", (CLUSTER,), "float64", "1",
              "temporal standard deviation of excitatory activity per cluster"),
    ]
    return specs + _point_specs()


def mean_activity(activity: np.ndarray, sizes: np.ndarray, select: np.ndarray) -> float:
    """Size-weighted mean activity of the selected populations.

    ``M = sum_p N_p <a_p>_t / sum_p N_p`` over the selected ``p``; NaN if none selected.
    """
    weights = np.where(select, sizes, 0).astype(np.float64)
    if weights.sum() == 0:
        return _FLOAT_FILL
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
    # label each sample by its single active cluster, -1 otherwise; episodes are runs of a label
    single = n_active == 1
    label = np.full(len(n_active), -1)
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
        "single_dwell_ms": float(lengths.mean() * sample_interval_ms) if lengths.size else _FLOAT_FILL,
        "single_episodes": np.int64(lengths.size),
    }


def pair_correlations(series: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """Fisher-z averaged Pearson correlation of all pairs, within vs across clusters.

    Parameters
    ----------
    series : ndarray, shape (T, K)
        One time series per sampled neuron.
    clusters : ndarray of int, shape (K,)
        Cluster of each neuron (``-1``: none; such neurons are left out).

    Returns
    -------
    (within, across) : tuple of float
        For every pair ``i < j`` of non-constant series with ``r_ij`` their Pearson
        correlation, ``r_within = tanh(mean_{c_i = c_j} artanh r_ij)`` and likewise across
        (``c_i != c_j``). ``|r|`` is capped at :data:`R_MAX` so that ``artanh`` stays finite.
        NaN when there is no such pair.
    """
    x = np.asarray(series, np.float64)
    clusters = np.asarray(clusters)
    keep = (np.ptp(x, axis=0) > 0) & (clusters >= 0)
    x, clusters = x[:, keep] - x[:, keep].mean(axis=0), clusters[keep]
    x /= np.sqrt(np.einsum("tk,tk->k", x, x))
    i, j = np.triu_indices(len(clusters), k=1)
    r = (x.T @ x)[i, j]
    z = np.arctanh(np.clip(r, -R_MAX, R_MAX))
    same = clusters[i] == clusters[j]
    return tuple(float(np.tanh(z[m].mean())) if m.any() else _FLOAT_FILL for m in (same, ~same))


def variance_decomposition(neuron_activity: np.ndarray) -> tuple[float, float]:
    """Temporal and quenched variance of binary states across a group of neurons.

    With ``m_i`` the time-averaged state of neuron ``i`` and ``M = mean_i m_i``:
    ``temporal = mean_i m_i (1 - m_i)`` and ``quenched = Var_i(m_i) = mean_i (m_i - M)^2``.
    They add up to the total variance of the states, ``M (1 - M)``. NaN for an empty group.

    Returns
    -------
    (temporal, quenched) : tuple of float
    """
    m = np.asarray(neuron_activity, np.float64)
    if m.size == 0:
        return _FLOAT_FILL, _FLOAT_FILL
    return float(np.mean(m * (1.0 - m))), float(np.var(m))


def measure(
    recording: Recording, *, cluster_threshold: float = 0.3,
    cluster_off_threshold: float | None = None, keep_traces: bool = True,
) -> dict[str, np.ndarray]:
    """Compute every stored variable of one grid point.

    Parameters
    ----------
    recording : Recording
        What the simulation delivered.
    cluster_threshold : float, default 0.3
        A cluster becomes active when its E activity exceeds this value (strict ``>``, with
        the threshold rounded to the dtype of ``recording.activity``) ...
    cluster_off_threshold : float, optional
        ... and stays active until its activity falls below this one (default: two thirds
        of ``cluster_threshold``), so that a cluster hovering at the threshold does not
        count as switching on and off.
    keep_traces : bool, default True
        Include the ``activity`` trace ``[time, population]``.

    Returns
    -------
    dict of str to ndarray
        Keys, shapes and dtypes exactly as :func:`variable_specs` lists them.
    """
    if not 0.0 <= cluster_threshold < 1.0:
        raise ValueError(f"cluster_threshold must be in [0, 1), got {cluster_threshold}")
    if cluster_off_threshold is None:
        cluster_off_threshold = default_off_threshold(cluster_threshold)
    if not 0.0 <= cluster_off_threshold <= cluster_threshold:
        raise ValueError(f"cluster_off_threshold must be in [0, cluster_threshold="
                         f"{cluster_threshold}], got {cluster_off_threshold}")
    rec = recording
    sizes = np.asarray(rec.population_sizes, np.int64)
    types = np.asarray(rec.population_types)
    bounds = np.r_[0, np.cumsum(sizes)]
    per_cluster = cluster_activity(rec)
    out: dict[str, Any] = {
        "activity": rec.activity,
        "population_activity": np.mean(rec.activity, axis=0, dtype=np.float64),
        "population_up_rate": up_rate(rec.up_transitions, sizes, rec.duration_ms),
        "cluster_activity_mean": per_cluster.mean(axis=0),
        "cluster_activity_std": per_cluster.std(axis=0),
    }
    for kind in ("E", "I"):
        select = types == kind
        out[f"mean_activity_{kind}"] = mean_activity(rec.activity, sizes, select)
        out[f"up_rate_{kind}"] = up_rate(
            rec.up_transitions[select].sum(), sizes[select].sum(), rec.duration_ms
        )
        neurons = np.concatenate(
            [rec.neuron_activity[bounds[p]:bounds[p + 1]] for p in np.flatnonzero(select)] or [[]]
        )
        out[f"temporal_variance_{kind}"], out[f"quenched_variance_{kind}"] = \
            variance_decomposition(neurons)
    # compare at the resolution of the stored activity: float32(0.3) is not above 0.3
    on, off = (np.asarray(x, rec.activity.dtype) for x in (cluster_threshold, cluster_off_threshold))
    active = active_clusters(per_cluster, on, off)
    out.update(cluster_states(active, rec.sample_interval_ms, rec.duration_ms))
    for quantity, series in (("states", rec.sampled_states), ("fields", rec.sampled_fields)):
        out[f"corr_{quantity}_within"], out[f"corr_{quantity}_across"] = pair_correlations(
            series, rec.sampled_clusters
        )
    out.update({key: rec.wiring[key] for key in WIRING_KEYS})
    specs = variable_specs(rec.population_names, rec.n_clusters, rec.n_samples, keep_traces)
    return {spec.name: np.asarray(out[spec.name], dtype=spec.dtype) for spec in specs}
