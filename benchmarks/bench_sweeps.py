"""Sweep framework benchmark (prints figures; not a timed test).

1. Overhead: 32 points of about 0.5 s each on 2 workers.  Reports wall time against the
   ideal ``sum(per-point compute) / 2`` (target <= 1.10x).
2. Throughput: 1,000 tiny points (N = 200, 10^4 updates each) end to end (target >= 150/s).
3. Store size on disk and file count against points x variables.

Run from the repository root::

    python benchmarks/bench_sweeps.py [--backend threads|processes] [--skip-large]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from binnet_core import warm_numba_caches
from sweeps import LocalProcesses, LocalThreads, load_experiment, open_results, run_sweep

LARGE = """\
[experiment]
name = "bench-large"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 8000
N_I = 2000
Q = 20
[sweep]
R_Eplus = {{linspace = [1.0, 8.0, 8]}}
replicates = 4
[simulation]
duration = "{duration_ms} ms"
warmup = "100 ms"
sample_interval = "10 ms"
"""

TINY = """\
[experiment]
name = "bench-tiny"
model = "clustered_ei"
seed = 2
[parameters]
N_E = 160
N_I = 40
Q = 4
[sweep]
R_Eplus = {linspace = [1.0, 3.0, 10]}
g = {linspace = [0.8, 1.6, 10]}
replicates = 10
[simulation]
steps = 10000
sample_interval = "1000 steps"
"""


def store_files(path: Path) -> tuple[int, int]:
    """(number of files, bytes) under ``path``."""
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def executor(backend: str, n: int):
    return LocalThreads(n) if backend == "threads" else LocalProcesses(n)


def startup_seconds(backend: str) -> float:
    """Time to start and stop the backend alone (cluster start-up, worker warm-up)."""
    start = time.perf_counter()
    with executor(backend, 2):
        pass
    return time.perf_counter() - start


def run(text: str, directory: Path, name: str, backend: str):
    definition = directory / f"{name}.toml"
    definition.write_text(text)
    experiment = load_experiment(definition)
    store = directory / f"{name}.zarr"
    start = time.perf_counter()
    summary = run_sweep(experiment, store, executor(backend, 2))
    wall = time.perf_counter() - start
    assert summary.complete, summary
    return experiment, store, summary, wall


def report_store(store: Path, experiment) -> None:
    n_files, n_bytes = store_files(store)
    n_vars = len(open_results(store).attrs["sweeps_variables"]) + 2  # + status, error
    print(f"  store: {n_bytes / 1e6:.2f} MB in {n_files} files "
          f"(points x variables = {experiment.n_points} x {n_vars} = {experiment.n_points * n_vars})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("threads", "processes"), default="threads")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warm_numba_caches()
    print(f"backend: {args.backend}, 2 workers, {os.cpu_count()} CPUs; "
          f"backend start-up + shut-down alone: {startup_seconds(args.backend):.2f} s (included below)")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if not args.skip_large:
            # calibrate the model time so one point takes about 0.5 s of compute
            probe_text = LARGE.format(duration_ms=500).replace("replicates = 4", "replicates = 1")
            for name in ("compile", "probe"):  # the first run may compile kernels
                _, path, probe, _ = run(probe_text.replace("[1.0, 8.0, 8]", "[1.0, 8.0, 2]"), directory, name, "threads")
            simulated = float(open_results(path).simulation_seconds.mean())
            fixed = probe.compute_seconds / 2 - simulated  # build + measure per point
            duration = max(100, round(500 * (0.5 - fixed) / simulated / 10) * 10)
            experiment, store, summary, wall = run(LARGE.format(duration_ms=duration), directory, "large", args.backend)
            ideal = summary.compute_seconds / 2
            print(f"32 points x ~{summary.compute_seconds / 32:.2f} s (model time {duration} ms, N=10^4): "
                  f"wall {wall:.2f} s, ideal sum/2 {ideal:.2f} s -> {wall / ideal:.3f}x (target <= 1.10x)")
            report_store(store, experiment)
        experiment, store, summary, wall = run(TINY, directory, "tiny", args.backend)
        print(f"1000 tiny points (N=200, 10^4 updates): wall {wall:.2f} s -> {experiment.n_points / wall:.0f} points/s "
              f"(target >= 150/s); compute {summary.compute_seconds:.2f} s")
        report_store(store, experiment)


if __name__ == "__main__":
    main()
