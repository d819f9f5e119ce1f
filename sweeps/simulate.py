"""Run one grid point: build the network, warm it up, record the measured window, measure.

:func:`run_point` is the task shipped to workers.  It never raises for a failing simulation:
the error is returned in :class:`PointResult` so the driver can record it and go on.
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from dataclasses import dataclass

import numpy as np

from binnet_core import (
    MeanStateRecorder,
    NeuronRecorder,
    PopulationActivityRecorder,
    warm_numba_caches,
)
from sweeps.grid import Grid
from sweeps.measurements import (
    Recording,
    VariableSpec,
    measure,
    n_clusters_of,
    variable_specs,
)
from sweeps.models import Layout, resolve

__all__ = [
    "TIMING_VARIABLES",
    "PointResult",
    "run_point",
    "run_points",
    "schema_variables",
    "simulate_point",
    "warm_numba_caches",
]

logger = logging.getLogger(__name__)

#: Variables that measure wall time: they differ between runs, everything else is bit-identical.
TIMING_VARIABLES = ("build_seconds", "simulation_seconds", "updates_per_second")
#: spawn_key suffix of the stream that picks the recorded neurons (distinct from the engine's).
_RECORDING_STREAM = 0x5245434F

@dataclass(frozen=True)
class PointResult:
    """Outcome of one grid point: measured ``values`` or an ``error`` message."""

    index: int
    values: dict[str, np.ndarray] | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


def schema_variables(experiment, layout: Layout) -> list[VariableSpec]:
    """The variables one grid point produces (inner dims only), for the store schema."""
    types = [p.cell_type for p in layout.populations]
    clusters = [-1 if p.cluster is None else p.cluster for p in layout.populations]
    return variable_specs(
        layout.names,
        n_clusters_of(types, clusters),
        experiment.simulation.n_samples,
        experiment.output.keep_traces,
    )


@functools.cache
def _model(name: str):
    return resolve(name)


def _steps(net, quantity) -> int:
    return int(quantity.value) if quantity.unit == "steps" else int(net.ms_to_steps(quantity.value))


def _record(experiment, index: int, net, build_seconds: float) -> Recording:
    """Warm up, then run the measured window sample by sample and fill a Recording."""
    sim, out = experiment.simulation, experiment.output
    interval = _steps(net, sim.sample_interval)
    warmup = _steps(net, sim.warmup)
    if interval < 1:
        raise ValueError(f"simulation.sample_interval: {sim.sample_interval} is less than one update step")
    n_samples = sim.n_samples
    pops = list(net.populations)
    e_neurons = np.concatenate(
        [np.arange(*p.view) for p in pops if p.cell_type == "E"] or [np.arange(0)]
    ).astype(np.int64)
    rng = np.random.default_rng(np.random.SeedSequence(experiment.seed, spawn_key=(index, _RECORDING_STREAM)))
    k = min(out.correlation_neurons, e_neurons.size)
    sampled = np.sort(rng.choice(e_neurons, size=k, replace=False)) if k else e_neurons
    neuron_cluster = np.full(net.N, -1, np.int64)
    for p in pops:
        neuron_cluster[slice(*p.view)] = -1 if p.cluster is None else p.cluster

    recorders = (PopulationActivityRecorder(interval), NeuronRecorder(sampled, interval),
                 MeanStateRecorder(interval))
    activity, neurons, mean_state = recorders
    start = time.perf_counter()
    net.run(warmup)
    up_before = np.array(net.up_transitions, dtype=np.int64)  # a copy, whatever the model returns
    net.run(n_samples * interval, recorders=recorders)
    sim_seconds = time.perf_counter() - start
    updates = warmup + n_samples * interval
    interval_ms = sim.sample_interval.value if sim.sample_interval.is_time else float(net.steps_to_ms(interval))
    wiring = dict(net.connectivity_stats())
    wiring.update(
        build_seconds=build_seconds,
        simulation_seconds=sim_seconds,
        updates_per_second=updates / sim_seconds if sim_seconds > 0 else np.nan,
    )
    return Recording(
        population_names=tuple(p.name for p in pops),
        population_sizes=np.array([p.N for p in pops], np.int64),
        population_types=tuple(p.cell_type or "" for p in pops),
        population_clusters=np.array([-1 if p.cluster is None else p.cluster for p in pops], np.int64),
        sample_interval_ms=interval_ms,
        duration_ms=interval_ms * n_samples,
        activity=activity.values.astype(np.float32),
        up_transitions=np.array(net.up_transitions, dtype=np.int64) - up_before,
        neuron_activity=mean_state.mean.astype(np.float32),
        sampled_neurons=sampled,
        sampled_clusters=neuron_cluster[sampled],
        sampled_states=neurons.state,
        sampled_fields=neurons.field.astype(np.float32),
        wiring=wiring,
    )


def simulate_point(experiment, index: int) -> dict[str, np.ndarray]:
    """Build, simulate and measure grid point ``index``; raises on failure.

    Returns
    -------
    dict of str to ndarray
        The variables of :func:`schema_variables` for this point.
    """
    grid = Grid.from_experiment(experiment)
    sim = experiment.simulation
    start = time.perf_counter()
    net = _model(experiment.model).build(grid.parameters(index), grid.seed(index), sim.weight_mode, sim.ram_budget_gb)
    recording = _record(experiment, index, net, time.perf_counter() - start)
    return measure(
        recording,
        cluster_threshold=experiment.output.cluster_threshold,
        cluster_off_threshold=experiment.output.cluster_off_threshold,
        keep_traces=experiment.output.keep_traces,
    )


def run_point(experiment, index: int) -> PointResult:
    """Task body: :func:`simulate_point` with errors captured in the result."""
    warm_numba_caches()
    start = time.perf_counter()
    try:
        values = simulate_point(experiment, index)
    except Exception as err:  # a failing point is recorded, the sweep goes on
        logger.warning("point %d failed", index, exc_info=True)
        # the message on the first line (what `sweeps status` shows), then the full traceback
        message = f"{type(err).__name__}: {err}".splitlines()[0] + "\n\n" + traceback.format_exc()
        return PointResult(index, None, message, time.perf_counter() - start)
    return PointResult(index, values, None, time.perf_counter() - start)


def run_points(experiment, indices) -> list[PointResult]:
    """Task body for a batch of points (tiny points amortise the per-task overhead)."""
    return [run_point(experiment, index) for index in indices]
