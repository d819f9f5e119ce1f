"""Run grid points: build the network, warm it up, record the measured window, measure.

:func:`run_batch` is the task shipped to workers: it runs several points and returns one
columnar :class:`PointBatch` (one stacked array per variable), so a task's results cross to
the driver as a few large arrays rather than many small ones.  It never raises for a failing
simulation: the error is recorded per point so the driver can store it and go on.
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from dataclasses import dataclass

import numpy as np

from sweeps.measure.measurements import Recording, measure, n_clusters_of, variable_specs
from sweeps.measure.registry import VariableSpec
from sweeps.models.checks import experiment_layout
from sweeps.models.model import Layout
from sweeps.models.registry import resolve
from sweeps.run.initial import initial_variable_specs
from sweeps.run.initial import start as start_network
from sweeps.spec.grid import Grid
from sweeps.spec.seeds import RECORDING, PointSeeds

__all__ = [
    "TIMING_VARIABLES",
    "PointBatch",
    "PointResult",
    "run_batch",
    "run_point",
    "run_points",
    "schema_variables",
    "simulate_point",
]

logger = logging.getLogger(__name__)

#: Variables that measure wall time: they differ between runs, everything else is bit-identical.
TIMING_VARIABLES = ("build_seconds", "simulation_seconds", "updates_per_second")


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


@dataclass(frozen=True, eq=False)
class PointBatch:
    """Outcomes of several grid points in columns (what a task returns, what the store writes).

    Parameters
    ----------
    index : ndarray of int64, shape (n,)
        Point indices (C order of the grid), each at most once.
    seconds : ndarray of float64, shape (n,)
        Compute seconds per point.
    error : tuple of str, length n
        Error message per point, ``""`` for a point that is ok.
    values : dict of str to ndarray
        Per variable, the values of the ok points stacked along a new first axis, in the order
        of ``index`` (shape ``(number ok, *inner)``).
    """

    index: np.ndarray
    seconds: np.ndarray
    error: tuple[str, ...]
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.index)

    @functools.cached_property
    def ok(self) -> np.ndarray:
        """Boolean mask of the ok points."""
        return np.array([not e for e in self.error], dtype=bool)

    @classmethod
    def from_results(cls, results: list[PointResult], dtypes: dict[str, np.dtype]) -> PointBatch:
        """Stack per-point results; each variable of ``dtypes`` is converted to its dtype once."""
        good = [r.values for r in results if r.ok]
        return cls(
            index=np.array([r.index for r in results], np.int64),
            seconds=np.array([r.seconds for r in results], np.float64),
            error=tuple(r.error or "" for r in results),
            values={name: np.stack([np.asarray(v[name], dtype) for v in good]) if good
                    else np.empty((0,), dtype) for name, dtype in dtypes.items()},
        )

    @classmethod
    def failed(cls, indices, message: str, dtypes: dict[str, np.dtype]) -> PointBatch:
        """Every point of ``indices`` failed with ``message`` (e.g. a task lost with its worker)."""
        return cls.from_results([PointResult(int(i), None, message, 0.0) for i in indices], dtypes)

    @classmethod
    def concat(cls, batches: list[PointBatch]) -> PointBatch:
        """One batch of all points of ``batches`` (non-empty list), in order."""
        if len(batches) == 1:
            return batches[0]
        names = batches[0].values
        return cls(
            index=np.concatenate([b.index for b in batches]),
            seconds=np.concatenate([b.seconds for b in batches]),
            error=tuple(e for b in batches for e in b.error),
            values={name: np.concatenate([b.values[name] for b in batches if len(b.values[name])]
                                         or [batches[0].values[name]]) for name in names},
        )

    def results(self) -> list[PointResult]:
        """The batch as per-point results (the inverse of :meth:`from_results`)."""
        rows = np.cumsum(self.ok) - 1
        return [PointResult(int(i), None if e else {n: v[rows[k]] for n, v in self.values.items()}, e or None, float(s))
                for k, (i, s, e) in enumerate(zip(self.index, self.seconds, self.error, strict=True))]


def schema_dtypes(experiment) -> dict[str, np.dtype]:
    """Dtype of every variable one grid point produces (the store's arrays)."""
    return {s.name: np.dtype(s.dtype) for s in schema_variables(experiment, experiment_layout(experiment))}


def schema_variables(experiment, layout: Layout) -> list[VariableSpec]:
    """The variables one grid point produces (inner dims only), for the store schema."""
    model = _model(experiment.model)
    if model.point is not None:  # a model that measures itself
        return list(model.point.variables(experiment))
    types = [p.cell_type for p in layout.populations]
    clusters = [-1 if p.cluster is None else p.cluster for p in layout.populations]
    return variable_specs(
        layout.names,
        n_clusters_of(types, clusters),
        experiment.simulation.n_samples,
        experiment.output.keep_traces,
    ) + initial_variable_specs()


@functools.cache
def _model(name: str):
    return resolve(name)


def _steps(net, quantity) -> int:
    return int(quantity.value) if quantity.unit == "steps" else int(net.ms_to_steps(quantity.value))


def _sample_neurons(rng: np.random.Generator, pops, per_population: int):
    """Seeded choice of up to ``per_population`` neurons in every population.

    Returns the sorted neuron ids and the population index of each.
    """
    chosen = [np.sort(rng.choice(np.arange(*p.view), size=min(per_population, p.N), replace=False))
              for p in pops]
    neurons = np.concatenate(chosen).astype(np.int64)
    populations = np.repeat(np.arange(len(pops)), [c.size for c in chosen]).astype(np.int64)
    return neurons, populations


def _record(experiment, seeds: PointSeeds, net, build_seconds: float) -> Recording:
    """Warm up, then run the measured window sample by sample and fill a Recording."""
    from binnet_core import (  # the engine only where it runs
        NeuronRecorder,
        PopulationActivityRecorder,
    )
    from binnet_core.recorders import MomentRecorder

    sim, out = experiment.simulation, experiment.output
    interval = _steps(net, sim.sample_interval)
    warmup = _steps(net, sim.warmup)
    if interval < 1:
        raise ValueError(f"simulation.sample_interval: {sim.sample_interval} is less than one update step")
    n_samples = sim.n_samples
    pops = list(net.populations)
    sampled, sampled_pops = _sample_neurons(seeds.rng(RECORDING), pops, out.correlation_neurons)
    recorders = (PopulationActivityRecorder(interval), NeuronRecorder(sampled, interval),
                 MomentRecorder(interval))
    activity, neurons, moments = recorders
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
        neuron_activity=moments.state_mean,
        field_mean=moments.field_mean,
        field_variance=moments.field_variance,
        sampled_neurons=sampled,
        sampled_populations=sampled_pops,
        sampled_states=neurons.state,
        sampled_fields=neurons.field.astype(np.float32),
        wiring=wiring,
    )


def _build(experiment, grid: Grid, index: int):
    """Build the network of point ``index`` from its connectivity seed; (net, seconds)."""
    from binnet_core.warmup import warm_network

    sim = experiment.simulation
    start = time.perf_counter()
    net = _model(experiment.model).build(grid.parameters(index), grid.seeds(index).connectivity,
                                         sim.weight_mode, sim.ram_budget_gb)
    build_seconds = time.perf_counter() - start
    warm_network(net)  # the first network of a layout compiles its kernel outside the timed run
    return net, build_seconds


def _run_built(experiment, grid: Grid, index: int, net, build_seconds: float) -> dict[str, np.ndarray]:
    """Restart ``net`` from point ``index``'s start seed, simulate and measure it."""
    seeds = grid.seeds(index)
    if not callable(getattr(net, "reset", None)):
        raise TypeError(f"the network of model {experiment.model!r} has no reset(state=None, seed=None)")
    focus_count = grid.run_options(index).get("focus_count", experiment.simulation.focus_count)
    started = start_network(net, _model(experiment.model), Layout.from_populations(net.populations),
                            grid.parameters(index), experiment.simulation, focus_count, seeds)
    recording = _record(experiment, seeds, net, build_seconds)
    values = measure(recording, experiment.output)
    values.update(started)
    return values


def simulate_point(experiment, index: int) -> dict[str, np.ndarray]:
    """Build, simulate and measure grid point ``index``; raises on failure.

    Returns
    -------
    dict of str to ndarray
        The variables of :func:`schema_variables` for this point.
    """
    grid = Grid.from_experiment(experiment)
    point_model = _model(experiment.model).point
    if point_model is not None:
        return point_model.simulate(grid.parameters(index), grid.seeds(index), experiment)
    net, build_seconds = _build(experiment, grid, index)
    return _run_built(experiment, grid, index, net, build_seconds)


def _failure(index: int, err: Exception, seconds: float) -> PointResult:
    logger.warning("point %d failed", index, exc_info=err)
    # the message on the first line (what `sweeps status` shows), then the full traceback
    message = f"{type(err).__name__}: {err}".splitlines()[0] + "\n\n" + "".join(traceback.format_exception(err))
    return PointResult(index, None, message, seconds)


def _run_point_model(point_model, experiment, grid: Grid, index: int) -> PointResult:
    start = time.perf_counter()
    try:
        values = point_model.simulate(grid.parameters(index), grid.seeds(index), experiment)
    except Exception as err:
        return _failure(index, err, time.perf_counter() - start)
    return PointResult(index, values, None, time.perf_counter() - start)


def run_point(experiment, index: int) -> PointResult:
    """Task body: :func:`simulate_point` with errors captured in the result."""
    return run_points(experiment, [index])[0]


def run_batch(experiment, indices) -> PointBatch:
    """Task body: :func:`run_points` as one columnar :class:`PointBatch`."""
    return PointBatch.from_results(run_points(experiment, indices), schema_dtypes(experiment))


def run_points(experiment, indices) -> list[PointResult]:
    """Task body for several points: each network is built once and restarted for its inits.

    Points sharing parameters and network index (``Grid.build_key``: its inits, and the
    ``focus_count`` values) reuse one built network through ``net.reset``; results are
    bit-identical to building each point on its own.  Errors are captured per point.
    """
    grid = Grid.from_experiment(experiment)
    point_model = _model(experiment.model).point
    if point_model is not None:
        return [_run_point_model(point_model, experiment, grid, index) for index in indices]
    results = []
    for group in grid.network_groups(indices):
        start = time.perf_counter()
        try:
            net, build_seconds = _build(experiment, grid, group[0])
        except Exception as err:  # a failing point is recorded, the sweep goes on
            seconds = (time.perf_counter() - start) / len(group)
            results += [_failure(index, err, seconds) for index in group]
            continue
        for index in group:
            try:
                values = _run_built(experiment, grid, index, net, build_seconds)
            except Exception as err:
                results.append(_failure(index, err, time.perf_counter() - start))
            else:
                results.append(PointResult(index, values, None, time.perf_counter() - start))
            start = time.perf_counter()
    return results
