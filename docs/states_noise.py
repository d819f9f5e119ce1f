"""How the state-inference methods recover planted states as the noise grows.

    python docs/states_noise.py

Planted traces as in tests/sweeps/analysis/test_active_set.py: 60 states of 1-59 samples, each
with 0-2 of Q populations active (activity 0.5, else 0.05), Gaussian noise of the given sd.
Prints per Q and noise the fraction of samples whose inferred active set is wrong and the
number of segments found (planted: about 55), for the active-set EM (default) and PELT.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sweeps.analysis.states import infer_states  # noqa: E402
from tests.sweeps.analysis.test_active_set import per_sample, planted  # noqa: E402


def main():
    print("| Q | noise sd | planted segments | EM wrong samples | EM segments "
          "| PELT wrong samples | PELT segments |")
    print("|---|---|---|---|---|---|---|")
    for q in (4, 20):
        for noise in (0.005, 0.01, 0.02, 0.05):
            rng = np.random.default_rng(1)
            plan = [(tuple(rng.choice(q, size=rng.integers(0, 3), replace=False)),
                     int(rng.integers(1, 60))) for _ in range(60)]
            trace, truth = planted(plan, q, noise, rng)
            n_planted = 1 + sum(set(a) != set(b) for (a, _), (b, _) in zip(plan[:-1], plan[1:]))
            row = [f"{q}", f"{noise:g}", f"{n_planted}"]
            for method in ("active_set_em", "pelt"):
                seg = infer_states(trace, method)
                wrong = np.any(per_sample(seg, len(trace)) != truth, axis=1).mean()
                row += [f"{wrong:.3f}", f"{len(seg)}"]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
