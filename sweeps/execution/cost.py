"""Run-time prediction of a sweep from the model's declared cost (``sweeps validate``).

The model declares per network its updates per ms of model time and its expected contacts
(:class:`sweeps.models.model.ModelCost`).  The prediction is::

    builds x contacts x BUILD_NS                                     (one build per network)
  + points x updates x (UPDATE_NS + FANOUT_NS x contacts / neurons)  (simulation)
  + points x pairs x samples x CORRELATION_NS                       (pair correlations)
  + points x POINT_SECONDS                                           (recording, measuring, writing)

with ``updates = (warm-up + duration) x updates_per_ms`` and ``builds`` the number of distinct
(parameters, network) pairs (inits and focus counts reuse a built network); ``pairs`` are
the pairs of sampled neurons (``K (K + 1) / 2`` for ``K = sum over populations of
min(correlation_neurons, size)``, known when the model declares its layout) and ``samples``
the samples of the measured window: the correlations of states and fields grow as ``K^2``
and dominate with hundreds of neurons per population (``CORRELATION_NS`` from
``benchmarks/bench_measurements.py --per-population 200 --seconds 2``: 0.8 s for
K = 6,000 and 200 samples; episode correlations can add up to as much again).  The constants
come from the README's benchmark figures on this project's 2-core machine (one core, dense
layout): the reference network (N = 10^4, 3 x 10^7 contacts) builds in 0.17-0.18 s and runs
0.030-0.033 s per model second, N = 10^5 (3 x 10^9 contacts) builds in 17-18 s and runs
3.9-4.3 s per model second; 1,000 tiny points run at 357 points/s.  The formula matches
those within about 20 %; activity far from the reference (many more or fewer flips) moves
the simulation term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sweeps.plan import SweepPlan

__all__ = ["BUILD_NS", "CORRELATION_NS", "FANOUT_NS", "POINT_SECONDS", "UPDATE_NS", "Prediction", "predict"]

BUILD_NS = 5.8  # per contact
UPDATE_NS = 3.0  # per update, independent of the wiring
FANOUT_NS = 0.0095  # per update and per mean outgoing contact (a flip's targets)
CORRELATION_NS = 0.22  # per pair of sampled neurons and sample (states and fields together)
POINT_SECONDS = 0.003  # per point


@dataclass(frozen=True)
class Prediction:
    """Predicted single-core seconds of a sweep and what they are made of."""

    points: int
    builds: int
    updates: float
    build_seconds: float
    simulation_seconds: float
    correlation_seconds: float
    overhead_seconds: float

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
                f"{self.points} points, {self.updates:.3g} updates x ({UPDATE_NS} ns + {FANOUT_NS} ns x "
                f"contacts/neuron) = {self.simulation_seconds:.3g} s; sampled pairs x samples x "
                f"{CORRELATION_NS} ns = {self.correlation_seconds:.3g} s; {self.points} x {POINT_SECONDS} s "
                "per point (constants from the README benchmarks, see sweeps/cost.py)")


#: distinct parameter sets whose cost is evaluated (evenly spread); larger grids are extrapolated
MAX_COST_EVALUATIONS = 256


def predict(plan: SweepPlan) -> Prediction | None:
    """Predict the single-core run time of all points; None if the model declares no cost.

    The model's cost is evaluated once per distinct parameter set (exact) when there are at
    most :data:`MAX_COST_EVALUATIONS`, else on that many sets evenly spread over the grid, each
    standing for an equal share of the others.
    """
    experiment, model, grid = plan.experiment, plan.model, plan.grid
    if model.cost is None:
        return None
    sim = experiment.simulation
    keys = grid.build_parameter_points()
    chosen = keys if len(keys) <= MAX_COST_EVALUATIONS else [
        keys[int(i)] for i in np.linspace(0, len(keys) - 1, MAX_COST_EVALUATIONS).round()]
    builds_total, points = grid.n_builds(), len(grid)
    share = len(keys) / len(chosen)  # each evaluated set stands for this many sets
    builds = simulation = correlation = updates_total = 0.0
    for index in chosen:
        params = grid.parameters(index)
        cost = model.cost(params)
        updates = sum(q.value * cost.updates_per_ms if q.is_time else q.value for q in (sim.duration, sim.warmup))
        per_update = (UPDATE_NS + FANOUT_NS * cost.contacts / max(cost.neurons, 1)) * 1e-9
        key_points = points / len(keys) * share
        builds += builds_total / len(keys) * share * cost.contacts * BUILD_NS * 1e-9
        simulation += key_points * updates * per_update
        updates_total += key_points * updates
        correlation += key_points * _correlation_seconds(plan, params)
    return Prediction(points, builds_total, updates_total, builds, simulation, correlation,
                      points * POINT_SECONDS)


def _correlation_seconds(plan: SweepPlan, params: dict) -> float:
    """Pair correlations of one point (0 when the model does not declare its layout)."""
    experiment, model = plan.experiment, plan.model
    if model.layout_fn is None:  # reading the layout would build a network
        return 0.0
    per_population = experiment.output.correlation_neurons
    sampled = sum(min(per_population, p.size) for p in model.layout(params).populations)
    pairs = sampled * (sampled + 1) / 2
    return pairs * experiment.simulation.n_samples * CORRELATION_NS * 1e-9


def format_duration(seconds: float) -> str:
    """``"2.5 h"``, ``"14 min"``, ``"1.1 min"`` or ``"40 s"``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.2g} min"
    return f"{seconds:.2g} s"
