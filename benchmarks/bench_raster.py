"""What a spike raster adds to a point: the Figure 1 points with and without their raster.

Both points of ``experiments/paper/figure1.toml`` (N = 10^4, kappa 0 and 1, 2.5 s of model
time, raster of every second neuron) run in this process on one thread, with the raster and
with ``output.raster_stride = 0``, alternating, after one unmeasured run of each that compiles
the kernels (keep_traces off, 10 sampled neurons per population, so that the statistics stay
small next to the simulation).  Prints the median CPU seconds of each, the difference per
update of the measured window, and ``RASTER_UPDATE_NS`` (what ``sweeps validate`` assumes).

Run from the repository root::

    python benchmarks/bench_raster.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from sweeps.execution.cost import RASTER_UPDATE_NS
from sweeps.execution.task import run_points
from sweeps.plan import SweepPlan
from sweeps.spec.definition import load_experiment

HERE = Path(__file__).resolve().parents[1]
STEPS = 3_000_000  # the measured window of each point (2.5 s of model time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    threadpool_limits(1)  # BLAS on one thread, as in every sweep worker
    base = [f'simulation.duration="{STEPS} steps"', "output.keep_traces=false",
            "output.correlation_neurons=10"]
    plans = {name: SweepPlan.build(load_experiment(HERE / "experiments/paper/figure1.toml", base + extra))
             for name, extra in (("with raster", []), ("without", ["output.raster_stride=0"]))}
    for plan in plans.values():
        run_points(plan, [0])
    seconds = {name: [] for name in plans}
    for _ in range(args.repeats):
        for name, plan in plans.items():
            start = time.process_time()
            run_points(plan, [0, 1])
            seconds[name].append(time.process_time() - start)
    with_raster, without = (statistics.median(v) for v in seconds.values())
    updates = 2 * STEPS
    load = os.getloadavg()
    print(f"Figure 1 points (2 x {STEPS:,} window updates), one thread, medians of {args.repeats}; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"  with raster {with_raster:.3f} s, without {without:.3f} s: "
          f"{1e9 * (with_raster - without) / updates:.0f} ns per window update "
          f"(sweeps validate assumes RASTER_UPDATE_NS = {RASTER_UPDATE_NS:g})")


if __name__ == "__main__":
    main()
