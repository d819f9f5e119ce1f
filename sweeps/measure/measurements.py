"""Measurements of one simulated network: :class:`Recording` -> stored variables.

``sweeps.execution.task`` streams over a run and fills a :class:`Recording` (population
activity at the sample interval, up-transition counts, time moments of every neuron's state
and input, states and inputs of a few seeded neurons per population, wiring and cost
figures). Nothing here needs the states of all neurons at all times. Every stored variable
is registered in :data:`REGISTRY` below, next to its formula (see :mod:`sweeps.measure.registry`);
:func:`measure` evaluates them on a recording and :func:`variable_specs` lists them so the
store can create its schema before any point has run. Everything is plain numpy.

Notation used in the formulas below: populations ``p`` with sizes ``N_p``; samples
``t = 1..T`` taken every ``dt`` ms; ``a_p(t)`` the fraction of active neurons of population
``p`` at sample ``t``; ``D`` the measured window in seconds; ``s_i(t)`` and ``h_i(t)`` the
state and input of neuron ``i`` at sample ``t``; ``m_i`` the time-averaged state of ``i``.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence

import numpy as np

from sweeps.measure import statistics as st
from sweeps.measure.raster import raster_neurons
from sweeps.measure.recording import (
    MIN_EPISODE_MS,
    Recording,
    active_clusters,
    cluster_activity,
    cluster_states,
    default_off_threshold,
    mean_activity,
    up_rate,
)
from sweeps.measure.registry import (
    CLUSTER,
    PAIR_TYPE,
    POPULATION,
    POPULATION_OTHER,
    RASTER_EVENT,
    RASTER_NEURON,
    RELATION,
    TIME,
    Options,
    OptionSpec,
    Registry,
    VariableSpec,
)
from sweeps.spec.quantity import parse_quantity

__all__ = ["REGISTRY", "MeasureContext", "measure", "raster_ids", "raster_shape", "rasters_enabled", "variable_specs",
           "wants_raster"]

logger = logging.getLogger(__name__)

class MeasureContext:
    """A recording with its options and the intermediate results shared by measurements.

    Each intermediate is computed once, on first use (``functools.cached_property``).
    """

    def __init__(self, recording: Recording, options: Options):
        self.rec = recording
        self.options = options
        self.sizes = np.asarray(recording.population_sizes, np.int64)
        self.types = np.asarray(recording.population_types)
        self.n_pop = len(recording.population_names)

    @functools.cached_property
    def per_cluster(self) -> np.ndarray:
        return cluster_activity(self.rec)

    @functools.cached_property
    def active(self) -> np.ndarray:
        # compare at the resolution of the stored activity: float32(0.3) is not above 0.3
        on, off = (np.asarray(x, self.rec.activity.dtype)
                   for x in (self.options.cluster_threshold, self.options.cluster_off_threshold))
        return active_clusters(self.per_cluster, on, off)

    @functools.cached_property
    def cluster_states(self) -> dict:
        return cluster_states(self.active, self.rec.sample_interval_ms, self.rec.duration_ms)

    @functools.cached_property
    def long_episodes(self) -> st.Runs:
        runs = st.single_cluster_runs(self.active)
        if self.options["episode_edges"] == "exclude":
            runs = st.inner_runs(runs, len(self.active))
        return st.long_runs(runs, self.rec.sample_interval_ms, self.options.min_episode_ms)

    @functools.cached_property
    def active_episodes(self) -> dict[str, st.ActiveEpisodeStatistics]:
        return {quantity: st.active_episode_statistics(series, self.rec.sampled_populations, self.rec.population_types,
                                                       self.rec.population_clusters, self.long_episodes)
                for quantity, series in self.series.items()}

    @functools.cached_property
    def category(self) -> np.ndarray:
        return st.category_of_blocks(self.rec.population_types, self.rec.population_clusters)

    @property
    def n_categories(self) -> int:
        return 2 * len(st.pair_types(self.rec.population_types))

    def _shape_categories(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values).reshape(-1, 2)  # (pair_type, relation)

    @functools.cached_property
    def blocks(self) -> dict[str, st.BlockCorrelations]:
        return {quantity: st.block_correlations(series, self.rec.sampled_populations, self.n_pop)
                for quantity, series in self.series.items()}

    @property
    def series(self) -> dict[str, np.ndarray]:
        return {"states": self.rec.sampled_states, "fields": self.rec.sampled_fields}

    def correlations(self, quantity: str) -> tuple[np.ndarray, np.ndarray]:
        r, pairs = st.category_means(self.blocks[quantity], self.category, self.n_categories)
        return self._shape_categories(r), self._shape_categories(pairs)

    def episode_correlations(self, quantity: str) -> np.ndarray:
        r, _ = st.episode_category_means(
            self.series[quantity], self.rec.sampled_populations, self.n_pop, self.category,
            self.n_categories, self.long_episodes)
        return self._shape_categories(r)

    def variance_split(self, quantity: str) -> tuple[np.ndarray, np.ndarray]:
        rec = self.rec
        if quantity == "states":
            mean = np.asarray(rec.neuron_activity, np.float64)
            variance = mean * (1.0 - mean)  # time variance of a binary series with mean m
        else:
            mean, variance = rec.field_mean, rec.field_variance
        return st.variance_split(mean, variance, rec.neuron_populations, self.n_pop)


REGISTRY = Registry()
register = REGISTRY.register


def _check_threshold(value, values) -> float:
    value = float(value)
    if not 0 < value < 1:
        raise ValueError(f"must be in (0, 1), got {value}")
    return value


def _check_off_threshold(value, values) -> float:
    value, threshold = float(value), values["cluster_threshold"]
    if not 0 <= value <= threshold:
        raise ValueError(f"must be in [0, cluster_threshold = {threshold:g}], got {value:g}")
    return value


def _check_neurons(value, values) -> int:
    if value < 2:
        raise ValueError(f"must be an integer >= 2, got {value}")
    return value


def _check_points_per_chunk(value, values) -> int | None:
    if value is None or value == "auto":
        return None
    if isinstance(value, str) or value < 1:
        raise ValueError(f"must be \"auto\" or an integer >= 1, got {value!r}")
    return value


def _check_min_episode(value, values) -> float:
    if isinstance(value, str):
        quantity = parse_quantity("output.min_episode", value)
        if quantity.unit != "ms":
            raise ValueError(f"must be a model time (\"<x> ms\" or \"<x> s\"), got {quantity}")
        value = quantity.value
    if not value >= 0:
        raise ValueError(f"must be >= 0, got {value}")
    return float(value)


def _check_episode_edges(value, values) -> str:
    if value not in ("exclude", "include"):
        raise ValueError(f"must be \"exclude\" or \"include\", got {value!r}")
    return value


#: The ``[output]`` options of the output as a whole and of the cluster-state measurements
#: (measurements registered elsewhere declare theirs with ``register(..., options=...)``).
REGISTRY.declare_options(
    OptionSpec("keep_traces", bool, True),  # store the time series (``trace=True``)
    OptionSpec("cluster_threshold", (int, float), 0.3, _check_threshold),
    OptionSpec("cluster_off_threshold", (int, float),
               lambda values: default_off_threshold(values["cluster_threshold"]), _check_off_threshold),
    OptionSpec("correlation_neurons", int, 100, _check_neurons),  # per population: docs/STATISTICS.md
    OptionSpec("min_episode", str, MIN_EPISODE_MS, _check_min_episode, name="min_episode_ms"),
    # episodes cut by the window's start or end: left out (the reference's default) or kept
    OptionSpec("episode_edges", str, "exclude", _check_episode_edges),
    OptionSpec("points_per_chunk", (int, str), "auto", _check_points_per_chunk),  # of the store
)
_FISHER = {"aggregation": "fisher_z"}


@register("activity", (TIME, POPULATION), "float32", "1",
          "fraction of active neurons per population", trace=True)
def _activity(ctx):
    return ctx.rec.activity


@register("population_activity", (POPULATION,), "float64", "1",
          "time-averaged fraction of active neurons per population")
def _population_activity(ctx):
    return np.mean(ctx.rec.activity, axis=0, dtype=np.float64)


@register("population_up_rate", (POPULATION,), "float64", "1/s",
          "up transitions per neuron per second, per population")
def _population_up_rate(ctx):
    return up_rate(ctx.rec.up_transitions, ctx.sizes, ctx.rec.duration_ms)


@register("cluster_activity_mean", (CLUSTER,), "float64", "1",
          "time-averaged excitatory activity per cluster")
def _cluster_activity_mean(ctx):
    return ctx.per_cluster.mean(axis=0)


@register("cluster_activity_std", (CLUSTER,), "float64", "1",
          "temporal standard deviation of excitatory activity per cluster")
def _cluster_activity_std(ctx):
    return ctx.per_cluster.std(axis=0)


def _register_cell_type(kind: str, word: str) -> None:
    @register(f"mean_activity_{kind}", (), "float64", "1", f"mean fraction of active {word} neurons")
    def _mean(ctx):
        return mean_activity(ctx.rec.activity, ctx.sizes, ctx.types == kind)

    @register(f"up_rate_{kind}", (), "float64", "1/s", f"up transitions per {word} neuron per second")
    def _up(ctx):
        select = ctx.types == kind
        return up_rate(ctx.rec.up_transitions[select].sum(), ctx.sizes[select].sum(),
                       ctx.rec.duration_ms)


for _kind, _word in (("E", "excitatory"), ("I", "inhibitory")):
    _register_cell_type(_kind, _word)


def _register_variance(quantity: str, word: str, units: str) -> None:
    @register(f"{quantity}_var_temporal", (POPULATION,), "float64", units,
              f"temporal variance of {word}: mean over neurons of the variance over time")
    def _temporal(ctx):
        return ctx.variance_split(quantity)[0]

    @register(f"{quantity}_var_quenched", (POPULATION,), "float64", units,
              f"quenched variance of {word}: variance over neurons of the time mean")
    def _quenched(ctx):
        return ctx.variance_split(quantity)[1]


_register_variance("states", "binary states", "1")
_register_variance("fields", "inputs h", "1")  # h is in units of the threshold V_th


@register("fields_mean", (POPULATION,), "float64", "1", "mean input h per population")
def _fields_mean(ctx):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(ctx.rec.neuron_populations, ctx.rec.field_mean, ctx.n_pop) / ctx.sizes


def _register_lookups(lookup, table, result: bool = True) -> None:
    """Register scalars read by name from a mapping ``lookup(ctx)``: (name, dtype, units, long);
    ``result=False`` for what is not a result of the model (``VariableSpec.result``)."""
    for name, dtype, units, long_name in table:
        def compute(ctx, name=name):
            return lookup(ctx)[name]
        register(name, (), dtype, units, long_name, result=result)(compute)


_register_lookups(lambda ctx: ctx.cluster_states, (
    ("fraction_none_active", "float64", "1", "fraction of samples with no active cluster"),
    ("fraction_one_active", "float64", "1", "fraction of samples with one active cluster"),
    ("fraction_multi_active", "float64", "1", "fraction of samples with two or more active clusters"),
    ("mean_active_clusters", "float64", "1", "mean number of active clusters"),
    ("switch_rate", "float64", "1/s", "changes of the set of active clusters per second"),
    ("single_dwell_ms", "float64", "ms", "mean dwell time of complete single-cluster episodes"),
    ("single_episodes", "int64", "1", "number of complete single-cluster episodes"),
))


@register("long_episodes", (), "int64", "1",
          "number of single-cluster episodes lasting at least min_episode")
def _long_episodes(ctx):
    return ctx.long_episodes.start.size


@register("long_episode_total_ms", (), "float64", "ms",
          "total duration of single-cluster episodes lasting at least min_episode")
def _long_episode_total(ctx):
    runs = ctx.long_episodes
    return np.sum(runs.end - runs.start) * ctx.rec.sample_interval_ms


@register("long_episode_mean_ms", (), "float64", "ms",
          "mean duration of single-cluster episodes lasting at least min_episode")
def _long_episode_mean(ctx):
    runs = ctx.long_episodes
    lengths = runs.end - runs.start
    return lengths.mean() * ctx.rec.sample_interval_ms if lengths.size else np.nan


def _register_correlations(quantity: str, word: str) -> None:
    @register(f"corr_{quantity}", (PAIR_TYPE, RELATION), "float64", "1",
              f"Fisher-z mean Pearson correlation of {word} by pair type and cluster relation",
              attrs=_FISHER)
    def _corr(ctx):
        return ctx.correlations(quantity)[0]

    @register(f"corr_{quantity}_pairs", (PAIR_TYPE, RELATION), "int64", "1",
              f"number of neuron pairs in corr_{quantity}")
    def _pairs(ctx):
        return ctx.correlations(quantity)[1]

    @register(f"corr_matrix_{quantity}", (POPULATION, POPULATION_OTHER), "float64", "1",
              f"Fisher-z mean Pearson correlation of {word} per pair of populations",
              attrs=_FISHER)
    def _matrix(ctx):
        return st.block_means(ctx.blocks[quantity])

    @register(f"corr_matrix_{quantity}_mean", (POPULATION, POPULATION_OTHER), "float64", "1",
              f"plain mean Pearson correlation of {word} per pair of populations (the reference's "
              "state_cluster_mean)")
    def _matrix_mean(ctx):
        return ctx.blocks[quantity].r_mean

    @register(f"corr_matrix_{quantity}_median", (POPULATION, POPULATION_OTHER), "float64", "1",
              f"median Pearson correlation of {word} per pair of populations (the reference's "
              "state_cluster_median)")
    def _matrix_median(ctx):
        return ctx.blocks[quantity].r_median

    @register(f"episode_corr_{quantity}", (PAIR_TYPE, RELATION), "float64", "1",
              f"corr_{quantity} inside single-cluster episodes of at least min_episode "
              "(Fisher-z mean over episodes)", attrs=_FISHER)
    def _episode(ctx):
        return ctx.episode_correlations(quantity)


def _register_active_episodes(quantity: str, word: str) -> None:
    @register(f"episode_corr_{quantity}_active", (RELATION,), "float64", "1",
              f"Fisher-z mean correlation of {word} of E pairs inside the active cluster (within) and of an "
              "active-cluster E neuron with another cluster's (across) in single-cluster episodes", attrs=_FISHER)
    def _corr(ctx):
        stats = ctx.active_episodes[quantity]
        return np.array([stats.corr_within, stats.corr_across])

    for part in ("temporal", "quenched"):
        for role in ("active", "inactive"):
            @register(f"episode_{quantity}_var_{part}_{role}", (), "float64", "1",
                      f"{part} variance of {word} of the {role} E cluster(s) in single-cluster episodes "
                      "(sampled neurons; inactive: mean over the other E clusters)")
            def _var(ctx, part=part, role=role):
                return getattr(ctx.active_episodes[quantity], f"var_{part}_{role}")


_register_correlations("states", "binary states")
_register_correlations("fields", "inputs h")
_register_active_episodes("states", "binary states")
_register_active_episodes("fields", "inputs h")


def _at_least(minimum: int):
    def check(value, values) -> int:
        if isinstance(value, bool) or value < minimum:
            raise ValueError(f"must be an integer >= {minimum}, got {value!r}")
        return value
    return check


def _check_stride(value, values) -> int:
    value = _at_least(0)(value, values)
    if value and values["raster_neurons"]:
        raise ValueError("give raster_neurons (per population) or raster_stride (every n-th neuron), not both")
    return value


#: Spike rasters (:mod:`sweeps.measure.raster`): ``raster_neurons`` evenly spaced neurons per
#: population or every ``raster_stride``-th neuron (both 0: no raster), at most
#: ``raster_events`` up-transition times each, for the points whose network index is below
#: ``raster_networks`` and init index below ``raster_inits`` (the other points hold NaN and a
#: count of -1, read as NaN).
RASTER_OPTIONS = (
    OptionSpec("raster_neurons", int, 0, _at_least(0)),
    OptionSpec("raster_stride", int, 0, _check_stride),
    OptionSpec("raster_events", int, 1000, _at_least(1)),
    OptionSpec("raster_networks", int, 1, _at_least(1)),
    OptionSpec("raster_inits", int, 1, _at_least(1)),
)


def rasters_enabled(options) -> bool:
    """Whether the ``[output]`` options ask for spike rasters."""
    return options["raster_neurons"] > 0 or options["raster_stride"] > 0


def wants_raster(options, network: int, init: int) -> bool:
    """Whether the point of ``network`` and ``init`` index records a raster."""
    return (rasters_enabled(options) and network < options["raster_networks"]
            and init < options["raster_inits"])


def raster_shape(population_sizes, options) -> tuple[int, int]:
    """``(raster_neuron, raster_event)`` lengths: raster neurons and the cap per neuron."""
    return raster_ids(population_sizes, options)[0].size, options["raster_events"]


def raster_ids(population_sizes, options) -> tuple[np.ndarray, np.ndarray]:
    """The raster neurons of ``options`` and their populations (:func:`raster_neurons`)."""
    return raster_neurons(population_sizes, options["raster_neurons"], options["raster_stride"])


@register("raster_times", (RASTER_NEURON, RASTER_EVENT), "float32", "ms",
          "up-transition times of the raster neurons after warm-up (first raster_events; NaN: none)",
          options=RASTER_OPTIONS, enabled=rasters_enabled)
def _raster_times(ctx):
    raster = ctx.rec.raster
    return raster.times if raster is not None else np.full(raster_shape(ctx.sizes, ctx.options), np.nan)


@register("raster_count", (RASTER_NEURON,), "int64", "1",
          "up transitions of each raster neuron in the window (-1: no raster at this point)",
          enabled=rasters_enabled)
def _raster_count(ctx):
    raster = ctx.rec.raster
    return raster.counts if raster is not None else np.full(raster_shape(ctx.sizes, ctx.options)[0], -1)


_register_lookups(lambda ctx: ctx.rec.wiring, (
    ("synapse_count", "int64", "1", "number of synapses (contacts)"),
    ("connected_pairs", "int64", "1", "number of connected neuron pairs"),
    ("density", "float64", "1", "connection density (connected pairs / possible pairs)"),
))
_register_lookups(lambda ctx: ctx.rec.wiring, (  # resources and wall times: not results of the model
    ("connectivity_bytes", "int64", "B", "memory used by the connectivity"),
    ("build_seconds", "float64", "s", "wall time to build the network"),
    ("simulation_seconds", "float64", "s", "wall time to simulate the network"),
    ("updates_per_second", "float64", "1/s", "neuron updates per second of wall time"),
), result=False)


def variable_specs(
    population_names: Sequence[str], n_clusters: int, n_samples: int, keep_traces: bool,
    output: Options | None = None,
) -> list[VariableSpec]:
    """List every variable :func:`measure` returns, in registration order.

    Parameters
    ----------
    population_names : sequence of str
        Population names of the model (length of the ``population`` dim).
    n_clusters : int
        Number of clusters (length of the ``cluster`` dim), see :func:`n_clusters_of`.
    n_samples : int
        Number of samples (length of the ``time`` dim); only used for validation here.
    keep_traces : bool
        Include the time series (``activity [time, population]``).
    output : Options, optional
        The ``[output]`` options; the optional measurements (rasters) they do not enable are
        left out (None: the defaults, which enable none).

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
    if output is None:
        output = Options(REGISTRY.resolve_options({}))
    return REGISTRY.specs(keep_traces, output)


def measure(recording: Recording, options: Options | Mapping | None = None, **values) -> dict[str, np.ndarray]:
    """Compute every stored variable of one grid point.

    Parameters
    ----------
    recording : Recording
        What the simulation delivered.
    options : Options or mapping, optional
        The ``[output]`` options (e.g. ``experiment.output``), by name; every option of
        :data:`REGISTRY` it leaves out has its default. Those of the built-in measurements:
        ``cluster_threshold`` (default 0.3: a cluster becomes active when its E activity
        exceeds it, strictly, with the threshold rounded to the dtype of
        ``recording.activity``, ...), ``cluster_off_threshold`` (... and stays active until
        its activity falls below this one; default two thirds of ``cluster_threshold``, so
        that a cluster hovering at the threshold does not count as switching on and off),
        ``keep_traces`` (default True: include the ``activity`` trace ``[time, population]``)
        ``min_episode_ms`` (default 200: shortest single-cluster episode entering
        ``long_episode*`` and ``episode_*``) and ``episode_edges`` (default ``"exclude"``:
        episodes touching the window's start or end are left out, as in the reference;
        ``"include"`` counts them with their observed length).
    **values
        Single options by name, over those of ``options``.

    Returns
    -------
    dict of str to ndarray
        Keys, shapes and dtypes exactly as :func:`variable_specs` lists them.

    Raises
    ------
    ValueError
        An unknown or invalid option.
    """
    given = {**(options.values if isinstance(options, Options) else options or {}), **values}
    known = {name for spec in REGISTRY.options.values() for name in (spec.key, spec.value_name)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"measure: unknown options {unknown}; allowed: {', '.join(sorted(known))}")
    resolved = Options(REGISTRY.resolve_options(given))
    return REGISTRY.compute(MeasureContext(recording, resolved), resolved["keep_traces"])
