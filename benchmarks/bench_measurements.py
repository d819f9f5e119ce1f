"""Cost of the statistics measurements against the simulation they measure (prints figures).

Reference network (N = 10,000, Q = 20, R_Eplus = 7.25), 10 s of model time sampled every
10 ms (1,000 samples), ``correlation_neurons`` per population (default 10: 400 neurons).
Target: everything the statistics add costs at most 15 % of the simulation time.

Printed, as medians over ``--repeats`` runs done side by side:

* ``simulate``: the 10 s run with the activity recorder only (what any run records);
* ``recorders``: the per-sample work of the statistics recorders (MomentRecorder over all
  neurons, NeuronRecorder of the sampled neurons), timed by calling them 1,000 times on the
  network without simulating;
* ``compute``: evaluating the statistics measurements on the recording (correlations by
  pair type, cluster-pair matrices, variance split, long episodes and their correlations);
* ``simulate + recorders``: the 10 s run with all recorders, as a cross-check of the above.

BLAS runs on one thread, as in every sweep worker. ``--per-population 200 --seconds 2`` is
the setting of ``experiments/main_sweep_small.toml`` (6,000 sampled neurons).

Run from the repository root::

    python benchmarks/bench_measurements.py [--seconds 10] [--repeats 3] [--per-population 10]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from binnet_core import NeuronRecorder, PopulationActivityRecorder, warm_numba_caches
from binnet_core.clustered import ClusteredEINetwork
from binnet_core.recorders import MomentRecorder
from sweeps.measure.measurements import REGISTRY, MeasureContext
from sweeps.measure.recording import WIRING_KEYS, Recording
from sweeps.measure.registry import Options

#: The measurements this benchmark charges to the statistics (everything but activity figures).
STATISTICS = tuple(m.spec.name for m in REGISTRY if m.spec.name.startswith(
    ("corr_", "episode_corr_", "states_var_", "fields_var_", "fields_mean", "long_episode")))


def _sampled(net, per_population, seed=0):
    rng = np.random.default_rng(seed)
    chosen = [np.sort(rng.choice(np.arange(*p.view), min(per_population, p.N), replace=False))
              for p in net.populations]
    pops = np.repeat(np.arange(len(chosen)), [c.size for c in chosen])
    return np.concatenate(chosen), pops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-population", type=int, default=10)
    args = parser.parse_args()
    threadpool_limits(1)  # BLAS on one thread, as in every sweep worker
    warm_numba_caches()
    net = ClusteredEINetwork({"R_Eplus": 7.25}, seed=1)
    interval = net.ms_to_steps(10.0)
    n_samples = int(round(args.seconds * 1000 / 10.0))
    sampled, sampled_pops = _sampled(net, args.per_population)
    net.run(net.ms_to_steps(200.0))
    MomentRecorder(interval).record(net)  # compile the accumulation kernel

    times = {"simulate": [], "recorders": [], "compute": [], "simulate + recorders": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        net.run(n_samples * interval, recorders=[PopulationActivityRecorder(interval)])
        times["simulate"].append(time.perf_counter() - start)

        stats_recorders = [MomentRecorder(interval), NeuronRecorder(sampled, interval)]
        start = time.perf_counter()
        for _ in range(n_samples):
            for recorder in stats_recorders:
                recorder.record(net)
        times["recorders"].append(time.perf_counter() - start)

        activity = PopulationActivityRecorder(interval)
        moments, neurons = MomentRecorder(interval), NeuronRecorder(sampled, interval)
        start = time.perf_counter()
        net.run(n_samples * interval, recorders=[activity, moments, neurons])
        times["simulate + recorders"].append(time.perf_counter() - start)

        pops = list(net.populations)
        rec = Recording(
            population_names=tuple(p.name for p in pops),
            population_sizes=np.array([p.N for p in pops]),
            population_types=tuple(p.cell_type for p in pops),
            population_clusters=np.array([p.cluster for p in pops]),
            sample_interval_ms=10.0, duration_ms=10.0 * n_samples,
            activity=activity.values.astype(np.float32),
            up_transitions=np.zeros(len(pops), np.int64), neuron_activity=moments.state_mean,
            field_mean=moments.field_mean, field_variance=moments.field_variance,
            sampled_neurons=sampled, sampled_populations=sampled_pops,
            sampled_states=neurons.state, sampled_fields=neurons.field.astype(np.float32),
            wiring=dict.fromkeys(WIRING_KEYS, 0))
        measurements = {m.spec.name: m for m in REGISTRY}
        ctx = MeasureContext(rec, Options(REGISTRY.resolve_options({})))
        start = time.perf_counter()
        values = {name: measurements[name].compute(ctx) for name in STATISTICS}
        times["compute"].append(time.perf_counter() - start)

    med = {key: statistics.median(v) for key, v in times.items()}
    added = med["recorders"] + med["compute"]
    print(f"reference network N = {net.N}, {args.seconds:g} s model time, {n_samples} samples, "
          f"{sampled.size} sampled neurons; medians of {args.repeats} (shared machine)")
    for key, value in med.items():
        print(f"  {key:22s} {value:8.3f} s")
    print(f"  statistics added       {added:8.3f} s = {100 * added / med['simulate']:.1f} % of "
          f"simulate (target <= 15 %)")
    print(f"  run with recorders / run without: "
          f"{med['simulate + recorders'] / med['simulate']:.3f}")
    ee = values["corr_states"][0]
    print(f"  E-E state correlation within {ee[0]:.4f}, across {ee[1]:.4f}; "
          f"long episodes {int(values['long_episodes'])}")


if __name__ == "__main__":
    main()
