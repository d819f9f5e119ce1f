"""Scale benchmark: sweeps of 10^3 .. 10^6 grid points (prints figures; not a timed test).

For each size and model (``null``: a registered model whose points cost nothing, and the tiny
clustered network N = 20, Q = 2, ``duration = "20 ms"``, no traces) it prints:

* ``validate``: wall time of the command ``sweeps validate FILE`` (a fresh process), and its
  CPU time (``val_cpu``; also ``res_cpu``, ``stat_cpu``): on a shared machine the CPU time
  is the figure that does not depend on the other sessions' load;
* ``create``: store creation (schema, no chunk written);
* ``run``: points/s of ``run_sweep`` on 2 local worker processes (a running Dask cluster, so
  its start-up is not counted) over the first ``--run-points`` points of the grid, in two
  runs (a quarter, then the rest): ``run``, ``driver_ms`` (the driver process's CPU time per
  point, all its threads: submission, collection, the Dask client, writes) and ``sched_ms``
  (the Dask scheduler's CPU time per point) are marginal figures, the difference of the two
  runs divided by the difference of their points, free of the fixed costs of a run (opening
  the store, run records); ``run_total`` includes those; ``write_ms`` is the writer thread's
  CPU per point.  By default (``--cluster separate``) the scheduler and the two workers are
  processes of their own (``dask scheduler``, ``dask worker``), as on a cluster, so
  ``driver_ms`` is the driver's own work; with ``--cluster local`` a ``LocalCluster`` runs the
  scheduler and the workers' nannies inside the driver process, and ``driver_ms`` includes
  them (``sched_ms`` is then not measured);
* ``resume``: ``sweeps run`` on the finished store (nothing to do).  Stores too large to run
  in full are finished by setting every status to ok (their data stay fill values);
* ``status``: ``sweeps status STORE`` (a fresh process);
* ``open``: ``open_results``; ``slice``: one 2-D slice (both swept parameters, replicate 0) of
  one scalar variable, loaded;
* ``files``/``MB``: files and bytes of the store after the run, and files of a full store.

Run from the repository root::

    python benchmarks/bench_scale.py [--sizes 3 4 5 6] [--models null clustered] [--run-points N]
        [--cluster separate|local]

Targets (10^6 points): validate <= 3 s, create <= 10 s, <= 2,000 files without
traces, status <= 2 s, slice <= 1 s; null model >= 2,000 points/s with 2 processes and driver
work <= 0.5 ms/point; resume of a finished store <= 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {3: (10, 10, 10), 4: (100, 100, 1), 5: (100, 100, 10), 6: (100, 100, 100)}

NULL = """\
[experiment]
name = "scale-null"
model = "null"
seed = 1
[sweep]
x = {{linspace = [0.0, 1.0, {a}]}}
y = {{linspace = [0.0, 1.0, {b}]}}
replicates = {r}
[simulation]
duration = "20 ms"
sample_interval = "1 ms"
[output]
keep_traces = false
"""

CLUSTERED = """\
[experiment]
name = "scale-clustered"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 16
N_I = 4
Q = 2
[sweep]
R_Eplus = {{linspace = [1.0, 1.9, {a}]}}
g = {{linspace = [0.8, 1.6, {b}]}}
replicates = {r}
[simulation]
duration = "20 ms"
sample_interval = "1 ms"
[output]
keep_traces = false
"""

SCALAR = {"null": "value", "clustered": "mean_activity_E"}


def cli(*args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``sweeps`` command in a fresh process (exit code 0 or 1)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sweeps", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"sweeps {' '.join(args)} failed: {result.stderr}")
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def cli_median(repeat: int, *args: str) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeat`` runs of one command."""
    runs = [cli(*args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def files_and_bytes(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def full_store_files(path: Path) -> int:
    """Files of the store once every chunk is written (chunk files plus metadata)."""
    import zarr

    group = zarr.open_group(str(path), mode="r", zarr_format=3)
    count = 1
    for _, array in group.arrays():
        count += 1 + math.prod(math.ceil(n / c) for n, c in zip(array.shape, array.chunks, strict=True))
    return count


def median_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def separate_cluster(directory: Path, n_workers: int = 2):
    """``dask scheduler`` and ``n_workers`` single-threaded ``dask worker`` processes; yields
    (client, scheduler process); every process is stopped by its pid on exit."""
    from distributed import Client

    scheduler_file = directory / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs: list[subprocess.Popen] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": directory}
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)], **quiet))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.1)
        for _ in range(n_workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                           str(scheduler_file), "--host", "127.0.0.1", "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard"], **quiet))
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(n_workers, timeout=60)
            yield client, procs[0]
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def local_cluster():
    """A ``LocalCluster`` of two worker processes whose scheduler runs in this process."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client, None


def process_cpu(process) -> float:
    """CPU seconds (user + system) of a child process so far, 0 without one."""
    if process is None:
        return 0.0
    import psutil

    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


def bench(model: str, exponent: int, directory: Path, client, run_points: int, repeat: int, scheduler=None) -> dict:
    from sweeps import ClientExecutor, load_experiment, open_results, run_sweep
    from sweeps.store.growth import open_store
    from sweeps.store.sweep_store import OK, SweepStore

    a, b, r = SHAPES[exponent]
    definition = directory / f"{model}-{exponent}.toml"
    definition.write_text((NULL if model == "null" else CLUSTERED).format(a=a, b=b, r=r))
    store = directory / f"{model}-{exponent}.zarr"
    row: dict = {"model": model, "points": a * b * r}
    row["validate"], row["val_cpu"] = cli_median(repeat, "validate", str(definition))
    experiment = load_experiment(definition)
    start = time.perf_counter()
    open_store(store, experiment)
    row["create"] = time.perf_counter() - start
    limit = min(row["points"], run_points)
    writing = []
    original = SweepStore.write

    def timed_write(self, results):
        start = time.thread_time()
        original(self, results)
        writing.append(time.thread_time() - start)

    SweepStore.write = timed_write
    runs = []  # a short run, then a long one: their difference is free of the fixed costs of a run
    try:
        for part in (limit // 4, limit - limit // 4):
            cpu, sched, start = time.process_time(), process_cpu(scheduler), time.perf_counter()
            summary = run_sweep(experiment, store, ClientExecutor(client), limit=part)
            runs.append((summary.executed, time.perf_counter() - start, time.process_time() - cpu,
                         process_cpu(scheduler) - sched))
    finally:
        SweepStore.write = original
    (n_a, wall_a, cpu_a, sched_a), (n_b, wall_b, cpu_b, sched_b) = runs
    row["ran"] = n_a + n_b
    row["run"] = (n_b - n_a) / (wall_b - wall_a)
    row["run_total"] = row["ran"] / (wall_a + wall_b)
    row["driver_ms"] = 1e3 * (cpu_b - cpu_a) / (n_b - n_a)
    row["sched_ms"] = 1e3 * (sched_b - sched_a) / (n_b - n_a) if scheduler is not None else float("nan")
    row["write_ms"] = 1e3 * sum(writing) / row["ran"]
    if not summary.complete:  # finish the store without running it (data stay fill values)
        status = SweepStore.open(store).group["status"]
        status[...] = OK
    row["resume"], row["res_cpu"] = cli_median(repeat, "run", str(definition), "--store", str(store))
    row["status"], row["stat_cpu"] = cli_median(repeat, "status", str(store))
    row["open"] = median_of(lambda: open_results(store), repeat)
    ds = open_results(store)
    replicate = ds[SCALAR[model]].dims[2]
    row["slice"] = median_of(lambda: ds[SCALAR[model]].isel({replicate: 0}).values, repeat)
    row["files"], nbytes = files_and_bytes(store)
    row["MB"] = nbytes / 1e6
    row["files_full"] = full_store_files(store)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[3, 4, 5, 6], choices=sorted(SHAPES),
                        help="powers of ten of the grid sizes")
    parser.add_argument("--models", nargs="+", default=["null", "clustered"], choices=["null", "clustered"])
    parser.add_argument("--run-points", type=int, default=20_000,
                        help="points run per store (null model; the clustered one runs a tenth)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the fast figures (median)")
    parser.add_argument("--cluster", default="separate", choices=["separate", "local"],
                        help="scheduler and workers in processes of their own, or a LocalCluster in this process")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("distributed", "sweeps"):  # cluster start-up and per-run records
        logging.getLogger(noisy).setLevel(logging.ERROR)
    print(f"load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, \
            (separate_cluster(Path(tmp)) if args.cluster == "separate" else local_cluster()) as (client, scheduler):
        warm = Path(tmp) / "warm"  # workers import the sweep code once, before any figure
        warm.mkdir()
        for model in args.models:
            bench(model, 3, warm, client, 50, 1)
        header = ("model", "points", "validate", "val_cpu", "create", "run", "run_total", "driver_ms", "sched_ms", "write_ms", "ran",
                  "resume",
                  "res_cpu", "status", "stat_cpu", "open", "slice", "files", "files_full", "MB")
        print(" ".join(f"{h:>10}" for h in header))
        print("(seconds; *_cpu: CPU seconds of the command's process; run: points/s, marginal; run_total: "
              "points/s with the fixed costs of two runs; driver_ms: marginal CPU ms per point of the driver "
              f"process ({args.cluster} cluster); sched_ms: the same of the scheduler process; write_ms: CPU ms "
              "per point of the writer thread)")
        for model in args.models:
            for exponent in args.sizes:
                points = args.run_points if model == "null" else args.run_points // 10
                row = bench(model, exponent, Path(tmp), client, points, args.repeat, scheduler)
                print(" ".join(f"{row[h]:>10.3g}" if isinstance(row[h], float) else f"{row[h]:>10}" for h in header),
                      flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
