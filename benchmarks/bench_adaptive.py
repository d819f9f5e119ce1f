"""Boundary location: dense fine grid vs the adaptive sweep vs python-adaptive's Learner2D.

Run from the repository root::

    python benchmarks/bench_adaptive.py              # reduced clustered E/I networks (minutes)
    python benchmarks/bench_adaptive.py --theory     # also the theory-seeded adaptive sweep
    python benchmarks/bench_adaptive.py --synthetic  # the synthetic boundary model (seconds)
    python benchmarks/bench_adaptive.py --seed 12    # another root seed (other networks, noise)
    python benchmarks/bench_adaptive.py --seed 11 12 13 14 15 16   # several, and their summary
    python benchmarks/bench_adaptive.py --coarse-spacing 8   # a coarser start (more budget for the rounds)
    python benchmarks/bench_adaptive.py --seed 11 12 --save-dense grids/   # also keep the dense grids
    python benchmarks/bench_adaptive.py --replay grids/     # the learner on kept grids (seconds)

The phase diagram (default): reduced clustered E/I networks (``model = "clustered_ei"``,
N_E = 1600, N_I = 400, Q = 4, poisson connectivity, 2 s after a 100 ms warm-up, samples
every 10 ms), inhibition ``g`` x cluster contrast ``R_Eplus`` on a fine lattice of
13 x 25 values (g = 1.10 .. 1.28, R_Eplus = 1.4 .. 3.8 in steps of 0.1) with 2 networks per
point: 650 simulations for the dense grid.  The variable is ``mean_active_clusters``
averaged over the networks; no cluster is active at small R_Eplus, one is at large
R_Eplus, and the switch-on moves from R_Eplus about 1.9 (g = 1.1) to about 2.7 (g = 1.28):
a curved boundary with the noise of a 2 s run of a small network.  Sizes chosen so the whole
benchmark (the dense grid once, the adaptive sweep with and without a level at 10 + 25 + 50 %
of the lattice, once more with ``--theory``) runs in about 1 minute on 2 idle cores, 3 to 6 shared with other jobs (a
point costs about 0.2 s of one core: network build and 2 s of model time).

``--synthetic``: the boundary model (``tests/reference/boundarymodel.py``): ``active``
steps from 0 to 1 across ``y = 0.25 + 0.5 x^2`` (logistic width 0.01, seeded noise +-0.025)
on 33 x 33 values of ``x, y`` in [0, 1], 2 networks per point; it runs in seconds.

Every point is computed by the sweep pipeline itself (``run_sweep``: store, tasks, seeds,
two local threads):

* dense grid: every lattice point (the truth);
* adaptive: ``[sweep.adaptive]`` (coarse spacing 4 or ``--coarse-spacing``, batch 20; ``--theory``: also with
  ``theory_seeding = true``, the mean-field bifurcation line of focus count 1) at each budget;
* adaptive, level 0.5: the same with ``level = 0.5``, the value whose crossing is measured
  (only cells whose values reach it keep their data term);
* Learner2D: python-adaptive's ``Learner2D`` (default loss) over the same rectangle in lattice
  coordinates, asking one point at a time; a requested point is snapped to the nearest
  lattice point and gets that point's result from the dense store, which is exactly what
  simulating it would give (a point's seeds depend only on its coordinates and network, so a
  rerun is bit-identical); it stops when it has asked for the budget's number of distinct
  lattice points.

Boundary: per column (first axis: ``g``, or ``x``), the position along the second axis
(``R_Eplus``, or ``y``) in lattice cells where the linear interpolation of the samples over
the lattice (:func:`scipy.interpolate.griddata`; nearest sample outside their hull) first
crosses 0.5 going up; error = the largest |difference| from the dense grid's over all
columns, in fine-lattice cells (mean in brackets; a column where one of the two has no
crossing counts as an infinite error).  Simulations = lattice points x networks.  "threads
busy": the points' own times (``RunSummary.compute_seconds``) over wall time x threads, for
the dense grid (one round) and every adaptive run (its rounds): what the adaptive runs lose
against the dense grid is mostly the idle time between rounds (docs/ADAPTIVE.md).  Needs
``pip install adaptive`` (extra ``adaptive``).  The second-to-last line gives the sweep
without a level at 25 %; the last line, for scripts, the sweep with ``level = 0.5`` (the
setting that states the boundary looked for, as a user locating this crossing writes it):
``adaptive: budget 25 %: boundary error E cells (Learner2D L cells, dense grid 0)``, of the last
seed.  With several seeds a summary per budget precedes them: per method the mean of the
largest errors over the seeds with its standard error and how many are within one cell, and in
how many sets of networks the adaptive sweep with the level beats Learner2D.

``--save-dense DIR`` keeps each set's dense grid (the variable averaged over the networks) as
``DIR/dense_<seed>.npz``; ``--replay DIR`` then runs the learner (``choose_round``, rounds as
the driver forms them: at most ``batch`` points and what is left of the budget) on every kept
grid in ``DIR`` (``--seed`` is not used; not with ``--theory``) instead of simulating, and
prints the same errors and summary in seconds.  A point's
seeds depend only on its coordinates, so a replay chooses exactly the points of the sweep
(errors identical to the simulated run's); it is the quick loop for trying a change of the
loss (``sweeps/adaptive/loss.py``) on many sets of networks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from scipy.interpolate import griddata  # noqa: E402

from sweeps import LocalThreads, open_results, parse_experiment, run_sweep  # noqa: E402
from sweeps.adaptive import Lattice, choose_round  # noqa: E402
from sweeps.errors import MissingDependencyError, require_optional  # noqa: E402

NETWORKS, BUDGETS, THREADS = 2, (10, 25, 50), 2


@dataclass(frozen=True)
class Case:
    """A phase diagram: its definition (with ``{adaptive}`` where the adaptive table goes),
    the variable, the lattice shape (columns, positions along a column) and the axis names."""

    name: str
    toml: str
    variable: str
    shape: tuple[int, int]
    axes: tuple[str, str]
    theory: bool


NETWORK = Case("reduced clustered E/I networks (N = 2000, Q = 4)", f"""\
[experiment]
name = "bench_adaptive"
model = "clustered_ei"
seed = 11

[parameters]
N_E = 1600
N_I = 400
Q = 4
R_j = 0.75
kappa = 1.0
connection_type = "poisson"

[sweep]
g = {{linspace = [1.1, 1.28, 13]}}
R_Eplus = {{linspace = [1.4, 3.8, 25]}}
networks = {NETWORKS}
{{adaptive}}
[theory]
focus_counts = [1]

[simulation]
duration = "2 s"
warmup = "100 ms"
sample_interval = "10 ms"

[output]
keep_traces = false
correlation_neurons = 5
""", "mean_active_clusters", (13, 25), ("g", "R_Eplus"), True)

SYNTHETIC = Case("synthetic boundary model", f"""\
[experiment]
name = "bench_adaptive"
model = "tests.reference.boundarymodel:MODEL"
seed = 11

[parameters]
noise = 0.05

[sweep]
x = {{linspace = [0.0, 1.0, 33]}}
y = {{linspace = [0.0, 1.0, 33]}}
networks = {NETWORKS}
{{adaptive}}
[simulation]
duration = "2 ms"
sample_interval = "1 ms"

[output]
keep_traces = false
""", "active", (33, 33), ("x", "y"), False)

ADAPTIVE = """
[sweep.adaptive]
variable = "{variable}"
budget = "{budget} %"
batch = 20
coarse_spacing = {spacing}
{theory}
"""


def boundary(points: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per column: the lattice position where the interpolated samples first cross 0.5 upwards."""
    gx, gy = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    surface = griddata(points, values, (gx, gy), method="linear")
    nearest = griddata(points, values, (gx, gy), method="nearest")
    surface = np.where(np.isfinite(surface), surface, nearest)
    out = np.full(shape[0], np.nan)
    for i, column in enumerate(surface):
        up = np.flatnonzero((column[:-1] < 0.5) & (column[1:] >= 0.5))
        if up.size:
            k = up[0]
            out[i] = k + (0.5 - column[k]) / (column[k + 1] - column[k])
    return out


def error(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Largest and mean |estimate - truth| over the columns (one side without a crossing: inf)."""
    both = np.isfinite(estimate) & np.isfinite(truth)
    neither = ~np.isfinite(estimate) & ~np.isfinite(truth)
    diff = np.where(both, np.abs(estimate - truth), np.where(neither, 0.0, np.inf))
    return float(np.max(diff)), float(np.mean(diff))


def lattice_samples(store: Path, variable: str) -> tuple[np.ndarray, np.ndarray]:
    values = open_results(store)[variable].mean("network").values  # NaN where not simulated
    points = np.argwhere(np.isfinite(values))
    return points.astype(float), values[tuple(points.T)]


@dataclass(frozen=True)
class Run:
    """A sweep's wall time and how busy its worker threads were: the points' own times
    (``RunSummary.compute_seconds``) over wall time x threads."""

    seconds: float
    busy: float
    rounds: int


def run(text: str, store: Path) -> Run:
    started = time.perf_counter()
    summary = run_sweep(parse_experiment(text), store, LocalThreads(THREADS))
    seconds = time.perf_counter() - started
    ds = open_results(store)
    rounds = int(ds["adaptive_round"].max()) + 1 if "adaptive_round" in ds else 1
    return Run(seconds, summary.compute_seconds / (seconds * THREADS), rounds)


def learner2d(dense: np.ndarray, budget: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Learner2D over the lattice's rectangle, each asked point snapped to the lattice and
    read from the dense grid, until it has asked for ``budget`` distinct lattice points."""
    adaptive = require_optional("adaptive", "adaptive", "the comparison with Learner2D")
    nx, ny = dense.shape

    def simulate(xy):  # the dense store's result at the nearest lattice point (= simulating it)
        i, j = int(round(xy[0])), int(round(xy[1]))
        asked.add((i, j))
        return float(dense[i, j])

    asked: set[tuple[int, int]] = set()
    learner = adaptive.Learner2D(simulate, bounds=[(0.0, nx - 1.0), (0.0, ny - 1.0)])
    while len(asked) < budget:
        points, _ = learner.ask(1)
        for p in points:
            learner.tell(p, simulate(p))
    return np.array(list(learner.data), float), np.array(list(learner.data.values()), float), len(asked)


def replay(dense: np.ndarray, budget: int, spacing: int, level: float | None, batch: int = 20) -> np.ndarray:
    """The lattice points (as (n, 2) positions) an adaptive sweep chooses on ``dense``: the
    driver's rounds (at most ``batch`` points and what is left of the budget), no theory."""
    lattice = Lattice(tuple(np.arange(n) for n in dense.shape), spacing)
    chosen = np.zeros(dense.shape, bool)
    for number in range(budget + 1):
        room = min(batch, budget - int(chosen.sum()))
        points = choose_round(lattice, number, chosen, np.where(chosen, dense, np.nan), room, level=level)
        if points.size == 0:
            break
        chosen.ravel()[points] = True
    return np.argwhere(chosen).astype(float)


def compare_replayed(case: Case, seed: int, spacing: int, dense: np.ndarray) -> dict[int, dict[str, float]]:
    """:func:`compare` on a kept dense grid: the learner replayed instead of simulated."""
    points = np.argwhere(np.isfinite(dense)).astype(float)
    truth = boundary(points, dense[np.isfinite(dense)], case.shape)
    print(f"{case.name}, seed {seed}, replayed on the kept dense grid; boundary per column (cells): "
          f"{' '.join(f'{b:.1f}' for b in truth)}")
    print(f"{'budget':>7} | {'adaptive: max (mean)':>22} | {'adaptive, level 0.5: max (mean)':>32} | "
          f"{'Learner2D: max (mean)':>22} | lattice points")
    results: dict[int, dict[str, float]] = {}
    for percent in BUDGETS:
        budget = int(np.ceil(percent * dense.size / 100 - 1e-9))
        results[percent], cells = {}, []
        for name, level in (("adaptive", None), ("adaptive, level 0.5", 0.5)):
            chosen = replay(dense, budget, spacing, level)
            worst, mean = error(boundary(chosen, dense[tuple(chosen.astype(int).T)], case.shape), truth)
            results[percent][name] = worst
            cells.append(f"{worst:.2f} ({mean:.2f})")
        l_points, l_values, l_count = learner2d(dense, budget)
        l_max, l_mean = error(boundary(l_points, l_values, case.shape), truth)
        results[percent]["Learner2D"] = l_max
        learner = f"{l_max:.2f} ({l_mean:.2f})"
        print(f"{percent:>5} % | {cells[0]:>22} | {cells[1]:>32} | {learner:>22} | {budget}")
    return results


def compare(case: Case, seed: int, spacing: int, variants: dict[str, str],
            save: Path | None = None) -> dict[int, dict[str, float]]:
    """One set of networks (root ``seed``): the table of every budget; the largest boundary error
    per budget and method (the variants and ``"Learner2D"``)."""
    case = replace(case, toml=case.toml.replace("seed = 11\n", f"seed = {seed}\n", 1))
    load = os.getloadavg()
    lattice = int(np.prod(case.shape))
    print(f"{case.name}, seed {seed}: {case.variable}; lattice {case.axes[0]} x {case.axes[1]} = {case.shape[0]} x "
          f"{case.shape[1]} = {lattice} points x {NETWORKS} networks; {THREADS} threads; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dense_run = run(case.toml.replace("{adaptive}", ""), tmp / "dense.zarr")
        points, values = lattice_samples(tmp / "dense.zarr", case.variable)
        dense = np.full(case.shape, np.nan)
        dense[tuple(points.astype(int).T)] = values
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            np.savez(save / f"dense_{seed}.npz", dense=dense, case=case.name)
        truth = boundary(points, values, case.shape)
        print(f"dense grid: {lattice * NETWORKS} simulations in {dense_run.seconds:.1f} s "
              f"(threads busy {dense_run.busy:.0%}); boundary error 0 cells; "
              f"boundary per column (cells): {' '.join(f'{b:.1f}' for b in truth)}")
        header = " | ".join(f"{name + ': max (mean) cells':>28} {'simulations':>11} {'s':>6}" for name in variants)
        print(f"{'budget':>7} | {header} | {'Learner2D: max (mean) cells':>28} {'simulations':>11}")
        idle = []
        for percent in BUDGETS:
            cells, results[percent] = [], {}
            for name, theory in variants.items():
                store = tmp / f"{name}_{percent}.zarr"
                table = ADAPTIVE.format(variable=case.variable, budget=percent, theory=theory, spacing=spacing)
                done = run(case.toml.replace("{adaptive}", table), store)
                idle.append(f"{name} {percent} %: {done.rounds} rounds, threads busy {done.busy:.0%}")
                a_points, a_values = lattice_samples(store, case.variable)
                a_max, a_mean = error(boundary(a_points, a_values, case.shape), truth)
                results[percent][name] = a_max
                cells.append(f"{a_max:>20.2f} ({a_mean:.2f}) {len(a_points) * NETWORKS:>11} {done.seconds:>6.1f}")
            budget = int(np.ceil(percent * lattice / 100 - 1e-9))
            l_points, l_values, l_count = learner2d(dense, budget)
            l_max, l_mean = error(boundary(l_points, l_values, case.shape), truth)
            results[percent]["Learner2D"] = l_max
            print(f"{percent:>5} % | {' | '.join(cells)} | {l_max:>20.2f} ({l_mean:.2f}) {l_count * NETWORKS:>11}")
        print(f"idle between rounds: dense grid threads busy {dense_run.busy:.0%}; " + "; ".join(idle))
    return results


def summarize(per_seed: dict[int, dict[int, dict[str, float]]]) -> None:
    """Over the seeds, per budget and method: the mean of the largest errors with its standard
    error, how often it is within one cell, and how often the adaptive sweep with the level
    beats Learner2D (ties count half)."""
    seeds = sorted(per_seed)
    print(f"over {len(seeds)} sets of networks (seeds {' '.join(map(str, seeds))}): largest boundary error in "
          "cells, mean +- standard error [within one cell]; adaptive with level 0.5 vs Learner2D")
    for percent in BUDGETS:
        methods = list(per_seed[seeds[0]][percent])
        cells = []
        for method in methods:
            e = np.array([per_seed[s][percent][method] for s in seeds])
            se = e.std(ddof=1) / np.sqrt(len(e)) if len(e) > 1 else float("nan")
            cells.append(f"{method} {e.mean():.2f} +- {se:.2f} [{int(np.sum(e <= 1))}/{len(e)}]")
        ours = np.array([per_seed[s][percent]["adaptive, level 0.5"] for s in seeds])
        theirs = np.array([per_seed[s][percent]["Learner2D"] for s in seeds])
        wins = np.sum(ours < theirs) + 0.5 * np.sum(ours == theirs)
        print(f"{percent:>5} %: {'; '.join(cells)}; smaller than Learner2D's in {wins:g} of {len(seeds)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--synthetic", action="store_true", help="the synthetic boundary model (seconds)")
    group.add_argument("--theory", action="store_true", help="also the theory-seeded adaptive sweep")
    parser.add_argument("--seed", type=int, nargs="+", default=[11],
                        help="the experiment's root seeds, one comparison each (default 11)")
    parser.add_argument("--coarse-spacing", type=int, default=4, help="the adaptive sweeps' coarse_spacing (default 4)")
    parser.add_argument("--save-dense", type=Path, metavar="DIR", help="keep every dense grid in DIR")
    parser.add_argument("--replay", type=Path, metavar="DIR",
                        help="replay the learner on the dense grids kept in DIR instead of simulating")
    args = parser.parse_args(argv)
    try:
        require_optional("adaptive", "adaptive", "the comparison with Learner2D")
    except MissingDependencyError as err:  # before any work
        raise SystemExit(f"error: {err}") from None
    case = SYNTHETIC if args.synthetic else NETWORK
    variants = {"adaptive": "", "adaptive, level 0.5": "level = 0.5"}
    if args.theory:
        variants["adaptive+theory"] = "theory_seeding = true"
    logging.disable(logging.INFO)
    if args.replay is not None and args.theory:
        raise SystemExit("error: --replay replays the data rounds only, not the theory rounds: leave out --theory")
    if args.replay is not None:
        kept = sorted(args.replay.glob("dense_*.npz"), key=lambda f: int(f.stem.split("_")[1]))
        grids = {int(f.stem.split("_")[1]): np.load(f) for f in kept}
        grids = {seed: g["dense"] for seed, g in grids.items() if str(g["case"]) == case.name}
        if not grids:
            raise SystemExit(f"error: no dense grid of '{case.name}' in {args.replay} (make them with --save-dense)")
        per_seed = {seed: compare_replayed(case, seed, args.coarse_spacing, dense) for seed, dense in grids.items()}
    else:
        per_seed = {seed: compare(case, seed, args.coarse_spacing, variants, args.save_dense)
                    for seed in dict.fromkeys(args.seed)}
    if len(per_seed) > 1:
        summarize(per_seed)
    last = per_seed[list(per_seed)[-1]][25]
    print(f"adaptive without a level: budget 25 %: boundary error {last['adaptive']:.2f} cells")
    print(f"adaptive: budget 25 %: boundary error {last['adaptive, level 0.5']:.2f} cells "
          f"(Learner2D {last['Learner2D']:.2f} cells, dense grid 0)")


if __name__ == "__main__":
    main()
