"""Cost of the statistics against the simulation of the same point (prints figures).

The Figure 4 point of the reference paper: clustered E/I network, N = 10^4 (defaults, Q = 20)
with ``R_Eplus = 7.25, R_j = 0.79, kappa = 0.5``, 10 s of model time sampled every 10 ms
(1,000 samples), ``correlation_neurons`` per population (default 100, as ``[output]``: 4,000
sampled neurons; ``--per-population 200``: 6,000). Target: statistics <= 100 % of the simulation.

Per repeat, in a fresh subprocess (one thread, kernels compiled before timing; CPU seconds
of the process, ``time.process_time``, so that waiting on a shared machine does not count):

* ``simulate``: the 10 s run with the activity recorder only (what any run records);
* ``recorders``: the per-sample work of the statistics recorders (MomentRecorder over all
  neurons, NeuronRecorder of the sampled neurons), called 1,000 times without simulating;
* ``compute``: evaluating every statistics measurement on the recording (correlations by
  pair type, cluster-pair matrices, variance split, long episodes and their correlations);
* ``statistics = recorders + compute`` and ``ratio = statistics / simulate``.

``--compare-with PATH`` runs the same measurement with the checkout at PATH (e.g. a
worktree of the code before the change), alternating the two repeat by repeat, and prints
both side by side (this file is run with ``PYTHONPATH=PATH``; it uses only public API).

Run from the repository root::

    python benchmarks/bench_measurements.py [--per-population 100] [--repeats 3] \
        [--compare-with ../old-checkout]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PARAMETERS = {"R_Eplus": 7.25, "R_j": 0.79, "kappa": 0.5}
KEYS = ("simulate", "recorders", "compute", "episodes")


def _sampled(net, per_population, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    chosen = [np.sort(rng.choice(np.arange(*p.view), min(per_population, p.N), replace=False))
              for p in net.populations]
    pops = np.repeat(np.arange(len(chosen)), [c.size for c in chosen])
    return np.concatenate(chosen), pops


def worker(seconds: float, per_population: int, seed: int) -> dict:
    """One repeat: the figures of one network, as a dict (printed as JSON by ``--worker``)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from binnet_core import NeuronRecorder, PopulationActivityRecorder, warm_numba_caches
    from binnet_core.clustered import ClusteredEINetwork
    from binnet_core.recorders import MomentRecorder
    from sweeps.measure.measurements import REGISTRY, MeasureContext
    from sweeps.measure.recording import WIRING_KEYS, Recording
    from sweeps.measure.registry import Options

    statistics_names = tuple(m.spec.name for m in REGISTRY if m.spec.name.startswith(
        ("corr_", "episode_corr_", "states_var_", "fields_var_", "fields_mean", "long_episode")))
    threadpool_limits(1)  # BLAS on one thread, as in every sweep worker
    warm_numba_caches()
    net = ClusteredEINetwork(PARAMETERS, seed=seed)
    interval = net.ms_to_steps(10.0)
    n_samples = int(round(seconds * 1000 / 10.0))
    sampled, sampled_pops = _sampled(net, per_population, seed)
    net.run(net.ms_to_steps(200.0))
    MomentRecorder(interval).record(net)  # compile the accumulation kernel

    start = time.process_time()
    net.run(n_samples * interval, recorders=[PopulationActivityRecorder(interval)])
    simulate = time.process_time() - start

    stats_recorders = [MomentRecorder(interval), NeuronRecorder(sampled, interval)]
    start = time.process_time()
    for _ in range(n_samples):
        for recorder in stats_recorders:
            recorder.record(net)
    recorders = time.process_time() - start

    activity = PopulationActivityRecorder(interval)
    moments, neurons = MomentRecorder(interval), NeuronRecorder(sampled, interval)
    net.run(n_samples * interval, recorders=[activity, moments, neurons])
    pops = list(net.populations)

    def recording(states, fields):
        return Recording(
            population_names=tuple(p.name for p in pops),
            population_sizes=np.array([p.N for p in pops]),
            population_types=tuple(p.cell_type for p in pops),
            population_clusters=np.array([p.cluster for p in pops]),
            sample_interval_ms=10.0, duration_ms=10.0 * len(states),
            activity=activity.values[: len(states)].astype(np.float32),
            up_transitions=np.zeros(len(pops), np.int64), neuron_activity=moments.state_mean,
            field_mean=moments.field_mean, field_variance=moments.field_variance,
            sampled_neurons=sampled, sampled_populations=sampled_pops,
            sampled_states=states, sampled_fields=fields, wiring=dict.fromkeys(WIRING_KEYS, 0))

    fields = neurons.field.astype(np.float32)
    # compile (new code: numba kernels, cached on disk) on a small recording, outside the timing
    small = recording(neurons.state[:50], fields[:50])
    ctx = MeasureContext(small, Options(REGISTRY.resolve_options({})))
    measurements = {m.spec.name: m for m in REGISTRY}
    for name in statistics_names:
        measurements[name].compute(ctx)

    ctx = MeasureContext(recording(neurons.state, fields), Options(REGISTRY.resolve_options({})))
    start = time.process_time()
    values = {name: measurements[name].compute(ctx) for name in statistics_names
              if not name.startswith("episode_corr_")}
    compute = time.process_time() - start
    start = time.process_time()
    values.update({name: measurements[name].compute(ctx) for name in statistics_names
                   if name.startswith("episode_corr_")})
    episodes = time.process_time() - start
    return {"simulate": simulate, "recorders": recorders, "compute": compute + episodes,
            "episodes": episodes, "sampled": int(sampled.size), "n_samples": n_samples,
            "long_episodes": int(values["long_episodes"]),
            "ee": [float(v) for v in values["corr_states"][0]],
            "ee_fields": [float(v) for v in values["corr_fields"][0]]}


def _spawn(checkout: Path, args, seed: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                          "--seconds", str(args.seconds), "--per-population", str(args.per_population),
                          "--seed", str(seed)], cwd=checkout, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-population", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare-with", type=Path, metavar="PATH",
                        help="a checkout of the code before the change, run alternately")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.seconds, args.per_population, args.seed)))
        return
    checkouts = {"this checkout": HERE}
    if args.compare_with:
        checkouts["--compare-with"] = args.compare_with.resolve()
    runs = {name: [] for name in checkouts}
    for repeat in range(args.repeats):
        for name, checkout in (checkouts.items() if repeat % 2 == 0 else reversed(checkouts.items())):
            runs[name].append(_spawn(checkout, args, args.seed))
    first = next(iter(runs.values()))[0]
    load = os.getloadavg()
    print(f"Figure 4 point: clustered E/I N = 10^4, {PARAMETERS}, {args.seconds:g} s model time, "
          f"{first['n_samples']} samples, {first['sampled']} sampled neurons "
          f"({args.per_population} per population); one thread; medians of {args.repeats} "
          f"alternating runs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    header = "".join(f"{name:>16s}" for name in checkouts)
    print(f"  {'':28s}{header}")
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in KEYS} for name, rs in runs.items()}
    for key, label in (("simulate", "simulation s"), ("recorders", "statistics recorders s"),
                       ("compute", "statistics compute s"), ("episodes", "  of which episode corr s")):
        print(f"  {label:28s}" + "".join(f"{m[key]:16.3f}" for m in medians.values()))
    stats = {name: m["recorders"] + m["compute"] for name, m in medians.items()}
    print(f"  {'statistics s':28s}" + "".join(f"{v:16.3f}" for v in stats.values()))
    print(f"  {'statistics / simulation':28s}" + "".join(
        f"{100 * stats[n] / medians[n]['simulate']:15.0f}%" for n in checkouts) + "   (target <= 100 %)")
    for name, rs in runs.items():
        print(f"  {name}: E-E state r within/across {rs[0]['ee'][0]:.6f} / {rs[0]['ee'][1]:.6f}, "
              f"field r {rs[0]['ee_fields'][0]:.6f} / {rs[0]['ee_fields'][1]:.6f}; "
              f"long episodes {rs[0]['long_episodes']}")


if __name__ == "__main__":
    main()
