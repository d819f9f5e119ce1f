"""The ``sweeps`` command (also ``python -m sweeps``).

Over 600 lines on purpose: the argument parser and one short function per command (eleven),
which share the exit codes, the error handling and the logging set-up; the work is done
elsewhere.

Commands::

    sweeps validate FILE [KEY=VALUE ...] [--json]   grid size, tasks, predicted store size
    sweeps run FILE [KEY=VALUE ...] --store PATH [--threads N | --processes N | --scheduler ADDR
                                                  | --cluster slurm|pbs] [--limit N]
    sweeps submit FILE [KEY=VALUE ...] --store PATH --cluster slurm|pbs   the driver as a batch job
    sweeps status STORE [--verify] [--json]   counts of todo/ok/failed points, failures listed
    sweeps show STORE [--json]           dimensions, variables and provenance
    sweeps export STORE OUT.nc           the store as one NetCDF file
    sweeps plot STORE -o FIG.png|.pdf|.svg (--var VAR --x AXIS --y AXIS | --var VAR --x AXIS --ci 0.95
                              | --point AXIS=VALUE ...)
    sweeps theory FILE [KEY=VALUE ...] --store PATH   only the mean-field theory of [theory]
    sweeps unlock STORE [--force]        remove a lock left by a dead driver (checks that it is safe)
    sweeps spectrum FILE [KEY=VALUE ...] [--largest K] [-o F.npz]   weight-matrix eigenvalues

``KEY=VALUE`` overrides set values of the definition without editing it: dotted keys into its
tables, TOML values (``simulation.duration="1 s" sweep.R_Eplus=[1,2,3]``); see
:mod:`sweeps.spec.overrides`.  The store records the overrides and the resulting definition.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import signal
import sys
from pathlib import Path

from sweeps.errors import (
    ArgumentError,
    ClusterConfigError,
    DefinitionError,
    MissingDependencyError,
    StoreError,
    StoreLockedError,
    StoreMismatchError,
    StoreWriteError,
    SubmitError,
    SweepsError,
)
from sweeps.execution.batch.config import add_cluster_arguments
from sweeps.execution.batch.systems import BATCH_SYSTEMS

# Heavy modules (numpy, zarr, xarray, dask, the engine) are imported inside the commands that
# use them, so that every command, ``sweeps --help`` included, starts fast.

EXIT_OK, EXIT_INCOMPLETE, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
#: the exit codes, as ``sweeps --help`` lists them
EXIT_CODES = """\
exit codes:
  0    success: every point ok, or the command did what it was asked (a --limit run that
       ran its share of points without a failure, validate, show, export, plot, ...)
  1    incomplete: some points failed or are not done (run, status), a store write failed
       mid-run (rerun to resume), or the batch system refused a job
  2    bad input: definition or override, arguments, [cluster] settings or requests no node
       can satisfy, unusable store path, store of another definition, store locked, an
       optional extra not installed (cluster, netcdf)
  130  interrupted by Ctrl-C (SIGINT); run the same command again to resume
  143  interrupted by SIGTERM (e.g. a batch system ending the job); run it again to resume
"""
#: commands that take KEY=VALUE overrides of the definition after FILE
OVERRIDE_COMMANDS = ("validate", "run", "submit", "theory", "spectrum")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("binnet-sweeps")
    except metadata.PackageNotFoundError:
        return "unknown"


def _load(args):
    """The experiment of ``args.file`` with the command line's overrides."""
    from sweeps.spec.definition import load_experiment

    return load_experiment(args.file, getattr(args, "overrides", ()))


def _print_json(document) -> None:
    import json

    print(json.dumps(document, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def _size(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1000
    return ""


def _validate(args) -> int:

    from sweeps.execution.batch.config import ClusterConfig
    from sweeps.execution.cost import check_limits, format_duration, predict
    from sweeps.execution.initial import count_start_copies
    from sweeps.plan import SweepPlan

    experiment = _load(args)
    plan = SweepPlan.build(experiment)
    check_limits(plan)
    layout, specs, per_point = plan.layout, plan.variables, plan.point_bytes
    if args.json:
        return _validate_json(args, experiment, plan)
    dims = " x ".join(f"{d.name}={d.size}" for d in experiment.dimensions)
    print(f"{args.file}: valid experiment {experiment.name!r} (model {experiment.model})")
    builds = plan.grid.n_builds()
    print(f"  grid: {dims} -> {experiment.n_points} points = {builds} tasks (one per network: its inits "
          "share one build)" if builds < experiment.n_points else
          f"  grid: {dims} -> {experiment.n_points} points = {experiment.n_points} tasks")
    print(f"  populations: {len(layout.populations)}, samples per point: {experiment.simulation.n_samples}")
    copies = count_start_copies(plan)
    if copies:
        print(f"  starts: {copies} of {experiment.n_points} points start from the same state as another point "
              "(same network, init and start, e.g. the homogeneous fixed point for several focus counts): "
              f"bit-identical copies, simulated once ({experiment.n_points - copies} simulations; "
              "initial_source and start_copy mark them)")
    print(f"  variables: {len(specs)}; predicted store size <= {_size(per_point * experiment.n_points)} (uncompressed)")
    prediction = predict(plan)
    if prediction is None:
        print("  run time: not predicted (the model declares no cost)")
    else:
        print(f"  run time: about {prediction.core_hours:.3g} core-hours "
              f"({format_duration(prediction.seconds)} on one core, "
              f"{format_duration(prediction.seconds / len(os.sched_getaffinity(0)))} on this machine's "
              f"{len(os.sched_getaffinity(0))} cores)")
        print(f"    how: {prediction.explain()}")
    if experiment.adaptive is not None:
        _print_adaptive(experiment)
    if experiment.cluster:  # the kind may come from --cluster later; the rest is checked now
        c = ClusterConfig.from_mapping(experiment.cluster, experiment.cluster.get("kind", next(iter(BATCH_SYSTEMS))))
        jobs = f"{c.adaptive.minimum}-{c.adaptive.maximum}" if c.adaptive else str(c.jobs)
        print(f"  cluster: {jobs} jobs x {c.cores} cores, {c.memory}, walltime {c.walltime}")
    return EXIT_OK


def _print_adaptive(experiment) -> None:
    from sweeps.spec.adaptive import coarse_lines

    a = experiment.adaptive
    axes = [d for d in experiment.dimensions if not d.kind.is_replicate]
    lattice = math.prod(d.size for d in axes)
    budget = a.budget.of(lattice)
    coarse = math.prod(len(coarse_lines(d.size, a.coarse_spacing)) for d in axes)
    reps = experiment.n_points // lattice
    rounds = f"rounds 1-{a.theory_rounds}" if a.theory_rounds > 1 else "round 1"
    seeding = f"; {rounds} seeded by the theory" if a.theory_seeding else ""
    print(f"  adaptive: lattice {' x '.join(d.name for d in axes)} = {lattice} points; budget {a.budget} = "
          f"{budget} lattice points ({budget * reps} simulations, {budget / lattice:.0%} of the run time above); "
          f"round 0 the coarse lattice ({coarse} points), then up to {a.batch} per round by {a.variable}{seeding}")


def _validate_json(args, experiment, plan) -> int:
    from sweeps.execution.batch.config import ClusterConfig
    from sweeps.execution.cost import predict

    prediction = predict(plan)
    cpus = len(os.sched_getaffinity(0))
    document = {
        "file": str(args.file), "valid": True, "experiment": experiment.name, "model": experiment.model,
        "overrides": list(experiment.overrides), "definition_sha256": experiment.sha256,
        "dimensions": {d.name: d.size for d in experiment.dimensions}, "points": experiment.n_points,
        "tasks": plan.grid.n_builds(), "populations": len(plan.layout.populations),
        "samples_per_point": experiment.simulation.n_samples,
        "variables": [s.name for s in plan.variables],
        "predicted_store_bytes": int(plan.point_bytes * experiment.n_points),
        "prediction": None if prediction is None else {
            "core_hours": prediction.core_hours, "seconds_one_core": prediction.seconds,
            "cores": cpus, "seconds_all_cores": prediction.seconds / cpus},
    }
    if experiment.cluster:
        c = ClusterConfig.from_mapping(experiment.cluster, experiment.cluster.get("kind", next(iter(BATCH_SYSTEMS))))
        document["cluster"] = {"kind": c.kind, "jobs": c.jobs, "cores": c.cores, "memory": str(c.memory),
                               "walltime": str(c.walltime)}
    _print_json(document)
    return EXIT_OK


def _executor(args, experiment):
    from sweeps.execution.backends import executor_for
    from sweeps.execution.batch.config import overrides_from_args

    if args.processes:
        return executor_for("processes", experiment, args.processes, dashboard=args.dashboard)
    if args.scheduler:
        return executor_for("scheduler", experiment, args.scheduler)
    if args.cluster:
        return executor_for(args.cluster, experiment, overrides=overrides_from_args(args), dashboard=args.dashboard)
    return executor_for("threads", experiment, args.threads)


def _submit(args) -> int:
    from sweeps.execution.batch.config import ClusterConfig, override_arguments, overrides_from_args
    from sweeps.execution.batch.submit import submit_driver
    from sweeps.execution.cost import check_limits
    from sweeps.plan import SweepPlan

    experiment = _load(args)
    check_limits(SweepPlan.build(experiment))  # before a job is submitted
    overrides = overrides_from_args(args)
    config = ClusterConfig.from_mapping(experiment.cluster, args.cluster).with_overrides(overrides)
    job = submit_driver(args.file, args.store, config, [*override_arguments(overrides), *args.overrides])
    print(f"submitted driver job {job.job_id}")
    print(f"log: {job.log_path}")
    print(f"progress: sweeps status {args.store}")
    return EXIT_OK


#: loggers of the dependencies that report a shutdown in progress (closed connections, cancelled
#: tasks) as errors with tracebacks
_SHUTDOWN_NOISE = ("distributed", "tornado", "asyncio", "bokeh")


def _quiet_shutdown() -> None:
    """After Ctrl-C / SIGTERM: the dependencies' messages about the shutdown are not shown (the
    command ends with its own one line)."""
    for name in _SHUTDOWN_NOISE:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


class Terminated(KeyboardInterrupt):
    """SIGTERM (batch systems stop jobs with it): the same clean-up as Ctrl-C, exit status 143."""


def _raise_interrupt(signum, frame):
    _quiet_shutdown()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(f"signal {signum}")


def _interrupted(err: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED


def _run(args) -> int:
    import numpy as np

    from sweeps.execution.driver import run_sweep
    from sweeps.store.sweep_store import Status, SweepStore

    experiment = _load(args)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # batch systems stop jobs with SIGTERM
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, _raise_interrupt)
    executor = _executor(args, experiment)
    try:
        summary = run_sweep(experiment, args.store, executor, progress=sys.stderr.isatty(), limit=args.limit,
                            progress_interval=args.progress_interval)
    except KeyboardInterrupt as err:
        _quiet_shutdown()
        try:
            store = SweepStore.open(args.store, mode="r")
            done = int(np.sum(store.status() == Status.OK))
        except (StoreError, OSError, ValueError):  # interrupted while the store was being created
            print("interrupted before the store was created (nothing was written); run the same command to start",
                  file=sys.stderr)
            return _interrupted(err)
        print(f"interrupted: {done}/{experiment.n_points} points done; run the same command to resume",
              file=sys.stderr)
        return _interrupted(err)
    print(f"{args.store}: {summary}")
    if summary.failed:
        print(f"failures are listed by: sweeps status {args.store}")
    if summary.complete:
        return EXIT_OK
    # --limit N: done when it ran its share (N points, or every pending one) without a failure
    did_share = args.limit is not None and not summary.failed and not summary.interrupted and (
        summary.executed >= args.limit or summary.already_ok + summary.executed == summary.total)
    return EXIT_OK if did_share else EXIT_INCOMPLETE


#: failure messages listed by ``sweeps status`` (the largest groups)
_STATUS_GROUPS = 10


def _status(args) -> int:
    import numpy as np

    from sweeps.store.lock import StoreLock
    from sweeps.store.sweep_store import Status, SweepStore

    if args.verify:
        with StoreLock(args.store):
            report = SweepStore.open(args.store).check()
        reset = report.reset
        for damage in report.damage:
            where = "" if damage.chunk is None else f" (chunk {'.'.join(map(str, damage.chunk))})"
            text = damage.problem if damage.chunk is None else damage.problem.split(" ", 2)[-1]
            points = (f"; ok points reset to todo: {damage.points[:10]}{' ...' if len(damage.points) > 10 else ''}"
                      if damage.points else "")
            print(f"damaged: {damage.name}{where}: {text}{points}")
        print(f"verify: {len(reset)} ok points had damaged chunks and are todo again"
              + (f": {reset[:20]}{' ...' if len(reset) > 20 else ''}" if reset else ""))
        if report.fatal:
            print(f"error: {args.store} has damage a resume cannot repair (see above): run the definition "
                  "into a new store", file=sys.stderr)
            return EXIT_BAD_INPUT
    store = SweepStore.open(args.store, mode="r")
    status = store.status()
    counts = np.bincount(status.ravel(), minlength=len(Status))
    complete = EXIT_OK if counts[Status.OK] + counts[Status.UNSAMPLED] == status.size else EXIT_INCOMPLETE
    adaptive = _adaptive_progress(store)
    runs = store.attrs.get("runs", [])
    rounds_pending = adaptive is not None and (not runs or runs[-1].get("rounds_pending", True))
    if rounds_pending:  # the last run stopped before choosing all its rounds
        complete = EXIT_INCOMPLETE
    if args.json:
        failures = []
        for group in store.failure_groups(status) if counts[Status.FAILED] else []:
            coords = np.unravel_index(group.first, store.shape)
            failures.append({"message": group.message, "count": group.count, "first": group.first,
                             "first_coords": {d: int(c) for d, c in zip(store.dims, coords, strict=True)}})
        _print_json({"store": str(args.store), "points": int(status.size), "dims": list(store.dims),
                     "shape": list(store.shape), **{code.meaning: int(counts[code]) for code in Status},
                     "complete": complete == EXIT_OK, "failures": failures,
                     **({"adaptive": dataclasses.asdict(adaptive)} if adaptive is not None else {})})
        return complete
    print(f"{args.store}: {status.size} points: "
          + ", ".join(f"{counts[code]} {code.meaning}" for code in Status if code != Status.UNSAMPLED
                      or adaptive is not None))
    if adaptive is not None:
        print(f"  adaptive: {adaptive}" + ("; more rounds to choose: run the definition again" if rounds_pending else ""))
    if counts[Status.FAILED]:
        groups = store.failure_groups(status)
        for group in groups[:_STATUS_GROUPS]:
            coords = np.unravel_index(group.first, store.shape)
            where = ", ".join(f"{d}[{int(c)}]" for d, c in zip(store.dims, coords, strict=True))
            print(f"  {group.count} failed: {group.message} (first: point {group.first}, {where})")
        if len(groups) > _STATUS_GROUPS:
            rest = sum(g.count for g in groups[_STATUS_GROUPS:])
            print(f"  ... {len(groups) - _STATUS_GROUPS} more messages ({rest} points): "
                  "see the error variable of open_results")
    return complete


def _adaptive_progress(store):
    """Rounds and budget of an adaptive store (None for other stores)."""
    from sweeps.execution.adaptive import progress
    from sweeps.spec.definition import parse_experiment
    from sweeps.store.sweep_store import ROUND_VARIABLE

    if ROUND_VARIABLE not in store.group:
        return None
    try:
        experiment = parse_experiment(store.attrs["sweeps_definition"])
    except DefinitionError:  # e.g. a custom model not importable here: rounds without the budget
        experiment = None
    return progress(store, experiment)


def _unlock(args) -> int:
    from sweeps.store.lock import unlock

    print(unlock(args.store, force=args.force))
    return EXIT_OK


def _show(args) -> int:
    import numpy as np

    from sweeps.store.results import open_results
    from sweeps.store.sweep_store import Status

    ds = open_results(args.store)
    if args.json:
        return _show_json(args, ds)
    print(f"{args.store}: {ds.attrs.get('title', '')} (model {ds.attrs.get('model')})")
    print("dimensions:")
    for dim, size in ds.sizes.items():
        coord = ds[dim].values if dim in ds.coords else np.arange(size)
        shown = ", ".join(str(v) for v in coord[:6]) + (", ..." if size > 6 else "")
        print(f"  {dim:<20} {size:>6}  [{shown}]")
    print("variables:")
    order = [*ds.attrs.get("sweeps_variables", []), "status", "error"]
    for name in sorted(ds.data_vars, key=lambda n: order.index(n) if n in order else len(order)):
        var = ds[name]
        print(f"  {name:<28} {str(var.encoding.get('dtype', var.dtype)):<8} {'(' + ', '.join(var.dims) + ')':<40} "
              f"{var.attrs.get('units', ''):<5} {var.attrs.get('long_name', '')}")
    status = ds["status"].values
    print(f"status: {int(np.sum(status == Status.OK))}/{status.size} ok, {int(np.sum(status == Status.FAILED))} failed")
    versions = ", ".join(f"{k} {v}" for k, v in ds.attrs.get("versions", {}).items())
    print(f"created {ds.attrs.get('created')} on {ds.attrs.get('host')}; git {ds.attrs.get('git_commit') or '-'}")
    print(f"definition sha256 {ds.attrs.get('sweeps_definition_sha256')}; {versions}")
    for run in ds.attrs.get("runs", []):
        print(f"  run {run.get('started')} -> {run.get('finished')} on {run.get('host')} ({run.get('backend')}): "
              f"{run.get('executed', 0)} executed, {run.get('ok', 0)} ok, {run.get('failed', 0)} failed")
    return EXIT_OK


def _show_json(args, ds) -> int:
    import numpy as np

    from sweeps.store.sweep_store import Status

    def dtype(var) -> str:  # the stored type (an integer variable with _FillValue reads as float)
        return str(var.encoding.get("dtype", var.dtype))

    status = ds["status"].values
    point_dims = ds.attrs.get("sweeps_point_dims", [])
    attrs = ds.attrs
    _print_json({
        "store": str(args.store), "title": attrs.get("title", ""), "experiment": attrs.get("experiment"),
        "model": attrs.get("model"),
        "dimensions": {str(dim): {"size": int(size), "point_dim": dim in point_dims,
                                  **({"values": ds[dim].values.tolist()} if dim in ds.coords else {}),
                                  **{k: ds[dim].attrs[k] for k in ("units", "long_name") if dim in ds.coords and k in ds[dim].attrs}}
                       for dim, size in ds.sizes.items()},
        "variables": {str(name): {"dtype": dtype(var), "dims": list(var.dims), "units": var.attrs.get("units", ""),
                                  "long_name": var.attrs.get("long_name", "")} for name, var in ds.data_vars.items()},
        "points": int(status.size), "ok": int(np.sum(status == Status.OK)), "failed": int(np.sum(status == Status.FAILED)),
        **{k: attrs.get(k) for k in ("created", "host", "git_commit", "sweeps_definition_sha256", "versions",
                                      "Conventions", "history", "runs")},
    })
    return EXIT_OK


def _plot(args) -> int:
    from sweeps.analysis.plots import plot_command  # matplotlib only when plotting

    if not Path(args.store, "zarr.json").exists():
        raise StoreError(f"{args.store} is not a sweeps store (no zarr.json)")
    try:
        path = plot_command(args.store, args.output, var=args.var, x=args.x, y=args.y, point=args.point,
                            width=args.width, height=args.height, dpi=args.dpi, ci=args.ci,
                            over=tuple(args.over), interpolate=args.interpolate)
    except (ValueError, KeyError) as err:
        print(f"error: {str(err).strip(chr(39))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {path}")
    return EXIT_OK


def _theory(args) -> int:
    from sweeps.store.growth import open_store
    from sweeps.store.lock import StoreLock
    from sweeps.theory.compute import write_theory

    experiment = _load(args)
    if experiment.theory is None:
        raise DefinitionError("theory", "the definition has no [theory] table (focus_counts = [...])")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with StoreLock(args.store):
        store, plan = open_store(args.store, experiment)  # the plan follows the store's axis order
        ds = write_theory(store, plan)
    experiment = plan.experiment
    points = math.prod(experiment.shape)
    print(f"{args.store}: mean-field theory for {points} grid points "
          f"({len(experiment.theory.focus_counts)} focus counts) written: "
          + ", ".join(str(v) for v in ds.data_vars))
    return EXIT_OK


def _spectrum(args) -> int:
    from sweeps.analysis.spectrum import point_spectra
    from sweeps.spec.grid import Grid

    experiment = _load(args)
    grid = Grid.from_experiment(experiment)
    try:
        spectra = point_spectra(experiment, k=args.largest, which=args.which)
    except SweepsError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{'point':<40} {'n':>6} {'rho_95':>9} {'max|l|':>9} {'max Re l':>9}")
    for index, spectrum in spectra.items():
        print(f"{grid.label(index):<40} {spectrum.eigenvalues.size:>6} {spectrum.radius_95:>9.4g} "
              f"{spectrum.radius:>9.4g} {spectrum.max_real:>9.4g}")
    if args.output is not None:
        import numpy as np

        np.savez(args.output, **{f"point{i}": s.eigenvalues for i, s in spectra.items()},
                 labels=np.array([grid.label(i) for i in spectra]))
        print(f"wrote {args.output}")
    return EXIT_OK


def _export(args) -> int:
    from sweeps.store.export import to_netcdf  # h5netcdf only when exporting

    if not Path(args.store, "zarr.json").exists():
        raise StoreError(f"{args.store} is not a sweeps store (no zarr.json)")
    print(f"wrote {to_netcdf(args.store, args.output)}")
    return EXIT_OK


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``sweeps run: error: ...``), exit code 2; subparsers inherit it."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="sweeps", description="Parameter sweeps of binary networks into one Zarr store.",
                            epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v: this package's debug messages; -vv: every library's too")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def definition_arguments(p) -> None:
        p.add_argument("file", type=Path)
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", default=[],
                       help='override a value of the definition: dotted key, TOML value '
                            '(simulation.duration="1 s" sweep.R_Eplus=[1,2,3])')

    p = sub.add_parser("validate", help="check a definition and report grid and store size")
    definition_arguments(p)
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(func=_validate)
    p = sub.add_parser("run", help="run (or resume) a sweep into a store")
    definition_arguments(p)
    p.add_argument("--store", required=True, type=Path, help="Zarr store directory")
    backend = p.add_mutually_exclusive_group()
    backend.add_argument("--threads", type=int, metavar="N", help="local threads (default: all CPUs)")
    backend.add_argument("--processes", type=int, metavar="N", help="local worker processes")
    backend.add_argument("--scheduler", metavar="ADDRESS", help="a running dask scheduler, tcp://HOST:PORT")
    backend.add_argument("--cluster", choices=tuple(BATCH_SYSTEMS), help="submit workers with dask-jobqueue")
    p.add_argument("--limit", type=int, metavar="N", help="run at most N pending points")
    p.add_argument("--progress-interval", type=float, default=60.0, metavar="SECONDS",
                   help="without a terminal (batch logs): a progress line every SECONDS (default 60; 0: none)")
    p.add_argument("--dashboard", metavar="127.0.0.1:PORT", default=None,
                   help="dashboard address of --processes and --cluster (default 127.0.0.1:8787; "
                        "another port if that one is taken: the log names it)")
    add_cluster_arguments(p)
    p.set_defaults(func=_run)
    p = sub.add_parser("submit", help="submit the whole sweep, driver included, as a batch job")
    definition_arguments(p)
    p.add_argument("--store", required=True, type=Path, help="Zarr store directory")
    p.add_argument("--cluster", choices=tuple(BATCH_SYSTEMS), help="batch system (default: [cluster] kind)")
    add_cluster_arguments(p)
    p.set_defaults(func=_submit)
    p = sub.add_parser("status", help="count todo/ok/failed points and list failures")
    p.add_argument("store", type=Path)
    p.add_argument("--verify", action="store_true",
                   help="check every chunk of the ok points; damaged points become todo (rerun repairs them)")
    p.add_argument("--json", action="store_true", help="the counts and failure groups as JSON")
    p.set_defaults(func=_status)
    p = sub.add_parser("unlock", help="remove a store's lock if it is safe (dead holder, expired lease, malformed)")
    p.add_argument("store", type=Path)
    p.add_argument("--force", action="store_true",
                   help="also remove a lock of another host whose lease still runs (that job must be gone)")
    p.set_defaults(func=_unlock)
    p = sub.add_parser("show", help="summarize a store's dimensions, variables and provenance")
    p.add_argument("store", type=Path)
    p.add_argument("--json", action="store_true", help="dimensions, variables and provenance as JSON")
    p.set_defaults(func=_show)
    p = sub.add_parser("export", help="write the store as one NetCDF file")
    p.add_argument("store", type=Path)
    p.add_argument("output", type=Path, help="NetCDF file to write, e.g. results.nc")
    p.set_defaults(func=_export)
    p = sub.add_parser("plot", help="figure of a phase diagram (--var --x --y) or of one point's traces (--point)")
    p.add_argument("store", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="file to write; the extension gives the format: .png, .pdf or .svg")
    p.add_argument("--var", help="variable of the phase diagram")
    p.add_argument("--x", metavar="AXIS", help="swept axis along x")
    p.add_argument("--y", metavar="AXIS", help="swept axis along y")
    p.add_argument("--point", nargs="+", metavar="AXIS=VALUE", help="fix swept axes (traces: the point to draw)")
    p.add_argument("--interpolate", action="store_true",
                   help="adaptive store: fill the unsampled lattice points by linear interpolation")
    p.add_argument("--ci", type=float, metavar="LEVEL",
                   help="line of --var against --x with its bootstrap band at LEVEL (e.g. 0.95)")
    p.add_argument("--over", nargs="+", default=["network"], metavar="DIM",
                   help="replicate dims of the band, outermost first (default: network, or seed)")
    p.add_argument("--width", type=float, default=6.4, help="inches (default 6.4)")
    p.add_argument("--height", type=float, default=4.8, help="inches (default 4.8)")
    p.add_argument("--dpi", type=float, default=100.0, help="pixels per inch (default 100)")
    p.set_defaults(func=_plot)
    p = sub.add_parser("theory", help="write only the mean-field theory of the [theory] table")
    definition_arguments(p)
    p.add_argument("--store", required=True, type=Path, help="Zarr store directory")
    p.set_defaults(func=_theory)
    p = sub.add_parser("spectrum", help="eigenvalues of the weight matrix of every network (parameter set x network)")
    definition_arguments(p)
    p.add_argument("--largest", type=int, metavar="K", help="only the K largest (ARPACK); default: all (dense)")
    p.add_argument("--which", choices=("LM", "LR"), default="LM",
                   help="with --largest: largest magnitude (LM, default) or real part (LR)")
    p.add_argument("-o", "--output", type=Path, help="write the eigenvalues to this .npz file")
    p.set_defaults(func=_spectrum)
    return parser


#: the loggers of this package (INFO by default, DEBUG with -v)
PACKAGE_LOGGERS = ("sweeps", "binnet_core")


def configure_logging(verbose: int = 0) -> None:
    """This package's loggers at INFO (``verbose`` 1: DEBUG), every other library at WARNING
    (``verbose`` >= 2: DEBUG).  Dask worker processes started later inherit the level through
    ``DASK_LOGGING__DISTRIBUTED`` (unless that is set already); so do batch worker jobs, whose
    environment is the driver's (set ``DASK_LOGGING__DISTRIBUTED=info`` to keep distributed's
    INFO messages in their log files)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for name in PACKAGE_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("binnet_core.compile").setLevel(logging.NOTSET)  # as its package (below: INFO)
    if not verbose:  # per-network engine messages drown the progress bar
        logging.getLogger("binnet_core").setLevel(logging.WARNING)
        logging.getLogger("binnet_core.compile").setLevel(logging.INFO)  # one status line
    level = "debug" if verbose >= 2 else "warning"
    if verbose >= 2:
        os.environ["DASK_LOGGING__DISTRIBUTED"] = level
    else:
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", level)
    for name in ("distributed", "tornado", "asyncio", "bokeh"):  # already imported: set here too
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def _is_override(token: str) -> bool:
    from sweeps.spec.overrides import is_override

    return is_override(token)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sweeps`` console script; returns the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)  # overrides may also follow the options
    if extra and args.command in OVERRIDE_COMMANDS and all(_is_override(t) for t in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    bad = [t for t in getattr(args, "overrides", []) if not _is_override(t)]
    if bad:
        parser.error(f"{bad[0]!r} is not KEY=VALUE (a definition override, e.g. simulation.duration=\"1 s\")")
    for name in ("threads", "processes", "limit"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name} must be >= 1, got {value}")
    overrides = [k for k, v in vars(args).items() if k.startswith("cluster_") and v is not None]
    if args.command == "run" and not args.cluster and overrides:
        parser.error("cluster overrides (--queue, --cores, ...) need --cluster slurm|pbs")
    if getattr(args, "progress_interval", 0) and args.progress_interval < 0:
        parser.error(f"--progress-interval must be >= 0, got {args.progress_interval}")
    if getattr(args, "dashboard", None) is not None:
        from sweeps.execution.executors import dashboard_address

        try:
            dashboard_address(args.dashboard)
        except ValueError as err:
            parser.error(str(err))
    configure_logging(args.verbose)
    try:
        return args.func(args)
    except DefinitionError as err:
        print(f"{getattr(args, 'file', '')}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (StoreMismatchError, StoreLockedError, ArgumentError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ClusterConfigError as err:  # includes PreflightError: nothing submitted, no store
        print(f"{getattr(args, 'file', '')}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MissingDependencyError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SubmitError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except StoreWriteError as err:
        print(f"error: {err}; points written so far are kept, rerun to resume", file=sys.stderr)
        return EXIT_INCOMPLETE
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM outside a run (a run reports its points itself)
        print("interrupted; the store is unchanged or consistent: run the same command again", file=sys.stderr)
        return _interrupted(err)
    except BrokenPipeError:  # the reader left early (``sweeps show | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush too
        return 0
