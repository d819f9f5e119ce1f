"""``sweeps validate``'s run-time prediction against measured CPU time, per shipped experiment.

Every ``experiments/*.toml`` (or the files given) at reduced size: the duration cut to
``--duration`` (warm-up, sample interval, neurons and the rest as shipped) and ``--points``
points spread evenly over the grid.  Those points run in this process on one thread
(``sweeps.execution.task.run_points``: builds, starts, simulation, recording, measurements),
after one unmeasured point per experiment that compiles the kernels; their CPU time
(``time.process_time``) is printed next to ``predict(plan, indices)`` for exactly those points,
with the parts (build, simulation, the rest) side by side; the run reports its parts' wall
times, printed as CPU seconds ``wall x (total CPU / total wall)``.  ``episodes`` counts the
long single-cluster episodes of the measured points: each repeats the pair correlations on
its samples (``pairs x 2 x PAIR_NS``), which no prediction can know before the run.

Run from the repository root::

    python benchmarks/bench_predictions.py [--duration "2 s"] [--points 4] [experiments/x.toml ...]
    python benchmarks/bench_predictions.py --duration full --points 10 experiments/paper/figure4.toml
    python benchmarks/bench_predictions.py --fit [files]

``--fit`` runs every chosen point on its own (each with its build) and fits the constants of
``sweeps/execution/cost.py`` to them by non-negative least squares of the relative error
(``scipy.optimize.nnls``, then scaled so that the median ratio of predicted to measured is 1,
as the least squares of ratios predicts low): ``BUILD_NS`` to the builds, ``UPDATE_NS`` and ``FLIP_NS`` to the
simulations, the statistics constants and ``POINT_SECONDS`` to the rest (CPU time less build,
simulation and the predicted raster windows).  It prints them next to the ones in use.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import nnls
from threadpoolctl import threadpool_limits

from sweeps.execution import cost
from sweeps.execution.cost import PointCounts, point_counts, predict
from sweeps.execution.task import run_points
from sweeps.plan import SweepPlan
from sweeps.spec.definition import load_experiment
from sweeps.spec.quantity import parse_quantity

HERE = Path(__file__).resolve().parents[1]


def _reduced(path: Path, duration: str, tmp: Path):
    """The experiment of ``path`` with ``simulation.duration`` replaced (text edit of the TOML).

    ``duration`` is a time (``"2 s"``) or ``"full"`` (as shipped).  A definition that gives its
    duration in steps gets the steps of that time at its first point's update rate
    (``ModelCost.updates_per_ms``), so its sample interval keeps its unit.
    """
    experiment = load_experiment(path)
    if duration == "full":
        return experiment
    if not experiment.simulation.duration.is_time:
        plan = SweepPlan.build(experiment)
        per_ms = plan.model.cost(plan.grid.parameters(0)).updates_per_ms
        duration = f"{round(parse_quantity('--duration', duration).value * per_ms)} steps"
    lines = path.read_text().splitlines()
    table = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
        elif table == "[simulation]" and stripped.split("=")[0].strip() in ("duration", "steps"):
            lines[i] = f'duration = "{duration}"'
    out = tmp / path.name
    out.write_text("\n".join(lines) + "\n")
    tomllib.loads(out.read_text())  # still valid TOML
    return load_experiment(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--duration", default="2 s",
                        help='measured model time per point (default 2 s; "full": as shipped)')
    parser.add_argument("--points", type=int, default=4, help="points per experiment (default 4)")
    parser.add_argument("--fit", action="store_true", help="fit the cost constants to the points run")
    args = parser.parse_args()
    threadpool_limits(1)  # BLAS on one thread, as in every sweep worker
    files = args.files or sorted((HERE / "experiments").glob("*.toml"))
    if args.fit:
        _fit(files, args.duration, args.points)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            experiment = _reduced(path, args.duration, Path(tmp))
            plan = SweepPlan.build(experiment)
            n = len(plan.grid)
            indices = sorted({int(i) for i in np.linspace(0, n - 1, min(args.points, n)).round()})
            run_points(plan, [indices[0]])  # compile kernels, fill caches: not measured
            prediction = predict(plan, indices)
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            results = run_points(plan, indices)
            cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
            failed = [r.error.splitlines()[0] for r in results if r.error]
            build = sum(float(r.values["build_seconds"]) for r in results if r.values and "build_seconds" in r.values)
            build *= len(plan.grid.network_groups(indices)) / max(len(results), 1)  # inits share a build
            simulation = sum(float(r.values["simulation_seconds"]) for r in results
                             if r.values and "simulation_seconds" in r.values)
            # the run reports wall times of its parts: CPU time of a part ~ its wall time x cpu / wall
            scale = cpu / wall if wall > 0 else 1.0
            episodes = sum(int(r.values["long_episodes"]) for r in results
                           if r.values and "long_episodes" in r.values)
            rows.append((path.name, len(indices), prediction, cpu, wall, build * scale, simulation * scale,
                         failed, episodes))
            _print_row(rows[-1], header=len(rows) == 1, duration=args.duration)
    ratios = [p.seconds / cpu for _, _, p, cpu, *_ in rows if p is not None and cpu > 0]
    load = os.getloadavg()
    print(f"predicted / measured CPU: {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(target 0.75..1.25); load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


@dataclass(frozen=True)
class MeasuredPoint:
    """One point run alone: its counts and measured CPU seconds per part (``rest``: the CPU time
    less build, simulation and the predicted raster windows)."""

    experiment: str
    counts: PointCounts
    build: float
    simulation: float
    rest: float


#: per part, the constants fitted to it: (name, count attribute or None for one per point, unit)
FIT_TERMS = {
    "build": [("BUILD_NS", "contacts", 1e-9)],
    "simulation": [("UPDATE_NS", "updates", 1e-9), ("FLIP_NS", "flip_contacts", 1e-9)],
    "rest": [("MOMENT_NS", "neuron_samples", 1e-9), ("SAMPLE_SECONDS", "samples", 1.0),
             ("PAIR_NS", "pairs", 1e-9), ("PAIR_SAMPLE_NS", "pair_samples", 1e-9), ("POINT_SECONDS", None, 1.0)],
}


def _measured_points(files, duration: str, points: int) -> list[MeasuredPoint]:
    """Every chosen point of every file, run on its own (each with its build)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            plan = SweepPlan.build(_reduced(path, duration, Path(tmp)))
            n = len(plan.grid)
            indices = sorted({int(i) for i in np.linspace(0, n - 1, min(points, n)).round()})
            run_points(plan, [indices[0]])  # compile kernels, fill caches: not measured
            for index in indices:
                start_cpu, start_wall = time.process_time(), time.perf_counter()
                (result,) = run_points(plan, [index])
                cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
                if result.error or not result.values:
                    continue
                scale = cpu / wall if wall > 0 else 1.0
                build = float(result.values["build_seconds"]) * scale
                simulation = float(result.values["simulation_seconds"]) * scale
                raster = predict(plan, [index]).raster_seconds
                rows.append(MeasuredPoint(path.name, point_counts(plan, plan.grid.parameters(index)), build,
                                          simulation, cpu - build - simulation - raster))
            print(f"{path.name}: {len(indices)} points run", flush=True)
    return rows


def _fit(files, duration: str, points: int) -> None:
    rows = _measured_points(files, duration, points)
    print(f"{len(rows)} points; constants: in use | fitted (relative error of the part: median, worst)")
    for part, terms in FIT_TERMS.items():
        kept = [r for r in rows if getattr(r, part) > 0]
        measured = np.array([getattr(r, part) for r in kept])
        design = np.array([[(getattr(r.counts, attr) if attr else 1.0) * unit for _, attr, unit in terms]
                           for r in kept])
        fitted, _ = nnls(design / measured[:, None], np.ones(len(kept)))
        fitted /= np.median(design @ fitted / measured)  # least squares of ratios predicts low: median ratio 1
        error = design @ fitted / measured - 1
        for (name, _, _), value in zip(terms, fitted, strict=True):
            print(f"  {name:16s} {getattr(cost, name):10.4g} | {value:10.4g}")
        print(f"  part {part}: {len(kept)} points, relative error median "
              f"{np.median(np.abs(error)):.2f}, worst {np.max(np.abs(error)):.2f}")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def _print_row(row, header: bool, duration: str) -> None:
    name, points, prediction, cpu, wall, build, simulation, failed, episodes = row
    if header:
        print(f"each experiment at duration {duration}, points spread over its grid, one thread; "
              "seconds: predicted | measured")
        print(f"{'experiment':24s} {'points':>6s} {'build':>15s} {'simulation':>15s} {'rest':>15s} "
              f"{'total CPU':>15s} {'ratio':>6s} {'episodes':>8s}")
    if prediction is None:
        print(f"{name:24s} {points:6d}  not predicted (the model declares no cost); measured {cpu:.3f} s")
        return
    rest_pred = prediction.correlation_seconds + prediction.overhead_seconds
    rest = cpu - build - simulation
    print(f"{name:24s} {points:6d} {prediction.build_seconds:7.2f} |{build:6.2f} "
          f"{prediction.simulation_seconds:7.2f} |{simulation:6.2f} {rest_pred:7.2f} |{rest:6.2f} "
          f"{prediction.seconds:7.2f} |{cpu:6.2f} {prediction.seconds / cpu:6.2f} {episodes:8d}"
          + (f"  ({len(failed)} failed: {failed[0]})" if failed else ""), flush=True)


if __name__ == "__main__":
    main()
