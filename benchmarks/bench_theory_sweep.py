"""``sweeps theory`` benchmark: mean-field theory for every point of a large grid (prints
figures; not a timed test).

Grids of 10^4 and 10^5 distinct parameter sets (R_Eplus 100 values x kappa x V_th, focus
counts [1], the reference network, Q = 20), each written into a new store by the same calls
as ``sweeps theory FILE --store S``. The figures are medians of ``--repeat`` runs after one
warm-up (numba compilation excluded), as wall time and CPU time of this process (all its threads), for the fixed points of every
grid point and the bifurcation line (one bifurcation search per point of the non-R_Eplus
dimensions). ``--threads 1`` gives the single-core figure. The last column is the end-to-end
wall time of ``sweeps theory FILE --store S`` run as a new process (Python start-up, imports,
reading the definition, creating the store and writing the theory; compiled kernels cached,
every CPU), median of ``--repeat`` runs.

Run from the repository root::

    python benchmarks/bench_theory_sweep.py [--repeat 3] [--sizes 10000 100000] [--threads 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweeps.spec.definition import parse_experiment
from sweeps.store.growth import open_store
from sweeps.theory.compute import THEORY_ATTR, write_theory

DEFINITION = """\
[experiment]
name = "theory_benchmark"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 8000
N_I = 2000
Q = 20
R_j = 0.75
connection_type = "poisson"
[sweep]
R_Eplus = {{linspace = [1.0, 10.9, 100]}}
kappa = {{linspace = [0.0, 1.0, {kappas}]}}
V_th = {{linspace = [0.9, 1.1, {thresholds}]}}
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
[theory]
focus_counts = [1]
"""

SHAPES = {10**3: (5, 2), 10**4: (10, 10), 10**5: (25, 40)}


def run_once(points: int, root: Path, threads: int | None) -> tuple[float, float, dict]:
    """Write the theory of a grid of ``points`` into a new store: (wall s, CPU s, info)."""
    kappas, thresholds = SHAPES[points]
    experiment = parse_experiment(DEFINITION.format(kappas=kappas, thresholds=thresholds))
    store = root / f"theory_{points}.zarr"
    shutil.rmtree(store, ignore_errors=True)
    sweep_store, plan = open_store(store, experiment)
    start, start_cpu = time.perf_counter(), time.process_time()
    write_theory(sweep_store, plan, threads=threads)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    import zarr

    info = dict(zarr.open_group(str(store), mode="r", zarr_format=3).attrs[THEORY_ATTR])
    return wall, cpu, info


def run_cli(points: int, root: Path) -> float:
    """Wall time of ``sweeps theory FILE --store S`` in a new process on a new store."""
    kappas, thresholds = SHAPES[points]
    definition = root / f"theory_{points}.toml"
    definition.write_text(DEFINITION.format(kappas=kappas, thresholds=thresholds))
    store = root / f"cli_{points}.zarr"
    shutil.rmtree(store, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from sweeps.cli import main; "
                    "sys.exit(main())", "theory", str(definition), "--store", str(store)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads solving the fixed points (default: every CPU)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5],
                        choices=sorted(SHAPES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_once(10**3, root, args.threads)  # warm-up: numba compilation
        print("grid points      wall       CPU   per point (CPU)  bifurcation searches"
              "  sweeps theory (wall)")
        for points in args.sizes:
            runs = [run_once(points, root, args.threads) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cli = statistics.median(run_cli(points, root) for _ in range(args.repeat))
            searches = SHAPES[points][0] * SHAPES[points][1]
            print(f"{points:>11,}  {wall:7.2f} s  {cpu:7.2f} s  {cpu / points * 1e6:9.0f} us"
                  f"       {searches:>5}             {cli:7.2f} s")


if __name__ == "__main__":
    main()
