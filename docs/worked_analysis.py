"""A worked analysis: run the phase-diagram experiment, open it, make the figures.

    python docs/worked_analysis.py                      # store in results/phase_diagram.zarr
    python docs/worked_analysis.py --store /tmp/pd.zarr

Writes docs/figures/*.png (the figures shown in the README) and prints what it found.
Rerunning resumes the store: finished points are not simulated again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import sweeps
from sweeps.analysis.datasets import average_seeds, best_point, select
from sweeps.analysis.plots import activity_traces, phase_diagram

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(ROOT / "results" / "phase_diagram.zarr"))
    parser.add_argument("--experiment", default=str(ROOT / "experiments" / "phase_diagram.toml"))
    args = parser.parse_args(argv)

    # 1. Run (or resume) the sweep: local threads, no server.
    experiment = sweeps.load_experiment(args.experiment)
    summary = sweeps.run_sweep(experiment, args.store)
    print(summary)

    # 2. Open the store as one labelled, lazily loaded Dataset.
    ds = sweeps.open_results(args.store)
    print(ds)

    # 3. Phase diagrams over the two swept axes.
    FIGURES.mkdir(parents=True, exist_ok=True)
    for var in ("switch_rate", "mean_active_clusters", "mean_activity_E"):
        fig = phase_diagram(ds, var, x="R_Eplus", y="V_th")
        fig.savefig(FIGURES / f"phase_{var}.png", dpi=100)
        print(f"wrote {FIGURES / f'phase_{var}.png'}")

    # 4. Where do clusters switch most? (hyper-parameter search over the grid)
    best = best_point(average_seeds(ds), "switch_rate", maximize=True)
    print(f"most switching: {best.coords} -> {best.value:.2f} changes of the active set per second")

    # 5. The activity traces of that point and of an unclustered one.
    for name, point in (("switching", best.coords), ("unclustered", {"R_Eplus": 1.0, "V_th": 1.0})):
        fig = activity_traces(ds, {**point, "seed": 0})  # the first replicate
        fig.savefig(FIGURES / f"traces_{name}.png", dpi=100)
        print(f"wrote {FIGURES / f'traces_{name}.png'}")

    # 6. A number to quote: mean E activity of the unclustered network at V_th = 1.
    unclustered = select(ds, R_Eplus=1.0, V_th=1.0)
    print("unclustered mean E activity:", float(np.asarray(unclustered["mean_activity_E"]).mean()))


if __name__ == "__main__":
    main()
