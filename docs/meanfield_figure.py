"""A worked reproduction of the paper's mean-field figure from sweeps stores (theory only).

    python docs/meanfield_figure.py                 # stores in results/, figures in docs/figures
    python docs/meanfield_figure.py --results /tmp/mf

1. ``results/meanfield_fixed_points.zarr``: the reference network (N = 10^4, Q = 20) for
   R_Eplus 1.0-19.9 in steps of 0.1 and kappa 0, 0.5, 1, with the ``[theory]`` table
   ``focus_counts = [1, 2, 3, 4, 5]``: every fixed point and its stability
   (``docs/figures/meanfield_fixed_points.png``).
2. ``results/meanfield_bifurcation.zarr``: the bifurcation R_Eplus against the connectivity
   (all four p0 = 0.01-0.31, 61 values) for R_j 0.5, 0.75, 0.8 and kappa 0, 0.5, 1
   (``docs/figures/meanfield_bifurcation.png``).
3. With ``--phase-store results/phase_diagram.zarr`` (the simulated store of
   ``experiments/phase_diagram.toml``, see ``docs/worked_analysis.py``): its phase diagram
   with the bifurcation line drawn over it (``docs/figures/phase_with_bifurcation.png``).

Only the theory is computed (``sweeps theory``); the run time of each step is printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import sweeps
from sweeps.cli import main as sweeps_main

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"

FIXED_POINTS = """\
[experiment]
name = "meanfield_fixed_points"
model = "clustered_ei"
seed = 0
description = "Mean-field fixed points of the reference network against R_Eplus"
[parameters]
N_E = 8000
N_I = 2000
Q = 20
R_j = 0.75
connection_type = "poisson"
[sweep]
R_Eplus = {start = 1.0, stop = 19.9, step = 0.1}
kappa = [0.0, 0.5, 1.0]
[simulation]
duration = "1 s"
sample_interval = "10 ms"
[theory]
focus_counts = [1, 2, 3, 4, 5]
"""

BIFURCATION = """\
[experiment]
name = "meanfield_bifurcation"
model = "clustered_ei"
seed = 0
description = "Mean-field bifurcation R_Eplus against the connectivity"
[parameters]
N_E = 8000
N_I = 2000
Q = 20
R_Eplus = 1.0
connection_type = "poisson"
[sweep]
R_j = [0.5, 0.75, 0.8]
kappa = [0.0, 0.5, 1.0]
[[sweep.zip]]
name = "connectivity"
p0_ee = {linspace = [0.01, 0.31, 61]}
p0_ei = {linspace = [0.01, 0.31, 61]}
p0_ie = {linspace = [0.01, 0.31, 61]}
p0_ii = {linspace = [0.01, 0.31, 61]}
[simulation]
duration = "1 s"
sample_interval = "10 ms"
[theory]
focus_counts = [1]
"""


def theory_store(text: str, results: Path, name: str):
    """Write the definition, compute its theory into a fresh store; (Dataset, seconds)."""
    definition = results / f"{name}.toml"
    store = results / f"{name}.zarr"
    definition.write_text(text)
    started = time.perf_counter()
    if not store.exists():
        code = sweeps_main(["theory", str(definition), "--store", str(store)])
        if code:
            raise SystemExit(code)
    return sweeps.open_results(store), time.perf_counter() - started


def fixed_point_figure(ds, path: Path):
    kappas = ds["kappa"].values
    counts = ds["focus_count"].values
    colors = {int(n): f"C{i}" for i, n in enumerate(counts)}
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(kappas), sharey=True))
    r = ds["R_Eplus"].values
    for ax, kappa in zip(axes, kappas, strict=True):
        for n in counts:
            sel = {"kappa": kappa, "focus_count": n}
            rates = ds["mf_point_E_focus"].sel(sel).values  # (R_Eplus, mf_point)
            stable = ds["mf_point_stable"].sel(sel).values
            for flag, style in ((1, {"s": 6}), (0, {"s": 6, "facecolors": "none"})):
                mask = stable == flag
                rows = np.nonzero(mask)[0]
                ax.scatter(r[rows], rates[mask], edgecolors=colors[int(n)],
                           color=colors[int(n)] if flag else "none", linewidths=0.6,
                           label=f"n = {int(n)}" if flag else None, **{"s": style["s"]})
        ax.set_title(f"kappa = {kappa:g}")
        ax.set_xlabel("R_Eplus")
    axes[0].set_ylabel("focus-cluster E rate (filled: stable, open: unstable)")
    axes[-1].legend(title="focus clusters", fontsize="small", markerscale=2)
    fig.savefig(path, dpi=120)


def bifurcation_figure(ds, path: Path):
    kappas = ds["kappa"].values
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, len(kappas), sharey=True)
    connectivity = ds["p0_ee"].values
    for ax, kappa in zip(axes, kappas, strict=True):
        for r_j in ds["R_j"].values:
            line = ds["mf_bifurcation_R_Eplus"].sel(kappa=kappa, R_j=r_j, focus_count=1)
            ax.plot(connectivity, line.values, marker=".", label=f"R_j = {r_j:g}")
        ax.set_title(f"kappa = {kappa:g}")
        ax.set_xlabel("connectivity p0")
    axes[0].set_ylabel("bifurcation R_Eplus (first multistable state)")
    axes[-1].legend(fontsize="small")
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--phase-store", type=Path, default=None)
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    FIGURES.mkdir(parents=True, exist_ok=True)

    ds, seconds = theory_store(FIXED_POINTS, args.results, "meanfield_fixed_points")
    print(f"fixed points: {ds.sizes['R_Eplus'] * ds.sizes['kappa']} parameter sets x "
          f"{ds.sizes['focus_count']} focus counts in {seconds:.1f} s (store included)")
    fixed_point_figure(ds, FIGURES / "meanfield_fixed_points.png")
    bif = ds["mf_bifurcation_R_Eplus"].sel(focus_count=1)
    print("bifurcation R_Eplus (R_j 0.75, p0 0.3):",
          ", ".join(f"kappa {k:g}: {v:.3f}" for k, v in zip(bif["kappa"].values, bif.values,
                                                           strict=True)))

    ds, seconds = theory_store(BIFURCATION, args.results, "meanfield_bifurcation")
    print(f"bifurcation lines: {ds.sizes['R_j'] * ds.sizes['kappa'] * ds.sizes['connectivity']} "
          f"parameter sets in {seconds:.1f} s (store included)")
    bifurcation_figure(ds, FIGURES / "meanfield_bifurcation.png")

    if args.phase_store is not None:
        from sweeps.analysis.plots import plot_command

        experiment = sweeps.load_experiment(ROOT / "experiments" / "phase_diagram.toml")
        text = experiment.text + "\n[theory]\nfocus_counts = [1]\n"
        definition = args.results / "phase_diagram_theory.toml"
        definition.write_text(text)
        started = time.perf_counter()
        code = sweeps_main(["theory", str(definition), "--store", str(args.phase_store)])
        if code:
            raise SystemExit(code)
        print(f"phase-diagram theory in {time.perf_counter() - started:.1f} s")
        plot_command(args.phase_store, FIGURES / "phase_with_bifurcation.png",
                     var="mean_active_clusters", x="R_Eplus", y="V_th")


if __name__ == "__main__":
    main()
