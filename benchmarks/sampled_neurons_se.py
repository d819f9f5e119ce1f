"""How many sampled neurons per population the correlation estimate needs (issue 21).

One network at the paper's Figure 4 parameters (N = 10^4, Q = 20, R_Eplus 7.25, R_j 0.79, p0 0.2,
kappa as given), started from the model's default state, `--seconds` of model time after 200 ms
warm-up, states of every E neuron recorded every 10 ms. The reference value is the E-E
within-cluster correlation over all neurons (tanh of the Fisher-z mean over every within-cluster
pair of distinct E neurons). For k neurons per population, `--draws` seeded choices give the
estimator's spread: its standard error is the standard deviation of the estimate over the
choices (the run fixed: the sampling error alone), reported relative to the reference value.

    python benchmarks/sampled_neurons_se.py --kappa 1.0 --seconds 5
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def within_z(x: np.ndarray, pops: np.ndarray) -> tuple[float, int]:
    """Sum of artanh r over within-population pairs of distinct neurons, and their number."""
    total, count = 0.0, 0
    for p in np.unique(pops):
        a = x[:, pops == p]
        r = a.T @ a
        iu = np.triu_indices(a.shape[1], 1)
        z = np.arctanh(np.clip(r[iu], -1 + 1e-6, 1 - 1e-6))
        total += float(z.sum())
        count += z.size
    return total, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kappa", type=float, default=1.0)
    parser.add_argument("--p0", type=float, default=0.2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--per-population", type=int, nargs="+", default=[10, 20, 50, 100, 200])
    args = parser.parse_args()
    from binnet_core import NeuronRecorder
    from binnet_core.clustered import ClusteredEINetwork

    params = {"N_E": 8000, "N_I": 2000, "Q": 20, "R_Eplus": 7.25, "R_j": 0.79, "kappa": args.kappa,
              **{f"p0_{ab}": args.p0 for ab in ("ee", "ie", "ei", "ii")}}
    started = time.perf_counter()
    net = ClusteredEINetwork(params, seed=np.random.SeedSequence(2024))
    e_neurons = np.arange(8000)
    pops = e_neurons // 400
    interval = net.ms_to_steps(10.0)
    net.run(net.ms_to_steps(200.0))
    rec = NeuronRecorder(e_neurons, interval)
    net.run(int(args.seconds * 100) * interval, recorders=[rec])
    x = rec.state.astype(np.float64)
    x -= x.mean(axis=0)
    norm = np.sqrt((x * x).sum(axis=0))
    valid = norm > 0
    x[:, valid] /= norm[valid]
    total, count = within_z(x[:, valid], pops[valid])
    reference = np.tanh(total / count)
    print(f"kappa {args.kappa}, p0 {args.p0}, {args.seconds} s, {x.shape[0]} samples, "
          f"{int(valid.sum())} non-constant E neurons; simulated in {time.perf_counter() - started:.1f} s")
    print(f"reference (all within-cluster E pairs, {count} pairs): r = {reference:.4f}")
    rng = np.random.default_rng(0)
    print("per population | mean estimate | standard error | SE / reference")
    for k in args.per_population:
        estimates = []
        for _ in range(args.draws):
            chosen = np.concatenate([rng.choice(np.flatnonzero(pops == p), k, replace=False) for p in range(20)])
            keep = chosen[valid[chosen]]
            t, n = within_z(x[:, keep], pops[keep])
            estimates.append(np.tanh(t / n))
        se = float(np.std(estimates, ddof=1))
        print(f"{k:14d} | {np.mean(estimates):13.4f} | {se:14.4f} | {se / abs(reference):.3f}")


if __name__ == "__main__":
    main()
