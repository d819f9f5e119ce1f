"""What a sweep costs: its predicted run time (``sweeps validate``), the memory of a point and
the size of its store, and the check of all three against the definition's ``[limits]``.

The model declares per network its updates per ms of model time, its expected contacts and,
when it can, its expected state flips per ms (:class:`sweeps.models.model.ModelCost`; the
clustered E/I model takes them from the homogeneous mean-field state of the point:
``m N / tau`` summed over populations).  The prediction is::

    builds x contacts x BUILD_NS                                      (one build per network)
  + points x (updates x UPDATE_NS + flips x contacts / neurons x FLIP_NS)  (simulation)
  + points x samples x (neurons x MOMENT_NS + SAMPLE_SECONDS)          (recorders)
  + points x pairs x (PAIR_NS + samples x PAIR_SAMPLE_NS)              (pair correlations)
  + raster points x window updates x RASTER_UPDATE_NS                 (diff log of rasters)
  + points x POINT_SECONDS                                            (start, measure, write)

with ``updates = (warm-up + duration) x updates_per_ms`` and ``flips`` likewise (models that
declare no flip rate get the reference network's ``REFERENCE_FLIPS_PER_UPDATE``);
``builds`` is the number of distinct (parameters, network) pairs (inits and focus counts
reuse a built network); ``pairs = K (K - 1) / 2`` for ``K = sum over populations of
min(correlation_neurons, size)`` sampled neurons (known when the model declares its layout);
``raster points`` are those of the first ``raster_networks`` networks and ``raster_inits``
inits when ``[output]`` asks for rasters: their measured window (``duration x
updates_per_ms``) runs with the engine's diff log, whose entries are scanned for the raster
neurons' up-transitions.
A flip reads its neuron's outgoing contacts (about 0.5-0.8 ns per contact measured on dense
networks of N = 10^4), so the simulation grows with the activity.  The flip estimate is that of
the homogeneous state, which is off by up to 5x where that state is unstable (clustered
regimes: the network sits with few clusters up and flips less) and by 0.7-1.2x elsewhere;
fitted to whole runs, the constants therefore put most of the simulation on the updates
(``UPDATE_NS`` is a per-update average of a typical point, not the cost of an update alone).
Each long single-cluster episode of a run repeats the pair correlations on its samples (about
``pairs x 2 x PAIR_NS``); how many a point has is known only after it ran, so they are not
predicted.  The constants are fitted by ``python benchmarks/bench_predictions.py --fit`` (one
point of each shipped experiment at a time, 2 s of model time, one core of this project's
2-core machine, idle); without ``--fit`` it prints predicted against measured CPU seconds per
shipped experiment.  On an overloaded machine CPU seconds grow (2-3x at a load of 3-5 on 2 cores).
``PAIR_NS`` and ``PAIR_SAMPLE_NS`` were refitted after the Fisher-z sums went to one log per 32
pairs (27 and 0.007 before); the same two fits (idle, load average 1) gave ``UPDATE_NS`` 72 and
``BUILD_NS`` 6.4 against the 58 and 7.0 in use, fitted an hour earlier on unchanged code: the
2 vCPUs' speed drifts by that much, which bounds any constant's accuracy here.

Limits (:func:`check_limits`, before a store exists or a backend starts; arithmetic only,
nothing is allocated):

* memory of one point: the recorded series, ``T (8 P + 24 K)`` bytes for ``T`` samples, ``P``
  populations and ``K = sum over populations of min(correlation_neurons, size)`` sampled neurons
  (a float64 activity per population; per sampled neuron its state, its input and the float
  copies the correlations make), ``40 N`` bytes of per-neuron moments for ``N`` neurons, and
  the point's stored values (:attr:`SweepPlan.point_bytes`); against ``limits.point_memory_gb``.
  The connectivity is checked apart, against ``simulation.ram_budget_gb`` (the model's
  estimate, while the definition is read).
* the store: ``points x point_bytes`` (uncompressed) against ``limits.store_gb``.
* the predicted single-core hours (with :data:`LIMIT_EVALUATIONS` parameter sets) against
  ``limits.core_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sweeps.errors import DefinitionError
from sweeps.measure.measurements import rasters_enabled, wants_raster
from sweeps.plan import SweepPlan
from sweeps.spec.grid import INIT_KINDS, NETWORK_KINDS

__all__ = ["BUILD_NS", "FLIP_NS", "LIMIT_EVALUATIONS", "MOMENT_NS", "PAIR_NS", "PAIR_SAMPLE_NS", "POINT_SECONDS",
           "RASTER_UPDATE_NS", "REFERENCE_FLIPS_PER_UPDATE", "SAMPLE_SECONDS", "UPDATE_NS", "PointCounts", "Prediction",
           "check_limits", "format_duration", "point_counts", "point_memory_bytes", "predict"]

BUILD_NS = 7.0  # per contact, per build (measured 4-10 ns: page reuse makes builds bimodal)
UPDATE_NS = 58.0  # per update (an average that carries most of the flips; see above)
FLIP_NS = 0.064  # per (estimated) flip and per mean outgoing contact (a flip's targets)
REFERENCE_FLIPS_PER_UPDATE = 0.07  # the estimate of the reference network (R_Eplus 7.25), per update
MOMENT_NS = 17.0  # per neuron and sample (running moments of every neuron's state and input)
PAIR_NS = 12.0  # per pair of sampled neurons (r, Fisher-z by one log per 32 pairs, sums and medians of states and inputs)
PAIR_SAMPLE_NS = 0.009  # per pair and sample (float32 products, popcounts)
SAMPLE_SECONDS = 0.0  # per sample (the recorders' calls from Python, chunked runs)
RASTER_UPDATE_NS = 20.0  # per update of the measured window of a point with a raster (bench_raster.py)
POINT_SECONDS = 0.0  # per point (start, measurements other than pairs, writing)


@dataclass(frozen=True)
class Prediction:
    """Predicted single-core seconds of a sweep and what they are made of."""

    points: int
    builds: int
    updates: float
    build_seconds: float
    simulation_seconds: float
    correlation_seconds: float  # statistics: moments of every neuron and pair correlations
    overhead_seconds: float
    flips: float = 0.0
    raster_seconds: float = 0.0  # diff-logged windows of the points that record a raster

    @property
    def seconds(self) -> float:
        return (self.build_seconds + self.simulation_seconds + self.correlation_seconds
                + self.raster_seconds + self.overhead_seconds)

    @property
    def core_hours(self) -> float:
        return self.seconds / 3600.0

    def explain(self) -> str:
        """How the figure was obtained (one line)."""
        raster = (f"rasters: window updates x {RASTER_UPDATE_NS} ns = {self.raster_seconds:.3g} s; "
                  if self.raster_seconds else "")
        return (f"{self.builds} builds x contacts x {BUILD_NS} ns = {self.build_seconds:.3g} s; "
                f"{self.points} points, {self.updates:.3g} updates x {UPDATE_NS} ns + {self.flips:.3g} "
                f"flips x contacts/neuron x {FLIP_NS} ns = {self.simulation_seconds:.3g} s; statistics "
                f"(samples x (neurons x {MOMENT_NS} ns + {SAMPLE_SECONDS} s) + sampled pairs x ({PAIR_NS} ns + samples x "
                f"{PAIR_SAMPLE_NS} ns)) = {self.correlation_seconds:.3g} s; {raster}{self.points} x {POINT_SECONDS} s "
                "per point; not included: the pair correlations each long single-cluster episode repeats "
                "(their number is known only after the run) and the first compilation of the kernels "
                "(constants fitted by benchmarks/bench_predictions.py --fit, see sweeps/execution/cost.py)")


@dataclass(frozen=True)
class _PointCost:
    """Predicted parts of one point of a parameter set (seconds, and the counts behind them)."""

    build: float  # once per network
    simulation: float
    statistics: float
    raster: float  # if the point records a raster
    updates: float
    flips: float

    def totals(self, builds: float, points: float, raster_points: float) -> np.ndarray:
        """(build, simulation, statistics, raster seconds, updates, flips) of that many of each."""
        return np.array([builds * self.build, points * self.simulation, points * self.statistics,
                         raster_points * self.raster, points * self.updates, points * self.flips])


#: distinct parameter sets whose cost is evaluated (evenly spread); larger grids are extrapolated
MAX_COST_EVALUATIONS = 256


def predict(plan: SweepPlan, indices=None, evaluations: int = MAX_COST_EVALUATIONS) -> Prediction | None:
    """Predict the single-core run time of all points (or of ``indices``); None without a cost.

    The model's cost is evaluated once per distinct parameter set (exact) when there are at
    most ``evaluations`` (default :data:`MAX_COST_EVALUATIONS`), else on that many sets evenly
    spread over the grid, each standing for an equal share of the others.  With ``indices``, exactly those points (and
    their builds) are predicted.
    """
    model, grid, output = plan.model, plan.grid, plan.experiment.output
    if model.cost is None:
        return None
    if indices is not None:
        indices = [int(i) for i in indices]
        groups = grid.network_groups(indices)
        totals = np.zeros(6)
        for group in groups:
            rasters = sum(wants_raster(output, grid.network(i), grid.init(i)) for i in group)
            totals += _point_cost(plan, grid.parameters(group[0])).totals(1, len(group), rasters)
        return _prediction(len(indices), len(groups), totals)
    keys = grid.build_parameter_points()
    chosen = keys if len(keys) <= evaluations else [
        keys[int(i)] for i in np.linspace(0, len(keys) - 1, evaluations).round()]
    builds_total, points = grid.n_builds(), len(grid)
    share = len(keys) / len(chosen)  # each evaluated set stands for this many sets
    key_points = points / len(keys) * share
    raster_share = _raster_fraction(plan)
    totals = np.zeros(6)
    for index in chosen:
        totals += _point_cost(plan, grid.parameters(index)).totals(
            builds_total / len(keys) * share, key_points, key_points * raster_share)
    return _prediction(points, builds_total, totals)


def _prediction(points: int, builds: int, totals: np.ndarray) -> Prediction:
    build, simulation, statistics, raster, updates, flips = totals
    return Prediction(points, builds, updates, build, simulation, statistics, points * POINT_SECONDS,
                      flips, raster)


def _raster_fraction(plan: SweepPlan) -> float:
    """Share of the grid's points that record a raster (the first networks x inits asked)."""
    output = plan.experiment.output
    if not rasters_enabled(output):
        return 0.0
    share = 1.0
    for dim in plan.grid.dimensions:
        limit = {**dict.fromkeys(NETWORK_KINDS, output["raster_networks"]),
                 **dict.fromkeys(INIT_KINDS, output["raster_inits"])}.get(dim.kind)
        if limit is not None:
            share *= min(limit, dim.size) / dim.size
    return share


@dataclass(frozen=True)
class PointCounts:
    """What one point of a parameter set does, in the units the constants are priced in."""

    contacts: float  # of its network (a build)
    updates: float  # warm-up and measured window
    flips: float  # expected state flips in them
    flip_contacts: float  # flips x mean outgoing contacts per neuron
    neuron_samples: float  # neurons x samples (running moments)
    samples: float
    pairs: float  # pairs of sampled neurons
    pair_samples: float  # pairs x samples
    raster_updates: float  # updates of the measured window (diff-logged when it records a raster)


def point_counts(plan: SweepPlan, params: dict) -> PointCounts:
    """The counts of one point of ``params`` (the model's declared cost; see the module docstring)."""
    sim = plan.experiment.simulation
    cost = plan.model.cost(params)

    def updates_of(quantities) -> float:
        return sum(q.value * cost.updates_per_ms if q.is_time else q.value for q in quantities)

    updates = updates_of((sim.duration, sim.warmup))
    per_ms = cost.flips_per_ms if cost.flips_per_ms is not None else (
        REFERENCE_FLIPS_PER_UPDATE * cost.updates_per_ms)
    flips = updates * per_ms / cost.updates_per_ms if cost.updates_per_ms > 0 else 0.0
    pairs = _sampled_pairs(plan, params)
    return PointCounts(contacts=cost.contacts, updates=updates, flips=flips,
                       flip_contacts=flips * cost.contacts / max(cost.neurons, 1),
                       neuron_samples=float(sim.n_samples * cost.neurons), samples=float(sim.n_samples),
                       pairs=pairs, pair_samples=pairs * sim.n_samples,
                       raster_updates=updates_of((sim.duration,)))


def _point_cost(plan: SweepPlan, params: dict) -> _PointCost:
    """The predicted parts of one point of ``params``."""
    c = point_counts(plan, params)
    simulation = (c.updates * UPDATE_NS + c.flip_contacts * FLIP_NS) * 1e-9
    statistics = (c.neuron_samples * MOMENT_NS * 1e-9 + c.samples * SAMPLE_SECONDS
                  + (c.pairs * PAIR_NS + c.pair_samples * PAIR_SAMPLE_NS) * 1e-9)
    return _PointCost(c.contacts * BUILD_NS * 1e-9, simulation, statistics,
                      c.raster_updates * RASTER_UPDATE_NS * 1e-9, c.updates, c.flips)


def _sampled_pairs(plan: SweepPlan, params: dict) -> float:
    """Pairs of sampled neurons of one point (0 when the model does not declare its layout)."""
    experiment, model = plan.experiment, plan.model
    if model.layout_fn is None:  # reading the layout would build a network
        return 0.0
    per_population = experiment.output.correlation_neurons
    sampled = sum(min(per_population, p.size) for p in model.layout(params).populations)
    return sampled * (sampled - 1) / 2


def format_duration(seconds: float) -> str:
    """``"2.5 h"``, ``"1.1 min"``, ``"14 min"`` or ``"40 s"`` (two significant digits or more)."""
    if seconds >= 3600:
        return f"{seconds / 3600:.2g} h" if seconds < 36000 else f"{seconds / 3600:.0f} h"
    if seconds >= 60:
        return f"{seconds / 60:.2g} min" if seconds < 600 else f"{seconds / 60:.0f} min"
    return f"{seconds:.2g} s"


#: parameter sets whose cost is evaluated for the core-hour limit (the prediction extrapolates)
LIMIT_EVALUATIONS = 16
#: bytes of a float64 per population and sample; per sampled neuron and sample; per neuron
_POPULATION_SAMPLE_BYTES, _SAMPLED_NEURON_SAMPLE_BYTES, _NEURON_BYTES = 8, 24, 40


def point_memory_bytes(plan: SweepPlan) -> int:
    """Estimated peak bytes of one point's recording and results (see the module docstring)."""
    if plan.model.point is not None:  # a model that measures itself: its values only
        return plan.point_bytes
    experiment, populations = plan.experiment, plan.layout.populations
    samples = experiment.simulation.n_samples
    sampled = sum(min(experiment.output.correlation_neurons, p.size) for p in populations)
    neurons = sum(p.size for p in populations)
    series = samples * (_POPULATION_SAMPLE_BYTES * len(populations) + _SAMPLED_NEURON_SAMPLE_BYTES * sampled)
    return series + _NEURON_BYTES * neurons + plan.point_bytes


def check_limits(plan: SweepPlan) -> None:
    """Refuse a plan over its definition's limits (one line naming the limit to raise).

    Raises
    ------
    DefinitionError
        ``limits.point_memory_gb``, ``limits.store_gb`` or ``limits.core_hours``.
    """
    experiment = plan.experiment
    limits = experiment.limits
    memory = point_memory_bytes(plan)
    if memory > limits.point_memory_gb * 2**30:
        sim = experiment.simulation
        raise DefinitionError("limits.point_memory_gb", f"one point needs about {memory / 2**30:.3g} GB "
                              f"({sim.n_samples} samples of {len(plan.layout.populations)} populations and the "
                              f"sampled neurons, {plan.point_bytes / 2**30:.3g} GB of results), more than the limit of "
                              f"{limits.point_memory_gb:g} GB (fewer samples: simulation.sample_interval, fewer "
                              "output.correlation_neurons, or raise limits.point_memory_gb)")
    store = plan.point_bytes * experiment.n_points
    if store > limits.store_gb * 1e9:
        raise DefinitionError("limits.store_gb", f"the store would hold about {store / 1e9:.3g} GB ({experiment.n_points} "
                              f"points x {plan.point_bytes / 1e3:.3g} kB, uncompressed), more than the limit of "
                              f"{limits.store_gb:g} GB (raise limits.store_gb to run it)")
    prediction = predict(plan, evaluations=LIMIT_EVALUATIONS)
    if prediction is not None and prediction.core_hours > limits.core_hours:
        raise DefinitionError("limits.core_hours", f"the sweep is predicted to need about {prediction.core_hours:.3g} "
                              f"core-hours, more than the limit of {limits.core_hours:g} (see sweeps validate; raise "
                              "limits.core_hours to run it)")
