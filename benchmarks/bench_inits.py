"""Built once, run many: 5 inits of the reference network (prints figures; not a timed test).

Reference network (N = 10^4, Q = 20, R_Eplus = 7.25), 2 s of model time per init, one thread.
Side by side, ``--repeats`` times (medians reported):

* ``rebuild``: 5 x (build with the network seed + reset to the init seed + simulate), as a
  sweep did before networks x inits;
* ``reuse``: 1 build, then 5 x (reset + simulate).

Target: ``reuse <= build + 5 simulations + 5 %``, i.e. the resets cost less than 5 % of
``build + 5 simulations``; the saving against ``rebuild`` is printed too.  Both arms give
bit-identical states (checked).  Then the same through the sweep task (``run_points`` of the
5 inits of one network against 5 separate ``simulate_point`` calls, measurements included).

Run from the repository root::

    python benchmarks/bench_inits.py [--repeats 3] [--seconds 2]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import numpy as np

from binnet_core import warm_numba_caches
from binnet_core.clustered import ClusteredEINetwork
from sweeps.execution.task import run_points
from sweeps.plan import SweepPlan
from sweeps.spec.definition import parse_experiment
from sweeps.spec.seeds import point_seeds
from tests.reference.points import simulate_point

PARAMS = {"N_E": 8000, "N_I": 2000, "Q": 20, "R_Eplus": 7.25}
INITS = 5

SWEEP = """\
[experiment]
name = "bench-inits"
model = "clustered_ei"
seed = 5
[parameters]
N_E = 8000
N_I = 2000
Q = 20
R_Eplus = 7.25
[sweep]
inits = 5
[simulation]
duration = "{seconds} s"
sample_interval = "10 ms"
[output]
keep_traces = false
"""


def engine_round(seconds: float) -> dict[str, float]:
    seeds = [point_seeds(1, 0, k) for k in range(INITS)]
    steps = None
    # rebuild: one build per init
    start = time.perf_counter()
    rebuilt = []
    for s in seeds:
        net = ClusteredEINetwork(PARAMS, seed=s.connectivity)
        net.reset(seed=s.start)
        steps = steps or net.ms_to_steps(1000 * seconds)
        net.run(steps)
        rebuilt.append(net.state.copy())
    t_rebuild = time.perf_counter() - start
    # reuse: one build, reset per init
    start = time.perf_counter()
    net = ClusteredEINetwork(PARAMS, seed=seeds[0].connectivity)
    t_build = time.perf_counter() - start
    t_reset = t_sim = 0.0
    for k, s in enumerate(seeds):
        a = time.perf_counter()
        net.reset(seed=s.start)
        b = time.perf_counter()
        net.run(steps)
        t_reset += b - a
        t_sim += time.perf_counter() - b
        if not np.array_equal(net.state, rebuilt[k]):
            raise AssertionError(f"init {k}: reused network differs from a fresh build")
    t_reuse = time.perf_counter() - start
    return {"rebuild": t_rebuild, "reuse": t_reuse, "build": t_build, "reset": t_reset, "sims": t_sim}


def sweep_round(seconds: float) -> dict[str, float]:
    exp = parse_experiment(SWEEP.format(seconds=seconds))
    start = time.perf_counter()
    for i in range(INITS):
        simulate_point(exp, i)
    separate = time.perf_counter() - start
    start = time.perf_counter()
    results = run_points(SweepPlan.build(exp), list(range(INITS)))
    grouped = time.perf_counter() - start
    assert all(r.ok for r in results)
    return {"separate": separate, "grouped": grouped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="model seconds per init")
    args = parser.parse_args()
    logging.getLogger("binnet_core").setLevel(logging.WARNING)
    warm_numba_caches()
    engine_round(0.05)  # warm-up of everything else
    rounds = [engine_round(args.seconds) for _ in range(args.repeats)]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    overhead = med["reuse"] / (med["build"] + med["sims"]) - 1.0
    print(f"reference network N=10^4, {INITS} inits x {args.seconds:g} s model time, 1 thread, "
          f"median of {args.repeats}")
    print(f"  rebuild (5 builds + 5 simulations):        {med['rebuild']:7.3f} s")
    print(f"  reuse   (1 build + 5 x (reset + simulate)): {med['reuse']:7.3f} s")
    print(f"    of which build {med['build']:.3f} s, simulations {med['sims']:.3f} s, "
          f"resets {med['reset']:.4f} s")
    print(f"  reuse against one build + 5 simulations: {100 * overhead:+.1f} % (target <= +5 %)")
    print(f"  reuse against rebuild: {med['reuse'] / med['rebuild']:.2f}x the time")
    sweeps = [sweep_round(args.seconds) for _ in range(args.repeats)]
    sep = statistics.median(r["separate"] for r in sweeps)
    grp = statistics.median(r["grouped"] for r in sweeps)
    print(f"sweep task, measurements included: 5 separate points {sep:.3f} s, "
          f"one task of 5 inits {grp:.3f} s ({grp / sep:.2f}x)")


if __name__ == "__main__":
    main()
