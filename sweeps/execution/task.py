"""Run grid points: build the network, warm it up, record the measured window, measure.

:func:`run_batch` is the task shipped to workers: it runs several points and returns one
columnar :class:`PointBatch` (one stacked array per variable), so a task's results cross to
the driver as a few large arrays rather than many small ones.  It never raises for a failing
simulation: the error is recorded per point so the driver can store it and go on.
"""

from __future__ import annotations

import logging
import time
import traceback

import numpy as np

from sweeps.execution.initial import plan_start, start_copies, start_variables
from sweeps.execution.initial import start as start_network
from sweeps.measure.measurements import measure, raster_ids, wants_raster
from sweeps.measure.raster import RasterCollector
from sweeps.measure.recording import Recording
from sweeps.measure.registry import NO_CLUSTER
from sweeps.models.model import Layout
from sweeps.plan import SweepPlan
from sweeps.spec.seeds import RECORDING, PointSeeds
from sweeps.store.batch import PointBatch, PointResult

__all__ = ["TIMING_VARIABLES", "PointBatch", "PointResult", "record_point", "run_batch", "run_points"]

logger = logging.getLogger(__name__)

#: Variables that measure wall time: they differ between runs, everything else is bit-identical.
TIMING_VARIABLES = ("build_seconds", "simulation_seconds", "updates_per_second")


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


#: updates per diff-log block of a window with a raster (5 bytes each: 20 MiB)
RASTER_BLOCK_UPDATES = 2**22


def _run_window(net, steps: int, interval: int, recorders, neurons) -> RasterCollector | None:
    """Run the measured window; with raster ``neurons``, in diff-logged blocks of whole sample
    intervals whose up-transitions of those neurons are collected (the run does not depend on
    how it is split, so the other measurements are unchanged)."""
    if neurons is None:
        net.run(steps, recorders=recorders)
        return None
    collector = RasterCollector(neurons, net.N)
    block = max(1, RASTER_BLOCK_UPDATES // interval) * interval
    done = 0
    while done < steps:
        count = min(block, steps - done)
        net.enable_diff_logging(count)
        net.run(count, recorders=recorders)
        collector.add(*net.consume_diff_log())
        done += count
    return collector


def _record(experiment, seeds: PointSeeds, net, build_seconds: float, raster: bool = False) -> Recording:
    """Warm up, then run the measured window sample by sample and fill a Recording (with the
    up-transitions of the raster neurons when ``raster``)."""
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
    raster_neurons = raster_ids([p.N for p in pops], out)[0] if raster else None
    start = time.perf_counter()
    net.run(warmup)
    up_before = np.array(net.up_transitions, dtype=np.int64)  # a copy, whatever the model returns
    collector = _run_window(net, n_samples * interval, interval, recorders, raster_neurons)
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
        population_clusters=np.array([NO_CLUSTER if p.cluster is None else p.cluster for p in pops], np.int64),
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
        sampled_fields=neurons.field.astype(np.float32, copy=False),
        wiring=wiring,
        raster=None if collector is None else collector.raster(out["raster_events"], net.updates_per_ms),
    )


def _build(plan: SweepPlan, index: int):
    """Build the network of point ``index`` from its connectivity seed; (net, seconds)."""
    from binnet_core.warmup import warm_network

    sim = plan.experiment.simulation
    start = time.perf_counter()
    net = plan.model.build(plan.grid.parameters(index), plan.grid.seeds(index).connectivity,
                           sim.weight_mode, sim.ram_budget_gb)
    build_seconds = time.perf_counter() - start
    warm_network(net)  # the first network of a layout compiles its kernel outside the timed run
    return net, build_seconds


def _start_plan(plan: SweepPlan, index: int, layout: Layout):
    """The start of point ``index`` (:func:`sweeps.execution.initial.plan_start`)."""
    grid, simulation = plan.grid, plan.experiment.simulation
    focus_count = grid.run_options(index).get("focus_count", simulation.focus_count)
    return plan_start(plan.model, layout, grid.parameters(index), simulation, focus_count, grid.seeds(index))


def _started_recording(plan: SweepPlan, index: int, net, build_seconds: float, start_plan,
                       layout: Layout) -> tuple[Recording, dict[str, np.ndarray]]:
    """Restart ``net`` from point ``index``'s start and record it; (recording, start variables)."""
    experiment, grid = plan.experiment, plan.grid
    seeds = grid.seeds(index)
    if not callable(getattr(net, "reset", None)):
        raise TypeError(f"the network of model {experiment.model!r} has no reset(state=None, seed=None)")
    started = start_network(net, layout, start_plan, experiment.simulation, seeds)
    raster = wants_raster(experiment.output, grid.network(index), grid.init(index))
    return _record(experiment, seeds, net, build_seconds, raster), started


def _run_built(plan: SweepPlan, index: int, net, build_seconds: float, start_plan, layout: Layout) -> dict[str, np.ndarray]:
    """Restart ``net`` from point ``index``'s start, simulate and measure it."""
    recording, started = _started_recording(plan, index, net, build_seconds, start_plan, layout)
    values = measure(recording, plan.experiment.output)
    values.update(started)
    return values


def record_point(plan: SweepPlan, index: int) -> Recording:
    """Build, start and simulate point ``index`` as a run does and return its :class:`Recording`.

    The seeds are the point's own, so ``measure(record_point(plan, i), plan.experiment.output)``
    equals what a run stores for point ``i`` (timing variables aside); for analyses that need
    the sampled neurons' series, which a store does not keep.
    """
    if plan.model.point is not None:
        raise TypeError(f"model {plan.experiment.model!r} simulates its points itself: it leaves no Recording")
    net, build_seconds = _build(plan, index)
    layout = Layout.from_populations(net.populations)
    return _started_recording(plan, index, net, build_seconds, _start_plan(plan, index, layout), layout)[0]


def _failure(index: int, err: Exception, seconds: float) -> PointResult:
    logger.warning("point %d failed", index, exc_info=err)
    # the message on the first line (what `sweeps status` shows), then the full traceback
    message = f"{type(err).__name__}: {err}".splitlines()[0] + "\n\n" + "".join(traceback.format_exception(err))
    return PointResult(index, None, message, seconds)


def _run_point_model(plan: SweepPlan, index: int) -> PointResult:
    start = time.perf_counter()
    try:
        values = plan.model.point.simulate(plan.grid.parameters(index), plan.grid.seeds(index), plan.experiment)
    except Exception as err:
        return _failure(index, err, time.perf_counter() - start)
    return PointResult(index, values, None, time.perf_counter() - start)


def run_batch(plan: SweepPlan, indices) -> PointBatch:
    """Task body: :func:`run_points` as one columnar :class:`PointBatch`."""
    return PointBatch.from_results(run_points(plan, indices), plan.dtypes)


def run_points(plan: SweepPlan, indices) -> list[PointResult]:
    """Task body for several points: each network is built once and restarted for its inits.

    Points sharing parameters and network index (``Grid.build_key``: its inits, and the
    ``focus_count`` values) reuse one built network through ``net.reset``; results are
    bit-identical to building each point on its own.  Points of one init with the same start
    (:func:`sweeps.execution.initial.start_copies`) are simulated once: the others get its
    measurements with ``start_copy = 1``.  Errors are captured per point.
    """
    if plan.model.point is not None:
        return [_run_point_model(plan, index) for index in indices]
    results = []
    for group in plan.grid.network_groups(indices):
        start = time.perf_counter()
        try:
            net, build_seconds = _build(plan, group[0])
        except Exception as err:  # a failing point is recorded, the sweep goes on
            seconds = (time.perf_counter() - start) / len(group)
            results += [_failure(index, err, seconds) for index in group]
            continue
        try:  # every start of the network first: equal starts of one init run once
            layout = Layout.from_populations(net.populations)
            starts = [_start_plan(plan, index, layout) for index in group]
        except Exception as err:
            seconds = (time.perf_counter() - start) / len(group)
            results += [_failure(index, err, seconds) for index in group]
            continue
        copies = start_copies(starts, [plan.grid.init(index) for index in group])
        done: dict[int, PointResult] = {}
        for k, index in enumerate(group):
            original = done.get(copies[k]) if copies[k] is not None else None
            if original is not None and original.ok:  # a bit-identical run: copied, not simulated
                values = dict(original.values)
                values.update(start_variables(starts[k], layout, original.values["initial_activity"], copy=True))
                results.append(PointResult(index, values, None, 0.0))
                continue
            try:
                values = _run_built(plan, index, net, build_seconds, starts[k], layout)
            except Exception as err:
                results.append(_failure(index, err, time.perf_counter() - start))
            else:
                results.append(PointResult(index, values, None, time.perf_counter() - start))
            done[k] = results[-1]
            start = time.perf_counter()
    return results
