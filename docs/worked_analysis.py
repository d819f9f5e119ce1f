"""A worked analysis and every figure of the README, with one command.

    python docs/worked_analysis.py                      # stores in results/, figures in docs/figures
    python docs/worked_analysis.py --results /tmp/wa

1. Runs (or resumes) ``experiments/phase_diagram.toml`` into ``RESULTS/phase_diagram.zarr``
   with local threads, opens it and draws its phase diagrams and two activity traces (the
   most switching point and an unclustered one).
2. Runs ``docs/meanfield_figure.py`` on it: the two theory-only figures and the phase diagram
   with the mean-field bifurcation line (``sweeps theory`` on the simulated store).

Prints every number the README quotes next to these figures, the time of each step and the
machine's load average. Rerunning resumes the stores: finished points are not simulated again.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

import sweeps
from sweeps.analysis.datasets import average_seeds, best_point, select
from sweeps.analysis.plots import activity_traces, phase_diagram

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
sys.path.insert(0, str(ROOT / "docs"))

import meanfield_figure  # noqa: E402  (the script next to this one)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--experiment", default=str(ROOT / "experiments" / "phase_diagram.toml"))
    args = parser.parse_args(argv)
    store = args.results / "phase_diagram.zarr"
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {len(os.sched_getaffinity(0))} cores")

    # 1. Run (or resume) the sweep: local threads, no server.
    experiment = sweeps.load_experiment(args.experiment)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    summary = sweeps.run_sweep(experiment, store)
    print(summary)
    print(f"phase diagram: {time.perf_counter() - wall:.0f} s wall, {_cpu_seconds() - cpu:.0f} s CPU "
          f"(load average now {os.getloadavg()[0]:.1f})")

    # 2. Open the store as one labelled, lazily loaded Dataset.
    ds = sweeps.open_results(store)

    # 3. Phase diagrams over the two swept axes.
    FIGURES.mkdir(parents=True, exist_ok=True)
    for var in ("switch_rate", "mean_active_clusters", "mean_activity_E"):
        fig = phase_diagram(ds, var, x="R_Eplus", y="V_th")
        fig.savefig(FIGURES / f"phase_{var}.png", dpi=100)
        print(f"wrote {FIGURES / f'phase_{var}.png'}")
    clusters = average_seeds(ds)["mean_active_clusters"].sel(V_th=1.0)
    print("mean active clusters at V_th = 1 by R_Eplus:",
          ", ".join(f"{r:g}: {v:.2f}" for r, v in zip(clusters["R_Eplus"].values, clusters.values, strict=True)))

    # 4. Where do clusters switch most? (hyper-parameter search over the grid)
    best = best_point(average_seeds(ds), "switch_rate", maximize=True)
    print(f"most switching: {best.coords} -> {best.value:.2f} changes of the active set per second")

    # 5. The activity traces of that point and of an unclustered one.
    for name, point in (("switching", best.coords), ("unclustered", {"R_Eplus": 1.0, "V_th": 1.0})):
        fig = activity_traces(ds, {**point, "seed": 0})  # the first replicate
        fig.savefig(FIGURES / f"traces_{name}.png", dpi=100)
        print(f"wrote {FIGURES / f'traces_{name}.png'} ({point})")

    # 6. A number to quote: mean E activity of the unclustered network at V_th = 1.
    unclustered = select(ds, R_Eplus=1.0, V_th=1.0)
    print("unclustered mean E activity:", f"{float(np.asarray(unclustered['mean_activity_E']).mean()):.4f}")

    # 7. The mean-field figures and the bifurcation line over this phase diagram.
    meanfield_figure.main(["--results", str(args.results), "--phase-store", str(store)])
    theory = sweeps.open_results(store)
    rate = float(theory["mf_rate_E_other"].sel(R_Eplus=1.0, V_th=1.0, focus_count=1))
    print(f"mean-field E rate of the unclustered network (R_Eplus 1, V_th 1): {rate:.4f}")
    line = theory["mf_bifurcation_R_Eplus"].sel(focus_count=1)
    print("bifurcation R_Eplus by V_th:",
          ", ".join(f"{v:g}: {r:.2f}" for v, r in zip(line["V_th"].values, line.values, strict=True)))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
