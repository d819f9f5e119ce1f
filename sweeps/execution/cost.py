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
  + points x POINT_SECONDS                                            (start, measure, write)

with ``updates = (warm-up + duration) x updates_per_ms`` and ``flips`` likewise (models that
declare no flip rate get the reference network's ``REFERENCE_FLIPS_PER_UPDATE``);
``builds`` is the number of distinct (parameters, network) pairs (inits and focus counts
reuse a built network); ``pairs = K (K - 1) / 2`` for ``K = sum over populations of
min(correlation_neurons, size)`` sampled neurons (known when the model declares its layout).
A flip reads its neuron's outgoing contacts, so the simulation grows with the activity: an
active point (kappa 0, p0 0.2) flips about twice as often per model second as the reference
network.  Each long single-cluster episode of a run repeats the pair correlations on its
samples (about ``pairs x 2 x PAIR_NS``, ~1 s at 100 neurons per population of N = 10^4); how
many a point has is known only after it ran, so they are not predicted.  The constants are fitted to ``benchmarks/bench_predictions.py`` on this project's
2-core machine (one core per point); that benchmark prints predicted against measured CPU
seconds per shipped experiment.

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
from sweeps.plan import SweepPlan

__all__ = ["BUILD_NS", "FLIP_NS", "LIMIT_EVALUATIONS", "MOMENT_NS", "PAIR_NS", "PAIR_SAMPLE_NS", "POINT_SECONDS",
           "REFERENCE_FLIPS_PER_UPDATE", "SAMPLE_SECONDS", "UPDATE_NS", "Prediction", "check_limits", "format_duration",
           "point_memory_bytes", "predict"]

BUILD_NS = 20.0  # per contact, per build (network build and its warm-up run)
UPDATE_NS = 3.0  # per update, independent of the wiring
FLIP_NS = 0.95  # per (estimated) flip and per mean outgoing contact (a flip's targets)
REFERENCE_FLIPS_PER_UPDATE = 0.07  # the estimate of the reference network (R_Eplus 7.25), per update
MOMENT_NS = 1.0  # per neuron and sample (running moments of every neuron's state and input)
PAIR_NS = 65.0  # per pair of sampled neurons (r, artanh, sums and medians of states and inputs)
PAIR_SAMPLE_NS = 0.1  # per pair and sample (float32 products, popcounts, long episodes)
SAMPLE_SECONDS = 1e-4  # per sample (the recorders' calls from Python, chunked runs)
POINT_SECONDS = 0.01  # per point (start, measurements other than pairs, writing)


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

    @property
    def seconds(self) -> float:
        return (self.build_seconds + self.simulation_seconds + self.correlation_seconds
                + self.overhead_seconds)

    @property
    def core_hours(self) -> float:
        return self.seconds / 3600.0

    def explain(self) -> str:
        """How the figure was obtained (one line)."""
        return (f"{self.builds} builds x contacts x {BUILD_NS} ns = {self.build_seconds:.3g} s; "
                f"{self.points} points, {self.updates:.3g} updates x {UPDATE_NS} ns + {self.flips:.3g} "
                f"flips x contacts/neuron x {FLIP_NS} ns = {self.simulation_seconds:.3g} s; statistics "
                f"(samples x (neurons x {MOMENT_NS} ns + {SAMPLE_SECONDS} s) + sampled pairs x ({PAIR_NS} ns + samples x "
                f"{PAIR_SAMPLE_NS} ns)) = {self.correlation_seconds:.3g} s; {self.points} x {POINT_SECONDS} s "
                "per point (constants from benchmarks/bench_predictions.py, see sweeps/execution/cost.py)")


#: distinct parameter sets whose cost is evaluated (evenly spread); larger grids are extrapolated
MAX_COST_EVALUATIONS = 256


def predict(plan: SweepPlan, indices=None, evaluations: int = MAX_COST_EVALUATIONS) -> Prediction | None:
    """Predict the single-core run time of all points (or of ``indices``); None without a cost.

    The model's cost is evaluated once per distinct parameter set (exact) when there are at
    most ``evaluations`` (default :data:`MAX_COST_EVALUATIONS`), else on that many sets evenly
    spread over the grid, each standing for an equal share of the others.  With ``indices``, exactly those points (and
    their builds) are predicted.
    """
    model, grid = plan.model, plan.grid
    if model.cost is None:
        return None
    if indices is not None:
        indices = [int(i) for i in indices]
        groups = grid.network_groups(indices)
        parts = [_point_seconds(plan, grid.parameters(group[0])) for group in groups]
        totals = np.zeros(5)
        for group, part in zip(groups, parts, strict=True):
            totals += np.array([part[0], *(len(group) * np.array(part[1:]))])
        return Prediction(len(indices), len(groups), totals[3], totals[0], totals[1], totals[2],
                          len(indices) * POINT_SECONDS, totals[4])
    keys = grid.build_parameter_points()
    chosen = keys if len(keys) <= evaluations else [
        keys[int(i)] for i in np.linspace(0, len(keys) - 1, evaluations).round()]
    builds_total, points = grid.n_builds(), len(grid)
    share = len(keys) / len(chosen)  # each evaluated set stands for this many sets
    totals = np.zeros(5)
    for index in chosen:
        build, simulation, statistics, updates, flips = _point_seconds(plan, grid.parameters(index))
        key_points = points / len(keys) * share
        totals += np.array([builds_total / len(keys) * share * build, key_points * simulation,
                            key_points * statistics, key_points * updates, key_points * flips])
    return Prediction(points, builds_total, totals[3], totals[0], totals[1], totals[2],
                      points * POINT_SECONDS, totals[4])


def _point_seconds(plan: SweepPlan, params: dict) -> tuple[float, float, float, float, float]:
    """(build, simulation, statistics seconds, updates, flips) of one point of ``params``."""
    sim = plan.experiment.simulation
    cost = plan.model.cost(params)
    ms = sum(q.value for q in (sim.duration, sim.warmup) if q.is_time)
    steps = sum(q.value for q in (sim.duration, sim.warmup) if not q.is_time)
    updates = ms * cost.updates_per_ms + steps
    per_ms = cost.flips_per_ms if cost.flips_per_ms is not None else (
        REFERENCE_FLIPS_PER_UPDATE * cost.updates_per_ms)
    flips = updates * per_ms / cost.updates_per_ms if cost.updates_per_ms > 0 else 0.0
    fanout = cost.contacts / max(cost.neurons, 1)
    simulation = (updates * UPDATE_NS + flips * fanout * FLIP_NS) * 1e-9
    statistics = (sim.n_samples * (cost.neurons * MOMENT_NS * 1e-9 + SAMPLE_SECONDS)
                  + _correlation_seconds(plan, params))
    return cost.contacts * BUILD_NS * 1e-9, simulation, statistics, updates, flips


def _correlation_seconds(plan: SweepPlan, params: dict) -> float:
    """Pair correlations of one point (0 when the model does not declare its layout)."""
    experiment, model = plan.experiment, plan.model
    if model.layout_fn is None:  # reading the layout would build a network
        return 0.0
    per_population = experiment.output.correlation_neurons
    sampled = sum(min(per_population, p.size) for p in model.layout(params).populations)
    pairs = sampled * (sampled - 1) / 2
    return pairs * (PAIR_NS + experiment.simulation.n_samples * PAIR_SAMPLE_NS) * 1e-9


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
